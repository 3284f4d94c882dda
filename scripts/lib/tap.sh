# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# TAP lines for the shell tests: `ok - WHAT` / `not ok - WHAT`, or numbered (`ok N - WHAT`) with
# TAP_NUMBERED=1. passed and failed count them; tap_explain, called after each `not ok`, may be
# redefined to print what helps (the daemon tests print detourd's last lines).
#
#   ok WHAT, not_ok WHAT, check WHAT CMD... (ok if CMD succeeds)

passed=0
failed=0

tap_explain() { :; }

tap_line() { # ok|not ok, WHAT
	if [ "${TAP_NUMBERED:-0}" = 1 ]; then
		echo "$1 $((passed + failed)) - $2"
	else
		echo "$1 - $2"
	fi
}

ok() {
	passed=$((passed + 1))
	tap_line ok "$*"
}

not_ok() {
	failed=$((failed + 1))
	tap_line "not ok" "$*"
	tap_explain
}

check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
