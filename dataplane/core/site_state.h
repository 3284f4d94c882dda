/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What each site state means to the traffic: the one statement of it, read by the policy
 * (decide.h), by the DPDK engine's burst stages and by the failure detector (control/health/),
 * so that the detector's idea of a healthy site is the packet path's.
 *
 *   state        keeps its own traffic   takes new flows   serves its flows   flow table read
 *   UNKNOWN      yes (fail open)         no                no                 no
 *   UP           yes                     yes               yes                no
 *   DRAINING     established flows       no                yes                yes
 *   DOWN         no                      no                no                 yes
 *   RECOVERING   new flows               yes               yes                yes
 */
#ifndef DT_SITE_STATE_H
#define DT_SITE_STATE_H

#include "dt_compiler.h"
#include "detour_abi.h"

/*
 * A home in this state keeps all its traffic: UP, or UNKNOWN (never written), which fails open
 * toward the home rather than moving flows on a state nobody set.
 */
DT_INLINE bool dt_state_keeps_home(__u32 state)
{
	return state == DT_SITE_UP || state == DT_SITE_UNKNOWN;
}

/*
 * A site takes over new flows when UP, and also when RECOVERING: its heartbeats have been clean
 * for the hold-down, and only its own moved flows are waiting to come home. Refusing it would
 * fail open toward a dead home while a healthy site is there.
 */
DT_INLINE bool dt_state_takes_new_flows(__u32 state)
{
	return state == DT_SITE_UP || state == DT_SITE_RECOVERING;
}

/* A site that still serves flows it already has: UP, or a drain/recovery in progress. */
DT_INLINE bool dt_state_serves_flows(__u32 state)
{
	return state == DT_SITE_UP || state == DT_SITE_DRAINING || state == DT_SITE_RECOVERING;
}

/*
 * A home in this state has its flows' placement in the flow table: DOWN (where moved flows
 * went), DRAINING (which flows stay), RECOVERING (which flows are still away).
 */
DT_INLINE bool dt_state_uses_flow_table(__u32 state)
{
	return state == DT_SITE_DOWN || state == DT_SITE_DRAINING || state == DT_SITE_RECOVERING;
}

#endif /* DT_SITE_STATE_H */
