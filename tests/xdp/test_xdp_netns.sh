#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck source-path=SCRIPTDIR
# The XDP loader in a network namespace made here: attach (native, generic, libxdp fallback),
# pinning and state across a reload, the clear errors, detach and unpin.
#
#   test_xdp_netns.sh PATH/TO/dt_xdp_helper
#
# Everything happens on veth pairs and a bridge inside one namespace; no packet is sent.
# Maps are pinned in a private bpffs instance mounted under a temp directory, so the host's
# /sys/fs/bpf/detour is never touched. The namespace, the mount and the temp directory are
# removed on exit, whatever happened.
set -u

HELPER=$(readlink -f "${1:?usage: test_xdp_netns.sh PATH/TO/dt_xdp_helper}")
# shellcheck source=../../scripts/lib/netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/netns.sh"
# shellcheck source=../../scripts/lib/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/tap.sh"
NS=dtxdp-$$
TMP=$(mktemp -d /tmp/dt-xdp-test.XXXXXX)
BPFFS=$TMP/bpffs
ROOT=$BPFFS/detour
MAPS="dt_prefix_v4 dt_prefix_v6 dt_site_state dt_site dt_failover dt_flows dt_egress dt_counters"

cleanup() {
	dt_netns_del "$NS"
	umount "$BPFFS" 2>/dev/null
	rm -rf "$TMP"
}
dt_trap_cleanup cleanup INT TERM

# After each `not ok`: what the helper printed.
tap_explain() {
	sed 's/^/#   stdout: /' "$TMP/out"
	sed 's/^/#   stderr: /' "$TMP/err"
}

