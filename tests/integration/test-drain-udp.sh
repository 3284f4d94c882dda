#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Established UDP during a drain (issue 14, case 4). Four UDP flows (their own source ports, as a
# QUIC or WireGuard peer keeps one) send to the stateful service while pangyo is UP, and keep
# sending, 50 requests a second, through an operator drain of pangyo: they existed before the
# drain, so they stay on pangyo, and none is lost. Four UDP flows that start during the drain move
# to ansan or sihung. The rule: decide.h, docs/xdp.md "Established UDP during a drain".
. "$(dirname "$0")/lib.sh"
test_start

addr=$(service_addr)
client_bg est udp --addr "$addr" --rate 50 --duration 5000 --flows 4 --timeout 300
sleep 1.5
before=$(last_seq)
dt_ctl drain pangyo >/dev/null
check "pangyo DRAINING" wait_event pangyo draining 3000 "$before"
drain_ns=$(event pangyo draining applied_ns "$before")
sleep 0.5
client_run new udp --addr "$addr" --rate 50 --duration 1000 --flows 4 --timeout 300
client_wait est

check "the UDP flows that existed before the drain stayed on pangyo" \
	eq "$(jget "$DT_WORK/est.json" 'sorted(j["sites"])')" "['pangyo']"
check "they kept working during the drain ($(log_count est "\$2 > $drain_ns") requests)" \
	eq "$(jget "$DT_WORK/est.json" 'j["lost"]')" 0
check "requests of theirs answered during the drain" \
	ge "$(log_count est "\$2 > $drain_ns && \$4 == \"pangyo\"")" 100
check "new UDP flows during the drain: all answered" \
	eq "$(jget "$DT_WORK/new.json" 'j["lost"]')" 0
check "new UDP flows during the drain: none by pangyo" \
	eq "$(jget "$DT_WORK/new.json" 'j["sites"].get("pangyo", {}).get("answers", 0)')" 0
test_finish
