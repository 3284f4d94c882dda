/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pass 2: raw values into struct dt_config, with the defaults docs/config.md lists. A value that
 * does not parse is reported and leaves its default in place, so later checks do not cascade.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dt_names.h"
#include "config_internal.h"

#define MS 1000000ull
#define TIMER_MAX_NS (3600000 * MS) /* one hour: anything longer is a typo */
#define INTERVAL_MAX_NS (10000 * MS)
#define MULTIPLIER_MIN 2 /* one lost datagram must not fail a site */
#define MULTIPLIER_MAX 100
#define FLOW_TABLE_MIN 1024u
#define FLOW_TABLE_MAX (1u << 24)
#define MTU_MIN 576
#define MTU_MIN_V6 1280 /* RFC 8200: an IPv6 outer header needs a link of at least this */
#define WEIGHT_MAX 1000000u

static bool present(const struct cfg_raw *rv)
{
	return rv->text && rv->text[0];
}

static const char *what(char buf[96], const char *ctx, const char *key)
{
	snprintf(buf, 96, "%s%s", ctx, key);
	return buf;
}

static void set_defaults(struct dt_config *c)
{
	c->xdp_mode = DT_CONFIG_XDP_NATIVE;
	strcpy(c->key_file, "/etc/detour/detour.keys");
	c->interval_ns = 5 * MS;
	c->multiplier = 3;
	c->hold_down_ns = 1000 * MS;
	c->recovery_timeout_ns = 30000 * MS;
	c->flow_idle_ns = 10000 * MS;
	c->blackout_hold_ns = 1000 * MS;
	c->flow_table_size = DT_FLOW_TABLE_DEFAULT;
	strcpy(c->control_socket, "/run/detour/detourd.sock");
	strcpy(c->pin_root, DT_PIN_ROOT_DEFAULT);
	strcpy(c->event_log, "-");
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

static void build_interfaces(struct cfg_parser *p, const struct cfg_raw *rv)
{
	struct dt_config *c = p->cfg;
	const char *s = rv->text;
	char tok[64];
	int n;

	while ((n = cfg_token(&s, tok, sizeof(tok))) != 0) {
		/* A token too long for tok arrives truncated, still far too long for a name. */
		if (cfg_check_ifname(p, rv->line, "interfaces", tok))
			continue;
		for (unsigned int i = 0; i < c->n_interfaces; i++)
			if (!strcmp(c->interfaces[i], tok))
				n = -1;
		if (n < 0)
			cfg_error(p, rv->line, "interfaces: \"%s\" is listed twice", tok);
		else if (c->n_interfaces == DT_CONFIG_MAX_INTERFACES)
			cfg_error(p, rv->line, "interfaces: more than %d",
				  DT_CONFIG_MAX_INTERFACES);
		else
			strcpy(c->interfaces[c->n_interfaces++], tok);
	}
}

static bool listen_same(const struct dt_config_listen *a, const struct dt_config_listen *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->addr, b->addr, 16);
}

static void build_listen(struct cfg_parser *p, const struct cfg_raw *rv)
{
	struct dt_config *c = p->cfg;
	struct dt_config_listen l;
	const char *s = rv->text;
	char tok[DT_CONFIG_LISTEN_SPEC_MAX + 1];
	int n;

	while ((n = cfg_token(&s, tok, sizeof(tok))) != 0) {
		if (cfg_parse_listen(p, rv->line, tok, &l))
			continue;
		for (unsigned int i = 0; i < c->n_listen; i++)
			if (listen_same(&c->listen[i], &l))
				n = -1;
		if (n < 0)
			cfg_error(p, rv->line, "heartbeat_listen: \"%s\" is listed twice", tok);
		else if (c->n_listen == DT_CONFIG_MAX_LISTEN)
			cfg_error(p, rv->line, "heartbeat_listen: more than %d addresses",
				  DT_CONFIG_MAX_LISTEN);
		else
			c->listen[c->n_listen++] = l;
	}
}

static void build_group(struct cfg_parser *p, const struct cfg_raw *rv)
{
	struct group gr, *found = NULL;
	char buf[4096];

	if (strlen(rv->text) >= DT_CONFIG_GROUP_MAX) {
		cfg_error(p, rv->line, "control_group: name longer than %d characters",
			  DT_CONFIG_GROUP_MAX - 1);
		return;
	}
	if (getgrnam_r(rv->text, &gr, buf, sizeof(buf), &found) || !found) {
		cfg_error(p, rv->line, "control_group: no group \"%s\" on this system", rv->text);
		return;
	}
	strcpy(p->cfg->control_group, rv->text);
	p->cfg->control_gid = found->gr_gid;
}

