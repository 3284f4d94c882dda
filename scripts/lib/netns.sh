# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Network namespaces and the processes in them, as functions to source: what every Detour test
# network is built from (scripts/lib/topology.sh, scripts/lib/two_sites.sh). Nothing here knows
# about Detour; the callers choose every name and address (198.18.0.0/15 and 2001:db8::/32 only).
#
#   dt_netns_add NS...               namespaces with lo up
#   dt_netns_del NS...               remove them (missing ones are no error)
#   dt_veth NS1 IF1 A1 NS2 IF2 A2    a veth pair between two namespaces, an address (a /24 unless
#                                    it says A/LEN) and up on each end
#   dt_mac_of NS IF                  the MAC of an interface
#   dt_bpffs_mount DIR               a private bpffs, for pins that outlive one `ip netns exec`
#   dt_bg NS OUT ERR CMD...          CMD in NS in the background, its pid in DT_BG_PID
#   dt_stop_pid PID [SIGNAL]         signal a process and wait (bounded) for its end
#   dt_trap_cleanup FUNC [SIGNAL...] FUNC on exit; each SIGNAL made an exit, so FUNC runs then too
#   dt_wait_until MS CMD...          poll CMD every 20 ms until it succeeds or MS have passed

[ -z "${DT_NETNS_SH:-}" ] || return 0
DT_NETNS_SH=1

dt_log() { echo "[$(date +%T.%3N)] $*" >&2; }
dt_die() {
	dt_log "FAIL: $*"
	exit 1
}
dt_now_ms() { echo $(($(date +%s%N) / 1000000)); }
dt_mono_ns() { python3 -c 'import time; print(time.monotonic_ns())'; } # CLOCK_MONOTONIC, as detourd

dt_wait_until() {
	local deadline=$(($(dt_now_ms) + $1))
	shift
	while [ "$(dt_now_ms)" -lt "$deadline" ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}

dt_netns_add() {
	local ns
	for ns; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
	done
}

dt_netns_del() {
	local ns
	for ns; do ip netns del "$ns" 2>/dev/null; done
	return 0
}

dt_prefixed() { case $1 in */*) echo "$1" ;; *) echo "$1/24" ;; esac; } # ADDR[/LEN]

dt_veth() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || return 1
	ip -n "$1" addr add "$(dt_prefixed "$3")" dev "$2" &&
		ip -n "$4" addr add "$(dt_prefixed "$6")" dev "$5" &&
		ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up
}

dt_mac_of() { ip -n "$1" -br link show dev "$2" | awk '{ print $3 }'; }

# Each `ip netns exec` remounts /sys, so a bpffs mounted on /sys/fs/bpf inside one namespace
# would be gone for the next command: the pins live in a bpffs of their own under the test's
# directory instead, and the host's /sys/fs/bpf is never touched.
dt_bpffs_mount() { mkdir -p "$1" && mount -t bpf bpf "$1"; }

# OUT and ERR are appended to (they may be one file): a restarted process keeps the log of the
# one before it.
dt_bg() {
	local ns=$1 out=$2 err=$3
	shift 3
	ip netns exec "$ns" "$@" >>"$out" 2>>"$err" &
	# shellcheck disable=SC2034 # read by the caller
	DT_BG_PID=$!
}

dt_stop_pid() {
	local pid=$1 deadline
	kill "-${2:-TERM}" "$pid" 2>/dev/null || return 0
	deadline=$(($(dt_now_ms) + 3000))
	while kill -0 "$pid" 2>/dev/null && [ "$(dt_now_ms)" -lt "$deadline" ]; do sleep 0.02; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

dt_trap_cleanup() {
	local func=$1 sig
	shift
	# shellcheck disable=SC2064 # the function name is fixed now
	trap "$func" EXIT
	for sig; do trap 'exit 130' "$sig"; done
}
