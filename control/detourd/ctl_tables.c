// SPDX-License-Identifier: GPL-2.0-only
/*
 * Control commands over tables: prefixes (read and change), moved flows, counters, events, and
 * what-if (where a site's traffic would go, from its failover slots).
 * A runtime prefix change lives in the dataplane and in the running configuration until the next
 * reload or restart, when the configuration file is the truth again. The listing of moved flows
 * walks the whole flow table, so the recovery scanner's thread does it and the reply is deferred.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dt_names.h"
#include "dt_clock.h"
#include "ctl_proto.h"
#include "dataplane/core/site_state.h"
#include "detourd.h"
#include "dt_log.h"
#include "failover_slots.h"

/* What a site id without a configured site reads as: "-" for none, "?" for an unknown one. */
static const char *unnamed_site(__u32 id)
{
	return id == DT_SITE_NONE || id >= DT_MAX_SITES ? "-" : "?";
}

static const char *site_name(struct detourd *d, __u32 id)
{
	const struct dt_config_site *s =
		id < DT_MAX_SITES ? dt_config__site_by_id(d->cfg, (__u16)id) : NULL;

	return s ? s->name : unnamed_site(id);
}

static void prefix_text(const struct dt_config_prefix *p, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(p->family == DT_FAMILY_V4 ? AF_INET : AF_INET6, p->addr, addr, sizeof(addr));
	snprintf(buf, len, "%s/%u", addr, p->len);
}

DETOURD_CTL_HANDLER(detourd_ctl_prefixes)
{
	struct detourd *d = ctx;
	struct json_object *arr = json_object_new_array();
	unsigned int i;

	for (i = 0; i < d->cfg->n_prefixes; i++) {
		const struct dt_config_prefix *p = &d->cfg->prefixes[i];
		struct json_object *o = json_object_new_object();
		char text[64];

		prefix_text(p, text, sizeof(text));
		json_object_object_add(o, "prefix", json_object_new_string(text));
		json_object_object_add(o, "site",
				       json_object_new_string(site_name(d, p->home_site)));
		json_object_object_add(o, "stateless",
				       json_object_new_boolean(p->flags & DT_PREFIX_F_STATELESS));
		json_object_object_add(o, "tcp_reset",
				       json_object_new_boolean(p->flags & DT_PREFIX_F_TCP_RESET));
		json_object_array_add(arr, o);
	}
	*res = json_object_new_object();
	json_object_object_add(*res, "prefixes", arr);
	return 0;
}

/* "198.18.10.0/24" or "2001:db8::/48": host bits must be zero, as in the configuration file. */
static int parse_prefix(const char *text, struct dt_config_prefix *p, char *err, size_t len)
{
	char buf[64], *slash, *end;
	unsigned long plen;
	unsigned int bit;

	memset(p, 0, sizeof(*p));
	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, p->addr) == 1)
		p->family = DT_FAMILY_V4;
	else if (inet_pton(AF_INET6, buf, p->addr) == 1)
		p->family = DT_FAMILY_V6;
	plen = slash ? strtoul(slash + 1, &end, 10) : 999;
	if (!p->family || !slash || *end || plen > (p->family == DT_FAMILY_V4 ? 32u : 128u)) {
		snprintf(err, len, "\"%s\" is not an IPv4 or IPv6 prefix (ADDRESS/LENGTH)", text);
		return -EINVAL;
	}
	p->len = (__u8)plen;
	for (bit = p->len; bit < (p->family == DT_FAMILY_V4 ? 32u : 128u); bit++)
		if (p->addr[bit / 8] & (0x80 >> (bit % 8))) {
			snprintf(err, len, "prefix \"%s\" has host bits set", text);
			return -EINVAL;
		}
	return 0;
}

