#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (1) Steady state: with every site UP, the client's UDP requests (IPv4 and IPv6, 8 flows) and
# TCP connections are all answered by the home site, pangyo, and Detour only counted them as
# "home up": nothing rerouted, no flow recorded.
. "$(dirname "$0")/lib.sh"
test_start

client_bg udp4 udp --addr "$DT_SERVICE_V4" --rate 500 --count 500 --flows 8 --timeout 500
client_bg udp6 udp --addr "$DT_SERVICE_V6" --rate 500 --count 500 --flows 8 --timeout 500
client_bg tcp4 tcp --addr "$DT_SERVICE_V4" --rate 50 --count 25 --timeout 1000
client_wait udp4
client_wait udp6
client_wait tcp4

for c in udp4 udp6; do
	check "$c: all 500 requests answered" eq "$(jget "$DT_WORK/$c.json" 'j["answered"]')" 500
	check "$c: every answer came from pangyo" \
		eq "$(jget "$DT_WORK/$c.json" 'j["sites"].get("pangyo",{}).get("answers",0)')" 500
done
check "tcp4: 25 connections, all served by pangyo" \
	eq "$(jget "$DT_WORK/tcp4.json" 'j["sites"].get("pangyo",{}).get("answers",0)')" 25

dt_ctl --json status >"$DT_WORK/status.json"
check "detourctl status: every site up" \
	eq "$(jget "$DT_WORK/status.json" '" ".join(s["state"] for s in j["sites"])')" "up up up"
check "detourctl status: not all sites down" \
	eq "$(jget "$DT_WORK/status.json" 'j["all_sites_down"]')" False
check "detourctl status: detour_xdp attached to edge0" \
	eq "$(jget "$DT_WORK/status.json" 'j["dataplane"]["interfaces"][0]["attach"] != "detached"')" True

dt_ctl --json stats >"$DT_WORK/stats.json"
# Counters summed over every site and reason: see docs of `detourctl stats --json`.
home_up=$(jget "$DT_WORK/stats.json" 'sum(r["packets"] for r in j["counters"] if r["reason"]=="home_up")')
rerouted=$(jget "$DT_WORK/stats.json" 'sum(r["packets"] for r in j["counters"] if r["reason"].startswith("rerouted"))')
check "the dataplane passed the requests as home_up ($home_up >= 1000 packets)" ge "$home_up" 1000
check "nothing was rerouted" eq "$rerouted" 0
check "no flow recorded" eq "$(dt_ctl --json flows | jget /dev/stdin 'len(j["flows"])')" 0
test_finish
