#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# beacon_sources seen from outside: pangyo has beacons 0 and 1, both sending from 198.18.2.2,
# but only beacon 0 may (198.18.2.0/30); beacon 1 may send from 198.18.2.9 and 2001:db8:2::/64
# only. Beacon 1 alone: every heartbeat refused as wrong-source, none accepted, pangyo never UP.
# Beacon 0 too: pangyo UP and degraded (beacon 1 is not heard). Beacon 0 killed: pangyo DOWN
# within interval x multiplier although beacon 1 keeps sending. A reload that lets beacon 1 in
# (198.18.2.0/24) brings pangyo back on beacon 1 alone, and the wrong-source count stops.
. "$(dirname "$0")/daemon_fixture.sh"

pangyo() { ctl --json site show pangyo | json "d['site']['$1']"; }
wrong() { hb_count wrong-source; }
wrong_above() { [ "$(wrong)" -gt "$1" ]; }
never_heard() { [ "$(pangyo last_heartbeat)" = never ] && ! state_is pangyo up; }
degraded() { [ "$(pangyo beacons_heard)" = "1/2 degraded" ]; }
# set_sources VALUE: pangyo's beacon_sources line in $CONF, replacing the one there
set_sources() {
	sed -i '/^beacon_sources/d' "$CONF"
	sed -i "/^\[site pangyo\]/a beacon_sources = $1" "$CONF"
}

SITE_EXTRA[1]="beacons=0 1"
setup_all
set_sources "0 198.18.2.0/30, 1 198.18.2.9, 1 2001:db8:2::/64"
start_daemon || bail "detourd did not start"
start_beacon 2
start_beacon_of 1 1
wait_until 3000 state_is ansan up || bail "ansan did not come UP"

check "beacon 1 from 198.18.2.2, not in its sources: counted as wrong-source" \
	wait_until 2000 wrong_above 10
check "... none of its heartbeats accepted" [ "$(pangyo heartbeats)" = 0 ]
check "... pangyo not UP from it (last heartbeat: never)" never_heard
check "detourctl stats names the reason" grep -q "wrong-source [0-9]" <(ctl stats)

start_beacon_of 1 0
check "beacon 0, from inside 198.18.2.0/30: pangyo UP" wait_until 3000 state_is pangyo up
check "... degraded, beacon 1 still refused" wait_until 1000 degraded
before=$(wrong)
check "... wrong-source still growing while pangyo is UP" wait_until 1000 wrong_above "$before"

stop_beacon 1.0
check "beacon 0 killed: pangyo DOWN though beacon 1 still sends" \
	wait_until $((DETECT_MS + OBSERVE_MARGIN_MS)) state_is pangyo down
check "... detected within interval x multiplier + $DETECT_MARGIN_MS ms" \
	event_timing_ok pangyo down $((DETECT_MS + DETECT_MARGIN_MS))
before=$(wrong)
check "... beacon 1 was refused all along" wait_until 1000 wrong_above "$before"
check "... ansan still UP" state_is ansan up

set_sources "0 198.18.2.0/30, 1 198.18.2.0/24"
kill -HUP "$DAEMON_PID"
check "a reload takes new beacon_sources" \
	wait_until 2000 grep -q "reload: $CONF applied" "$DERR"
check "... pangyo back UP on beacon 1 alone" \
	wait_until $((HOLD_DOWN_MS + RECOVERY_TIMEOUT_MS + 2000)) state_is pangyo up
before=$(wrong)
sleep 0.3
check "... and wrong-source no longer grows ($before)" [ "$(wrong)" = "$before" ]
finish
