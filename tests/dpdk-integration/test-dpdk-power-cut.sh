#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (2) Power cut, edge router in DPDK mode: while the client sends UDP requests at 1000/s over 16
# flows and opens TCP connections in a loop, pangyo's beacon is killed and its links go down.
# Detection and reroute times come from detourd's event log and must stay within interval x
# multiplier + the margin; the only requests lost are those sent before the reroute, at most what
# that window holds at the rate; every request sent after it is answered by ansan or sihung.
# Healthy traffic is forwarded by the DPDK workers too, so the counters must show the reroute.
. "$(dirname "$0")/lib.sh"
RATE=1000
dpdk_test_start

addr=$(service_addr)
client_bg udp udp --addr "$addr" --rate $RATE --duration 3000 --flows 16 --timeout 300
client_bg tcp tcp --addr "$addr" --rate 40 --duration 3000 --timeout 500
sleep 1
home_before=$(dpdk_counter home_up)
dt_cut_power pangyo
cut_ns=$(dt_mono_ns)
check_failover pangyo
client_wait udp
client_wait tcp

lost=$(jget "$DT_WORK/udp.json" 'j["lost"]')
max_lost=$((RATE * DETECT_BUDGET_MS / 1000 + 2))
echo "# udp: lost $lost requests, allowed $max_lost (rate $RATE/s x ${DETECT_BUDGET_MS} ms)"
check "udp: lost $lost <= $max_lost" le "$lost" "$max_lost"
check "udp: no request sent after the reroute was lost" \
	eq "$(log_count udp "\$2 > $APPLIED_NS && \$3 == 0")" 0
check "udp: no answer from pangyo to a request sent after the cut" \
	eq "$(log_count udp "\$2 > $cut_ns && \$4 == \"pangyo\"")" 0
check "udp: ansan answered after the cut" ge "$(log_count udp "\$2 > $APPLIED_NS && \$4 == \"ansan\"")" 1
check "udp: sihung answered after the cut" ge "$(log_count udp "\$2 > $APPLIED_NS && \$4 == \"sihung\"")" 1
check "tcp: every connection opened after the reroute was served" \
	eq "$(log_count tcp "\$2 > $APPLIED_NS && \$3 == 0")" 0
check "tcp: at most one connection lost to the cut" le "$(jget "$DT_WORK/tcp.json" 'j["lost"]')" 1
check "tcp: no connection served by pangyo after the cut" \
	eq "$(log_count tcp "\$2 > $cut_ns && \$4 == \"pangyo\"")" 0
echo "# workers: home_up $home_before before the cut, rerouted_route $(dpdk_counter rerouted_route), rerouted_ipip $(dpdk_counter rerouted_ipip)"
check "the DPDK workers forwarded healthy traffic home ($home_before)" ge "$home_before" 1000
check "the DPDK workers rerouted (route + ipip)" \
	ge "$(($(dpdk_counter rerouted_route) + $(dpdk_counter rerouted_ipip)))" 1000
check "detourctl: pangyo is down" dt_state_is pangyo down
test_finish
