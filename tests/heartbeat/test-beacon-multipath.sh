#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Multi-path: detour-beacon sends every heartbeat to every --target. Two receivers on loopback
# stand for an edge's management and data-link addresses; each must get the same heartbeats
# (same epoch, same sequences, beacon and key id as configured). Then one receiver goes away (a
# lost path) and the other still gets every heartbeat. Loopback only: no namespaces needed.
set -euo pipefail

BEACON=${1:?usage: test-beacon-multipath.sh DETOUR_BEACON HB_RECV_DUMP}
RECV=${2:?usage: test-beacon-multipath.sh DETOUR_BEACON HB_RECV_DUMP}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (the key file must be owned by root)"
	exit 77
fi

WORK=$(mktemp -d /tmp/hb-multipath-XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	for f in "$WORK"/*.log; do echo "--- $f"; tail -5 "$f"; done
	exit 1
}

PORT_A=$((20000 + RANDOM % 20000))
PORT_B=$((PORT_A + 1))
# Key id 5 only: the beacon must find it without --key-id (the site's only key).
echo "7 5 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" >"$WORK/keys"
chmod 600 "$WORK/keys"

"$RECV" "127.0.0.1:$PORT_A" "$WORK/keys" 10 40 >"$WORK/a.log" 2>&1 &
PIDS+=($!)
RECV_A=$!
"$RECV" "127.0.0.2:$PORT_B" "$WORK/keys" 20 400 >"$WORK/b.log" 2>&1 &
PIDS+=($!)
RECV_B=$!
sleep 0.3
"$BEACON" --foreground --no-realtime --site 7 --key-file "$WORK/keys" --interval 5ms \
	--target "127.0.0.1:$PORT_A" --target "127.0.0.2:$PORT_B" >"$WORK/beacon.log" 2>&1 &
PIDS+=($!)

wait "$RECV_A" || fail "receiver A failed"
[ "$(grep -c '^hb site=7 beacon=0 key=5 ' "$WORK/a.log")" -eq 40 ] ||
	fail "path A: not 40 heartbeats of site 7, beacon 0, key id 5"
# Path A is gone now; path B must go on to its 400 heartbeats (2 s at 5 ms) regardless.
wait "$RECV_B" || fail "receiver B failed"
[ "$(grep -c '^hb site=7 beacon=0 key=5 ' "$WORK/b.log")" -eq 400 ] ||
	fail "path B: not 400 heartbeats after path A was lost"
# The same datagrams on both paths: every (epoch, seq) A saw, B saw too.
grep -o 'epoch=[0-9]* seq=[0-9]*' "$WORK/a.log" | sort >"$WORK/a.seq"
grep -o 'epoch=[0-9]* seq=[0-9]*' "$WORK/b.log" | sort >"$WORK/b.seq"
[ -z "$(comm -23 "$WORK/a.seq" "$WORK/b.seq")" ] || fail "path A saw heartbeats path B did not"
grep -q "count accepted=400" "$WORK/b.log" || fail "path B: refused some heartbeats"
echo "PASS: both paths got every heartbeat; losing one path changed nothing for the other"
