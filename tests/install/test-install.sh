#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `meson install` puts the three programs and their man pages where an operator finds them, with
# detour.conf(5) and the example /etc/detour/detour.conf (the Debian package ships exactly
# this: tests/package/test-package.sh), and every man page renders without a groff warning.
#   test-install.sh BUILD_DIR
set -u
BUILD=$(cd "${1:?usage: test-install.sh BUILD_DIR}" && pwd)
DEST=$(mktemp -d /tmp/detour-install.XXXXXX)
trap 'rm -rf "$DEST"' EXIT
fails=0

if ! meson install -C "$BUILD" --destdir "$DEST" --no-rebuild >"$DEST.log" 2>&1; then
	echo "FAIL: meson install: $(tail -3 "$DEST.log")"
	rm -f "$DEST.log"
	exit 1
fi
rm -f "$DEST.log"
for prog in detourd detourctl detour-beacon; do
	bin=$(find "$DEST" -type f -name "$prog" -perm -u+x | head -1)
	page=$(find "$DEST" -type f -path "*/man8/$prog.8" | head -1)
	if [ -z "$bin" ] || [ -z "$page" ]; then
		echo "FAIL: $prog: program '${bin:-missing}', man page '${page:-missing}'"
		fails=$((fails + 1))
		continue
	fi
	warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	if [ -n "$warnings" ]; then
		echo "FAIL: $page: $warnings"
		fails=$((fails + 1))
	else
		echo "ok: $prog installed as ${bin#$DEST} with ${page#$DEST}"
	fi
done
page=$(find "$DEST" -type f -path "*/man5/detour.conf.5" | head -1)
warnings=$([ -n "$page" ] && groff -man -Tutf8 -ww -z "$page" 2>&1)
if [ -z "$page" ] || [ -n "$warnings" ]; then
	echo "FAIL: detour.conf(5): '${page:-missing}' $warnings"
	fails=$((fails + 1))
else
	echo "ok: detour.conf(5) installed as ${page#$DEST}"
fi
conf=$(find "$DEST" -type f -path "*/etc/detour/detour.conf" | head -1)
if [ -z "$conf" ] || ! cmp -s "$conf" "$(dirname "$0")/../../docs/examples/detour.conf"; then
	echo "FAIL: the example config: '${conf:-missing}' is not docs/examples/detour.conf"
	fails=$((fails + 1))
else
	echo "ok: docs/examples/detour.conf installed as ${conf#$DEST}"
fi
echo "$fails failed"
[ "$fails" -eq 0 ]
