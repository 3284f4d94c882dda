#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# SIGHUP is all or nothing (issue 15, case 4). A new file that changes pangyo's next-hop MAC,
# adds a prefix for ansan and names an interface for ansan that this edge does not have (which
# only applying finds out) is refused whole: the log names the interface, and every pinned map
# that holds configuration (dt_site, dt_failover, dt_egress, dt_prefix_v4, dt_prefix_v6,
# dt_site_state) reads exactly as before, byte for byte. The same file with ansan's interface
# fixed is then applied, and those maps change (so the comparison can see a change).
. "$(dirname "$0")/daemon_fixture.sh"

setup_all
daemon_and_beacons_up 3000

snapshot() { config_maps_snapshot "$@"; }
reload_with() { # FILE: install it as the configuration and SIGHUP detourd
	cp "$1" "$CONF"
	: >"$DERR.mark"
	kill -HUP "$DAEMON_PID"
}
log_says() { wait_until 3000 grep -q "$1" "$DERR"; }

write_config "$TMP/next.conf" "198.18.10.0/24 pangyo" "2001:db8:10::/48 pangyo" \
	"198.18.20.0/24 ansan" "198.18.30.0/24 ansan"
sed -i -e "/^\[site pangyo\]/,/^\[/ s/^next_hop_mac = .*/next_hop_mac = 02:00:00:00:0a:0b/" \
	"$TMP/next.conf"
sed -e "/^\[site ansan\]/,/^\[/ s/^interface = .*/interface = nosuch0/" "$TMP/next.conf" \
	>"$TMP/bad.conf"
cp "$CONF" "$TMP/good.conf"

snapshot "$TMP/before"
reload_with "$TMP/bad.conf"
check "the reload is refused, naming the interface" log_says "nosuch0"
check "... and saying nothing was changed" log_says "reload: .*nothing was changed"
snapshot "$TMP/after"
check "every configuration map is as it was" cmp -s "$TMP/before" "$TMP/after"
if ! cmp -s "$TMP/before" "$TMP/after"; then diff "$TMP/before" "$TMP/after" | head -8 | sed 's/^/#   /'; fi
check "both sites still UP" sites_up

reload_with "$TMP/next.conf"
check "the fixed file is applied" log_says "reload: .* applied"
snapshot "$TMP/applied"
check "and the maps changed (pangyo's MAC, ansan's prefix)" eval '! cmp -s "$TMP/before" "$TMP/applied"'
check "198.18.30.0/24 now goes to ansan (id 2)" test "$(lpm_home 198.18.30.9)" = 2
finish
