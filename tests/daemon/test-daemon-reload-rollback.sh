#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A reload that fails after its first dataplane write is rolled back (issue 15, case 4). Something
# other than detourd (here bpftool) has filled the pinned IPv4 prefix trie to its max_entries, which
# no check before the first write can see. A new file that changes pangyo's next-hop MAC (written
# first, and taken) and adds 198.18.30.0/24 for ansan (an insert the full trie refuses, ENOSPC)
# fails part way: the log says it was rolled back, and every pinned map that holds configuration
# (dt_site, dt_failover, dt_egress, dt_prefix_v4, dt_prefix_v6, dt_site_state) reads exactly as
# before, byte for byte, pangyo's MAC included. With one foreign entry removed the same file is
# applied, and the maps change (so the comparison can see a change).
. "$(dirname "$0")/daemon_fixture.sh"

setup_all
start_daemon || bail "detourd did not start"
start_beacon 1
start_beacon 2
wait_until 3000 sites_up || bail "sites did not come UP"

snapshot() { config_maps_snapshot "$@"; }
reload_with() { # FILE: install it as the configuration and SIGHUP detourd
	cp "$1" "$CONF"
	kill -HUP "$DAEMON_PID"
}
log_count() { grep -c "$1" "$DERR"; }
foreign_key() { # N: the trie key of foreign entry N, 198.19.x.y/32 (struct dt_lpm_v4_key)
	echo "32 0 0 0 198 19 $(($1 >> 8)) $(($1 & 255))"
}

# ---- something else fills the trie ---------------------------------------------------------
max=$(bpftool -j map show pinned "$ROOT/dt_prefix_v4" | json "d['max_entries']")
have=$(bpftool -j map dump pinned "$ROOT/dt_prefix_v4" | json "len(d)")
foreign=$((max - have))
for ((i = 0; i < foreign; i++)); do
	echo "map update pinned $ROOT/dt_prefix_v4 key $(foreign_key $i) value 0 0 0 0"
done >"$TMP/fill.batch"
bpftool batch file "$TMP/fill.batch" >/dev/null 2>"$TMP/fill.err" || bail "bpftool batch: $(tail -1 "$TMP/fill.err")"
check "the trie is full ($max entries: $have of detourd's, $foreign foreign)" \
	test "$(bpftool -j map dump pinned "$ROOT/dt_prefix_v4" | json "len(d)")" = "$max"

write_config "$TMP/next.conf" "198.18.10.0/24 pangyo" "2001:db8:10::/48 pangyo" \
	"198.18.20.0/24 ansan" "198.18.30.0/24 ansan"
sed -i -e "/^\[site pangyo\]/,/^\[/ s/^next_hop_mac = .*/next_hop_mac = 02:00:00:00:0a:0b/" \
	"$TMP/next.conf"

snapshot "$TMP/before"
rolled=$(log_count "reload: rolled back")
reload_with "$TMP/next.conf"
check "the reload fails part way: the full trie refuses the new prefix" \
	wait_until 3000 grep -q "reload: applying .*: No space left on device" "$DERR"
check "... and is rolled back" test "$(log_count "reload: rolled back: the dataplane holds the running")" -gt "$rolled"
snapshot "$TMP/after"
check "every configuration map is as it was, pangyo's MAC included" cmp -s "$TMP/before" "$TMP/after"
if ! cmp -s "$TMP/before" "$TMP/after"; then diff "$TMP/before" "$TMP/after" | head -8 | sed 's/^/#   /'; fi
check "both sites still UP" sites_up
check "198.18.30.0/24 is nobody's (not in the trie)" test "$(lpm_home 198.18.30.9)" = none

# ---- room for one: the same file applies ---------------------------------------------------
# shellcheck disable=SC2046 # the key is several words
bpftool map delete pinned "$ROOT/dt_prefix_v4" key $(foreign_key 0) || bail "cannot delete a foreign entry"
reload_with "$TMP/next.conf"
check "with room for it the same file is applied" wait_until 3000 grep -q "reload: .* applied" "$DERR"
snapshot "$TMP/applied"
check "and the maps changed (pangyo's MAC, ansan's prefix)" eval '! cmp -s "$TMP/before" "$TMP/applied"'
check "198.18.30.0/24 now goes to ansan (id 2)" test "$(lpm_home 198.18.30.9)" = 2
finish
