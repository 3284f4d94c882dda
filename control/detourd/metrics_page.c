// SPDX-License-Identifier: GPL-2.0-only
/*
 * The /metrics page: every family, from a snapshot and the dataplane's counters (metrics.h),
 * written with metrics_text.c. Pure but for read_counter, so the unit test renders it with a
 * dataplane of its own. docs/metrics.md lists the families; a new one is a function here.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/dataplane.h"
#include "dt_names.h"
#include "metrics.h"
#include "metrics_text.h"

/* ---- histograms ------------------------------------------------------------------------------ */

/*
 * Detection: from the failure (or the cause taking effect) to the decision; the DOWN of a power
 * cut is interval x multiplier plus the daemon's lateness. Doubling from 1 ms, so that no bound
 * sits on a usual detection time (15 ms, 100 ms), which every DOWN would then just exceed.
 */
const double dm_detect_le[] = { 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064,
				0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192 };
const unsigned int dm_detect_n = sizeof(dm_detect_le) / sizeof(dm_detect_le[0]);
/* Apply: from the decision to the dataplane having it (one map write, or a table publish). */
const double dm_apply_le[] = { 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
			       0.001,	 0.0025,  0.005,    0.01,    0.025,  0.1 };
const unsigned int dm_apply_n = sizeof(dm_apply_le) / sizeof(dm_apply_le[0]);

_Static_assert(sizeof(dm_detect_le) / sizeof(dm_detect_le[0]) <= DM_BUCKETS_MAX, "buckets");
_Static_assert(sizeof(dm_apply_le) / sizeof(dm_apply_le[0]) <= DM_BUCKETS_MAX, "buckets");

void dm_hist_observe(struct dm_hist *h, const double *le, unsigned int n, double v)
{
	unsigned int i;

	for (i = 0; i < n && v > le[i]; i++)
		;
	if (i < n)
		h->bucket[i]++;
	h->count++;
	h->sum += v;
}

/* ---- the page ------------------------------------------------------------------------------ */

/* What the packet path did with a packet counted under @reason; NULL: an event, not a packet. */
static const char *reason_verdict(unsigned int reason)
{
	switch (reason) {
	case DT_REASON_REROUTED_ROUTE:
	case DT_REASON_REROUTED_IPIP:
		return "rerouted";
	case DT_REASON_TOO_BIG_ICMP:
		return "answered";
	case DT_REASON_TOO_BIG_RATE_LIMITED:
	case DT_REASON_TOO_BIG_DROPPED:
		return "dropped";
	case DT_REASON_FLOW_INSERT_FAILED:
	case DT_REASON_MSS_CLAMPED:
	case DT_REASON_FLOW_PROMOTE_LIMITED:
	case DT_REASON_FLOW_EVICTED:
		return NULL;
	default:
		return "passed";
	}
}

struct page {
	struct mt_buf b;
	const struct dm_snapshot *s;
	const struct dm_live *live;
	__u64 now;
};

#define L(...) ((const struct mt_label[]){ __VA_ARGS__, { NULL, NULL } })

static void site_state_family(struct page *p)
{
	mt_family(&p->b, "detour_site_state", MT_GAUGE,
		  "1 for the state each site is in, 0 for the others");
	for (unsigned int i = 0; i < p->s->n_sites; i++)
		for (unsigned int st = 0; st < DT_SITE_STATE_MAX; st++)
			mt_sample_u64(&p->b,
				      L({ "site", p->s->site[i].name },
					{ "state", dt_site_state_name(st) }),
				      p->s->site[i].state == st);
}

