#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A heartbeat flood at the highest rate this machine makes frames does not make a live site go
# DOWN and does not delay the detection of a real cut (issue 15, case 2). detourd runs as
# deployed (SCHED_FIFO), each site with beacon_sources. hb-flood (BPF live frames, as
# tests/integration/dt_flood, one CPU's worth) sends heartbeats with a valid header and a wrong
# MAC from pangyo's link and pangyo's beacon address, alternately:
#   - naming pangyo, to pangyo's socket: the source is right, so each datagram reaches user
#     space and costs a BLAKE2b (bad-mac);
#   - naming ansan, to ansan's socket (198.18.3.1): wrong-source, dropped by the sockets' kernel
#     filter before it is queued beside ansan's real heartbeats;
# and hb-forge adds 64-byte garbage on ansan's link (bad-magic, dropped in the kernel too). The
# live frames stay off ansan's link: a flood that fills a link's own queue drops whatever shares
# it before any receiver sees it (what several heartbeat paths are for). Meanwhile pangyo's
# power is cut. Checked: no site DOWN before the cut; pangyo DOWN within interval x multiplier +
# FLOOD_DETECT_MARGIN_MS of its last heartbeat; ansan never DOWN; the largest delay from a
# heartbeat's kernel arrival to the detector (`stats` heartbeat_delay.max_us) held to
# FLOOD_DELAY_MAX_MS; the kernel filter's drops counted by reason in `stats`.
#
# The bounds: a wake-up reads at most DETOURD_HB_PER_WAKEUP (1,024) datagrams per socket, each a
# recvmmsg share and at most one BLAKE2b (about 1 us here), so junk can hold a deadline back by
# about 2 ms of work on two sockets; the rest of the 10 ms is the SCHED_FIFO wake-up of this
# shared 2-CPU machine while the generator holds a CPU. A heartbeat waits behind the junk of its
# own socket only; measured largest delays (2026-12-04): this flood (~500 kpps) 0.20 ms with the
# kernel filter, 0.66 ms without it; an earlier form with a flooder on each link (~750 kpps)
# 1.5-1.8 ms with it, 5.2 ms without. 5 ms is the bound a SCHED_FIFO loop must keep here; what
# fails without the filter is the check that the kernel dropped the wrong-source flood.
DETOURD_SCHED_ARGS=${DETOURD_SCHED_ARGS-}
. "$(dirname "$0")/daemon_fixture.sh"

[ -x "${HB_FLOOD:-}" ] || bail "HB_FLOOD is not set (run through meson test)"
FLOOD_FRAMES=${FLOOD_FRAMES:-20000000} # per flooder; each is stopped once the checks are done
FLOOD_DETECT_MARGIN_MS=${FLOOD_DETECT_MARGIN_MS:-10}
FLOOD_DELAY_MAX_MS=${FLOOD_DELAY_MAX_MS:-5}

SITE_EXTRA[1]="beacon_sources=0 198.18.2.2"
SITE_EXTRA[2]="beacon_sources=0 198.18.3.2"
setup_all
# Live frames sent out of pangyo's veth reach the edge only if its end has XDP (NAPI) on.
ip -n "$NS_E" link set dev edge-a xdp obj "$XDP_PASS_OBJ" sec xdp || bail "xdp_pass on edge-a"
daemon_and_beacons_up 3000

stat_of() { ctl --json stats | json "d$1"; }
site_of() { ctl --json site show "$1" | json "d['site']['$2']"; }

FLOODERS=()

delay_before=$(stat_of "['heartbeat_delay']['max_us']")
bad_mac=$(hb_count bad-mac) wrong_source=$(hb_count wrong-source) bad_magic=$(hb_count bad-magic)
ansan_hb=$(site_of ansan heartbeats)
ip netns exec "$NS_A" "$HB_FLOOD" sa0 "$(mac_of "$NS_E" edge-a)" "$(mac_of "$NS_A" sa0)" \
	198.18.2.2 7600 "$FLOOD_FRAMES" 198.18.2.1/1 198.18.3.1/2 >"$TMP/flood-sa0" 2>&1 &
EXTRA_PIDS+=($!)
FLOODERS+=($!)
ip netns exec "$NS_B" "$HB_FORGE" send garbage --target 198.18.3.1:7600 --site 1 \
	--count 1000000 --max-ms 3000 >"$TMP/forge-garbage" &
EXTRA_PIDS+=($!)
FLOODERS+=($!)
sleep 0.5
check "no site went DOWN in the first 0.5 s of the flood" \
	test -z "$(last_event pangyo down)$(last_event ansan down)"
check_flood_down() {
	stop_beacon 1
	check "pangyo goes DOWN during the flood" \
		wait_until $((DETECT_MS + OBSERVE_MARGIN_MS)) state_is pangyo down
	check "... detected within $DETECT_MS + $FLOOD_DETECT_MARGIN_MS ms of its last heartbeat" \
		event_timing_ok pangyo down $((DETECT_MS + FLOOD_DETECT_MARGIN_MS))
}
check_flood_down
sleep 0.5 # ansan under the flood a while longer
kill -TERM "${FLOODERS[@]}" 2>/dev/null
wait "${FLOODERS[@]}" 2>/dev/null
delay=$(stat_of "['heartbeat_delay']['max_us']")
over=$(stat_of "['heartbeat_delay']['over_1ms']")
kpps=$(python3 -c 'import json,sys
n=k=0
for l in sys.stdin:
    if l.startswith("{"): d=json.loads(l); n+=d["flood_frames"]; k+=d["flood_kpps"]
print(n, k)' <"$TMP/flood-sa0")
bad_mac=$(($(hb_count bad-mac) - bad_mac))
wrong_source=$(($(hb_count wrong-source) - wrong_source))
bad_magic=$(($(hb_count bad-magic) - bad_magic))
echo "# flood: frames sent, kpps (hb-flood): $kpps; refused: bad-mac $bad_mac," \
	"wrong-source $wrong_source, bad-magic $bad_magic"
echo "# kernel filter: $(stat_of "['heartbeat_filter']")"
echo "# heartbeat delay, kernel arrival to detector: max ${delay} us (before the flood" \
	"${delay_before} us), $over over 1 ms; ansan's largest heartbeat gap $(site_of ansan max_gap_us) us"
check "the flood reached detourd (at least 10000 bad-mac, each a BLAKE2b)" test "$bad_mac" -ge 10000
check "the wrong-source flood was refused (at least 10000)" test "$wrong_source" -ge 10000
check "the kernel filter dropped the wrong-source flood before user space" \
	test "$(stat_of "['heartbeat_filter']['dropped'].get('wrong-source', 0)")" -ge 10000
check "ansan's heartbeats kept arriving during the flood" \
	test "$(site_of ansan heartbeats)" -gt "$((ansan_hb + 20))"
check "ansan, whose beacon lived, never went DOWN during the flood" test -z "$(last_event ansan down)"
check "no heartbeat waited more than $FLOOD_DELAY_MAX_MS ms between kernel and detector" \
	test "$delay" -le $((FLOOD_DELAY_MAX_MS * 1000))
check "detourd survived the flood and answers" eval 'kill -0 $DAEMON_PID && ctl status >/dev/null'
check "ansan is UP once the flood is over" \
	wait_until $((HOLD_DOWN_MS + RECOVERY_TIMEOUT_MS + OBSERVE_MARGIN_MS)) state_is ansan up
finish
