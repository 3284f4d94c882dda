/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <math.h>

#include "damping.h"

/* Durations past 2^60 ns (36 years) are configuration mistakes and would lose precision. */
#define DAMPING_MAX_NS (1ull << 60)
/* 2^64 times a 32-bit threshold still fits a double with room to spare. */
#define DAMPING_MAX_HALVINGS 64.0

int damping_config__validate(const struct health_damping_config *cfg, __u64 hold_down_ns)
{
	if (!cfg->penalty_per_flap)
		return 0;
	if (!cfg->half_life_ns || !cfg->reuse_threshold)
		return -EINVAL;
	if (cfg->suppress_threshold <= cfg->reuse_threshold)
		return -EINVAL;
	if (cfg->max_hold_down_ns < hold_down_ns || cfg->max_hold_down_ns > DAMPING_MAX_NS)
		return -EINVAL;
	return 0;
}

/*
 * RFC 2439's ceiling: the penalty that decays to the reuse threshold in exactly the maximum
 * hold-down. Capping there bounds both the suppression and how long old flaps are remembered.
 */
static double damping_ceiling(const struct health_damping_config *cfg)
{
	double halvings = (double)cfg->max_hold_down_ns / (double)cfg->half_life_ns;

	if (halvings > DAMPING_MAX_HALVINGS)
		halvings = DAMPING_MAX_HALVINGS;
	return cfg->reuse_threshold * exp2(halvings);
}

double damping__penalty(const struct damping *d, const struct health_damping_config *cfg,
			__u64 now_ns)
{
	double halvings;

	if (!cfg->penalty_per_flap || d->penalty == 0.0 || now_ns <= d->penalty_ns)
		return d->penalty;
	halvings = (double)(now_ns - d->penalty_ns) / (double)cfg->half_life_ns;
	return d->penalty * exp2(-halvings);
}

void damping__flap(struct damping *d, const struct health_damping_config *cfg, __u64 now_ns)
{
	double penalty, wait_ns;

	if (!cfg->penalty_per_flap)
		return;
	penalty = damping__penalty(d, cfg, now_ns) + cfg->penalty_per_flap;
	penalty = fmin(penalty, damping_ceiling(cfg));
	d->penalty = penalty;
	d->penalty_ns = now_ns;
	d->reuse_ns = 0;
	if (penalty < cfg->suppress_threshold)
		return;
	/* Rounded up, so that at reuse_ns the penalty is at or below the reuse threshold. */
	wait_ns = ceil(log2(penalty / cfg->reuse_threshold) * (double)cfg->half_life_ns);
	if (wait_ns > (double)DAMPING_MAX_NS)
		wait_ns = (double)DAMPING_MAX_NS;
	d->reuse_ns = sat_add(now_ns, (__u64)wait_ns);
}

__u64 damping__hold_down_end(const struct damping *d, const struct health_damping_config *cfg,
			     __u64 hold_down_ns, __u64 clean_since_ns)
{
	__u64 end = sat_add(clean_since_ns, hold_down_ns);
	__u64 cap;

	if (!cfg->penalty_per_flap || d->reuse_ns <= end)
		return end;
	cap = sat_add(clean_since_ns, cfg->max_hold_down_ns);
	return d->reuse_ns < cap ? d->reuse_ns : cap;
}

/*
 * A penalty saved by a previous daemon, whose damping settings may have been others: capped at
 * this ceiling, and the suppression at the maximum hold-down from @now_ns.
 */
void damping__restore(struct damping *d, const struct health_damping_config *cfg, double penalty,
		      __u64 penalty_ns, __u64 reuse_ns, __u64 now_ns)
{
	__u64 latest = sat_add(now_ns, cfg->max_hold_down_ns);

	*d = (struct damping){ 0 };
	if (!cfg->penalty_per_flap)
		return;
	d->penalty = fmin(penalty, damping_ceiling(cfg));
	d->penalty_ns = penalty_ns < now_ns ? penalty_ns : now_ns;
	d->reuse_ns = reuse_ns < latest ? reuse_ns : latest;
}
