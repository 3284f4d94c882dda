#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# detourctl's exit codes and messages as a script sees them: 0 done, 1 refused by detourd,
# 2 bad usage, 3 detourd not running, 4 permission denied on the socket; and `events --follow`
# receiving a transition as it happens; `what-if` against what a real fail then does (the pinned
# failover table and real flows); the text output of `stats` and `site show`.
# As deployed: SCHED_FIFO and locked memory (every query must still be answered).
DETOURD_SCHED_ARGS=${DETOURD_SCHED_ARGS-}
. "$(dirname "$0")/daemon_fixture.sh"

# exits DESCRIPTION WANT-EXIT STDERR-TEXT COMMAND...: exit code and a stderr line
exits() {
	local what=$1 want=$2 msg=$3 rc
	shift 3
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -qF -- "$msg" "$TMP/err"; then
		ok "$what (exit $rc)"
	else
		not_ok "$what (exit $rc, wanted $want and \"$msg\")"
		sed 's/^/#   stderr: /' "$TMP/err"
	fi
}

# A third site, sihung (id 3), behind ansan's link, for what-if: pangyo fails over to ansan and
# sihung, sihung to ansan.
setup_all
dt_write_keys "$KEYS" 1 2 3
sed -i '/^\[site pangyo\]/,/^$/ s/^failover = ansan$/failover = ansan sihung/' "$CONF"
{
	echo
	dt_conf_section "site sihung" id=3 delivery=route interface=edge-b \
		"next_hop_mac=$(mac_of "$NS_B" sb0)" failover=ansan
} >>"$CONF"
grep -q "^failover = ansan sihung$" "$CONF" || bail "pangyo's failover list was not rewritten"

start_sihung() {
	echo OL >"$TMP/power3"
	dt_beacon_argv 3 "$KEYS" 198.18.3.1:7600 "$INTERVAL_MS"
	dt_bg "$NS_B" "$TMP/beacon3.log" "$TMP/beacon3.log" "$DT_BEACON" "${DT_BEACON_ARGV[@]}" \
		--status-file "$TMP/power3"
	BEACON_PID[3]=$DT_BG_PID
}

# whatif ACTION SITE: what-if's shares as "SITE=SLOTS ..." (slots > 0; "none" for fail open)
whatif() {
	ctl --json what-if "$1" "$2" | json "' '.join(sorted(['%s=%d' % (t['site'], t['slots']) for t in d['targets'] if t['slots']] + (['none=%d' % d['fail_open_slots']] if d['fail_open_slots'] else [])))"
}

# dp_shares HOME-ID: the same, computed from the pinned dt_failover table and dt_site_state map
# as the XDP program walks a slot: its first candidate, not the home, that is UP (1) or
# RECOVERING (4).
dp_shares() {
	local states="" id
	for id in 1 2 3; do states+="$id=$(map_state $id) "; done
	bpftool -j map lookup pinned "$ROOT/dt_failover" key "$1" 0 0 0 | python3 -c '
import collections, json, sys
home = int(sys.argv[1])
st = {int(k): int(v) for k, v in (x.split("=") for x in sys.argv[2].split())}
names = {1: "pangyo", 2: "ansan", 3: "sihung"}
v = [int(b, 16) for b in json.load(sys.stdin)["value"]]
c = collections.Counter()
for slot in range(1024):
    t = "none"
    for cand in v[slot * 64:(slot + 1) * 64]:
        if cand >= 64:
            break
        if cand != home and st.get(cand, 0) in (1, 4):
            t = names[cand]
            break
    c[t] += 1
print(" ".join(sorted("%s=%d" % (k, n) for k, n in c.items())))' "$1" "$states"
}

