#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (8) detourd killed with SIGKILL during a failover and restarted, edge router in DPDK mode.
#
# In DPDK mode the dataplane is the daemon's own threads: it dies with the daemon, and its flow
# table and published states die with it. "Hitless" cannot mean what it means in XDP mode
# (pinned program and maps keep forwarding); what is promised and tested here is:
#   - while no daemon runs, the af_xdp program left on the veths finds no socket and passes the
#     frames to the edge's kernel: the router fails open to plain routing, never blackholes by
#     its own doing (here that routing points at the dead pangyo, so those requests are lost);
#   - a restarted daemon takes the same ports again (the stale af_xdp program is replaced),
#     re-learns every site from heartbeats, and answers resume within the EAL start-up, the
#     start-up grace and the detection time: RESUME_BUDGET_MS after the restart;
#   - once the new daemon has pangyo DOWN, no request is lost and none is answered by pangyo.
. "$(dirname "$0")/lib.sh"
RATE=200
# EAL and ports (~1 s on this machine), the detector's 1 s start-up grace, detection, margin.
: "${RESUME_BUDGET_MS:=4000}"
dataplane_test_start

addr=$(service_addr)
dt_cut_power pangyo
check_failover pangyo
client_bg udp udp --addr "$addr" --rate $RATE --duration 6000 --flows 16 --timeout 300
sleep 1
events_before=$(wc -l <"$DT_WORK/events.jsonl")
kill_ns=$(dt_mono_ns)
dt_kill detourd KILL
check "detourd is gone" eval '! dt_ctl status >/dev/null 2>&1'
sleep 0.5
restart_ns=$(dt_mono_ns)
dt_start_detourd
up_ns=$(dt_mono_ns)
echo "# restart: killed, 500 ms without a daemon, new daemon answering after $(ms "up_ns - restart_ns") ms"
check "the new detourd runs in dpdk mode" \
	eq "$(dt_ctl --json status | jget /dev/stdin 'j["dataplane"]["mode"]')" dpdk
check "the new detourd re-learns pangyo DOWN" dt_wait_state pangyo down 5000
check "the new detourd has ansan and sihung UP" eval 'dt_state_is ansan up && dt_state_is sihung up'
# the new daemon's DOWN event for pangyo: its own log lines only
down_applied=$(tail -n +"$((events_before + 1))" "$DT_WORK/events.jsonl" | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    if e["site"] == "pangyo" and e["to"] == "down" and e["from"] != "down":
        print(e["applied_ns"]); break')
client_wait udp
first_after=$(awk -v t="$restart_ns" '$2 > t && $3 > 0 { print $3; exit }' "$DT_WORK/udp.log")
resume_ms=$(ms "${first_after:-0} - restart_ns")
echo "# first answer $resume_ms ms after the restart (budget $RESUME_BUDGET_MS ms); pangyo DOWN applied $(ms "${down_applied:-0} - restart_ns") ms after it"
check "answers resume after the restart" test -n "$first_after"
check "answers resume within ${RESUME_BUDGET_MS} ms of the restart ($resume_ms ms)" \
	le "$resume_ms" "$RESUME_BUDGET_MS"
check "the new daemon logged pangyo DOWN" test -n "$down_applied"
check "no request sent after the new daemon had pangyo DOWN was lost" \
	eq "$(log_count udp "\$2 > ${down_applied:-0} && \$3 == 0")" 0
check "no answer from pangyo after the kill" \
	eq "$(log_count udp "\$2 > $kill_ns && \$4 == \"pangyo\"")" 0
check "ansan and sihung answer after the restart" \
	eval '[ "$(log_count udp "\$2 > ${down_applied:-0} && \$4 == \"ansan\"")" -ge 1 ] &&
	      [ "$(log_count udp "\$2 > ${down_applied:-0} && \$4 == \"sihung\"")" -ge 1 ]'
echo "# udp across the restart: $(cat "$DT_WORK/udp.out")"
test_finish
