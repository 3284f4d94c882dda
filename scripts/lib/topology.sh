# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash source-path=SCRIPTDIR
# The Detour test network, as functions to source: a client, an edge router running detour_xdp
# and detourd, N sites serving the same anycast addresses, and a management link per site for
# the heartbeats. Used by scripts/topology.sh, scripts/demo.sh, bench/bench-e2e.sh and, through
# scripts/lib/topology_test.sh, tests/integration/ and tests/dpdk-integration/.
#
#   client ──cl0|edge0── edge ──e-<site>|s0── site (route: MAC rewrite; ipip: kernel tunnel)
#                          └──m-<site>|m0── site (management link: detour-beacon ─▶ detourd)
#
# Heartbeats: each site runs DT_BEACONS_PER_SITE beacons (ids 0 .. N-1, `beacons = 0 1` in the
# site's section), each its own process under SCHED_FIFO with its own NUT UPS (siteups for beacon
# 0, siteups<B> for beacon B, all served by the site's one upsd). Every beacon sends to the edge's
# management address (path 1: over m-<site>|m0); with DT_HB_PATHS=2 also to the edge's data-link
# address (path 2: over e-<site>|s0, the link the site's traffic uses; the edge listens on
# 0.0.0.0:7600). The site reaches the management /24 over m0 only (an unreachable route behind
# the link's own): with m0 down its heartbeats to the management address fail instead of leaving
# by the default route over s0, so the two paths are cut apart (dt_hb_path_cut).
#
# Parameters (environment, all optional):
#   DT_NS_PREFIX     namespace-name prefix (default dt): DT_NS_PREFIX-client, -edge, -<site>
#   DT_SITES         site names, in id order from 1 (default "pangyo ansan sihung"; at most 9)
#   DT_MODES         delivery mode per site, same order (default "route route ipip")
#   DT_FAILOVER_<s>  failover list of site <s> (default: every other site, weight 1)
#   DT_INTERVAL_MS, DT_MULTIPLIER, DT_HOLD_DOWN_MS, DT_RECOVERY_MS, DT_FLOW_IDLE_MS
#   DT_SERVICE_V4 / DT_STATELESS_V4 / DT_SERVICE_V6 / DT_STATELESS_V6: the anycast addresses
#   DT_PREFIX_FLAGS  flags added to the two stateful service prefixes (for instance tcp_reset)
#   DT_TUNNEL_FAMILY 4 (default) or 6: the outer header of ipip sites' tunnels
#   DT_BEACONS_PER_SITE  beacons per site, 1 (default) .. 8
#   DT_HB_PATHS      1 (default: the management link) or 2 (also the data link); path 2 is made
#                    for the XDP dataplane (with DPDK the edge's kernel does not own e-<site>)
#   DT_TC_DECAP_OBJ  site_decap.bpf.o, for kernels without ipip/sit/ip6tnl devices
#   DT_WORK          state directory (default: a new mktemp -d)
#   DETOURD DETOURCTL DT_BEACON DT_SERVER DT_CLIENT DT_XDP_PASS_OBJ: the programs
#
# Addresses come only from 198.18.0.0/15 and 2001:db8::/32, and exist only inside the
# namespaces made here. dt_topo_down removes everything dt_topo_up made, and is safe to call
# twice or after a half-finished dt_topo_up. The building blocks are scripts/lib/netns.sh and
# scripts/lib/detour.sh, sourced here.

# shellcheck source=netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/netns.sh"
# shellcheck source=detour.sh
. "$(dirname "${BASH_SOURCE[0]}")/detour.sh"
# shellcheck source=http.sh
. "$(dirname "${BASH_SOURCE[0]}")/http.sh"

