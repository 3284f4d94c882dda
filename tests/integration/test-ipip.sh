#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (10) The power cut (2), taken over by an ipip site: pangyo fails over to sihung alone, which
# detour_xdp reaches through an IP-in-IP tunnel and which decapsulates (with the kernel's tunnel
# devices, or where the kernel has none with site_decap.bpf.c). The client sends UDP
# requests to the IPv4 and the IPv6 service at once; sihung's s0 is captured (a capture sees a
# frame before tc ingress decapsulates it) and tshark, with checksum validation on, checks
# every encapsulated packet: outer addresses are the tunnel's, every IPv4 header checksum and
# every inner UDP checksum is good, the inner destination is the service. Run twice: an IPv4
# tunnel (4in4, 6in4) and an IPv6 tunnel (4in6, 6in6), so all four encapsulations are seen.
if [ -z "${DT_TUNNEL_FAMILY:-}" ]; then
	status=0
	DT_TUNNEL_FAMILY=4 "$0" || status=1
	DT_TUNNEL_FAMILY=6 "$0" || status=1
	exit $status
fi
. "$(dirname "$0")/lib.sh"
export DT_FAILOVER_pangyo=sihung
RATE=500 # per family
TEST_NAME="$TEST_NAME (tunnel over IPv$DT_TUNNEL_FAMILY)"
test_start

check "sihung is reached in ipip mode (decap: $DT_DECAP)" eq "$(dt_site_mode sihung)" ipip
if [ "$DT_TUNNEL_FAMILY" = 6 ]; then
	tun_local=$(dt_site_v6 sihung 1) tun_remote=$(dt_site_v6 sihung 2)
else
	tun_local=$(dt_site_v4 sihung 1) tun_remote=$(dt_site_v4 sihung 2)
fi

pcap=$DT_WORK/sihung.pcap
dt_in sihung tshark -n -q -i s0 -w "$pcap" -a duration:20 -c 20000 \
	-f 'ip proto 4 or ip proto 41 or ip6 proto 4 or ip6 proto 41' >"$DT_WORK/tshark.err" 2>&1 &
tshark_pid=$!
dt_wait_until 10000 grep -q "Capturing on" "$DT_WORK/tshark.err" || not_ok "tshark did not start"

client_bg udp4 udp --addr "$DT_SERVICE_V4" --rate $RATE --duration 3000 --flows 8 --timeout 300
client_bg udp6 udp --addr "$DT_SERVICE_V6" --rate $RATE --duration 3000 --flows 8 --timeout 300
sleep 1
dt_cut_power pangyo
check_failover pangyo
client_wait udp4
client_wait udp6
sleep 0.2 # the last frames into the capture file
# TERM, not INT: a background job of a script starts with SIGINT ignored, and tshark keeps it so.
kill -TERM "$tshark_pid" 2>/dev/null
wait "$tshark_pid"

for c in udp4 udp6; do
	check_detection_loss "$c"
	check "$c: every request sent after the reroute was answered by sihung" \
		eq "$(log_count "$c" "\$2 > $APPLIED_NS && \$4 != \"sihung\"")" 0
done
answered4=$(log_count udp4 "\$4 == \"sihung\"")
answered6=$(log_count udp6 "\$4 == \"sihung\"")

# One line per encapsulated frame: the layers in order, addresses, checksum verdicts
# (ip.checksum.status and udp.checksum.status: 1 = good, 0 = bad, 2 = not checked).
read_ok=true
tshark -n -r "$pcap" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -T fields \
	-E separator='|' -E occurrence=a -E aggregator=, -e frame.protocols -e ip.src -e ip.dst \
	-e ipv6.src -e ipv6.dst -e ip.checksum.status -e udp.checksum.status -e udp.dstport \
	>"$DT_WORK/frames.txt" 2>"$DT_WORK/tshark-read.err" || read_ok=false
python3 - "$DT_WORK/frames.txt" "$tun_local" "$tun_remote" "$DT_SERVICE_V4" "$DT_SERVICE_V6" \
	"$DT_PORT" >"$DT_WORK/frames.json" <<'EOF'
import json, sys
path, local, remote, svc4, svc6, port = sys.argv[1:7]
kinds, bad = {}, []
for n, line in enumerate(open(path), 1):
    protos, s4, d4, s6, d6, ipsum, udpsum, dport = line.rstrip("\n").split("|")
    layers = [p for p in protos.split(":") if p in ("ip", "ipv6")]
    s4, d4, s6, d6 = (x.split(",") if x else [] for x in (s4, d4, s6, d6))
    kind = "%sin%s" % tuple("4" if l == "ip" else "6" for l in (layers[-1], layers[0]))
    kinds[kind] = kinds.get(kind, 0) + 1
    outer = (s4[0], d4[0]) if layers[0] == "ip" else (s6[0], d6[0])
    inner_dst = d4[-1] if layers[-1] == "ip" else d6[-1]
    why = []
    if len(layers) != 2: why.append("layers %s" % layers)
    if outer != (local, remote): why.append("outer %s -> %s" % outer)
    if inner_dst not in (svc4, svc6): why.append("inner dst " + inner_dst)
    if any(v != "1" for v in ipsum.split(",") if ipsum) or (layers.count("ip") and not ipsum):
        why.append("ip checksum status " + ipsum)
    if udpsum != "1": why.append("udp checksum status " + udpsum)
    if dport != port: why.append("udp port " + dport)
    if why: bad.append("frame %d: %s" % (n, "; ".join(why)))
print(json.dumps({"kinds": kinds, "bad": bad[:5], "n_bad": len(bad)}))
EOF
echo "# captured at sihung: $(cat "$DT_WORK/frames.json")"
check "tshark read the capture $(grep -v 'Running as user' "$DT_WORK/tshark-read.err")" $read_ok
check "every encapsulated frame is valid (checksums, tunnel addresses, service)" \
	eq "$(jget "$DT_WORK/frames.json" 'j["n_bad"]')" 0
o=$DT_TUNNEL_FAMILY
n44=$(jget "$DT_WORK/frames.json" "j['kinds'].get('4in$o', 0)")
n66=$(jget "$DT_WORK/frames.json" "j['kinds'].get('6in$o', 0)")
check "4in$o frames captured ($n44) cover the $answered4 IPv4 requests sihung answered" \
	ge "$n44" "$answered4"
check "6in$o frames captured ($n66) cover the $answered6 IPv6 requests sihung answered" \
	ge "$n66" "$answered6"
check "sihung answered IPv4 and IPv6 requests" test "$answered4" -ge 100 -a "$answered6" -ge 100
rerouted=$(dt_ctl --json stats | jget /dev/stdin "sum(r['packets'] for r in j['counters'] if r['reason']=='rerouted_ipip')")
check "detour_xdp counted them as rerouted_ipip ($rerouted >= $((answered4 + answered6)))" \
	ge "$rerouted" "$((answered4 + answered6))"
test_finish
