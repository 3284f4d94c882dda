/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus metrics (docs/metrics.md): /metrics served on metrics_listen by libmicrohttpd, from
 * a thread of its own that never delays the event loop.
 *
 *   event loop ──detourd_metrics__publish()──▶ snapshot (seqlock: the loop never waits)
 *                                                  │
 *   scrape ──HTTP thread (SCHED_OTHER, CAP_BPF only)──┴─▶ page ◀── dataplane counters (ops),
 *                                                                 flow counts of the scanner
 *
 * The loop publishes at most every DETOURD_METRICS_PUBLISH_NS, and at once after a transition:
 * site states, beacons' last arrivals, heartbeat counters, and the transitions it took from the
 * event ring into counters and latency histograms. A scrape reads that copy, the per-CPU packet
 * counters through the dataplane's read_counter (either engine), and the flow-table occupancy the
 * recovery scanner counted on its last complete walk: it never walks the flow table itself.
 */
#ifndef DT_DETOURD_METRICS_H
#define DT_DETOURD_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "dataplane/core/detour_abi.h"
#include "dt_config.h"
#include "hb.h"
#include "health.h"

#define DETOURD_METRICS_PUBLISH_NS 50000000ull /* 50 ms */
#define DM_BUCKETS_MAX 16

/* One latency histogram, per bucket (not cumulative), in seconds. */
struct dm_hist {
	uint64_t bucket[DM_BUCKETS_MAX]; /* the writer's type (metrics_text.h) */
	uint64_t count;
	double sum;
};

struct dm_beacon {
	bool configured;
	bool live; /* heard within the detection time, as the detector judged at publish */
	__u64 last_ns; /* CLOCK_MONOTONIC of its last accepted heartbeat; 0: never heard */
};

struct dm_site {
	char name[DT_SITE_NAME_MAX];
	__u16 id;
	__u8 state; /* enum dt_site_state */
	bool blackout_held;
	bool suppressed;
	__u64 heartbeats; /* accepted */
	__u64 blackout_holds;
	__u64 flaps;
	double penalty;
	struct dm_beacon beacon[HEALTH_MAX_BEACONS];
	__u64 transitions[HEALTH_CAUSE_MAX][DT_SITE_STATE_MAX]; /* [cause][to] */
	__u64 notices[HEALTH_CAUSE_MAX];
	struct dm_hist detect[DT_SITE_STATE_MAX]; /* by the state it went to */
	struct dm_hist apply[DT_SITE_STATE_MAX];
};

struct dm_snapshot {
	__u64 published_ns;
	__u64 hb[HB_REASON_MAX]; /* the receiver's counters; [HB_OK]: accepted */
	__u64 events_missed; /* overwritten in the ring before the loop read them */
	__u32 flow_table_size;
	char fingerprint[DT_POLICY_FINGERPRINT_LEN + 1];
	unsigned int n_sites;
	struct dm_site site[DT_MAX_SITES]; /* only the first n_sites are copied */
};

/* What a scrape reads besides the snapshot. */
struct dm_live {
	const struct dt_dataplane *dp;
	const char *version; /* detourd's */
	const char *dataplane; /* the engine's name */
	__u64 flows_established, flows_new; /* the scanner's last complete count */
	__u64 flows_counted_ns; /* when; 0: never */
	__u64 partial_walks;
};

/* The buckets' upper bounds, in seconds. */
extern const double dm_detect_le[];
extern const unsigned int dm_detect_n;
extern const double dm_apply_le[];
extern const unsigned int dm_apply_n;

void dm_hist_observe(struct dm_hist *h, const double *le, unsigned int n, double v);
/*
 * The page for @s and @live at @now: 0 and a malloc()ed page, or -errno. Pure but for the
 * dataplane's read_counter: the unit test gives it a dataplane of its own.
 */
int dm_render(const struct dm_snapshot *s, const struct dm_live *live, __u64 now, char **page,
	      size_t *len);

struct detourd;
/* Before the privilege drop: bind metrics_listen (nothing if it is not set). 0 or -errno. */
int detourd_metrics__open(struct detourd *d);
/* After it: the HTTP thread, SCHED_OTHER, with CAP_BPF only (counters are map reads). */
int detourd_metrics__start(struct detourd *d);
/* On every wake-up of the event loop; cheap unless it is time to publish. */
void detourd_metrics__publish(struct detourd *d, __u64 now);
void detourd_metrics__stop(struct detourd *d);

#endif /* DT_DETOURD_METRICS_H */
