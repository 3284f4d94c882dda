#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# detourd's Prometheus metrics with the real parts (docs/metrics.md): detourd runs as deployed
# (SCHED_FIFO) with metrics_listen in the edge namespace; a live scrape passes
# `promtool check metrics`; the metrics thread runs SCHED_OTHER with CAP_BPF only; the policy
# fingerprint of detour_build_info is the one `detourctl --json status` shows. Then a real
# Prometheus server (Debian's), scraping every 200 ms, watches pangyo's power cut (beacon killed,
# link down): detourd still detects within interval x multiplier + margin, Prometheus never missed
# a scrape, its HTTP API shows pangyo UP before the cut and DOWN after it, the detection
# histogram's count is 1 with the event log's detection time, and the packet counters agree with
# `detourctl --json stats`.
DETOURD_SCHED_ARGS=${DETOURD_SCHED_ARGS-}
. "$(dirname "$0")/daemon_fixture.sh"

for p in promtool prometheus curl; do
	command -v "$p" >/dev/null ||
		bail "$p is not installed (scripts/setup.sh installs Debian's prometheus and curl)"
done
METRICS=127.0.0.1:9473 # in the edge's own namespace: no other test can hold it
PROM=127.0.0.1:9090
SCRAPE_MS=200
PROM_LIFETIME_S=100 # the server is killed by then whatever happens (and on exit)
DETOUR_EXTRA=("metrics_listen=$METRICS")

T0=$(mono_ms)
stamp() { echo "# $(($(mono_ms) - T0)) ms: $1"; }
setup_all
start_daemon || bail "detourd did not start"
start_beacon 1
start_beacon 2
wait_until 3000 sites_up || bail "sites did not come UP"
stamp "detourd and both sites up"

scrape() { # [PATH]: the page (curl fails on an HTTP error)
	ip netns exec "$NS_E" curl -sf --max-time 3 "http://$METRICS${1:-/metrics}"
}
metric() { # NAME{LABELS}: the value of that exact series in a fresh scrape, or nothing
	scrape | awk -v s="$1" '$1 == s { print $2 }'
}

# ---- a live scrape ---------------------------------------------------------------------------
PAGE=$TMP/page.txt
check "GET /metrics answers 200" eval 'scrape >"$PAGE"'
check "Content-Type is the text format 0.0.4" eval \
	'ip netns exec "$NS_E" curl -sf -o /dev/null -w "%{content_type}" "http://$METRICS/metrics" |
		grep -q "^text/plain; version=0.0.4"'
report=$(promtool check metrics <"$PAGE" 2>&1)
status=$?
[ -z "$report" ] || echo "$report" | sed 's/^/#   promtool: /'
check "promtool check metrics passes on a live scrape ($(grep -c '^# TYPE' "$PAGE") families)" \
	test "$status" = 0 -a -z "$report"
