#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A beacon stops: the operator sees the site DOWN in `detourctl --json status` within
# interval x multiplier plus a stated margin, the event log records the transition in causal
# order, and the pinned dt_site_state map says DOWN. Fresh heartbeats bring it back.
. "$(dirname "$0")/daemon_fixture.sh"

setup_all
daemon_and_beacons_up 3000
ok "both sites UP in status and in the map"
# After start-up detourd keeps CAP_BPF (39) and CAP_NET_ADMIN (12) and nothing else.
check "detourd runs with only CAP_BPF and CAP_NET_ADMIN, and no new privileges" \
	eval 'grep -q "^CapEff:[[:space:]]*0000008000001000$" /proc/$DAEMON_PID/status &&
		grep -q "^NoNewPrivs:[[:space:]]*1$" /proc/$DAEMON_PID/status'

killed=$(mono_ms)
stop_beacon 1
if wait_until $((DETECT_MS + OBSERVE_MARGIN_MS)) state_is pangyo DOWN; then
	ok "pangyo DOWN in detourctl status $(($(mono_ms) - killed)) ms after its beacon stopped (limit ${DETECT_MS} + ${OBSERVE_MARGIN_MS} ms)"
else
	not_ok "pangyo not DOWN within $((DETECT_MS + OBSERVE_MARGIN_MS)) ms (state: $(site_state pangyo))"
fi
check "event log: last heartbeat <= deadline <= detected <= applied, detected within $DETECT_MS + $DETECT_MARGIN_MS ms" \
	event_timing_ok pangyo DOWN $((DETECT_MS + DETECT_MARGIN_MS))
ev=$(last_event pangyo DOWN)
check "the transition is UP -> DOWN caused by the heartbeat timeout" \
	test "$(echo "$ev" | json "(d['from'] + ' ' + d['cause']).lower()")" = "up heartbeat_timeout"
check "the pinned dt_site_state says DOWN (3) for pangyo" map_state_is 1 3
check "ansan stays UP, in status and in the map" eval 'state_is ansan UP && map_state_is 2 1'
check "status does not claim that every site is down" \
	test "$(ctl --json status | json "d['all_sites_down']")" = False
check "detourctl events shows the transition" \
	eval 'ctl events | grep -qi "pangyo.*down"'
check "detourctl --json status reports pangyo's last heartbeat as a number of us ago" \
	test "$(ctl --json status | json "[s for s in d['sites'] if s['name']=='pangyo'][0]['last_heartbeat_us_ago'] > 0")" = True

start_beacon 1
check "fresh heartbeats: pangyo leaves DOWN after the hold-down" \
	wait_until $((HOLD_DOWN_MS + OBSERVE_MARGIN_MS)) eval '! state_is pangyo DOWN'
check "and is UP within the recovery timeout, in status and in the map" \
	wait_until $((RECOVERY_TIMEOUT_MS + OBSERVE_MARGIN_MS)) eval 'state_is pangyo UP && map_state_is 1 1'
check "the way back went through RECOVERING" test -n "$(last_event pangyo RECOVERING)"
finish