static const char *arg_str(struct json_object *args, const char *key)
{
	struct json_object *v;

	if (!args || !json_object_object_get_ex(args, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

DETOURD_CTL_HANDLER(detourd_ctl_prefix_add)
{
	struct detourd *d = ctx;
	const char *text = arg_str(args, "prefix"), *site = arg_str(args, "site");
	const struct dt_config_site *s = site ? dt_config__site_by_name(d->cfg, site) : NULL;
	struct dt_config_prefix p;
	struct json_object *v;
	int ret;

	if (!text || !site)
		return snprintf(err, len, "prefix-add needs \"prefix\" and \"site\""), -EINVAL;
	if (!s)
		return snprintf(err, len, "site \"%s\" is not configured", site), -ENOENT;
	if ((ret = parse_prefix(text, &p, err, len)))
		return ret;
	p.home_site = s->id;
	if (args && json_object_object_get_ex(args, "stateless", &v) && json_object_get_boolean(v))
		p.flags = DT_PREFIX_F_STATELESS;
	if ((ret = dt_config__check_new_prefix(d->cfg, &p, err, len)))
		return ret;
	ret = d->dp.ops->add_prefix(d->dp.impl, p.family, p.addr, p.len,
				    &(struct dt_prefix_info){ .home_site = p.home_site,
							      .flags = p.flags });
	if (ret)
		return snprintf(err, len, "prefix %s: dataplane: %s", text, strerror(-ret)), ret;
	if (dt_config__put_prefix(d->cfg, &p)) { /* the dataplane has it: say what is off */
		dt_log_err("prefix %s: in the dataplane but not listed: out of memory", text);
		return -ENOMEM;
	}
	d->policy_gen++;
	dt_log_info("prefix %s -> site %s%s (control socket)", text, s->name,
		    p.flags ? ", stateless" : "");
	*res = json_object_new_object();
	json_object_object_add(*res, "message", json_object_new_string("prefix added"));
	return 0;
}

DETOURD_CTL_HANDLER(detourd_ctl_prefix_del)
{
	struct detourd *d = ctx;
	const char *text = arg_str(args, "prefix");
	struct dt_config_prefix p;
	int ret;

	if (!text)
		return snprintf(err, len, "prefix-del needs \"prefix\""), -EINVAL;
	if ((ret = parse_prefix(text, &p, err, len)))
		return ret;
	if (!dt_config__find_prefix(d->cfg, &p))
		return snprintf(err, len, "prefix %s is not configured", text), -ENOENT;
	ret = d->dp.ops->del_prefix(d->dp.impl, p.family, p.addr, p.len);
	if (ret && ret != -ENOENT)
		return snprintf(err, len, "prefix %s: dataplane: %s", text, strerror(-ret)), ret;
	dt_config__remove_prefix(d->cfg, &p);
	d->policy_gen++;
	dt_log_info("prefix %s removed (control socket)", text);
	*res = json_object_new_object();
	json_object_object_add(*res, "message", json_object_new_string("prefix removed"));
	return 0;
}

/* ---- flows ------------------------------------------------------------------------------- */

/* A reply is one message: the listing stops short of CTL_MAX_MSG, the count goes on. */
#define FLOWS_LIST_BYTES (CTL_MAX_MSG - 4096)

/* One `flows` request, from the event loop to the scanner thread, which frees it. */
struct flows_job {
	struct detourd_walk_job job; /* first: the scanner hands this back */
	struct ctl_server *ctl;
	__u64 ticket;
	int site; /* -1: all; else only flows whose home or target is this site */
	long limit;
	/* the configured names as of the request: the scanner never reads the configuration */
	char names[DT_MAX_SITES][DT_SITE_NAME_MAX];
	/* the walk's */
	struct json_object *arr;
	long total;
	size_t bytes;
	bool full;
	__u64 now;
};

static const char *job_site_name(const struct flows_job *c, __u32 id)
{
	return id < DT_MAX_SITES && c->names[id][0] ? c->names[id] : unnamed_site(id);
}

static void endpoint(const struct dt_flow_key *k, const __be32 *addr, __be16 port, char *buf,
		     size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(k->family == DT_FAMILY_V4 ? AF_INET : AF_INET6, addr, a, sizeof(a));
	snprintf(buf, len, k->family == DT_FAMILY_V4 ? "%s:%u" : "[%s]:%u", a, ntohs(port));
}

static int visit_flow(const struct dt_flow_key *k, const struct dt_flow_state *v, void *arg)
{
	struct flows_job *c = arg;
	struct json_object *o;
	size_t n = 0;
	char buf[64];

	if (c->site >= 0 && v->home_site != c->site && v->target_site != c->site)
		return 0;
	if (c->total++ >= c->limit || c->full)
		return 0;
	o = json_object_new_object();
	endpoint(k, k->saddr, k->sport, buf, sizeof(buf));
	json_object_object_add(o, "client", json_object_new_string(buf));
	endpoint(k, k->daddr, k->dport, buf, sizeof(buf));
	json_object_object_add(o, "service", json_object_new_string(buf));
	json_object_object_add(o, "proto",
			       json_object_new_string(k->proto == 6		      ? "tcp" :
						      k->proto == 17		      ? "udp" :
						      k->proto == 1 || k->proto == 58 ? "icmp" :
											"other"));
	json_object_object_add(o, "home", json_object_new_string(job_site_name(c, v->home_site)));
	json_object_object_add(o, "target",
			       json_object_new_string(v->flags & DT_FLOW_F_HOME ?
							      job_site_name(c, v->home_site) :
							      job_site_name(c, v->target_site)));
	json_object_object_add(o, "stays_home", json_object_new_boolean(v->flags & DT_FLOW_F_HOME));
	json_object_object_add(
		o, "idle_ms",
		json_object_new_int64(c->now > v->last_seen_ns ?
					      (int64_t)((c->now - v->last_seen_ns) / 1000000) :
					      0));
	json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
	if (c->bytes + n + 1 > FLOWS_LIST_BYTES) {
		json_object_put(o);
		c->full = true;
		return 0;
	}
	c->bytes += n + 1;
	json_object_array_add(c->arr, o);
	return 0;
}

/* On the scanner thread: the walk, the reply, and the job is freed. */
static void flows_run(struct detourd_walk_job *job, struct dt_dataplane *dp)
{
	struct flows_job *c = (struct flows_job *)job;
	struct json_object *res = json_object_new_object();
	int err;

	c->now = dt_mono_ns();
	c->arr = json_object_new_array();
	dp->ops->for_each_flow(dp->impl, visit_flow, c);
	json_object_object_add(res, "flows", c->arr);
	json_object_object_add(res, "total", json_object_new_int64(c->total));
	if ((err = ctl_server__post_reply(c->ctl, c->ticket, 0, NULL, res)))
		dt_log_warn("flows: the reply was lost: %s", strerror(-err));
	free(c);
}

static void flows_drop(struct detourd_walk_job *job)
{
	free(job);
}

DETOURD_CTL_HANDLER(detourd_ctl_flows)
{
	struct detourd *d = ctx;
	const char *site = arg_str(args, "site");
	const struct dt_config_site *s = site ? dt_config__site_by_name(d->cfg, site) : NULL;
	struct flows_job *c;
	struct json_object *v;
	unsigned int i;
	int ret;

	if (site && !s)
		return snprintf(err, len, "site \"%s\" is not configured", site), -ENOENT;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct flows_job){ .job = { .run = flows_run, .drop = flows_drop },
				 .ctl = d->ctl,
				 .site = s ? s->id : -1,
				 .limit = 100 };
	if (args && json_object_object_get_ex(args, "limit", &v))
		c->limit = json_object_get_int64(v);
	for (i = 0; i < d->cfg->n_sites; i++)
		snprintf(c->names[d->cfg->sites[i].id], DT_SITE_NAME_MAX, "%s",
			 d->cfg->sites[i].name);
	c->ticket = ctl_server__defer(d->ctl);
	ret = detourd_recovery__submit(&d->recovery, &c->job);
	if (!ret)
		return CTL_DEFERRED;
	free(c);
	if (ret == -EBUSY)
		snprintf(err, len, "flows: %d listings already wait for the flow table; try again",
			 DETOURD_WALK_JOBS_MAX);
	return ret;
}

/* ---- counters and events ------------------------------------------------------------------ */

static void add_counter_rows(struct detourd *d, struct json_object *arr, __u32 site)
{
	__u32 r;

	for (r = 0; r < DT_REASON_MAX; r++) {
		struct dt_counter c = { 0 };
		struct json_object *o;

		if (d->dp.ops->read_counter(d->dp.impl, site, r, &c) || !c.packets)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "site", json_object_new_string(site_name(d, site)));
		json_object_object_add(o, "reason", json_object_new_string(dt_reason_name(r)));
		json_object_object_add(o, "packets", json_object_new_int64((int64_t)c.packets));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)c.bytes));
		json_object_array_add(arr, o);
	}
}

