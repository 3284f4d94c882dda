#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A junk flood does not delay the detection of a real loss beyond the margin, and does not make
# the site whose beacon lives go DOWN (issue 15, case 2). detourd runs as deployed (SCHED_FIFO):
# from each site's namespace a bounded flood of garbage datagrams and one of valid-header,
# wrong-MAC datagrams (a BLAKE2b check each), as fast as one sender each can, to both heartbeat
# sockets; meanwhile pangyo's power is cut.
DETOURD_SCHED_ARGS=${DETOURD_SCHED_ARGS-}
. "$(dirname "$0")/daemon_fixture.sh"

FLOOD_COUNT=${FLOOD_COUNT:-300000}

setup_all
daemon_and_beacons_up 3000

FLOODERS=()
flood() { # NS EDGE-ADDR MODE
	ip netns exec "$1" "$HB_FORGE" send "$3" --target "$2:7600" --site 1 \
		--count "$FLOOD_COUNT" --max-ms 3000 >"$TMP/flood-$2-$3" &
	EXTRA_PIDS+=($!)
	FLOODERS+=($!)
}
junk() {
	echo $(($(hb_count bad-magic) + $(hb_count bad-version) + $(hb_count unknown-site) + $(hb_count bad-mac)))
}

before=$(junk)
flood "$NS_A" 198.18.2.1 garbage
flood "$NS_B" 198.18.3.1 garbage
flood "$NS_A" 198.18.2.1 wrong-key
flood "$NS_B" 198.18.3.1 wrong-key
sleep 0.5
check_pangyo_down "pangyo goes DOWN during the flood" \
	"detected within $DETECT_MS + $DETECT_MARGIN_MS ms of its last heartbeat despite the flood"
wait "${FLOODERS[@]}" 2>/dev/null
sent=$(cat "$TMP"/flood-* | sed -n 's/^sent=//p' | awk '{ n += $1 } END { print n + 0 }')
counted=$(($(junk) - before))
echo "# flood: $sent datagrams sent, $counted read and rejected by detourd"
check "the flood reached detourd (at least 10000 junk datagrams rejected)" test "$counted" -ge 10000
check "ansan, whose beacon lived, never went DOWN during the flood" test -z "$(last_event ansan down)"
check "detourd survived the flood and answers" eval 'kill -0 $DAEMON_PID && ctl status >/dev/null'
check "ansan is UP once the flood is over" \
	wait_until $((HOLD_DOWN_MS + RECOVERY_TIMEOUT_MS + OBSERVE_MARGIN_MS)) state_is ansan up
finish
