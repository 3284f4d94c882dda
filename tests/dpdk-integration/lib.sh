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
# detourd's DPDK start-up (EAL arguments, memory, dt_start_detourd) is in dpdk_detourd.sh, which
# bench/bench-e2e.sh sources too.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
DT_NS_PREFIX=dtp$$
# What the test's own clock may add on top of the detector in DPDK mode: the main lcore shares
# a core with the beacons, clients and servers, and one core is a worker that never sleeps.
: "${DT_DPDK_MARGIN_MS:=$DT_MARGIN_MS}"
# shellcheck source=dpdk_detourd.sh
. "$(dirname "${BASH_SOURCE[0]}")/dpdk_detourd.sh"

dataplane_test_start() {
	echo "# EAL memory: $(dpdk_memory_args)"
	test_start
	check "detourctl status says dpdk" \
		eq "$(dt_ctl --json status | jget /dev/stdin 'j["dataplane"]["mode"]')" dpdk
}
