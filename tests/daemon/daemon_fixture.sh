# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash source-path=SCRIPTDIR
# Sourced by every tests/daemon/test-daemon-*.sh: the network of scripts/lib/two_sites.sh (one
# edge router with detourd, a client and two sites, each in a namespace of its own, all torn down
# on exit), TAP output, and the readers of detourd's counters, event log and pinned trie that
# the daemon tests check.
#
# Programs come from the environment (tests/daemon/meson.build sets it): DETOURD, DETOURCTL,
# DETOUR_BEACON, DT_XDP_HELPER, HB_FORGE, XDP_PASS_OBJ.
set -u

for v in DETOURD DETOURCTL DETOUR_BEACON DT_XDP_HELPER HB_FORGE XDP_PASS_OBJ; do
	if [ ! -e "${!v:-}" ]; then
		echo "Bail out! $v is not set to an existing file (run through meson test)"
		exit 1
	fi
done

# bail MESSAGE: the test cannot go on (defined before the network's library, which calls it)
bail() {
	echo "Bail out! $1"
	if [ -s "${DERR:-}" ]; then sed 's/^/#   detourd: /' "$DERR"; fi
	exit 1
}

# shellcheck source=../../scripts/lib/two_sites.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/two_sites.sh"

# How much later than interval x multiplier after the last heartbeat the daemon may notice a loss
# (its own timestamps): wake-up latency of an ordinary (not SCHED_FIFO) process on a loaded
# 2-core machine, sanitizer builds included.
DETECT_MARGIN_MS=${DETECT_MARGIN_MS:-35}
# How long an operator polling `detourctl --json status` may wait on top of that: each poll is
# a process start, a connect and a JSON reply.
OBSERVE_MARGIN_MS=${OBSERVE_MARGIN_MS:-1500}

# shellcheck source=../../scripts/lib/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/tap.sh"
tap_explain() {
	if [ -s "$DERR" ]; then tail -n 15 "$DERR" | sed 's/^/#   detourd: /'; fi
}

finish() {
	echo "1..$((passed + failed))"
	echo "# $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

mono_ms() { # a coarse clock (10 ms steps) for time limits
	local up
	read -r up _ </proc/uptime
	echo "${up/./}0"
}

# ---- observing ---------------------------------------------------------------------------------

hb_count() { # REASON: a heartbeat counter of `detourctl --json stats`
	ctl --json stats | json "d['heartbeats']['$1']"
}

# The last event of the event log for SITE going to STATE, as JSON, or nothing.
last_event() {
	python3 - "$EVENTS" "$1" "$2" <<'EOF'
import json, sys
last = None
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["site"] == sys.argv[2] and e["to"].lower() == sys.argv[3].lower():
        last = e
print(json.dumps(last) if last else "")
EOF
}

# event_timing_ok SITE STATE MAX_MS: the event has last_heartbeat <= deadline <= detected <=
# applied, and was detected at most MAX_MS after the last heartbeat. Prints the timing.
event_timing_ok() {
	local ev
	ev=$(last_event "$1" "$2")
	[ -n "$ev" ] || return 1
	echo "$ev" | python3 -c 'import json,sys
e=json.load(sys.stdin); m=int(sys.argv[1])
lh,dl,de,ap=e["last_heartbeat_ns"],e["deadline_ns"],e["detected_ns"],e["applied_ns"]
print("#   %s -> %s: deadline %.3f ms, detected %.3f ms, applied %.3f ms after the last heartbeat"
      % (e["site"], e["to"], (dl-lh)/1e6, (de-lh)/1e6, (ap-lh)/1e6))
sys.exit(0 if 0 < lh <= dl <= de <= ap and de - lh <= m * 1000000 else 1)' "$3"
}

# Both sites UP in status and in the map: the starting point of every test.
sites_up() {
	state_is pangyo UP && state_is ansan UP && map_state_is 1 1 && map_state_is 2 1
}

# lpm_home IPV4: the home site id the pinned dt_prefix_v4 trie gives this address, or "none".
lpm_home() {
	local key
	key="32 0 0 0 $(echo "$1" | tr . ' ')" # struct dt_lpm_v4_key: host-order length, address
	# shellcheck disable=SC2086
	bpftool -j map lookup pinned "$ROOT/dt_prefix_v4" key $key 2>/dev/null |
		python3 -c 'import json,sys
try:
    v=json.load(sys.stdin)["value"]
    print(int(v[0],16) | int(v[1],16) << 8)
except Exception:
    print("none")'
}

# check_pangyo_down DOWN-TEXT TIMING-TEXT: pangyo's beacon stops; pangyo is DOWN in status within
# DETECT_MS + OBSERVE_MARGIN_MS, and its event was detected within DETECT_MS + DETECT_MARGIN_MS
# of the last heartbeat (two checks, with these descriptions).
check_pangyo_down() {
	stop_beacon 1
	check "$1" wait_until $((DETECT_MS + OBSERVE_MARGIN_MS)) state_is pangyo down
	check "$2" event_timing_ok pangyo down $((DETECT_MS + DETECT_MARGIN_MS))
}

# cut_power_under_clients MODE LATE_MS: two `ctl_attack.py MODE` clients of the control socket for
# 4 s (their lines in $TMP/client1.out and client2.out, their pids in CLIENT_PIDS); 1 s in,
# pangyo's power is cut. Checks that pangyo goes DOWN and that its DOWN event was detected at most
# LATE_MS after its deadline, that is within interval x multiplier + LATE_MS of its last heartbeat.
cut_power_under_clients() {
	local i ev late since
	CLIENT_PIDS=()
	for i in 1 2; do
		ip netns exec "$NS_E" python3 "$(dirname "${BASH_SOURCE[0]}")/ctl_attack.py" "$1" \
			"$SOCK" 4 >"$TMP/client$i.out" &
		EXTRA_PIDS+=($!)
		CLIENT_PIDS+=($!)
	done
	sleep 1
	stop_beacon 1
	check "pangyo DOWN while the clients ($1) run" \
		wait_until $((DETECT_MS + OBSERVE_MARGIN_MS)) state_is pangyo down
	ev=$(last_event pangyo down)
	late=$(echo "${ev:-null}" | json "(d['detected_ns'] - d['deadline_ns']) / 1e6 if d else 1e9")
	since=$(echo "${ev:-null}" | json "(d['detected_ns'] - d['last_heartbeat_ns']) / 1e6 if d else 1e9")
	echo "# pangyo's DOWN detected $late ms after its deadline, $since ms after its last heartbeat"
	check "pangyo's DOWN detected within $2 ms of its deadline ($late ms; $since ms after its last heartbeat)" \
		python3 -c "import sys; sys.exit(0 if $late <= $2 and $since <= $DETECT_MS + $2 else 1)"
}

# Every pinned map that holds configuration, dumped to FILE in an order that does not depend on
# the kernel's: two snapshots compare byte for byte (cmp).
CONFIG_MAPS="dt_site dt_failover dt_egress dt_prefix_v4 dt_prefix_v6 dt_site_state"
config_maps_snapshot() {
	local m
	for m in $CONFIG_MAPS; do
		echo "== $m"
		bpftool -j map dump pinned "$ROOT/$m" | python3 -c 'import json, sys
for e in sorted(json.load(sys.stdin), key=lambda e: json.dumps(e, sort_keys=True)):
    print(json.dumps(e, sort_keys=True))'
	done >"$1"
}
