#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (8) Damping never leaves traffic with nowhere to go (issue 13, item 8). The beacons of both
# failover sites, ansan and sihung, are frozen (SIGSTOP) for 100 ms three times: each stall is a
# flap, and after the third both are suppressed, DOWN with fresh heartbeats, for about two
# minutes by the damping model. `detourctl sites` and `site show --json` must say so. Then
# pangyo, the home of the client's service, loses power under UDP load. Before the last-resort
# rule every site was DOWN at that point and the dataplane failed open to the dead pangyo; now
# ansan and sihung go RECOVERING (cause last_resort) at the very deadline that fails pangyo,
# written to the dataplane before pangyo's DOWN so that no site-less moment exists between the
# writes, and every request sent after the reroute is answered by one of them.
. "$(dirname "$0")/lib.sh"
RATE=500
test_start

suppressed() { dt_ctl --json site show "$1" | jget /dev/stdin "j['site']['suppressed']"; }
stall_failover() { # freeze both failover beacons for 100 ms, five times the detection time
	local a s
	a=$(dt_pid beacon-ansan) s=$(dt_pid beacon-sihung)
	kill -STOP "$a" "$s"
	sleep 0.1
	kill -CONT "$a" "$s"
	sleep 0.3
}

for i in 1 2 3; do
	stall_failover
	echo "# stall $i: ansan $(dt_site_state ansan), sihung $(dt_site_state sihung)"
done
check "ansan is suppressed after three stalls" eq "$(suppressed ansan)" True
check "sihung is suppressed after three stalls" eq "$(suppressed sihung)" True
check "detourctl sites shows the suppression" \
	eq "$(dt_ctl sites | grep -c 'suppressed, penalty')" 2
sleep 0.6 # past the 500 ms base hold-down: only damping holds them now
check "ansan: still DOWN with fresh heartbeats" dt_state_is ansan down
check "sihung: still DOWN with fresh heartbeats" dt_state_is sihung down
left=$(dt_ctl --json site show ansan | jget /dev/stdin "j['site']['suppressed_ms_left']")
echo "# ansan: suppressed for another $left ms"
check "the suppression would last more than 10 s more ($left ms)" ge "$left" 10000

addr=$(service_addr)
client_bg udp udp --addr "$addr" --rate $RATE --duration 3000 --flows 16 --timeout 300
sleep 0.5
seq0=$(last_seq)
dt_cut_power pangyo
cut_ns=$(dt_mono_ns)
check_failover pangyo "$seq0"
for s in ansan sihung; do
	check "$s: RECOVERING as the last resort" eq "$(event "$s" recovering cause "$seq0")" last_resort
	check "$s: released at pangyo's deadline" \
		eq "$(event "$s" recovering deadline_ns "$seq0")" "$(event pangyo down deadline_ns "$seq0")"
done
check "pangyo's DOWN did not leave every site down (the releases came first)" \
	eq "$(event pangyo down all_sites_down "$seq0")" False
client_wait udp

check_detection_loss udp
check "udp: no answer from pangyo after the cut" \
	eq "$(log_count udp "\$2 > $cut_ns && \$4 == \"pangyo\"")" 0
check "udp: the failover sites answered after the cut" \
	ge "$(log_count udp "\$2 > $APPLIED_NS && (\$4 == \"ansan\" || \$4 == \"sihung\")")" 100
test_finish
