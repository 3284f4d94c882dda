# SPDX-License-Identifier: GPL-2.0-only
# TAP-style lines for the tests of this directory: ok, not_ok, check DESCRIPTION CMD..., and
# finish (the count of failures, and the exit status).
fails=0
ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	fails=$((fails + 1))
}
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish() {
	echo "$fails failed"
	[ "$fails" -eq 0 ]
}
