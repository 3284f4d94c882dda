#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The blackout guard, seen from outside: both beacons frozen at once (SIGSTOP, as a stalled edge
# or management network looks to detourd) for five times the detection time fail nobody; the
# event log says each site was held and released. With `blackout_hold_ms` reloaded shorter than
# the freeze both sites go DOWN when their hold runs out, flagged as such. One beacon stopping
# alone is still a DOWN at its deadline, not held.
. "$(dirname "$0")/daemon_fixture.sh"

# events CAUSE [TO]: how many events of the log have this cause (and this target state)
events() {
	python3 - "$EVENTS" "$1" "${2:-}" <<'EOF'
import json, sys
path, cause, to = sys.argv[1:4]
n = 0
for line in open(path):
    e = json.loads(line)
    n += e['cause'] == cause and (not to or e['to'] == to)
print(n)
EOF
}

downs() { python3 -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["to"] == "down"))' "$EVENTS"; }

freeze_both() { # MS: both beacons stopped at once, resumed after MS
	kill -STOP "${BEACON_PID[1]}" "${BEACON_PID[2]}"
	sleep "$(printf '0.%03d' "$1")"
	kill -CONT "${BEACON_PID[1]}" "${BEACON_PID[2]}"
}

setup_all
daemon_and_beacons_up 3000
ok "both sites UP"

# ---- a common silence of 5 x the detection time, inside the default 1000 ms hold ----
freeze=$((DETECT_MS * 5))
freeze_both "$freeze"
sleep 0.3
check "both beacons frozen for $freeze ms (detection $DETECT_MS ms): no site went DOWN" \
	test "$(downs)" = 0
check "both sites were held: a blackout_hold notice each" test "$(events blackout_hold up)" = 2
check "and released when heartbeats came back: a blackout_end notice each" \
	test "$(events blackout_end up)" = 2
check "both UP in detourctl status and in the pinned map" \
	eval 'state_is pangyo UP && state_is ansan UP && map_state_is 1 1 && map_state_is 2 1'
check "status counts one blackout hold per site, none held now" \
	test "$(ctl --json status | json "[(s['blackout_holds'], s['blackout_held']) for s in d['sites']]")" = \
	"[[1, false], [1, false]]"

# ---- the same freeze with the hold reloaded to 200 ms: both DOWN when their holds run out ----
sed -i 's/^flow_idle_ms = 100$/&\nblackout_hold_ms = 200/' "$CONF"
kill -HUP "$DAEMON_PID"
wait_until 2000 grep -q "reload: .* applied" "$DERR" || bail "reload of blackout_hold_ms not applied"
freeze_both "$freeze"
wait_until 2000 eval '[ "$(downs)" = 2 ]'
check "frozen longer than the 200 ms hold: both sites DOWN" test "$(downs)" = 2
check "each DOWN says it came after a blackout hold, 200 ms after its deadline" python3 - "$EVENTS" <<'EOF'
import json, sys
held = {}
ok = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e['cause'] == 'blackout_hold':
        held[e['site']] = e['deadline_ns']
    elif e['to'] == 'down':
        ok += e['blackout'] and e['deadline_ns'] - held[e['site']] == 200_000_000
sys.exit(0 if ok == 2 else 1)
EOF
wait_until 3000 sites_up || bail "sites did not come back UP after the second freeze"

# ---- one beacon stops while the other talks: DOWN at its deadline, never held ----
holds_before=$(events blackout_hold)
stop_beacon 1
check "pangyo alone silent: DOWN within $DETECT_MS + $DETECT_MARGIN_MS ms of its last heartbeat" \
	eval 'wait_until $((DETECT_MS + OBSERVE_MARGIN_MS)) state_is pangyo DOWN &&
		event_timing_ok pangyo DOWN $((DETECT_MS + DETECT_MARGIN_MS))'
check "and it was not held: no new blackout_hold notice" \
	test "$(events blackout_hold)" = "$holds_before"
finish
