# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# The integration tests' harness (tests/integration/lib.sh, scripts/lib/topology.sh) with the
# edge router in DPDK mode: the same topology and the same generated configuration, but detourd
# runs as `detourd --dataplane dpdk ... -- EAL_ARGS` and owns the edge's veths through DPDK's
# net_af_xdp driver (the kernel does not see those frames); a net_tap port is its exception path.
# Only functions are added or redefined here; the files it sources are used as they are.
#
#   client ──cl0|edge0 [af_xdp]── detourd (DPDK workers) ──[af_xdp] e-<site>|s0── site
#                                    └─ net_tap dtap0 ─▶ the edge's kernel (ARP/ND, the router itself)
#
# Memory: nothing is left behind by a SIGKILL: with 256 free 2 MiB hugepages the EAL runs
# --in-memory -m 512 from them; otherwise --no-huge --no-shconf -m 512, said in the output.
# DT_DPDK_HUGE=0 forces --no-huge.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
DT_NS_PREFIX=dtp$$
# What the test's own clock may add on top of the detector in DPDK mode: the main lcore shares
# a core with the beacons, clients and servers, and one core is a worker that never sleeps.
: "${DT_DPDK_MARGIN_MS:=$DT_MARGIN_MS}"

dpdk_memory_args() {
	local free
	free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	if [ "${DT_DPDK_HUGE:-1}" = 1 ] && [ "${free:-0}" -ge 256 ]; then
		echo "--in-memory -m 512"
	else
		echo "--no-huge --no-shconf -m 512"
	fi
}

# One af_xdp port per veth the engine owns: the client port first, then each site's port.
dpdk_eal_args() {
	local i=1 site
	echo "-l 0,1 --no-pci --log-level=lib.eal:error $(dpdk_memory_args)"
	echo "--vdev net_af_xdp0,iface=edge0,start_queue=0,queue_count=1"
	for site in $DT_SITES; do
		echo "--vdev net_af_xdp$i,iface=e-$site,start_queue=0,queue_count=1"
		i=$((i + 1))
	done
	echo "--vdev net_tap0,iface=dtap0"
}

# The sites' replies cross an af_xdp port and then the TAP: a checksum left for the NIC
# (CHECKSUM_PARTIAL) would reach the kernel unfilled and be dropped there. The client's side is
# done by dt_link_client already.
dpdk_sites_full_checksums() {
	local site
	for site in $DT_SITES; do
		dt_in "$site" ethtool -K s0 tx off >/dev/null
	done
}

# Redefined: detourd in DPDK mode. The topology calls this once the network is up.
dt_start_detourd() {
	dpdk_sites_full_checksums
	rm -f "$DT_WORK/detourd.sock" # a killed daemon leaves its socket behind
	# shellcheck disable=SC2046
	dt_spawn detourd edge "$DETOURD" --dataplane dpdk -c "$DT_WORK/detour.conf" \
		--log-level info -- $(dpdk_eal_args)
	dt_wait_until 20000 test -S "$DT_WORK/detourd.sock" ||
		dt_die "detourd (dpdk) did not open its control socket: $(tail -5 "$DT_WORK/logs/detourd.log")"
	dt_wait_until 5000 dt_ctl status >/dev/null || dt_die "detourd does not answer"
}

dpdk_test_start() {
	echo "# EAL memory: $(dpdk_memory_args)"
	test_start
	check "detourctl status says dpdk" \
		eq "$(dt_ctl --json status | jget /dev/stdin 'j["dataplane"]["mode"]')" dpdk
}

# dpdk_counter REASON: packets the DPDK workers counted under REASON, every site summed.
dpdk_counter() {
	dt_ctl --json stats |
		jget /dev/stdin "sum(c['packets'] for c in j['counters'] if c['reason'] == '$1')"
}
