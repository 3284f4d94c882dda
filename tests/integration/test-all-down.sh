#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (6) All sites down: Detour fails open. The client's packets are passed to the kernel (counted
# as no_healthy_site, and the edge kernel forwards them: its ForwDatagrams counter grows by at
# least as many), never dropped by Detour; `detourctl status` says every site is down.
. "$(dirname "$0")/lib.sh"
test_start

fwd() { dt_in edge awk '/^Ip:/ { if (++n == 2) print $7 }' /proc/net/snmp; }
for site in $DT_SITES; do dt_cut_power "$site"; done
for site in $DT_SITES; do
	check "$site DOWN" wait_event "$site" down 5000
done
check "the last DOWN event says all sites are down" \
	eq "$(tail -1 "$DT_WORK/events.jsonl" | jget /dev/stdin 'j["all_sites_down"]')" True
dt_ctl --json status >"$DT_WORK/status.json"
check "detourctl --json status: all_sites_down" \
	eq "$(jget "$DT_WORK/status.json" 'j["all_sites_down"]')" True
check "detourctl status warns that the dataplane fails open" \
	bash -c "\"$DETOURCTL\" -s \"$DT_WORK/detourd.sock\" status | grep -q 'fails open'"

stat_of() { dt_ctl --json stats | jget /dev/stdin "sum(r['packets'] for r in j['counters'] if r['reason']=='$1')"; }
before_pass=$(stat_of no_healthy_site)
before_fwd=$(fwd)
client_run dark udp --addr "$DT_SERVICE_V4" --rate 500 --count 250 --flows 8 --timeout 100
passed_open=$(($(stat_of no_healthy_site) - before_pass))
forwarded=$(($(fwd) - before_fwd))
echo "# failed open: $passed_open packets passed by detour_xdp, $forwarded forwarded by the kernel"
check "detour_xdp passed all 250 requests to the kernel (no_healthy_site)" ge "$passed_open" 250
check "the edge kernel forwarded them ($forwarded >= 250)" ge "$forwarded" 250
rerouted=$(dt_ctl --json stats | jget /dev/stdin "sum(r['packets'] for r in j['counters'] if r['reason'].startswith('rerouted'))")
check "nothing was rerouted" eq "$rerouted" 0
test_finish