check "pangyo's state is up (1), not down (0)" eval \
	'[ "$(metric "detour_site_state{site=\"pangyo\",state=\"up\"}")" = 1 ] &&
	 [ "$(metric "detour_site_state{site=\"pangyo\",state=\"down\"}")" = 0 ]'
fp=$(ctl --json status | json "d['daemon']['policy_fingerprint']")
check "detourctl status --json shows a policy fingerprint of 32 hex digits ($fp)" \
	eval '[[ "$fp" =~ ^[0-9a-f]{32}$ ]]'
check "detour_build_info carries the same fingerprint and the version" \
	grep -q "^detour_build_info{version=\"[0-9.]*\",dataplane=\"xdp\",policy_fingerprint=\"$fp\"} 1$" "$PAGE"
build_fp() { metric_line detour_build_info | sed -n 's/.*policy_fingerprint="\([0-9a-f]*\)".*/\1/p'; }
metric_line() { scrape | grep "^$1{"; }
status_fp() { ctl --json status | json "d['daemon']['policy_fingerprint']"; }
ctl prefix add 198.18.30.0/24 ansan >/dev/null
fp2=$(status_fp)
check "a prefix added through the control socket changes the fingerprint ($fp2)" test "$fp2" != "$fp"
check "and detour_build_info follows within the publish period" wait_until 1000 eval '[ "$(build_fp)" = "$fp2" ]'
ctl prefix del 198.18.30.0/24 >/dev/null
check "removing it gives the first fingerprint back, in status and in /metrics" \
	wait_until 1000 eval '[ "$(status_fp)" = "$fp" ] && [ "$(build_fp)" = "$fp" ]'
timing=$(ip netns exec "$NS_E" curl -sf -o /dev/null -w '%{time_total} s, %{size_download} bytes' \
	"http://$METRICS/metrics")
echo "# one scrape: $timing"
check "an unknown path is 404" test "$(ip netns exec "$NS_E" curl -s -o /dev/null -w '%{http_code}' \
	"http://$METRICS/nothing")" = 404
check "POST is 405" test "$(ip netns exec "$NS_E" curl -s -o /dev/null -w '%{http_code}' -d x \
	"http://$METRICS/metrics")" = 405
check "a beacon's heartbeat age is below a second" eval \
	'python3 -c "import sys; sys.exit(0 if 0 <= float(sys.argv[1]) < 1 else 1)" \
		"$(metric "detour_beacon_last_heartbeat_age_seconds{site=\"pangyo\",beacon=\"0\"}")"'

# the thread: SCHED_OTHER and CAP_BPF only, while the event loop runs SCHED_FIFO
tid=
for t in /proc/"$DAEMON_PID"/task/*; do
	[ "$(cat "$t/comm")" = dt-metrics ] && tid=$(basename "$t")
done
if [ -n "$tid" ]; then
	t=/proc/$DAEMON_PID/task/$tid
	eff=$(awk '/^CapEff:/ { print $2 }' "$t/status")
	prm=$(awk '/^CapPrm:/ { print $2 }' "$t/status")
	policy=$(sed 's/.*) //' "$t/stat" | awk '{ print $39 }')
	main_policy=$(sed 's/.*) //' "/proc/$DAEMON_PID/stat" | awk '{ print $39 }')
	echo "# dt-metrics thread $tid: CapEff $eff CapPrm $prm policy $policy; event loop policy $main_policy"
	check "the metrics thread runs SCHED_OTHER (0) beside a SCHED_FIFO (1) event loop" \
		test "$policy/$main_policy" = 0/1
	check "the metrics thread keeps CAP_BPF only" \
		test "$eff/$prm" = "$(printf '%016x/%016x' $((1 << 39)) $((1 << 39)))"
else
	not_ok "no dt-metrics thread in detourd"
fi

# ---- a real Prometheus through a power cut ------------------------------------------------------
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: ${SCRAPE_MS}ms
  scrape_timeout: $((SCRAPE_MS * 3 / 4))ms
scrape_configs:
  - job_name: detourd
    static_configs:
      - targets: ['$METRICS']
EOF
dt_bg "$NS_E" "$TMP/prometheus.log" "$TMP/prometheus.log" prometheus \
	--config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prometheus-data" \
	--web.listen-address="$PROM" --log.level=warn
PROM_PID=$DT_BG_PID
EXTRA_PIDS+=("$PROM_PID")
# the watchdog ends within a second of the server, and holds none of the test's output open
(for _ in $(seq "$PROM_LIFETIME_S"); do
	sleep 1
	kill -0 "$PROM_PID" || exit 0
done
kill -9 "$PROM_PID") >/dev/null 2>&1 &
EXTRA_PIDS+=("$!")

prom_query() { # EXPR [UNIX_TIME]: the first result's value from /api/v1/query, or "none"
	ip netns exec "$NS_E" python3 - "$PROM" "$1" "${2:-}" <<'EOF'
import json, sys, urllib.parse, urllib.request
q = {"query": sys.argv[2]}
if sys.argv[3]:
    q["time"] = sys.argv[3]
try:
    with urllib.request.urlopen("http://%s/api/v1/query?%s" % (sys.argv[1], urllib.parse.urlencode(q)),
                                timeout=3) as r:
        d = json.load(r)
    res = d["data"]["result"]
    print(res[0]["value"][1] if d["status"] == "success" and res else "none")
except Exception as e:
    print("none")
EOF
}
prom_is() { [ "$(prom_query "$1" "${3:-}")" = "$2" ]; } # EXPR VALUE [TIME]
unix_now() { date +%s.%N; }

stamp "Prometheus started"
check "Prometheus scrapes detourd (up{job=\"detourd\"} is 1)" \
	wait_until 20000 prom_is 'up{job="detourd"}' 1
stamp "Prometheus scraped"
ip netns exec "$NS_C" ping -q -c 20 -i 0.01 -W 0.05 198.18.10.5 >/dev/null 2>&1
sleep 1 # a few scrapes of pangyo UP
before=$(unix_now)
sleep 0.5

ip -n "$NS_A" link set sa0 down # the power cut: the link goes, and the beacon dies
stop_beacon 1
check "pangyo DOWN in detourctl status" wait_until $((DETECT_MS + OBSERVE_MARGIN_MS)) state_is pangyo down
check "detourd detected within $DETECT_MS + $DETECT_MARGIN_MS ms while being scraped every $SCRAPE_MS ms" \
	event_timing_ok pangyo down $((DETECT_MS + DETECT_MARGIN_MS))
ip netns exec "$NS_C" ping -q -c 20 -i 0.01 -W 0.05 198.18.10.5 >/dev/null 2>&1

check "Prometheus: pangyo's down state is 1" \
	wait_until 10000 prom_is 'detour_site_state{site="pangyo",state="down"}' 1
stamp "Prometheus saw pangyo down"
check "Prometheus: and pangyo's up state was 1 before the cut" \
	prom_is 'detour_site_state{site="pangyo",state="up"}' 1 "$before"
check "Prometheus: ansan stays up" prom_is 'detour_site_state{site="ansan",state="up"}' 1
check "Prometheus: one UP -> DOWN transition caused by the heartbeat timeout" \
	prom_is 'detour_site_transitions_total{site="pangyo",to="down",cause="heartbeat_timeout"}' 1
check "Prometheus: the detection histogram's count for pangyo -> down is 1" \
	prom_is 'detour_transition_detection_seconds_count{site="pangyo",to="down"}' 1
ev=$(last_event pangyo down)
want_s=$(echo "$ev" | json "(d['detected_ns'] - d['last_heartbeat_ns']) / 1e9")
got_s=$(prom_query 'detour_transition_detection_seconds_sum{site="pangyo",to="down"}')
check "Prometheus: its sum ($got_s s) is the event log's detection time ($want_s s)" \
	python3 -c 'import sys; sys.exit(0 if abs(float(sys.argv[1]) - float(sys.argv[2])) < 1e-6 else 1)' \
	"$got_s" "$want_s"
bucket=$(prom_query 'histogram_quantile(1, sum by (le) (rate(detour_transition_detection_seconds_bucket{site="pangyo",to="down"}[1m])))')
echo "# Prometheus histogram_quantile(1) of pangyo's detection: $bucket s"
check "Prometheus: the apply histogram's count for pangyo -> down is 1" \
	prom_is 'detour_transition_apply_seconds_count{site="pangyo",to="down"}' 1
check "Prometheus: no scrape failed through the cut (min_over_time(up[1m]) is 1)" \
	prom_is 'min_over_time(up{job="detourd"}[1m])' 1
check "Prometheus: scraped at least every ${SCRAPE_MS} ms (count_over_time(up[2s]) >= 5)" \
	eval '[ "$(prom_query "count_over_time(up{job=\"detourd\"}[2s]) >= bool 5")" = 1 ]'

# the packet counters: what /metrics says is what detourctl stats says
stats_count() { # SITE REASON
	ctl --json stats | json "sum(c['packets'] for c in d['counters'] if c['site']=='$1' and c['reason']=='$2')"
}
m_up=$(metric 'detour_packets_total{site="pangyo",reason="home_up",verdict="passed"}')
m_rr=$(metric 'detour_packets_total{site="pangyo",reason="rerouted_route",verdict="rerouted"}')
check "pangyo's home_up packets: /metrics ${m_up:-none} = stats $(stats_count pangyo home_up), at least 20" \
	eval '[ "${m_up:-0}" = "$(stats_count pangyo home_up)" ] && [ "${m_up:-0}" -ge 20 ]'
check "pangyo's rerouted_route packets: /metrics ${m_rr:-none} = stats $(stats_count pangyo rerouted_route), at least 20" \
	eval '[ "${m_rr:-0}" = "$(stats_count pangyo rerouted_route)" ] && [ "${m_rr:-0}" -ge 20 ]'
# the flow table: counted by the scanner's walks, not by the scrape
flows_match() {
	local est new total
	est=$(metric 'detour_flow_table_entries{class="established"}')
	new=$(metric 'detour_flow_table_entries{class="new"}')
	total=$(ctl --json flows | json "d['total']")
	echo "# flow table: /metrics established ${est:-?} + new ${new:-?}, detourctl flows $total" >"$TMP/flows.seen"
	[ -n "$est" ] && [ -n "$new" ] && [ "$total" -ge 1 ] && [ $((est + new)) = "$total" ]
}
check "flow-table occupancy in /metrics is what detourctl flows lists (the moved ping flow)" \
	wait_until 3000 flows_match
cat "$TMP/flows.seen"
check "and that count is fresh (the scanner walks every 200 ms)" eval \
	'python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 1 else 1)" \
		"$(metric detour_flow_table_count_age_seconds)"'
scrape >"$PAGE"
report=$(promtool check metrics <"$PAGE" 2>&1)
check "promtool check metrics passes after the cut too" test $? = 0 -a -z "$report"

dt_stop_pid "$PROM_PID"
stamp "done"
finish
