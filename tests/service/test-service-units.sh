#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The shipped service files are valid for the tools that read them:
#   - systemd-analyze verify prints nothing for detourd.service and for an instance of
#     detour-beacon@.service (their ExecStart paths pointed at the built programs, which verify
#     requires to exist), and does report a unit with a misspelt key (so silence means valid);
#   - systemd-tmpfiles makes /run/detour from the tmpfiles entry (0755 root, under a scratch root);
#   - logrotate reads the snippet without an error.
set -u
for v in UNIT_DIR SYSTEMD_SRC DETOURD DETOUR_BEACON UNIT_SBINDIR UNIT_BINDIR; do
	[ -n "${!v:-}" ] || { echo "Bail out! $v is not set (run through meson test)"; exit 1; }
done
TMP=$(mktemp -d /tmp/dt-units.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

# The built units, with the installed program paths replaced by the built ones.
for u in detourd.service detour-beacon@.service; do
	sed -e "s#$UNIT_SBINDIR/detourd#$DETOURD#g" -e "s#$UNIT_BINDIR/detour-beacon#$DETOUR_BEACON#g" \
		"$UNIT_DIR/$u" >"$TMP/$u"
done
grep -q "^ExecStart=$DETOURD " "$TMP/detourd.service" || not_ok "detourd.service: ExecStart is not $UNIT_SBINDIR/detourd"
ln -s detour-beacon@.service "$TMP/detour-beacon@pangyo-0.service"

verify() { # UNIT...: what systemd-analyze verify says, empty when it has nothing to say
	(cd "$TMP" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$@" 2>&1)
}
for u in detourd.service detour-beacon@pangyo-0.service; do
	out=$(verify "$u")
	rc=$?
	if [ "$rc" = 0 ] && [ -z "$out" ]; then
		ok "systemd-analyze verify $u: nothing to report"
	else
		not_ok "systemd-analyze verify $u (status $rc):"
		echo "$out" | sed 's/^/#   /'
	fi
done
sed 's/^WatchdogSec=/WatchdogSecs=/' "$TMP/detourd.service" >"$TMP/broken.service"
if verify broken.service | grep -q "Unknown key 'WatchdogSecs'"; then
	ok "a misspelt key is reported (so the silence above means valid)"
else
	not_ok "systemd-analyze verify did not report a misspelt key"
fi

root=$TMP/root
mkdir -p "$root/run"
if systemd-tmpfiles --create --root="$root" "$SYSTEMD_SRC/detour.tmpfiles" 2>"$TMP/tmpfiles.err" &&
	[ "$(stat -c '%a %U %G' "$root/run/detour" 2>/dev/null)" = "755 root root" ]; then
	ok "the tmpfiles entry makes /run/detour, 0755 root root"
else
	not_ok "tmpfiles: $(cat "$TMP/tmpfiles.err") $(stat -c '%a %U %G' "$root/run/detour" 2>&1)"
fi

out=$(logrotate --debug --state "$TMP/logrotate.state" "$SYSTEMD_SRC/detour.logrotate" 2>&1)
if [ $? = 0 ] && ! echo "$out" | grep -qi "error"; then
	ok "logrotate reads the snippet without an error"
else
	not_ok "logrotate --debug:"
	echo "$out" | sed 's/^/#   /'
fi
echo "1..$((passed + failed))"
[ "$failed" = 0 ]
