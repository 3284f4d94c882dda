#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# SIGHUP: a good file is applied as a diff (a prefix added and one removed show in `detourctl
# prefixes` and in the pinned LPM trie); a bad file is rejected, the old configuration keeps
# running, the daemon keeps answering, and the error (FILE:LINE) is in its stderr.
. "$(dirname "$0")/daemon_fixture.sh"

setup_all
daemon_and_beacons_up 3000

prefixes() { ctl --json prefixes | json "' '.join(sorted(p['prefix'] + '=' + p['site'] for p in d['prefixes']))"; }
before=$(prefixes)
check "the trie sends 198.18.20.5 to ansan (2) before the reload" test "$(lpm_home 198.18.20.5)" = 2
check "and 198.18.30.5 nowhere" test "$(lpm_home 198.18.30.5)" = none

# A good file: ansan's 198.18.20.0/24 removed, 198.18.30.0/24 added for pangyo.
write_config "$CONF.new" "198.18.10.0/24 pangyo" "2001:db8:10::/48 pangyo" "198.18.30.0/24 pangyo"
mv "$CONF.new" "$CONF"
kill -HUP "$DAEMON_PID"
want="198.18.10.0/24=pangyo 198.18.30.0/24=pangyo 2001:db8:10::/48=pangyo"
check "detourctl prefixes follows the good file" wait_until 2000 eval '[ "$(prefixes)" = "$want" ]'
check "the trie: 198.18.30.5 -> pangyo (1)" test "$(lpm_home 198.18.30.5)" = 1
check "the trie: 198.18.20.5 -> nothing any more" test "$(lpm_home 198.18.20.5)" = none
check "the trie: 198.18.10.5 -> pangyo (1), untouched" test "$(lpm_home 198.18.10.5)" = 1
check "the reload is logged with its number of prefix changes" \
	grep -q "reload: $CONF applied (2 prefix changes)" "$DERR"
check "sites stay UP across the reload" sites_up

# A bad file: a failover site that does not exist, and a new prefix that must not appear.
cp "$CONF" "$TMP/good.conf"
write_config "$CONF" "198.18.10.0/24 pangyo" "198.18.40.0/24 pangyo"
sed -i 's/^failover = ansan$/failover = sihungg/' "$CONF"
bad_line=$(grep -n '^failover = sihungg' "$CONF" | cut -d: -f1)
kill -HUP "$DAEMON_PID"
check "the rejection and its FILE:LINE reach detourd's stderr" \
	wait_until 2000 grep -qF "$CONF:$bad_line: site \"pangyo\": failover site \"sihungg\" is not defined" "$DERR"
check "the rejection says the running configuration stays" \
	grep -qF "reload: $CONF rejected, the running configuration stays" "$DERR"
check "detourd still answers" eval "ctl status >/dev/null"
check "detourctl prefixes is unchanged" test "$(prefixes)" = "$want"
check "the trie is unchanged: 198.18.40.5 -> nothing, 198.18.30.5 -> pangyo" \
	eval '[ "$(lpm_home 198.18.40.5)" = none ] && [ "$(lpm_home 198.18.30.5)" = 1 ]'
check "detourd is still running" kill -0 "$DAEMON_PID"

# A change that needs a restart is refused whole too, and says so.
sed 's/^interval_ms = .*/interval_ms = 10/' "$TMP/good.conf" >"$CONF"
sed -i 's/^hold_down_ms = .*/hold_down_ms = 300/' "$CONF"
kill -HUP "$DAEMON_PID"
check "a changed detector timer is refused: restart needed" \
	wait_until 2000 grep -q "reload: a site's detector timers changed; restart detourd" "$DERR"
cp "$TMP/good.conf" "$CONF"
check "the state machine kept running: both sites UP" sites_up
kill_daemon TERM
check "detourd exits 0 on SIGTERM after three reloads (no sanitizer finding either)" \
	test "$DAEMON_STATUS" -eq 0
finish
