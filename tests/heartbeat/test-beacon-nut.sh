#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck source-path=SCRIPTDIR
# detour-beacon against a real upsd. Two namespaces joined by a veth pair (198.18.77.0/30):
# "site" runs NUT's dummy-ups driver, upsd and the beacon; "edge" runs hb-recv-dump. The UPS
# goes from OL to OB (the heartbeats must say ON_BATTERY), then upsd dies (they must say
# UNKNOWN). Every wait is bounded; everything is torn down on exit, failure included.
set -euo pipefail

BEACON=${1:?usage: test-beacon-nut.sh DETOUR_BEACON HB_RECV_DUMP}
RECV=${2:?usage: test-beacon-nut.sh DETOUR_BEACON HB_RECV_DUMP}
UPSD=/lib/nut/upsd
[ -x "$UPSD" ] || UPSD=/usr/sbin/upsd
DUMMY=/lib/nut/dummy-ups
# shellcheck source=../../scripts/lib/netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/netns.sh"
# shellcheck source=../../scripts/lib/detour.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/detour.sh"

if [ "$(id -u)" -ne 0 ] || [ ! -x "$UPSD" ] || [ ! -x "$DUMMY" ]; then
	echo "SKIP: needs root, $UPSD and $DUMMY"
	exit 77
fi

NS_SITE=hb-site-$$
NS_EDGE=hb-edge-$$
SITE_ADDR=198.18.77.1
EDGE_ADDR=198.18.77.2
WORK=$(mktemp -d /tmp/hb-nut-XXXXXX)
PIDS=()

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do dt_stop_pid "$pid"; done
	dt_netns_del "$NS_SITE" "$NS_EDGE"
	if [ "${KEEP_LOGS:-0}" = 0 ]; then rm -rf "$WORK"; fi
}
dt_trap_cleanup cleanup INT TERM

fail() {
	echo "FAIL: $*"
	echo "--- beacon log"; cat "$WORK/beacon.log" 2>/dev/null || true
	echo "--- upsd log"; tail -20 "$WORK/upsd.log" 2>/dev/null || true
	echo "--- last heartbeats"; tail -5 "$WORK/recv.log" 2>/dev/null || true
	exit 1
}

# log_has PATTERN FILE FROM_LINE: FILE from FROM_LINE on has PATTERN.
log_has() { tail -n +"$3" "$2" 2>/dev/null | grep -q -- "$1"; }
# wait_for PATTERN FILE SECONDS [FROM_LINE]: poll FILE from FROM_LINE on, with a deadline.
wait_for() { dt_wait_until $(($3 * 1000)) log_has "$1" "$2" "${4:-1}"; }

lines() { wc -l <"$1"; }

setup_net() {
	dt_netns_add "$NS_SITE" "$NS_EDGE"
	dt_veth "$NS_SITE" "hbs$$" "$SITE_ADDR/30" "$NS_EDGE" "hbe$$" "$EDGE_ADDR/30"
}

# The device file of dummy-ups; its mtime must move forward on every edit to be re-read.
MTIME=$(date +%s)
set_ups_status() {
	MTIME=$((MTIME + 10))
	printf 'ups.status: %s\n' "$1" >"$WORK/etc/testups.dev"
	touch -d "@$MTIME" "$WORK/etc/testups.dev"
}

