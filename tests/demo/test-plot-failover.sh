#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck source-path=SCRIPTDIR
# scripts/plot-failover.sh on a timeline that scripts/demo.sh recorded (recorded/: detourd's
# event log and the client's per-request log around pangyo's power cut, 5 ms x 4): it writes a
# PNG of the size it asks gnuplot for, and refuses clearly, writing nothing, when the event log
# has no cut of the site or the client log no request near it.
#   test-plot-failover.sh PATH/TO/plot-failover.sh
set -u
PLOT=${1:?usage: test-plot-failover.sh PATH/TO/plot-failover.sh}
HERE=$(cd "$(dirname "$0")" && pwd)
REC=$HERE/recorded
TMP=$(mktemp -d /tmp/dt-plot-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=../../scripts/lib/tap.sh
. "$HERE/../../scripts/lib/tap.sh"

is_png() { # FILE: the PNG signature, an IHDR of 900 x 420, and file(1) agrees
	[ -s "$1" ] &&
		[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
		file "$1" | grep -q "PNG image data, 900 x 420"
}

# plot ARGS...: the script, its exit status in rc
plot() {
	bash "$PLOT" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

plot "$REC/events.jsonl" "$REC/client.log" pangyo "$TMP/failover.png"
check "the plot of the recorded cut exits 0 (exit $rc: $(head -c 300 "$TMP/err"))" test "$rc" -eq 0
check "... and writes a PNG, 900 x 420 ($(stat -c %s "$TMP/failover.png" 2>/dev/null || echo 0) bytes)" \
	is_png "$TMP/failover.png"

plot "$REC/events.jsonl" "$REC/client.log" ansan "$TMP/none.png"
check "a site with no cut in the event log: exit 1, named" \
	eval '[ $rc -eq 1 ] && grep -q "no transition of ansan to down" "$TMP/err" && [ ! -s "$TMP/none.png" ]'

: >"$TMP/empty.log"
plot "$REC/events.jsonl" "$TMP/empty.log" pangyo "$TMP/none2.png"
check "a client log with no request around the cut: exit 1, named" \
	eval '[ $rc -eq 1 ] && grep -q "no request sent within" "$TMP/err" && [ ! -s "$TMP/none2.png" ]'

plot "$REC/events.jsonl"
check "missing arguments: usage, exit 2" eval '[ $rc -eq 2 ] && grep -q "^usage: plot-failover.sh" "$TMP/err"'
echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
