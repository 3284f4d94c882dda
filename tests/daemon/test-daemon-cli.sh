#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# detourctl's exit codes and messages as a script sees them: 0 done, 1 refused by detourd,
# 2 bad usage, 3 detourd not running, 4 permission denied on the socket; and `events --follow`
# receiving a transition as it happens.
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

setup_all
exits "no daemon: exit 3" 3 "detourd is not running" ctl status
exits "no daemon, --json too: exit 3" 3 "detourd is not running" ctl --json sites
exits "no command: usage, exit 2" 2 "usage: detourctl" ctl
exits "unknown command: exit 2" 2 'unknown command "reboot"' ctl reboot
exits "drain without a site: exit 2" 2 "needs a site name" ctl drain
exits "flows --limit 0: exit 2" 2 "--limit takes 1..1000000" ctl flows --limit 0
exits "prefix add with a missing site: exit 2" 2 "usage: detourctl prefix" ctl prefix add 198.18.30.0/24
exits "an unknown option: exit 2" 2 "usage: detourctl" ctl --frobnicate status
exits "a bad --timeout: exit 2" 2 "bad --timeout" "$DETOURCTL" -s "$SOCK" -t 0 status
"$DETOURCTL" drain --help >"$TMP/out" 2>&1
check "drain --help: exit 0 and the command's usage" eval '[ $? -eq 0 ] && grep -q "usage: detourctl drain NAME" "$TMP/out"'

daemon_and_beacons_up 3000

check "status: exit 0" eval "ctl status >/dev/null"
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
