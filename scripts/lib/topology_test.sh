# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash source-path=SCRIPTDIR
# The harness of the tests that run in the topology of scripts/lib/topology.sh (tests/integration,
# tests/dpdk-integration): sourced by their lib.sh, it builds a fresh topology with names of its
# own, tears it down on exit whatever happened, and gives TAP-style checks and readers for the
# client's reports and detourd's event log. Programs come from the environment that
# tests/integration/meson.build sets.
#
# DT_DATAPLANE=dpdk runs the edge router in DPDK mode (scripts/lib/dpdk.sh): the same topology
# and the same generated configuration, but detourd runs as `detourd --dataplane dpdk ... --
# EAL_ARGS` and owns the edge's veths through DPDK's net_af_xdp driver (the kernel does not see
# those frames); a net_tap port is its exception path.
#
#   client ──cl0|edge0 [af_xdp]── detourd (DPDK workers) ──[af_xdp] e-<site>|s0── site
#                                    └─ net_tap dtap0 ─▶ the edge's kernel (ARP/ND, the router itself)
set -u

TEST_NAME=$(basename "$0" .sh)
if [ "${DT_DATAPLANE:-xdp}" = dpdk ]; then DT_NS_PREFIX=dtp$$; else DT_NS_PREFIX=dti$$; fi
# Timers for a loaded 2-core machine: a 5 ms beacon, DOWN after 4 missed beats (20 ms).
: "${DT_INTERVAL_MS:=5}"
: "${DT_MULTIPLIER:=4}"
# shellcheck source=topology.sh
. "$(dirname "${BASH_SOURCE[0]}")/topology.sh"
# What detection and reroute may take beyond interval x multiplier: wake-up lateness of the
# beacon and the daemon on a machine that also compiles. Stated here, printed by every test.
: "${DT_MARGIN_MS:=60}"
DETECT_BUDGET_MS=$((DT_INTERVAL_MS * DT_MULTIPLIER + DT_MARGIN_MS))

TAP_NUMBERED=1
# shellcheck source=tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

test_cleanup() {
	local rc=$?
	if [ "$failed" -ne 0 ] || [ "$rc" -ne 0 ]; then
		echo "# --- detourd log (last 15 lines)"
		tail -15 "$DT_WORK/logs/detourd.log" 2>/dev/null | sed 's/^/#   /'
		echo "# --- events"
		sed 's/^/#   /' "$DT_WORK/events.jsonl" 2>/dev/null | tail -20
	fi
	dt_topo_down
}

test_start() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: $TEST_NAME needs root"
		exit 77
	fi
	dt_trap_cleanup test_cleanup
	echo "# $TEST_NAME: interval ${DT_INTERVAL_MS} ms x ${DT_MULTIPLIER}, margin ${DT_MARGIN_MS} ms"
	dt_topo_up || exit 1
}

# dataplane_test_start: test_start, plus what the dataplane under test wants checked first.
if [ "${DT_DATAPLANE:-xdp}" = dpdk ]; then
	# shellcheck source=dpdk.sh
	. "$(dirname "${BASH_SOURCE[0]}")/dpdk.sh"
	dataplane_test_start() {
		echo "# EAL memory: $(dpdk_memory_args)"
		test_start
		check "detourctl status says dpdk" \
			eq "$(dt_ctl --json status | jget /dev/stdin 'j["dataplane"]["mode"]')" dpdk
	}
else
	dataplane_test_start() { test_start; }
fi

# counter_sum REASON: packets the dataplane counted under REASON, every site summed.
counter_sum() {
	dt_ctl --json stats |
		jget /dev/stdin "sum(c['packets'] for c in j['counters'] if c['reason'] == '$1')"
}

test_finish() {
	echo "1..$((passed + failed))"
	echo "# $TEST_NAME: passed $passed, failed $failed"
	[ "$failed" -eq 0 ]
	exit $?
}

# client_bg NAME MODE ARGS...: a dt-client in the client namespace, in the background; its
# summary in NAME.out, JSON in NAME.json, per-request log in NAME.log.
client_bg() {
	local name=$1
	shift
	ip netns exec "$(dt_ns client)" "$DT_CLIENT" "$@" --json "$DT_WORK/$name.json" \
		--log "$DT_WORK/$name.log" >"$DT_WORK/$name.out" 2>&1 &
	echo $! >"$DT_WORK/client-$name.pid"
}
client_run() { # NAME MODE ARGS...: the same, in the foreground
	client_bg "$@"
	client_wait "$1"
}
client_wait() {
	wait "$(cat "$DT_WORK/client-$1.pid")" || not_ok "client $1 exited with an error"
	echo "#   client $1: $(cat "$DT_WORK/$1.out")"
}
client_stop() { kill -INT "$(cat "$DT_WORK/client-$1.pid")" 2>/dev/null; }

# jget FILE PYTHON-EXPRESSION: evaluate on the JSON object j in FILE.
jget() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

