#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Several beacons per site, seen from outside: pangyo has beacons 0 and 1. One of them killed is
# a degraded site and a beacon_silent event, never a transition; started again, beacon_back. A
# rolling restart (0, then 1) moves nothing. A beacon id the site does not have is counted as
# unknown-beacon and moves nothing. Both killed: DOWN within interval x multiplier.
. "$(dirname "$0")/daemon_fixture.sh"

# notices CAUSE BEACON: how many pangyo notices of the event log have this cause and beacon
notices() {
	python3 - "$EVENTS" "$1" "$2" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    n += e["site"] == "pangyo" and e["notice"] and e["cause"] == sys.argv[2] \
        and e["beacon"] == int(sys.argv[3])
print(n)
PY
}

transitions() { # of pangyo, in the event log
	python3 -c 'import json,sys
print(sum(1 for l in open(sys.argv[1])
          if json.loads(l)["site"] == "pangyo" and not json.loads(l)["notice"]))' "$EVENTS"
}

pangyo() { ctl --json site show pangyo | json "d['site']['$1']"; }
degraded() { [ "$(pangyo degraded)" = True ]; }
healthy() { [ "$(pangyo degraded)" = False ] && [ "$(pangyo beacons_heard)" = 2/2 ]; }
notices_are() { [ "$(notices "$1" "$2")" -ge "$3" ]; }
still_up() { [ "$(transitions)" = "$base" ] && state_is pangyo up; }
unknown_grew() { [ "$(hb_count unknown-beacon)" -gt "$1" ]; }

SITE_EXTRA[1]="beacons=0 1"
setup_all
start_daemon || bail "detourd did not start"
start_beacon_of 1 0
start_beacon_of 1 1
start_beacon 2
wait_until 3000 sites_up || bail "sites did not come UP"
check "pangyo hears both beacons: BEACONS 2/2, not degraded" wait_until 1000 healthy
check "detourctl sites has a BEACONS column" grep -q BEACONS <(ctl sites)
base=$(transitions)
wait_ms=$((DETECT_MS + OBSERVE_MARGIN_MS))

stop_beacon 1.1
check "beacon 1 killed: pangyo degraded within $wait_ms ms" wait_until "$wait_ms" degraded
check "... a beacon_silent event for beacon 1" wait_until 1000 notices_are beacon_silent 1 1
check "... BEACONS says 1/2 degraded" [ "$(pangyo beacons_heard)" = "1/2 degraded" ]
check "... still UP, no transition" still_up

start_beacon_of 1 1
check "beacon 1 started again: not degraded" wait_until "$wait_ms" healthy
check "... a beacon_back event for beacon 1" wait_until 1000 notices_are beacon_back 1 1

# A rolling restart: beacon 0 down and back, then beacon 1.
for b in 0 1; do
	stop_beacon "1.$b"
	wait_until "$wait_ms" notices_are beacon_silent "$b" $((b + 1)) ||
		echo "# beacon $b: no beacon_silent notice"
	start_beacon_of 1 "$b"
	wait_until "$wait_ms" healthy || echo "# beacon $b: not healthy again"
done
check "rolling restart of beacons 0 and 1: both noticed" notices_are beacon_back 0 1
check "... zero transitions of pangyo" [ "$(transitions)" = "$base" ]

unknown=$(hb_count unknown-beacon)
start_beacon_of 1 5
check "beacon 5, not one of pangyo's: counted as unknown-beacon" wait_until 2000 unknown_grew "$unknown"
stop_beacon 1.5
check "... and moved nothing" still_up

stop_beacon 1.0
stop_beacon 1.1
check "both beacons killed: pangyo DOWN" wait_until "$wait_ms" state_is pangyo down
check "... detected within interval x multiplier + $DETECT_MARGIN_MS ms" \
	event_timing_ok pangyo down $((DETECT_MS + DETECT_MARGIN_MS))
check "... ansan still UP" state_is ansan up
finish
