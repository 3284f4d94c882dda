#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A start that fails after the XDP program is attached (here: a heartbeat_listen address this
# edge does not have, which only binding finds out) leaves nothing behind that it made (issue 15,
# case 5): on a first start detourd exits 1, saying so, with detour_xdp detached from edge0 again
# and no pin left under the pin root. On a restart over a running dataplane (pins from the last
# daemon) the same failure leaves the program attached and the maps pinned, forwarding on the
# last state as after a SIGKILL, and says that instead.
. "$(dirname "$0")/daemon_fixture.sh"

setup_all
BAD=$TMP/bad-listen.conf
sed 's/^heartbeat_listen = .*/heartbeat_listen = 198.18.250.1:7600/' "$CONF" >"$BAD"

xdp_prog() { ip -n "$NS_E" -d link show dev edge0 | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p'; }
pins() { find "$ROOT" -mindepth 1 2>/dev/null | wc -l; }
start_bad() { # the exit status of a detourd started on $BAD
	ip netns exec "$NS_E" "$DETOURD" --no-realtime -c "$BAD" >"$TMP/bad.out" 2>"$TMP/bad.err"
}

# ---- a first start ------------------------------------------------------------------------------
start_bad
rc=$?
check "a first start on an address this edge lacks exits 1 ($rc), naming it" \
	eval '[ $rc -eq 1 ] && grep -q "198.18.250.1:7600" "$TMP/bad.err"'
check "it says it detached and removed its pins" \
	eval 'grep -q "detached from edge0 again" "$TMP/bad.err" && grep -q "pins it made under .* are removed" "$TMP/bad.err"'
check "nothing is attached to edge0" test -z "$(xdp_prog)"
check "no pin is left under the pin root ($(pins))" test "$(pins)" = 0

# ---- a restart over a running dataplane -----------------------------------------------------
daemon_and_beacons_up 3000
kill_daemon KILL
pinned=$(pins)
start_bad
rc=$?
check "a restart on the bad file exits 1 ($rc) and says the dataplane stays" \
	eval '[ $rc -eq 1 ] && grep -q "stays attached with the maps it adopted" "$TMP/bad.err"'
check "detour_xdp is still attached to edge0" test -n "$(xdp_prog)"
check "the pins are all still there ($(pins) of $pinned)" test "$(pins)" = "$pinned"
check "the pinned state still says both sites UP" eval 'map_state_is 1 1 && map_state_is 2 1'

finish
