#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn what bench-e2e.sh recorded into figures (docs/benchmarks.md has every key).

    e2e_report.py cut --events F --skip N --site S --client-log F --cut NS OFFSET --bird-log F
    e2e_report.py failover --interval MS --cuts F --events F --site S --bird-log F
                           [--dataplane xdp|dpdk]
    e2e_report.py falsedown --events F --skip N --pcap F --seconds S --interval MS --multiplier M
                            [--steal-ticks T] [--capture-drops N] [--rcvbuf-errors N]
    e2e_report.py forward FILE
    e2e_report.py tcp-cut --site S --before NS --cut NS --requests N --detourd-log F
                          < "NAME CLIENT_LOG TCP_GAP_MS" lines
    e2e_report.py tcp --cuts F --setting on|off
    e2e_report.py merge FIGURES.jsonl

Every time is CLOCK_MONOTONIC nanoseconds except BIRD's log, which has only wall-clock stamps:
those are converted with the offset (realtime - monotonic) read at the instant of the cut.
"""
import argparse
import calendar
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time

from detector_replay import captured, replay_figures

BIRD_STATE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{6}) .*bfd\d*: Session to \S+ "
                        r"changed state from (\w+) to (\w+)")
EXPLAINED_NS = 10**9  # a DOWN of the cut site within this long after a cut is the cut's
STEADY_AFTER_CUT_NS = 4 * 10**8  # the client runs >= 0.5 s after the cut, then power is back


def new_events(path, skip):
    with open(path) as f:
        lines = f.readlines()[skip:]
    return [json.loads(line) for line in lines if line.strip()]


def transitions(events):
    return [e for e in events if e["from"] != e["to"]]


def all_up_at(events, t_ns):
    """Every site is still UP at t_ns: all were when the events began (the caller waited for
    that), and the transitions detected since, replayed, leave each one UP."""
    state = {}
    for e in transitions(events):
        if e["detected_ns"] < t_ns:
            state[e["site"]] = e["to"].lower()
    return all(s == "up" for s in state.values())


def first_new_answer(log_path, home, after_ns):
    """The earliest answer (monotonic ns, site) after after_ns from any site but home."""
    best = (None, None)
    with open(log_path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4 or parts[3] in (home, "-") or int(parts[2]) <= after_ns:
                continue
            if best[0] is None or int(parts[2]) < best[0]:
                best = (int(parts[2]), parts[3])
    return best


def bird_states(path, offset_ns):
    """(monotonic ns, from, to) of every state change of BIRD's BFD session (UTC log stamps)."""
    out = []
    with open(path) as f:
        for line in f:
            m = BIRD_STATE.match(line)
            if m:
                secs = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
                out.append((secs * 10**9 + int(m.group(2)) * 1000 - offset_ns, m.group(3),
                            m.group(4)))
    return out


def bfd_detect_ns(states, cut_ns):
    """The first Up -> Down after the cut, if the session was Up at the cut; else None."""
    before = [s for s in states if s[0] < cut_ns]
    if not before or before[-1][2] != "Up":
        return None
    return next((s[0] for s in states if s[0] >= cut_ns and s[1:] == ("Up", "Down")), None)


def do_cut(a):
    cut_ns, offset = a.cut
    events = new_events(a.events, a.skip)
    row = {"cut_ns": cut_ns, "offset_ns": offset, "valid": all_up_at(events, cut_ns)}
    if a.ready is not None:
        row["ready_ns"] = a.ready
    ev = next((e for e in transitions(events) if e["site"] == a.site and
               e["to"].lower() == "down" and e["detected_ns"] >= cut_ns), None)
    answer_ns, new_site = first_new_answer(a.client_log, a.site, cut_ns)
    if not row["valid"]:
        row["why"] = "a site was not UP at the cut: an earlier false DOWN"
    elif ev is None or answer_ns is None:
        row["valid"] = False
        row["why"] = "no DOWN of %s after the cut" % a.site if ev is None else \
            "no answer from another site after the cut (the client had ended: a stalled script)"
    if row["valid"]:
        lh, det, app = ev["last_heartbeat_ns"], ev["detected_ns"], ev["applied_ns"]
        bfd = bfd_detect_ns(bird_states(a.bird_log, offset), cut_ns)
        row.update({"cause": ev["cause"], "new_site": new_site,
                    "detect_ms": (det - lh) / 1e6, "apply_us": (app - det) / 1e3,
                    "total_ms": (answer_ns - lh) / 1e6,
                    "answer_after_apply_ms": (answer_ns - app) / 1e6,
                    "last_hb_before_cut_ms": (cut_ns - lh) / 1e6,
                    "detect_from_cut_ms": (det - cut_ns) / 1e6,
                    "bfd_from_cut_ms": (bfd - cut_ns) / 1e6 if bfd else None})
    print(json.dumps(row))
    return 0


