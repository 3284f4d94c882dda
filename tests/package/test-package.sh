#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The Debian package, built and installed the way an operator would get it:
#   1. a copy of the source tree (what git tracks, plus new untracked files) is built with
#      `dpkg-buildpackage -b -us -uc` (DEB_BUILD_OPTIONS="nocheck parallel=2"), which also checks
#      that debian/control's build dependencies are installed;
#   2. lintian on the .changes (the .deb, .buildinfo and .changes): no error;
#   3. the .deb's control data: version = meson's project version, conffiles, no secret shipped;
#   4. `dpkg --root --install` puts it into a throwaway root (its own dpkg database; maintainer
#      scripts run with DPKG_ROOT, init-system commands stubbed: nothing enabled or started);
#   5. in that root (chroot, the host's libraries bind-mounted read-only in a private mount
#      namespace): `detourctl keygen /etc/detour/detour.keys` for the sample's sites, then the
#      installed `detourd --check --other-host` on the installed /etc/detour/detour.conf, then
#      `systemd-analyze verify` on every unit the package installs;
#   6. `dpkg --root --purge`: its files and conffile go, the key file keygen wrote stays.
# A package without systemd units is a failure (systemd/ ships detourd.service and
# detour-beacon@.service); DT_EXPECT_UNITS=0 only reports it. DT_PACKAGE_KEEP=1
# keeps the work directory (the .deb, the logs, the root).
#   test-package.sh SOURCE_ROOT BUILD_DIR
set -u
SRC=$(cd "${1:?usage: test-package.sh SOURCE_ROOT BUILD_DIR}" && pwd)
BUILD=$(cd "${2:?usage: test-package.sh SOURCE_ROOT BUILD_DIR}" && pwd)
EXPECT_UNITS=${DT_EXPECT_UNITS:-1}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (dpkg --root, chroot, mount namespace)"
	exit 77
fi