: "${DT_NS_PREFIX:=dt}"
: "${DT_SITES:=pangyo ansan sihung}"
: "${DT_MODES:=route route ipip}"
: "${DT_INTERVAL_MS:=5}"
: "${DT_MULTIPLIER:=3}"
: "${DT_HOLD_DOWN_MS:=500}"
: "${DT_RECOVERY_MS:=10000}"
: "${DT_FLOW_IDLE_MS:=1000}"
: "${DT_SERVICE_V4:=198.18.100.1}"
: "${DT_STATELESS_V4:=198.18.101.1}"
: "${DT_SERVICE_V6:=2001:db8:100::1}"
: "${DT_STATELESS_V6:=2001:db8:101::1}"
: "${DT_PORT:=7000}"
: "${DT_TUNNEL_FAMILY:=4}"
: "${DT_BEACONS_PER_SITE:=1}"
: "${DT_HB_PATHS:=1}"
DT_HB_PORT=7600

UPSD=/lib/nut/upsd
[ -x "$UPSD" ] || UPSD=/usr/sbin/upsd
DUMMY_UPS=/lib/nut/dummy-ups

dt_ns() { echo "$DT_NS_PREFIX-$1"; }
dt_in() { # NAMESPACE-SUFFIX CMD...: run CMD in that namespace
	local ns
	ns=$(dt_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

dt_site_index() { # SITE -> 1..N
	local i=1 s
	for s in $DT_SITES; do
		[ "$s" = "$1" ] && echo "$i" && return 0
		i=$((i + 1))
	done
	return 1
}
dt_site_mode() {
	local i
	i=$(dt_site_index "$1")
	echo "$DT_MODES" | awk -v i="$i" '{ print $i }'
}
dt_site_v4() { echo "198.18.$((10 + $(dt_site_index "$1"))).$2"; } # SITE 1=edge|2=site
dt_site_v6() { echo "2001:db8:$((10 + $(dt_site_index "$1")))::$2"; }
dt_mgmt_v4() { echo "198.18.$((30 + $(dt_site_index "$1"))).$2"; }
dt_site_mac() { printf '02:dd:00:00:%02x:%02x\n' "$(dt_site_index "$1")" "$2"; }

dt_topo_check() {
	local p
	[ "$(id -u)" -eq 0 ] || dt_die "the topology needs root"
	for p in DETOURD DETOURCTL DT_BEACON DT_SERVER DT_CLIENT DT_XDP_PASS_OBJ; do
		[ -e "${!p:-}" ] || dt_die "$p is not set to an existing file (${!p:-unset})"
	done
	[ -x "$UPSD" ] && [ -x "$DUMMY_UPS" ] || dt_die "NUT's upsd and dummy-ups are needed"
	[[ "$DT_BEACONS_PER_SITE" =~ ^[1-8]$ ]] || dt_die "DT_BEACONS_PER_SITE must be 1 .. 8"
	[[ "$DT_HB_PATHS" =~ ^[12]$ ]] || dt_die "DT_HB_PATHS must be 1 or 2"
}

# ---- links and addresses ------------------------------------------------------------------

dt_ns_add() {
	local ns
	ns=$(dt_ns "$1")
	dt_netns_add "$ns"
	echo "$ns" >>"$DT_WORK/namespaces"
	# IPv4 conf is inherited from the host: a strict rp_filter there would drop the replies
	# that come back from a site the route does not point at.
	dt_in "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.all.keep_addr_on_down=1 net.ipv6.conf.default.keep_addr_on_down=1
}

dt_neigh() { # NETNS DEV V4 V6 MAC
	ip -n "$1" neigh replace "$3" lladdr "$5" dev "$2" nud permanent
	ip -n "$1" -6 neigh replace "$4" lladdr "$5" dev "$2" nud permanent
}

dt_link_client() {
	local c e
	c=$(dt_ns client)
	e=$(dt_ns edge)
	ip link add cl0 netns "$c" address 02:dd:00:00:00:02 type veth peer name edge0 \
		netns "$e" address 02:dd:00:00:00:01
	ip -n "$c" addr add 198.18.1.2/24 dev cl0
	ip -n "$c" addr add 2001:db8:1::2/64 dev cl0 nodad
	ip -n "$e" addr add 198.18.1.1/24 dev edge0
	ip -n "$e" addr add 2001:db8:1::1/64 dev edge0 nodad
	# Native XDP on edge0 sees the client's frames before any checksum is filled in when the
	# sender offloads it: rerouted frames would reach the site with a partial checksum.
	ip netns exec "$c" ethtool -K cl0 tx off >/dev/null
	ip -n "$c" link set cl0 up
	ip -n "$e" link set edge0 up
	# Static neighbours everywhere (we chose every MAC): no first request waits on ARP or ND.
	dt_neigh "$c" cl0 198.18.1.1 2001:db8:1::1 02:dd:00:00:00:01
	dt_neigh "$e" edge0 198.18.1.2 2001:db8:1::2 02:dd:00:00:00:02
	ip -n "$c" route add default via 198.18.1.1
	ip -n "$c" -6 route add default via 2001:db8:1::1
}

dt_link_site() { # SITE: its data link and its management link
	local site=$1 e s
	e=$(dt_ns edge)
	s=$(dt_ns "$site")
	ip link add "e-$site" netns "$e" address "$(dt_site_mac "$site" 1)" type veth peer name s0 \
		netns "$s" address "$(dt_site_mac "$site" 2)"
	ip -n "$e" addr add "$(dt_site_v4 "$site" 1)/24" dev "e-$site"
	ip -n "$e" addr add "$(dt_site_v6 "$site" 1)/64" dev "e-$site" nodad
	ip -n "$s" addr add "$(dt_site_v4 "$site" 2)/24" dev s0
	ip -n "$s" addr add "$(dt_site_v6 "$site" 2)/64" dev s0 nodad
	# The management link: point to point, no bridge. (With one shared bridge, taking a
	# site's port down or up stalled the other sites' heartbeats for tens of ms: observed as
	# false DOWNs of healthy sites right after a power cut or a restore.)
	ip link add "m-$site" netns "$e" address "$(dt_site_mac "$site" 3)" type veth peer name m0 \
		netns "$s" address "$(dt_site_mac "$site" 4)"
	ip -n "$e" addr add "$(dt_mgmt_v4 "$site" 1)/24" dev "m-$site"
	ip -n "$e" link set "m-$site" up
	ip -n "$s" addr add "$(dt_mgmt_v4 "$site" 2)/24" dev m0
	# Behind m0's own route: with m0 down, the management network is unreachable rather than
	# reached by the default route over s0 (which would merge the two heartbeat paths).
	ip -n "$s" route add unreachable "$(dt_mgmt_v4 "$site" 0)/24" metric 1000
	ip -n "$e" link set "e-$site" up
	dt_neigh "$e" "e-$site" "$(dt_site_v4 "$site" 2)" "$(dt_site_v6 "$site" 2)" \
		"$(dt_site_mac "$site" 2)"
	# The site's end receives XDP_REDIRECTed frames: a veth delivers those only to a peer
	# that runs an XDP program itself.
	ip -n "$s" link set dev s0 xdp obj "$DT_XDP_PASS_OBJ" sec xdp
	dt_site_links_up "$site"
}

# Links up and routes back (a link that went down lost its routes).
dt_site_links_up() {
	local s
	s=$(dt_ns "$1")
	ip -n "$s" link set s0 up
	ip -n "$s" link set m0 up
	ip -n "$s" neigh replace "$(dt_mgmt_v4 "$1" 1)" lladdr "$(dt_site_mac "$1" 3)" dev m0 \
		nud permanent
	dt_neigh "$s" s0 "$(dt_site_v4 "$1" 1)" "$(dt_site_v6 "$1" 1)" "$(dt_site_mac "$1" 1)"
	ip -n "$s" route replace default via "$(dt_site_v4 "$1" 1)"
	ip -n "$s" -6 route replace default via "$(dt_site_v6 "$1" 1)"
}

# Every site serves the same anycast addresses; an ipip site also decapsulates with the
# kernel's own tunnel devices (ipip for 4in4, sit for 6in4, ip6tnl for both in IPv6).
dt_site_service() {
	local site=$1 s
	s=$(dt_ns "$site")
	ip -n "$s" addr add "$DT_SERVICE_V4/32" dev lo
	ip -n "$s" addr add "$DT_STATELESS_V4/32" dev lo
	ip -n "$s" addr add "$DT_SERVICE_V6/128" dev lo nodad
	ip -n "$s" addr add "$DT_STATELESS_V6/128" dev lo nodad
	[ "$(dt_site_mode "$site")" = ipip ] || return 0
	if [ "$DT_DECAP" = tc ]; then
		dt_site_tc_decap "$site"
		return
	fi
	ip -n "$s" link add dt-ipip type ipip local "$(dt_site_v4 "$site" 2)"
	ip -n "$s" link add dt-sit type sit mode ip6ip local "$(dt_site_v4 "$site" 2)"
	ip -n "$s" link add dt-ip6 type ip6tnl mode any local "$(dt_site_v6 "$site" 2)"
	local t
	for t in dt-ipip dt-sit dt-ip6; do
		ip -n "$s" link set "$t" up
		dt_in "$site" sysctl -qw "net.ipv4.conf.$t.rp_filter=0"
	done
}

# A kernel built without CONFIG_NET_IPIP/IPV6_SIT/IPV6_TUNNEL (some VM kernels) has no tunnel
# device to decapsulate with. Then an ipip site decapsulates with a tc program (DT_TC_DECAP_OBJ)
# if one was built, and otherwise the site is switched to route mode, loudly.
dt_choose_decap() {
	local e
	e=$(dt_ns edge)
	DT_DECAP=kernel
	if ip -n "$e" link add dt-probe type ipip 2>/dev/null; then
		ip -n "$e" link del dt-probe
		return 0
	fi
	if [ -e "${DT_TC_DECAP_OBJ:-}" ]; then
		DT_DECAP=tc
		dt_log "this kernel has no ipip device: ipip sites decapsulate with $DT_TC_DECAP_OBJ"
		return 0
	fi
	DT_DECAP=none
	if [[ " $DT_MODES " == *" ipip "* ]]; then
		dt_log "NOTICE: this kernel has no ipip device and no tc decap object: ipip sites run in route mode"
		DT_MODES=${DT_MODES//ipip/route}
	fi
}

# The key of site_decap's decap_endpoints map for ADDRESS (tests/integration/site_decap.h): 16
# address bytes, IPv4 in the first four, then the family as a host-order u32.
dt_decap_key() {
	python3 -c 'import ipaddress, struct, sys
a = ipaddress.ip_address(sys.argv[1])
print(" ".join(str(b) for b in a.packed.ljust(16, b"\0") + struct.pack("=I", a.version)))' "$1"
}

# The id of the map NAME used by the program tc attached at DEV's ingress in SITE.
dt_tc_map_id() { # SITE DEV NAME
	local prog
	prog=$(dt_in "$1" tc filter show dev "$2" ingress | sed -n 's/.* id \([0-9]*\) .*/\1/p' | head -1)
	[ -n "$prog" ] || return 1
	bpftool -j prog show id "$prog" | python3 -c '
import json, subprocess, sys
for m in json.load(sys.stdin).get("map_ids", []):
    info = json.loads(subprocess.check_output(["bpftool", "-j", "map", "show", "id", str(m)]))
    if info.get("name") == sys.argv[1]:
        print(m)' "$3"
}

# The site's decapsulating tc program, told which outer destinations are its own: the site's
# addresses on s0, whichever family the edge's tunnel uses.
dt_site_tc_decap() {
	local site=$1 map a
	dt_in "$site" tc qdisc add dev s0 clsact
	dt_in "$site" tc filter add dev s0 ingress bpf direct-action obj "$DT_TC_DECAP_OBJ" sec tc
	map=$(dt_tc_map_id "$site" s0 decap_endpoints)
	[ -n "$map" ] || dt_die "site $site: no decap_endpoints map behind the tc program on s0"
	for a in "$(dt_site_v4 "$site" 2)" "$(dt_site_v6 "$site" 2)"; do
		# shellcheck disable=SC2046 # one word per byte
		bpftool map update id "$map" key $(dt_decap_key "$a") value 1 0 0 0 ||
			dt_die "site $site: cannot add tunnel endpoint $a"
	done
}

dt_topo_network() {
	local site e
	dt_ns_add client
	dt_ns_add edge
	dt_choose_decap
	e=$(dt_ns edge)
	dt_in edge sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	dt_link_client
	local first=""
	for site in $DT_SITES; do
		dt_ns_add "$site"
		dt_link_site "$site"
		dt_site_service "$site"
		[ -n "$first" ] || first=$site
	done
	# The kernel's route to the service goes to the first site: healthy traffic never
	# touches Detour beyond a lookup.
	ip -n "$e" route add "${DT_SERVICE_V4%.*}.0/24" via "$(dt_site_v4 "$first" 2)"
	ip -n "$e" route add "${DT_STATELESS_V4%.*}.0/24" via "$(dt_site_v4 "$first" 2)"
	ip -n "$e" -6 route add "${DT_SERVICE_V6%::*}::/48" via "$(dt_site_v6 "$first" 2)"
	ip -n "$e" -6 route add "${DT_STATELESS_V6%::*}::/48" via "$(dt_site_v6 "$first" 2)"
}

# ---- keys, configuration ------------------------------------------------------------------

dt_topo_keys() {
	local site ids=()
	for site in $DT_SITES; do ids+=("$(dt_site_index "$site")"); done
	dt_write_keys "$DT_WORK/keys" "${ids[@]}"
}

dt_failover_of() {
	local var="DT_FAILOVER_$1" s out=""
	if [ -n "${!var:-}" ]; then
		echo "${!var}"
		return
	fi
	for s in $DT_SITES; do [ "$s" = "$1" ] || out="$out $s"; done
	echo "${out# }"
}

dt_config_site() {
	local site=$1 fam=dt_site_v4 remote="" local_end=""
	[ "$DT_TUNNEL_FAMILY" = 6 ] && fam=dt_site_v6
	if [ "$(dt_site_mode "$site")" = ipip ]; then
		remote=$($fam "$site" 2) local_end=$($fam "$site" 1)
	fi
	echo
	dt_conf_section "site $site" "id=$(dt_site_index "$site")" \
		"delivery=$(dt_site_mode "$site")" "interface=e-$site" \
		"next_hop_mac=$(dt_site_mac "$site" 2)" "failover=$(dt_failover_of "$site")" \
		"tunnel_remote=$remote" "tunnel_local=$local_end" \
		"beacons=$([ "$DT_BEACONS_PER_SITE" -eq 1 ] || dt_beacon_ids)"
}

dt_topo_config() {
	local site first=${DT_SITES%% *}
	{
		echo "; generated by scripts/lib/topology.sh"
		dt_conf_section detour interfaces=edge0 xdp_mode=native \
			"heartbeat_listen=0.0.0.0:$DT_HB_PORT" "key_file=$DT_WORK/keys" \
			"interval_ms=$DT_INTERVAL_MS" "multiplier=$DT_MULTIPLIER" \
			"hold_down_ms=$DT_HOLD_DOWN_MS" "recovery_timeout_ms=$DT_RECOVERY_MS" \
			"flow_idle_ms=$DT_FLOW_IDLE_MS" "phi_threshold=${DT_PHI_THRESHOLD:-0}" \
			"control_socket=$DT_WORK/detourd.sock" "pin_root=$DT_WORK/bpffs/detour" \
			"event_log=$DT_WORK/events.jsonl" "state_file=$DT_WORK/detourd.state"
		for site in $DT_SITES; do dt_config_site "$site"; done
		echo
		dt_conf_section prefixes "prefix=${DT_SERVICE_V4%.*}.0/24 $first${DT_PREFIX_FLAGS:+ $DT_PREFIX_FLAGS}" \
			"prefix=${DT_STATELESS_V4%.*}.0/24 $first stateless" \
			"prefix=${DT_SERVICE_V6%::*}::/48 $first${DT_PREFIX_FLAGS:+ $DT_PREFIX_FLAGS}" \
			"prefix=${DT_STATELESS_V6%::*}::/48 $first stateless"
	} >"$DT_WORK/detour.conf"
}

# ---- processes ------------------------------------------------------------------------------

# dt_spawn NAME NAMESPACE CMD...: start CMD in the background, its pid in pids/NAME.
dt_spawn() {
	local name=$1 where=$2
	shift 2
	: >"$DT_WORK/logs/$name.out"
	: >"$DT_WORK/logs/$name.log"
	dt_bg "$(dt_ns "$where")" "$DT_WORK/logs/$name.out" "$DT_WORK/logs/$name.log" "$@"
	echo "$DT_BG_PID" >"$DT_WORK/pids/$name"
}

dt_pid() { cat "$DT_WORK/pids/$1" 2>/dev/null; }

# dt_kill NAME [SIGNAL]: signal the process started as NAME and wait (bounded) for its end.
dt_kill() {
	local pid
	pid=$(dt_pid "$1") || return 0
	rm -f "$DT_WORK/pids/$1"
	dt_stop_pid "$pid" "${2:-TERM}"
}

# ---- beacons and their UPSes ------------------------------------------------------------------

dt_beacon_ids() { seq -s ' ' 0 $((DT_BEACONS_PER_SITE - 1)); }
# The process name of beacon B of SITE (pids/NAME, logs/NAME.log, NAME.conf): beacon-SITE for
# beacon 0, as with one beacon per site; beacon-SITE-B for the others.
dt_beacon_name() { if [ "${2:-0}" -eq 0 ]; then echo "beacon-$1"; else echo "beacon-$1-$2"; fi; }
dt_ups_name() { if [ "${1:-0}" -eq 0 ]; then echo siteups; else echo "siteups$1"; fi; } # BEACON

# dt_ups_status SITE STATUS [BEACON]: the UPS of that beacon of SITE (default 0), for instance OB.
# dummy-ups reads this file; its mtime must move forward to be re-read.
dt_ups_status() {
	local f m
	f="$DT_WORK/$1/nut/$(dt_ups_name "${3:-0}").dev"
	m=$(($(stat -c %Y "$f" 2>/dev/null || date +%s) + 10))
	printf 'ups.status: %s\nbattery.charge: 100\n' "$2" >"$f"
	touch -d "@$m" "$f"
}

# One upsd per site serving one dummy-ups UPS per beacon (ups-SITE, ups-SITE-B).
dt_start_nut() {
	local site=$1 d="$DT_WORK/$1/nut" b ups name
	mkdir -p "$d/state"
	chmod 0700 "$d" "$d/state"
	: >"$d/ups.conf"
	for b in $(dt_beacon_ids); do
		ups=$(dt_ups_name "$b")
		printf '[%s]\n\tdriver = dummy-ups\n\tport = %s.dev\n\tpollinterval = 1\n' \
			"$ups" "$ups" >>"$d/ups.conf"
	done
	printf 'LISTEN 127.0.0.1 3493\nSTATEPATH %s\n' "$d/state" >"$d/upsd.conf"
	printf '[monitor]\n\tpassword = unused\n\tupsmon primary\n' >"$d/upsd.users"
	chmod 0600 "$d"/*.conf "$d/upsd.users"
	for b in $(dt_beacon_ids); do
		ups=$(dt_ups_name "$b") name=ups-$site
		[ "$b" -eq 0 ] || name=ups-$site-$b
		dt_ups_status "$site" OL "$b"
		NUT_CONFPATH=$d NUT_STATEPATH=$d/state dt_spawn "$name" "$site" \
			"$DUMMY_UPS" -a "$ups" -u root -F
	done
	NUT_CONFPATH=$d NUT_STATEPATH=$d/state dt_spawn "upsd-$site" "$site" "$UPSD" -u root -F
}

dt_ups_ready() {
	local b
	for b in $(dt_beacon_ids); do
		dt_in "$1" upsc "$(dt_ups_name "$b")@127.0.0.1" ups.status 2>/dev/null | grep -q . ||
			return 1
	done
}

# Where SITE's beacons send every heartbeat: the edge's management address, and with
# DT_HB_PATHS=2 its data-link address too.
dt_hb_targets() {
	echo "$(dt_mgmt_v4 "$1" 1):$DT_HB_PORT"
	[ "$DT_HB_PATHS" -lt 2 ] || echo "$(dt_site_v4 "$1" 1):$DT_HB_PORT"
}

# dt_start_beacon SITE [BEACON]: that beacon of SITE, or every one of them. Each also reads
# $DT_WORK/NAME.conf (dt_beacon_name; empty at first: a test may write keys such as key-id there
# and SIGHUP the beacon).
dt_start_beacon() {
	local site=$1 b=${2:-} name conf t more=()
	if [ -z "$b" ]; then
		for b in $(dt_beacon_ids); do dt_start_beacon "$site" "$b"; done
		return
	fi
	name=$(dt_beacon_name "$site" "$b")
	conf=$DT_WORK/$name.conf
	[ -f "$conf" ] || : >"$conf"
	# the first target in DT_BEACON_ARGV, the others after it
	for t in $(dt_hb_targets "$site" | tail -n +2); do more+=(--target "$t"); done
	dt_beacon_argv "$(dt_site_index "$site")" "$DT_WORK/keys" \
		"$(dt_hb_targets "$site" | head -1)" "$DT_INTERVAL_MS"
	# SCHED_FIFO, like detourd: on a busy 2-core machine an ordinary beacon was observed to
	# miss 4 beats (20 ms) in a row, two sites at once, and a healthy site went DOWN.
	dt_spawn "$name" "$site" chrt -f 20 "$DT_BEACON" -c "$conf" "${DT_BEACON_ARGV[@]}" \
		"${more[@]}" --beacon-id "$b" --ups "$(dt_ups_name "$b")@127.0.0.1" \
		--poll-interval 100ms --poll-timeout 80ms
}

# dt_stop_beacon SITE BEACON [SIGNAL]: signal it (default TERM) and wait (bounded) for its end.
dt_stop_beacon() {
	local name pid
	name=$(dt_beacon_name "$1" "$2")
	pid=$(dt_pid "$name") || return 0
	if [ "${3:-TERM}" != KILL ]; then
		dt_kill "$name" "${3:-TERM}"
		return
	fi
	kill -KILL "$pid" 2>/dev/null || true # gone already (dt_cut_power kills first): no error
	# reaped here and quietly: bash would otherwise report "Killed" for it on the terminal
	{ wait "$pid"; } 2>/dev/null || true
	rm -f "$DT_WORK/pids/$name"
}

dt_start_server() {
	rm -f "$DT_WORK/$1/ready"
	dt_spawn "server-$1" "$1" "$DT_SERVER" --name "$1" --port "$DT_PORT" \
		--ready-file "$DT_WORK/$1/ready"
	dt_wait_until 5000 test -s "$DT_WORK/$1/ready" || dt_die "site $1: server did not start"
}

# dt_site_state SITE: the state detourd reports (up, down, draining, recovering, unknown).
dt_site_state() {
	dt_ctl --json site show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["site"]["state"])'
}
dt_state_is() { [ "$(dt_site_state "$1")" = "$2" ]; }
dt_wait_state() { # SITE STATE TIMEOUT_MS
	dt_wait_until "$3" dt_state_is "$1" "$2"
}

dt_start_detourd() {
	dt_spawn detourd edge "$DETOURD" -c "$DT_WORK/detour.conf" --log-level info
	# The socket opens after detour_xdp is loaded: about 900,000 instructions to verify, 2-3 s
	# on an idle 2-vCPU machine, several times that under a test suite's load.
	dt_wait_until 30000 test -S "$DT_WORK/detourd.sock" ||
		dt_die "detourd did not open its control socket: $(tail -5 "$DT_WORK/logs/detourd.log")"
	dt_wait_until 5000 dt_ctl status >/dev/null || dt_die "detourd does not answer"
}

dt_all_up() {
	local site
	for site in $DT_SITES; do dt_state_is "$site" up || return 1; done
}

# ---- power ------------------------------------------------------------------------------------

# The site's power fails: every beacon of it dies with it and its links go dark, at once.
dt_cut_power() {
	local s b pids=()
	s=$(dt_ns "$1")
	for b in $(dt_beacon_ids); do pids+=("$(dt_pid "$(dt_beacon_name "$1" "$b")")"); done
	kill -KILL "${pids[@]}" 2>/dev/null # one kill(1) for all; a beacon not running is no error
	# reaped here and quietly: bash would otherwise report "Killed" for each on the terminal
	{ wait "${pids[@]}"; } 2>/dev/null || true
	ip -n "$s" link set s0 down
	ip -n "$s" link set m0 down
	for b in $(dt_beacon_ids); do dt_stop_beacon "$1" "$b" KILL; done
}

dt_restore_power() {
	dt_site_links_up "$1"
	dt_start_beacon "$1"
}

# ---- heartbeat paths ----------------------------------------------------------------------------

# dt_hb_path_cut SITE mgmt|data: SITE's heartbeats stop reaching the edge over that path; its
# beacons run on. mgmt: the site's end of the management link goes down (the beacons' sends to
# the management address then fail: no route). data: the data link stays up for the traffic and
# a policy rule in the site discards (blackhole) what it sends to the edge's data-link address on
# the heartbeat port (those sends fail with EINVAL).
dt_hb_path_cut() {
	case $2 in
	mgmt) ip -n "$(dt_ns "$1")" link set m0 down ;;
	data) dt_hb_data_rule "$1" add ;;
	*) dt_die "dt_hb_path_cut: no path \"$2\" (mgmt or data)" ;;
	esac
}
dt_hb_path_restore() { # SITE mgmt|data
	case $2 in
	mgmt) dt_site_links_up "$1" ;;
	data) dt_hb_data_rule "$1" del ;;
	*) dt_die "dt_hb_path_restore: no path \"$2\" (mgmt or data)" ;;
	esac
}
dt_hb_data_rule() { # SITE add|del
	ip -n "$(dt_ns "$1")" rule "$2" pref 100 to "$(dt_site_v4 "$1" 1)/32" ipproto udp \
		dport "$DT_HB_PORT" blackhole
}

# ---- up / down ------------------------------------------------------------------------------

dt_topo_up() {
	local site
	dt_topo_check
	if [ -z "${DT_WORK:-}" ]; then DT_WORK=$(mktemp -d "/tmp/$DT_NS_PREFIX-topo.XXXXXX"); fi
	export DT_WORK
	mkdir -p "$DT_WORK/pids" "$DT_WORK/logs"
	# A private bpffs: a restarted detourd adopts the pins it finds there.
	dt_bpffs_mount "$DT_WORK/bpffs"
	dt_topo_network
	dt_topo_keys
	dt_topo_config
	dt_in edge "$DETOURD" --check -c "$DT_WORK/detour.conf" >/dev/null ||
		dt_die "generated config invalid"
	for site in $DT_SITES; do
		mkdir -p "$DT_WORK/$site"
		dt_start_nut "$site"
		dt_start_server "$site"
	done
	for site in $DT_SITES; do
		dt_wait_until 10000 dt_ups_ready "$site" || dt_die "site $site: upsd not ready"
		dt_start_beacon "$site"
	done
	dt_start_detourd
	dt_wait_until 10000 dt_all_up || dt_die "not every site came UP: $(dt_ctl sites)"
	dt_log "topology up in $DT_WORK: sites $DT_SITES"
}

dt_topo_down() {
	local f ns
	[ -n "${DT_WORK:-}" ] && [ -d "$DT_WORK" ] || return 0
	for f in "$DT_WORK"/pids/*; do
		[ -e "$f" ] && dt_kill "$(basename "$f")"
	done
	if [ -f "$DT_WORK/namespaces" ]; then
		while read -r ns; do dt_netns_del "$ns"; done <"$DT_WORK/namespaces"
	fi
	umount "$DT_WORK/bpffs" 2>/dev/null
	if [ "${DT_KEEP:-0}" = 0 ]; then rm -rf "$DT_WORK"; fi
	return 0
}
