#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (8) detourd is killed with SIGKILL in the middle of a failover and started again. pangyo's
# power is cut while the client sends 1000 UDP requests/s over 16 flows and opens TCP
# connections; as soon as the DOWN is in the dataplane, detourd is SIGKILLed, and restarted
# 300 ms later. The XDP program and its pinned maps keep forwarding meanwhile; the new daemon
# adopts them without publishing anything that would send pangyo's flows back. So no request
# sent after the reroute is lost, to the kill, the gap or the restart, and the new daemon is
# in charge: it reports pangyo down and detects a second failure (ansan) within budget.
# Timers of 5 ms x 10 (DT_MULTIPLIER, unless set), not the lib's x 4: a restart now keeps each
# site's state and damping (docs/detector.md, "Restart"), so a false DOWN of ansan or sihung that
# a loaded machine caused before the kill stays with the new daemon too (seen in CI: sihung
# suppressed after 5 flaps of 36 ms gaps, then every site down at ansan's cut).
: "${DT_MULTIPLIER:=10}"
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2034 # read by client_udp_tcp
RATE=1000
test_start

client_udp_tcp 4500
sleep 0.8
dt_cut_power pangyo
check_failover pangyo
old=$(dt_pid detourd)
dt_kill detourd KILL
killed_ns=$(dt_mono_ns)
check "detourd is gone" eval "! kill -0 $old 2>/dev/null"
sleep 0.3
rm -f "$DT_WORK/detourd.sock"
mv "$DT_WORK/events.jsonl" "$DT_WORK/events-before.jsonl"
dt_start_detourd
started_ns=$(dt_mono_ns)
echo "# detourd down for $(ms "started_ns - killed_ns") ms"
check "the new detourd reports pangyo down" dt_wait_state pangyo down 3000
check "the new detourd reports ansan and sihung up" \
	dt_wait_until 3000 eval 'dt_state_is ansan up && dt_state_is sihung up'
check "detour_xdp is still attached to edge0" \
	eq "$(dt_ctl --json status | jget /dev/stdin 'j["dataplane"]["interfaces"][0]["attach"] != "detached"')" True
sleep 0.5
dt_cut_power ansan
check_failover ansan
client_wait udp
client_wait tcp

pangyo_applied=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["site"] == "pangyo" and e["to"] == "down": print(e["applied_ns"]); break' \
	"$DT_WORK/events-before.jsonl")
restart_lost=$(log_count udp "\$2 > $pangyo_applied && \$2 < $APPLIED_NS - 100000000 && \$3 == 0")
echo "# udp: $(jget "$DT_WORK/udp.json" 'j["lost"]') lost in all; $restart_lost between pangyo's reroute and ansan's cut"
check "udp: no request lost from pangyo's reroute through the kill and the restart" \
	eq "$restart_lost" 0
check "udp: no request sent while detourd was dead was lost" \
	eq "$(log_count udp "\$2 > $killed_ns && \$2 < $started_ns && \$3 == 0")" 0
check "udp: requests sent while detourd was dead were answered ($(log_count udp "\$2 > $killed_ns && \$2 < $started_ns && \$3 != 0"))" \
	ge "$(log_count udp "\$2 > $killed_ns && \$2 < $started_ns && \$3 != 0")" 100
check "udp: none answered by pangyo after its reroute" \
	eq "$(log_count udp "\$2 > $pangyo_applied && \$4 == \"pangyo\"")" 0
check "tcp: every connection opened after pangyo's reroute and before ansan's cut was served" \
	eq "$(log_count tcp "\$2 > $pangyo_applied && \$2 < $APPLIED_NS - 600000000 && \$3 == 0")" 0
check "udp: nothing sent after ansan's reroute was lost" \
	eq "$(log_count udp "\$2 > $APPLIED_NS && \$3 == 0")" 0
test_finish