static void build_paths(struct cfg_parser *p)
{
	struct dt_config *c = p->cfg;
	const struct cfg_raw *g = p->global;

	if (present(&g[GK_KEY_FILE]))
		cfg_copy_path(p, &g[GK_KEY_FILE], "key_file", c->key_file, sizeof(c->key_file));
	if (present(&g[GK_CONTROL_SOCKET]))
		cfg_copy_path(p, &g[GK_CONTROL_SOCKET], "control_socket", c->control_socket,
			      sizeof(c->control_socket));
	if (present(&g[GK_PIN_ROOT]))
		cfg_copy_path(p, &g[GK_PIN_ROOT], "pin_root", c->pin_root, sizeof(c->pin_root));
	if (present(&g[GK_EVENT_LOG]) && strcmp(g[GK_EVENT_LOG].text, "-"))
		cfg_copy_path(p, &g[GK_EVENT_LOG], "event_log", c->event_log, sizeof(c->event_log));
	if (present(&g[GK_CONTROL_GROUP]))
		build_group(p, &g[GK_CONTROL_GROUP]);
}

/* hash_seed: decimal or 0x-hexadecimal, all 64 bits. */
static void build_seed(struct cfg_parser *p, const struct cfg_raw *rv)
{
	const char *s = rv->text;
	char *end;
	uint64_t v;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) {
		if (!cfg_parse_u64(p, rv, "hash_seed", 0, UINT64_MAX, &v))
			p->cfg->hash_seed = v;
		return;
	}
	errno = 0;
	v = strtoull(s + 2, &end, 16);
	/* strtoull() would accept a sign or blanks after "0x"; a seed is hex digits only. */
	if (!isxdigit((unsigned char)s[2]) || errno || *end) {
		cfg_error(p, rv->line, "hash_seed: \"%s\" is not a 64-bit number", s);
		return;
	}
	p->cfg->hash_seed = v;
}

static void build_scalars(struct cfg_parser *p)
{
	const struct cfg_raw *g = p->global;
	struct dt_config *c = p->cfg;
	unsigned int mode;
	uint64_t v;

	if (present(&g[GK_XDP_MODE]) &&
	    !cfg_parse_enum(p, &g[GK_XDP_MODE], "xdp_mode", dt_xdp_mode_names,
			    DT_XDP_MODE_VALUE_MAX, &mode))
		c->xdp_mode = (enum dt_config_xdp_mode)mode;
	if (present(&g[GK_FLOW_TABLE_SIZE]) &&
	    !cfg_parse_u64(p, &g[GK_FLOW_TABLE_SIZE], "flow_table_size", FLOW_TABLE_MIN,
			   FLOW_TABLE_MAX, &v))
		c->flow_table_size = (uint32_t)v;
	if (present(&g[GK_FLOW_IDLE_MS]))
		/* last_seen is refreshed only every DT_FLOW_REFRESH_NS: shorter would misjudge. */
		cfg_parse_ms(p, &g[GK_FLOW_IDLE_MS], "flow_idle_ms", DT_FLOW_REFRESH_NS,
			     TIMER_MAX_NS, &c->flow_idle_ns);
	if (present(&g[GK_BLACKOUT_HOLD_MS]))
		cfg_parse_ms(p, &g[GK_BLACKOUT_HOLD_MS], "blackout_hold_ms", 0, TIMER_MAX_NS,
			     &c->blackout_hold_ns);
	if (present(&g[GK_PHI_THRESHOLD]))
		cfg_parse_decimal(p, &g[GK_PHI_THRESHOLD], "phi_threshold", 0, 16,
				  &c->phi_threshold);
	if (present(&g[GK_HASH_SEED]))
		build_seed(p, &g[GK_HASH_SEED]);
	build_paths(p);
}

/* The four detector timers of the [detour] section or of one site, and the lines they came from. */
struct cfg_timers {
	uint64_t interval_ns, hold_down_ns, recovery_ns, multiplier;
	unsigned int line; /* the last of the lines they were set on; 0 if all are defaults */
};

static void timers_parse(struct cfg_parser *p, const struct cfg_raw *raw[4], const char *ctx,
			 struct cfg_timers *t)
{
	static const char *const names[] = { "interval_ms", "multiplier", "hold_down_ms",
					     "recovery_timeout_ms" };
	uint64_t *dst[] = { &t->interval_ns, &t->multiplier, &t->hold_down_ns, &t->recovery_ns };
	char w[96];

