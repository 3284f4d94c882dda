/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The largest heartbeat gap seen over a recent window, for the "timers too tight" warning
 * (docs/detector.md, "Gap observation"). The window is GAP_BUCKETS buckets of GAP_BUCKET_NS:
 * a gap is forgotten between (GAP_BUCKETS - 1) and GAP_BUCKETS bucket lengths after it ended.
 */
#ifndef DT_HEALTH_GAPS_H
#define DT_HEALTH_GAPS_H

#include <linux/types.h>

#define GAP_BUCKETS 6
#define GAP_BUCKET_NS 10000000000ull /* 10 s: the window is the last 50 to 60 s */
#define GAP_MIN_SAMPLES 10 /* fewer gaps in the window: too few to judge the timers by */

struct gap_max {
	__u64 epoch[GAP_BUCKETS]; /* bucket number + 1 of what max_ns holds; 0: empty */
	__u64 max_ns[GAP_BUCKETS];
	__u32 count[GAP_BUCKETS];
};

/* A gap that ended at @at_ns. */
void gap_max__add(struct gap_max *g, __u64 at_ns, __u64 gap_ns);
/* The largest gap that ended within the window before @now_ns; 0 if none. */
__u64 gap_max__get(const struct gap_max *g, __u64 now_ns);
/* How many gaps ended within the window before @now_ns. */
__u64 gap_max__count(const struct gap_max *g, __u64 now_ns);
/*
 * The smallest multiplier m with interval x m > gap x 5/4: the detection time that would have
 * held the gap with a quarter of it to spare.
 */
__u32 gap__suggested_multiplier(__u64 gap_ns, __u64 interval_ns);

#endif /* DT_HEALTH_GAPS_H */
