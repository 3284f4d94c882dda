# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# detourd in DPDK mode in the topology of scripts/lib/topology.sh: sourced after it, this
# redefines dt_start_detourd to run `detourd --dataplane dpdk ... -- EAL_ARGS`, owning the edge's
# veths through net_af_xdp ports and with a net_tap exception port. Used by
# scripts/lib/topology_test.sh (the tests with DT_DATAPLANE=dpdk: suite dpdk-integration) and by
# bench/e2e_lib.sh (failover-dpdk).
#
# Memory: nothing is left behind by a SIGKILL: with 256 free 2 MiB hugepages the EAL runs
# --in-memory -m 512 from them; otherwise --no-huge --no-shconf -m 512, said in the output.
# DT_DPDK_HUGE=0 forces --no-huge.

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
# DT_DPDK_LCORES: the EAL's lcore option (default "-l 0,1": the main lcore on CPU 0, the one
# worker on CPU 1).
dpdk_eal_args() {
	local i=1 site
	echo "${DT_DPDK_LCORES:--l 0,1} --no-pci --log-level=lib.eal:error $(dpdk_memory_args)"
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
	dt_wait_until 30000 test -S "$DT_WORK/detourd.sock" ||
		dt_die "detourd (dpdk) did not open its control socket: $(tail -5 "$DT_WORK/logs/detourd.log")"
	dt_wait_until 5000 dt_ctl status >/dev/null || dt_die "detourd does not answer"
}
