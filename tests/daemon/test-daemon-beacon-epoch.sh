#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A beacon restarted after its clock stepped backwards. The clock is not moved (libfaketime's
# clock_nanosleep breaks the beacon's absolute monotonic sleeps: it sends 150,000 heartbeats a
# second): instead the last run's epoch is an hour ahead of the clock, as an earlier run's clock
# was, in the epoch file it left (written here). pangyo has two beacons; beacon 1 keeps it UP while
# beacon 0 restarts. With --epoch-file, beacon 0's epoch is the last run's + 1, an hour ahead of
# its clock: detourd accepts it, and a restart takes + 1 again, with none refused, both beacons
# heard and no transition. Restarted without the file it takes its clock's time, smaller than the
# epoch detourd saw: refused as old-epoch for as long as it runs (the defect the file prevents),
# pangyo degraded, and DOWN once beacon 1 stops too. An epoch file that holds no epoch stops the
# beacon with the file's name, and the file is left as it was.
. "$(dirname "$0")/daemon_fixture.sh"

epoch_logged() { # the epoch the last start of pangyo's beacon 0 logged
	sed -n 's/.*site 1 beacon 0: epoch \([0-9]*\),.*/\1/p' "$TMP/beacon1.0.log" | tail -n 1
}
epoch_is() { [ "$(epoch_logged)" = "$1" ]; }
epoch_below() { local e; e=$(epoch_logged); [ -n "$e" ] && [ "$e" -lt "$1" ]; }
heard() { [ "$(ctl --json site show pangyo | json "d['site']['beacons_heard']")" = "$1" ]; }
old_epoch_above() { [ "$(hb_count old-epoch)" -gt "$1" ]; }
pangyo_downs() { # DOWN transitions of pangyo in the event log
	python3 -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if (e := json.loads(l))["site"] == "pangyo"
          and e["to"].lower() == "down"))' "$EVENTS"
}

SITE_EXTRA[1]="beacons=0 1"
setup_all
EPOCH_FILE=$TMP/pangyo.epoch
# the epoch an earlier run of beacon 0 left, its clock an hour ahead: now + 1 h, in ns
ahead=$(($(date +%s%N) + 3600 * 1000000000))
echo "$ahead" >"$EPOCH_FILE"
start_daemon || bail "detourd did not start"
start_beacon 2
start_beacon_of 1 1
start_beacon_of 1 0 --epoch-file "$EPOCH_FILE"
wait_until 3000 sites_up || bail "sites did not come UP"
wait_until 2000 heard 2/2 || bail "pangyo's two beacons were not both heard"
first=$(epoch_logged)
check "beacon 0 started on an epoch file an hour ahead of its clock: the last epoch + 1" \
	[ "$first" = "$((ahead + 1))" ]
check "... which the file holds now" [ "$(cat "$EPOCH_FILE")" = "$first" ]

stop_beacon 1.0
start_beacon_of 1 0 --epoch-file "$EPOCH_FILE"
check "beacon 0 restarted, its clock still behind the last epoch: epoch is the last one + 1" \
	wait_until 2000 epoch_is $((first + 1))
check "... the file says so" [ "$(cat "$EPOCH_FILE")" = "$((first + 1))" ]
check "... detourd hears both beacons again" wait_until 2000 heard 2/2
sleep 0.2
check "... none refused as old-epoch" [ "$(hb_count old-epoch)" = 0 ]
check "... pangyo never went DOWN" [ "$(pangyo_downs)" = 0 ]

stop_beacon 1.0
start_beacon_of 1 0
check "restarted without the file: its clock's epoch, smaller than the last one" \
	wait_until 2000 epoch_below "$first"
check "... refused as old-epoch" wait_until 2000 old_epoch_above 10
check "... pangyo degraded: beacon 0 runs but is not heard" wait_until 2000 heard "1/2 degraded"
stop_beacon 1.1
check "... so pangyo goes DOWN when beacon 1 stops, with beacon 0 still sending" \
	wait_until $((DETECT_MS + OBSERVE_MARGIN_MS)) state_is pangyo down
before=$(hb_count old-epoch)
check "... beacon 0 still refused" wait_until 1000 old_epoch_above "$before"
stop_beacon 1.0

echo "garbage" >"$EPOCH_FILE"
start_beacon_of 1 0 --epoch-file "$EPOCH_FILE"
wait "${BEACON_PID[1.0]}"
status=$?
unset "BEACON_PID[1.0]"
check "an epoch file with no epoch in it: the beacon stops (status $status)" [ "$status" -ne 0 ]
check "... naming the file" grep -q "epoch-file $EPOCH_FILE: not an epoch" "$TMP/beacon1.0.log"
check "... and the file is left as it was" [ "$(cat "$EPOCH_FILE")" = garbage ]
finish
