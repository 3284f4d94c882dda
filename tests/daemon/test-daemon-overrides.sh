#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# drain / undrain / fail / restore through detourctl, with both beacons alive: every step's exit
# code, the state `detourctl --json status` shows and the state in the pinned map. Failing or
# draining the last healthy site is refused (exit 1) unless --force is given. Every operator
# action is logged with who asked (uid and pid from SO_PEERCRED) and the --reason given, done or
# refused, and the transition it made carries them in the event log; a bad --reason is refused.
. "$(dirname "$0")/daemon_fixture.sh"

setup_all
daemon_and_beacons_up 3000

# step DESCRIPTION EXPECTED-EXIT CTL-ARGS...: run detourctl, check its exit code
step() {
	local what=$1 want=$2 rc
	shift 2
	ctl "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$what (exit $rc)"
	else
		not_ok "$what (exit $rc, wanted $want)"
		sed 's/^/#   /' "$TMP/out" "$TMP/err"
	fi
}

# sees NAME STATE MAP-VALUE OVERRIDE: status, map and override agree
sees() {
	local s
	s=$(ctl --json status | json "[(x['state'] + ' ' + x['override']).lower() for x in d['sites'] if x['name']=='$1'][0]")
	[ "$s" = "${2,,} $4" ] && map_state_is "$(id_of "$1")" "$3"
}
id_of() { [ "$1" = pangyo ] && echo 1 || echo 2; }

step "drain pangyo" 0 drain pangyo
check "pangyo DRAINING, override drain; the map says 2" sees pangyo draining 2 drain
step "draining ansan too would leave no site up: refused" 1 drain ansan
check "the refusal says why and how to insist" grep -q "use --force" "$TMP/err"
check "ansan untouched by the refusal" sees ansan up 1 none
step "undrain pangyo" 0 undrain pangyo
# A drain ends through RECOVERING (flows moved during the drain come home when idle); with no
# moved flows the flow scanner finds it idle within a few of its 200 ms rounds.
check "pangyo UP again once idle, no override; the map says 1" \
	wait_until $((RECOVERY_TIMEOUT_MS + OBSERVE_MARGIN_MS)) sees pangyo up 1 none
check "...and it went through RECOVERING, UP because its moved flows were idle" \
	test "$(last_event pangyo up | json "(d['from'] + ' ' + d['cause']).lower()")" = "recovering flows_idle"
step "undrain a site that is not drained: refused" 1 undrain pangyo
check "the refusal names the override" grep -q 'not drained by an operator' "$TMP/err"

step "fail pangyo" 0 fail pangyo
check "pangyo DOWN, override fail; the map says 3" sees pangyo down 3 fail
check "the event log has the operator's fail" test -n "$(last_event pangyo down)"
step "fail ansan, the last healthy site: refused" 1 fail ansan
check "ansan untouched by the refusal" sees ansan up 1 none
step "fail ansan --force" 0 fail ansan --force
check "ansan DOWN; the map says 3" sees ansan down 3 fail
check "status says every site is down" \
	test "$(ctl --json status | json "d['all_sites_down']")" = True
check "the forced transition is marked forced in the event log" \
	test "$(last_event ansan down | json "d['forced']")" = True

step "restore ansan" 0 restore ansan
check "ansan back UP with its heartbeats (map 1) within the recovery timeout" \
	wait_until $((RECOVERY_TIMEOUT_MS + OBSERVE_MARGIN_MS)) sees ansan up 1 none
step "restore pangyo" 0 restore pangyo
check "pangyo back UP (map 1) within the recovery timeout" \
	wait_until $((RECOVERY_TIMEOUT_MS + OBSERVE_MARGIN_MS)) sees pangyo up 1 none
step "drain --force of a site while the other is up" 0 drain ansan --force
check "ansan DRAINING (map 2)" sees ansan draining 2 drain
step "restore clears a drain as well" 0 restore ansan
check "ansan UP (map 1)" wait_until 1000 sees ansan up 1 none

step "a refused command: drain nosuchsite" 1 drain nosuchsite
check "the refusal names the site" grep -q 'site "nosuchsite" is not configured' "$TMP/err"
step "--json drain answers with site, state and override" 0 --json drain pangyo
check "the JSON reply is {site, state, override}" \
	test "$(json "(d['site'] + ' ' + d['state'] + ' ' + d['override']).lower()" <"$TMP/out")" = "pangyo draining drain"
step "undrain pangyo" 0 undrain pangyo
check "no request left the daemon broken: both sites UP" wait_until 1000 sites_up

# ---- who asked, and why ------------------------------------------------------------------------
step "fail pangyo --reason" 0 fail pangyo --reason "feed B maintenance, ticket 4711"
check "the log names the caller and the reason" \
	grep -qE 'operator uid 0 pid [0-9]+: fail pangyo: done; reason: feed B maintenance, ticket 4711' "$DERR"
ev=$(last_event pangyo down)
check "the DOWN event carries operator uid 0, a pid and the reason" \
	test "$(echo "$ev" | json "'%d %s %s' % (d['operator']['uid'], d['operator']['pid'] > 0, d['operator']['reason'])")" = "0 True feed B maintenance, ticket 4711"
step "a refused action: fail ansan (the last site up), with a reason" 1 fail ansan --reason "test"
check "the refusal is logged with the caller" \
	grep -qE 'operator uid 0 pid [0-9]+: fail ansan: refused, .*; reason: test' "$DERR"
step "restore pangyo, no reason" 0 restore pangyo
check "logged without a reason" grep -qE 'operator uid 0 pid [0-9]+: restore pangyo: done$' "$DERR"
step "--reason with a control character is refused by detourd" 1 drain ansan --reason "$(printf 'a\tb')"
check "... saying so" grep -q '"reason" has a control character (0x09)' "$TMP/err"
step "--reason of 201 characters: bad usage" 2 drain ansan --reason "$(printf 'x%.0s' $(seq 201))"
step "--reason without text: bad usage" 2 drain ansan --reason
check "heartbeat-driven events carry no operator" \
	test "$(last_event pangyo up | json "'operator' in d")" = False
finish
