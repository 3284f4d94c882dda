#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (7) Flapping heartbeats: pangyo's beacon is frozen (SIGSTOP) for 100 ms, five times the
# detection time, and thawed, three times. The first flap costs the base hold-down (500 ms):
# pangyo comes back RECOVERING. The second (from RECOVERING) and the third (a bounce while
# DOWN, or DOWN from RECOVERING again if the machine was slow) add to the damping penalty
# (docs/detector.md: 1000 per flap, suppressed from 2000 on, half-life 60 s): pangyo then stays DOWN with clean heartbeats for 3 s, six times the base
# hold-down, and by the model for about two minutes. The penalty that `detourctl site show`
# reports grows with every flap. Meanwhile the client's UDP flows do not oscillate: each leaves
# pangyo once, at the first flap, and never comes back, and only the first detection window
# costs requests.
. "$(dirname "$0")/lib.sh"
RATE=500
HELD_MS=3000
test_start

addr=$(service_addr)
beacon=$(dt_pid beacon-pangyo)
penalty() { dt_ctl --json site show pangyo | jget /dev/stdin "'%d %d' % (j['site']['penalty'], j['site']['flaps'])"; }
flap() { # freeze the beacon for 100 ms
	kill -STOP "$beacon"
	sleep 0.1
	kill -CONT "$beacon"
}

client_bg udp udp --addr "$addr" --rate $RATE --duration 20000 --flows 8 --timeout 300
sleep 0.5
seq0=$(last_seq)
flap
check_failover pangyo "$seq0"
check "flap 1: pangyo RECOVERING after the base hold-down" wait_event pangyo recovering 2000 "$seq0"
hold1_ms=$(ms "$(event pangyo recovering deadline_ns "$seq0") - $(event pangyo down deadline_ns "$seq0")")
read -r p1 f1 <<<"$(penalty)"
echo "# flap 1: penalty $p1 after $f1 flap(s); DOWN for $hold1_ms ms (hold-down 500 ms + the gap)"

seq1=$(last_seq)
flap
check "flap 2: RECOVERING -> DOWN" wait_event pangyo down 2000 "$seq1"
read -r p2 f2 <<<"$(penalty)"
flap # a bounce while DOWN, or, if the hold-down already passed, DOWN from RECOVERING again
sleep 0.1
read -r p3 f3 <<<"$(penalty)"
seq3=$(last_seq)
echo "# flap 2: penalty $p2 ($f2 flaps); flap 3: penalty $p3 ($f3 flaps)"
# Every flap is counted. A machine stall of a tenth of the hold-down while pangyo is DOWN is a
# bounce too (docs/detector.md), so a loaded machine may count more than the three we made.
check "every flap counted: 1 <= $f1 < $f2 < $f3, at least 3" \
	test "$f1" -ge 1 -a "$f1" -lt "$f2" -a "$f2" -lt "$f3" -a "$f3" -ge 3
if [ "$f3" -gt 3 ]; then
	echo "# $((f3 - 3)) bounce(s) more than the three flaps made: the machine stalled while DOWN"
fi
check "the penalty grows with every flap: $p1 < $p2 < $p3" test "$p1" -lt "$p2" -a "$p2" -lt "$p3"
check "the penalty passed the suppress threshold 2000 ($p3)" ge "$p3" 2000

sleep $((HELD_MS / 1000))
after=$(event pangyo recovering seq "$seq3")
check "held down: no RECOVERING in $HELD_MS ms of clean heartbeats (first hold-down $hold1_ms ms)" \
	eq "$after" ""
check "detourctl: pangyo is down" dt_state_is pangyo down
check "pangyo's heartbeats are arriving (beacon alive, fresh)" \
	le "$(dt_ctl --json site show pangyo | jget /dev/stdin "j['site']['last_heartbeat_us_ago']")" 100000
client_stop udp
client_wait udp

# Per flow (request k is on flow k % 8): the sequence of sites that answered it, with repeats
# squeezed out. No oscillation: pangyo, then one other site, and nothing after.
python3 - "$DT_WORK/udp.log" >"$DT_WORK/paths.json" <<'EOF'
import json, sys
paths = {}
for line in open(sys.argv[1]):
    seq, sent, answered, site = line.split()
    if answered == "0":
        continue
    p = paths.setdefault(int(seq) % 8, [])
    if not p or p[-1] != site:
        p.append(site)
print(json.dumps({str(k): v for k, v in sorted(paths.items())}))
EOF
echo "# site sequence per flow: $(cat "$DT_WORK/paths.json")"
check "no flow oscillated: every one went pangyo -> one other site, once" \
	eq "$(jget "$DT_WORK/paths.json" 'all(len(p) == 2 and p[0] == "pangyo" for p in j.values())')" True
lost=$(jget "$DT_WORK/udp.json" 'j["lost"]')
max_lost=$((RATE * DETECT_BUDGET_MS / 1000 + 2))
check "lost $lost <= $max_lost: one detection window, not one per flap" le "$lost" "$max_lost"
check "no request lost after the first reroute" \
	eq "$(log_count udp "\$2 > $(event pangyo down applied_ns "$seq0") && \$3 == 0")" 0
test_finish
