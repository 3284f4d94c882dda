# SPDX-License-Identifier: GPL-2.0-only
# Sourced by every tests/daemon/test-daemon-*.sh: one edge router with detourd, a client and two
# sites, each in a network namespace of its own made here, and everything torn down on exit.
#
#   client (ns C) cl0 198.18.1.2 ── edge0 198.18.1.1 (ns E, XDP on edge0, detourd)
#   site pangyo (ns A, id 1) sa0 198.18.2.2 ── edge-a 198.18.2.1
#   site ansan  (ns B, id 2) sb0 198.18.3.2 ── edge-b 198.18.3.1
#
# Each site's beacon runs in its own namespace and sends heartbeats over its link to the edge's
# address on it; detourd listens on both. Prefix 198.18.10.0/24 (and 2001:db8:10::/48) is
# pangyo's, 198.18.20.0/24 ansan's. Addresses come only from 198.18.0.0/15 and 2001:db8::/32.
#
# The maps are pinned in a bpffs instance mounted by the test under its own temp directory (each
# `ip netns exec` gets a fresh /sys, so a bpffs mounted on /sys/fs/bpf inside one would be
# invisible to the next); the pin root, the control socket and the config are unique per test.
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

# Slower than a deployment's 5 ms x 3: beacons and detourd run here as ordinary processes on a
# shared 2-core machine (other builds and tests beside them), where a 15 ms stall of a beacon
# is common enough to fail a healthy site now and then.
INTERVAL_MS=20
MULTIPLIER=5
HOLD_DOWN_MS=300
RECOVERY_TIMEOUT_MS=600
DETECT_MS=$((INTERVAL_MS * MULTIPLIER))
# How much later than interval x multiplier after the last heartbeat the daemon may notice a loss
# (its own timestamps): wake-up latency of an ordinary (not SCHED_FIFO) process on a loaded
# 2-core machine, sanitizer builds included.
DETECT_MARGIN_MS=${DETECT_MARGIN_MS:-35}
# How long an operator polling `detourctl --json status` may wait on top of that: each poll is
# a process start, a connect and a JSON reply.
OBSERVE_MARGIN_MS=${OBSERVE_MARGIN_MS:-1500}

ID=$$
NS_E=dtd-e-$ID
NS_C=dtd-c-$ID
NS_A=dtd-a-$ID
NS_B=dtd-b-$ID
TMP=$(mktemp -d /tmp/dt-daemon-test.XXXXXX)
chmod 755 "$TMP" # the socket's own mode must be what keeps other users out, not the directory
BPFFS=$TMP/bpffs
ROOT=$BPFFS/detour
CONF=$TMP/detour.conf
KEYS=$TMP/detour.keys
SOCK=$TMP/detourd.sock
EVENTS=$TMP/events.jsonl
DERR=$TMP/detourd.err
DAEMON_PID=
declare -A BEACON_PID=()
EXTRA_PIDS=()

passed=0
failed=0

fixture_cleanup() {
	local p
	for p in $DAEMON_PID "${BEACON_PID[@]}" "${EXTRA_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for p in "$NS_E" "$NS_C" "$NS_A" "$NS_B"; do ip netns del "$p" 2>/dev/null; done
	umount "$BPFFS" 2>/dev/null
	rm -rf "$TMP"
}
trap fixture_cleanup EXIT

ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	if [ -s "$DERR" ]; then tail -n 15 "$DERR" | sed 's/^/#   detourd: /'; fi
}

