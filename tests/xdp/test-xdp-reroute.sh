#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck source-path=SCRIPTDIR
#
# The XDP program on a real veth, with real packets: a client pings service addresses behind an
# edge router; detourctl fails the home site; the pings must still be answered, by the failover
# site, and the packets captured there must be rewritten as Detour promises: route mode (MACs of
# the edge's egress port and the site, TTL/hop limit one less, valid IPv4 checksum) and ipip mode
# (an outer IPv4 header toward the tunnel endpoint around the original packet), verified by
# tshark's own checksum validation. A healthy home is passed untouched to the kernel.
#
#   test-xdp-reroute.sh BUILD_DIR
#
# Maps are pinned in a private bpffs under the temp directory; the host's /sys/fs/bpf is untouched.
#
# Namespaces: dxc (client), dxe (edge), dxa pangyo (route), dxb ansan (route), dxs sihung (ipip).
set -u
BUILD=$(cd "${1:?usage: test-xdp-reroute.sh BUILD_DIR}" && pwd)
# shellcheck source=../../scripts/lib/netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/netns.sh"
# shellcheck source=../../scripts/lib/detour.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/detour.sh"
NS=(dxc dxe dxa dxb dxs)
TMP=$(mktemp -d /tmp/detour-xdp-reroute.XXXXXX)
BPFFS=$TMP/bpffs
PIN=$BPFFS/detour
SOCK=$TMP/detourd.sock
DT_SOCK=$SOCK
DETOURCTL=$BUILD/control/ctl/detourctl
PIDS=()
CAPTURE_PID=
FAILS=0

cleanup() {
	local pid
	for pid in "${PIDS[@]}" $CAPTURE_PID; do dt_stop_pid "$pid"; done
	dt_netns_del "${NS[@]}"
	umount "$BPFFS" 2>/dev/null
	rm -rf "$TMP"
}
dt_trap_cleanup cleanup INT TERM

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
in_edge() { ip netns exec dxe "$@"; }
ctl() { in_edge "$DETOURCTL" -s "$SOCK" "$@"; }

build_network() {
	dt_netns_add "${NS[@]}"
	for n in "${NS[@]}"; do
		ip netns exec "$n" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	done
	dt_veth dxc cl0 198.18.1.2 dxe edge0 198.18.1.1
	ip -n dxc addr add 2001:db8:1::2/64 dev cl0 nodad
	ip -n dxe addr add 2001:db8:1::1/64 dev edge0 nodad
	dt_veth dxe edge-a 198.18.2.1 dxa sa0 198.18.2.2
	ip -n dxe addr add 2001:db8:2::1/64 dev edge-a nodad
	ip -n dxa addr add 2001:db8:2::2/64 dev sa0 nodad
	dt_veth dxe edge-b 198.18.3.1 dxb sb0 198.18.3.2
	ip -n dxe addr add 2001:db8:3::1/64 dev edge-b nodad
	ip -n dxb addr add 2001:db8:3::2/64 dev sb0 nodad
	dt_veth dxe edge-s 198.18.4.1 dxs sc0 198.18.4.2
	in_edge sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip -n dxe route add 198.18.10.0/24 via 198.18.2.2
	ip -n dxe -6 route add 2001:db8:10::/48 via 2001:db8:2::2
	ip -n dxe route add 198.18.20.0/24 via 198.18.3.2
	ip -n dxc route add 198.18.0.0/15 via 198.18.1.1
	ip -n dxc -6 route add 2001:db8::/32 via 2001:db8:1::1
	# Every site serves the same anycast addresses and answers through the edge.
	for s in dxa dxb dxs; do
		ip -n $s addr add 198.18.10.5/32 dev lo
		ip -n $s addr add 198.18.20.5/32 dev lo
		ip -n $s addr add 2001:db8:10::5/128 dev lo
	done
	ip -n dxa route add 198.18.1.0/24 via 198.18.2.1
	ip -n dxa -6 route add 2001:db8:1::/64 via 2001:db8:2::1
	ip -n dxb route add 198.18.1.0/24 via 198.18.3.1
	ip -n dxb -6 route add 2001:db8:1::/64 via 2001:db8:3::1
	ip -n dxs route add 198.18.1.0/24 via 198.18.4.1
	# sihung decapsulates with the kernel's own ipip device, where the kernel has one
	HAVE_IPIP=0
	if ip -n dxs link add tun0 type ipip local 198.18.4.2 2>/dev/null; then
		HAVE_IPIP=1
		ip -n dxs link set tun0 up
		ip netns exec dxs sysctl -qw net.ipv4.conf.tun0.rp_filter=0
	fi
	# A veth that receives XDP_REDIRECTed frames needs an XDP program on its own side.
	for p in "dxa sa0" "dxb sb0" "dxs sc0"; do
		set -- $p
		ip -n "$1" link set dev "$2" xdp obj "$BUILD/ebpf/xdp_pass.bpf.o" sec xdp ||
			{ echo "cannot attach xdp_pass to $2"; exit 1; }
	done
	dt_bpffs_mount "$BPFFS"
}

