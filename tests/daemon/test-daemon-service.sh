#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# detourd as systemd runs it (systemd/detourd.service), seen from systemd's side. A listener
# (notify_listen.py) plays the manager's notify socket: NOTIFY_SOCKET and WATCHDOG_USEC are set,
# and detourd is started with exactly the unit's CapabilityBoundingSet, LimitRTPRIO and
# LimitMEMLOCK (setpriv, prlimit), as deployed (SCHED_FIFO), its stderr standing for the
# journal (JOURNAL_STREAM). Asserted:
#   - READY=1 comes from detourd's pid, and when it arrives (detourd frozen on receipt) the XDP
#     program is attached, both heartbeat sockets are bound and the control socket exists;
#   - with only the unit's capabilities and limits it runs SCHED_FIFO with locked memory;
#   - a beacon under detour-beacon@.service's bounding set (none) is heard;
#   - every stderr line carries a syslog priority prefix;
#   - WATCHDOG=1 at least every WATCHDOG_USEC / 2, none while the process is stopped, again
#     at once after SIGCONT;
#   - SIGHUP: RELOADING=1 (with MONOTONIC_USEC), then READY=1; SIGTERM: STOPPING=1, exit 0;
#   - the event log moved away + SIGUSR1: the next event is in the new file, not the old;
#   - a restart over the pins, with the same capabilities, is ready again;
#   - a start that fails (no key file) never sends READY=1;
#   - a real stall of the loop alone (the event log a pipe whose reader stopped): no WATCHDOG=1
#     while it lasts, though the process runs; pings again once the pipe is read.
DETOURD_SCHED_ARGS=${DETOURD_SCHED_ARGS-}
. "$(dirname "$0")/daemon_fixture.sh"

UNIT=${DETOURD_UNIT:?DETOURD_UNIT: the built detourd.service}
WD_USEC=400000
LOG=$TMP/notify.log

