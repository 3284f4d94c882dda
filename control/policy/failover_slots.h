/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Failover slots: the control plane's precomputation of where a dead site's flows go.
 *
 * For every home site and every one of DT_FAILOVER_SLOTS hash slots, the candidate target sites
 * are ranked by weighted rendezvous hashing (highest random weight) over the home's failover list.
 * The ranking depends only on the configuration (sites, weights, seed), never on which sites are
 * healthy: the packet path takes the first candidate that is UP. Hence
 *   - every edge router with the same configuration computes the same table (no coordination);
 *   - a site's share of the first-choice slots is proportional to its weight;
 *   - when a candidate fails, only the slots that ranked it first among the healthy ones move,
 *     each to its next candidate; no other slot changes (minimal disruption);
 *   - failing or restoring a site never rewrites this table: it is one state write;
 *   - every slot ranks the whole list, so no flow fails open while a listed site is up.
 */
#ifndef DT_FAILOVER_SLOTS_H
#define DT_FAILOVER_SLOTS_H

#include <stdint.h>
#include "dataplane/core/detour_abi.h"

struct dt_failover_entry {
	uint32_t site; /* site id, < DT_MAX_SITES, never the home itself */
	uint32_t weight; /* > 0 */
};

/*
 * Fill @out for home site @home from its failover list. Returns 0, or -EINVAL for an empty list,
 * a zero weight, an out-of-range or duplicate site, or the home listed as its own failover.
 */
int dt_failover_slots__compute(struct dt_failover_slots *out, uint32_t home,
			       const struct dt_failover_entry *list, unsigned int n, uint64_t seed);

/*
 * The target of slot @slot of @home's table, given every site's state (@state[site id], an enum
 * dt_site_state): the first candidate other than the home that takes new flows, as the packet
 * path's dt_choose_target() picks it; DT_SITE_NONE when none does (the flow fails open).
 */
uint32_t dt_failover_slots__target(const struct dt_failover_slots *s, uint32_t home, uint32_t slot,
				   const uint32_t state[DT_MAX_SITES]);

/*
 * The same over every slot: @count[site id] is set to the number of slots that land on that site.
 * Returns the number that fail open. What `detourctl what-if` reports.
 */
uint32_t dt_failover_slots__shares(const struct dt_failover_slots *s, uint32_t home,
				   const uint32_t state[DT_MAX_SITES],
				   uint32_t count[DT_MAX_SITES]);

#endif /* DT_FAILOVER_SLOTS_H */