write_config() {
	dt_write_keys "$TMP/keys" 1 2 3
	{
		dt_conf_section detour interfaces=edge0 heartbeat_listen=127.0.0.1:7600 \
			"key_file=$TMP/keys" interval_ms=10 multiplier=3 hold_down_ms=500 \
			recovery_timeout_ms=2000 "control_socket=$SOCK" "pin_root=$PIN" \
			"event_log=$TMP/events.jsonl" "state_file=$TMP/detourd.state"
		echo
		dt_conf_section "site pangyo" id=1 delivery=route interface=edge-a \
			"next_hop_mac=$(dt_mac_of dxa sa0)" failover=ansan
		echo
		dt_conf_section "site ansan" id=2 delivery=route interface=edge-b \
			"next_hop_mac=$(dt_mac_of dxb sb0)" failover=sihung
		echo
		dt_conf_section "site sihung" id=3 delivery=ipip interface=edge-s \
			"next_hop_mac=$(dt_mac_of dxs sc0)" tunnel_local=198.18.4.1 tunnel_remote=198.18.4.2
		echo
		dt_conf_section prefixes "prefix=198.18.10.0/24 pangyo" "prefix=2001:db8:10::/48 pangyo" \
			"prefix=198.18.20.0/24 ansan"
	} >"$TMP/detour.conf"
}

all_sites_up() {
	dt_ctl --json sites | python3 -c 'import json,sys; s=json.load(sys.stdin)["sites"]; sys.exit(not all(x["state"]=="up" for x in s))'
}

start_detour() {
	dt_bg dxe "$TMP/detourd.log" "$TMP/detourd.log" "$BUILD/control/detourd/detourd" \
		--no-realtime -c "$TMP/detour.conf"
	PIDS+=("$DT_BG_PID")
	for id in 1 2 3; do
		dt_beacon_argv $id "$TMP/keys" 127.0.0.1:7600 10
		dt_bg dxe "$TMP/beacon$id.log" "$TMP/beacon$id.log" \
			"$BUILD/control/beacon/detour-beacon" "${DT_BEACON_ARGV[@]}" --status-file "$TMP/status"
		PIDS+=("$DT_BG_PID")
	done
	echo OL >"$TMP/status"
	dt_wait_until 10000 all_sites_up ||
		{ cat "$TMP/detourd.log"; echo "FAIL: sites did not come up"; exit 1; }
}

# capture NS IF FILTER FILE COUNT: tcpdump in the background, bounded by count and 10 s;
# capture_wait waits for it (and only it: detourd and the beacons run in the background too).
capture() {
	ip netns exec "$1" timeout 10 tcpdump -Q in -Uni "$2" -c "$5" -w "$4" "$3" 2>/dev/null &
	CAPTURE_PID=$!
	sleep 0.5
}
capture_wait() { wait "$CAPTURE_PID" 2>/dev/null; }

check_route_capture() { # FILE SITE_NS SITE_IF EDGE_IF FAMILY
	local file=$1 dst src fields bad
	dst=$(dt_mac_of "$2" "$3")
	src=$(dt_mac_of dxe "$4")
	if [ "$5" = 4 ]; then
		fields=$(tshark -r "$file" -o ip.check_checksum:TRUE -Y icmp.type==8 \
			-T fields -e eth.src -e eth.dst -e ip.ttl -e ip.checksum.status 2>/dev/null)
	else
		fields=$(tshark -r "$file" -Y icmpv6.type==128 \
			-T fields -e eth.src -e eth.dst -e ipv6.hlim -e icmpv6.checksum.status 2>/dev/null)
	fi
	[ -n "$fields" ] || { fail "IPv$5 route: nothing captured at $3"; return; }
	# tshark's checksum status: 0 bad, 1 good, 2 not checked
	bad=$(echo "$fields" | awk -v s="$src" -v d="$dst" '$1 != s || $2 != d || $3 != 63 || $4 != 1')
	if [ -n "$bad" ]; then
		fail "IPv$5 route: packets at $3 not rewritten as expected (src dst ttl csum):"
		echo "$bad" | head -3
	else
		pass "IPv$5 route: $(echo "$fields" | wc -l) echo requests at $3 from $src to $dst, TTL 63, checksum good"
	fi
}