static void beacon_families(struct page *p)
{
	char id[4];

	mt_family(&p->b, "detour_beacon_up", MT_GAUGE,
		  "1 if the beacon was heard within its site's detection time, else 0");
	for (unsigned int i = 0; i < p->s->n_sites; i++)
		for (unsigned int b = 0; b < HEALTH_MAX_BEACONS; b++) {
			if (!p->s->site[i].beacon[b].configured)
				continue;
			snprintf(id, sizeof(id), "%u", b);
			mt_sample_u64(&p->b, L({ "site", p->s->site[i].name }, { "beacon", id }),
				      p->s->site[i].beacon[b].live);
		}
	mt_family(
		&p->b, "detour_beacon_last_heartbeat_age_seconds", MT_GAUGE,
		"Seconds since the beacon's last accepted heartbeat (beacons never heard: absent)");
	for (unsigned int i = 0; i < p->s->n_sites; i++)
		for (unsigned int b = 0; b < HEALTH_MAX_BEACONS; b++) {
			__u64 last = p->s->site[i].beacon[b].last_ns;

			if (!p->s->site[i].beacon[b].configured || !last)
				continue;
			snprintf(id, sizeof(id), "%u", b);
			mt_sample(&p->b, L({ "site", p->s->site[i].name }, { "beacon", id }),
				  p->now > last ? (double)(p->now - last) / 1e9 : 0);
		}
}

static void heartbeat_families(struct page *p)
{
	mt_family(&p->b, "detour_site_heartbeats_total", MT_COUNTER,
		  "Heartbeats accepted from the site's beacons");
	for (unsigned int i = 0; i < p->s->n_sites; i++)
		mt_sample_u64(&p->b, L({ "site", p->s->site[i].name }), p->s->site[i].heartbeats);
	mt_family(&p->b, "detour_heartbeats_accepted_total", MT_COUNTER,
		  "Heartbeats that passed the MAC, replay and source checks");
	mt_sample_u64(&p->b, NULL, p->s->hb[HB_OK]);
	mt_family(&p->b, "detour_heartbeats_refused_total", MT_COUNTER,
		  "Heartbeats refused, by reason (docs/heartbeat.md)");
	for (int r = 1; r < HB_REASON_MAX; r++)
		mt_sample_u64(&p->b, L({ "reason", hb_reason_str(r) }), p->s->hb[r]);
}

static void transition_families(struct page *p)
{
	mt_family(&p->b, "detour_site_transitions_total", MT_COUNTER,
		  "Site state changes, by the state entered and the cause");
	for (unsigned int i = 0; i < p->s->n_sites; i++)
		for (unsigned int c = 0; c < HEALTH_CAUSE_MAX; c++)
			for (unsigned int to = 0; to < DT_SITE_STATE_MAX; to++)
				if (p->s->site[i].transitions[c][to])
					mt_sample_u64(&p->b,
						      L({ "site", p->s->site[i].name },
							{ "to", dt_site_state_name(to) },
							{ "cause", health_cause_name(c) }),
						      p->s->site[i].transitions[c][to]);
	mt_family(&p->b, "detour_site_notices_total", MT_COUNTER,
		  "Notices that change no state (beacon_silent, blackout_hold, ...), by cause");
	for (unsigned int i = 0; i < p->s->n_sites; i++)
		for (unsigned int c = 0; c < HEALTH_CAUSE_MAX; c++)
			if (p->s->site[i].notices[c])
				mt_sample_u64(&p->b,
					      L({ "site", p->s->site[i].name },
						{ "cause", health_cause_name(c) }),
					      p->s->site[i].notices[c]);
}

static void histogram_family(struct page *p, const char *name, const char *help, bool apply)
{
	mt_family(&p->b, name, MT_HISTOGRAM, help);
	for (unsigned int i = 0; i < p->s->n_sites; i++)
		for (unsigned int to = DT_SITE_UP; to < DT_SITE_STATE_MAX; to++) {
			const struct dm_hist *h = apply ? &p->s->site[i].apply[to] :
							  &p->s->site[i].detect[to];

			mt_histogram(&p->b,
				     L({ "site", p->s->site[i].name },
				       { "to", dt_site_state_name(to) }),
				     apply ? dm_apply_le : dm_detect_le, h->bucket,
				     apply ? dm_apply_n : dm_detect_n, h->count, h->sum);
		}
}

/* One value per site: a family labelled by site alone. */
struct site_family {
	const char *name;
	enum mt_type type;
	const char *help;
	double (*value)(const struct dm_site *s);
};