def explained(t_ns, cuts):
    return any(0 <= t_ns - c < EXPLAINED_NS for c in cuts)


def false_downs(events, site, cuts):
    """DOWN transitions that no cut explains: of another site, or of the cut site before a cut."""
    return sum(1 for e in transitions(events) if e["to"].lower() == "down" and
               not (e["site"] == site and explained(e["detected_ns"], cuts)))


def steady(t_ns, rows):
    """t_ns falls in a steady window: from every site UP and BFD Up to 0.4 s after the cut, not
    in the restarts between cuts (power back, a new BIRD, a new detourd)."""
    return any(r["ready_ns"] <= t_ns < r["cut_ns"] + STEADY_AFTER_CUT_NS for r in rows)


def steady_false_downs(fig, p, b, a, rows, states):
    """False DOWNs and false BFD downs inside the steady windows, and the windows' length."""
    cuts = [r["cut_ns"] for r in rows]
    downs = [e for e in transitions(new_events(a.events, 0)) if e["to"].lower() == "down" and
             not (e["site"] == a.site and explained(e["detected_ns"], cuts))]
    fig[p + "_false_down_steady"] = sum(steady(e["detected_ns"], rows) for e in downs)
    fig[b + "_false_down_steady"] = sum(1 for t, fr, to in states if (fr, to) == ("Up", "Down")
                                        and not explained(t, cuts) and steady(t, rows))
    fig[p + "_steady_s"] = round(sum(r["cut_ns"] + STEADY_AFTER_CUT_NS - r["ready_ns"]
                                     for r in rows) / 1e9, 1)


def pct(values, p):
    """Nearest-rank percentile: with 30 samples, p99 is the largest."""
    v = sorted(values)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


def summarise(fig, prefix, values, unit, digits=3):
    if values:
        fig["%s_median_%s" % (prefix, unit)] = round(statistics.median(values), digits)
        fig["%s_p99_%s" % (prefix, unit)] = round(pct(values, 99), digits)


def print_cut(r):
    if not r["valid"]:
        print("  cut: not counted (%s)" % r.get("why", "a site was not UP at the cut"),
              file=sys.stderr)
        return
    bfd = r["bfd_from_cut_ms"]
    print("  cut: detect %.3f ms, apply %.1f us, first answer from %s %.3f ms after the last "
          "heartbeat; from the cut: Detour %.3f ms, BFD %s ms" % (
              r["detect_ms"], r["apply_us"], r["new_site"], r["total_ms"],
              r["detect_from_cut_ms"], "%.3f" % bfd if bfd is not None else "-"),
          file=sys.stderr)


