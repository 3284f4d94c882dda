#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (4) Recovery: pangyo loses power, a long-lived TCP connection is opened during the outage (it
# lands on ansan or sihung). Power comes back: after the hold-down pangyo is RECOVERING, new
# connections go home to pangyo while the long-lived one stays where it is and keeps working;
# once it has closed and its flow is idle (the daemon's scanner walks the dataplane's flow
# table), pangyo is UP. DT_FAMILY=6: the same over IPv6; DT_DATAPLANE=dpdk with the edge in DPDK
# mode (suite dpdk-integration).
. "$(dirname "$0")/lib.sh"
dataplane_test_start

addr=$(service_addr)
dt_cut_power pangyo
check_failover pangyo
client_bg long tcp-long --addr "$addr" --rate 20 --duration 4000 --timeout 1000
sleep 0.5
restored_seq=$(last_seq)
dt_restore_power pangyo
check "pangyo RECOVERING after the hold-down" wait_event pangyo recovering 10000 "$restored_seq"
client_run home tcp --addr "$addr" --rate 20 --count 10 --timeout 1000
check "new connections during RECOVERING go home to pangyo" \
	eq "$(jget "$DT_WORK/home.json" 'j["sites"].get("pangyo",{}).get("answers",0)')" 10
check "pangyo stays RECOVERING while the moved connection lives" dt_state_is pangyo recovering
check "detourctl flows lists the moved connection" \
	ge "$(dt_ctl --json flows | jget /dev/stdin 'len(j["flows"])')" 1
client_wait long
long_site=$(jget "$DT_WORK/long.json" '",".join(j["sites"])')
check "the long-lived connection stayed on one site" \
	eq "$(jget "$DT_WORK/long.json" 'j["stayed"]')" True
check "the long-lived connection was served by $long_site, not pangyo" \
	test "$long_site" = ansan -o "$long_site" = sihung
check "pangyo UP once the moved flows are idle" wait_event pangyo up 15000 "$restored_seq"
check "pangyo went UP because the flows went idle" \
	eq "$(event pangyo up cause "$restored_seq")" flows_idle
client_run after udp --addr "$addr" --rate 200 --count 200 --flows 8 --timeout 500
check "after recovery every request is answered by pangyo" \
	eq "$(jget "$DT_WORK/after.json" 'j["sites"].get("pangyo",{}).get("answers",0)')" 200
test_finish