static double blackout_holds(const struct dm_site *s)
{
	return (double)s->blackout_holds;
}
static double blackout_held(const struct dm_site *s)
{
	return s->blackout_held;
}
static double flaps(const struct dm_site *s)
{
	return (double)s->flaps;
}
static double penalty(const struct dm_site *s)
{
	return s->penalty;
}
static double suppressed(const struct dm_site *s)
{
	return s->suppressed;
}

static const struct site_family detector_rows[] = {
	{ "detour_site_blackout_holds_total", MT_COUNTER,
	  "Deadlines the blackout guard held because every other site was silent too",
	  blackout_holds },
	{ "detour_site_blackout_held", MT_GAUGE,
	  "1 while the site's deadline is held by the blackout guard", blackout_held },
	{ "detour_site_flaps_total", MT_COUNTER,
	  "Heartbeat-driven DOWNs and bounces, what flap damping counts", flaps },
	{ "detour_site_damping_penalty", MT_GAUGE, "The flap damping penalty", penalty },
	{ "detour_site_suppressed", MT_GAUGE,
	  "1 while damping holds the site down beyond its hold-down", suppressed },
};

static void detector_families(struct page *p)
{
	for (unsigned int f = 0; f < sizeof(detector_rows) / sizeof(detector_rows[0]); f++) {
		const struct site_family *row = &detector_rows[f];

		mt_family(&p->b, row->name, row->type, row->help);
		for (unsigned int i = 0; i < p->s->n_sites; i++)
			mt_sample(&p->b, L({ "site", p->s->site[i].name }),
				  row->value(&p->s->site[i]));
	}
}

/* Every site's row and the no-site row of the dataplane's counters, summed over CPUs/workers. */
struct counter_rows {
	struct dt_counter c[DT_MAX_SITES + 1][DT_REASON_MAX];
	const char *name[DT_MAX_SITES + 1];
	unsigned int n;
	int err;
};

static void read_counters(struct page *p, struct counter_rows *rows)
{
	const struct dt_dataplane *dp = p->live->dp;

	rows->n = 0;
	for (unsigned int i = 0; i <= p->s->n_sites; i++) {
		__u32 site = i < p->s->n_sites ? p->s->site[i].id : DT_SITE_NONE;

		rows->name[rows->n] = i < p->s->n_sites ? p->s->site[i].name : "none";
		for (__u32 r = 0; r < DT_REASON_MAX; r++) {
			struct dt_counter *c = &rows->c[rows->n][r];

			memset(c, 0, sizeof(*c));
			if (dp && dp->ops->read_counter(dp->impl, site, r, c))
				rows->err = -EIO;
		}
		rows->n++;
	}
}

static void packet_families(struct page *p, const struct counter_rows *rows)
{
	__u64 evicted = 0;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		if (!pass)
			mt_family(&p->b, "detour_packets_total", MT_COUNTER,
				  "Packets the dataplane judged, by home site (none: no prefix or "
				  "not IP), reason and verdict; each packet counted once");
		else
			mt_family(&p->b, "detour_bytes_total", MT_COUNTER,
				  "Bytes of the packets of detour_packets_total");
		for (unsigned int i = 0; i < rows->n; i++)
			for (unsigned int r = 0; r < DT_REASON_MAX; r++) {
				const struct dt_counter *c = &rows->c[i][r];

				if (!reason_verdict(r) || !c->packets)
					continue;
				mt_sample_u64(&p->b,
					      L({ "site", rows->name[i] },
						{ "reason", dt_reason_name(r) },
						{ "verdict", reason_verdict(r) }),
					      pass ? c->bytes : c->packets);
			}
	}
	mt_family(&p->b, "detour_dataplane_events_total", MT_COUNTER,
		  "Events the dataplane counts besides a packet's reason (mss_clamped, "
		  "flow_insert_failed, flow_promote_limited, flow_evicted), by home site");
	for (unsigned int i = 0; i < rows->n; i++)
		for (unsigned int r = 0; r < DT_REASON_MAX; r++)
			if (!reason_verdict(r) && rows->c[i][r].packets)
				mt_sample_u64(&p->b,
					      L({ "site", rows->name[i] },
						{ "event", dt_reason_name(r) }),
					      rows->c[i][r].packets);
	for (unsigned int i = 0; i < rows->n; i++)
		evicted += rows->c[i][DT_REASON_FLOW_EVICTED].packets;
	mt_family(&p->b, "detour_flow_table_evictions_total", MT_COUNTER,
		  "Established flows evicted to make room (DPDK engine; the XDP program's LRU "
		  "maps evict inside the kernel uncounted, so 0 there)");
	mt_sample_u64(&p->b, NULL, evicted);
	mt_family(&p->b, "detour_dataplane_read_failed", MT_GAUGE,
		  "1 if reading the dataplane's counters failed on this scrape");
	mt_sample_u64(&p->b, NULL, rows->err != 0);
}