def do_failover(a):
    with open(a.cuts) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    for r in rows:
        print_cut(r)
    cuts = [r["cut_ns"] for r in rows]
    valid = [r for r in rows if r["valid"]]
    # XDP keeps the keys it always had; the DPDK run's keys say dpdk after the name.
    mode = ("" if a.dataplane == "xdp" else a.dataplane + "_") + \
        ("redundant_" if a.redundant else "")
    p, b = "failover_%s%dms" % (mode, a.interval), "bfd_%s%dms" % (mode, a.interval)
    fig = {p + "_cuts": len(valid), p + "_cuts_not_counted": len(rows) - len(valid),
           p + "_false_down": false_downs(new_events(a.events, 0), a.site, cuts)}
    summarise(fig, p + "_detect", [r["detect_ms"] for r in valid], "ms")
    summarise(fig, p + "_apply", [r["apply_us"] for r in valid], "us", 1)
    summarise(fig, p + "_total", [r["total_ms"] for r in valid], "ms")
    summarise(fig, p + "_detect_from_cut", [r["detect_from_cut_ms"] for r in valid], "ms")
    bfd = [r["bfd_from_cut_ms"] for r in valid if r["bfd_from_cut_ms"] is not None]
    fig[b + "_cuts"] = len(bfd)
    summarise(fig, b + "_detect_from_cut", bfd, "ms")
    if bfd and statistics.median(bfd) > 0:
        fig[p + "_detect_over_bfd"] = round(fig[p + "_detect_from_cut_median_ms"] /
                                            statistics.median(bfd), 3)
    # BIRD's Up -> Down changes that no cut explains: false failovers of the peer.
    states = bird_states(a.bird_log, rows[0]["offset_ns"]) if rows else []
    fig[b + "_false_down"] = sum(1 for t, fr, to in states
                                 if (fr, to) == ("Up", "Down") and not explained(t, cuts))
    if rows and all("ready_ns" in r for r in rows):
        steady_false_downs(fig, p, b, a, rows, states)
    print(json.dumps(fig))
    return 0


def heartbeat_gaps(full):
    """Per management link (or per site), the (start, end) ns of every gap between consecutive
    heartbeats of a capture read by detector_replay.captured()."""
    gaps = {link: list(zip([x[0] for x in v], [x[0] for x in v[1:]])) for link, v in full.items()}
    return gaps, sum(len(v) for v in full.values())


def shared_gaps(gaps, min_ns, other_min_ns):
    """Gaps of at least min_ns during whose middle every other link was silent for at least
    other_min_ns too: the edge (or the whole VM) stalled, not one site's beacon."""
    n = 0
    for link, own in gaps.items():
        others = [g for k, g in gaps.items() if k != link]
        for a, b in own:
            mid = (a + b) // 2
            if b - a >= min_ns and others and all(
                    any(x <= mid <= y and y - x >= other_min_ns for x, y in g) for g in others):
                n += 1
    return n


def do_falsedown(a):
    events = new_events(a.events, a.skip)
    downs = [e for e in events if e["to"].lower() == "down" and e["from"] != e["to"]]
    # one tshark pass serves both the gaps and the replay; with several beacons and paths per
    # site, a site's gap is one between any two of its heartbeats, whichever beacon or path
    full = captured(a.pcap, by="site" if a.redundant else "link")
    per_link, n = heartbeat_gaps(full)
    gaps = [y - x for g in per_link.values() for x, y in g]
    iv = a.interval * 10**6
    p = "falsedown_%s%sx%d" % ("redundant_" if a.redundant else "",
                               "phi%g_" % a.phi if a.phi else "", a.multiplier)
    fig = {p + "_seconds": a.seconds, p + "_down_events": len(downs), p + "_heartbeats": n,
           p + "_blackout_holds": sum(e["cause"] == "blackout_hold" for e in events),
           p + "_blackout_downs": sum(bool(e.get("blackout")) for e in downs),
           p + "_capture_drops": a.capture_drops, p + "_udp_rcvbuf_errors": a.rcvbuf_errors,
           # USER_HZ ticks over two CPUs: the share of the run the hypervisor gave to others
           p + "_steal_pct": round(100 * a.steal_ticks / (100 * a.seconds * os.cpu_count()), 2)}
    if gaps:
        fig[p + "_gap_max_ms"] = round(max(gaps) / 1e6, 3)
        fig[p + "_gap_p9999_ms"] = round(pct(gaps, 99.99) / 1e6, 3)
        for k in (2, 3, 5):
            fig[p + "_gaps_over_%dx" % k] = sum(g >= k * iv for g in gaps)
        fig[p + "_gaps_over_3x_all_sites"] = shared_gaps(per_link, 3 * iv, 2 * iv)
        if a.multiplier == 3 and not a.phi and not a.redundant:
            # A site is DOWN once a gap reaches interval x multiplier: the smallest multiplier
            # that the worst gap seen would not have tripped.
            fig["falsedown_multiplier_needed"] = max(gaps) // iv + 1
    if full:
        fig.update(replay_figures(full, iv, a.multiplier, p + "_replay"))
    for e in downs:
        print("  false DOWN: %s (%s), detected %.3f ms after its last heartbeat"
              % (e["site"], e["cause"], (e["detected_ns"] - e["last_heartbeat_ns"]) / 1e6),
              file=sys.stderr)
    print(json.dumps(fig))
    return 0


