#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Hitless restart: with pangyo DOWN and a client's packets flowing, detourd is killed with -9.
# The packets keep arriving at ansan (captured there), the program stays attached, the pinned
# state stays DOWN; a new detourd adopts the maps: the rerouted counter did not reset, the moved
# flow is still listed, and fresh heartbeats bring pangyo back.
. "$(dirname "$0")/daemon_fixture.sh"

setup_all
daemon_and_beacons_up 3000
stop_beacon 1
wait_until 2000 eval 'state_is pangyo down && map_state_is 1 3' || bail "pangyo did not go DOWN"

rerouted() { ctl --json stats | json "sum(c['packets'] for c in d['counters'] if c['reason']=='rerouted_route')"; }

# capture_at_ansan COUNT SECONDS: start capturing pings to pangyo's address arriving at ansan
capture_at_ansan() {
	ip netns exec "$NS_B" timeout "$2" tcpdump -l -n -i sb0 -c "$1" \
		'icmp and dst host 198.18.10.5' >"$TMP/capture" 2>"$TMP/tcpdump.err" &
	CAPTURE_PID=$!
	EXTRA_PIDS+=("$CAPTURE_PID")
	wait_until 3000 grep -q "listening on" "$TMP/tcpdump.err"
}
ping_pangyo() { # COUNT GAP-SECONDS
	ip netns exec "$NS_C" ping -q -n -c "$1" -i "$2" -W 1 198.18.10.5 >/dev/null 2>&1
}
captured() { wait "$CAPTURE_PID" 2>/dev/null; grep -c '198.18.10.5' "$TMP/capture"; }

capture_at_ansan 20 8
ping_pangyo 20 0.01
n=$(captured)
check "pangyo DOWN: 20 pings to pangyo's address arrive at ansan ($n captured)" test "$n" -eq 20
before=$(rerouted)
check "the rerouted counter counted them ($before)" test "$before" -ge 20

capture_at_ansan 80 10
ping_pangyo 80 0.02 &
PING_PID=$!
EXTRA_PIDS+=("$PING_PID")
sleep 0.3
kill_daemon KILL
check "detourd is gone" test -z "$(ctl status 2>/dev/null)"
check "detour_xdp is still attached to edge0" eval 'ip -n "$NS_E" -d link show dev edge0 | grep -q "prog/xdp id [0-9]* name detour_xdp"'
check "the pinned state still says pangyo DOWN (3)" map_state_is 1 3
wait "$PING_PID"
n=$(captured)
check "all 80 pings sent across the kill arrived at ansan ($n captured)" test "$n" -eq 80

start_daemon || bail "the new detourd did not start"
check "the new detourd kept pangyo DOWN in the map while it learns (no reset to UP)" map_state_is 1 3
after=$(rerouted)
check "the rerouted counter did not reset: $after >= $before + 80" test "$after" -ge $((before + 80))
check "the moved flow is still in detourctl flows (pangyo -> ansan)" \
	test "$(ctl --json flows | json "len([f for f in d['flows'] if f['service'].startswith('198.18.10.5') and f['home']=='pangyo' and f['target']=='ansan'])")" -ge 1
check "the new daemon says pangyo DOWN once its start-up grace is over" \
	wait_until 3000 state_is pangyo down
check "ansan, whose beacon kept sending, is UP for the new daemon" wait_until 2000 state_is ansan up
start_beacon 1
check "fresh heartbeats bring pangyo back UP, in status and in the map" \
	wait_until $((HOLD_DOWN_MS + RECOVERY_TIMEOUT_MS + OBSERVE_MARGIN_MS)) \
	eval 'state_is pangyo up && map_state_is 1 1'
finish
