/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Flap damping for the site state machine, in the spirit of RFC 2439: every heartbeat-driven DOWN
 * adds a penalty that halves every half-life. A flap that leaves the penalty at or above the
 * suppress threshold suppresses the site: it may leave DOWN only once the penalty has decayed below
 * the reuse threshold. The penalty is capped at the value that decays to the reuse threshold in
 * max_hold_down_ns, so suppression is bounded, and memory of old flaps fades.
 */
#ifndef DT_HEALTH_DAMPING_H
#define DT_HEALTH_DAMPING_H

#include "health.h"

/* Saturating: a deadline past the end of time is simply never reached. */
static inline __u64 sat_add(__u64 a, __u64 b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

struct damping {
	double penalty; /* as of penalty_ns */
	__u64 penalty_ns;
	__u64 reuse_ns; /* suppressed until then; 0 when not suppressed */
};

int damping_config__validate(const struct health_damping_config *cfg, __u64 hold_down_ns);
double damping__penalty(const struct damping *d, const struct health_damping_config *cfg,
			__u64 now_ns);
void damping__flap(struct damping *d, const struct health_damping_config *cfg, __u64 now_ns);
void damping__restore(struct damping *d, const struct health_damping_config *cfg, double penalty,
		      __u64 penalty_ns, __u64 reuse_ns, __u64 now_ns);
__u64 damping__hold_down_end(const struct damping *d, const struct health_damping_config *cfg,
			     __u64 hold_down_ns, __u64 clean_since_ns);

#endif /* DT_HEALTH_DAMPING_H */
