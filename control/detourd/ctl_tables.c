// SPDX-License-Identifier: GPL-2.0-only
/*
 * Control commands over tables: prefixes (read and change), moved flows, counters, events.
 * A runtime prefix change lives in the dataplane and in the running configuration until the next
 * reload or restart, when the configuration file is the truth again.
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
#include "detourd.h"
#include "dt_log.h"

static const char *site_name(struct detourd *d, __u32 id)
{
	const struct dt_config_site *s =
		id < DT_MAX_SITES ? dt_config__site_by_id(d->cfg, (__u16)id) : NULL;

	return s ? s->name : id == DT_SITE_NONE || id >= DT_MAX_SITES ? "-" : "?";
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
	dt_log_info("prefix %s removed (control socket)", text);
	*res = json_object_new_object();
	json_object_object_add(*res, "message", json_object_new_string("prefix removed"));
	return 0;
}

/* ---- flows ------------------------------------------------------------------------------- */

struct flows_ctx {
	struct detourd *d;
	struct json_object *arr;
	int site; /* -1: all; else only flows whose home or target is this site */
	long limit;
	long total;
	__u64 now;
};

static void endpoint(const struct dt_flow_key *k, const __be32 *addr, __be16 port, char *buf,
		     size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(k->family == DT_FAMILY_V4 ? AF_INET : AF_INET6, addr, a, sizeof(a));
	snprintf(buf, len, k->family == DT_FAMILY_V4 ? "%s:%u" : "[%s]:%u", a, ntohs(port));
}

static int visit_flow(const struct dt_flow_key *k, const struct dt_flow_state *v, void *arg)
{
	struct flows_ctx *c = arg;
	struct json_object *o;
	char buf[64];

	if (c->site >= 0 && v->home_site != c->site && v->target_site != c->site)
		return 0;
	if (c->total++ >= c->limit)
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
	json_object_object_add(o, "home", json_object_new_string(site_name(c->d, v->home_site)));
	json_object_object_add(o, "target",
			       json_object_new_string(v->flags & DT_FLOW_F_HOME ?
							      site_name(c->d, v->home_site) :
							      site_name(c->d, v->target_site)));
	json_object_object_add(o, "stays_home", json_object_new_boolean(v->flags & DT_FLOW_F_HOME));
	json_object_object_add(
		o, "idle_ms",
		json_object_new_int64(c->now > v->last_seen_ns ?
					      (int64_t)((c->now - v->last_seen_ns) / 1000000) :
					      0));
	json_object_array_add(c->arr, o);
	return 0;
}

DETOURD_CTL_HANDLER(detourd_ctl_flows)
{
	struct flows_ctx c = { .d = ctx, .site = -1, .limit = 100 };
	const char *site = arg_str(args, "site");
	struct json_object *v;

	if (site) {
		const struct dt_config_site *s = dt_config__site_by_name(c.d->cfg, site);

		if (!s)
			return snprintf(err, len, "site \"%s\" is not configured", site), -ENOENT;
		c.site = s->id;
	}
	if (args && json_object_object_get_ex(args, "limit", &v))
		c.limit = json_object_get_int64(v);
	c.now = dt_mono_ns();
	c.arr = json_object_new_array();
	c.d->dp.ops->for_each_flow(c.d->dp.impl, visit_flow, &c);
	*res = json_object_new_object();
	json_object_object_add(*res, "flows", c.arr);
	json_object_object_add(*res, "total", json_object_new_int64(c.total));
	return 0;
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

DETOURD_CTL_HANDLER(detourd_ctl_stats)
{
	struct detourd *d = ctx;
	struct json_object *arr = json_object_new_array(), *hb = json_object_new_object();
	unsigned int i;

	for (i = 0; i < d->cfg->n_sites; i++)
		add_counter_rows(d, arr, d->cfg->sites[i].id);
	add_counter_rows(d, arr, DT_SITE_NONE);
	for (i = 0; i < HB_REASON_MAX; i++)
		json_object_object_add(hb, hb_reason_str((int)i),
				       json_object_new_int64((int64_t)d->rx.counters[i]));
	*res = json_object_new_object();
	json_object_object_add(*res, "counters", arr);
	json_object_object_add(*res, "heartbeats", hb);
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
