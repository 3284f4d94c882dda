#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Replay the heartbeat arrivals captured on the edge through failure detectors.

    detector_replay.py PCAP --interval MS [--multiplier M] [--phi T] [--window N] [--sigma-floor F]

The false-failover benchmark captures every heartbeat on the edge's management links. The capture
stamps are the kernel's receive stamps that detourd judges by, so the same stream can be judged by
other detectors offline, and all of them compared on identical input:

- fixed:  DOWN once a gap reaches interval x multiplier (what detourd does without the guard);
- guard:  the same with detourd's blackout guard (docs/detector.md): a deadline that falls while
          every other site has been silent for 1.5 intervals is held, and the silence between the
          last time anyone was heard and the first heartbeat after it does not count;
- phi:    phi-accrual (Hayashibara et al., 2004): per site a window of the last N gaps, a normal
          fit (mean, deviation floored at F x interval), DOWN when phi reaches T, never before
          interval x multiplier.

For each, the false DOWNs (every site in the capture is alive) and, for phi, the detection time
it would have had for a cut at each moment (its deadline after the last heartbeat: median and p99).
Also the largest gap as the sender saw it (sequence step, send-time gap). Prints one JSON object.
"""
import argparse
import bisect
import json
import math
import statistics
import subprocess
import sys
from collections import deque


# docs/heartbeat.md: (offset of seq, offset of sent_ns) by protocol version (big-endian at 4).
SEQ_SENT = {1: (16, 24), 2: (24, 32)}


def captured(pcap, by="link"):
    """Per capture interface (by="link") or per site id (by="site": every path and beacon of a
    site together, what the detector sees), sorted (receive ns, seq, sent_ns) of every
    heartbeat."""
    out = subprocess.check_output(["tshark", "-r", pcap, "-T", "fields", "-e",
                                   "frame.interface_id", "-e", "frame.time_epoch", "-e",
                                   "udp.payload"], text=True, stderr=subprocess.DEVNULL)
    per = {}
    for line in out.splitlines():
        link, t, payload = line.split("\t")
        sec, _, frac = t.partition(".")
        wire = bytes.fromhex(payload.replace(":", ""))
        version = int.from_bytes(wire[4:6], "big")
        if version not in SEQ_SENT:
            continue
        seq, sent = SEQ_SENT[version]
        key = link if by == "link" else int.from_bytes(wire[6:8], "big")
        per.setdefault(key, []).append((int(sec) * 10**9 + int(frac.ljust(9, "0")[:9]),
                                        int.from_bytes(wire[seq:seq + 8], "big"),
                                        int.from_bytes(wire[sent:sent + 8], "big")))
    return {k: sorted(v) for k, v in per.items()}


def largest_gap(per):
    """The largest gap between two arrivals of one site, with the sender's view of it: if the
    sequence numbers are consecutive and the send times are as far apart, the beacon itself did
    not run; if the send times are regular, the packets waited on the way."""
    best = max(((b[0] - a[0], a, b) for v in per.values() for a, b in zip(v, v[1:])),
               default=None)
    if not best:
        return {}
    gap, a, b = best
    return {"gap_ms": round(gap / 1e6, 3), "seq_step": b[1] - a[1],
            "sent_gap_ms": round((b[2] - a[2]) / 1e6, 3)}


def fixed_false_downs(per, detect_ns):
    return sum(1 for v in per.values() for a, b in zip(v, v[1:]) if b - a >= detect_ns)


def last_before(times, t):
    """The newest arrival at or before t (times sorted), or None."""
    i = bisect.bisect_right(times, t)
    return times[i - 1] if i else None


def first_after(times, t):
    """The first arrival after t (times sorted), or None."""
    i = bisect.bisect_right(times, t)
    return times[i] if i < len(times) else None


def guard_false_downs(per, detect_ns, interval_ns):
    """Fixed detection with the blackout guard, deadline by deadline (holds repeat if a new
    blackout begins before the shifted deadline)."""
    quiet = interval_ns + interval_ns // 2
    downs = 0
    for link, times in per.items():
        others = [v for k, v in per.items() if k != link]
        for a, b in zip(times, times[1:]):
            deadline = a + detect_ns
            while deadline <= b:
                lasts = [last_before(o, deadline) for o in others]
                if not others or any(x is None or x + quiet > deadline for x in lasts):
                    downs += 1
                    break
                start = max([a] + lasts)
                ends = [first_after(o, deadline) for o in others]
                ends = [e for e in ends if e is not None]
                if not ends:
                    break  # the capture ended inside the blackout
                deadline += min(ends) - start
    return downs


def phi_replay(per, interval_ns, floor_ns, phi, window, sigma_floor):
    """Each gap judged against the deadline the window of the gaps before it gives (running sums:
    a 10-minute capture has 1.8 million gaps)."""
    z = statistics.NormalDist().inv_cdf(1 - 10 ** -phi)  # P(gap > mu + z sigma) = 10^-phi
    downs, detect = 0, []
    for times in per.values():
        gaps, total, squares = deque(), 0.0, 0.0
        for a, b in zip(times, times[1:]):
            n = len(gaps)
            if n >= 10:
                mu = total / n
                sigma = max(math.sqrt(max(squares / n - mu * mu, 0.0)), sigma_floor * interval_ns)
                d = max(floor_ns, mu + sigma * z)
                detect.append(d)
                downs += b - a >= d
            g = b - a
            gaps.append(g)
            total += g
            squares += g * g
            if len(gaps) > window:
                old = gaps.popleft()
                total -= old
                squares -= old * old
    detect.sort()
    return downs, detect


def replay_figures(full, interval_ns, multiplier, prefix, phi=8.0, window=1000, sigma_floor=0.2):
    """The figures of every detector on one capture (captured()'s result), keys under prefix."""
    per = {k: [x[0] for x in v] for k, v in full.items()}
    detect = interval_ns * multiplier
    downs, phi_detect = phi_replay(per, interval_ns, detect, phi, window, sigma_floor)
    fig = {
        prefix + "_fixed_false_downs": fixed_false_downs(per, detect),
        prefix + "_guard_false_downs": guard_false_downs(per, detect, interval_ns),
        prefix + "_phi_false_downs": downs,
    }
    for k, v in largest_gap(full).items():
        fig[prefix + "_largest_" + k] = v
    if phi_detect:
        p99 = phi_detect[min(len(phi_detect) - 1, math.ceil(0.99 * len(phi_detect)) - 1)]
        fig[prefix + "_phi_detect_median_ms"] = round(phi_detect[len(phi_detect) // 2] / 1e6, 3)
        fig[prefix + "_phi_detect_p99_ms"] = round(p99 / 1e6, 3)
    return fig


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--interval", type=float, required=True, help="ms")
    ap.add_argument("--multiplier", type=int, default=3)
    ap.add_argument("--phi", type=float, default=8.0)
    ap.add_argument("--window", type=int, default=1000)
    ap.add_argument("--sigma-floor", type=float, default=0.2)
    ap.add_argument("--prefix", default="replay")
    a = ap.parse_args()
    full = captured(a.pcap)
    if not full:
        print("no heartbeats in %s" % a.pcap, file=sys.stderr)
        return 1
    print(json.dumps(replay_figures(full, int(a.interval * 1e6), a.multiplier, a.prefix, a.phi,
                                    a.window, a.sigma_floor)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
