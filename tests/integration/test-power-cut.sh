#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (2) Power cut: while the client sends UDP requests at 1000/s over 16 flows and opens TCP
# connections in a loop, pangyo's beacon is killed and its links go down. Detection and reroute
# times come from detourd's event log and must stay within interval x multiplier + the margin;
# the requests lost are only those sent before the reroute, at most what that window holds at
# the rate; every request sent after the reroute is answered, by ansan or sihung, never pangyo.
# The dataplane's counters must show healthy traffic forwarded home before the cut and the
# reroute after it. DT_FAMILY=6 runs the same over IPv6 (test-ipv6.sh); DT_DATAPLANE=dpdk with
# the edge in DPDK mode (suite dpdk-integration).
. "$(dirname "$0")/lib.sh"
RATE=1000
dataplane_test_start

client_udp_tcp 3000
sleep 1
home_before=$(counter_sum home_up)
dt_cut_power pangyo
cut_ns=$(dt_mono_ns) # the links are down from here on
check_failover pangyo
client_wait udp
client_wait tcp

check_detection_loss udp
check "udp: no answer from pangyo to a request sent after the cut" \
	eq "$(log_count udp "\$2 > $cut_ns && \$4 == \"pangyo\"")" 0
check "udp: ansan answered after the cut" ge "$(log_count udp "\$2 > $APPLIED_NS && \$4 == \"ansan\"")" 1
check "udp: sihung answered after the cut" ge "$(log_count udp "\$2 > $APPLIED_NS && \$4 == \"sihung\"")" 1
check "tcp: every connection opened after the reroute was served" \
	eq "$(log_count tcp "\$2 > $APPLIED_NS && \$3 == 0")" 0
check "tcp: at most one connection lost to the cut" le "$(jget "$DT_WORK/tcp.json" 'j["lost"]')" 1
check "tcp: no connection served by pangyo after the cut" \
	eq "$(log_count tcp "\$2 > $cut_ns && \$4 == \"pangyo\"")" 0
rerouted=$(($(counter_sum rerouted_route) + $(counter_sum rerouted_ipip)))
echo "# dataplane: home_up $home_before before the cut, rerouted (route + ipip) $rerouted"
check "the dataplane forwarded healthy traffic home before the cut ($home_before)" \
	ge "$home_before" 1000
check "the dataplane rerouted pangyo's traffic ($rerouted)" ge "$rerouted" 1000
check "detourctl: pangyo is down" dt_state_is pangyo down
test_finish