	for (int i = 0; i < 4; i++) {
		if (!present(raw[i]))
			continue;
		if (raw[i]->line > t->line)
			t->line = raw[i]->line;
		if (i == 1)
			cfg_parse_u64(p, raw[i], what(w, ctx, names[i]), MULTIPLIER_MIN,
				      MULTIPLIER_MAX, dst[i]);
		else
			cfg_parse_ms(p, raw[i], what(w, ctx, names[i]), 1 * MS,
				     i == 0 ? INTERVAL_MAX_NS : TIMER_MAX_NS, dst[i]);
	}
}

static void timers_check(struct cfg_parser *p, const char *ctx, const struct cfg_timers *t)
{
	char a[32], b[32];

	if (t->hold_down_ns < t->interval_ns * t->multiplier)
		cfg_error(p, t->line,
			  "%shold_down_ms %s is shorter than interval_ms x multiplier = %s ms, the "
			  "time it takes to notice a loss",
			  ctx, cfg_fmt_ms(t->hold_down_ns, a),
			  cfg_fmt_ms(t->interval_ns * t->multiplier, b));
	if (t->recovery_ns < t->hold_down_ns)
		cfg_error(p, t->line, "%srecovery_timeout_ms %s is shorter than hold_down_ms %s",
			  ctx, cfg_fmt_ms(t->recovery_ns, a), cfg_fmt_ms(t->hold_down_ns, b));
}

static void build_global_timers(struct cfg_parser *p, struct cfg_timers *t)
{
	const struct cfg_raw *raw[4] = { &p->global[GK_INTERVAL_MS], &p->global[GK_MULTIPLIER],
					 &p->global[GK_HOLD_DOWN_MS],
					 &p->global[GK_RECOVERY_TIMEOUT_MS] };
	struct dt_config *c = p->cfg;

	*t = (struct cfg_timers){ c->interval_ns, c->hold_down_ns, c->recovery_timeout_ns,
				  c->multiplier, 0 };
	timers_parse(p, raw, "", t);
	timers_check(p, "", t);
	c->interval_ns = t->interval_ns;
	c->multiplier = (uint32_t)t->multiplier;
	c->hold_down_ns = t->hold_down_ns;
	c->recovery_timeout_ns = t->recovery_ns;
}

/* A site inherits the [detour] timers; only a site that overrides one is checked again. */
static void build_site_timers(struct cfg_parser *p, struct cfg_raw_site *rs,
			      struct dt_config_site *s, const char *ctx,
			      const struct cfg_timers *global)
{
	const struct cfg_raw *raw[4] = { &rs->key[SK_INTERVAL_MS], &rs->key[SK_MULTIPLIER],
					 &rs->key[SK_HOLD_DOWN_MS],
					 &rs->key[SK_RECOVERY_TIMEOUT_MS] };
	struct cfg_timers t = *global;
	unsigned int before = p->n_errors;

	t.line = 0;
	timers_parse(p, raw, ctx, &t);
	if (t.line && p->n_errors == before) {
		t.line = t.line > global->line ? t.line : global->line;
		timers_check(p, ctx, &t);
	}
	s->interval_ns = t.interval_ns;
	s->multiplier = (uint32_t)t.multiplier;
	s->hold_down_ns = t.hold_down_ns;
	s->recovery_timeout_ns = t.recovery_ns;
}

static void build_site_tunnel(struct cfg_parser *p, struct cfg_raw_site *rs,
			      struct dt_config_site *s, const char *ctx)
{
	struct cfg_raw *remote = &rs->key[SK_TUNNEL_REMOTE], *local = &rs->key[SK_TUNNEL_LOCAL];
	uint8_t local_family = 0;
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
	if (!have_remote || !have_local)
		return;
	if (cfg_parse_addr(remote->text, &s->tunnel_family, s->tunnel_remote))
		cfg_error(p, remote->line, "%stunnel_remote: \"%s\" is not an IPv4 or IPv6 address",
			  ctx, remote->text);
	else if (cfg_parse_addr(local->text, &local_family, s->tunnel_local))
		cfg_error(p, local->line, "%stunnel_local: \"%s\" is not an IPv4 or IPv6 address",
			  ctx, local->text);
	else if (local_family != s->tunnel_family)
		cfg_error(p, local->line,
			  "%stunnel_local %s is IPv%u but tunnel_remote %s (line %u) is IPv%u", ctx,
			  local->text, local_family, remote->text, remote->line, s->tunnel_family);
}

