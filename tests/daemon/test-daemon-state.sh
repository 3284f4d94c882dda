#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What a restart of detourd must not forget (issue 13, items 6 and 7), each part after a SIGKILL
# of the daemon and a fresh start on the same configuration:
#  1. pangyo is DOWN (its beacon stopped); the new daemon starts and pangyo's beacon comes back at
#     once: pangyo stays DOWN for its hold-down, then goes RECOVERING, then UP. Its transitions in
#     the new daemon's event log are down (state_restored), recovering (hold_down_passed), up,
#     with RECOVERING at least hold_down_ms after the restore (event times), and the pinned map
#     says DOWN throughout the first two thirds of the hold-down.
#  2. `detourctl fail pangyo` and `detourctl drain ansan --force`: after the restart pangyo is
#     still DOWN with override fail although its beacon is alive (for the hold-down and more),
#     ansan still DRAINING with override drain; `restore` brings both back.
#  3. Replay: genuine datagrams recorded from pangyo's beacon in an old epoch and in the current
#     one are replayed after the restart: every one refused (old-epoch, too-old or replay), none
#     accepted.
#  4. A second detourd on the same configuration (so the same state file) refuses to start,
#     saying why, before it touches the XDP program; the first one runs on.
. "$(dirname "$0")/daemon_fixture.sh"

# A hold-down long enough to sample the pinned map inside it on a loaded machine.
HOLD_DOWN_MS=1000 RECOVERY_TIMEOUT_MS=1200
setup_all
daemon_and_beacons_up 3000

restart_daemon() {
	kill_daemon KILL
	: >"$EVENTS.before"
	cat "$EVENTS" >>"$EVENTS.before"
	: >"$EVENTS"
	start_daemon || bail "the new detourd did not start"
}

# transitions SITE: this daemon's transitions of SITE, "to(cause)" separated by spaces
transitions() {
	python3 - "$EVENTS" "$1" <<'EOF'
import json, sys
print(" ".join("%s(%s)" % (e["to"], e["cause"]) for e in map(json.loads, open(sys.argv[1]))
               if e["site"] == sys.argv[2] and e["from"] != e["to"]))
EOF
}
event_field() { # SITE TO FIELD: FIELD of the first event of SITE to TO in this daemon's log
	python3 - "$EVENTS" "$1" "$2" "$3" <<'EOF'
import json, sys
for e in map(json.loads, open(sys.argv[1])):
    if e["site"] == sys.argv[2] and e["to"] == sys.argv[3] and e["from"] != e["to"]:
        print(e[sys.argv[4]]); break
EOF
}
override_of() { ctl --json site show "$1" | json "d['site']['override']"; }

# ---- 1. DOWN stays DOWN and goes through hold-down --------------------------------------------
stop_beacon 1
wait_until 2000 eval 'state_is pangyo down && map_state_is 1 3' || bail "pangyo did not go DOWN"
restart_daemon
start_beacon 1
t0=$(mono_ms)
up_seen=0 samples=0
while [ $(($(mono_ms) - t0)) -lt $((HOLD_DOWN_MS * 2 / 3)) ]; do # the first 2/3 of the hold-down
	[ "$(map_state 1)" = 3 ] || up_seen=1
	samples=$((samples + 1))
done
check "the pinned map said DOWN throughout the first 2/3 of the hold-down ($samples samples)" \
	test "$up_seen" = 0 -a "$samples" -ge 1
check "status: the state file is in use, both sites restored from it" \
	test "$(ctl --json status | json "'%s %d' % (d['daemon']['state_file']['in_use'], d['daemon']['state_file']['restored_sites'])")" = "True 2"
wait_until $((HOLD_DOWN_MS + RECOVERY_TIMEOUT_MS + OBSERVE_MARGIN_MS)) state_is pangyo up
t=$(transitions pangyo)
echo "# pangyo after the restart: $t"
check "pangyo: down(state_restored), recovering(hold_down_passed), up" \
	eval '[[ "$t" =~ ^down\(state_restored\)\ recovering\(hold_down_passed\)\ up\( ]]'
