#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Fragments across a failover: the client sends 4000-octet UDP datagrams, IPv4 and IPv6 in turn
# (its kernel cuts each into three fragments at MTU 1500), 200 a second, while pangyo's power is
# cut. Every site's receiver checks each datagram it reassembled byte for byte. Every datagram
# sent after the reroute must arrive whole at ansan or sihung, none at pangyo: all fragments of a
# datagram reach one site (the dataplane keys every fragment on addresses and protocol). Route
# mode everywhere, so that no fragment needs more than the path's MTU (ipip and the MTU are
# issue 14's case 1).
: "${DT_MODES:=route route route}"
export DT_MODES
. "$(dirname "$0")/lib.sh"
FRAG_UDP="$(dirname "$0")/frag_udp.py"
PORT=7100
COUNT=800 # 4 s at RATE
RATE=200
test_start

for site in $DT_SITES; do
	dt_spawn "frag-$site" "$site" /usr/bin/python3 "$FRAG_UDP" recv "$site" "$PORT" \
		"$DT_WORK/frag-$site.log"
done
sleep 0.3
ip netns exec "$(dt_ns client)" /usr/bin/python3 "$FRAG_UDP" send "$DT_SERVICE_V4" \
	"$DT_SERVICE_V6" "$PORT" "$COUNT" "$RATE" "$DT_WORK/frag-sent.log" &
sender=$!
sleep 1.5
dt_cut_power pangyo
cut_ns=$(dt_mono_ns)
check_failover pangyo
wait "$sender" || not_ok "the sender failed"
sleep 0.3
for site in $DT_SITES; do cat "$DT_WORK/frag-$site.log"; done >"$DT_WORK/frag-all.log"

# received FAMILY AWK_CONDITION: datagrams of FAMILY sent when the condition on the send time
# ($3) holds, received whole, counted once each (at any site unless the condition says which)
received() {
	awk -v fam="$1" -v site="${3:-}" 'FNR == NR { if ($2 == fam && '"$2"') want[$1] = 1; next }
		$4 == 1 && ($1 in want) && (site == "" || $5 == site) && !seen[$1]++ { n++ }
		END { print n + 0 }' "$DT_WORK/frag-sent.log" "$DT_WORK/frag-all.log"
}
sent() { awk -v fam="$1" '$2 == fam && '"$2"' { n++ } END { print n + 0 }' "$DT_WORK/frag-sent.log"; }

for fam in 4 6; do
	before=$(sent "$fam" "\$3 < $LAST_HB_NS")
	after=$(sent "$fam" "\$3 > $APPLIED_NS")
	echo "# IPv$fam: $before datagrams sent before pangyo's last heartbeat, $after after the reroute"
	check "IPv$fam: datagrams sent before the cut arrived whole at pangyo" \
		eq "$(received "$fam" "\$3 < $LAST_HB_NS" pangyo)" "$before"
	check "IPv$fam: some datagrams were sent after the reroute ($after)" ge "$after" 100
	check "IPv$fam: every datagram sent after the reroute arrived whole" \
		eq "$(received "$fam" "\$3 > $APPLIED_NS")" "$after"
	check "IPv$fam: ... at ansan or sihung" eq "$(($(received "$fam" "\$3 > $APPLIED_NS" ansan) + \
		$(received "$fam" "\$3 > $APPLIED_NS" sihung)))" "$after"
done
check "no datagram sent after the cut arrived at pangyo" \
	eq "$(($(received 4 "\$3 > $cut_ns" pangyo) + $(received 6 "\$3 > $cut_ns" pangyo)))" 0
check "no receiver saw a datagram that was not whole" \
	eq "$(awk '$4 != 1' "$DT_WORK/frag-all.log" | wc -l)" 0
rerouted=$(counter_sum rerouted_route)
check "the dataplane rerouted the fragments ($rerouted)" ge "$rerouted" 600
test_finish
