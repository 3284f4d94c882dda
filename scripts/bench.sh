#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build Detour (release) and run its benchmarks: a table of every figure beside its peer or limit
# and its target, and bench.json at the repository root (keys: docs/benchmarks.md). Benchmarks are
# never part of the test suite; a missed target does not fail this script, a broken run does.
#
#   scripts/bench.sh [--quick] [NAME...]
#   NAME: xdp dpdk heartbeat lateness apply memory reload failover failover-dpdk
#         failover-redundant failover-tcp falsedown falsedown-redundant forward flood
#         (default: all, in that order). Named ones replace their figures in an existing
#         bench.json, the others' are kept. failover-dpdk: the failover benchmark with detourd
#         --dataplane dpdk (its worker spins on CPU 1; EAL memory --no-huge). flood: TCP
#         connections across a drain under a flood of made-up handshakes
#         (tests/integration/test-flood-drain.sh). failover-tcp: curl clients to nginx across
#         power cuts, the service prefixes flagged tcp_reset and not (issue 16).
#   --quick: fewer samples and shorter runs (about 6 minutes instead of about 25, after the
#            build; failover, failover-dpdk and falsedown take most of it)
# Needs root: BPF_PROG_TEST_RUN, pinned maps, network namespaces (only ones it makes itself).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-$ROOT/build-bench}
ALL=(xdp dpdk heartbeat lateness apply memory reload failover failover-dpdk failover-redundant
	failover-tcp falsedown falsedown-redundant forward flood)
QUICK=
NAMES=()

for arg in "$@"; do
	case $arg in
	--quick) QUICK=--quick ;;
	-h | --help)
		sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		[[ " ${ALL[*]} " == *" $arg "* ]] || { echo "bench.sh: unknown benchmark '$arg' (${ALL[*]})" >&2; exit 2; }
		NAMES+=("$arg")
		;;
	esac
