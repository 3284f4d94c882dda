#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# detourd runs with the least it needs (issue 15, case 3), in every thread, read from
# /proc/PID/task/TID/status (Uid, CapEff, CapPrm, NoNewPrivs) and stat (the policy):
#   1. as deployed (SCHED_FIFO, locked memory), XDP, no `user`: each thread (the event loop and
#      the recovery scanner at least) has exactly CAP_BPF and CAP_NET_ADMIN effective and
#      permitted, NoNewPrivs; the event loop runs SCHED_FIFO and the scanner SCHED_OTHER; the
#      notify hook's worker (dt-notify) has no capability at all, NoNewPrivs, SCHED_OTHER, and
#      the same uids as the others (in every run below too);
#   2. XDP with `user = nobody`: --check refuses the key file at 0600 (nobody could not re-read
#      it) and takes it root:nogroup 0640; then every thread runs as nobody
#      (all four uids) with the same two capabilities and NoNewPrivs; sites come UP; a SIGHUP
#      re-reads the key file as nobody and applies; once the file is 0600 (nobody cannot read it)
#      a SIGHUP is refused with an error naming the file and the user, and nothing changes;
#   3. DPDK (net_null ports, a net_tap exception port in the edge's namespace) with
#      `user = nobody`: every thread, the EAL's lcore, interrupt and control threads included.
DETOURD_SCHED_ARGS=${DETOURD_SCHED_ARGS-}
. "$(dirname "$0")/daemon_fixture.sh"

WANT=$(printf '%016x' $(((1 << 39) | (1 << 12)))) # CAP_BPF | CAP_NET_ADMIN
NOBODY=$(id -u nobody)

# threads_ok LABEL UID: every thread of detourd has the two capabilities (dt-notify: none, and
# SCHED_OTHER), NoNewPrivs, and all four uids UID; prints each thread. Sets THREADS, MAIN_POLICY,
# OTHER_POLICY, NOTIFY_THREADS.
threads_ok() {
	local t eff prm nnp uids policy want bad=0
	THREADS=0 MAIN_POLICY= OTHER_POLICY= NOTIFY_THREADS=0
	for t in /proc/"$DAEMON_PID"/task/*; do
		THREADS=$((THREADS + 1))
		eff=$(awk '/^CapEff:/ { print $2 }' "$t/status")
		prm=$(awk '/^CapPrm:/ { print $2 }' "$t/status")
		nnp=$(awk '/^NoNewPrivs:/ { print $2 }' "$t/status")
		uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "$t/status")
		policy=$(sed 's/.*) //' "$t/stat" | awk '{ print $39 }') # field 41: policy
		echo "#   $1: thread $(basename "$t") ($(cat "$t/comm")): Uid $uids CapEff $eff" \
			"CapPrm $prm NoNewPrivs $nnp policy $policy"
		want=$WANT
		if [ "$(cat "$t/comm")" = dt-notify ]; then
			want=0000000000000000
			NOTIFY_THREADS=$((NOTIFY_THREADS + 1))
			[ "$policy" = 0 ] || bad=$((bad + 1))
		fi
		[ "$eff" = "$want" ] && [ "$prm" = "$want" ] && [ "$nnp" = 1 ] &&
			[ "$uids" = "$2 $2 $2 $2" ] || bad=$((bad + 1))
		if [ "$(basename "$t")" = "$DAEMON_PID" ]; then MAIN_POLICY=$policy; else OTHER_POLICY=$policy; fi
	done
	[ "$bad" = 0 ]
}

# 1. root, XDP
setup_all
daemon_and_beacons_up 3000
check "XDP, no user: every thread CAP_BPF and CAP_NET_ADMIN only, NoNewPrivs, uid 0" threads_ok root 0
check "detourd has its threads ($THREADS)" test "$THREADS" -ge 2
check "... the notify hook's worker among them" test "$NOTIFY_THREADS" = 1
check "the event loop runs SCHED_FIFO (1)" test "${MAIN_POLICY:-}" = 1
check "the other threads run SCHED_OTHER (0)" test "${OTHER_POLICY:-}" = 0
kill_daemon TERM

# 2. user = nobody, XDP
DKEYS=$TMP/detourd.keys
cp "$KEYS" "$DKEYS"
chgrp nogroup "$DKEYS"
sed -i "s|^key_file = .*|key_file = $DKEYS|; /^\[detour\]/a user = nobody" "$CONF"
check "user nobody, key file 0600: --check refuses it, naming the file and the user" \
	eval '! "$DETOURD" --check --other-host -c "$CONF" >"$TMP/check.out" 2>&1 &&
		grep -q "key_file $DKEYS: user nobody could not read it" "$TMP/check.out"'
chmod 0640 "$DKEYS"
check "... mode 0640, group nogroup: --check passes" "$DETOURD" --check --other-host -c "$CONF"
: >"$DERR"
start_daemon || bail "detourd (user nobody) did not start"
check "user nobody: sites UP" wait_until 3000 sites_up
check "user nobody: every thread uid $NOBODY, CAP_BPF and CAP_NET_ADMIN only, NoNewPrivs" \
	threads_ok user "$NOBODY"
echo "2 1 $(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >>"$DKEYS" # a second key for ansan
kill -HUP "$DAEMON_PID"
check "user nobody: SIGHUP re-reads the 0640 key file and applies" \
	wait_until 2000 grep -q "reload: $CONF applied" "$DERR"
chmod 0600 "$DKEYS"
kill -HUP "$DAEMON_PID"
check "key file unreadable by nobody: the reload is refused naming the file and the user" \
	wait_until 2000 grep -q "key_file $DKEYS: user nobody could not read it" "$DERR"
check "... nothing changed: both sites still UP" sites_up
kill_daemon TERM

# 3. user = nobody, DPDK
chmod 0640 "$DKEYS"
: >"$DERR"
# shellcheck disable=SC2086 # DETOURD_SCHED_ARGS: zero or more words
dt_bg "$NS_E" "$TMP/detourd.out" "$DERR" "$DETOURD" --no-realtime -c "$CONF" \
	--dataplane dpdk --port edge0=net_null0 --port edge-a=net_null1 --port edge-b=net_null2 \
	-- -l 0,1 --no-pci --no-huge --no-shconf -m 512 --file-prefix "dtpriv$$" \
	--vdev net_null0 --vdev net_null1 --vdev net_null2 --vdev net_tap0,iface=dtap0
DAEMON_PID=$DT_BG_PID
both_up() { state_is pangyo up && state_is ansan up; }
check "DPDK, user nobody: detourd runs, both sites UP" wait_until 10000 both_up
check "DPDK, user nobody: every thread (EAL's too) uid $NOBODY, the two capabilities, NoNewPrivs" \
	threads_ok dpdk "$NOBODY"
check "DPDK: the EAL's threads were there ($THREADS threads)" test "$THREADS" -ge 3
kill_daemon TERM
finish
