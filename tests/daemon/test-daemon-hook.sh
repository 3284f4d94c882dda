#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The notify hook (notify_command, notify_timeout_ms), detourd running as deployed (SCHED_FIFO).
# The hook is a shell script that writes its environment, arguments, capabilities and
# scheduling policy to a file per event:
#   - a power cut runs it with DETOUR_SITE, DETOUR_OLD_STATE, DETOUR_NEW_STATE, DETOUR_CAUSE,
#     DETOUR_EVENT_SEQ and DETOUR_DETECTED_NS equal to the event log's, DETOUR_TIME the wall
#     clock of the detection, its arguments, nothing of detourd's environment, no capability,
#     no_new_privs, SCHED_OTHER, and no descriptor of detourd's; an operator's drain adds DETOUR_OPERATOR_UID and
#     DETOUR_REASON;
#   - a hook that never ends (pangyo's second cut) does not delay the detection of a second cut
#     (ansan, within the usual budget), is killed with its child at the timeout (1 s), and the
#     next hook (ansan's) runs right after; `detourctl status` counts one timed out.
DETOURD_SCHED_ARGS=${DETOURD_SCHED_ARGS-}
. "$(dirname "$0")/daemon_fixture.sh"

OUT=$TMP/hooks
TIMEOUT_MS=1000
mkdir -p "$OUT"
cat >"$TMP/hook.sh" <<'EOF'
#!/bin/sh
# hook.sh OUTDIR ARG: record what the hook was given; pangyo's hangs while OUTDIR/hang exists.
f="$1/hook.$DETOUR_EVENT_SEQ"
{
	echo "REAL_NS=$(date +%s%N)"
	echo "ARGC=$#"
	echo "ARG2=$2"
	grep -E '^(CapEff|CapPrm|CapAmb|NoNewPrivs):' "/proc/$$/status" | tr -d ' \t' | tr : =
	echo "POLICY=$(cut -d' ' -f41 "/proc/$$/stat")"
	for fd in /proc/$$/fd/*; do
		case ${fd##*/} in 0 | 1 | 2) ;; *) echo "FD_${fd##*/}=$(readlink "$fd")" ;; esac
	done
	env | sed 's/^/ENV_/'
} >"$f.tmp"
mv "$f.tmp" "$f"
if [ "$DETOUR_SITE" = pangyo ] && [ -e "$1/hang" ]; then
	sleep 1000 &
	echo $! >"$1/sleep.pid"
	echo $$ >"$1/hang.pid"
	wait
fi
EOF
chmod 755 "$TMP/hook.sh"
# shellcheck disable=SC2034 # read by write_config (two_sites.sh)
DETOUR_EXTRA=("notify_command=$TMP/hook.sh $OUT second-word" "notify_timeout_ms=$TIMEOUT_MS")
setup_all
daemon_and_beacons_up 3000

