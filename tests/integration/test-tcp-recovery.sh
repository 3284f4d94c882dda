#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (16) TCP clients of a dead site recover within the detection time, not after their
# retransmission timer. nginx (an ordinary HTTP server) runs at every site and answers with the
# site's name; four curl processes (an ordinary client) send requests through the edge, paced at
# RATE a second, across a power cut of pangyo: a new connection per request (Connection: close)
# and one kept-alive connection, each over IPv4 and IPv6. Every request is logged with the time
# curl finished it (CLOCK_MONOTONIC, stamped as its line arrives). tcp_gap_ms is the longest time
# between two successful responses of one client.
#
# DT_TCP_RESET=1 (test-tcp-recovery): the service prefixes say `tcp_reset`; each client's
# tcp_gap_ms must be at most 2 x interval x multiplier. DT_TCP_RESET=0 (test-tcp-recovery-off):
# the same without it: a segment sent in the detection window is lost and waits for the client's
# retransmission timer (200 ms at least on Linux, 1 s for a SYN), so every client's gap must be
# longer than GAP_OFF_MIN_MS: the difference between the two runs is the feature's. Before the
# cut, an operator drain and undrain of pangyo under the same clients: no request fails and
# detourd nudges nobody (a site that is only DRAINING resets nothing).
. "$(dirname "$0")/lib.sh"
: "${DT_TCP_RESET:=1}"
RATE=500 # requests a second per client: 2 ms between them
# 10 s at RATE: a drain, an undrain (UP again once the flows moved during the drain are idle:
# flow_idle_ms and a scan, 1.2 s idle, 2.9 s seen in CI), then the cut, and time after it
REQUESTS=5000
GAP_ON_MAX_MS=$((2 * DT_INTERVAL_MS * DT_MULTIPLIER))
GAP_OFF_MIN_MS=150
if [ "$DT_TCP_RESET" = 1 ]; then export DT_PREFIX_FLAGS=tcp_reset; fi
command -v nginx >/dev/null || {
	echo "not ok - nginx is not installed (scripts/setup.sh installs it)"
	exit 1
}
dataplane_test_start
echo "# tcp_reset ${DT_TCP_RESET}: rate $RATE/s per client, $REQUESTS requests each"
echo "# detourd: $(grep -o 'detour_xdp: loaded.*verified' "$DT_WORK/logs/detourd.log" | tail -1)"

dt_nginx_all # nginx at every site, answering with its name (scripts/lib/http.sh)

CLIENTS="v4-close v4-keepalive v6-close v6-keepalive"
# each: REQUESTS requests in one curl process, paced at RATE (scripts/lib/http.sh)
dt_curl_client v4-close "$DT_SERVICE_V4" close "$RATE" "$REQUESTS"
dt_curl_client v4-keepalive "$DT_SERVICE_V4" keepalive "$RATE" "$REQUESTS"
dt_curl_client v6-close "[$DT_SERVICE_V6]" close "$RATE" "$REQUESTS"
dt_curl_client v6-keepalive "[$DT_SERVICE_V6]" keepalive "$RATE" "$REQUESTS"
# A drain resets nothing: pangyo drained and undrained under the same clients before the cut.
sleep 0.5
dt_ctl drain pangyo --reason "tcp-recovery: a drain resets nothing" >/dev/null
check "pangyo is draining" dt_wait_state pangyo draining 2000
sleep 0.5
dt_ctl undrain pangyo >/dev/null
check "pangyo is up again" dt_wait_state pangyo up $((DT_FLOW_IDLE_MS + 4000))
sleep 0.5
nudges_before=$(grep -c 'tcp_reset: .* told to reconnect' "$DT_WORK/logs/detourd.log")
before_cut_ns=$(dt_mono_ns) # dt_cut_power and dt_mono_ns take tens of ms: bracket the cut
dt_cut_power pangyo
cut_ns=$(dt_mono_ns)
check_failover pangyo
for c in $CLIENTS; do wait "$(cat "$DT_WORK/client-$c.pid")"; done
check "detourd nudged nobody before the cut (the drain included)" eq "$nudges_before" 0
nudge=$(grep -o 'tcp_reset: .* told to reconnect.*' "$DT_WORK/logs/detourd.log" | tail -1)
echo "# detourd: ${nudge:-no nudge logged}"
nudged=$(echo "$nudge" | sed -n 's/.*: \([0-9]*\) recent TCP flows.*/\1/p')
if [ "$DT_TCP_RESET" = 1 ]; then
	check "detourd nudged the clients' flows at the DOWN (${nudged:-0} >= 4)" ge "${nudged:-0}" 4
else
	check "detourd nudged no flow without tcp_reset (${nudged:-0})" eq "${nudged:-0}" 0
fi

for c in $CLIENTS; do
	log=$DT_WORK/$c.log
	answered=$(awk '$3 == 200' "$log" | wc -l)
	unanswered=$(awk '$3 != 200' "$log" | wc -l) # not "failed": the TAP count
	gap=$(dt_tcp_gap_ms "$log")
	echo "# $c: tcp_gap_ms=$gap answered $answered failed $unanswered of $REQUESTS"
	check "$c: every request logged ($((answered + unanswered)))" \
		eq "$((answered + unanswered))" "$REQUESTS"
	check "$c: no request failed before the cut, through the drain" \
		eq "$(awk -v t="$before_cut_ns" '$1 < t && $3 != 200' "$log" | wc -l)" 0
	check "$c: pangyo answered before the cut" \
		ge "$(awk -v t="$before_cut_ns" '$1 < t && $2 == "pangyo"' "$log" | wc -l)" 100
	check "$c: no answer from pangyo after the reroute" \
		eq "$(awk -v t="$APPLIED_NS" '$1 > t + 5000000 && $2 == "pangyo"' "$log" | wc -l)" 0
	check "$c: ansan or sihung answered after the cut" \
		ge "$(awk -v t="$cut_ns" '$1 > t && ($2 == "ansan" || $2 == "sihung")' "$log" | wc -l)" 100
	if [ "$DT_TCP_RESET" = 1 ]; then
		check "$c: tcp_gap_ms $gap <= 2 x ${DT_INTERVAL_MS} x ${DT_MULTIPLIER} = $GAP_ON_MAX_MS" \
			le "$gap" "$GAP_ON_MAX_MS"
	else
		check "$c: without tcp_reset, tcp_gap_ms $gap > $GAP_OFF_MIN_MS (a retransmission timer)" \
			ge "$gap" "$GAP_OFF_MIN_MS"
	fi
done
test_finish