/* What the heartbeat sockets' kernel filter dropped, by reason (only the reasons it drops for). */
static struct json_object *heartbeat_filter_json(const struct detourd *d, const uint64_t *kernel)
{
	struct json_object *o = json_object_new_object(), *dropped = json_object_new_object();
	unsigned int i;

	json_object_object_add(o, "attached", json_object_new_boolean(d->hb_filter != NULL));
	for (i = 0; i < HB_REASON_MAX; i++)
		if (kernel[i])
			json_object_object_add(dropped, hb_reason_str((int)i),
					       json_object_new_int64((int64_t)kernel[i]));
	json_object_object_add(o, "dropped", dropped);
	return o;
}

/* Kernel arrival to health__heartbeat(), the largest seen and how many took over 1 ms. */
static struct json_object *heartbeat_delay_json(const struct detourd *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "max_us",
			       json_object_new_int64((int64_t)(d->hb_delay_max_ns / 1000)));
	json_object_object_add(o, "over_1ms", json_object_new_int64((int64_t)d->hb_delay_over_1ms));
	return o;
}

DETOURD_CTL_HANDLER(detourd_ctl_stats)
{
	struct detourd *d = ctx;
	struct json_object *arr = json_object_new_array(), *hb = json_object_new_object();
	uint64_t total[HB_REASON_MAX], kernel[HB_REASON_MAX];
	unsigned int i;

	for (i = 0; i < d->cfg->n_sites; i++)
		add_counter_rows(d, arr, d->cfg->sites[i].id);
	add_counter_rows(d, arr, DT_SITE_NONE);
	detourd_heartbeat_counters(d, total, kernel);
	for (i = 0; i < HB_REASON_MAX; i++)
		json_object_object_add(hb, hb_reason_str((int)i),
				       json_object_new_int64((int64_t)total[i]));
	*res = json_object_new_object();
	json_object_object_add(*res, "counters", arr);
	json_object_object_add(*res, "heartbeats", hb);
	json_object_object_add(*res, "heartbeat_filter", heartbeat_filter_json(d, kernel));
	json_object_object_add(*res, "heartbeat_delay", heartbeat_delay_json(d));
	return 0;
}

