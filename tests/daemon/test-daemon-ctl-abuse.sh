#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# No control-socket client delays failure detection (issue 15, case 1). detourd runs as
# deployed (SCHED_FIFO).
#  - 64 connections sit idle, holding every connection slot: an ordinary `detourctl status` is
#    still answered (the oldest idle one is closed to make room), and connections idle longer
#    than control_idle_ms (here 1 s) are closed by detourd.
#  - Two clients flood the socket with thousands of `flows` requests per write and never read a
#    reply, while pangyo's power is cut: its DOWN event was detected at most DETOURD_LATE_MS
#    (1 ms) after its deadline, as the event log shows (deadline_ns, detected_ns), and ansan,
#    whose beacon keeps sending, never goes DOWN.
DETOURD_SCHED_ARGS=${DETOURD_SCHED_ARGS-}
. "$(dirname "$0")/daemon_fixture.sh"
ATTACK="$(dirname "$0")/ctl_attack.py"
LATE_MS=${DETOURD_LATE_MS:-1}
DETOUR_EXTRA=(control_idle_ms=1000)

setup_all
daemon_and_beacons_up 3000

# ---- idle connections hold every slot ----------------------------------------------------
ip netns exec "$NS_E" python3 "$ATTACK" idle "$SOCK" 64 3 >"$TMP/idle.out" &
IDLE_PID=$!
EXTRA_PIDS+=("$IDLE_PID")
sleep 0.5
check "detourctl status answered while 64 idle clients hold every connection slot" \
	eval 'timeout 5 "$DETOURCTL" --socket "$SOCK" status >/dev/null'
wait "$IDLE_PID"
read -r opened closed < <(sed 's/opened=\([0-9]*\) closed_by_daemon=\([0-9]*\)/\1 \2/' "$TMP/idle.out")
check "the idle connections were closed by detourd within 3 s ($closed of $opened)" \
	test "${opened:-0}" -ge 1 -a "${closed:-0}" = "${opened:-x}"

# ---- a flood of requests while pangyo's power is cut ---------------------------------------
cut_power_under_clients flood "$LATE_MS"
wait "${CLIENT_PIDS[@]}"
echo "# flood: $(cat "$TMP/client1.out") / $(cat "$TMP/client2.out"); idle: $(cat "$TMP/idle.out")"
check "ansan never went DOWN" test -z "$(last_event ansan down)"
finish
