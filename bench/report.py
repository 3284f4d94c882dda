#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Merge the JSON figure lines of the benchmark programs, print the table, write bench.json.

    report.py RESULTS.jsonl OUT.json [--quick] [--keep] [--names a,b,c]

--keep: figures of OUT.json that this run did not measure stay (scripts/bench.sh NAME... runs
only some benchmarks); the run's date and list then describe the benchmarks run last.

Each line of RESULTS.jsonl is the last line of one benchmark program: a flat JSON object of
figures. The checks below hold every target of issue 8; docs/benchmarks.md documents each key.
"""
import json
import platform
import sys
import time

# (figure, peer figure or None, limit, comparison, what the peer is)
CHECKS = [
    ("xdp_v4_not_ours_ns", "xdp_empty_ns", 20, "<=", "empty prog"),
    ("xdp_v6_not_ours_ns", "xdp_empty_ns", 20, "<=", "empty prog"),
    ("xdp_v4_home_up_ns", "xdp_empty_ns", 35, "<=", "empty prog"),
    ("xdp_v6_home_up_ns", "xdp_empty_ns", 35, "<=", "empty prog"),
    ("xdp_v4_home_up_tcp_track_ns", "xdp_v4_home_up_ns", 35, "<=", "flag off"),
    ("xdp_v6_home_up_tcp_track_ns", "xdp_v6_home_up_ns", 35, "<=", "flag off"),
    ("xdp_v4_home_up_tcp_track_write_ns", "xdp_v4_home_up_ns", None, None, "flag off"),
    ("xdp_v6_home_up_tcp_track_write_ns", "xdp_v6_home_up_ns", None, None, "flag off"),
    ("xdp_v4_route_ns", "xdp_empty_ns", 50, "<=", "empty prog"),
    ("xdp_v6_route_ns", "xdp_empty_ns", 50, "<=", "empty prog"),
    ("xdp_v4_ipip_ns", "xdp_empty_ns", 70, "<=", "empty prog"),
    ("xdp_v6_ipip_ns", "xdp_empty_ns", 70, "<=", "empty prog"),
    ("xdp_v6_minus_v4_max_ns", None, 10, "<=", None),
    ("xdp_empty_ns", "xdp_test_run_syscall_ns", None, None, "syscall"),
    ("xdp_verified_insns", None, 1000000, "<=", None),
    ("xdp_jited_bytes", None, None, None, None),
    ("xdp_probe_ktime_ns", None, None, None, None),
    ("xdp_probe_ktime_coarse_ns", "xdp_probe_ktime_ns", None, None, "ktime"),
    ("xdp_probe_flow_lookup_ns", None, None, None, None),
    ("xdp_probe_lpm_lookup_ns", None, None, None, None),
    ("xdp_probe_redirect_ns", None, None, None, None),
    ("xdp_probe_counter_ns", None, None, None, None),
    ("dpdk_ratio", None, 0.7, ">=", None),
    ("dpdk_worker_mpps", "testpmd_io_mpps", None, None, "testpmd io"),
    ("hb_seal_ns", None, None, None, None),
    ("hb_verify_ns", None, None, None, None),
    ("timer_lateness_p99_us", None, None, None, None),
    ("timer_lateness_p99_us_loaded", "timer_lateness_p99_us", None, None, "idle p99"),
    ("timer_lateness_p99_us_loaded_fifo", "timer_lateness_p99_us", None, None, "idle p99"),
    ("apply_1k_median_us", None, 100, "<=", None),
    ("apply_1k_p99_us", None, 100, "<=", None),
    ("apply_1m_median_us", "apply_1k_median_us", 100, "<=", "1k flows"),
    ("apply_1m_p99_us", "apply_1k_p99_us", 100, "<=", "1k flows"),
    ("apply_1m_over_1k", None, 1.5, "<=", None),
    ("map_memlock_bytes", None, None, None, None),
    ("map_memlock_full_prefixes_bytes", None, None, None, None),
    ("detourd_peak_rss_kb", None, None, None, None),
    ("detourd_peak_rss_nolock_kb", None, None, None, None),
    ("reload_10k_apply_ms", None, None, None, None),
    ("reload_10k_unchanged_ms", None, None, None, None),
    ("reload_udp_lost", "reload_udp_sent", 0, "<=", "sent"),
    ("flood_drain_conns_survived", "flood_drain_conns", None, None, "conns"),
    ("flood_drain_conns_lost", "flood_drain_conns", 0, "<=", "conns"),
    ("flood_drain_kpps", None, None, None, None),
    ("failover_1ms_total_median_ms", None, 5, "<=", None),
    ("failover_1ms_total_p99_ms", None, 10, "<=", None),
    ("failover_redundant_1ms_total_median_ms", None, 5, "<=", None),
    ("failover_redundant_1ms_total_p99_ms", None, 10, "<=", None),
    ("failover_tcp_gap_ms_median", "failover_tcp_gap_off_ms_median", 30, "<=", "off"),
    ("failover_tcp_gap_ms_p99", "failover_tcp_gap_off_ms_p99", 30, "<=", "off"),
    ("failover_1ms_detect_median_ms", None, None, None, None),
    ("failover_1ms_apply_median_us", None, None, None, None),
    ("failover_1ms_detect_from_cut_median_ms", "bfd_1ms_detect_from_cut_median_ms", None, None,
     "BIRD BFD"),
    ("failover_1ms_false_down", "bfd_1ms_false_down", None, None, "BIRD BFD"),
    ("failover_10ms_total_median_ms", None, None, None, None),
    ("failover_10ms_total_p99_ms", None, 40, "<=", None),
    ("failover_10ms_detect_median_ms", None, None, None, None),
    ("failover_10ms_apply_median_us", None, None, None, None),
    ("failover_10ms_detect_from_cut_median_ms", "bfd_10ms_detect_from_cut_median_ms", None, None,
     "BIRD BFD"),
    ("failover_10ms_false_down", "bfd_10ms_false_down", None, None, "BIRD BFD"),
    ("failover_dpdk_1ms_total_median_ms", None, 5, "<=", None),
    ("failover_dpdk_1ms_total_p99_ms", None, 10, "<=", None),
    ("failover_dpdk_1ms_detect_median_ms", None, None, None, None),
    ("failover_dpdk_1ms_apply_median_us", None, None, None, None),
    ("failover_dpdk_1ms_detect_from_cut_median_ms", "bfd_dpdk_1ms_detect_from_cut_median_ms", None,
     None, "BIRD BFD"),
    ("failover_dpdk_1ms_false_down", "bfd_dpdk_1ms_false_down", None, None, "BIRD BFD"),
    ("failover_dpdk_10ms_total_median_ms", None, None, None, None),
    ("failover_dpdk_10ms_total_p99_ms", None, 40, "<=", None),
    ("failover_dpdk_10ms_detect_median_ms", None, None, None, None),
    ("failover_dpdk_10ms_apply_median_us", None, None, None, None),
    ("failover_dpdk_10ms_detect_from_cut_median_ms", "bfd_dpdk_10ms_detect_from_cut_median_ms",
     None, None, "BIRD BFD"),
    ("failover_dpdk_10ms_false_down", "bfd_dpdk_10ms_false_down", None, None, "BIRD BFD"),
    ("falsedown_x3_down_events", None, 0, "<=", None),
    ("falsedown_redundant_x3_down_events", None, 0, "<=", None),
    ("falsedown_redundant_x3_gap_max_ms", None, None, None, None),
    ("falsedown_x3_gap_max_ms", None, None, None, None),
    ("falsedown_multiplier_needed", None, None, None, None),
    ("falsedown_phi8_x3_down_events", None, 0, "<=", None),
    ("falsedown_x3_replay_guard_false_downs", None, 0, "<=", None),
    ("falsedown_x3_replay_phi_false_downs", None, 0, "<=", None),
    ("fwd_detour_kpps", "fwd_kernel_kpps", None, None, "kernel"),
    ("fwd_ratio", None, 2, ">=", None),
    ("fwd_ratio_forwarded", None, 2, ">=", None),
]


def derive(fig):
    """Figures computed from others: the largest IPv6-over-IPv4 excess of any XDP path, and the
    connections a flood during a drain broke."""
    diffs = [fig["xdp_v6_%s_ns" % k] - fig["xdp_v4_%s_ns" % k]
             for k in ("not_ours", "home_up", "route", "ipip")
             if "xdp_v6_%s_ns" % k in fig and "xdp_v4_%s_ns" % k in fig]
    if diffs:
        fig["xdp_v6_minus_v4_max_ns"] = max(diffs)
    if "flood_drain_conns" in fig and "flood_drain_conns_survived" in fig:
        fig["flood_drain_conns_lost"] = fig["flood_drain_conns"] - fig["flood_drain_conns_survived"]


def check_row(fig, name, peer, limit, op, peer_what):
    value = fig[name]
    row = {"figure": name, "value": value, "peer": None, "ratio": None,
           "target": None, "met": None}
    if peer and fig.get(peer) not in (None, 0):
        row["peer"] = "%s %s" % (peer_what, fmt(fig[peer]))
        row["ratio"] = round(value / fig[peer], 3)
    if limit is not None:
        row["target"] = "%s %s" % (op, fmt(limit))
        row["met"] = value <= limit if op == "<=" else value >= limit
    return row


def fmt(v):
    if isinstance(v, float):
        return "%.3g" % v if abs(v) < 10 else "%.1f" % v
    return str(v)


def print_table(rows):
    head = ("figure", "value", "peer/limit", "ratio", "target", "met?")
    cells = [head] + [(r["figure"], fmt(r["value"]), r["peer"] or "-",
                       fmt(r["ratio"]) if r["ratio"] is not None else "-",
                       r["target"] or "-",
                       "-" if r["met"] is None else ("yes" if r["met"] else "NO"))
                      for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    for c in cells:
        print("  ".join(s.ljust(w) for s, w in zip(c, widths)).rstrip())


def kept_figures(path):
    try:
        with open(path) as f:
            return json.load(f).get("figures", {})
    except FileNotFoundError:
        return {}


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    fig = {}
    with open(sys.argv[1]) as f:
        for line in f:
            if line.strip():
                fig.update(json.loads(line))
    names = next((a.split("=", 1)[1] for a in sys.argv[3:] if a.startswith("--names=")), "")
    if "--keep" in sys.argv[3:]:
        fig = {**kept_figures(sys.argv[2]), **fig}
    derive(fig)
    rows = [check_row(fig, *c) for c in CHECKS if c[0] in fig]
    print_table(rows)
    out = {
        "run": {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "kernel": platform.release(),
                "cpus": len(__import__("os").sched_getaffinity(0)),
                "quick": "--quick" in sys.argv[3:], "benchmarks": names.split(",")},
        "figures": dict(sorted(fig.items())),
        "checks": rows,
    }
    with open(sys.argv[2], "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    missed = [r["figure"] for r in rows if r["met"] is False]
    print("targets: %d met, %d missed%s" % (sum(r["met"] is True for r in rows), len(missed),
                                            (": " + ", ".join(missed)) if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