# event_first FIELD AFTER_SEQ CONDITION: FIELD of the first event e after AFTER_SEQ for which the
# Python CONDITION on e holds; event_count AFTER_SEQ CONDITION: how many events after it do.
event_first() { event_query first "$@"; }
event_count() { event_query count "" "$@"; }
event_query() {
	python3 - "$DT_WORK/events.jsonl" "$@" <<'EOF'
import json, sys
path, what, field, after, cond = sys.argv[1:6]
n = 0
for line in open(path):
    e = json.loads(line)
    if e["seq"] > int(after) and eval(cond):
        if what == "first":
            print(e[field])
            break
        n += 1
if what == "count":
    print(n)
EOF
}
# event SITE TO FIELD [AFTER_SEQ]: FIELD of the first transition of SITE to TO (after AFTER_SEQ).
event() { event_first "$3" "${4:--1}" "e['site'] == '$1' and e['to'] == '$2' and e['from'] != e['to']"; }
# notice SITE CAUSE FIELD [AFTER_SEQ [BEACON]]: FIELD of the first notice (not a transition) of
# SITE with CAUSE, for instance beacon_silent (after AFTER_SEQ; about BEACON if given).
notice() {
	event_first "$3" "${4:--1}" "e['site'] == '$1' and e['cause'] == '$2' and e['notice']${5:+ and e['beacon'] == $5}"
}
# transitions_after SEQ: the state changes (from != to) of every site after event SEQ.
transitions_after() { event_count "$1" "e['from'] != e['to']"; }
# check_undisturbed CLIENT SEQ LABEL: stop the background client CLIENT; no site changed state
# after event SEQ and CLIENT lost no request.
check_undisturbed() {
	local transitions lost
	client_stop "$1"
	client_wait "$1"
	transitions=$(transitions_after "$2")
	check "$3: no site changed state ($transitions transitions)" eq "$transitions" 0
	lost=$(jget "$DT_WORK/$1.json" 'j["lost"]')
	check "$3: no request lost ($lost of $(jget "$DT_WORK/$1.json" 'j["sent"]'))" eq "$lost" 0
}
last_seq() { tail -1 "$DT_WORK/events.jsonl" | jget /dev/stdin 'j["seq"]'; }
wait_event() { # SITE TO TIMEOUT_MS [AFTER_SEQ]
	dt_wait_until "$3" has_event "$1" "$2" "${4:--1}"
}
has_event() { [ -n "$(event "$1" "$2" seq "$3")" ]; }
wait_notice() { # SITE CAUSE TIMEOUT_MS [AFTER_SEQ [BEACON]]
	dt_wait_until "$3" has_notice "$1" "$2" "${4:--1}" "${5:-}"
}
has_notice() { [ -n "$(notice "$1" "$2" seq "$3" "$4")" ]; }

# log_count NAME AWK-CONDITION: requests in NAME.log matching a condition over
# $1 seq, $2 sent_ns, $3 answered_ns (0 = lost), $4 site.
log_count() { awk "$2 { n++ } END { print n + 0 }" "$DT_WORK/$1.log"; }

le() { [ "$1" -le "$2" ]; }
eq() { [ "$1" = "$2" ]; }
ge() { [ "$1" -ge "$2" ]; }
ms() { echo $((($1) / 1000000)); }

# The service address of the family under test (DT_FAMILY=4 or 6; test-ipv6.sh sets 6).
: "${DT_FAMILY:=4}"
service_addr() {
	if [ "$DT_FAMILY" = 6 ]; then echo "${1:-$DT_SERVICE_V6}"; else echo "${2:-$DT_SERVICE_V4}"; fi
}
stateless_addr() { service_addr "$DT_STATELESS_V6" "$DT_STATELESS_V4"; }

# check_failover SITE [AFTER_SEQ]: the DOWN event of SITE within budget; sets DOWN_SEQ,
# LAST_HB_NS, APPLIED_NS, DETECT_MS, REROUTE_MS (all from detourd's event log).
check_failover() {
	local site=$1 after=${2:--1} detected
	if ! wait_event "$site" down 5000 "$after"; then
		not_ok "$site: no DOWN event within 5 s"
		return 1
	fi
	DOWN_SEQ=$(event "$site" down seq "$after")
	LAST_HB_NS=$(event "$site" down last_heartbeat_ns "$after")
	detected=$(event "$site" down detected_ns "$after")
	APPLIED_NS=$(event "$site" down applied_ns "$after")
	DETECT_MS=$(ms "detected - LAST_HB_NS")
	REROUTE_MS=$(ms "APPLIED_NS - LAST_HB_NS")
	echo "# $site: detect_ms=$DETECT_MS reroute_ms=$REROUTE_MS (budget $DETECT_BUDGET_MS ms)"
	check "$site went DOWN by heartbeat timeout" \
		eq "$(event "$site" down cause "$after")" heartbeat_timeout
	check "$site: detection ${DETECT_MS} ms <= ${DETECT_BUDGET_MS} ms" le "$DETECT_MS" "$DETECT_BUDGET_MS"
	check "$site: reroute ${REROUTE_MS} ms <= ${DETECT_BUDGET_MS} ms" le "$REROUTE_MS" "$DETECT_BUDGET_MS"
}

# check_detection_loss NAME: the UDP client NAME lost at most what one detection window holds
# at RATE (plus two in flight), and nothing it sent after the reroute (APPLIED_NS).
check_detection_loss() {
	local lost max_lost=$((RATE * DETECT_BUDGET_MS / 1000 + 2))
	lost=$(jget "$DT_WORK/$1.json" 'j["lost"]')
	check "$1: lost $lost <= $max_lost (rate $RATE/s x ${DETECT_BUDGET_MS} ms)" le "$lost" "$max_lost"
	check "$1: no request sent after the reroute was lost" \
		eq "$(log_count "$1" "\$2 > $APPLIED_NS && \$3 == 0")" 0
}

# client_udp_tcp DURATION_MS: the load of a power cut, in the background: UDP requests at RATE
# per second over 16 flows (client udp) and TCP connections opened at 40/s (client tcp).
client_udp_tcp() {
	local addr
	addr=$(service_addr)
	client_bg udp udp --addr "$addr" --rate "$RATE" --duration "$1" --flows 16 --timeout 300
	client_bg tcp tcp --addr "$addr" --rate 40 --duration "$1" --timeout 500
}
