/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pass 2: raw values into struct dt_config, driven by the key table (config_keys.c): every
 * row's default, then every value the file gives, through the row's parser. A value that does
 * not parse is reported and leaves its default in place, so later checks do not cascade. Then
 * the rules that tie keys together: the detector timers, the tunnel, the MTU, unique site ids.
 */
#include <string.h>

#include "dt_names.h"
#include "config_internal.h"

#define MTU_MIN_V6 1280 /* RFC 8200: an IPv6 outer header needs a link of at least this */

static bool present(const struct cfg_raw *rv)
{
	return rv->text && rv->text[0];
}

static bool required(struct cfg_parser *p, const struct cfg_raw *rv, unsigned int section_line,
		     const char *ctx, const char *key)
{
	if (present(rv))
		return true;
	if (rv->text)
		cfg_error(p, rv->line, "%s%s: no value", ctx, key);
	else
		cfg_error(p, section_line, "%smissing required key \"%s\"", ctx, key);
	return false;
}

/* The values one section gives. @phase: rows with CFG_REFERS (1) or without (0). */
struct cfg_section_values {
	enum cfg_section section;
	const struct cfg_raw *raw;
	void *base; /* struct dt_config or struct dt_config_site */
	unsigned int line, site; /* of the header; the site's index */
	const char *ctx, *required_ctx;
};

static void build_section(struct cfg_parser *p, const struct cfg_section_values *v,
			  unsigned int phase)
{
	for (size_t i = 0; i < cfg_keys.n; i++) {
		const struct conf_key_row *k = &cfg_keys.rows[i];
		const struct cfg_raw *rv = &v->raw[i];
		struct cfg_where w;

		if (!(k->sections & (1u << v->section)) || !!(k->flags & CFG_REFERS) != phase)
			continue;
		if (!present(rv)) {
			if (k->flags & CONF_REQUIRED)
				required(p, rv, v->line, v->required_ctx, k->name);
			continue;
		}
		cfg_where__init(&w, p, rv->line, v->ctx);
		w.site = v->site;
		k->parse(k, rv->text, v->base, &w.report);
	}
}

/* The four detector timers of the [detour] section or of one site, and the lines they came from. */
struct cfg_timers {
	uint64_t interval_ns, hold_down_ns, recovery_ns, multiplier;
	unsigned int line; /* the last of the lines they were set on; 0 if all are defaults */
};

static unsigned int timers_line(const struct cfg_raw *raw, enum cfg_section section)
{
	static const char *const names[] = { "interval_ms", "multiplier", "hold_down_ms",
					     "recovery_timeout_ms" };
	unsigned int line = 0;

	for (int i = 0; i < 4; i++) {
		const struct cfg_raw *rv = &raw[cfg_key(section, names[i])];

		if (present(rv) && rv->line > line)
			line = rv->line;
	}
	return line;
}

static void timers_check(struct cfg_parser *p, const char *ctx, const struct cfg_timers *t)
{
	char a[32], b[32];

	if (t->hold_down_ns < t->interval_ns * t->multiplier)
		cfg_error(p, t->line,
			  "%shold_down_ms %s is shorter than interval_ms x multiplier = %s ms, the "
			  "time it takes to notice a loss",
			  ctx, conf_fmt_ms(t->hold_down_ns, a),
			  conf_fmt_ms(t->interval_ns * t->multiplier, b));
	if (t->recovery_ns < t->hold_down_ns)
		cfg_error(p, t->line, "%srecovery_timeout_ms %s is shorter than hold_down_ms %s",
			  ctx, conf_fmt_ms(t->recovery_ns, a), conf_fmt_ms(t->hold_down_ns, b));
}

static unsigned int key_line(const struct cfg_raw *raw, enum cfg_section section, const char *name)
{
	const struct cfg_raw *rv = &raw[cfg_key(section, name)];

	return present(rv) ? rv->line : 0;
}