test_healthy_home_is_untouched() {
	capture dxa sa0 icmp "$TMP/home.pcap" 3
	if ip netns exec dxc ping -c 3 -i 0.2 -W 1 198.18.10.5 >/dev/null; then
		pass "healthy home answers"
	else
		fail "healthy home did not answer (kernel forwarding)"
	fi
	capture_wait
	# the kernel forwarded it (TTL 63 from the kernel), and Detour counted it as home_up
	ctl --json stats | python3 -c '
import json,sys
c=json.load(sys.stdin)["counters"]
n=sum(r["packets"] for r in c if r["site"]=="pangyo" and r["reason"]=="home_up")
sys.exit(0 if n >= 3 else 1)' && pass "home_up counted" || fail "home_up not counted"
}

test_route_mode_v4_v6() {
	ctl fail pangyo >/dev/null || fail "detourctl fail pangyo"
	capture dxb sb0 "icmp[0] == 8 or (icmp6 and ip6[40] == 128)" "$TMP/route.pcap" 8
	ip netns exec dxc ping -c 4 -i 0.2 -W 1 198.18.10.5 >"$TMP/ping4.out" ||
		fail "IPv4 pings to a failed home were not answered: $(tail -2 "$TMP/ping4.out")"
	ip netns exec dxc ping -6 -c 4 -i 0.2 -W 1 2001:db8:10::5 >"$TMP/ping6.out" ||
		fail "IPv6 pings to a failed home were not answered: $(tail -2 "$TMP/ping6.out")"
	capture_wait
	check_route_capture "$TMP/route.pcap" dxb sb0 edge-b 4
	check_route_capture "$TMP/route.pcap" dxb sb0 edge-b 6
	# the moved flows are in the flow table, with home and target
	ctl --json flows | python3 -c '
import json,sys
f=json.load(sys.stdin)["flows"]
sys.exit(0 if any(x["home"]=="pangyo" and x["target"]=="ansan" and x["proto"]=="icmp" for x in f) else 1)' &&
		pass "detourctl flows lists the moved flows" || fail "detourctl flows does not list the moved flows"
	ctl restore pangyo >/dev/null
}

test_ipip_mode() {
	local fields bad
	ctl fail ansan >/dev/null || fail "detourctl fail ansan"
	capture dxs sc0 "ip proto 4" "$TMP/ipip.pcap" 4
	# Answers need the site to decapsulate; kernels built without IPIP cannot, and then only
	# the encapsulated packets on the wire are checked.
	if ! ip netns exec dxc ping -c 4 -i 0.2 -W 1 198.18.20.5 >"$TMP/ping-ipip.out"; then
		if [ "$HAVE_IPIP" = 1 ]; then
			fail "pings through the ipip site were not answered: $(tail -2 "$TMP/ping-ipip.out")"
		else
			echo "note: this kernel has no ipip device; checking the wire only"
		fi
	fi
	capture_wait
	# frame: outer IPv4 198.18.4.1 -> 198.18.4.2 proto 4, inner TTL 63; both checksums good
	fields=$(tshark -r "$TMP/ipip.pcap" -o ip.check_checksum:TRUE -Y icmp.type==8 -T fields \
		-E occurrence=a -e ip.src -e ip.dst -e ip.proto -e ip.ttl -e ip.checksum.status 2>/dev/null)
	[ -n "$fields" ] || { fail "ipip: nothing captured at sc0"; return; }
	bad=$(echo "$fields" | awk -F'\t' '$1 != "198.18.4.1,198.18.1.2" ||
		$2 != "198.18.4.2,198.18.20.5" || $3 != "4,1" || $4 != "64,63" || $5 != "1,1"')
	if [ -n "$bad" ]; then
		fail "ipip: encapsulated packets not as expected (src dst proto ttl csum):"
		echo "$bad" | head -3
	else
		pass "ipip: $(echo "$fields" | wc -l) encapsulated echo requests, outer 198.18.4.1 -> 198.18.4.2, inner TTL 63, checksums good"
	fi
	ctl restore ansan >/dev/null
}

build_network
write_config
start_detour
test_healthy_home_is_untouched
test_route_mode_v4_v6
test_ipip_mode
echo "$FAILS failed"
[ $FAILS -eq 0 ]
