/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdbool.h>
#include <stdint.h>

#include "gaps.h"

void gap_max__add(struct gap_max *g, __u64 at_ns, __u64 gap_ns)
{
	__u64 epoch = at_ns / GAP_BUCKET_NS + 1;
	unsigned int i = (unsigned int)(epoch % GAP_BUCKETS);

	if (g->epoch[i] != epoch) {
		g->epoch[i] = epoch;
		g->max_ns[i] = 0;
		g->count[i] = 0;
	}
	if (g->count[i] < UINT32_MAX)
		g->count[i]++;
	if (gap_ns > g->max_ns[i])
		g->max_ns[i] = gap_ns;
}

static bool gap_max__in_window(const struct gap_max *g, unsigned int i, __u64 now_ns)
{
	__u64 epoch = now_ns / GAP_BUCKET_NS + 1;

	return g->epoch[i] && g->epoch[i] <= epoch && g->epoch[i] + GAP_BUCKETS > epoch;
}

__u64 gap_max__get(const struct gap_max *g, __u64 now_ns)
{
	__u64 best = 0;
	unsigned int i;

	for (i = 0; i < GAP_BUCKETS; i++) {
		if (gap_max__in_window(g, i, now_ns) && g->max_ns[i] > best)
			best = g->max_ns[i];
	}
	return best;
}

__u64 gap_max__count(const struct gap_max *g, __u64 now_ns)
{
	__u64 n = 0;
	unsigned int i;

	for (i = 0; i < GAP_BUCKETS; i++) {
		if (gap_max__in_window(g, i, now_ns))
			n += g->count[i];
	}
	return n;
}

__u32 gap__suggested_multiplier(__u64 gap_ns, __u64 interval_ns)
{
	__u64 need = gap_ns + gap_ns / 4, m;

	if (!interval_ns)
		return 0;
	m = need / interval_ns + 1;
	return m > UINT32_MAX ? UINT32_MAX : (__u32)m;
}
