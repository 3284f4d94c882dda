# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# The measurements of bench-e2e.sh, sourced after scripts/lib/topology.sh. Every process started
# here goes through dt_spawn, so dt_topo_down (on exit too) stops it by its recorded pid.

# ---- common ---------------------------------------------------------------------------------

e2e_cleanup() {
	dt_topo_down
	rm -f "${FIGURES:-}"
}

# e2e_topo_up: a fresh topology with the DT_* parameters the caller exported.
e2e_topo_up() {
	DT_WORK=
	dt_topo_up || dt_die "topology did not come up"
}

e2e_topo_down() {
	dt_topo_down
	DT_WORK=
}

e2e_events() { wc -l <"$DT_WORK/events.jsonl"; }

dataplane_mode() { dt_ctl --json status | python3 -c 'import json, sys
print(json.load(sys.stdin)["dataplane"]["mode"])'; }

# detourd_threads: each thread of detourd (tid, name, policy, priority, CPU use) and the CPUs it
# may run on: where the EAL put the main lcore and the worker. On stderr.
detourd_threads() {
	local tid rest
	ps -L -o tid=,comm=,cls=,rtprio=,pcpu= -p "$(dt_pid detourd)" | while read -r tid rest; do
		echo "  detourd thread $tid $rest, cpus $(taskset -pc "$tid" | sed 's/.*: //')" >&2
	done
}

# ---- BIRD 2 and its BFD session edge <-> SITE -------------------------------------------------

# The link BFD runs over: the site's data link (e-SITE|s0) with the XDP dataplane; the management
# link (m-SITE|m0, the heartbeats' link) with the DPDK dataplane, which owns e-SITE: the edge
# kernel's replies through the exception port would leave by edge0, not toward the site.
BFD_LINK=data

# bfd_endpoint WHERE SITE: "IFNAME MY_ADDRESS PEER_ADDRESS" of BIRD in WHERE (edge or SITE).
bfd_endpoint() {
	local where=$1 site=$2 addr=dt_site_v4 edge_if=e-$2 site_if=s0
	[ "$BFD_LINK" = data ] || addr=dt_mgmt_v4 edge_if=m-$2 site_if=m0
	if [ "$where" = edge ]; then
		echo "$edge_if $($addr "$site" 1) $($addr "$site" 2)"
	else
		echo "$site_if $($addr "$site" 2) $($addr "$site" 1)"
	fi
}

# bird_start WHERE SITE: BIRD in namespace WHERE (edge or SITE) with one BFD session to the other
# end at DT_INTERVAL_MS x DT_MULTIPLIER, SCHED_FIFO like detourd and the beacons. Its log has
# wall-clock stamps (BIRD has no other clock): TZ=UTC so they read without a zone.
bird_start() {
	local where=$1 site=$2 ifname peer me
	read -r ifname me peer <<<"$(bfd_endpoint "$where" "$site")"
	cat >"$DT_WORK/bird-$where.conf" <<EOF
log "$DT_WORK/bird-$where.log" all;
timeformat log "%F %T.%6f";
router id $me;
protocol device {}
protocol bfd {
	debug { states, events };
	interface "$ifname" {
		interval $DT_INTERVAL_MS ms;
		multiplier $DT_MULTIPLIER;
		idle tx interval 10 ms;
	};
	neighbor $peer dev "$ifname";
}
EOF
	rm -f "$DT_WORK/bird-$where.ctl"
	dt_spawn "bird-$where" "$where" env TZ=UTC chrt -f 20 bird -f -c "$DT_WORK/bird-$where.conf" \
		-s "$DT_WORK/bird-$where.ctl"
	disown "$(dt_pid "bird-$where")"
}

bfd_session_up() { # BIRD in the edge reports its session Up
	birdc -s "$DT_WORK/bird-edge.ctl" show bfd sessions 2>/dev/null | grep -q ' Up '
}

# ---- failover -------------------------------------------------------------------------------

# power_cut SITE: the beacon and the site's BIRD die in one instant (both SIGKILLed by the same
# process right after it reads the clock), then the site's links go down as dt_cut_power does.
# Prints "CUT_NS REALTIME_MINUS_MONOTONIC_NS".
power_cut() {
	local s b pids=()
	s=$(dt_ns "$1")
	for b in $(dt_beacon_ids); do pids+=("$(dt_pid "$(dt_beacon_name "$1" "$b")")"); done
	python3 - "$(dt_pid "bird-$1")" "${pids[@]}" <<'EOF'
import os, sys, time
t = time.monotonic_ns()
for pid in sys.argv[1:]:
    os.kill(int(pid), 9)
print(t, time.time_ns() - time.monotonic_ns())
EOF
	ip -n "$s" link set s0 down
	ip -n "$s" link set m0 down
	for b in $(dt_beacon_ids); do dt_kill "$(dt_beacon_name "$1" "$b")" KILL; done
	dt_kill "bird-$1" KILL
}

# disown_beacons SITE: they are killed by power_cut, without a "Killed" line from bash.
disown_beacons() {
	local b
	for b in $(dt_beacon_ids); do disown "$(dt_pid "$(dt_beacon_name "$1" "$b")")"; done
}

# fresh_detourd: a restart without the state file, so nothing of the last cuts is kept (a restart
# keeps states and damping: docs/detector.md, "Restart").
fresh_detourd() {
	dt_kill detourd TERM
	rm -f "$DT_WORK/detourd.state"
	dt_start_detourd
}

# failover_ready SITE: power back, a fresh detourd that forgets (fresh_detourd: the flap damping
# that 30 cuts of one site would build up would hold the site down for minutes), every site UP,
# and the BFD session Up again (BFD=0: no BIRD, failover-tcp).
BFD=1
failover_ready() {
	local site=$1
	if [ -z "$(dt_pid "beacon-$site")" ]; then
		dt_restore_power "$site"
		disown_beacons "$site"
		[ "$BFD" = 0 ] || bird_start "$site" "$site"
		fresh_detourd
	fi
	# Two false DOWNs of one site in one daemon's life are damped (held down for a minute or
	# more): then a fresh daemon, once, as between cuts.
	if ! dt_wait_until 3000 dt_all_up; then
		dt_log "not every site UP, detourd restarted: $(dt_ctl sites | tr -s ' \n' ' ')"
		fresh_detourd
		dt_wait_until 10000 dt_all_up || { dt_log "sites: $(dt_ctl sites | tr '\n' ' ')"; return 1; }
	fi
	[ "$BFD" = 0 ] || dt_wait_until 10000 bfd_session_up || {
		dt_log "BFD: $(birdc -s "$DT_WORK/bird-edge.ctl" show bfd sessions | tr '\n' ' ')"
		return 1
	}
	sleep 0.2 # a few hundred heartbeats and BFD packets of steady state before the cut
}

# failover_cut K SITE: the client sends 5000 UDP requests/s over 16 flows for CLIENT_MS (0.8 s);
# SITE loses power 0.3 s in. Appends one JSON line per cut to cuts.jsonl ("valid": every site
# was UP, and the client still sent after the cut).
CLIENT_MS=800
failover_cut() {
	local k=$1 site=$2 log=$DT_WORK/client$1.log before cut ready
	before=$(e2e_events) ready=$(dt_mono_ns)
	dt_spawn "client$k" client "$DT_CLIENT" udp --addr "$DT_SERVICE_V4" --rate 5000 \
		--duration "$CLIENT_MS" --flows 16 --timeout 200 --log "$log"
	sleep 0.3
	cut=$(power_cut "$site")
	dt_wait_until $((CLIENT_MS + 2200)) test ! -e "/proc/$(dt_pid "client$k")" ||
		dt_log "client$k still running"
	dt_kill "client$k" INT
	# shellcheck disable=SC2086 # $cut is two numbers
	python3 "$HERE/e2e_report.py" cut --events "$DT_WORK/events.jsonl" --skip "$before" \
		--site "$site" --client-log "$log" --cut $cut --bird-log "$DT_WORK/bird-edge.log" \
		--ready "$ready" >>"$DT_WORK/cuts.jsonl"
}

valid_cuts() { grep -c '"valid": true' "$DT_WORK/cuts.jsonl"; }

# failover_setting INTERVAL_MS CUTS [DATAPLANE]: one topology, CUTS counted power cuts of
# pangyo. A cut made while some site was not UP (a false DOWN just before it), or one the client
# did not see (a stalled script: the client had ended), is not counted and is made again, at
# most 2 x CUTS times in all. DATAPLANE (xdp, or dpdk once dt_start_detourd is the DPDK one)
# names the figures.
failover_setting() {
	local k=0 site=${DT_SITES%% *} dataplane=${3:-xdp}
	export DT_INTERVAL_MS=$1 DT_MULTIPLIER=3
	e2e_topo_up
	[ "$(dataplane_mode)" = "$dataplane" ] || dt_die "detourd's dataplane is not $dataplane"
	[ "$dataplane" = xdp ] || detourd_threads
	disown_beacons "$site"
	bird_start edge "$site"
	bird_start "$site" "$site"
	: >"$DT_WORK/cuts.jsonl"
	while [ "$(valid_cuts)" -lt "$2" ] && [ $k -lt $((2 * $2)) ]; do
		failover_ready "$site" || dt_die "cut $k: not every site UP, or BFD not Up"
		failover_cut "$k" "$site"
		k=$((k + 1))
	done
	python3 "$HERE/e2e_report.py" failover --interval "$1" --cuts "$DT_WORK/cuts.jsonl" \
		--events "$DT_WORK/events.jsonl" --site "$site" --bird-log "$DT_WORK/bird-edge.log" \
		--dataplane "$dataplane" ${REDUNDANT:+--redundant} >>"$FIGURES"
	e2e_topo_down
}

bench_failover() {
	local cuts=$((QUICK ? 5 : 30))
	failover_setting 1 "$cuts"
	failover_setting 10 "$cuts"
}

# redundant_beacons: two beacons per site, each heartbeat over two paths (the management link
# and the data link: scripts/lib/topology.sh), beacon B of every site pinned to CPU B.
redundant_beacons() {
	export DT_BEACONS_PER_SITE=2 DT_HB_PATHS=2 REDUNDANT=1
}

pin_beacons() {
	local site b
	for site in $DT_SITES; do
		for b in $(dt_beacon_ids); do
			taskset -pc "$((b % $(nproc)))" "$(dt_pid "$(dt_beacon_name "$site" "$b")")" \
				>/dev/null
		done
	done
}

# The 1 ms cuts again with redundant beacons: every beacon of the site dies at the cut
# (failover_redundant_1ms_*). In a subshell: the exports stay there.
bench_failover_redundant() {
	(
		dt_trap_cleanup e2e_topo_down INT TERM HUP PIPE # a subshell has no traps of its own
		redundant_beacons
		failover_setting 1 $((QUICK ? 5 : 30))
	) || exit 1
}

# The same cuts with detourd --dataplane dpdk (scripts/lib/dpdk.sh: af_xdp ports on edge0 and
# every e-SITE, a TAP exception port, the one worker busy-polling CPU 1) and BFD over the
# management link. In a subshell: the DPDK dt_start_detourd replaces the XDP one only there,
# and a failure still removes the topology.
bench_failover_dpdk() {
	local cuts=$((QUICK ? 5 : 30))
	(
		dt_trap_cleanup e2e_topo_down INT TERM HUP PIPE
		# shellcheck source=../scripts/lib/dpdk.sh
		. "$HERE/../scripts/lib/dpdk.sh"
		BFD_LINK=mgmt
		# The worker leaves ordinary processes (this script too) one CPU to share: a stalled
		# script cut after a 0.8 s client had ended, up to 8 times in 10 cuts when others
		# loaded the machine (not counted, made again). 2 s leave the cut room.
		CLIENT_MS=2000
		# The main lcore (detourd's detector, SCHED_FIFO) may run on either CPU, the worker
		# only on CPU 1: the detector need not wait for one busy CPU (docs/benchmarks.md).
		: "${DT_DPDK_LCORES:=--lcores 0@(0-1),1@1}"
		# --no-huge: the 256 hugepages are shared with the DPDK tests and benchmarks of others;
		# one took them between the check and the EAL's start once, and the run died.
		: "${DT_DPDK_HUGE:=0}"
		export DT_DPDK_LCORES DT_DPDK_HUGE
		dt_log "failover-dpdk: EAL $(dpdk_eal_args | head -1)"
		failover_setting 1 "$cuts" dpdk
		failover_setting 10 "$cuts" dpdk
	) || exit 1
}

# ---- TCP clients across a cut (issue 16) -------------------------------------------------------

# Four curl clients (scripts/lib/http.sh) to nginx at every site, as test-tcp-recovery.sh: a
# connection per request and one kept alive, IPv4 and IPv6, each TCP_REQUESTS paced at TCP_RATE
# (1.5 s); the cut 0.5 s in.
TCP_RATE=500
TCP_REQUESTS=750
TCP_CLIENTS="v4-close v4-keepalive v6-close v6-keepalive"

# tcp_cut K SITE: the clients across a power cut of SITE (dt_cut_power: beacons killed, links
# down). Appends one JSON line to tcp-cuts.jsonl: each client's tcp_gap_ms (the longest time
# between two successful responses) and what makes the cut count: every request logged, none
# failed before the cut, SITE answered before it and another site after it.
tcp_cut() {
	local k=$1 site=$2 c host mode before cut pid
	for c in $TCP_CLIENTS; do
		host=$DT_SERVICE_V4 mode=${c#*-}
		[ "${c%%-*}" = v4 ] || host="[$DT_SERVICE_V6]"
		dt_curl_client "tcp$k-$c" "$host" "$mode" "$TCP_RATE" "$TCP_REQUESTS"
	done
	sleep 0.5
	before=$(dt_mono_ns)
	dt_cut_power "$site"
	cut=$(dt_mono_ns)
	for c in $TCP_CLIENTS; do # each bounded: 2 s a request, 60 s in all (dt_curl_client)
		pid=$(cat "$DT_WORK/client-tcp$k-$c.pid")
		wait "$pid" || dt_log "cut $k: client $c exited $?"
	done
	for c in $TCP_CLIENTS; do
		echo "$c $DT_WORK/tcp$k-$c.log $(dt_tcp_gap_ms "$DT_WORK/tcp$k-$c.log")"
	done | python3 "$HERE/e2e_report.py" tcp-cut --site "$site" --before "$before" --cut "$cut" \
		--requests "$TCP_REQUESTS" --detourd-log "$DT_WORK/logs/detourd.log" \
		>>"$DT_WORK/tcp-cuts.jsonl"
}

# tcp_setting on|off CUTS: one topology (5 ms x 3, the service prefixes flagged tcp_reset or
# not), nginx at every site, CUTS counted cuts of pangyo (at most 2 x CUTS made), a fresh detourd
# before each (failover_ready, no BIRD).
tcp_setting() {
	local k=0 site=${DT_SITES%% *}
	export DT_INTERVAL_MS=5 DT_MULTIPLIER=3
	if [ "$1" = on ]; then export DT_PREFIX_FLAGS=tcp_reset; else unset DT_PREFIX_FLAGS; fi
	e2e_topo_up
	dt_nginx_all
	: >"$DT_WORK/tcp-cuts.jsonl"
	while [ "$(grep -c '"valid": true' "$DT_WORK/tcp-cuts.jsonl")" -lt "$2" ] &&
		[ $k -lt $((2 * $2)) ]; do
		failover_ready "$site" || dt_die "tcp cut $k: not every site UP"
		tcp_cut "$k" "$site"
		k=$((k + 1))
	done
	python3 "$HERE/e2e_report.py" tcp --cuts "$DT_WORK/tcp-cuts.jsonl" --setting "$1" >>"$FIGURES"
	e2e_topo_down
}

# failover_tcp_gap_ms_* with tcp_reset, failover_tcp_gap_off_ms_* without. In a subshell: BFD=0
# and the exports stay there, and a failure still removes the topology.
bench_failover_tcp() {
	(
		dt_trap_cleanup e2e_topo_down INT TERM HUP PIPE
		BFD=0
		tcp_setting on $((QUICK ? 5 : 30))
		tcp_setting off $((QUICK ? 5 : 30))
	) || exit 1
}

# ---- false failovers under CPU load ------------------------------------------------------

# busy_loops SECONDS: one spinning process per CPU, each bounded by timeout(1).
busy_loops() {
	local cpu
	for cpu in $(seq 0 $(($(nproc) - 1))); do
		dt_spawn "load$cpu" edge timeout "$1" taskset -c "$cpu" sh -c 'while :; do :; done'
	done
}

steal_ticks() { awk '/^cpu / { print $9 }' /proc/stat; } # time the hypervisor ran others

# udp_rcvbuf_errors: datagrams the edge's kernel dropped because a socket's buffer was full
# (detourd's heartbeat socket is the one that receives 3000 a second).
udp_rcvbuf_errors() {
	dt_in edge cat /proc/net/snmp | awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $6 }'
}

# capture_drops: heartbeats the capture lost (dumpcap's summary, per interface "N/DROPPED").
capture_drops() {
	grep -o 'received/dropped on interface [^:]*: [0-9]*/[0-9]*' "$DT_WORK/logs/capture.log" |
		awk -F/ '{ n += $NF } END { print n + 0 }'
}

# falsedown_run SECONDS MULTIPLIER: three 1 ms beacons, both CPUs spinning; the heartbeats are
# captured on the edge's management links to find the largest gap between two arrivals. The
# capture is SCHED_FIFO (below the beacons) with a large buffer: a starved capture drops
# packets, and a dropped heartbeat would read as a gap that the daemon never saw.
falsedown_run() { # SECONDS MULTIPLIER [PHI_THRESHOLD]
	local secs=$1 phi=${3:-0} before steal rcvbuf
	export DT_INTERVAL_MS=1 DT_MULTIPLIER=$2 DT_PHI_THRESHOLD=$phi
	local links=() site
	e2e_topo_up
	[ -z "${REDUNDANT:-}" ] || pin_beacons
	before=$(e2e_events)
	for site in $DT_SITES; do
		links+=(-i "m-$site")
		[ -z "${REDUNDANT:-}" ] || links+=(-i "e-$site") # path 2
	done
	dt_spawn capture edge timeout $((secs + 10)) chrt -f 10 dumpcap -q -B 64 "${links[@]}" \
		-f "udp dst port $DT_HB_PORT" -w "$DT_WORK/hb.pcapng"
	steal=$(steal_ticks) rcvbuf=$(udp_rcvbuf_errors)
	busy_loops "$secs"
	sleep "$secs"
	steal=$(($(steal_ticks) - steal)) rcvbuf=$(($(udp_rcvbuf_errors) - rcvbuf))
	# One line, not starting with "{": scripts/bench.sh takes lines starting so for figures.
	echo "detourd stats: $(dt_ctl --json stats | tr -d ' \n')" >&2
	dt_kill capture INT
	python3 "$HERE/e2e_report.py" falsedown --events "$DT_WORK/events.jsonl" --skip "$before" \
		--pcap "$DT_WORK/hb.pcapng" --seconds "$secs" --interval 1 --multiplier "$2" --phi "$phi" \
		--steal-ticks "$steal" --capture-drops "$(capture_drops)" --rcvbuf-errors "$rcvbuf" \
		${REDUNDANT:+--redundant} >>"$FIGURES"
	e2e_topo_down
}

# At 1 ms x 3; if that had false DOWNs, again for as long at the multiplier that the largest
# heartbeat gap of the first run says would have held (at most 100, detourd's limit), for at
# most 2 minutes; then as long as the first with the adaptive detector (phi_threshold 8).
bench_falsedown() {
	local secs=$((QUICK ? 60 : 600)) m
	falsedown_run "$secs" 3
	m=$(python3 "$HERE/e2e_report.py" merge "$FIGURES" | python3 -c 'import json, sys
f = json.load(sys.stdin)
m = min(100, max(4, f.get("falsedown_multiplier_needed", 0)))
print(m if f.get("falsedown_x3_down_events") else 0)')
	[ "$m" = 0 ] || falsedown_run $((secs < 120 ? secs : 120)) "$m"
	bench_falsedown_phi
}

# Two beacons per site on different CPUs, each heartbeat over two paths, 1 ms x 3, both CPUs
# spinning: falsedown_redundant_x3_* (issue 13's goal: no false DOWN).
bench_falsedown_redundant() {
	(
		dt_trap_cleanup e2e_topo_down INT TERM HUP PIPE # a subshell has no traps of its own
		redundant_beacons
		falsedown_run $((QUICK ? 60 : 600)) 3
	) || exit 1
}

# The first run's setting with the adaptive detector (phi-accrual, phi 8, never before x 3).
bench_falsedown_phi() { falsedown_run $((QUICK ? 60 : 600)) 3 8; }

# ---- forwarding on veth ------------------------------------------------------------------------

rx_packets() { # NAMESPACE-SUFFIX IFNAME
	dt_in "$1" cat "/sys/class/net/$2/statistics/rx_packets"
}

# napi_pids DEV: the threads that run threaded NAPI for interfaces named DEV, in any namespace.
napi_pids() { ps -e -o pid=,comm= | awk -v d="napi/$1-" 'index($2, d) == 1 { print $1 }'; }

# napi_threads DEV: those of this topology: not in NAPI_FOREIGN (listed before ours existed).
# shellcheck disable=SC2086 # one pid a word
napi_threads() { napi_pids "$1" | grep -vxF -f <(printf '%s\n' $NAPI_FOREIGN) || true; }

# The edge alone on the last CPU, as on a router whose NIC queue has a core of its own: edge0's
# NAPI (threaded; GRO on gives a veth NAPI without XDP too, so both paths run the same way)
# there; the generator and the receiving site's NAPI (threaded too) on CPU 0. Both NAPI threads
# SCHED_FIFO, above the beacons and detourd: the machine is shared, and a fuzzer or a build of
# someone else on the edge's CPU would otherwise be what is measured. (RT throttling still
# leaves others 5 %; each rate runs for 10 s at most.)
forward_split_cpus() {
	local last=$(($(nproc) - 1)) pid
	[ -n "$(napi_threads edge0)" ] && [ -n "$(napi_threads s0)" ] || dt_die "no NAPI thread to pin"
	for pid in $(napi_threads edge0); do taskset -pc "$last" "$pid" >/dev/null; done
	for pid in $(napi_threads s0); do taskset -pc 0 "$pid" >/dev/null; done
	for pid in $(napi_threads edge0) $(napi_threads s0); do chrt -f -p 50 "$pid"; done
}

# SITE's s0 drops every frame in XDP (the cheapest receiver, the same for both paths), and the
# NAPI of edge0 and of SITE's s0 run in threads that forward_split_cpus can pin.
forward_prepare() {
	NAPI_FOREIGN="$(napi_pids edge0) $(napi_pids s0)"
	dt_in edge ethtool -K edge0 gro on >/dev/null
	dt_in "$1" ip link set dev s0 xdp off
	dt_in "$1" ip link set dev s0 xdp obj "$DT_XDP_SINK_OBJ" sec xdp || dt_die "no XDP sink on $1"
	dt_in edge sh -c 'echo 1 >/sys/class/net/edge0/threaded' || dt_die "edge0: no threaded NAPI"
	dt_in "$1" sh -c 'echo 1 >/sys/class/net/s0/threaded' || dt_die "$1 s0: no threaded NAPI"
}

# forward_rate NAME SITE: bench/xdp-livegen on the client's cl0, on CPU 0 (bounded: 10 s and
# 100 M frames): 60-byte UDP frames of 64 flows to the anycast service's discard port, handed to
# the veth as xdp_frames, as a NIC driver hands frames to XDP. After 2 s of warm-up, frames
# received on SITE's s0, offered to cl0, and dropped on the edge's way out to SITE, over 3 s.
# Appends "NAME RX_KPPS OFFERED_KPPS EGRESS_DROP_KPPS".
# (trafgen, tried first, gives up at the first EAGAIN once the veth ring is full; dpdk-testpmd
# on af_xdp reaches the veth as skbs, which veth copies once more for XDP, and that copy, not
# Detour, was then what was measured.)
forward_rate() {
	local name=$1 site=$2
	forward_split_cpus
	dt_spawn "livegen-$name" client timeout -s INT 10 taskset -c 0 nice -n 19 "$XDP_LIVEGEN" \
		"$XDP_LIVEGEN_OBJ" cl0 02:dd:00:00:00:01 02:dd:00:00:00:02 198.18.1.2 \
		"$DT_SERVICE_V4" 100000000
	sleep 2
	python3 - "$(dt_ns "$site")" "$(dt_ns client)" "$name" "$(dt_ns edge)" "e-$site" >>"$DT_WORK/forward.txt" <<'EOF'
import subprocess, sys, time
def count(ns, dev, what):
    p = "/sys/class/net/%s/statistics/%s" % (dev, what)
    return int(subprocess.check_output(["ip", "netns", "exec", ns, "cat", p]))
site, client, name, edge, egress = sys.argv[1:]
def egress_drops():  # frames the edge could not hand to the site's veth (the receiver's limit)
    return count(edge, egress, "tx_dropped")
def offered():  # what the generator handed to cl0: taken by the veth, or dropped (ring full)
    return count(client, "cl0", "tx_packets") + count(client, "cl0", "tx_dropped")
r0, s0, d0, t0 = count(site, "s0", "rx_packets"), offered(), egress_drops(), time.monotonic()
time.sleep(3)
r1, s1, d1, t1 = count(site, "s0", "rx_packets"), offered(), egress_drops(), time.monotonic()
print(name, *(round((b - a) / (t1 - t0) / 1000, 1) for a, b in ((r0, r1), (s0, s1), (d0, d1))))
EOF
	dt_kill "livegen-$name" INT
}

# The three ways the edge forwards the same frames to ansan, each measured REPS times in turn
# (ansan's s0 drops every frame in XDP, so the site's own stack does not weigh on the figure):
# detour (pangyo failed, XDP rewrites and redirects), kernel+xdp (Detour attached, home UP, so
# XDP_PASS and the kernel forwards by a route to ansan), kernel (no XDP program on edge0).
bench_forward() {
	local reps=$((QUICK ? 1 : 3)) r e
	# Detection 1.5 s: the NAPI threads keep both CPUs busy at SCHED_FIFO 50, and heartbeats that
	# wait in a backlog for ksoftirqd (which runs only in RT throttling's 5 %) arrive up to a
	# second late. At 5 ms x 3 ansan went falsely DOWN during rounds (no_healthy_site in the
	# counters) and, damped after a second flap, stayed DOWN through whole rounds: 0 kpps.
	export DT_INTERVAL_MS=20 DT_MULTIPLIER=75 DT_HOLD_DOWN_MS=2000
	export DT_MODES="route route route" DT_FAILOVER_pangyo=ansan
	e2e_topo_up
	e=$(dt_ns edge)
	forward_prepare ansan
	: >"$DT_WORK/forward.txt"
	for ((r = 0; r < reps; r++)); do
		dt_ctl fail pangyo >/dev/null && dt_wait_state pangyo down 3000 || dt_die "fail pangyo"
		ip -n "$e" route replace "${DT_SERVICE_V4%.*}.0/24" via "$(dt_site_v4 pangyo 2)"
		forward_rate detour ansan
		dt_ctl restore pangyo >/dev/null && dt_wait_state pangyo up 15000 ||
			dt_die "restore pangyo"
		ip -n "$e" route replace "${DT_SERVICE_V4%.*}.0/24" via "$(dt_site_v4 ansan 2)"
		forward_rate kernel_xdp ansan
	done
	dt_kill detourd TERM
	ip -n "$e" link set edge0 xdp off || dt_die "cannot detach the XDP program from edge0"
	for ((r = 0; r < reps; r++)); do forward_rate kernel ansan; done
	sed 's/^/  /' "$DT_WORK/forward.txt" >&2
	python3 "$HERE/e2e_report.py" forward "$DT_WORK/forward.txt" >>"$FIGURES"
	e2e_topo_down
}
