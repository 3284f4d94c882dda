#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `meson install` puts the three programs and their man pages where an operator finds them, and
# every man page renders without a groff warning.
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
echo "$fails failed"
[ "$fails" -eq 0 ]