done
KEEP=--keep
[ ${#NAMES[@]} -gt 0 ] || { NAMES=("${ALL[@]}"); KEEP=; }
[ "$(id -u)" = 0 ] || { echo "bench.sh: needs root (BPF and network namespaces)" >&2; exit 1; }

echo "== build ($BUILD, release)"
if [ -f "$BUILD/build.ninja" ]; then
	meson configure "$BUILD" --buildtype=release >/dev/null
else
	meson setup "$BUILD" --buildtype=release >/dev/null
fi
ninja -C "$BUILD" >/dev/null

OUT=$(mktemp -d /tmp/dt-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
RESULTS=$OUT/results.jsonl

# run NAME COMMAND...: show its output, keep its JSON lines (its figures) for the report.
run() {
	local name=$1 start=$SECONDS
	shift
	echo "== $name: $*"
	if ! "$@" >"$OUT/$name.log" 2>&1; then
		sed 's/^/   /' "$OUT/$name.log"
		echo "bench.sh: $name failed" >&2
		return 1
	fi
	sed 's/^/   /' "$OUT/$name.log"
	grep '^{' "$OUT/$name.log" >>"$RESULTS"
	echo "   ($((SECONDS - start)) s)"
}

daemon_env() {
	export DETOURD=$BUILD/control/detourd/detourd DETOURCTL=$BUILD/control/ctl/detourctl \
		DETOUR_BEACON=$BUILD/control/beacon/detour-beacon \
		DT_XDP_HELPER=$BUILD/tests/xdp/dt_xdp_helper HB_FORGE=$BUILD/tests/daemon/hb-forge \
		XDP_PASS_OBJ=$BUILD/ebpf/xdp_pass.bpf.o
}

bench_xdp() { run xdp "$BUILD/bench/bench-xdp" $QUICK; }
bench_dpdk() { run dpdk "$BUILD/bench/bench-dpdk" "${QUICK:+2}${QUICK:-10}"; }
bench_heartbeat() { run heartbeat "$BUILD/bench/bench-heartbeat"; }
bench_apply() { run apply "$BUILD/bench/bench-apply" $QUICK; }

# 1 ms deadlines: idle, with every CPU spinning, and with SCHED_FIFO as well (as detourd runs).
bench_lateness() {
	local n=${QUICK:+1000}
	n=${n:-5000}
	run lateness-idle "$BUILD/bench/bench-lateness" -n "$n" &&
		run lateness-load "$BUILD/bench/bench-lateness" -n "$n" --load &&
		run lateness-fifo "$BUILD/bench/bench-lateness" -n "$n" --load --fifo
}

bench_memory() {
	daemon_env
	run memory-maps "$BUILD/bench/bench-apply" --memory &&
		run memory-detourd bash "$ROOT/bench/bench-daemon.sh" memory
}

bench_reload() {
	daemon_env
	run reload bash "$ROOT/bench/bench-daemon.sh" $QUICK reload
}

# End to end, in the topology of scripts/lib/topology.sh (bench/bench-e2e.sh, bird2, NUT).
e2e_env() {
	export DETOURD=$BUILD/control/detourd/detourd DETOURCTL=$BUILD/control/ctl/detourctl \
		DT_BEACON=$BUILD/control/beacon/detour-beacon \
		DT_SERVER=$BUILD/tests/integration/dt-site-server \
		DT_CLIENT=$BUILD/tests/integration/dt-client DT_XDP_PASS_OBJ=$BUILD/ebpf/xdp_pass.bpf.o \
		DT_TC_DECAP_OBJ=$BUILD/ebpf/site_decap.bpf.o DT_XDP_SINK_OBJ=$BUILD/ebpf/xdp_sink.bpf.o \
		XDP_LIVEGEN=$BUILD/bench/xdp-livegen XDP_LIVEGEN_OBJ=$BUILD/ebpf/xdp_livegen.bpf.o
}
bench_failover() { e2e_env && run failover bash "$ROOT/bench/bench-e2e.sh" $QUICK failover; }
bench_failover_dpdk() {
	e2e_env && run failover-dpdk bash "$ROOT/bench/bench-e2e.sh" $QUICK failover-dpdk
}
bench_failover_redundant() {
	e2e_env && run failover-redundant bash "$ROOT/bench/bench-e2e.sh" $QUICK failover-redundant
}
bench_failover_tcp() {
	e2e_env && run failover-tcp bash "$ROOT/bench/bench-e2e.sh" $QUICK failover-tcp
}
bench_falsedown() { e2e_env && run falsedown bash "$ROOT/bench/bench-e2e.sh" $QUICK falsedown; }
bench_falsedown_redundant() {
	e2e_env && run falsedown-redundant bash "$ROOT/bench/bench-e2e.sh" $QUICK falsedown-redundant
}
bench_forward() { e2e_env && run forward bash "$ROOT/bench/bench-e2e.sh" $QUICK forward; }
# The figures are the test's; a connection it lost is a missed target, not a broken run.
bench_flood() {
	e2e_env && export DT_FLOOD=$BUILD/tests/integration/dt-flood DT_FLOOD_JSON=1 &&
		run flood bash -c '"$1"; exit 0' flood "$ROOT/tests/integration/test-flood-drain.sh"
}

: >"$RESULTS"
failed=()
for name in "${NAMES[@]}"; do
	"bench_${name//-/_}" || failed+=("$name")
done

# SCHED_FIFO lateness reports under the _loaded keys as well: give it keys of its own.
if grep -q '"timer_lateness_p50_us_loaded"' "$RESULTS"; then
	python3 - "$RESULTS" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
seen = 0
for d in lines:
    if "timer_lateness_p50_us_loaded" in d:
        seen += 1
        if seen == 2:
            for k in list(d):
                d[k + "_fifo"] = d.pop(k)
open(sys.argv[1], "w").write("".join(json.dumps(d) + "\n" for d in lines))
EOF
fi

echo
echo "== results"
python3 "$ROOT/bench/report.py" "$RESULTS" "$ROOT/bench.json" $QUICK $KEEP \
	"--names=$(IFS=,; echo "${NAMES[*]}")"
echo "wrote $ROOT/bench.json"
if [ ${#failed[@]} -gt 0 ]; then
	echo "bench.sh: failed: ${failed[*]}" >&2
	exit 1
fi
