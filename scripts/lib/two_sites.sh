# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash source-path=SCRIPTDIR
# The small test network of the daemon tests (tests/daemon/daemon_fixture.sh) and of
# bench/bench-daemon.sh, as functions to source: one edge router with detourd, a client and two
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
# The maps are pinned in a bpffs instance mounted under the caller's own temp directory (see
# dt_bpffs_mount); the pin root, the control socket and the config are unique per process.
#
#   setup_all                     namespaces, keys and the configuration
#   write_config FILE [PREFIX...] the edge's configuration, with these [prefixes] lines
#   start_daemon / kill_daemon    detourd in the edge namespace (DAEMON_PID, DERR)
#   start_beacon ID / stop_beacon ID   a site's beacon (BEACON_PID[ID]) / its power is gone
#   start_beacon_of ID B / stop_beacon ID.B   beacon B of a site (BEACON_PID[ID.B]), --beacon-id B
#   SITE_EXTRA[ID]                one more "key=value" of site ID's section (write_config)
#   DETOUR_EXTRA=(K=V ...)        more "key=value"s of the [detour] section (write_config)
#   daemon_and_beacons_up MS      detourd and both beacons, until both sites are UP
#   ctl, site_state, state_is, map_state, map_state_is, sites_up: what detourd and the maps say
#
# Programs come from the environment: DETOURD, DETOURCTL, DETOUR_BEACON, DT_XDP_HELPER,
# XDP_PASS_OBJ. A failure to set up calls bail MESSAGE: the caller's, or dt_die.
set -u

# shellcheck source=netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/netns.sh"
# shellcheck source=detour.sh
. "$(dirname "${BASH_SOURCE[0]}")/detour.sh"

declare -F bail >/dev/null || bail() { dt_die "$1"; }
for v in DETOURD DETOURCTL DETOUR_BEACON DT_XDP_HELPER XDP_PASS_OBJ; do
	[ -e "${!v:-}" ] || bail "$v is not set to an existing file"
done
DT_BEACON=$DETOUR_BEACON

# Slower than a deployment's 5 ms x 3: beacons and detourd run here as ordinary processes on a
# shared 2-core machine (other builds and tests beside them), where a 15 ms stall of a beacon
# is common enough to fail a healthy site now and then.
INTERVAL_MS=20
MULTIPLIER=5
HOLD_DOWN_MS=300
RECOVERY_TIMEOUT_MS=600
DETECT_MS=$((INTERVAL_MS * MULTIPLIER))

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
declare -A SITE_EXTRA=()
EXTRA_PIDS=()
DT_SOCK=$SOCK
DT_CTL_TIMEOUT_MS=3000

two_sites_cleanup() {
	local p
	for p in $DAEMON_PID "${BEACON_PID[@]}" "${EXTRA_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	dt_netns_del "$NS_E" "$NS_C" "$NS_A" "$NS_B"
	umount "$BPFFS" 2>/dev/null
	rm -rf "$TMP"
}
dt_trap_cleanup two_sites_cleanup

# ---- topology ----------------------------------------------------------------------------------

mac_of() { dt_mac_of "$@"; } # NS IF (test-daemon-check redefines it: no namespaces there)

setup_topology() {
	dt_netns_add "$NS_E" "$NS_C" "$NS_A" "$NS_B" || return 1
	dt_veth "$NS_E" edge0 198.18.1.1 "$NS_C" cl0 198.18.1.2 || return 1
	dt_veth "$NS_E" edge-a 198.18.2.1 "$NS_A" sa0 198.18.2.2 || return 1
	dt_veth "$NS_E" edge-b 198.18.3.1 "$NS_B" sb0 198.18.3.2 || return 1
	ip -n "$NS_C" route add 198.18.10.0/24 via 198.18.1.1 || return 1
	ip -n "$NS_C" route add 198.18.20.0/24 via 198.18.1.1 || return 1
	ip -n "$NS_E" route add 198.18.10.0/24 via 198.18.2.2 || return 1
	ip -n "$NS_E" route add 198.18.20.0/24 via 198.18.3.2 || return 1
	ip netns exec "$NS_E" sysctl -qw net.ipv4.ip_forward=1
	# XDP_REDIRECT into a veth delivers only if the peer has an XDP program of its own.
	ip -n "$NS_A" link set dev sa0 xdp obj "$XDP_PASS_OBJ" sec xdp || return 1
	ip -n "$NS_B" link set dev sb0 xdp obj "$XDP_PASS_OBJ" sec xdp || return 1
	dt_bpffs_mount "$BPFFS"
}

write_keys() { dt_write_keys "$KEYS" 1 2; }