DETOURD_CTL_HANDLER(detourd_ctl_events)
{
	struct detourd *d = ctx;
	struct json_object *arr = json_object_new_array();
	__u64 first = d->event_seq > DETOURD_EVENT_RING ? d->event_seq - DETOURD_EVENT_RING : 0, i;

	for (i = first; i < d->event_seq; i++)
		json_object_array_add(arr, detourd_event_json(&d->events[i % DETOURD_EVENT_RING]));
	*res = json_object_new_object();
	json_object_object_add(*res, "events", arr);
	return 0;
}

/* ---- what-if ------------------------------------------------------------------------------ */

/*
 * what-if fail|drain SITE: where the site's traffic would go if it were failed or drained now,
 * changing nothing. Its failover slots are computed as apply.c computes them for the dataplane,
 * and each slot's target is picked as the packet path picks it, from every other site's current
 * state (dt_failover_slots__shares()). Other homes that do not keep their own traffic now and
 * have slots on this site would move those slots on: they are listed too.
 */
struct whatif {
	struct detourd *d;
	const struct dt_config_site *site;
	bool fail;
	__u32 now[DT_MAX_SITES]; /* every site's state now */
	__u32 then[DT_MAX_SITES]; /* ... and with the action done */
	struct dt_failover_slots slots;
};

