#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (3) Warned cut: pangyo's UPS goes on battery (dummy-ups file: OB) and its power is cut about
# a second and a half after the drain began. During the drain a TCP connection opened before it
# stays on pangyo and keeps working, new TCP connections go to ansan or sihung, and requests to
# the `stateless` UDP service move at once (none answered by pangyo once the drain is in the
# dataplane). The cut itself then loses no request of the stateless service: its flows had
# already left. Budget for the warning to arrive: dummy-ups re-reads its file every second and
# the beacon polls upsd every 100 ms, so DRAINING is expected within 3 s of the file change.
. "$(dirname "$0")/lib.sh"
test_start

addr=$(service_addr)
stateless=$(stateless_addr)
client_bg stateless udp --addr "$stateless" --rate 500 --duration 10000 --flows 8 --timeout 300
client_bg long tcp-long --addr "$addr" --rate 20 --duration 10000 --timeout 1000
sleep 0.5
before_ob=$(last_seq)
dt_ups_status pangyo OB
check "pangyo DRAINING within 3 s of going on battery" wait_event pangyo draining 3000 "$before_ob"
check "DRAINING because of a power warning" \
	eq "$(event pangyo draining cause "$before_ob")" power_warning
drain_ns=$(event pangyo draining applied_ns "$before_ob")
client_bg new tcp --addr "$addr" --rate 20 --duration 1000 --timeout 500
client_wait new
sleep 0.3
client_stop long # before the cut: an established flow leaves with its site only
client_wait long
cut_ns=$(dt_mono_ns)
dt_cut_power pangyo
check_failover pangyo "$before_ob"
check "pangyo went DOWN from DRAINING" eq "$(event pangyo down from "$before_ob")" draining
sleep 0.5
client_stop stateless
client_wait stateless

check "the connection opened before the drain stayed on pangyo through it" \
	eq "$(jget "$DT_WORK/long.json" 'j["stayed"] and list(j["sites"]) == ["pangyo"]')" True
check "it kept working during the drain ($(jget "$DT_WORK/long.json" 'j["answered"]') echoes)" \
	eq "$(jget "$DT_WORK/long.json" 'j["lost"]')" 0
check "new connections during the drain: all 20 served" \
	eq "$(jget "$DT_WORK/new.json" 'j["answered"]')" 20
check "new connections during the drain: none by pangyo" \
	eq "$(jget "$DT_WORK/new.json" 'j["sites"].get("pangyo", {}).get("answers", 0)')" 0
check "stateless: no request sent after the drain reached the dataplane answered by pangyo" \
	eq "$(log_count stateless "\$2 > $drain_ns && \$4 == \"pangyo\"")" 0
check "stateless: answered by ansan or sihung during the drain" \
	ge "$(log_count stateless "\$2 > $drain_ns && \$2 < $cut_ns && \$3 != 0")" 100
check "stateless: the cut lost no request ($(jget "$DT_WORK/stateless.json" 'j["sent"]') sent)" \
	eq "$(jget "$DT_WORK/stateless.json" 'j["lost"]')" 0
test_finish