setup_nut() {
	mkdir -p "$WORK/etc" "$WORK/state"
	chmod 0700 "$WORK/etc" "$WORK/state"
	printf '[testups]\n\tdriver = dummy-ups\n\tport = testups.dev\n\tpollinterval = 1\n' \
		>"$WORK/etc/ups.conf"
	printf 'LISTEN %s 3493\nSTATEPATH %s\n' "$SITE_ADDR" "$WORK/state" >"$WORK/etc/upsd.conf"
	printf '[monitor]\n\tpassword = unused\n\tupsmon primary\n' >"$WORK/etc/upsd.users"
	chmod 0600 "$WORK"/etc/*
	set_ups_status OL
	export NUT_CONFPATH="$WORK/etc" NUT_STATEPATH="$WORK/state"
	dt_bg "$NS_SITE" "$WORK/driver.log" "$WORK/driver.log" "$DUMMY" -a testups -u root -F
	PIDS+=("$DT_BG_PID")
	dt_bg "$NS_SITE" "$WORK/upsd.log" "$WORK/upsd.log" "$UPSD" -u root -F
	UPSD_PID=$DT_BG_PID
	PIDS+=("$UPSD_PID")
}

upsd_serves_ol() { ip netns exec "$NS_SITE" upsc "testups@$SITE_ADDR" ups.status | grep -q OL; }
wait_upsd_ready() {
	dt_wait_until 10000 upsd_serves_ol || fail "upsd did not serve testups within 10 s"
}

setup_keys() { dt_write_keys "$WORK/keys" 1; }

start_receiver_and_beacon() {
	dt_bg "$NS_EDGE" "$WORK/recv.log" "$WORK/recv.log" "$RECV" "$EDGE_ADDR:7600" "$WORK/keys" 60
	PIDS+=("$DT_BG_PID")
	dt_beacon_argv 1 "$WORK/keys" "$EDGE_ADDR:7600" 5
	dt_bg "$NS_SITE" "$WORK/beacon.log" "$WORK/beacon.log" "$BEACON" "${DT_BEACON_ARGV[@]}" \
		--ups "testups@$SITE_ADDR" --poll-interval 100ms --poll-timeout 80ms
	BEACON_PID=$DT_BG_PID
	PIDS+=("$BEACON_PID")
}

# Flags on the wire (power_flags.h): MAINS 0x1, ON_BATTERY 0x2, UNKNOWN 0x80000000.
step() {
	local what=$1 pattern=$2 from t0
	from=$(($(lines "$WORK/recv.log") + 1))
	t0=$(dt_now_ms)
	shift 2
	"$@"
	wait_for "$pattern" "$WORK/recv.log" 10 "$from" || fail "$what: no heartbeat with $pattern"
	echo "ok: $what seen in heartbeats after $(($(dt_now_ms) - t0)) ms"
}

setup_net
setup_keys
setup_nut
wait_upsd_ready
start_receiver_and_beacon
wait_for "flags=0x00000001 " "$WORK/recv.log" 10 || fail "no heartbeat saying OL (MAINS)"
echo "ok: heartbeats say MAINS"
step "OL -> OB" "flags=0x00000002 " set_ups_status OB
step "OB -> OL" "flags=0x00000001 " set_ups_status OL
step "upsd killed -> UNKNOWN" "flags=0x80000000 " kill "$UPSD_PID"

# SIGHUP rereads the configuration and the heartbeats go on; SIGTERM stops cleanly.
kill -HUP "$BEACON_PID"
wait_for "configuration reloaded" "$WORK/beacon.log" 5 || fail "SIGHUP: no reload"
from=$(($(lines "$WORK/recv.log") + 1))
wait_for "flags=" "$WORK/recv.log" 5 "$from" || fail "no heartbeats after SIGHUP"
beacon_gone() { ! kill -0 "$BEACON_PID"; }
kill -TERM "$BEACON_PID"
dt_wait_until 3000 beacon_gone || fail "beacon still running 3 s after SIGTERM"
wait "$BEACON_PID" || fail "beacon exited with status $? after SIGTERM"
grep -q "stopping after" "$WORK/beacon.log" || fail "beacon did not log its clean stop"

# Every accepted sequence number is distinct: the receiver let no duplicate through.
total=$(grep -c '^hb ' "$WORK/recv.log")
distinct=$(grep '^hb ' "$WORK/recv.log" | sed 's/.* seq=\([0-9]*\) .*/\1/' | sort -u | wc -l)
[ "$total" -eq "$distinct" ] || fail "$total heartbeats but $distinct distinct sequences"
echo "ok: $total heartbeats accepted, all distinct; beacon stopped cleanly"