# Under the build directory, so that ccache (CCACHE_BASEDIR) can reuse objects between runs.
WORK=$(mktemp -d "$BUILD/package-test.XXXXXX")
ROOT=$WORK/root
cleanup() {
	# The bind mounts lived only in the private namespace; never delete through one.
	if grep -qF " $ROOT/" /proc/self/mountinfo; then
		echo "# $ROOT still has mounts: left in place"
		return
	fi
	if [ "${DT_PACKAGE_KEEP:-0}" = 1 ]; then
		echo "# kept $WORK (DT_PACKAGE_KEEP=1)"
		return
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
. "$(dirname "$0")/tap.sh"
bail() {
	not_ok "$*"
	finish
	exit 1
}
t0=$(date +%s%N)
elapsed() {
	local ds=$((($(date +%s%N) - t0) / 100000000))
	echo "$((ds / 10)).$((ds % 10)) s"
}

# 1. Build from a copy.
mkdir "$WORK/src"
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$SRC" ls-files -z --cached --others --exclude-standard |
		(cd "$SRC" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
		tar -C "$SRC" --null -T - -cf - | tar -C "$WORK/src" -xf -
else
	tar -C "$SRC" --exclude='./build*' --exclude=./debian/build -cf - . | tar -C "$WORK/src" -xf -
fi
(cd "$WORK/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -b -us -uc) \
	>"$WORK/build.log" 2>&1 || {
	sed 's/^/#   /' "$WORK/build.log" | tail -30
	bail "dpkg-buildpackage -b -us -uc failed"
}
ok "dpkg-buildpackage -b -us -uc built it ($(elapsed))"
version=$(cd "$WORK/src" && dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
DEB=$WORK/detour_${version}_$arch.deb
CHANGES=$WORK/detour_${version}_$arch.changes
check "it made $(basename "$DEB") and its .changes" test -f "$DEB" -a -f "$CHANGES"

# 2. lintian: errors fail, warnings are listed.
lintian --fail-on error --display-info "$CHANGES" >"$WORK/lintian.log" 2>&1
rc=$?
sed 's/^/#   lintian: /' "$WORK/lintian.log"
check "lintian reports no error ($(grep -c '^E:' "$WORK/lintian.log") errors, $(grep -c '^W:' "$WORK/lintian.log") warnings)" \
	test "$rc" -eq 0

# 3. What the package says about itself.
meson_version=$(meson introspect --projectinfo "$BUILD" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
check "debian/changelog's version is meson's ($meson_version)" test "$version" = "$meson_version"
dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles >"$WORK/conffiles" 2>/dev/null
check "/etc/detour/detour.conf is a conffile" grep -qx /etc/detour/detour.conf "$WORK/conffiles"
dpkg-deb -c "$DEB" >"$WORK/contents"
check "no key file is shipped" eval '! grep -qE "\.keys$|/keys$" "$WORK/contents"'

# 4. Install into a throwaway root with its own dpkg database. Maintainer scripts run outside a
# chroot (the root has no shell) with DPKG_ROOT set, and with the commands that would act on
# the host's init system replaced by stubs that only log their arguments.
mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates" "$WORK/stubs"
touch "$ROOT/var/lib/dpkg/status" "$ROOT/var/lib/dpkg/available" "$WORK/maint.log"
for c in deb-systemd-helper deb-systemd-invoke systemctl systemd-tmpfiles systemd-sysusers \
	invoke-rc.d update-rc.d adduser addgroup useradd groupadd; do
	printf '#!/bin/sh\necho "%s $*" >>"%s"\ncase "$1" in debian-installed|was-enabled|is-enabled) exit 1 ;; esac\n' \
		"$c" "$WORK/maint.log" >"$WORK/stubs/$c"
	chmod +x "$WORK/stubs/$c"
done
# Scripts run on the host: only debhelper's own snippets (DPKG_ROOT-aware) are let through; a
# hand-written line outside them could act on the host's files, so it stops the test instead.
dpkg-deb -e "$DEB" "$WORK/control"
for script in preinst postinst prerm postrm; do
	[ -f "$WORK/control/$script" ] || continue
	own=$(awk '/^# Automatically added by dh_/ { auto = 1 } !auto && !/^(#|$|set -e$|exit 0$)/ { print }
		/^# End automatically added section/ { auto = 0 }' "$WORK/control/$script")
	[ -z "$own" ] || bail "$script has hand-written lines; this test runs maintainer scripts outside a chroot and cannot run them safely: $own"
done
PATH="$WORK/stubs:$PATH" dpkg --root="$ROOT" --log="$WORK/dpkg.log" --force-depends \
	--force-script-chrootless --install "$DEB" >"$WORK/dpkg.out" 2>&1 ||
	{ sed 's/^/#   /' "$WORK/dpkg.out"; bail "dpkg --root --install"; }
ok "dpkg --root installed it into a throwaway root"
sed 's/^/#   maintainer script ran: /' "$WORK/maint.log"
check "its maintainer scripts enabled and started nothing" \
	eval '! grep -qwE "enable|start|restart" "$WORK/maint.log"'
check "its dpkg database lists the conffile" \
	eval 'dpkg-query --root="$ROOT" -W -f="\${Conffiles}" detour | grep -q "/etc/detour/detour.conf "'
for f in /usr/sbin/detourd /usr/sbin/detourctl /usr/bin/detour-beacon \
	/usr/share/man/man8/detourd.8.gz /usr/share/man/man8/detourctl.8.gz \
	/usr/share/man/man8/detour-beacon.8.gz /usr/share/man/man5/detour.conf.5.gz \
	/etc/detour/detour.conf /usr/share/doc/detour/copyright; do
	check "installed: $f" test -e "$ROOT$f"
done
check "the sample config is world-readable and root's (no secret in it)" \
	test "$(stat -c '%u %a' "$ROOT/etc/detour/detour.conf")" = "0 644"
# Every library the programs need is a declared dependency: dpkg knows it on this host.
deps=$(dpkg-deb -f "$DEB" Depends)
missing=
for d in $(echo "$deps" | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g'); do
	dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q 'ok installed' || missing="$missing $d"
done
check "every Depends is installed here (${deps:0:60}...)" test -z "$missing"

units=$(cd "$ROOT" && find lib/systemd/system usr/lib/systemd/system -maxdepth 1 -type f \
	\( -name '*.service' -o -name '*.socket' -o -name '*.timer' \) 2>/dev/null | sort)

# 5. Run what was installed, where it was installed. The chroot sees the package's files and
# the host's libraries (read-only); it has no other program and no key of the host.
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
cat >"$WORK/inside.sh" <<EOF
set -eu
for d in /usr/lib/$multiarch /lib/$multiarch /usr/lib64 /lib64; do
	[ -d "\$d" ] || continue
	[ -L "$ROOT\$d" ] && continue
	mkdir -p "$ROOT\$d"
	mount --bind "\$d" "$ROOT\$d"
	mount -o remount,bind,ro "$ROOT\$d"
done
sites=\$(sed -n 's/^id *= *\([0-9]*\).*/\1/p' "$ROOT/etc/detour/detour.conf")
chroot "$ROOT" /usr/sbin/detourctl keygen /etc/detour/detour.keys \$sites
stat -c 'keyfile %u %a' "$ROOT/etc/detour/detour.keys"
chroot "$ROOT" /usr/sbin/detourd --check --other-host
chroot "$ROOT" /usr/bin/detour-beacon --help >/dev/null
EOF
unshare --mount --propagation private sh "$WORK/inside.sh" >"$WORK/inside.out" 2>&1
rc=$?
sed 's/^/#   /' "$WORK/inside.out"
check "in the root: keygen, then detourd --check --other-host on the installed config (exit $rc)" \
	test "$rc" -eq 0
check "... the key file keygen wrote there is root's, mode 0600" grep -qx 'keyfile 0 600' "$WORK/inside.out"
check "... the installed sample config is valid" grep -qF "/etc/detour/detour.conf: valid:" "$WORK/inside.out"
check "... and the host saw none of the root's mounts" eval '! grep -qF " $ROOT/" /proc/self/mountinfo'

if [ -z "$units" ] && [ "$EXPECT_UNITS" = 1 ]; then
	not_ok "the package installs no systemd unit (DT_EXPECT_UNITS=1)"
elif [ -z "$units" ]; then
	echo "# no systemd unit in the package yet: systemd-analyze verify not run (DT_EXPECT_UNITS=1 requires them)"
fi
for u in $units; do
	name=$(basename "$u")
	case $name in *@.*) name=${name/@./@check.} ;; esac
	# In the root, beside the host's own units (read-only, where the root's /usr/local units
	# would be), which the package's units refer to (targets, sockets), and with the host's copy
	# of each program a unit runs that is not the package's (/bin/kill: another package's),
	# bound over an empty file left by the unit before (a placeholder is not executable). The
	# units' man: references are not followed (man is not in the root; test-install renders
	# the pages).
	unshare --mount --propagation private sh -c '
		set -e
		ro() { mount --bind "$1" "$2"; mount -o remount,bind,ro "$2"; }
		mkdir -p "$1/usr/local/lib/systemd/system"
		ro /usr/lib/systemd/system "$1/usr/local/lib/systemd/system"
		for p in $(sed -n "s/^Exec[A-Za-z]*=[-@+!:]*\(\/[^ ]*\).*/\1/p" "$1/$3"); do
			[ -x "$1$p" ] || [ ! -f "$p" ] || {
				mkdir -p "$1${p%/*}" && { [ -e "$1$p" ] || touch "$1$p"; } &&
					ro "$p" "$1$p"
			}
		done
		exec systemd-analyze verify --man=no --root="$1" "$2"' sh "$ROOT" "$name" "$u" \
		>"$WORK/verify.out" 2>&1
	rc=$?
	sed 's/^/#   /' "$WORK/verify.out"
	check "systemd-analyze verify $name (installed as /$u): exit $rc, no complaint" \
		eval '[ $rc -eq 0 ] && [ ! -s "$WORK/verify.out" ]'
done

# 6. Purge: the package's files and its conffile go, the key file keygen wrote stays (the
# package never made it, so it never deletes it).
PATH="$WORK/stubs:$PATH" dpkg --root="$ROOT" --log="$WORK/dpkg.log" --force-script-chrootless \
	--purge detour >"$WORK/dpkg.out" 2>&1
rc=$?
sed 's/^/#   /' "$WORK/dpkg.out" | grep -v '^#   (Reading database' || true
check "dpkg --root --purge: exit $rc, the programs and the example config are gone" \
	eval '[ $rc -eq 0 ] && [ ! -e "$ROOT/usr/sbin/detourd" ] && [ ! -e "$ROOT/etc/detour/detour.conf" ]'
check "... and the key file is kept" test -f "$ROOT/etc/detour/detour.keys"

echo "# test-package: $(elapsed) in all"
finish