def do_forward(a):
    rates = {}
    with open(a.file) as f:
        for line in f:
            name, kpps, offered, egress_drop = line.split()
            rates.setdefault(name, []).append((float(kpps), float(offered), float(egress_drop)))
    fig = {}
    for name, vals in rates.items():
        fig["fwd_%s_kpps" % name] = statistics.median(v[0] for v in vals)
        fig["fwd_%s_offered_kpps" % name] = statistics.median(v[1] for v in vals)
        fig["fwd_%s_egress_drop_kpps" % name] = statistics.median(v[2] for v in vals)
    if fig.get("fwd_kernel_kpps") and "fwd_detour_kpps" in fig:
        fig["fwd_ratio"] = round(fig["fwd_detour_kpps"] / fig["fwd_kernel_kpps"], 3)
    # What left the edge toward the site: received there, or dropped at the hand-over because
    # the site's veth ring was full (the receiver's wake-up latency, not the edge's work).
    fwd = {n: fig["fwd_%s_kpps" % n] + fig["fwd_%s_egress_drop_kpps" % n] for n in rates}
    if fwd.get("kernel") and "detour" in fwd:
        fig["fwd_ratio_forwarded"] = round(fwd["detour"] / fwd["kernel"], 3)
    if fig.get("fwd_kernel_xdp_kpps") and "fwd_detour_kpps" in fig:
        fig["fwd_ratio_vs_kernel_xdp"] = round(fig["fwd_detour_kpps"] / fig["fwd_kernel_xdp_kpps"],
                                               3)
    print(json.dumps(fig))
    return 0


NUDGE = re.compile(r"tcp_reset: sites \S+ down: (\d+) recent TCP flows told to reconnect")


def do_tcp_cut(a):
    """One cut of failover-tcp: each curl client's longest gap between successful responses, and
    whether the cut counts (every request logged, none failed before the cut, the cut site
    answered before it and another site after it)."""
    row = {"gaps_ms": {}, "valid": True, "why": []}
    for line in sys.stdin:
        name, log, gap = line.split()
        with open(log) as f:
            reqs = [p for p in (line.split() for line in f) if len(p) == 4]
        row["gaps_ms"][name] = int(gap)
        bad = []
        if len(reqs) != a.requests:
            bad.append("%d of %d requests logged" % (len(reqs), a.requests))
        if any(int(t) < a.before and code != "200" for t, _, code, _ in reqs):
            bad.append("a request failed before the cut")
        if sum(1 for t, site, _, _ in reqs if int(t) < a.before and site == a.site) < 50:
            bad.append("%s answered fewer than 50 before the cut" % a.site)
        if sum(1 for t, site, code, _ in reqs
               if int(t) > a.cut and code == "200" and site not in (a.site, "-")) < 50:
            bad.append("no other site answered 50 after the cut")
        row["why"] += ["%s: %s" % (name, b) for b in bad]
    row["valid"] = not row["why"] and bool(row["gaps_ms"])
    row["gap_ms"] = max(row["gaps_ms"].values()) if row["gaps_ms"] else None
    with open(a.detourd_log) as f:
        nudges = [int(m.group(1)) for m in map(NUDGE.search, f) if m]
    row["nudged_flows"] = sum(nudges)
    row["cut_ns"] = a.cut
    print(json.dumps(row))
    return 0


