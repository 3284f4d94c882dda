/* SPDX-License-Identifier: GPL-2.0-only */
#include <math.h>

#include "phi.h"

/* The upper tail of the standard normal, P(X > z), is erfc(z / sqrt 2) / 2: solve it by bisection. */
double phi_z(double phi)
{
	double target = pow(10.0, -phi), lo = 0.0, hi = 40.0;
	int i;

	for (i = 0; i < 100; i++) {
		double mid = (lo + hi) / 2;

		if (0.5 * erfc(mid / M_SQRT2) > target)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

void phi_window__add(struct phi_window *w, __u64 gap_ns)
{
	__u64 us = gap_ns / 1000;
	__u32 g = us > PHI_GAP_MAX_US ? PHI_GAP_MAX_US : (__u32)us;

	if (w->len == PHI_WINDOW) {
		__u32 old = w->gap_us[w->next];

		w->sum -= old;
		w->sum_sq -= (__u64)old * old;
	} else {
		w->len++;
	}
	w->gap_us[w->next] = g;
	w->next = (w->next + 1) % PHI_WINDOW;
	w->sum += g;
	w->sum_sq += (__u64)g * g;
}

__u64 phi_window__silence_ns(const struct phi_window *w, double z, __u64 sigma_floor_ns)
{
	double mean, var, sigma;

	if (w->len < PHI_MIN_SAMPLES)
		return 0;
	mean = (double)w->sum / w->len;
	var = (double)w->sum_sq / w->len - mean * mean;
	sigma = var > 0 ? sqrt(var) : 0;
	if (sigma * 1000 < (double)sigma_floor_ns)
		sigma = (double)sigma_floor_ns / 1000;
	return (__u64)((mean + z * sigma) * 1000);
}
