#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (12) Two heartbeat paths (issue 13, item 3): every beacon sends each heartbeat to the edge's
# management address (over m-<site>|m0) and to its data-link address (over e-<site>|s0)
# (DT_HB_PATHS=2), while UDP requests go to pangyo at 500/s over 8 flows. (1) pangyo's
# management path is cut (its m0 down, dt_hb_path_cut) for 1 s, then restored; (2) its data path
# is cut (a blackhole rule in pangyo for UDP to the edge's data-link address on the heartbeat
# port; the data link carries the traffic on) for 1 s, then restored. During each cut the edge
# must get pangyo's heartbeats once, not twice: of the heartbeats accepted in that second, at
# least half as many as pangyo's were not followed by a second copy (counted `replay`), and
# after each restore pangyo's copies count as replays again (the same measure below a quarter of
# pangyo's). Over (1) and (2): no state change of any site in the event log, and the client lost
# no request. (3) Both paths cut: pangyo DOWN by heartbeat_timeout with detection and reroute
# within interval x multiplier + the margin (check_failover).
# Robustness: timers of 5 ms x 20 (DT_MULTIPLIER, unless set; x 10 still saw a 51 ms stall of
# both beacons of one site in CI), not the lib's x 4, and two beacons
# per site (DT_BEACONS_PER_SITE=2, the recommended deployment; a path cut silences both of
# pangyo's). At 5 ms x 4 with one beacon per site, 1 run in 4 here saw a beacon of a site whose
# paths were never touched miss 20 ms; with two, 1 in 14 still saw both of one site's beacons
# (SCHED_FIFO) silent 20-27 ms together while other work ran in the kernel of this shared 2-core VM
# (measured: two such DOWNs in 20 s): false DOWNs that say nothing about paths. Detection at x 4 is
# test-power-cut's. The copy count is a ratio, not an exact figure: the edge's counters (accepted
# and replay, from one call) and pangyo's are read by two detourctl calls, tens of ms apart under
# load, while some 1200 heartbeats a second arrive. (Accepted and replay read by two calls were once
# 180 heartbeats apart: a false "not twice again".)
export DT_BEACONS_PER_SITE=2
export DT_HB_PATHS=2
: "${DT_MULTIPLIER:=20}"
. "$(dirname "$0")/lib.sh"
test_start

# unpaired: accepted - replay at this instant (one detourctl call): the heartbeats accepted
# without a second copy counted as `replay`, plus any second copy still to come.
unpaired() {
	dt_ctl --json stats | jget /dev/stdin "j['heartbeats']['accepted'] - j['heartbeats']['replay']"
}
pangyo_beats() { dt_ctl --json site show pangyo | jget /dev/stdin "j['site']['heartbeats']"; }
# single_copies SECONDS: "SINGLE PANGYO" over SECONDS: the growth of unpaired, and pangyo's
# accepted heartbeats.
single_copies() {
	local u0 p0
	u0=$(unpaired) p0=$(pangyo_beats)
	sleep "$1"
	echo "$(($(unpaired) - u0)) $(($(pangyo_beats) - p0))"
}

check "two targets per beacon: every heartbeat came twice so far ($(unpaired) unpaired)" \
	le "$(unpaired)" 10
addr=$(service_addr)
client_bg steady udp --addr "$addr" --rate 500 --duration 30000 --flows 8 --timeout 300
sleep 0.5
seq0=$(last_seq)

for path in mgmt data; do
	dt_hb_path_cut pangyo "$path"
	read -r single beats <<<"$(single_copies 1)"
	echo "# $path cut: $single of the accepted heartbeats had no second copy; pangyo's: $beats"
	check "$path cut: pangyo's heartbeats arrive once ($single >= $beats / 2)" \
		ge "$((2 * single))" "$beats"
	check "$path cut: pangyo's heartbeats still arrive ($beats during the cut)" ge "$beats" 100
	check "$path cut: pangyo is still up" dt_state_is pangyo up
	dt_hb_path_restore pangyo "$path"
	sleep 0.2
	read -r single beats <<<"$(single_copies 0.5)"
	echo "# $path restored: $single of the accepted heartbeats had no second copy; pangyo's: $beats"
	check "$path restored: pangyo's heartbeats arrive twice again ($single < $beats / 4)" \
		le "$((4 * single))" "$((beats - 1))"
done
check_undisturbed steady "$seq0" "(1)-(2)"

# (3) both paths
seq1=$(last_seq)
dt_hb_path_cut pangyo mgmt
dt_hb_path_cut pangyo data
check_failover pangyo "$seq1"
test_finish
