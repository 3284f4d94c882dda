#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build or remove the Detour test network (scripts/lib/topology.sh has the picture and the
# parameters). `up` leaves everything running and prints where its state lives; `down` removes
# it all. The programs come from the build directory BUILD (default build/).
#
#   scripts/topology.sh up      [env: DT_NS_PREFIX, DT_SITES, DT_MODES, DT_INTERVAL_MS, ...]
#   scripts/topology.sh down
#   scripts/topology.sh status  (detourctl status of the running topology)
set -Eeuo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-$ROOT/build}" 2>/dev/null && pwd) || BUILD=${BUILD:-$ROOT/build}
: "${DETOURD:=$BUILD/control/detourd/detourd}"
: "${DETOURCTL:=$BUILD/control/ctl/detourctl}"
: "${DT_BEACON:=$BUILD/control/beacon/detour-beacon}"
: "${DT_SERVER:=$BUILD/tests/integration/dt-site-server}"
: "${DT_CLIENT:=$BUILD/tests/integration/dt-client}"
: "${DT_XDP_PASS_OBJ:=$BUILD/ebpf/xdp_pass.bpf.o}"
: "${DT_TC_DECAP_OBJ:=$BUILD/ebpf/site_decap.bpf.o}"
export DETOURD DETOURCTL DT_BEACON DT_SERVER DT_CLIENT DT_XDP_PASS_OBJ DT_TC_DECAP_OBJ
# shellcheck source=lib/topology.sh
. "$ROOT/scripts/lib/topology.sh"

# Where `up` records its state directory, so that `down` finds it from another shell.
STATE_FILE=/run/detour-topology-$DT_NS_PREFIX.env

case "${1:-}" in
up)
	[ ! -e "$STATE_FILE" ] || dt_die "a topology $DT_NS_PREFIX is already up ($STATE_FILE): down first"
	dt_trap_cleanup dt_topo_down
	dt_topo_up
	trap - EXIT
	printf 'DT_WORK=%q\nDT_SITES=%q\n' "$DT_WORK" "$DT_SITES" >"$STATE_FILE"
	echo "topology $DT_NS_PREFIX up: state in $DT_WORK"
	echo "  client:  ip netns exec $(dt_ns client) $DT_CLIENT udp --addr $DT_SERVICE_V4 --rate 100 --count 100"
	echo "  control: $DETOURCTL -s $DT_WORK/detourd.sock status"
	;;
down)
	if [ -e "$STATE_FILE" ]; then
		# shellcheck disable=SC1090
		. "$STATE_FILE"
		dt_topo_down
		rm -f "$STATE_FILE"
		echo "topology $DT_NS_PREFIX down"
	else
		echo "topology $DT_NS_PREFIX: nothing is up"
	fi
	;;
status)
	# shellcheck disable=SC1090
	. "$STATE_FILE"
	dt_ctl status
	;;
*)
	echo "usage: $0 up|down|status" >&2
	exit 2
	;;
esac