static void flow_families(struct page *p)
{
	const struct dm_live *l = p->live;

	mt_family(&p->b, "detour_flow_table_entries", MT_GAUGE,
		  "Flow-table entries by class, as the recovery scanner counted them on its last "
		  "complete walk");
	mt_sample_u64(&p->b, L({ "class", "established" }), l->flows_established);
	mt_sample_u64(&p->b, L({ "class", "new" }), l->flows_new);
	mt_family(&p->b, "detour_flow_table_count_age_seconds", MT_GAUGE,
		  "Seconds since that walk (+Inf: none yet)");
	mt_sample(&p->b, NULL,
		  l->flows_counted_ns && p->now >= l->flows_counted_ns ?
			  (double)(p->now - l->flows_counted_ns) / 1e9 :
			  INFINITY);
	mt_family(&p->b, "detour_flow_table_size", MT_GAUGE,
		  "flow_table_size of the configuration (XDP: entries of each class's map; DPDK: "
		  "of the one table)");
	mt_sample_u64(&p->b, NULL, p->s->flow_table_size);
	mt_family(&p->b, "detour_flow_walks_partial_total", MT_COUNTER,
		  "Scanner walks cut short by churn, which counted and reported nothing");
	mt_sample_u64(&p->b, NULL, l->partial_walks);
}

static void daemon_families(struct page *p)
{
	mt_family(&p->b, "detour_build_info", MT_GAUGE,
		  "Always 1: the version, the dataplane engine and the policy fingerprint (seed, "
		  "sites, failover lists, prefixes), equal on edges that decide alike");
	mt_sample_u64(&p->b,
		      L({ "version", p->live->version }, { "dataplane", p->live->dataplane },
			{ "policy_fingerprint", p->s->fingerprint }),
		      1);
	mt_family(&p->b, "detour_metrics_snapshot_age_seconds", MT_GAUGE,
		  "Seconds since the event loop published what this page shows");
	mt_sample(&p->b, NULL,
		  p->now > p->s->published_ns ? (double)(p->now - p->s->published_ns) / 1e9 : 0);
	mt_family(&p->b, "detour_metrics_events_missed_total", MT_COUNTER,
		  "Transitions overwritten in the event ring before the metrics took them");
	mt_sample_u64(&p->b, NULL, p->s->events_missed);
}

int dm_render(const struct dm_snapshot *s, const struct dm_live *live, __u64 now, char **page,
	      size_t *len)
{
	struct page p = { .s = s, .live = live, .now = now };
	struct counter_rows *rows = calloc(1, sizeof(*rows));

	if (!rows)
		return -ENOMEM;
	mt_init(&p.b);
	daemon_families(&p);
	site_state_family(&p);
	beacon_families(&p);
	heartbeat_families(&p);
	transition_families(&p);
	histogram_family(&p, "detour_transition_detection_seconds",
			 "Seconds from a site's failure (its last heartbeat, for a timeout) or the "
			 "moment a cause took effect, to the detector's decision; by state entered",
			 false);
	histogram_family(&p, "detour_transition_apply_seconds",
			 "Seconds from the decision to the dataplane having the new state", true);
	detector_families(&p);
	read_counters(&p, rows);
	packet_families(&p, rows);
	flow_families(&p);
	free(rows);
	return mt_finish(&p.b, page, len);
}
