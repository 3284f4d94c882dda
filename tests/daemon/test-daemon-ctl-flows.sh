#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `detourctl flows` on a full flow table does not delay failure detection (issue 15, case 1).
# detourd runs as deployed (SCHED_FIFO); its pinned dt_flows holds tens of thousands of moved
# flows (flow-fill writes them), so one walk of the table takes a large fraction of a second.
#  - One `flows` request is answered with the whole table counted (total), and lists what fits.
#  - Two clients ask for `flows` again as soon as each reply has come, while pangyo's power is
#    cut: its DOWN event was detected at most DETOURD_LATE_MS (1 ms) after its deadline, that is
#    within interval x multiplier + 1 ms of its last heartbeat, as the event log shows; ansan,
#    whose beacon keeps sending, never goes DOWN; and a `flows` request during the flood is
#    still answered.
DETOURD_SCHED_ARGS=${DETOURD_SCHED_ARGS-}
. "$(dirname "$0")/daemon_fixture.sh"
LATE_MS=${DETOURD_LATE_MS:-1}
FLOWS=${FLOW_FILL_COUNT:-60000}
[ -x "${FLOW_FILL:-}" ] || bail "FLOW_FILL is not set to the flow-fill helper"

setup_all
# a table that holds them, and flows that stay "active" so the scanner deletes none
sed -i -e 's/^flow_table_size = .*/flow_table_size = 65536/' \
	-e 's/^flow_idle_ms = .*/flow_idle_ms = 600000/' "$CONF"
start_daemon || bail "detourd did not start"
start_beacon 1
start_beacon 2
wait_until 3000 sites_up || bail "sites did not come UP"

filled=$("$FLOW_FILL" "$ROOT/dt_flows" "$FLOWS" 1 2 | sed -n 's/^filled=//p')
echo "# flow-fill wrote ${filled:-nothing} of $FLOWS entries into dt_flows"
t0=$(dt_mono_ns)
total=$(ctl --json flows --limit 1000000 2>"$TMP/ctl.err" | json "d['total']" 2>/dev/null)
t1=$(dt_mono_ns)
echo "# one \`flows\` request: total ${total:-?}, answered in $(((t1 - t0) / 1000000)) ms"
check "flows counts the table ($FLOWS written, ${total:-no} counted)" \
	test "${total:-0}" -ge $((FLOWS * 9 / 10))

cut_power_under_clients poll "$LATE_MS"
during=$(ctl --json flows --limit 10 | json "d['total']")
check "another flows request meanwhile is answered (total ${during:-none})" \
	test "${during:-0}" -ge $((FLOWS * 9 / 10))
wait "${CLIENT_PIDS[@]}"
echo "# the two clients: $(cat "$TMP/client1.out") / $(cat "$TMP/client2.out")"
check "ansan never went DOWN" test -z "$(last_event ansan down)"
finish
