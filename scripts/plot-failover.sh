#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The failover as a picture: the client's requests around a site's power cut, per 5 ms of
# sending time, by the site that answered them (and those never answered), with the last
# heartbeat from the site, detourd's detection and the dataplane update marked. It reads what
# scripts/demo.sh records: detourd's event log and dt-client's --log (one line per request:
# index, sent ns, answered ns or 0, site or "-"; both CLOCK_MONOTONIC).
#
#   scripts/plot-failover.sh EVENTS.jsonl CLIENT.log SITE OUT.png [SKIP]
#
# The cut is the first transition of SITE to down (from another state) after the first SKIP
# lines of the event log (default 0). Needs python3 and gnuplot (Debian gnuplot-nox, installed
# by scripts/setup.sh). tests/demo/test-plot-failover.sh runs it on a recorded timeline.
set -euo pipefail

if [ $# -lt 4 ] || [ $# -gt 5 ]; then
	echo "usage: plot-failover.sh EVENTS.jsonl CLIENT.log SITE OUT.png [SKIP]" >&2
	exit 2
fi
events=$1 log=$2 site=$3 out=$4 skip=${5:-0}
for f in "$events" "$log"; do
	[ -r "$f" ] || { echo "plot-failover.sh: cannot read $f" >&2; exit 1; }
done
command -v gnuplot >/dev/null || {
	echo "plot-failover.sh: gnuplot is not installed (apt-get install gnuplot-nox)" >&2
	exit 1
}
data=$(mktemp /tmp/dt-plot.XXXXXX)
trap 'rm -f "$data"' EXIT

# The binned data into $data, the gnuplot program on stdout.
python3 - "$events" "$log" "$site" "$skip" "$data" "$out" <<'PY' | gnuplot
import json, sys

events, log, site, skip, data, out = sys.argv[1:7]
try:
    ev = next(e for e in map(json.loads, open(events).readlines()[int(skip):])
              if e.get("site") == site and e.get("to") == "down" and e.get("from") != "down")
except StopIteration:
    sys.exit("plot-failover.sh: %s: no transition of %s to down" % (events, site))
hb = ev["last_heartbeat_ns"]
ms = lambda t: (t - hb) / 1e6
detect, applied = ms(ev["detected_ns"]), ms(ev["applied_ns"])
step, lo = 5.0, -150.0
hi = max(applied + 150.0, 250.0)
reqs = [l.split() for l in open(log) if len(l.split()) == 4]
reqs = [r for r in reqs if lo <= ms(int(r[1])) < hi]
if not reqs:
    sys.exit("plot-failover.sh: %s: no request sent within %.0f..%.0f ms of the cut" % (log, lo, hi))
answered = sorted({r[3] for r in reqs if int(r[2])}, key=lambda s: (s != site, s))
cols = answered + ["lost"]
nbins = int((hi - lo) / step)
bins = [dict.fromkeys(cols, 0) for _ in range(nbins)]
for r in reqs:
    b = int((ms(int(r[1])) - lo) / step)
    bins[b][r[3] if int(r[2]) else "lost"] += 1
with open(data, "w") as f:
    f.write("ms " + " ".join('"%s"' % c for c in cols) + "\n")
    for i, b in enumerate(bins):
        f.write("%.1f %s\n" % (lo + i * step, " ".join(str(b[c]) for c in cols)))
top = max(max(b.values()) for b in bins) + 2
colors = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
print('set terminal pngcairo size 900,420 font "DejaVu Sans,10"')
print('set output "%s"' % out.replace('"', '\\"'))
print('set title "Power cut at %s: requests sent per %.0f ms, by the site that answered"' % (site, step))
print('set xlabel "ms after the last heartbeat from %s"' % site)
print('set ylabel "requests"')
print("set xrange [%.1f:%.1f]" % (lo, hi))
print("set yrange [0:%d]" % (top * 1.25))
print("set key top right")
print("set grid ytics lc rgb '#dddddd'")
for x, color in ((0.0, "#555555"), (detect, "#d62728"), (applied, "#ff7f0e")):
    print('set arrow from %.3f, graph 0 to %.3f, graph 1 nohead dt 2 lw 1.5 lc rgb "%s"' % (x, x, color))
print('set label 1 "last heartbeat" at 0, graph 0.97 right offset -0.5,0 tc rgb "#555555"')
print('set label 2 "detected %.1f ms, rerouted %.1f ms" at %.3f, graph 0.90 left offset 0.5,0 tc rgb "#d62728"'
      % (detect, applied, applied))
plots = []
for i, c in enumerate(cols):
    color = "#d62728" if c == "lost" else colors[i % len(colors)]
    plots.append('"%s" using 1:%d with steps lw 2 lc rgb "%s" title columnheader(%d)'
                 % (data, i + 2, color, i + 2))
print("plot " + ", \\\n     ".join(plots))
PY
[ -s "$out" ] || { echo "plot-failover.sh: gnuplot wrote no $out" >&2; exit 1; }