static void build_site_port(struct cfg_parser *p, struct cfg_raw_site *rs, struct dt_config_site *s,
			    const char *ctx)
{
	struct cfg_raw *k = rs->key;
	uint64_t mtu = 1500;
	char w[96];

	if (required(p, &k[SK_INTERFACE], rs->line, ctx, "interface") &&
	    !cfg_check_ifname(p, k[SK_INTERFACE].line, what(w, ctx, "interface"),
			      k[SK_INTERFACE].text))
		strcpy(s->interface, k[SK_INTERFACE].text);
	if (required(p, &k[SK_NEXT_HOP_MAC], rs->line, ctx, "next_hop_mac"))
		cfg_parse_mac(p, &k[SK_NEXT_HOP_MAC], what(w, ctx, "next_hop_mac"),
			      s->next_hop_mac);
	if (present(&k[SK_SOURCE_MAC]))
		s->has_source_mac = !cfg_parse_mac(p, &k[SK_SOURCE_MAC], what(w, ctx, "source_mac"),
						   s->source_mac);
	if (present(&k[SK_MTU]))
		cfg_parse_u64(p, &k[SK_MTU], what(w, ctx, "mtu"), MTU_MIN, 65535, &mtu);
	s->mtu = (uint16_t)mtu;
	if (s->tunnel_family == DT_FAMILY_V6 && s->mtu < MTU_MIN_V6)
		cfg_error(p, k[SK_MTU].line ? k[SK_MTU].line : rs->line,
			  "%smtu %u is below %d, the least an IPv6 tunnel needs", ctx, s->mtu,
			  MTU_MIN_V6);
}

static void build_site(struct cfg_parser *p, unsigned int i, const struct cfg_timers *timers)
{
	struct cfg_raw_site *rs = &p->site[i];
	struct dt_config_site *s = &p->cfg->sites[i];
	unsigned int delivery;
	uint64_t id;
	char ctx[DT_SITE_NAME_MAX + 16], w[96];

	snprintf(ctx, sizeof(ctx), "site \"%s\": ", rs->name);
	strcpy(s->name, rs->name);
	s->line = rs->line;
	s->id = DT_SITE_NONE;
	if (required(p, &rs->key[SK_ID], rs->line, ctx, "id") &&
	    !cfg_parse_u64(p, &rs->key[SK_ID], what(w, ctx, "id"), 0, DT_MAX_SITES - 1, &id)) {
		s->id = (uint16_t)id;
		rs->id_valid = true;
	}
	if (required(p, &rs->key[SK_DELIVERY], rs->line, ctx, "delivery") &&
	    !cfg_parse_enum(p, &rs->key[SK_DELIVERY], what(w, ctx, "delivery"),
			    dt_delivery_names + DT_DELIVERY_ROUTE, 2, &delivery))
		s->delivery = (uint8_t)(DT_DELIVERY_ROUTE + delivery);
	build_site_tunnel(p, rs, s, ctx);
	build_site_port(p, rs, s, ctx);
	build_site_timers(p, rs, s, ctx, timers);
}

static void check_site_ids(struct cfg_parser *p)
{
	for (unsigned int i = 0; i < p->n_sites; i++) {
		for (unsigned int j = 0; j < i && p->site[i].id_valid; j++) {
			if (!p->site[j].id_valid || p->cfg->sites[j].id != p->cfg->sites[i].id)
				continue;
			cfg_error(p, p->site[i].key[SK_ID].line,
				  "site \"%s\": id %u is already used by site \"%s\" (line %u)",
				  p->site[i].name, p->cfg->sites[i].id, p->site[j].name,
				  p->site[j].key[SK_ID].line);
			break;
		}
	}
}

static void build_global(struct cfg_parser *p, struct cfg_timers *timers)
{
	const struct cfg_raw *g = p->global;

	if (!p->detour_line)
		cfg_error(p, 0,
			  "no [detour] section (it must name at least interfaces and "
			  "heartbeat_listen)");
	else if (required(p, &g[GK_INTERFACES], p->detour_line, "[detour]: ", "interfaces"))
		build_interfaces(p, &g[GK_INTERFACES]);
	if (p->detour_line &&
	    required(p, &g[GK_HEARTBEAT_LISTEN], p->detour_line, "[detour]: ", "heartbeat_listen"))
		build_listen(p, &g[GK_HEARTBEAT_LISTEN]);
	build_scalars(p);
	build_global_timers(p, timers);
}

void cfg_build(struct cfg_parser *p)
{
	struct cfg_timers timers;

	set_defaults(p->cfg);
	build_global(p, &timers);
	for (unsigned int i = 0; i < p->n_sites; i++)
		build_site(p, i, &timers);
	p->cfg->n_sites = p->n_sites;
	if (!p->n_sites)
		cfg_error(p, 0, "no [site NAME] section: there is nothing to steer traffic to");
	check_site_ids(p);
	for (unsigned int i = 0; i < p->n_sites; i++)
		cfg_check_failover(p, i);
	cfg_check_prefixes(p);
}