unit_value() { sed -n "s/^$1=//p" "$UNIT" | tail -1; }
caps=$(unit_value CapabilityBoundingSet)
bounding=-all
for c in $caps; do
	c=${c#CAP_}
	bounding="$bounding,+${c,,}"
done
rtprio=$(unit_value LimitRTPRIO)
memlock=$(unit_value LimitMEMLOCK)
[ "$memlock" = infinity ] && memlock=unlimited
echo "# unit: CapabilityBoundingSet=$caps LimitRTPRIO=$rtprio LimitMEMLOCK=$memlock"
[ -n "$caps" ] && [ -n "$rtprio" ] && [ -n "$memlock" ] || bail "cannot read the unit's limits"
# The limits need CAP_SYS_RESOURCE to raise, which systemd has; a container may not (this test
# machine's bounding set lacks it): then they are not applied, and SCHED_FIFO and the memory lock
# must come from the unit's capabilities alone.
limits=(prlimit "--rtprio=$rtprio" "--memlock=$memlock")
if ! "${limits[@]}" true 2>/dev/null; then
	echo "# this machine cannot raise RLIMIT_RTPRIO/RLIMIT_MEMLOCK (no CAP_SYS_RESOURCE): limits not applied"
	limits=()
fi

setup_all
python3 "$DAEMON_TEST_DIR/notify_listen.py" "$TMP/notify.sock" "$LOG" "$NS_E" edge0 "$SOCK" &
EXTRA_PIDS+=($!)
wait_until 3000 test -S "$TMP/notify.sock" || bail "the notify listener did not start"

# start_as_unit ERR_FILE: detourd under the unit's bounds, DAEMON_PID set
start_as_unit() {
	: >"$1"
	export NOTIFY_SOCKET=$TMP/notify.sock WATCHDOG_USEC=$WD_USEC
	JOURNAL_STREAM=$(stat -c '%d:%i' "$1")
	export JOURNAL_STREAM
	dt_bg "$NS_E" "$TMP/detourd.out" "$1" ${limits[@]+"${limits[@]}"} \
		setpriv "--bounding-set=$bounding" --inh-caps=-all --ambient-caps=-all --no-new-privs \
		"$DETOURD" -c "$CONF"
	DAEMON_PID=$DT_BG_PID
	unset NOTIFY_SOCKET WATCHDOG_USEC JOURNAL_STREAM
}
msgs() { awk -v p="$1" '$2 == p' "$LOG"; } # PID: what it sent, in order
ready_of() { msgs "$1" | grep -q 'READY=1|STATUS=running:'; }

start_as_unit "$TMP/journal1.err"
DERR=$TMP/journal1.err
check "READY=1 arrives from detourd's pid ($DAEMON_PID)" wait_until 15000 ready_of "$DAEMON_PID"
state=$(msgs "$DAEMON_PID" | awk '$3 == "STATE"' | head -1)
echo "# frozen at READY=1: ${state#* * STATE }"
check "at READY=1 the XDP program is attached to edge0" \
	eval '[[ "$state" =~ xdp=[0-9]+ ]]'
check "at READY=1 both heartbeat sockets are bound" eval '[[ "$state" == *" hb=2 "* ]]'
check "at READY=1 the control socket exists" eval '[[ "$state" == *" ctl=1" ]]'
# pangyo's beacon under detour-beacon@.service's bounding set (empty: no capability at all)
beacon_unit=$(dirname "$UNIT")/detour-beacon@.service
beacon_caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$beacon_unit" | tail -1)
[ -z "$beacon_caps" ] || bail "detour-beacon@.service grants capabilities: $beacon_caps"
cat >"$TMP/beacon-as-unit" <<EOF
#!/bin/sh
exec setpriv --bounding-set=-all --inh-caps=-all --ambient-caps=-all --no-new-privs \
	"$DETOUR_BEACON" "\$@"
EOF
chmod 755 "$TMP/beacon-as-unit"
DT_BEACON=$TMP/beacon-as-unit start_beacon 1
start_beacon 2
check "both sites come UP" wait_until 3000 sites_up
check "pangyo's beacon is heard with no capability (the unit's empty bounding set)" \
	grep -q "^CapEff:[[:space:]]*0000000000000000$" "/proc/${BEACON_PID[1]}/status"

policy=$(sed 's/.*) //' "/proc/$DAEMON_PID/stat" | awk '{ print $39 }')
check "with the unit's bounds the event loop runs SCHED_FIFO (policy $policy)" test "$policy" = 1
locked=$(awk '/^VmLck:/ { print $2 }' "/proc/$DAEMON_PID/status")
if [ "${DT_SANITIZE:-none}" = none ]; then
	check "and its memory is locked (VmLck ${locked} kB)" test "${locked:-0}" -gt 0
else
	echo "# not checked: a $DT_SANITIZE build locks no memory (ASan's shadow; VmLck ${locked} kB)"
fi
check "nothing was refused (SCHED_FIFO, mlockall, capabilities)" \
	eval '! grep -Eq "SCHED_FIFO refused|mlockall refused|could not drop" "$DERR"'
check "every stderr line starts with a syslog priority <N>" \
	eval '[ -s "$DERR" ] && ! grep -qv "^<[0-7]>" "$DERR"'
check "info lines are <5>info:, e.g. the start-up line" \
	grep -q '^<5>info: running: 2 sites' "$DERR"

# ---- the watchdog --------------------------------------------------------------------------
sleep 2
# pings PID FROM_NS TO_NS: the times of WATCHDOG=1 from PID in [FROM, TO]
pings() { msgs "$1" | awk -v a="$2" -v b="$3" '$3 == "WATCHDOG=1" && $1 >= a && $1 <= b { print $1 }'; }
ready_ns=$(msgs "$DAEMON_PID" | awk '$3 ~ /^READY=1/ { print $1; exit }')
now=$(dt_mono_ns)
gap=$(pings "$DAEMON_PID" "$ready_ns" "$now" | awk 'NR > 1 && $1 - p > m { m = $1 - p } { p = $1; n++ }
	END { printf "%d %d", m / 1000000, n }')
echo "# WATCHDOG=1: ${gap#* } pings in $(((now - ready_ns) / 1000000)) ms, longest gap ${gap% *} ms (WatchdogSec/2 = $((WD_USEC / 2000)) ms)"
check "WATCHDOG=1 pings arrive" test "${gap#* }" -ge 8
check "no two pings further apart than WATCHDOG_USEC / 2" test "${gap% *}" -le $((WD_USEC / 2000))

stop_ns=$(dt_mono_ns)
kill -STOP "$DAEMON_PID"
sleep 1
cont_ns=$(dt_mono_ns)
kill -CONT "$DAEMON_PID"
sleep 0.3
during=$(pings "$DAEMON_PID" $((stop_ns + 20000000)) "$cont_ns" | wc -l)
first_after=$(pings "$DAEMON_PID" "$cont_ns" $((cont_ns + 10000000000)) | head -1)
check "no WATCHDOG=1 while the event loop is stopped ($during in 1 s)" test "$during" = 0
check "pings again within 100 ms of SIGCONT ($(((${first_after:-0} - cont_ns) / 1000000)) ms)" \
	test -n "$first_after" -a $((first_after - cont_ns)) -le 100000000

# ---- reload, logrotate, stop ---------------------------------------------------------------
kill -HUP "$DAEMON_PID"
reloaded() { msgs "$DAEMON_PID" | grep -A50 'RELOADING=1|MONOTONIC_USEC=[0-9]' | grep -q '^[0-9]* [0-9]* READY=1'; }
check "SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1" wait_until 3000 reloaded

mv "$EVENTS" "$EVENTS.1"
kill -USR1 "$DAEMON_PID"
check "SIGUSR1: the event log is reopened" wait_until 2000 grep -q "event log $EVENTS reopened" "$DERR"
ctl drain pangyo --reason logrotate >/dev/null
check "the next event (a drain) is written to the new file" \
	wait_until 2000 grep -q '"to":"draining"' "$EVENTS"
check "and not to the moved one, which keeps the earlier events" \
	eval '! grep -q draining "$EVENTS.1" && grep -q "\"to\":\"up\"" "$EVENTS.1"'
ctl undrain pangyo >/dev/null

kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
status=$?
check "SIGTERM: STOPPING=1, then exit status 0 ($status)" \
	eval 'msgs "$DAEMON_PID" | grep -q " STOPPING=1$" && [ "$status" = 0 ]'
first=$DAEMON_PID

start_as_unit "$TMP/journal2.err"
DERR=$TMP/journal2.err
check "a restart over the pins, with the same bounds, is ready again" \
	wait_until 15000 ready_of "$DAEMON_PID"
check "and both sites are UP" wait_until 3000 sites_up
kill_daemon TERM

mv "$KEYS" "$KEYS.away"
start_as_unit "$TMP/journal3.err"
DERR=$TMP/journal3.err
bad_pid=$DAEMON_PID
wait "$bad_pid"
status=$?
check "a start without its key file fails (exit $status)" test "$status" = 1
check "and never sent READY=1" eval '! msgs "$bad_pid" | grep -q READY=1'
DAEMON_PID=
[ "$first" != "$bad_pid" ] || bail "pids reused"
mv "$KEYS.away" "$KEYS"

# ---- a stall that happens: the event log is a pipe whose reader stopped reading ------------
EVENTS=$TMP/events.fifo
mkfifo "$EVENTS"
write_config "$CONF"
python3 "$DAEMON_TEST_DIR/slow_reader.py" "$EVENTS" "$TMP/fifo" &
EXTRA_PIDS+=($!)
wait_until 3000 test -e "$TMP/fifo.held" || bail "the pipe's reader did not start"
start_as_unit "$TMP/journal4.err"
DERR=$TMP/journal4.err
wait_until 15000 ready_of "$DAEMON_PID" || bail "detourd with a pipe as event log did not start"
actions=0
while [ "$actions" -lt 40 ] && DT_CTL_TIMEOUT_MS=300 ctl drain ansan >/dev/null 2>&1 &&
	DT_CTL_TIMEOUT_MS=300 ctl undrain ansan >/dev/null 2>&1; do
	actions=$((actions + 2))
done
stall_ns=$(dt_mono_ns)
sleep 1
blocked=$(awk '/^State:/ { print $2 }' "/proc/$DAEMON_PID/status")
release_ns=$(dt_mono_ns)
touch "$TMP/fifo.release"
sleep 0.3
check "after $actions operator actions the loop is blocked writing the event log (state $blocked)" \
	test "$actions" -lt 40 -a "$blocked" = S
during=$(pings "$DAEMON_PID" "$stall_ns" "$release_ns" | wc -l)
check "no WATCHDOG=1 while the loop is blocked, though the process runs ($during in 1 s)" \
	test "$during" = 0
first_after=$(pings "$DAEMON_PID" "$release_ns" $((release_ns + 10000000000)) | head -1)
check "pings again once the pipe is read ($(((${first_after:-0} - release_ns) / 1000000)) ms)" \
	test -n "$first_after" -a $((${first_after:-0} - release_ns)) -le 200000000
finish
