#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (14.1) Too big for the tunnel: every link has MTU 1500, pangyo fails over to sihung alone,
# which detour_xdp reaches through an IP-in-IP tunnel, so a full-size packet no longer fits once
# encapsulated. After pangyo's power is cut, socat (an ordinary client and server) moves 2 MiB
# each way over IPv4 and over IPv6 TCP: an upload, whose full-size segments the edge answers with
# ICMP "fragmentation needed" / ICMPv6 "packet too big" (the client's own kernel then sends
# smaller ones), and a download, whose SYN's MSS the edge lowers (the first SYN of each family:
# the client's kernel then knows the path MTU). Every transfer must complete
# with the bytes it sent (sha256), and the edge must have counted too_big_icmp and mss_clamped.
# DT_DATAPLANE=dpdk runs the same with the edge in DPDK mode (suite dpdk-integration).
. "$(dirname "$0")/lib.sh"
export DT_FAILOVER_pangyo=sihung
PORT=7100
SIZE=$((2 * 1024 * 1024))
dataplane_test_start

check "sihung is reached in ipip mode (decap: $DT_DECAP)" eq "$(dt_site_mode sihung)" ipip
check "every link has MTU 1500" eq "$(dt_in client cat /sys/class/net/cl0/mtu)" 1500
# The client's end receives the edge's XDP_TX answers: a veth delivers those only to a peer
# that runs an XDP program itself.
ip -n "$(dt_ns client)" link set dev cl0 xdp obj "$DT_XDP_PASS_OBJ" sec xdp
head -c "$SIZE" /dev/urandom >"$DT_WORK/data.bin"
want=$(sha256sum <"$DT_WORK/data.bin" | cut -d' ' -f1)

dt_cut_power pangyo
check_failover pangyo

listening() { dt_in sihung ss -Hltn "sport = :$PORT" | grep -q LISTEN; }

# transfer NAME SERVER-ADDRESS CLIENT-ADDRESS DIRECTION: one socat connection, the file sent
# up (client to server) or down; the received file's sha256 must match.
transfer() {
	local name=$1 listen=$2 connect=$3 dir=$4 out=$DT_WORK/$1.bin srv
	rm -f "$out"
	if [ "$dir" = up ]; then
		dt_in sihung timeout 30 socat -u "$listen,reuseaddr" "CREATE:$out" &
	else
		dt_in sihung timeout 30 socat -u "OPEN:$DT_WORK/data.bin" "$listen,reuseaddr" &
	fi
	srv=$!
	dt_wait_until 5000 listening || not_ok "$name: the server did not listen"
	if [ "$dir" = up ]; then
		dt_in client timeout 20 socat -u "OPEN:$DT_WORK/data.bin" "$connect"
	else
		dt_in client timeout 20 socat -u "$connect" "CREATE:$out"
	fi
	check "$name: the client's transfer completed" test $? -eq 0
	wait "$srv"
	check "$name: the server's side completed" test $? -eq 0
	check "$name: $SIZE bytes arrived intact (sha256)" \
		eq "$(sha256sum <"$out" 2>/dev/null | cut -d' ' -f1)" "$want"
}

transfer up4 "TCP4-LISTEN:$PORT,bind=$DT_SERVICE_V4" "TCP4:$DT_SERVICE_V4:$PORT" up
transfer down4 "TCP4-LISTEN:$PORT,bind=$DT_SERVICE_V4" "TCP4:$DT_SERVICE_V4:$PORT" down
transfer up6 "TCP6-LISTEN:$PORT,bind=[$DT_SERVICE_V6]" "TCP6:[$DT_SERVICE_V6]:$PORT" up
transfer down6 "TCP6-LISTEN:$PORT,bind=[$DT_SERVICE_V6]" "TCP6:[$DT_SERVICE_V6]:$PORT" down

echo "# the client's route to the service:" \
	"$(dt_in client ip route get "$DT_SERVICE_V4" | tr '\n' ' ')"
echo "# ... over IPv6: $(dt_in client ip -6 route get "$DT_SERVICE_V6" | tr '\n' ' ')"
answered=$(counter_sum too_big_icmp)
clamped=$(counter_sum mss_clamped)
echo "# edge: too_big_icmp $answered, too_big_rate_limited $(counter_sum too_big_rate_limited)," \
	"mss_clamped $clamped, rerouted_ipip $(counter_sum rerouted_ipip)"
check "the edge answered full-size segments with ICMP ($answered, both families)" ge "$answered" 2
# One per family: the ICMP answer leaves the client's kernel a path MTU of 1480 toward the
# service, and the later SYNs ask for no more than fits.
check "the edge lowered the MSS of the first SYN of each family ($clamped)" ge "$clamped" 2
test_finish
