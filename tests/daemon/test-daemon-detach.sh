#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `detourd --detach -c FILE`: after a daemon has stopped (leaving the program attached and the
# maps pinned, as a hitless restart needs), --detach removes both; run again, it finds nothing.
. "$(dirname "$0")/daemon_fixture.sh"

setup_all
start_daemon || bail "detourd did not start"
kill_daemon TERM
has_xdp() { ip -n "$NS_E" -d link show dev edge0 | grep -q "prog/xdp"; }
check "a stopped detourd leaves detour_xdp attached" has_xdp
check "and its maps pinned" test -e "$ROOT/dt_site_state"

ip netns exec "$NS_E" "$DETOURD" --detach -c "$CONF" >"$TMP/out" 2>"$TMP/err"
rc=$?
check "--detach: exit 0" test "$rc" -eq 0
check "--detach says what it did" \
	eval 'grep -q "interface edge0: detached" "$TMP/out" && grep -q "pins under $ROOT: removed" "$TMP/out"'
check "no XDP program on edge0 any more" eval '! has_xdp'
check "the pin root is gone" test ! -e "$ROOT"

ip netns exec "$NS_E" "$DETOURD" --detach -c "$CONF" >"$TMP/out" 2>"$TMP/err"
rc=$?
check "--detach again: exit 0, nothing attached" \
	eval '[ $rc -eq 0 ] && grep -q "interface edge0: nothing attached" "$TMP/out"'
finish