/* Damping that could never release a site, or never suppress one, is refused. */
static void damping_check(struct cfg_parser *p, const char *ctx, uint64_t hold_down_ns,
			  unsigned int line)
{
	const struct dt_config_damping *d = &p->cfg->damping;
	char a[32], b[32];

	if (!d->penalty_per_flap)
		return;
	if (d->reuse_threshold >= d->suppress_threshold)
		cfg_error(p, key_line(p->global, SEC_DETOUR, "damping_reuse"),
			  "damping_reuse %u must be below damping_suppress %u", d->reuse_threshold,
			  d->suppress_threshold);
	if (d->max_hold_down_ns < hold_down_ns)
		cfg_error(p, line, "%sdamping_max_hold_down_ms %s is shorter than hold_down_ms %s",
			  ctx, conf_fmt_ms(d->max_hold_down_ns, a), conf_fmt_ms(hold_down_ns, b));
}

static void build_global(struct cfg_parser *p, struct cfg_timers *t)
{
	const struct cfg_section_values v = { SEC_DETOUR, p->global, p->cfg,	  p->detour_line,
					      0,	  "",	     "[detour]: " };
	struct dt_config *c = p->cfg;

	if (!p->detour_line)
		cfg_error(p, 0,
			  "no [detour] section (it must name at least interfaces and "
			  "heartbeat_listen)");
	else
		build_section(p, &v, 0);
	*t = (struct cfg_timers){ c->interval_ns, c->hold_down_ns, c->recovery_timeout_ns,
				  c->multiplier, timers_line(p->global, SEC_DETOUR) };
	timers_check(p, "", t);
	damping_check(p, "", c->hold_down_ns,
		      key_line(p->global, SEC_DETOUR, "damping_max_hold_down_ms") ?: t->line);
}

/* A site inherits the [detour] timers; only a site that overrides one is checked again. */
static void site_timers_check(struct cfg_parser *p, unsigned int i, const char *ctx,
			      const struct cfg_timers *global, unsigned int errors_before)
{
	const struct dt_config_site *s = &p->cfg->sites[i];
	struct cfg_timers t = { s->interval_ns, s->hold_down_ns, s->recovery_timeout_ns,
				s->multiplier, timers_line(p->site[i].key, SEC_SITE) };

	if (!t.line || p->n_errors != errors_before)
		return;
	t.line = t.line > global->line ? t.line : global->line;
	timers_check(p, ctx, &t);
	if (p->cfg->damping.penalty_per_flap && p->cfg->damping.max_hold_down_ns < s->hold_down_ns)
		cfg_error(p, t.line, "%shold_down_ms %s is longer than damping_max_hold_down_ms %s",
			  ctx, conf_fmt_ms(s->hold_down_ns, (char[32]){ 0 }),
			  conf_fmt_ms(p->cfg->damping.max_hold_down_ns, (char[32]){ 0 }));
}

/* tunnel_remote and tunnel_local: both for ipip, neither for route, of one family. */
static void site_tunnel_check(struct cfg_parser *p, unsigned int i, const char *ctx)
{
	const struct cfg_raw_site *rs = &p->site[i];
	const struct cfg_raw *remote = &rs->key[cfg_key(SEC_SITE, "tunnel_remote")];
	const struct cfg_raw *local = &rs->key[cfg_key(SEC_SITE, "tunnel_local")];
	const struct dt_config_site *s = &p->cfg->sites[i];
	bool have_remote, have_local;

	if (s->delivery != DT_DELIVERY_IPIP) {
		if (present(remote) || present(local))
			cfg_error(p, present(remote) ? remote->line : local->line,
				  "%stunnel_remote and tunnel_local are for delivery = ipip only",
				  ctx);
		return;
	}
	/* Both, so that a site missing both keys hears of both at once. */
	have_remote = required(p, remote, rs->line, ctx, "tunnel_remote");
	have_local = required(p, local, rs->line, ctx, "tunnel_local");
	if (have_remote && have_local && s->tunnel_family && s->tunnel_local_family &&
	    s->tunnel_local_family != s->tunnel_family)
		cfg_error(p, local->line,
			  "%stunnel_local %s is IPv%u but tunnel_remote %s (line %u) is IPv%u", ctx,
			  local->text, s->tunnel_local_family, remote->text, remote->line,
			  s->tunnel_family);
}