check() { # description, command...
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

finish() {
	echo "1..$((passed + failed))"
	echo "# $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

bail() {
	echo "Bail out! $1"
	if [ -s "$DERR" ]; then sed 's/^/#   detourd: /' "$DERR"; fi
	exit 1
}

mono_ms() { # a coarse clock (10 ms steps) for time limits
	local up
	read -r up _ </proc/uptime
	echo "${up/./}0"
}

# ---- topology ----------------------------------------------------------------------------------

veth() { # NS1 IF1 ADDR1 NS2 IF2 ADDR2
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || return 1
	ip -n "$1" addr add "$3/24" dev "$2" && ip -n "$4" addr add "$6/24" dev "$5" &&
		ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up
}

mac_of() { # NS IF
	ip -n "$1" -br link show dev "$2" | awk '{ print $3 }'
}

setup_topology() {
	local n
	for n in "$NS_E" "$NS_C" "$NS_A" "$NS_B"; do
		ip netns add "$n" || return 1
		ip -n "$n" link set lo up
	done
	veth "$NS_E" edge0 198.18.1.1 "$NS_C" cl0 198.18.1.2 || return 1
	veth "$NS_E" edge-a 198.18.2.1 "$NS_A" sa0 198.18.2.2 || return 1
	veth "$NS_E" edge-b 198.18.3.1 "$NS_B" sb0 198.18.3.2 || return 1
	ip -n "$NS_C" route add 198.18.10.0/24 via 198.18.1.1 || return 1
	ip -n "$NS_C" route add 198.18.20.0/24 via 198.18.1.1 || return 1
	ip -n "$NS_E" route add 198.18.10.0/24 via 198.18.2.2 || return 1
	ip -n "$NS_E" route add 198.18.20.0/24 via 198.18.3.2 || return 1
	ip netns exec "$NS_E" sysctl -qw net.ipv4.ip_forward=1
	# XDP_REDIRECT into a veth delivers only if the peer has an XDP program of its own.
	ip -n "$NS_A" link set dev sa0 xdp obj "$XDP_PASS_OBJ" sec xdp || return 1
	ip -n "$NS_B" link set dev sb0 xdp obj "$XDP_PASS_OBJ" sec xdp || return 1
	mkdir -p "$BPFFS" && mount -t bpf bpf "$BPFFS"
}

write_keys() {
	(
		umask 077
		printf '1 %s\n2 %s\n' "$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
			"$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$KEYS"
	)
}

# write_config FILE [PREFIX LINE...]: the edge's configuration, with these [prefixes] lines
# (default: pangyo's v4 and v6 prefixes and ansan's v4 one).
write_config() {
	local file=$1
	shift
	[ $# -gt 0 ] || set -- "198.18.10.0/24 pangyo" "2001:db8:10::/48 pangyo" "198.18.20.0/24 ansan"
	{
		cat <<EOF
[detour]
interfaces = edge0
xdp_mode = native
heartbeat_listen = 198.18.2.1:7600 198.18.3.1:7600
key_file = $KEYS
interval_ms = $INTERVAL_MS
multiplier = $MULTIPLIER
hold_down_ms = $HOLD_DOWN_MS
recovery_timeout_ms = $RECOVERY_TIMEOUT_MS
flow_idle_ms = 100
flow_table_size = 4096
control_socket = $SOCK
pin_root = $ROOT
event_log = $EVENTS

[site pangyo]
id = 1
delivery = route
interface = edge-a
next_hop_mac = $(mac_of "$NS_A" sa0)
failover = ansan

[site ansan]
id = 2
delivery = route
interface = edge-b
next_hop_mac = $(mac_of "$NS_B" sb0)
failover = pangyo

[prefixes]
EOF
		for p in "$@"; do echo "prefix = $p"; done
	} >"$file"
}

setup_all() {
	setup_topology || bail "namespace setup failed"
	write_keys
	write_config "$CONF"
}

# ---- programs ------------------------------------------------------------------------------

ctl() { "$DETOURCTL" -s "$SOCK" -t 3000 "$@"; }

# --no-realtime by default, so that a SCHED_FIFO daemon does not crowd the other tests; set
# DETOURD_SCHED_ARGS= (empty) to run detourd as deployed, SCHED_FIFO and locked memory
# (test-daemon-cli does).
start_daemon() { # [extra detourd args]
	ip netns exec "$NS_E" "$DETOURD" ${DETOURD_SCHED_ARGS---no-realtime} -c "$CONF" "$@" >>"$TMP/detourd.out" \
		2>>"$DERR" &
	DAEMON_PID=$!
	wait_until 5000 ctl status >/dev/null 2>&1
}

kill_daemon() { # SIGNAL: sets DAEMON_STATUS to detourd's exit status
	kill "-$1" "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_STATUS=$?
	DAEMON_PID=
}

site_ns() { [ "$1" = 1 ] && echo "$NS_A" || echo "$NS_B"; }
site_edge_addr() { [ "$1" = 1 ] && echo 198.18.2.1 || echo 198.18.3.1; }

start_beacon() { # SITE_ID [extra beacon args]
	local id=$1
	shift
	echo OL >"$TMP/power$id"
	ip netns exec "$(site_ns "$id")" "$DETOUR_BEACON" --site "$id" --key-file "$KEYS" \
		--target "$(site_edge_addr "$id"):7600" --status-file "$TMP/power$id" \
		--interval "${INTERVAL_MS}ms" --foreground "$@" >>"$TMP/beacon$id.log" 2>&1 &
	BEACON_PID[$id]=$!
}

stop_beacon() { # SITE_ID: the site's power is gone
	kill -9 "${BEACON_PID[$1]}" 2>/dev/null
	wait "${BEACON_PID[$1]}" 2>/dev/null
	unset "BEACON_PID[$1]"
}

# ---- observing ---------------------------------------------------------------------------------

# wait_until MS command...: retry every 20 ms until the command succeeds or MS have passed.
wait_until() {
	local limit=$(($(mono_ms) + $1))
	shift
	while ! "$@"; do
		[ "$(mono_ms)" -lt "$limit" ] || return 1
		sleep 0.02
	done
}

# jq-like reads of detourctl --json output, with python3 (no other dependency).
json() { # PYTHON-EXPRESSION over `d`, reading JSON on stdin
	python3 -c 'import json,sys
d=json.load(sys.stdin)
v='"$1"'
print(json.dumps(v) if isinstance(v,(dict,list)) else v)'
}

site_state() { # NAME: its state in `detourctl --json status`
	ctl --json status 2>/dev/null | json "[s['state'] for s in d['sites'] if s['name']=='$1'][0]"
}
# States compare without case: the daemon prints "down", docs/control-protocol.md says "DOWN".
state_is() { [ "$(site_state "$1" | tr '[:upper:]' '[:lower:]')" = "${2,,}" ]; }

map_state() { # SITE_ID: the state in the pinned dt_site_state map (0 unknown .. 4 recovering)
	"$DT_XDP_HELPER" --pin-root "$ROOT" get-state "$1" 2>/dev/null | sed -n 's/.*state=//p'
}
map_state_is() { [ "$(map_state "$1")" = "$2" ]; }

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