# send_flows N: one UDP datagram from each of N client ports to pangyo's 198.18.10.5
send_flows() {
	ip netns exec "$NS_C" python3 -c '
import socket, sys
for p in range(20000, 20000 + int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.1.2", p))
    s.sendto(b"x", ("198.18.10.5", 9))
    s.close()' "$1"
}

# man_missing: the usages of `detourctl --help`'s commands that detourctl(8) has no entry for
# (a tag line rendering "NAME USAGE"; "A | B" in a usage is two entries)
man_missing() {
	LC_ALL=C MANWIDTH=200 man -l "$DAEMON_TEST_DIR/../../docs/man/detourctl.8" 2>/dev/null |
		sed -n 's/^       \([a-z]\)/\1/p' >"$TMP/man-tags"
	"$DETOURCTL" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' | while read -r cmd; do
		"$DETOURCTL" "$cmd" --help | sed -n "s/^usage: detourctl $cmd *//p" |
			sed 's/ | /\n/g' | while read -r usage; do
				tag="$cmd${usage:+ $usage}"
				grep -qxF -- "$tag" "$TMP/man-tags" ||
					{ [ -z "$usage" ] && grep -q "^$cmd " "$TMP/man-tags"; } ||
					echo "$tag"
			done
	done
}

exits "no daemon: exit 3" 3 "detourd is not running" ctl status
exits "no daemon, --json too: exit 3" 3 "detourd is not running" ctl --json sites
exits "no command: usage, exit 2" 2 "usage: detourctl" ctl
exits "unknown command: exit 2" 2 'unknown command "reboot"' ctl reboot
exits "drain without a site: exit 2" 2 "needs a site name" ctl drain
exits "flows --limit 0: exit 2" 2 "--limit takes 1..1000000" ctl flows --limit 0
exits "prefix add with a missing site: exit 2" 2 "usage: detourctl prefix" ctl prefix add 198.18.30.0/24
exits "an unknown option: exit 2" 2 "usage: detourctl" ctl --frobnicate status
exits "a bad --timeout: exit 2" 2 "bad --timeout" "$DETOURCTL" -s "$SOCK" -t 0 status
exits "what-if without an action: exit 2" 2 "needs an action (fail or drain) and a site name" \
	ctl what-if
exits "what-if with an unknown action: exit 2" 2 'unknown action "reboot" (fail or drain)' \
	ctl what-if reboot pangyo
exits "what-if fail without a site: exit 2" 2 "needs a site name" ctl what-if fail
exits "what-if with one argument too many: exit 2" 2 'unexpected argument "now"' \
	ctl what-if fail pangyo now
"$DETOURCTL" drain --help >"$TMP/out" 2>&1
missing=$(man_missing)
check "detourctl(8) has an entry with the usage of every command (missing: ${missing:-none})" \
	test -z "$missing"
check "drain --help: exit 0 and the command's usage" eval '[ $? -eq 0 ] && grep -q "usage: detourctl drain NAME" "$TMP/out"'

daemon_and_beacons_up 3000
start_sihung
wait_until 3000 eval 'state_is sihung up && map_state_is 3 1' || bail "sihung did not come UP"

check "status: exit 0" eval "ctl status >/dev/null"
check "detourd notes that edge0's veth peer, in another namespace, must not offload TX checksums" \
	eval 'grep -q "interface edge0 is a veth whose peer is in another network namespace" "$DERR" &&
		grep -qF "ethtool -K PEER tx off" "$DERR"'
check "the socket is mode 0600, owned by root" test "$(stat -c %a:%u "$SOCK")" = 600:0
exits "an unprivileged user: exit 4" 4 "permission denied on $SOCK" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$DETOURCTL" -s "$SOCK" status
exits "a refused command: drain nosuchsite, exit 1" 1 'site "nosuchsite" is not configured' \
	ctl drain nosuchsite
exits "site show of an unknown site: exit 1" 1 'site "nosuchsite" is not configured' \
	ctl site show nosuchsite
exits "prefix add with host bits: exit 1" 1 "has host bits set" ctl prefix add 198.18.30.1/24 ansan
exits "prefix add for an unknown site: exit 1" 1 'site "nosuchsite" is not configured' \
	ctl prefix add 198.18.30.0/24 nosuchsite
exits "prefix del of a prefix not configured: exit 1" 1 "is not configured" \
	ctl prefix del 198.18.99.0/24
exits "prefix add inside another home's prefix: exit 1" 1 \
	'prefix 198.18.10.128/25 (site "ansan") overlaps 198.18.10.0/24 (site "pangyo"): overlapping prefixes must have the same home' \
	ctl prefix add 198.18.10.128/25 ansan
check "... and the dataplane still sends 198.18.10.200 to pangyo (id 1)" test "$(lpm_home 198.18.10.200)" = 1
check "prefix add of a good prefix: exit 0" ctl prefix add 198.18.30.0/24 ansan stateless
check "and prefixes lists it as ansan's, stateless" \
	test "$(ctl --json prefixes | json "[p['site'] + ' ' + str(p['stateless']) for p in d['prefixes'] if p['prefix']=='198.18.30.0/24'][0]")" = "ansan True"
check "prefix del: exit 0" ctl prefix del 198.18.30.0/24

# what-if: the shares sum to 100 %, nothing changes, and a real fail does just that.
exits "what-if fail of an unknown site: exit 1" 1 'site "nosuchsite" is not configured' \
	ctl what-if fail nosuchsite
ctl --json what-if fail pangyo >"$TMP/whatif.json"
check "what-if fail pangyo: exit 0, pangyo would be down" \
	test "$(json "d['would_be']" <"$TMP/whatif.json")" = down
check "... its slots and shares sum to 1024 and 100 %" \
	test "$(json "[sum(t['slots'] for t in d['targets']) + d['fail_open_slots'], round(sum(t['share_pct'] for t in d['targets']) + d['fail_open_pct'])]" <"$TMP/whatif.json")" = "[1024, 100]"
check "... both ansan and sihung, up, take a share; none fails open" \
	test "$(json "[(t['site'], t['state'], t['slots'] > 100) for t in d['targets']] + [d['fail_open_slots'], d['refused']]" <"$TMP/whatif.json")" = '[["ansan", "up", true], ["sihung", "up", true], 0, false]'
ctl what-if fail pangyo >"$TMP/whatif.txt"
sed 's/^/# /' "$TMP/whatif.txt"
check "... the text names the targets, their states and shares, and says nothing changed" \
	eval 'grep -q "nothing has been changed" "$TMP/whatif.txt" &&
		grep -Eq "^ansan +up +1 +[0-9]+ +[0-9]+\.[0-9] *$" "$TMP/whatif.txt" &&
		grep -Eq "^sihung +up +1 +[0-9]+ +[0-9]+\.[0-9] *$" "$TMP/whatif.txt"'
check "... and pangyo is still up, in the daemon and in the map" \
	eval 'state_is pangyo up && map_state_is 1 1'
expected=$(whatif fail pangyo)
echo "# what-if fail pangyo: $expected"
ctl fail pangyo >/dev/null
wait_until 2000 map_state_is 1 3
got=$(dp_shares 1)
echo "# after fail pangyo, the pinned failover table walks to: $got"
check "after a real fail, the dataplane's slots go where what-if said" test "$got" = "$expected"
send_flows 200
ctl --json flows --site pangyo --limit 1000 >"$TMP/flows.json"
check "... and 200 new UDP flows to pangyo split between the targets as the shares say (within 15 points)" \
	python3 -c '
import json, sys
w = json.load(open(sys.argv[1]))
f = [x for x in json.load(open(sys.argv[2]))["flows"] if x["client"].startswith("198.18.1.2:")]
n = len(f)
print("# %d flows: %s" % (n, {t["site"]: sum(x["target"] == t["site"] for x in f) for t in w["targets"]}))
ok = n == 200 and all(abs(sum(x["target"] == t["site"] for x in f) / n - t["share_pct"] / 100) < 0.15
                      for t in w["targets"])
sys.exit(0 if ok else 1)' "$TMP/whatif.json" "$TMP/flows.json"
ctl restore pangyo >/dev/null
wait_until 3000 state_is pangyo up

# A target that is down itself: its slots go to the next candidate, as the dataplane would.
stop_beacon 3
check "sihung's beacon stopped: sihung DOWN" wait_until 3000 state_is sihung down
check "what-if fail pangyo with sihung down: every slot to ansan" \
	test "$(whatif fail pangyo)" = "ansan=1024"
check "... and sihung listed as down, with no slot" \
	test "$(ctl --json what-if fail pangyo | json "[(t['site'], t['state'], t['slots']) for t in d['targets']]")" = '[["ansan", "up", 1024], ["sihung", "down", 0]]'
check "what-if drain pangyo: the same targets, and established flows stay on pangyo" \
	eval '[ "$(whatif drain pangyo)" = "ansan=1024" ] &&
		ctl what-if drain pangyo | grep -q "^established flows: stay on pangyo" &&
		[ "$(ctl --json what-if drain pangyo | json "d[\"would_be\"]")" = draining ]'
check "what-if fail ansan: ansan's slots to pangyo, and sihung's slots on ansan fail open" \
	test "$(ctl --json what-if fail ansan | json "[d['targets'][0]['site'], d['targets'][0]['slots'], [(h['home'], h['home_state'], h['slots'], h['fail_open_slots']) for h in d['also_moved']]]")" = '["pangyo", 1024, [["sihung", "down", 1024, 1024]]]'
ctl fail ansan >/dev/null
check "with ansan failed too, what-if fail pangyo: refused, and every slot fails open" \
	test "$(ctl --json what-if fail pangyo | json "[d['refused'], d['fail_open_slots'], d['fail_open_pct']]")" = '[true, 1024, 100.0]'
exits "... as the real fail is refused" 1 "refusing to fail site \"pangyo\"" ctl fail pangyo
ctl restore ansan >/dev/null
wait_until 3000 eval 'state_is ansan up || state_is ansan recovering'

# The text of stats and site show (issue 17's small things).
check "stats prints the heartbeat counters (accepted and refused, by reason)" \
	eval 'ctl stats | grep -Eq "^heartbeats: (.*, )?accepted [1-9][0-9]*"'
check "site show prints sihung's damping penalty rounded, as the DAMPING column does" \
	eval '[ "$(ctl --json site show sihung | json "d[\"site\"][\"penalty\"] > 1")" = True ] &&
		ctl site show sihung | grep -Eq "^penalty +[0-9]+$"'

# events --follow: a transition reaches a follower as one line, while it happens.
timeout 10 "$DETOURCTL" -s "$SOCK" --json events --follow >"$TMP/follow" 2>&1 &
follower=$!
EXTRA_PIDS+=("$follower")
wait_until 3000 test -s "$TMP/follow" # the log so far has been printed: subscribed
ctl fail pangyo >/dev/null
check "events --follow prints pangyo's transition to down as it happens" \
	wait_until 3000 grep -q '"site":"pangyo".*"to":"down","cause":"operator_fail"' "$TMP/follow"
ctl restore pangyo >/dev/null

kill_daemon TERM
check "detourd exits 0 on SIGTERM (no sanitizer finding either)" test "$DAEMON_STATUS" -eq 0
check "and removes its socket" test ! -e "$SOCK"
exits "the daemon gone: exit 3 again" 3 "detourd is not running" ctl status
check "the follower ended with the daemon (exit 5: no more answers)" \
	eval 'wait $follower; [ $? -eq 5 ]'
finish