def do_tcp(a):
    """failover_tcp_gap_ms_{median,p99} (tcp_reset on) or failover_tcp_gap_off_ms_* (off): per
    counted cut, the longest gap of its four clients."""
    with open(a.cuts) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    for r in rows:
        print("  cut: %s; tcp_gap_ms %s, %d flows nudged" % (
            "counted" if r["valid"] else "not counted (%s)" % "; ".join(r["why"]),
            " ".join("%s %d" % kv for kv in sorted(r["gaps_ms"].items())), r["nudged_flows"]),
            file=sys.stderr)
    valid = [r for r in rows if r["valid"]]
    p = "failover_tcp" + ("" if a.setting == "on" else "_off")
    g = "failover_tcp_gap" + ("" if a.setting == "on" else "_off")
    fig = {p + "_cuts": len(valid), p + "_cuts_not_counted": len(rows) - len(valid)}
    gaps = [r["gap_ms"] for r in valid]
    if gaps:
        fig[g + "_ms_median"] = statistics.median(gaps)
        fig[g + "_ms_p99"] = pct(gaps, 99)
        fig[p + "_nudged_flows_median"] = statistics.median(r["nudged_flows"] for r in valid)
    print(json.dumps(fig))
    return 0


def do_merge(a):
    fig = {}
    with open(a.file) as f:
        for line in f:
            if line.strip():
                fig.update(json.loads(line))
    print(json.dumps(fig, sort_keys=True))
    return 0


def parser():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cut")
    c.add_argument("--events", required=True)
    c.add_argument("--skip", type=int, default=0)
    c.add_argument("--site", required=True)
    c.add_argument("--client-log", required=True)
    c.add_argument("--cut", type=int, nargs=2, required=True, metavar=("NS", "OFFSET"))
    c.add_argument("--bird-log", required=True)
    c.add_argument("--ready", type=int, help="monotonic ns: every site UP and BFD Up")
    f = sub.add_parser("failover")
    f.add_argument("--interval", type=int, required=True)
    f.add_argument("--cuts", required=True)
    f.add_argument("--events", required=True)
    f.add_argument("--site", required=True)
    f.add_argument("--bird-log", required=True)
    f.add_argument("--dataplane", choices=("xdp", "dpdk"), default="xdp")
    f.add_argument("--redundant", action="store_true",
                   help="two beacons and two paths per site, every one cut: keys failover_redundant_*")
    d = sub.add_parser("falsedown")
    d.add_argument("--events", required=True)
    d.add_argument("--skip", type=int, default=0)
    d.add_argument("--pcap", required=True)
    d.add_argument("--seconds", type=int, required=True)
    d.add_argument("--interval", type=int, required=True)
    d.add_argument("--multiplier", type=int, required=True)
    d.add_argument("--phi", type=float, default=0, help="detourd's phi_threshold (0: fixed)")
    d.add_argument("--steal-ticks", type=int, default=0)
    d.add_argument("--capture-drops", type=int, default=0)
    d.add_argument("--rcvbuf-errors", type=int, default=0)
    d.add_argument("--redundant", action="store_true",
                   help="several beacons and paths per site: gaps per site, keys falsedown_redundant_*")
    sub.add_parser("forward").add_argument("file")
    t = sub.add_parser("tcp-cut")
    t.add_argument("--site", required=True)
    t.add_argument("--before", type=int, required=True, help="monotonic ns just before the cut")
    t.add_argument("--cut", type=int, required=True, help="monotonic ns just after the cut")
    t.add_argument("--requests", type=int, required=True)
    t.add_argument("--detourd-log", required=True)
    t = sub.add_parser("tcp")
    t.add_argument("--cuts", required=True)
    t.add_argument("--setting", choices=("on", "off"), required=True)
    sub.add_parser("merge").add_argument("file")
    return ap


def main():
    a = parser().parse_args()
    run = {"cut": do_cut, "failover": do_failover, "falsedown": do_falsedown,
           "forward": do_forward, "tcp-cut": do_tcp_cut, "tcp": do_tcp, "merge": do_merge}[a.cmd]
    try:
        return run(a)
    except (OSError, ValueError, KeyError, IndexError, subprocess.CalledProcessError) as e:
        # A missing or malformed record (a run cut short): say which, not a traceback.
        print("e2e_report.py %s: %s: %s" % (a.cmd, type(e).__name__, e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