static struct json_object *pct_json(__u32 n)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%.1f", n * 100.0 / DT_FAILOVER_SLOTS);
	return json_object_new_double_s(n * 100.0 / DT_FAILOVER_SLOTS, buf);
}

static struct json_object *share_json(struct whatif *w, __u32 site, __u32 slots)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "site", json_object_new_string(site_name(w->d, site)));
	json_object_object_add(o, "state",
			       json_object_new_string(dt_site_state_name(w->now[site])));
	json_object_object_add(o, "slots", json_object_new_int64(slots));
	json_object_object_add(o, "share_pct", pct_json(slots));
	return o;
}

/* The site's own slots: one row per failover site, in the order of its list. */
static void whatif_own(struct whatif *w, struct json_object *res)
{
	const struct dt_config_site *s = w->site;
	__u32 count[DT_MAX_SITES] = { 0 }, none = DT_FAILOVER_SLOTS;
	struct json_object *arr = json_object_new_array();
	unsigned int i;

	if (s->n_failover && !dt_failover_slots__compute(&w->slots, s->id, s->failover,
							 s->n_failover, w->d->cfg->hash_seed))
		none = dt_failover_slots__shares(&w->slots, s->id, w->then, count);
	for (i = 0; i < s->n_failover; i++) {
		struct json_object *o =
			share_json(w, s->failover[i].site, count[s->failover[i].site]);

		json_object_object_add(o, "weight", json_object_new_int64(s->failover[i].weight));
		json_object_array_add(arr, o);
	}
	json_object_object_add(res, "slots", json_object_new_int(DT_FAILOVER_SLOTS));
	json_object_object_add(res, "targets", arr);
	json_object_object_add(res, "fail_open_slots", json_object_new_int64(none));
	json_object_object_add(res, "fail_open_pct", pct_json(none));
}

/* A home that does not keep its traffic now: its slots on the site, and where they would go. */
static struct json_object *whatif_other(struct whatif *w, const struct dt_config_site *h)
{
	__u32 to[DT_MAX_SITES + 1] = { 0 }, moved = 0, slot, t;
	struct json_object *o, *arr;

	if (h == w->site || !h->n_failover || dt_state_keeps_home(w->now[h->id]) ||
	    dt_failover_slots__compute(&w->slots, h->id, h->failover, h->n_failover,
				       w->d->cfg->hash_seed))
		return NULL;
	for (slot = 0; slot < DT_FAILOVER_SLOTS; slot++) {
		if (dt_failover_slots__target(&w->slots, h->id, slot, w->now) != w->site->id)
			continue;
		t = dt_failover_slots__target(&w->slots, h->id, slot, w->then);
		to[t < DT_MAX_SITES ? t : DT_MAX_SITES]++;
		moved++;
	}
	if (!moved)
		return NULL;
	o = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(o, "home", json_object_new_string(h->name));
	json_object_object_add(o, "home_state",
			       json_object_new_string(dt_site_state_name(w->now[h->id])));
	json_object_object_add(o, "slots", json_object_new_int64(moved));
	for (t = 0; t < DT_MAX_SITES; t++)
		if (to[t])
			json_object_array_add(arr, share_json(w, t, to[t]));
	json_object_object_add(o, "targets", arr);
	json_object_object_add(o, "fail_open_slots", json_object_new_int64(to[DT_MAX_SITES]));
	return o;
}

/* Whether some site other than @site is in a state that @pred accepts. */
static bool whatif_other_site(const struct whatif *w, bool (*pred)(__u32 state))
{
	unsigned int i;

	for (i = 0; i < w->d->cfg->n_sites; i++)
		if (w->d->cfg->sites[i].id != w->site->id && pred(w->now[w->d->cfg->sites[i].id]))
			return true;
	return false;
}