static void site_mtu_check(struct cfg_parser *p, unsigned int i, const char *ctx)
{
	const struct cfg_raw *mtu = &p->site[i].key[cfg_key(SEC_SITE, "mtu")];
	const struct dt_config_site *s = &p->cfg->sites[i];

	if (s->tunnel_family == DT_FAMILY_V6 && s->mtu < MTU_MIN_V6)
		cfg_error(p, mtu->line ? mtu->line : p->site[i].line,
			  "%smtu %u is below %d, the least an IPv6 tunnel needs", ctx, s->mtu,
			  MTU_MIN_V6);
}

/* min_supplies counts beacons on mains: a site cannot need more than it has. */
static void site_beacons_check(struct cfg_parser *p, unsigned int i, const char *ctx)
{
	const struct dt_config_site *s = &p->cfg->sites[i];
	unsigned int n = (unsigned int)__builtin_popcount(s->beacons);

	if (s->min_supplies > n)
		cfg_error(p, key_line(p->site[i].key, SEC_SITE, "min_supplies") ?: p->site[i].line,
			  "%smin_supplies %u is more than the site's %u beacon%s", ctx,
			  s->min_supplies, n, n == 1 ? "" : "s");
}

static void site_values(const struct cfg_parser *p, unsigned int i, const char *ctx,
			struct cfg_section_values *v)
{
	*v = (struct cfg_section_values){
		SEC_SITE, p->site[i].key, &p->cfg->sites[i], p->site[i].line, i, ctx, ctx
	};
}

static void build_site(struct cfg_parser *p, unsigned int i, const struct cfg_timers *timers)
{
	struct cfg_raw_site *rs = &p->site[i];
	struct dt_config_site *s = &p->cfg->sites[i];
	unsigned int before = p->n_errors;
	struct cfg_section_values v;
	char ctx[DT_SITE_NAME_MAX + 16];
	struct cfg_where w;

	snprintf(ctx, sizeof(ctx), "site \"%s\": ", rs->name);
	strcpy(s->name, rs->name);
	s->line = rs->line;
	s->id = DT_SITE_NONE;
	s->interval_ns = timers->interval_ns;
	s->multiplier = (uint32_t)timers->multiplier;
	s->hold_down_ns = timers->hold_down_ns;
	s->recovery_timeout_ns = timers->recovery_ns;
	cfg_where__init(&w, p, rs->line, ctx);
	conf_table__defaults(&cfg_keys, SEC_SITE, s, &w.report);
	site_values(p, i, ctx, &v);
	build_section(p, &v, 0);
	site_tunnel_check(p, i, ctx);
	site_mtu_check(p, i, ctx);
	site_timers_check(p, i, ctx, timers, before);
	site_beacons_check(p, i, ctx);
}

static void check_site_ids(struct cfg_parser *p)
{
	unsigned int id_key = cfg_key(SEC_SITE, "id");

	for (unsigned int i = 0; i < p->n_sites; i++) {
		for (unsigned int j = 0; j < i && p->site[i].id_valid; j++) {
			if (!p->site[j].id_valid || p->cfg->sites[j].id != p->cfg->sites[i].id)
				continue;
			cfg_error(p, p->site[i].key[id_key].line,
				  "site \"%s\": id %u is already used by site \"%s\" (line %u)",
				  p->site[i].name, p->cfg->sites[i].id, p->site[j].name,
				  p->site[j].key[id_key].line);
			break;
		}
	}
}

/* The keys that name other sites, once every site's id is known. */
static void build_references(struct cfg_parser *p)
{
	for (unsigned int i = 0; i < p->n_sites; i++) {
		struct cfg_section_values v;
		char ctx[DT_SITE_NAME_MAX + 16];

		snprintf(ctx, sizeof(ctx), "site \"%s\": ", p->site[i].name);
		site_values(p, i, ctx, &v);
		build_section(p, &v, 1);
	}
}

void cfg_build(struct cfg_parser *p)
{
	struct cfg_timers timers;
	struct cfg_where w;

	cfg_where__init(&w, p, 0, "");
	conf_table__defaults(&cfg_keys, SEC_DETOUR, p->cfg, &w.report);
	build_global(p, &timers);
	for (unsigned int i = 0; i < p->n_sites; i++)
		build_site(p, i, &timers);
	p->cfg->n_sites = p->n_sites;
	if (!p->n_sites)
		cfg_error(p, 0, "no [site NAME] section: there is nothing to steer traffic to");
	check_site_ids(p);
	build_references(p);
	cfg_check_prefixes(p);
}