# hook_file SITE STATE: the file of the hook run for SITE's transition to STATE (newest)
hook_file() {
	local f seq best=-1 file=
	for f in "$OUT"/hook.*; do
		seq=${f##*/hook.}
		[[ "$seq" =~ ^[0-9]+$ ]] && [ "$seq" -gt "$best" ] || continue
		grep -qx "ENV_DETOUR_SITE=$1" "$f" && grep -qx "ENV_DETOUR_NEW_STATE=$2" "$f" || continue
		best=$seq file=$f
	done
	echo "$file"
}
hv() { sed -n "s/^$2=//p" "$1"; } # FILE KEY
check "the start-up transitions ran the hook (pangyo and ansan up)" \
	wait_until 3000 eval '[ -n "$(hook_file pangyo up)" ] && [ -n "$(hook_file ansan up)" ]'

stop_beacon 1
check "pangyo's power cut: DOWN" wait_until $((DETECT_MS + OBSERVE_MARGIN_MS)) state_is pangyo down
check "the hook ran for it" wait_until 3000 eval '[ -n "$(hook_file pangyo down)" ]'
f=$(hook_file pangyo down)
ev=$(last_event pangyo down)
echo "# $(grep ENV_DETOUR "$f" | tr '\n' ' ')"
check "DETOUR_SITE=pangyo DETOUR_SITE_ID=1 DETOUR_OLD_STATE=up DETOUR_CAUSE=heartbeat_timeout" \
	test "$(hv "$f" ENV_DETOUR_SITE_ID) $(hv "$f" ENV_DETOUR_OLD_STATE) $(hv "$f" ENV_DETOUR_CAUSE)" = "1 up heartbeat_timeout"
check "DETOUR_EVENT_SEQ and DETOUR_DETECTED_NS are the event log's" \
	test "$(hv "$f" ENV_DETOUR_EVENT_SEQ) $(hv "$f" ENV_DETOUR_DETECTED_NS)" = \
	"$(echo "$ev" | json 'str(d["seq"]) + " " + str(d["detected_ns"])')"
when=$(hv "$f" ENV_DETOUR_TIME)
lag_ms=$((($(hv "$f" REAL_NS) - $(date -u -d "${when%Z}" +%s%N)) / 1000000))
check "DETOUR_TIME ($when) is the detection's wall clock: the hook ran $lag_ms ms later" \
	eval '[[ "$when" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z$ ]] && [ "$lag_ms" -ge 0 ] && [ "$lag_ms" -lt 1000 ]'
check "the command's words are its arguments (2: OUTDIR, second-word)" \
	test "$(hv "$f" ARGC) $(hv "$f" ARG2)" = "2 second-word"
check "the hook has no capability and no_new_privs (CapEff $(hv "$f" CapEff))" \
	test "$(hv "$f" CapEff) $(hv "$f" CapPrm) $(hv "$f" CapAmb) $(hv "$f" NoNewPrivs)" = \
	"0000000000000000 0000000000000000 0000000000000000 1"
check "the hook runs SCHED_OTHER (policy $(hv "$f" POLICY)) while detourd runs SCHED_FIFO" \
	test "$(hv "$f" POLICY) $(sed 's/.*) //' "/proc/$DAEMON_PID/stat" | awk '{ print $39 }')" = "0 1"
leaked=$(grep -E '^FD_[0-9]+=(socket:|anon_inode:)' "$f" | tr '\n' ' ')
check "no socket or BPF object of detourd's is open in the hook: ${leaked:-none}" test -z "$leaked"
others=$(sed -n 's/^ENV_\([A-Za-z_0-9]*\)=.*/\1/p' "$f" | grep -Ev '^(DETOUR_[A-Z_]+|PATH|PWD|OLDPWD|SHLVL|_)$' | tr '\n' ' ')
check "nothing of detourd's environment (NOTIFY_SOCKET, ...) reaches the hook: ${others:-none}" \
	test -z "$others"

start_beacon 1
check "pangyo back UP" wait_until $((HOLD_DOWN_MS + RECOVERY_TIMEOUT_MS + OBSERVE_MARGIN_MS)) sites_up
ctl drain ansan --reason "hook test" >/dev/null
check "an operator's drain: DETOUR_OPERATOR_UID=0 and DETOUR_REASON" \
	wait_until 3000 eval 'f=$(hook_file ansan draining); [ -n "$f" ] &&
		[ "$(hv "$f" ENV_DETOUR_OPERATOR_UID) $(hv "$f" ENV_DETOUR_REASON)" = "0 hook test" ]'
ctl undrain ansan >/dev/null
check "ansan back UP" wait_until 3000 sites_up

# ---- a hook that never ends ----------------------------------------------------------------
touch "$OUT/hang"
stop_beacon 1
check "pangyo's second cut: its hook hangs" wait_until 3000 test -s "$OUT/hang.pid"
hang_start=$(hv "$(hook_file pangyo down)" REAL_NS)
stop_beacon 2
check "ansan's cut meanwhile: DOWN in status in time" \
	wait_until $((DETECT_MS + OBSERVE_MARGIN_MS)) state_is ansan down
check "and detected within $DETECT_MS + $DETECT_MARGIN_MS ms of its last heartbeat" \
	event_timing_ok ansan down $((DETECT_MS + DETECT_MARGIN_MS))
check "ansan's hook runs once pangyo's is killed" \
	wait_until $((TIMEOUT_MS + 3000)) eval '[ -n "$(hook_file ansan down)" ]'
waited=$((($(hv "$(hook_file ansan down)" REAL_NS) - hang_start) / 1000000))
check "it started $waited ms after the hanging one: the timeout ($TIMEOUT_MS ms), not much more" \
	eval '[ "$waited" -ge "$TIMEOUT_MS" ] && [ "$waited" -lt $((TIMEOUT_MS + 700)) ]'
# gone PID: no such process, or a zombie not reaped yet (the shell's child, reparented)
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" = Z ]; }
check "the hanging hook and its child are gone" \
	eval 'gone "$(cat "$OUT/hang.pid")" && gone "$(cat "$OUT/sleep.pid")"'
check "detourd logged it: timed out after $TIMEOUT_MS ms: killed" \
	grep -q "notify_command $TMP/hook.sh (site pangyo: up -> down) timed out after $TIMEOUT_MS ms: killed" "$DERR"
n=$(ctl --json status | json 'd["daemon"]["notify"]')
echo "# status: $n"
check "detourctl status: one timed out, none failed or dropped" \
	test "$(echo "$n" | json '"%d %d %d" % (d["timed_out"], d["failed"], d["dropped"])')" = "1 0 0"
finish
