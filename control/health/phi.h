/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The phi-accrual estimate (Hayashibara et al., 2004) behind the adaptive detector: a window of a
 * site's last inter-arrival gaps, fitted with a normal distribution, gives the silence after which
 * P(a gap this long | the site is alive) falls to 10^-phi. docs/detector.md, "Adaptive detection".
 * Pure arithmetic, exact integer sums: no drift however long the daemon runs.
 */
#ifndef DT_PHI_H
#define DT_PHI_H

#include <stdint.h>
#include <linux/types.h>

#define PHI_WINDOW 1000 /* gaps remembered per site */
#define PHI_MIN_SAMPLES 10 /* fewer: no estimate, the fixed detection time applies */
#define PHI_GAP_MAX_US 10000000u /* a gap is counted as at most 10 s: keeps the sums exact */
#define PHI_MAX 16.0 /* beyond this 10^-phi is below double's resolution around 1 */

struct phi_window {
	__u32 gap_us[PHI_WINDOW];
	unsigned int len;
	unsigned int next;
	__u64 sum; /* of gap_us */
	__u64 sum_sq; /* of gap_us^2: at most 1000 x 10^14 */
};

/* z such that P(X > mu + z sigma) = 10^-phi for a normal X; phi in (0, PHI_MAX]. */
double phi_z(double phi);
void phi_window__add(struct phi_window *w, __u64 gap_ns);
/*
 * The silence (ns after the last arrival) at which phi reaches the threshold whose phi_z() is z,
 * with the deviation at least sigma_floor_ns; 0 with fewer than PHI_MIN_SAMPLES gaps.
 */
__u64 phi_window__silence_ns(const struct phi_window *w, double z, __u64 sigma_floor_ns);

#endif /* DT_PHI_H */