/* The refusal of the real command (health__refuses(), docs/detector.md), or NULL. */
static const char *whatif_refusal(const struct whatif *w)
{
	__u32 st = w->now[w->site->id];

	if (dt_state_takes_new_flows(st) && !whatif_other_site(w, dt_state_takes_new_flows))
		return "no other site takes new flows";
	if (w->fail && dt_state_serves_flows(st) && !whatif_other_site(w, dt_state_serves_flows))
		return "no other site serves flows";
	return NULL;
}

static void whatif_flows_text(const struct whatif *w, struct json_object *res)
{
	char buf[320];

	json_object_object_add(res, "new_flows",
			       json_object_new_string("go to the targets by failover slot"));
	if (w->fail)
		snprintf(
			buf, sizeof(buf),
			"leave %s too, by the same slots (its TCP connections end); flows of other "
			"homes that were moved to %s move on",
			w->site->name, w->site->name);
	else
		snprintf(buf, sizeof(buf),
			 "stay on %s: TCP and the flows in the flow table, and non-TCP flows of "
			 "stateful prefixes seen in the last %d s; stateless prefixes move by slot "
			 "like new flows",
			 w->site->name, DT_SEEN_WINDOW_S);
	json_object_object_add(res, "established_flows", json_object_new_string(buf));
}

DETOURD_CTL_HANDLER(detourd_ctl_whatif)
{
	const char *action = arg_str(args, "action"), *site = arg_str(args, "site"), *refusal;
	struct whatif *w;
	struct json_object *others;
	unsigned int i;

	if (!action || (strcmp(action, "fail") && strcmp(action, "drain")))
		return snprintf(err, len, "what-if needs \"action\": \"fail\" or \"drain\""),
		       -EINVAL;
	if (!site)
		return snprintf(err, len, "what-if needs \"site\""), -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return snprintf(err, len, "what-if: out of memory"), -ENOMEM;
	w->d = ctx;
	w->site = dt_config__site_by_name(w->d->cfg, site);
	if (!w->site) {
		free(w);
		return snprintf(err, len, "site \"%s\" is not configured", site), -ENOENT;
	}
	w->fail = !strcmp(action, "fail");
	for (i = 0; i < w->d->cfg->n_sites; i++) {
		struct health_site_status st = { 0 };
		__u16 id = w->d->cfg->sites[i].id;

		health__site_status(w->d->health, id, &st);
		w->now[id] = w->then[id] = st.state;
	}
	if (!w->fail && w->now[w->site->id] == DT_SITE_DOWN)
		w->then[w->site->id] = DT_SITE_DOWN; /* a drain of a DOWN site changes nothing */
	else
		w->then[w->site->id] = w->fail ? DT_SITE_DOWN : DT_SITE_DRAINING;
	refusal = whatif_refusal(w);
	*res = json_object_new_object();
	json_object_object_add(*res, "site", json_object_new_string(w->site->name));
	json_object_object_add(*res, "action", json_object_new_string(action));
	json_object_object_add(*res, "state",
			       json_object_new_string(dt_site_state_name(w->now[w->site->id])));
	json_object_object_add(*res, "would_be",
			       json_object_new_string(dt_site_state_name(w->then[w->site->id])));
	json_object_object_add(*res, "refused", json_object_new_boolean(refusal != NULL));
	json_object_object_add(*res, "refusal", refusal ? json_object_new_string(refusal) : NULL);
	whatif_flows_text(w, *res);
	whatif_own(w, *res);
	others = json_object_new_array();
	for (i = 0; i < w->d->cfg->n_sites; i++) {
		struct json_object *o = whatif_other(w, &w->d->cfg->sites[i]);

		if (o)
			json_object_array_add(others, o);
	}
	json_object_object_add(*res, "also_moved", others);
	free(w);
	return 0;
}
