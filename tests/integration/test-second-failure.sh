#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (5) A second site fails while the first is down. pangyo loses power: its 16 UDP flows spread
# over ansan and sihung (phase 1). Then ansan loses power too (phase 2): only the flows that
# were on ansan move, all to sihung; a flow that was on sihung never changes site and loses no
# request; sihung takes the whole load. A flow is one client socket: request k is on flow k % 16.
. "$(dirname "$0")/lib.sh"
RATE=1000
FLOWS=16
test_start

addr=$(service_addr)
client_bg udp udp --addr "$addr" --rate $RATE --duration 4000 --flows $FLOWS --timeout 300
sleep 0.8
dt_cut_power pangyo
check_failover pangyo
pangyo_applied=$APPLIED_NS
sleep 1.2
second_cut=$(dt_mono_ns)
dt_cut_power ansan
check_failover ansan "$DOWN_SEQ"
client_wait udp

# Per flow: its sites in phase 1 (pangyo rerouted, before ansan's cut), its sites in phase 2
# (after ansan's reroute), and its losses from ansan's cut on.
python3 - "$DT_WORK/udp.log" "$FLOWS" "$pangyo_applied" "$second_cut" "$APPLIED_NS" \
	>"$DT_WORK/flows.json" <<'EOF'
import json, sys
path, flows, p1_start, p1_end, p2_start = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:])
f = {i: {"p1": set(), "p2": set(), "lost_after_cut": 0} for i in range(flows)}
for line in open(path):
    seq, sent, answered, site = line.split()
    seq, sent, answered = int(seq), int(sent), int(answered)
    fl = f[seq % flows]
    if p1_start < sent < p1_end and answered:
        fl["p1"].add(site)
    if sent > p2_start and answered:
        fl["p2"].add(site)
    if sent > p1_end and not answered:
        fl["lost_after_cut"] += 1
out = {str(i): {k: sorted(v) if isinstance(v, set) else v for k, v in d.items()} for i, d in f.items()}
print(json.dumps(out))
EOF
q() { jget "$DT_WORK/flows.json" "$1"; }
on_sihung=$(q 'sum(1 for v in j.values() if v["p1"] == ["sihung"])')
on_ansan=$(q 'sum(1 for v in j.values() if v["p1"] == ["ansan"])')
echo "# phase 1: $on_ansan flows on ansan, $on_sihung on sihung"
check "phase 1: every flow stayed on one site, ansan or sihung" \
	eq "$((on_ansan + on_sihung))" "$FLOWS"
check "phase 1: both ansan ($on_ansan) and sihung ($on_sihung) took flows" \
	test "$on_ansan" -ge 1 -a "$on_sihung" -ge 1
check "phase 2: every flow is on sihung alone" \
	eq "$(q 'sum(1 for v in j.values() if v["p2"] == ["sihung"])')" "$FLOWS"
check "the flows on sihung lost no request to ansan's cut" \
	eq "$(q 'sum(v["lost_after_cut"] for v in j.values() if v["p1"] == ["sihung"])')" 0
lost=$(q 'sum(v["lost_after_cut"] for v in j.values())')
# Only ansan's share of the rate, for one detection window, may be lost (+2 in flight).
max_lost=$((RATE * on_ansan * DETECT_BUDGET_MS / FLOWS / 1000 + 2))
check "ansan's flows lost $lost <= $max_lost requests (their rate x ${DETECT_BUDGET_MS} ms)" \
	le "$lost" "$max_lost"
check "no request sent after ansan's reroute was lost" \
	eq "$(log_count udp "\$2 > $APPLIED_NS && \$3 == 0")" 0
check "nobody answered from pangyo or ansan after ansan's reroute" \
	eq "$(log_count udp "\$2 > $APPLIED_NS && \$3 != 0 && \$4 != \"sihung\"")" 0
check "detourctl: pangyo and ansan down, sihung up" \
	eq "$(dt_site_state pangyo) $(dt_site_state ansan) $(dt_site_state sihung)" "down down up"
test_finish
