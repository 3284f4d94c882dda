#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# bench-e2e: Detour measured end to end in the test network of scripts/lib/topology.sh (client,
# edge with detourd + XDP, sites pangyo ansan sihung with NUT and beacons), one fresh topology
# per measurement, torn down on exit whatever happened. Namespaces dtb<pid>-*, addresses only
# from 198.18.0.0/15 and 2001:db8::/32, every loop bounded in count and time.
#
#   failover  power cuts of pangyo at 1 ms x 3 and 10 ms x 3 (30 each, --quick: 5): Detour's
#             detection, apply and first answer from the new site (event log + client log),
#             and BIRD 2's BFD over the edge-pangyo link at the same interval x multiplier,
#             timed on the same cuts (BIRD's log, converted to CLOCK_MONOTONIC);
#   failover-dpdk the same with detourd --dataplane dpdk (af_xdp ports on the edge's veths),
#             BFD over the edge-pangyo management link (the DPDK engine owns the data link);
#   falsedown 1 ms heartbeats from three beacons for 10 minutes (--quick: 1) with both CPUs
#             spun by busy loops: DOWN events in the event log, and the largest heartbeat gap
#             seen at the edge (what a fixed multiplier would have to cover); then again with
#             the adaptive detector (phi_threshold 8); falsedown-phi: only that run;
#   failover-redundant the 1 ms cuts with two beacons per site over two paths, every beacon of
#             pangyo killed at the cut (failover_redundant_1ms_*);
#   falsedown-redundant the 1 ms x 3 falsedown run with two beacons per site on different CPUs
#             and two paths (falsedown_redundant_x3_*);
#   failover-tcp four curl clients (a connection per request and kept alive, IPv4 and IPv6) to
#             nginx at every site across power cuts of pangyo at 5 ms x 3 (30, --quick: 5), with
#             the service prefixes flagged tcp_reset and without: the longest gap between two
#             successful responses of any client (failover_tcp_gap_ms_*, _off_ms_*);
#   forward   packets per second through the edge, bench/xdp-livegen on the client's veth: Detour
#             rerouting in route mode against the kernel forwarding the same frames to the same
#             site, counted at the site's veth.
#
#   bench-e2e.sh [--quick] failover|failover-dpdk|failover-redundant|failover-tcp|falsedown|
#                          falsedown-redundant|falsedown-phi|forward...
#                                                            last line: one JSON object of figures
# Programs come from the environment (scripts/bench.sh sets them, as for scripts/topology.sh).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench_args.sh
. "$HERE/bench_args.sh"
bench_args "failover falsedown forward" "$@" # QUICK is read by e2e_lib.sh
: "${DT_XDP_SINK_OBJ:?set to the built ebpf/xdp_sink.bpf.o}"
: "${XDP_LIVEGEN:?set to the built bench/xdp-livegen}" "${XDP_LIVEGEN_OBJ:?set to the built ebpf/xdp_livegen.bpf.o}"
# shellcheck disable=SC2034 # read by topology.sh
DT_NS_PREFIX=dtb$$
# shellcheck source=../scripts/lib/topology.sh
. "$HERE/../scripts/lib/topology.sh"
# shellcheck source=e2e_lib.sh
. "$HERE/e2e_lib.sh"

dt_trap_cleanup e2e_cleanup INT TERM HUP PIPE
[ "$(id -u)" = 0 ] || dt_die "bench-e2e needs root (network namespaces, XDP)"
FIGURES=$(mktemp /tmp/dt-bench-e2e.XXXXXX)

for w in "${WHAT[@]}"; do
	case $w in
	failover) bench_failover ;;
	failover-dpdk) bench_failover_dpdk ;;
	failover-redundant) bench_failover_redundant ;;
	failover-tcp) bench_failover_tcp ;;
	falsedown) bench_falsedown ;;
	falsedown-redundant) bench_falsedown_redundant ;;
	falsedown-phi) bench_falsedown_phi ;; # only the adaptive detector's run of falsedown
	forward) bench_forward ;;
	*) dt_die "unknown benchmark $w (failover failover-dpdk failover-redundant failover-tcp falsedown falsedown-redundant falsedown-phi forward)" ;;
	esac
done
python3 "$HERE/e2e_report.py" merge "$FIGURES"
