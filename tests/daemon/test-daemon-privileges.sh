#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# detourd runs with the least it needs (issue 15, case 3), in every thread: started as deployed
# (SCHED_FIFO, locked memory) with the XDP dataplane, each of its threads (the event loop and the
# recovery scanner at least) has exactly CAP_BPF and CAP_NET_ADMIN effective and permitted, and
# NoNewPrivs set (the notify hook's worker, dt-notify, has no capability at all), read from
# /proc/PID/task/TID/status; the event loop runs SCHED_FIFO and the scanner SCHED_OTHER
# (/proc/PID/task/TID/stat), as docs/architecture.md says.
DETOURD_SCHED_ARGS=${DETOURD_SCHED_ARGS-}
. "$(dirname "$0")/daemon_fixture.sh"

setup_all
daemon_and_beacons_up 3000

WANT=$(printf '%016x' $(((1 << 39) | (1 << 12)))) # CAP_BPF | CAP_NET_ADMIN
threads=0 bad=0
for t in /proc/"$DAEMON_PID"/task/*; do
	threads=$((threads + 1))
	eff=$(awk '/^CapEff:/ { print $2 }' "$t/status")
	prm=$(awk '/^CapPrm:/ { print $2 }' "$t/status")
	nnp=$(awk '/^NoNewPrivs:/ { print $2 }' "$t/status")
	policy=$(sed 's/.*) //' "$t/stat" | awk '{ print $39 }') # field 41: policy
	echo "# thread $(basename "$t") ($(cat "$t/comm")): CapEff $eff CapPrm $prm NoNewPrivs $nnp policy $policy"
	if [ "$(cat "$t/comm")" = dt-notify ]; then # the notify hook's worker: nothing at all
		notify_thread=$eff/$prm/$nnp/$policy
		continue
	fi
	[ "$eff" = "$WANT" ] && [ "$prm" = "$WANT" ] && [ "$nnp" = 1 ] || bad=$((bad + 1))
	if [ "$(basename "$t")" = "$DAEMON_PID" ]; then main_policy=$policy; else other_policy=$policy; fi
done
check "detourd has its threads ($threads)" test "$threads" -ge 2
check "every thread: CAP_BPF and CAP_NET_ADMIN only, NoNewPrivs ($bad not)" test "$bad" = 0
check "the notify hook's thread (dt-notify): no capability, NoNewPrivs, SCHED_OTHER" \
	test "${notify_thread:-}" = 0000000000000000/0000000000000000/1/0
check "the event loop runs SCHED_FIFO (1)" test "${main_policy:-}" = 1
check "the other threads run SCHED_OTHER (0)" test "${other_policy:-}" = 0
finish
