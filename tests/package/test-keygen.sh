#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `detourctl keygen FILE SITE-ID...`: a key file that detourd --check and detour-beacon accept,
# root-owned, mode 0600 whatever the umask (0640 and the group with --group, which a detourd
# running as `user` of that group takes), new random keys each time, never replacing a file
# without --force, and a clear error (exit 1 or 2, nothing written) for every bad request.
# The beacon's heartbeats go over loopback to hb-recv-dump, which verifies them with the file's
# keys (as tests/heartbeat/test-beacon-multipath.sh); no namespace is needed.
#   test-keygen.sh DETOURCTL DETOURD DETOUR_BEACON HB_RECV_DUMP
set -u
CTL=${1:?usage: test-keygen.sh DETOURCTL DETOURD DETOUR_BEACON HB_RECV_DUMP}
DETOURD=${2:?}
BEACON=${3:?}
RECV=${4:?}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (a key file is accepted only when root owns it)"
	exit 77
fi

WORK=$(mktemp -d /tmp/detour-keygen.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
. "$(dirname "$0")/tap.sh"
# run EXPECTED-EXIT DESCRIPTION CMD...: exit status and the output kept in $WORK/out, $WORK/err
run() {
	local want=$1 what=$2 rc
	shift 2
	"$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$what (exit $rc)"
	else
		not_ok "$what: exit $rc, wanted $want"
		sed 's/^/#   /' "$WORK/out" "$WORK/err"
	fi
}
err_has() { grep -qF -- "$1" "$WORK/err"; }
keys_of() { grep -v '^#' "$1" | awk '{ print $3 }'; }

K=$WORK/detour.keys
umask 000 # the file must be 0600 anyway
run 0 "keygen FILE 1 2" "$CTL" keygen "$K" 1 2
check "owned by root:root, mode 0600, a regular file" \
	test "$(stat -c '%u:%g %a %F' "$K")" = "0:0 600 regular file"
check "one line per site: <site> 0 <64 hex digits>" \
	test "$(grep -v '^#' "$K" | grep -cE '^(1|2) 0 [0-9a-f]{64}$')" -eq 2
check "... and nothing else but comments" test "$(grep -cv '^#' "$K")" -eq 2
check "the two sites' keys differ" test "$(keys_of "$K" | sort -u | wc -l)" -eq 2
check "stdout says what was written" grep -qF "$K: 2 keys with key id 0, mode 0600" "$WORK/out"
umask 022
sha=$(sha256sum <"$K")

run 1 "a second keygen on the same file is refused" "$CTL" keygen "$K" 1 2
check "... saying so and how to force it" err_has "$K exists; not replacing it (--force"
check "... and the file is unchanged" test "$(sha256sum <"$K")" = "$sha"
check "... and no temporary file is left behind" test "$(ls "$WORK")" = "$(printf 'detour.keys\nerr\nout')"

run 0 "--force replaces it" "$CTL" keygen --force "$K" 1 2
check "... with new keys" test "$(sha256sum <"$K")" != "$sha"
check "... still 0600 and root's" test "$(stat -c '%u %a' "$K")" = "0 600"

run 0 "--key-id 5 FILE 7" "$CTL" keygen --key-id 5 "$WORK/k5" 7
check "... writes key id 5" grep -qE '^7 5 [0-9a-f]{64}$' "$WORK/k5"

mkdir "$WORK/dir"
run 1 "--force over a directory is refused" "$CTL" keygen --force "$WORK/dir" 1
check "... naming it" err_has "$WORK/dir exists and is not a regular file; not replacing it"
run 1 "a file in a directory that does not exist" "$CTL" keygen "$WORK/none/keys" 1
check "... is an error naming the path" err_has "$WORK/none/keys: cannot create a file beside it: No such file or directory"
run 2 "site id 64" "$CTL" keygen "$WORK/x" 64
check "... is a usage error naming it" err_has 'site id "64" is not 0..63'
run 2 "a site id twice" "$CTL" keygen "$WORK/x" 3 3
check "... is a usage error" err_has "site id 3 is given twice"
run 2 "no site id" "$CTL" keygen "$WORK/x"
check "... is a usage error" err_has "needs at least one site id"
run 2 "--key-id 65536" "$CTL" keygen --key-id 65536 "$WORK/x" 1
check "... is a usage error" err_has '--key-id takes 0..65535, not "65536"'
run 2 "an unknown option" "$CTL" keygen --colour "$WORK/x" 1
run 2 "--group of a group that does not exist" "$CTL" keygen --group nosuchgroup "$WORK/x" 1
check "... is a usage error naming it" err_has '--group: no group "nosuchgroup" on this system'
check "nothing was written by any refused request" test ! -e "$WORK/x"

# Run by someone else, the file is theirs: keygen warns, and detourd refuses it.
chmod 711 "$WORK" # uid 65534 must reach its directory
mkdir -m 1777 "$WORK/open"
run 0 "keygen as uid 65534" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$CTL" keygen "$WORK/open/keys" 1 2
check "... warns that detourd accepts only a root-owned file" \
	err_has "warning: $WORK/open/keys belongs to uid 65534"
check "... which belongs to 65534, mode 0600" test "$(stat -c '%u %a' "$WORK/open/keys")" = "65534 600"

# detourd --check on a configuration whose key_file is the new file.
write_conf() { # FILE KEYFILE
	cat >"$1" <<-EOF
		[detour]
		interfaces = dtk0
		heartbeat_listen = 198.18.0.1:7600
		key_file = $2
		[site one]
		id = 1
		delivery = route
		interface = dtk1
		next_hop_mac = 02:00:00:00:01:01
		failover = two
		[site two]
		id = 2
		delivery = route
		interface = dtk2
		next_hop_mac = 02:00:00:00:02:01
		failover = one
	EOF
}
write_conf "$WORK/detour.conf" "$K"
run 0 "detourd --check --other-host accepts the key file" \
	"$DETOURD" --check --other-host -c "$WORK/detour.conf"
check "... valid, 2 sites" grep -qF "valid: 2 sites" "$WORK/out"
"$CTL" keygen "$WORK/k1" 1 >/dev/null
write_conf "$WORK/k1.conf" "$WORK/k1"
run 1 "a key file without site 2 is refused by detourd --check" \
	"$DETOURD" --check --other-host -c "$WORK/k1.conf"
check "... naming the site" err_has 'site "two": no key for site id 2'
write_conf "$WORK/nobody.conf" "$WORK/open/keys"
run 1 "the key file uid 65534 wrote is refused by detourd --check" \
	"$DETOURD" --check --other-host -c "$WORK/nobody.conf"
check "... as not root's" err_has "owned by uid 65534; it must belong to root"

# --group: mode 0640, root:GROUP, what a detourd with `user` needs; its --check takes it, and
# refuses the 0600 file for that user.
umask 000
run 0 "keygen --group nogroup FILE 1 2" "$CTL" keygen --group nogroup "$WORK/kg" 1 2
umask 022
check "... root:nogroup, mode 0640" \
	test "$(stat -c '%u:%G %a' "$WORK/kg")" = "0:nogroup 640"
check "... stdout says so" grep -qF "$WORK/kg: 2 keys with key id 0, mode 0640, group nogroup" \
	"$WORK/out"
write_conf "$WORK/user.conf" "$WORK/kg"
sed -i '/^\[detour\]/a user = nobody' "$WORK/user.conf"
run 0 "detourd --check with user = nobody accepts it" \
	"$DETOURD" --check --other-host -c "$WORK/user.conf"
write_conf "$WORK/user600.conf" "$K"
sed -i '/^\[detour\]/a user = nobody' "$WORK/user600.conf"
run 1 "... and refuses the 0600 file for that user" \
	"$DETOURD" --check --other-host -c "$WORK/user600.conf"
check "... naming the file and the user" err_has "key_file $K: user nobody could not read it"

# The beacon seals with the file's key for its site; a receiver with the same file accepts
# every heartbeat, one with another keygen's keys for the same site accepts none (bad-mac).
PORT=$((20000 + RANDOM % 20000))
"$RECV" "127.0.0.1:$PORT" "$K" 10 20 >"$WORK/recv.log" 2>&1 &
PIDS+=($!)
RECV_PID=$!
"$CTL" keygen "$WORK/other" 1 2 >/dev/null
"$RECV" "127.0.0.2:$PORT" "$WORK/other" 3 >"$WORK/other.log" 2>&1 &
PIDS+=($!)
OTHER_PID=$!
sleep 0.3
"$BEACON" --foreground --no-realtime --site 2 --key-file "$K" --interval 5ms \
	--target "127.0.0.1:$PORT" --target "127.0.0.2:$PORT" >"$WORK/beacon.log" 2>&1 &
PIDS+=($!)
wait "$RECV_PID"
check "the beacon runs on the key file: 20 heartbeats of site 2, key id 0, accepted" \
	test "$(grep -c '^hb site=2 beacon=0 key=0 ' "$WORK/recv.log")" -eq 20
wait "$OTHER_PID"
check "a receiver holding other keys for site 2 accepts none of them" \
	eval '! grep -q "^hb " "$WORK/other.log" && grep -qE "bad-mac=[1-9]" "$WORK/other.log"'

finish
