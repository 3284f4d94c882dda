#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A flood of made-up connections during a drain (issue 14, case 3). Eight TCP connections (socat)
# are opened before pangyo drains and stay on pangyo; eight more are opened during the drain and
# move to ansan or sihung. Each sends a line and then waits, idle, while dt-flood sends spoofed
# handshakes (a SYN and an ACK of each made-up flow, random sources in 198.19.0.0/16) toward the
# service, as fast as this machine makes frames (BPF live frames), more flows than the flow table
# holds (bounded: 400,000 flows, and 20 s). Then every connection sends a second line: each must still be answered, by
# the site it started on. The figures go to DT_WORK/flood.json (flood_drain_conns,
# flood_drain_conns_survived, the flood's rate); DT_FLOOD_JSON=1 prints them as the last line
# (scripts/bench.sh flood).
. "$(dirname "$0")/lib.sh"
test_start

CONNS=8
FLOOD_FLOWS=400000
addr=$(service_addr)

# conn NAME: one socat connection; its greeting (the site), an echo, then, once DT_WORK/go
# exists (at most 30 s), a second echo. Everything it read goes to NAME.out.
conn() {
	{
		echo "hello-$1"
		for _ in $(seq 600); do [ -e "$DT_WORK/go" ] && break; sleep 0.05; done
		echo "after-$1"
		sleep 1
	} | timeout 40 ip netns exec "$(dt_ns client)" socat -T 35 - "TCP:$addr:$DT_PORT" \
		>"$DT_WORK/$1.out" 2>"$DT_WORK/$1.err" &
	echo $! >"$DT_WORK/$1.pid"
}
greeted() { grep -qx "hello-$1" "$DT_WORK/$1.out" 2>/dev/null; }
site_of() { head -1 "$DT_WORK/$1.out" 2>/dev/null; }

for i in $(seq $CONNS); do conn "pre$i"; done
for i in $(seq $CONNS); do dt_wait_until 3000 greeted "pre$i"; done
before=$(last_seq)
dt_ctl drain pangyo >/dev/null
check "pangyo DRAINING" wait_event pangyo draining 3000 "$before"
for i in $(seq $CONNS); do conn "mid$i"; done
for i in $(seq $CONNS); do dt_wait_until 3000 greeted "mid$i"; done

flood_out=$(timeout -s INT 20 ip netns exec "$(dt_ns client)" "$DT_FLOOD" cl0 \
	02:dd:00:00:00:01 02:dd:00:00:00:02 "$DT_SERVICE_V4" "$DT_PORT" "$FLOOD_FLOWS")
echo "#   flood: $flood_out"
touch "$DT_WORK/go"
for i in $(seq $CONNS); do
	for c in "pre$i" "mid$i"; do wait "$(cat "$DT_WORK/$c.pid")" 2>/dev/null; done
done

survived=0 moved=0 stayed=0
for i in $(seq $CONNS); do
	site=$(site_of "pre$i")
	[ "$site" = pangyo ] && stayed=$((stayed + 1))
	grep -qx "after-pre$i" "$DT_WORK/pre$i.out" && survived=$((survived + 1))
	site=$(site_of "mid$i")
	[ "$site" = ansan ] || [ "$site" = sihung ] && moved=$((moved + 1))
	grep -qx "after-mid$i" "$DT_WORK/mid$i.out" && survived=$((survived + 1))
done
frames=$(echo "$flood_out" | jget /dev/stdin 'j["flood_frames"]')
kpps=$(echo "$flood_out" | jget /dev/stdin 'j["flood_kpps"]')
printf '{"flood_drain_conns": %d, "flood_drain_conns_survived": %d, "flood_drain_kpps": %s}\n' \
	$((2 * CONNS)) "$survived" "$kpps" >"$DT_WORK/flood.json"

check "the $CONNS connections opened before the drain were on pangyo" eq "$stayed" "$CONNS"
check "the $CONNS connections opened during it moved to ansan or sihung" eq "$moved" "$CONNS"
check "the flood sent more made-up flows than the flow table holds ($frames frames, $kpps kpps)" \
	ge "$((frames / 2))" 65536
check "every connection survived the flood ($survived of $((2 * CONNS)))" \
	eq "$survived" $((2 * CONNS))
echo "#   promotions refused by the token bucket: $(counter_sum flow_promote_limited)"
[ "${DT_FLOOD_JSON:-0}" = 1 ] && cat "$DT_WORK/flood.json"
test_finish