# run [helper args...]: the helper inside the namespace, with our private pin root.
run() {
	ip netns exec "$NS" "$HELPER" --pin-root "$ROOT" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

expect_ok() { # description, helper args...
	local what=$1
	shift
	run "$@"
	if [ "$rc" -eq 0 ]; then ok "$what"; else not_ok "$what (exit $rc)"; fi
}

expect_fail() { # description, expected stderr text, helper args...
	local what=$1 msg=$2
	shift 2
	run "$@"
	if [ "$rc" -ne 0 ] && grep -qF -- "$msg" "$TMP/err"; then
		ok "$what"
	else
		not_ok "$what (exit $rc, wanted non-zero and \"$msg\")"
	fi
}

link_of() { ip -n "$NS" -d link show dev "$1"; }
# attached IF ID NAME MODE: the kernel reports program ID, named NAME, attached in MODE
# (xdp = native, xdpgeneric = generic).
attached() {
	link_of "$1" | grep -q "prog/xdp id $2 name $3 " && link_of "$1" | head -1 | grep -q " $4 "
}
no_xdp() { ! link_of "$1" | grep -q "prog/xdp"; }
out_has() { grep -qF -- "$1" "$TMP/out"; }
err_has() { grep -qF -- "$1" "$TMP/err"; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$TMP/out"; }
all_pinned() {
	local m
	for m in $MAPS; do [ -e "$ROOT/$m" ] || return 1; done
}

# v0-v1 carry addresses; v2-v3 and the bridge only take programs.
setup() {
	dt_bpffs_mount "$BPFFS" || return 1
	dt_netns_add "$NS" || return 1
	dt_veth "$NS" v0 198.18.0.1 "$NS" v1 198.18.0.2 || return 1
	ip -n "$NS" link add v2 type veth peer name v3 || return 1
	ip -n "$NS" link add br0 type bridge || return 1
	ip -n "$NS" addr add 2001:db8::1/64 dev v0 nodad
	ip -n "$NS" addr add 2001:db8::2/64 dev v1 nodad
	local l
	for l in v2 v3 br0; do ip -n "$NS" link set "$l" up || return 1; done
}

if ! setup; then
	echo "Bail out! namespace setup failed"
	exit 1
fi

# -- attach native: libxdp's dispatcher needs freplace, this kernel refuses it, direct attach --
expect_ok "attach native on v0" attach v0
check "attach reports the direct path after a fallback" out_has "path=direct fell_back=1"
check "the fallback is logged" err_has "interface v0: libxdp dispatcher unavailable"
check "the fallback names the direct path" err_has "falling back to direct attach"
id1=$(field prog_id)
check "v0 runs detour_xdp (id $id1) in native mode" attached v0 "$id1" detour_xdp xdp
check "every map is pinned under the pin root" all_pinned
# v0's peer v1 offloads TX checksums (veth's default): every frame rerouted from it would leave
# with an unfinished checksum. The attach warns, naming the fix.
check "the attach warns that v0's veth peer v1 offloads TX checksums, with the fix" \
	eval 'err_has "interface v0: its veth peer v1 offloads TX checksums" &&
		err_has "ethtool -K v1 tx off"'
expect_ok "query v0" query v0
check "query sees detour_xdp, ours" out_has "prog_id=$id1 name=detour_xdp mode=native ours=1"

# -- state survives a reload: write, load a new program, swap it in, read back ---------------
expect_ok "set site 3 DOWN through the pins" set-state 3 3
ip netns exec "$NS" ethtool -K v1 tx off >/dev/null
expect_ok "attach v0 again (reload)" attach v0
check "with v1's TX checksum offload off, no warning" eval '! err_has "offloads TX checksums"'
check "the reload replaced the program atomically" out_has "replaced=1"
id2=$(field prog_id)
check "the reload loaded a new program ($id1 -> $id2)" test "$id1" != "$id2"
check "v0 runs the new program" attached v0 "$id2" detour_xdp xdp
expect_ok "read site 3 after the reload" get-state 3
check "site 3 is still DOWN after the reload" out_has "site 3 state=3"

# -- libxdp only: must fail, and leave nothing behind -----------------------------------------
expect_fail "libxdp-only attach fails clearly" \
	"interface v1: libxdp dispatcher unavailable: the kernel refused an freplace program" \
	attach v1 --libxdp
check "libxdp-only left v1 without XDP" no_xdp v1

# -- generic mode -----------------------------------------------------------------------------
expect_ok "attach generic on v1" attach v1 --generic
id3=$(field prog_id)
check "v1 runs detour_xdp (id $id3) in generic mode" attached v1 "$id3" detour_xdp xdpgeneric

# -- the clear errors -------------------------------------------------------------------------
expect_fail "missing interface" "interface eth9: no such interface" attach eth9
expect_ok "attach a foreign xdp_pass to v2" foreign v2
fid=$(ip -n "$NS" -d link show dev v2 | sed -n 's/.*prog\/xdp id \([0-9]*\) .*/\1/p')
expect_fail "foreign program refused, named with its id" \
	"interface v2: another XDP program is attached: xdp_pass (id $fid, native mode)" attach v2
check "the foreign program is still attached" attached v2 "$fid" xdp_pass xdp
expect_fail "detach leaves a foreign program alone" \
	"xdp_pass (id $fid) is attached, not detour_xdp" \
	detach v2
check "the foreign program survived the detach attempt" attached v2 "$fid" xdp_pass xdp
expect_fail "native XDP unsupported on a bridge" \
	"interface br0: XDP is not supported in native mode on this device (try generic mode)" \
	attach br0 --direct
# ip netns exec mounts a fresh sysfs on /sys: /sys/fs/bpf there is not bpffs, and mounting one
# there lasts only as long as that one command, so the hint says to mount one outside /sys.
if ip netns exec "$NS" "$HELPER" attach v3 >"$TMP/out" 2>"$TMP/err"; then rc=0; else rc=$?; fi
if [ "$rc" -ne 0 ] &&
	err_has "bpffs is not mounted at /sys/fs/bpf: this process is in network namespace $NS, and \`ip netns exec\` mounts a fresh /sys" &&
	err_has "mount -t bpf bpf /run/detour/bpffs" && ! err_has "(mount -t bpf bpf /sys/fs/bpf)"; then
	ok "bpffs not mounted: the hint fits ip netns exec"
else
	not_ok "bpffs not mounted: the hint fits ip netns exec (exit $rc)"
fi
check "nothing attached to v3 without bpffs" no_xdp v3
expect_fail "a pinned flow table of another size is named, with the fix" \
	"map dt_flows: pinned at $ROOT/dt_flows has max_entries 65536 but this configuration wants 1024" \
	attach v3 --flow-table 1024
check "the size mismatch says how to get out" err_has "detach --unpin"

# -- detach, unpin ------------------------------------------------------------------------------
expect_ok "detach v1 (generic), keep pins" detach v1
check "v1 has no XDP after detach" no_xdp v1
check "pins survive a detach without --unpin" all_pinned
expect_ok "detach v0 with --unpin" detach v0 --unpin
check "v0 has no XDP after detach" no_xdp v0
check "the pin root is gone after --unpin" test ! -e "$ROOT"
expect_fail "detach with nothing attached" "interface v0: no XDP program attached" detach v0
expect_fail "adopt with nothing pinned" "not pinned at $ROOT/dt_prefix_v4: nothing to adopt" \
	get-state 3

echo "1..$((passed + failed))"
echo "# passed $passed, failed $failed"
[ "$failed" -eq 0 ]