# write_config FILE [PREFIX LINE...]: the edge's configuration, with these [prefixes] lines
# (default: pangyo's v4 and v6 prefixes and ansan's v4 one).
write_config() {
	local file=$1 p prefixes=()
	shift
	[ $# -gt 0 ] || set -- "198.18.10.0/24 pangyo" "2001:db8:10::/48 pangyo" "198.18.20.0/24 ansan"
	for p; do prefixes+=("prefix=$p"); done
	{
		dt_conf_section detour interfaces=edge0 xdp_mode=native \
			"heartbeat_listen=198.18.2.1:7600 198.18.3.1:7600" "key_file=$KEYS" \
			"interval_ms=$INTERVAL_MS" "multiplier=$MULTIPLIER" "hold_down_ms=$HOLD_DOWN_MS" \
			"recovery_timeout_ms=$RECOVERY_TIMEOUT_MS" flow_idle_ms=100 flow_table_size=4096 \
			"control_socket=$SOCK" "pin_root=$ROOT" "event_log=$EVENTS" \
			"state_file=$TMP/detourd.state" ${DETOUR_EXTRA[@]+"${DETOUR_EXTRA[@]}"}
		echo
		dt_conf_section "site pangyo" id=1 delivery=route interface=edge-a \
			"next_hop_mac=$(mac_of "$NS_A" sa0)" failover=ansan ${SITE_EXTRA[1]:+"${SITE_EXTRA[1]}"}
		echo
		dt_conf_section "site ansan" id=2 delivery=route interface=edge-b \
			"next_hop_mac=$(mac_of "$NS_B" sb0)" failover=pangyo ${SITE_EXTRA[2]:+"${SITE_EXTRA[2]}"}
		echo
		dt_conf_section prefixes "${prefixes[@]}"
	} >"$file"
}

setup_all() {
	setup_topology || bail "namespace setup failed"
	write_keys
	write_config "$CONF"
}

# ---- programs ------------------------------------------------------------------------------

ctl() { dt_ctl "$@"; }

# --no-realtime by default, so that a SCHED_FIFO daemon does not crowd the other tests; set
# DETOURD_SCHED_ARGS= (empty) to run detourd as deployed, SCHED_FIFO and locked memory
# (test-daemon-cli does).
start_daemon() { # [extra detourd args]
	# shellcheck disable=SC2086 # DETOURD_SCHED_ARGS: zero or more words
	dt_bg "$NS_E" "$TMP/detourd.out" "$DERR" "$DETOURD" ${DETOURD_SCHED_ARGS---no-realtime} \
		-c "$CONF" "$@"
	DAEMON_PID=$DT_BG_PID
	# Loading detour_xdp verifies about 900,000 instructions: 2-3 s on an idle 2-vCPU machine,
	# more than 5 s under the suite's load (seen). A daemon that died stops the wait at once.
	wait_until "${DAEMON_START_MS:-30000}" daemon_answers
	ctl status >/dev/null 2>&1
}

daemon_answers() { # detourd answers its control socket, or is gone (no use waiting)
	ctl status >/dev/null 2>&1 && return 0
	kill -0 "$DAEMON_PID" 2>/dev/null || return 0
	return 1
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
	dt_beacon_argv "$id" "$KEYS" "$(site_edge_addr "$id"):7600" "$INTERVAL_MS"
	dt_bg "$(site_ns "$id")" "$TMP/beacon$id.log" "$TMP/beacon$id.log" "$DT_BEACON" \
		"${DT_BEACON_ARGV[@]}" --status-file "$TMP/power$id" "$@"
	BEACON_PID[$id]=$DT_BG_PID
}

start_beacon_of() { # SITE_ID BEACON_ID [extra beacon args]: one of the site's several beacons
	local id=$1 b=$2
	shift 2
	echo OL >"$TMP/power$id.$b"
	dt_beacon_argv "$id" "$KEYS" "$(site_edge_addr "$id"):7600" "$INTERVAL_MS"
	dt_bg "$(site_ns "$id")" "$TMP/beacon$id.$b.log" "$TMP/beacon$id.$b.log" "$DT_BEACON" \
		"${DT_BEACON_ARGV[@]}" --beacon-id "$b" --status-file "$TMP/power$id.$b" "$@"
	BEACON_PID[$id.$b]=$DT_BG_PID
}

stop_beacon() { # SITE_ID or SITE_ID.BEACON_ID: the beacon's power is gone
	kill -9 "${BEACON_PID[$1]}" 2>/dev/null
	wait "${BEACON_PID[$1]}" 2>/dev/null
	unset "BEACON_PID[$1]"
}

# daemon_and_beacons_up MS: start detourd, then both beacons; wait up to MS for both sites UP.
daemon_and_beacons_up() {
	start_daemon || bail "detourd did not start"
	start_beacon 1
	start_beacon 2
	wait_until "$1" sites_up || bail "sites did not come UP"
}

# ---- observing ---------------------------------------------------------------------------------

wait_until() { dt_wait_until "$@"; } # MS command...

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

# Both sites UP in status and in the map: the starting point of every test.
sites_up() {
	state_is pangyo UP && state_is ansan UP && map_state_is 1 1 && map_state_is 2 1
}
