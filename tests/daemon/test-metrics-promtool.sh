#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# promtool (Debian's prometheus package) checks the /metrics page that test_metrics_page renders
# from its snapshot: `promtool check metrics` must find no problem (it also lints names, units
# and HELP texts). $1: the test_metrics_page program.
set -u
. "$(dirname "$0")/../../scripts/lib/tap.sh"

if ! command -v promtool >/dev/null; then
	echo "Bail out! promtool is not installed (scripts/setup.sh installs Debian's prometheus)"
	exit 1
fi
out=$(mktemp /tmp/dt-metrics-page.XXXXXX)
trap 'rm -f "$out"' EXIT
check "test_metrics_page writes the page" "$1" "$out"
report=$(promtool check metrics <"$out" 2>&1)
status=$?
[ -n "$report" ] && echo "$report" | sed 's/^/#   promtool: /'
check "promtool check metrics: no problem found" test "$status" = 0 -a -z "$report"
echo "1..$((passed + failed))"
[ "$failed" = 0 ]