# The beacon started after the new daemon: its first heartbeat is later than the restore.
restored=$(event_field pangyo down detected_ns)
recovered=$(event_field pangyo recovering deadline_ns)
held=$(((${recovered:-0} - ${restored:-0}) / 1000000))
check "RECOVERING came $held ms after the restore, at least the hold-down ($HOLD_DOWN_MS ms)" \
	test "${restored:-0}" -gt 0 -a "$held" -ge "$HOLD_DOWN_MS"

# ---- 2. overrides persist -------------------------------------------------------------------
ctl fail pangyo >/dev/null || bail "fail pangyo refused"
ctl drain ansan --force >/dev/null || bail "drain ansan refused"
restart_daemon
check "after the restart pangyo's override is fail" test "$(override_of pangyo)" = fail
check "after the restart ansan's override is drain" test "$(override_of ansan)" = drain
sleep $(((HOLD_DOWN_MS + 2 * RECOVERY_TIMEOUT_MS) / 1000)).$(((HOLD_DOWN_MS + 2 * RECOVERY_TIMEOUT_MS) % 1000))
check "pangyo stayed DOWN with its beacon alive, past hold-down and recovery" \
	eval 'state_is pangyo down && map_state_is 1 3'
check "ansan stayed DRAINING" state_is ansan draining
ctl restore ansan >/dev/null
ctl restore pangyo >/dev/null
check "restore brings both back UP" \
	wait_until $((HOLD_DOWN_MS + 2 * RECOVERY_TIMEOUT_MS + OBSERVE_MARGIN_MS)) sites_up

# ---- 3. replay state persists ---------------------------------------------------------------
record() { # FILE: capture 20 genuine datagrams of pangyo's beacon
	ip netns exec "$NS_A" "$HB_FORGE" capture --listen 198.18.2.2:7700 --out "$1" \
		--count 20 --max-ms 3000 >/dev/null || bail "no genuine heartbeat captured"
}
replay() { # FILE COUNT
	ip netns exec "$NS_A" "$HB_FORGE" replay --in "$1" --target 198.18.2.1:7600 \
		--count "$2" --gap-us 200 --max-ms 5000 | sed -n 's/^sent=//p'
}
refused() { echo $(($(hb_count old-epoch) + $(hb_count too-old) + $(hb_count replay))); }
accepted() { ctl --json status | json "[s['heartbeats'] for s in d['sites'] if s['name']=='pangyo'][0]"; }

stop_beacon 1
start_beacon 1 --target 198.18.2.2:7700
record "$TMP/old-epoch"
stop_beacon 1
start_beacon 1 --target 198.18.2.2:7700 # a new epoch
record "$TMP/this-epoch"
wait_until 2000 state_is pangyo up || bail "pangyo not UP with its new beacon"
stop_beacon 1 # only the recordings speak for pangyo now
restart_daemon
before=$(refused)
sent=$(($(replay "$TMP/old-epoch" 20) + $(replay "$TMP/this-epoch" 20)))
wait_until 2000 eval '[ $(($(refused) - before)) -ge 40 ]'
check "all $sent replayed datagrams refused after the restart ($(($(refused) - before)) refused)" \
	test "$(($(refused) - before))" -eq 40 -a "$sent" -eq 40
check "none of them was accepted for pangyo ($(accepted) accepted)" test "$(accepted)" = 0

# ---- 4. one daemon per state file ------------------------------------------------------------
prog() { ip -n "$NS_E" -d link show dev edge0 | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p'; }
before=$(prog)
ip netns exec "$NS_E" "$DETOURD" --no-realtime -c "$CONF" >"$TMP/second.out" 2>"$TMP/second.err"
rc=$?
check "a second detourd on the same state file exits ($rc) saying so" \
	eval '[ "$rc" -ne 0 ] && grep -q "state file .*another detourd has it" "$TMP/second.err"'
check "and it did not touch the dataplane (program $before still attached)" test "$(prog)" = "$before"
check "the first detourd still answers" ctl status
finish
