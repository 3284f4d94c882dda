// SPDX-License-Identifier: GPL-2.0-only
/*
 * Weighted rendezvous hashing (Thaler & Ravishankar; the logarithmic weighting of Schindelhauer &
 * Schomaker): candidate c with weight w scores -w / ln(u) for a uniform u in (0, 1) drawn from a
 * hash of (seed, home, slot, c). The highest score ranks first, and c ranks first in a fraction
 * w / sum(w) of the slots.
 *
 * The scores are doubles. Two edges computing the same table need the same ranking, which needs
 * log() to agree to within the gap between two scores; glibc's log is accurate to well under an
 * ulp, and a tie at that distance has a probability around 2^-50 per comparison.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "failover_slots.h"
#include "dataplane/core/site_state.h"

/* splitmix64's finaliser: a full-avalanche 64-bit mix, fixed forever (the fleet depends on it). */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static double rendezvous_score(uint64_t seed, uint32_t home, uint32_t slot,
			       const struct dt_failover_entry *e)
{
	uint64_t h = mix64(seed ^ mix64(((uint64_t)home << 48) ^ ((uint64_t)slot << 16) ^ e->site));
	/* 53 random bits -> u in (0, 1), never 0 or 1, so ln(u) is finite and negative. */
	double u = ((double)(h >> 11) + 0.5) / 9007199254740992.0;

	return -(double)e->weight / log(u);
}

static int check_list(uint32_t home, const struct dt_failover_entry *list, unsigned int n)
{
	uint64_t seen = 0;
	unsigned int i;

	if (!n || home >= DT_MAX_SITES)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (list[i].site >= DT_MAX_SITES || list[i].site == home || !list[i].weight)
			return -EINVAL;
		if (seen & (1ull << list[i].site))
			return -EINVAL;
		seen |= 1ull << list[i].site;
	}
	return 0;
}

/* Rank every candidate of one slot, best first, into cand[]; the rest is DT_CANDIDATE_NONE. */
static void rank_slot(uint8_t *cand, uint64_t seed, uint32_t home, uint32_t slot,
		      const struct dt_failover_entry *list, unsigned int n)
{
	double best[DT_FAILOVER_CANDIDATES];
	unsigned int i, k, filled = 0;

	memset(cand, DT_CANDIDATE_NONE, DT_FAILOVER_CANDIDATES);
	for (i = 0; i < n; i++) {
		double s = rendezvous_score(seed, home, slot, &list[i]);

		/* insertion into the sorted list (n <= DT_MAX_SITES - 1 < DT_FAILOVER_CANDIDATES) */
		for (k = filled; k > 0 && best[k - 1] < s; k--) {
			if (k < DT_FAILOVER_CANDIDATES) {
				best[k] = best[k - 1];
				cand[k] = cand[k - 1];
			}
		}
		if (k < DT_FAILOVER_CANDIDATES) {
			best[k] = s;
			cand[k] = (uint8_t)list[i].site;
			if (filled < DT_FAILOVER_CANDIDATES)
				filled++;
		}
	}
}

int dt_failover_slots__compute(struct dt_failover_slots *out, uint32_t home,
			       const struct dt_failover_entry *list, unsigned int n, uint64_t seed)
{
	uint32_t slot;
	int err = check_list(home, list, n);

	if (err)
		return err;
	for (slot = 0; slot < DT_FAILOVER_SLOTS; slot++)
		rank_slot(out->cand[slot], seed, home, slot, list, n);
	return 0;
}

uint32_t dt_failover_slots__target(const struct dt_failover_slots *s, uint32_t home, uint32_t slot,
				   const uint32_t state[DT_MAX_SITES])
{
	const uint8_t *cand = s->cand[slot % DT_FAILOVER_SLOTS];
	unsigned int i;

	for (i = 0; i < DT_FAILOVER_CANDIDATES && cand[i] < DT_MAX_SITES; i++)
		if (cand[i] != home && dt_state_takes_new_flows(state[cand[i]]))
			return cand[i];
	return DT_SITE_NONE;
}

uint32_t dt_failover_slots__shares(const struct dt_failover_slots *s, uint32_t home,
				   const uint32_t state[DT_MAX_SITES], uint32_t count[DT_MAX_SITES])
{
	uint32_t slot, target, none = 0;

	memset(count, 0, DT_MAX_SITES * sizeof(count[0]));
	for (slot = 0; slot < DT_FAILOVER_SLOTS; slot++) {
		target = dt_failover_slots__target(s, home, slot, state);
		if (target < DT_MAX_SITES)
			count[target]++;
		else
			none++;
	}
	return none;
}
