#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# bench-daemon: detourd measured from outside, in the namespaces of scripts/lib/two_sites.sh (the
# daemon tests' network: one edge, a client, two sites; 198.18.0.0/15 and 2001:db8::/32 only; all
# torn down on exit).
#
#   memory  detourd's peak RSS (VmHWM) with the default table sizes, as deployed (SCHED_FIFO,
#           mlockall) and with --no-realtime;
#   reload  SIGHUP to a file with 10,000 more prefixes: time until detourd logs "applied", then
#           a SIGHUP of the same file (no change: parsing and diffing 10,000 prefixes), while a
#           client sends UDP requests through the edge to a site every millisecond and counts
#           the answers that never came.
#
#   bench-daemon.sh [--quick] memory|reload...     last line: one JSON object of figures
# Programs come from the environment as two_sites.sh wants them (scripts/bench.sh sets them).
set -u
# shellcheck source=bench_args.sh
. "$(dirname "$0")/bench_args.sh"
bench_args "memory reload" "$@"
# shellcheck source=../scripts/lib/two_sites.sh
. "$(dirname "$0")/../scripts/lib/two_sites.sh"
# The network is removed on EXIT; make a signal (timeout, Ctrl-C, a closed pipe) an exit too.
dt_trap_cleanup two_sites_cleanup INT TERM HUP PIPE

declare -A FIG=()
RELOAD_PREFIXES=10000

# detourd's configuration at the default sizes: the tests', without their small flow table.
default_config() { write_config "$CONF" "$@" && sed -i '/^flow_table_size/d' "$CONF"; }

vm_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

daemon_down() {
	stop_beacon 1
	stop_beacon 2
	kill_daemon TERM
}

bench_memory() {
	default_config
	# As deployed. Not through daemon_and_beacons_up: in this mode detourctl's queries are
	# refused once heartbeats flow ("detourd closed the connection"), so the steady state is
	# waited for.
	DETOURD_SCHED_ARGS='' start_daemon || bail "detourd (SCHED_FIFO, mlockall) did not start"
	start_beacon 1
	start_beacon 2
	sleep 1 # a second of heartbeats: the steady state
	FIG[detourd_peak_rss_kb]=$(vm_kb "$DAEMON_PID" VmHWM)
	echo "detourd as deployed (SCHED_FIFO, mlockall): VmHWM ${FIG[detourd_peak_rss_kb]} kB"
	daemon_down
	daemon_and_beacons_up 5000 # --no-realtime
	sleep 1
	FIG[detourd_peak_rss_nolock_kb]=$(vm_kb "$DAEMON_PID" VmHWM)
	echo "detourd --no-realtime: VmHWM ${FIG[detourd_peak_rss_nolock_kb]} kB"
	daemon_down
}

# N prefixes besides the default three: /28s of 198.19.0.0/16 and /64s of 2001:db8:1::/48.
many_prefixes() {
	python3 - "$1" <<'EOF'
import sys
n = int(sys.argv[1]); v4 = min(n // 2, 4096)
for i in range(v4):
    print("198.19.%d.%d/28 %s" % (i // 16, (i % 16) * 16, "pangyo" if i % 2 else "ansan"))
for i in range(n - v4):
    print("2001:db8:1:%x::/64 %s" % (i, "ansan" if i % 2 else "pangyo"))
EOF
}

# A UDP echo service at 198.18.10.1 in pangyo's namespace, reached through the edge.
start_echo() {
	ip -n "$NS_A" addr add 198.18.10.1/32 dev lo
	ip -n "$NS_A" route add 198.18.1.0/24 via 198.18.2.1
	ip netns exec "$NS_A" python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.10.1", 7000))
s.settimeout(30)
while True:
    data, peer = s.recvfrom(64)
    s.sendto(data, peer)' &
	EXTRA_PIDS+=($!)
}

# COUNT requests 1 ms apart from the client; prints "sent answered". Bounded: COUNT ms + 0.5 s.
udp_requests() {
	ip netns exec "$NS_C" python3 -c 'import socket, sys, time
n = int(sys.argv[1]); s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False); got = set(); t0 = time.monotonic()
def drain():
    while True:
        try: got.add(int(s.recv(64)))
        except BlockingIOError: return
for i in range(n):
    s.sendto(b"%d" % i, ("198.18.10.1", 7000)); drain()
    time.sleep(max(0, t0 + (i + 1) / 1000 - time.monotonic()))
end = time.monotonic() + 0.5
while time.monotonic() < end and len(got) < n:
    drain(); time.sleep(0.001)
print(n, len(got))' "$1"
}

# SIGHUP, then poll detourd's stderr every millisecond for its Nth "applied" line (max 30 s).
reload_ms() { # N
	python3 - "$DAEMON_PID" "$DERR" "$1" <<'EOF'
import os, signal, sys, time
pid, path, want = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
t0 = time.monotonic(); os.kill(pid, signal.SIGHUP)
while time.monotonic() - t0 < 30:
    with open(path) as f:
        if sum("reload:" in l and " applied (" in l for l in f) >= want:
            print("%.1f" % ((time.monotonic() - t0) * 1000)); sys.exit(0)
    time.sleep(0.001)
sys.exit(1)
EOF
}

bench_reload() {
	local window=$((QUICK ? 3000 : 6000)) lost_file=$TMP/udp.out added same
	default_config
	daemon_and_beacons_up 5000
	start_echo
	read -r sent answered < <(udp_requests 300)
	[ "${answered:-0}" -gt 0 ] || bail "no UDP answers through the edge before the reload"
	mapfile -t extra < <(many_prefixes "$RELOAD_PREFIXES")
	default_config "198.18.10.0/24 pangyo" "2001:db8:10::/48 pangyo" "198.18.20.0/24 ansan" \
		"${extra[@]}"
	udp_requests "$window" >"$lost_file" &
	local client=$!
	sleep 0.5
	added=$(reload_ms 1) || bail "the reload with $RELOAD_PREFIXES prefixes was not applied"
	same=$(reload_ms 2) || bail "the unchanged reload was not applied"
	wait "$client"
	read -r sent answered <"$lost_file"
	grep "reload:" "$DERR" | sed 's/^/  /'
	echo "reload +$RELOAD_PREFIXES prefixes: $added ms; unchanged $RELOAD_PREFIXES: $same ms;" \
		"UDP requests: $sent sent, $((sent - answered)) unanswered"
	FIG[reload_10k_apply_ms]=$added
	FIG[reload_10k_unchanged_ms]=$same
	FIG[reload_udp_sent]=$sent
	FIG[reload_udp_lost]=$((sent - answered))
	daemon_down
}

setup_topology || bail "namespace setup failed"
write_keys
for w in "${WHAT[@]}"; do
	case $w in
	memory) bench_memory ;;
	reload) bench_reload ;;
	*) bail "unknown benchmark $w" ;;
	esac
done
printf '{'
sep=
for k in "${!FIG[@]}"; do
	printf '%s"%s": %s' "$sep" "$k" "${FIG[$k]}"
	sep=', '
done
printf '}\n'
