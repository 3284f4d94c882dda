#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The Detour demo: one command, as root, on a fresh Debian 12 machine.
#
# Installs what it needs (scripts/setup.sh), builds into build/, brings up the test network
# (scripts/lib/topology.sh: a client, an edge running detour_xdp + detourd, three sites with
# their UPS and beacons), streams requests from the client, cuts the power of the site serving
# them, prints the timeline and one machine-readable line
#   failover: site=NAME detect_ms=X reroute_ms=Y client_sent=N client_lost=M
# then restores the site, shows new connections going home, and tears everything down.
# The timeline is also kept, with the recorded event log and client log and the same failover
# drawn as a picture (scripts/plot-failover.sh), in $DEMO_OUT (default build/demo/):
#   timeline.txt  events.jsonl  client.log  failover.png
set -Eeuo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run as root (it creates network namespaces and loads XDP)" >&2
	exit 1
fi

echo "== setup and build"
bash scripts/setup.sh
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
meson compile -C "$BUILD" >/dev/null
BUILD=$(cd "$BUILD" && pwd)
DEMO_OUT=${DEMO_OUT:-$BUILD/demo}
mkdir -p "$DEMO_OUT"

DETOURD=$BUILD/control/detourd/detourd
DETOURCTL=$BUILD/control/ctl/detourctl
DT_BEACON=$BUILD/control/beacon/detour-beacon
DT_SERVER=$BUILD/tests/integration/dt-site-server
DT_CLIENT=$BUILD/tests/integration/dt-client
DT_XDP_PASS_OBJ=$BUILD/ebpf/xdp_pass.bpf.o
DT_TC_DECAP_OBJ=$BUILD/ebpf/site_decap.bpf.o
DT_NS_PREFIX=${DT_NS_PREFIX:-demo}
export DETOURD DETOURCTL DT_BEACON DT_SERVER DT_CLIENT DT_XDP_PASS_OBJ DT_TC_DECAP_OBJ DT_NS_PREFIX
# A 5 ms beacon; DOWN after 4 missed beats: 3 is enough on an idle machine, 4 keeps a busy
# 2-core one from declaring a healthy site dead.
export DT_MULTIPLIER=${DT_MULTIPLIER:-4}
# shellcheck source=lib/topology.sh
. "$ROOT/scripts/lib/topology.sh"
RATE=1000
SITE=${DT_SITES%% *}

dt_trap_cleanup dt_topo_down

echo "== network: client, edge (detour_xdp + detourd), sites: $DT_SITES"
dt_topo_up
dt_ctl status | sed 's/^/   /'

client() { ip netns exec "$(dt_ns client)" "$DT_CLIENT" "$@"; }

echo
echo "== the client streams $RATE requests/s (16 flows) to $DT_SERVICE_V4"
client udp --addr "$DT_SERVICE_V4" --rate $RATE --duration 4000 --flows 16 --timeout 300 \
	--log "$DT_WORK/demo.log" --json "$DT_WORK/demo.json" >"$DT_WORK/demo.out" &
client_pid=$!
sleep 1.5
echo "== power cut at $SITE: its beacon dies and its links go dark"
before_cut=$(wc -l <"$DT_WORK/events.jsonl")
dt_cut_power "$SITE"
wait "$client_pid"
sed 's/^/   /' "$DT_WORK/demo.out"

# The timeline, from detourd's event log and the client's per-request log.
python3 - "$DT_WORK/events.jsonl" "$DT_WORK/demo.log" "$SITE" "$before_cut" <<'EOF' |
import json, sys
events, log, site, skip = sys.argv[1:5]
ev = next(e for e in map(json.loads, open(events).readlines()[int(skip):])
          if e["site"] == site and e["to"] == "down" and e["from"] != "down")
reqs = [l.split() for l in open(log)]
hb = ev["last_heartbeat_ns"]
ms = lambda t: (t - hb) / 1e6
moved = [r for r in reqs if int(r[2]) and r[3] != site and int(r[1]) > hb]
lost = [r for r in reqs if not int(r[2])]
print("\n== timeline (ms after the last heartbeat from %s)" % site)
print("   %8.2f  last heartbeat from %s" % (0, site))
print("   %8.2f  detourd detects the loss (deadline %.2f)" % (ms(ev["detected_ns"]), ms(ev["deadline_ns"])))
print("   %8.2f  dataplane updated: %s DOWN in the XDP maps" % (ms(ev["applied_ns"]), site))
if moved:
    first = min(moved, key=lambda r: int(r[2]))
    print("   %8.2f  first answer from another site (%s)" % (ms(int(first[2])), first[3]))
print("   requests lost: %d of %d" % (len(lost), len(reqs)))
if lost:
    print("   lost requests were sent between %.2f and %.2f" % (ms(int(lost[0][1])), ms(int(lost[-1][1]))))
print("\nfailover: site=%s detect_ms=%.1f reroute_ms=%.1f client_sent=%d client_lost=%d" % (
    site, ms(ev["detected_ns"]), ms(ev["applied_ns"]), len(reqs), len(lost)))
EOF
	tee "$DEMO_OUT/timeline.txt"
cp "$DT_WORK/events.jsonl" "$DEMO_OUT/events.jsonl"
cp "$DT_WORK/demo.log" "$DEMO_OUT/client.log"
bash "$ROOT/scripts/plot-failover.sh" "$DEMO_OUT/events.jsonl" "$DEMO_OUT/client.log" "$SITE" \
	"$DEMO_OUT/failover.png" "$before_cut"
echo "   the same failover as a picture: $DEMO_OUT/failover.png (and the text: timeline.txt)"

echo
echo "== power back at $SITE: new connections go home once it has been clean for the hold-down"
dt_restore_power "$SITE"
back() { dt_state_is "$SITE" recovering || dt_state_is "$SITE" up; }
dt_wait_until 20000 back || dt_die "$SITE did not come back within 20 s"
dt_ctl sites | sed 's/^/   /'
client tcp --addr "$DT_SERVICE_V4" --rate 20 --count 10 --timeout 1000 | sed 's/^/   /'
dt_wait_until 15000 dt_state_is "$SITE" up || true
echo "   $SITE is $(dt_site_state "$SITE") again; the moved flows stayed away until idle"
echo
echo "== tearing down"
