#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Forged and replayed heartbeats, sent by hb-forge: each kind is rejected and counted under its
# reason in `detourctl --json stats`, and none of them keeps a dead site UP: with pangyo's beacon
# stopped while the forger keeps sending wrong-key and replayed datagrams, pangyo goes DOWN on time.
. "$(dirname "$0")/daemon_fixture.sh"

setup_all
start_daemon || bail "detourd did not start"
# pangyo's beacon also sends to an address of its own namespace, where the test records genuine
# datagrams to replay later.
start_beacon 1 --target 198.18.2.2:7700
start_beacon 2
wait_until 3000 sites_up || bail "sites did not come UP"
ip netns exec "$NS_A" "$HB_FORGE" capture --listen 198.18.2.2:7700 --out "$TMP/captured" \
	--count 20 --max-ms 3000 >/dev/null || bail "no genuine heartbeat captured"

forge() { # MODE COUNT: from pangyo's namespace to the edge
	ip netns exec "$NS_A" "$HB_FORGE" send "$1" --target 198.18.2.1:7600 --site 1 \
		--count "$2" --gap-us 200 --max-ms 5000 | sed -n 's/^sent=//p'
}
replay() { # COUNT
	ip netns exec "$NS_A" "$HB_FORGE" replay --in "$TMP/captured" --target 198.18.2.1:7600 \
		--count "$1" --gap-us 200 --max-ms 5000 | sed -n 's/^sent=//p'
}
accepted_of() { ctl --json status | json "[s['heartbeats'] for s in d['sites'] if s['name']=='$1'][0]"; }

# expect_counted REASON MODE COUNT: send COUNT of MODE, the REASON counter grows by COUNT
expect_counted() {
	local reason=$1 mode=$2 count=$3 before after sent
	before=$(hb_count "$reason")
	if [ "$mode" = replay ]; then sent=$(replay "$count"); else sent=$(forge "$mode" "$count"); fi
	wait_until 2000 eval '[ "$(hb_count "$reason")" -ge $((before + count)) ]'
	after=$(hb_count "$reason")
	check "$mode: $sent sent, $reason counter +$((after - before)) (wanted +$count)" \
		test "$((after - before))" -eq "$count" -a "$sent" -eq "$count"
}

expect_counted bad-mac wrong-key 200
expect_counted short short 50
expect_counted oversized long 50
expect_counted bad-magic bad-magic 50
expect_counted replay replay 20
before=$(($(hb_count bad-magic) + $(hb_count bad-version) + $(hb_count unknown-site)))
sent=$(forge garbage 100)
check "garbage: all $sent counted as rejected (bad magic, version or site)" wait_until 2000 eval \
	'[ $(($(hb_count bad-magic) + $(hb_count bad-version) + $(hb_count unknown-site))) -ge $((before + 100)) ]'
check "after all that both sites are still UP, and detourd runs" eval 'sites_up && kill -0 $DAEMON_PID'

# The real beacon dies; the forger goes on with wrong keys and replays of genuine datagrams.
ip netns exec "$NS_A" "$HB_FORGE" send wrong-key --target 198.18.2.1:7600 --site 1 --count 2000 \
	--gap-us 1000 --max-ms 2500 >/dev/null &
EXTRA_PIDS+=($!)
ip netns exec "$NS_A" "$HB_FORGE" replay --in "$TMP/captured" --target 198.18.2.1:7600 \
	--count 2000 --gap-us 1000 --max-ms 2500 >/dev/null &
EXTRA_PIDS+=($!)
sleep 0.2
check_pangyo_down "pangyo goes DOWN although forged and replayed datagrams keep arriving" \
	"detected within $DETECT_MS + $DETECT_MARGIN_MS ms of the last genuine heartbeat"
accepted=$(accepted_of pangyo)
sleep 0.5 # the forgers are still sending: nothing of theirs may be accepted
check "no forged datagram was accepted for pangyo ($accepted accepted, unchanged)" \
	test "$(accepted_of pangyo)" = "$accepted"
check "pangyo stayed DOWN (no recovery started) and the map says 3" \
	eval 'state_is pangyo down && [ -z "$(last_event pangyo recovering)" ] && map_state_is 1 3'
finish
