/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every key of detourd's [detour] and [site NAME] sections, one row each: docs/config.md says
 * what each means. A key that a running daemon cannot take on SIGHUP is CONF_RESTART; a reload
 * that changes it is refused, naming it (dt_config__reload_blocker()). Rules involving more than
 * one key are in config_build.c and config_check.c; [prefixes] is a list, read by config_check.c.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "dt_names.h"

#define MS CONF_NS_PER_MS
#define TIMER_MAX_NS (3600000 * MS) /* one hour: anything longer is a typo */
#define INTERVAL_MAX_NS (10000 * MS)
#define MULTIPLIER_MIN 2 /* one lost datagram must not fail a site */
#define MULTIPLIER_MAX 100
#define FLOW_TABLE_MIN 1024u
#define FLOW_TABLE_MAX (1u << 24)
#define MTU_MIN 576
#define STR(x) STR_(x)
#define STR_(x) #x

#define DETOUR (1u << SEC_DETOUR)
#define SITE (1u << SEC_SITE)
#define BOTH (DETOUR | SITE)
#define TIMERS "a site's detector timers" /* inherited by sites: compared per site first */
#define BEACONS "a site's beacons"

static conf_parse_fn parse_interfaces, parse_listen, parse_group, parse_user, parse_seed,
	parse_site_id, parse_source_mac, parse_tunnel_remote, parse_tunnel_local, parse_beacons,
	parse_beacon_sources, parse_metrics_listen, parse_notify_command;
static conf_same_fn same_interfaces, same_listen;

#define D(member) CONF_FIELD(struct dt_config, member)
#define S(member) CONF_FIELD(struct dt_config_site, member)

static const struct conf_key_row rows[] = {
	/* [detour] */
	{ "interfaces", DETOUR, parse_interfaces, D(interfaces),
	  .flags = CONF_LIST | CONF_REQUIRED | CONF_RESTART, .same = same_interfaces },
	{ "xdp_mode", DETOUR, conf_parse_enum, D(xdp_mode), 0, DT_XDP_MODE_VALUE_MAX - 1,
	  .def = "native", .arg = dt_xdp_mode_names, .flags = CONF_RESTART },
	{ "heartbeat_listen", DETOUR, parse_listen, D(listen),
	  .flags = CONF_LIST | CONF_REQUIRED | CONF_RESTART, .same = same_listen },
	/* Prometheus /metrics (docs/metrics.md): bound at start, so a restart is needed. */
	{ "metrics_listen", DETOUR, parse_metrics_listen, D(metrics_listen),
	  .flags = CONF_RESTART },
	{ "key_file", DETOUR, conf_parse_path, D(key_file), .def = "/etc/detour/detour.keys" },
	{ "interval_ms", DETOUR, conf_parse_duration, D(interval_ns), 1 * MS, INTERVAL_MAX_NS,
	  .unit = 1, .def = "5", .flags = CONF_BARE_MS | CONF_RESTART, .label = TIMERS },
	{ "multiplier", DETOUR, conf_parse_uint, D(multiplier), MULTIPLIER_MIN, MULTIPLIER_MAX,
	  .def = "3", .flags = CONF_RESTART, .label = TIMERS },
	{ "hold_down_ms", DETOUR, conf_parse_duration, D(hold_down_ns), 1 * MS, TIMER_MAX_NS,
	  .unit = 1, .def = "1000", .flags = CONF_BARE_MS | CONF_RESTART, .label = TIMERS },
	{ "recovery_timeout_ms", DETOUR, conf_parse_duration, D(recovery_timeout_ns), 1 * MS,
	  TIMER_MAX_NS, .unit = 1, .def = "30000", .flags = CONF_BARE_MS | CONF_RESTART,
	  .label = TIMERS },
	/* last_seen is refreshed only every DT_FLOW_REFRESH_NS: shorter would misjudge. */
	{ "flow_idle_ms", DETOUR, conf_parse_duration, D(flow_idle_ns), DT_FLOW_REFRESH_NS,
	  TIMER_MAX_NS, .unit = 1, .def = "10000", .flags = CONF_BARE_MS | CONF_RESTART },
	{ "flow_table_size", DETOUR, conf_parse_uint, D(flow_table_size), FLOW_TABLE_MIN,
	  FLOW_TABLE_MAX, .def = STR(DT_FLOW_TABLE_DEFAULT), .flags = CONF_RESTART },
	{ "hash_seed", DETOUR, parse_seed, D(hash_seed), .def = "0", .flags = CONF_RESTART },
	{ "control_socket", DETOUR, conf_parse_path, D(control_socket),
	  .def = "/run/detour/detourd.sock", .flags = CONF_RESTART },
	{ "control_group", DETOUR, parse_group, D(control_group), .flags = CONF_RESTART },
	/* Who detourd runs as once started (docs/config.md, "Privileges"). */
	{ "user", DETOUR, parse_user, D(user), .flags = CONF_RESTART },
	/* A control-socket client that reads and writes nothing for this long is disconnected. */
	{ "control_idle_ms", DETOUR, conf_parse_duration, D(control_idle_ns), 100 * MS,
	  TIMER_MAX_NS, .unit = 1, .def = "30000", .flags = CONF_BARE_MS },
	{ "pin_root", DETOUR, conf_parse_path, D(pin_root), .def = DT_PIN_ROOT_DEFAULT,
	  .flags = CONF_RESTART },
	{ "event_log", DETOUR, conf_parse_path_or_dash, D(event_log), .def = "-",
	  .flags = CONF_RESTART },
	/* What a restart must not forget: states, overrides, replay windows (docs/detector.md). */
	{ "state_file", DETOUR, conf_parse_path, D(state_file), .def = DT_STATE_FILE_DEFAULT,
	  .flags = CONF_RESTART },
	/* The notify hook (control/detourd/notify.h); a reload applies both. */
	{ "notify_command", DETOUR, parse_notify_command, D(notify_command) },
	{ "notify_timeout_ms", DETOUR, conf_parse_duration, D(notify_timeout_ns), 10 * MS,
	  TIMER_MAX_NS, .unit = 1, .def = "5000", .flags = CONF_BARE_MS },
	{ "blackout_hold_ms", DETOUR, conf_parse_duration, D(blackout_hold_ns), 0, TIMER_MAX_NS,
	  .unit = 1, .def = "1000", .flags = CONF_BARE_MS },
	{ "phi_threshold", DETOUR, conf_parse_decimal, D(phi_threshold), 0, 16,
	  .flags = CONF_RESTART },
	/* The receiver's clock check (docs/heartbeat.md); only with synchronised clocks. */
	{ "max_skew_ms", DETOUR, conf_parse_duration, D(max_skew_ns), 0, TIMER_MAX_NS, .unit = 1,
	  .def = "0", .flags = CONF_BARE_MS },
	/* Flap damping (docs/detector.md, "Flap damping"); a penalty of 0 turns it off. */
	{ "damping_penalty", DETOUR, conf_parse_uint, D(damping.penalty_per_flap), 0, 1000000,
	  .def = "1000", .flags = CONF_RESTART },
	{ "damping_suppress", DETOUR, conf_parse_uint, D(damping.suppress_threshold), 1, 100000000,
	  .def = "2000", .flags = CONF_RESTART },
	{ "damping_reuse", DETOUR, conf_parse_uint, D(damping.reuse_threshold), 1, 100000000,
	  .def = "750", .flags = CONF_RESTART },
	{
		"damping_half_life_ms",
		DETOUR,
		conf_parse_duration,
		D(damping.half_life_ns),
		1 * MS,
		TIMER_MAX_NS,
		.unit = 1,
		.def = "60000",
		.flags = CONF_BARE_MS | CONF_RESTART,
	},
	{
		"damping_max_hold_down_ms",
		DETOUR,
		conf_parse_duration,
		D(damping.max_hold_down_ns),
		1 * MS,
		TIMER_MAX_NS,
		.unit = 1,
		.def = "300000",
		.flags = CONF_BARE_MS | CONF_RESTART,
	},
	/* [site NAME]; the order is the order of "missing required key" messages */
	{ "id", SITE, parse_site_id, S(id), 0, DT_MAX_SITES - 1,
	  .flags = CONF_REQUIRED | CONF_RESTART, .label = "the set of sites" },
	{ "delivery", SITE, conf_parse_enum, S(delivery), DT_DELIVERY_ROUTE, DT_DELIVERY_IPIP,
	  .arg = dt_delivery_names + DT_DELIVERY_ROUTE, .flags = CONF_REQUIRED },
	{ "tunnel_remote", SITE, parse_tunnel_remote, S(tunnel_remote) },
	{ "tunnel_local", SITE, parse_tunnel_local, S(tunnel_local) },
	{ "interface", SITE, conf_parse_ifname, S(interface), .flags = CONF_REQUIRED },
	{ "next_hop_mac", SITE, conf_parse_mac, S(next_hop_mac), .flags = CONF_REQUIRED },
	{ "source_mac", SITE, parse_source_mac, S(source_mac) },
	{ "mtu", SITE, conf_parse_uint, S(mtu), MTU_MIN, 65535, .def = "1500" },
	{ "failover", SITE, cfg_parse_failover, S(failover), .flags = CONF_LIST | CFG_REFERS },
	/* Which beacons a site has, and how many on mains it needs (config_build.c checks). */
	{ "beacons", SITE, parse_beacons, S(beacons), 0, DT_CONFIG_MAX_BEACONS - 1, .def = "0",
	  .flags = CONF_LIST | CONF_RESTART, .label = BEACONS },
	{ "min_supplies", SITE, conf_parse_uint, S(min_supplies), 1, DT_CONFIG_MAX_BEACONS,
	  .def = "1", .flags = CONF_RESTART, .label = BEACONS },
	/* Where each beacon may send from; after "beacons", whose ids it checks. A reload applies it. */
	{ "beacon_sources", SITE, parse_beacon_sources, S(sources), 0, DT_CONFIG_MAX_BEACONS - 1,
	  .flags = CONF_LIST },
	/* A site's timers default to the [detour] ones (config_build.c), not to a text. */
	{ "interval_ms", SITE, conf_parse_duration, S(interval_ns), 1 * MS, INTERVAL_MAX_NS,
	  .unit = 1, .flags = CONF_BARE_MS | CONF_RESTART, .label = TIMERS },
	{ "multiplier", SITE, conf_parse_uint, S(multiplier), MULTIPLIER_MIN, MULTIPLIER_MAX,
	  .flags = CONF_RESTART, .label = TIMERS },
	{ "hold_down_ms", SITE, conf_parse_duration, S(hold_down_ns), 1 * MS, TIMER_MAX_NS,
	  .unit = 1, .flags = CONF_BARE_MS | CONF_RESTART, .label = TIMERS },
	{ "recovery_timeout_ms", SITE, conf_parse_duration, S(recovery_timeout_ns), 1 * MS,
	  TIMER_MAX_NS, .unit = 1, .flags = CONF_BARE_MS | CONF_RESTART, .label = TIMERS },
};

_Static_assert(sizeof(rows) / sizeof(rows[0]) <= CFG_MAX_KEYS, "raise CFG_MAX_KEYS");

const struct conf_table cfg_keys = { rows, sizeof(rows) / sizeof(rows[0]) };

unsigned int cfg_key(enum cfg_section section, const char *name)
{
	const struct conf_key_row *k = conf_table__find(&cfg_keys, section, name);

	if (!k)
		abort(); /* a rule names a key the table lacks: a bug, caught by any test */
	return (unsigned int)(k - rows);
}

/* ---- [detour] values that are more than one field --------------------------------------- */

static int parse_interfaces(const struct conf_key_row *k, const char *text, void *base,
			    const struct conf_report *r)
{
	const struct conf_key_row name = { .name = k->name, .size = DT_CONFIG_IFNAME_MAX };
	struct dt_config *c = base;
	char tok[64];
	int n, err = 0;

	while ((n = conf_token(&text, tok, sizeof(tok))) != 0) {
		char ifname[DT_CONFIG_IFNAME_MAX];

		/* A token too long for tok arrives truncated, still far too long for a name. */
		if (conf_parse_ifname(&name, tok, ifname, r)) {
			err = -EINVAL;
			continue;
		}
		for (unsigned int i = 0; i < c->n_interfaces; i++)
			if (!strcmp(c->interfaces[i], ifname))
				n = -1;
		if (n < 0)
			conf_report(r, k, "\"%s\" is listed twice", ifname);
		else if (c->n_interfaces == DT_CONFIG_MAX_INTERFACES)
			conf_report(r, k, "more than %d", DT_CONFIG_MAX_INTERFACES);
		else
			strcpy(c->interfaces[c->n_interfaces++], ifname);
	}
	return err;
}

static bool same_interfaces(const struct conf_key_row *k, const void *a, const void *b)
{
	const struct dt_config *x = a, *y = b;

	return x->n_interfaces == y->n_interfaces &&
	       !memcmp(x->interfaces, y->interfaces, sizeof(x->interfaces));
}

static bool listen_same(const struct dt_config_listen *a, const struct dt_config_listen *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->addr, b->addr, 16);
}

static int parse_listen(const struct conf_key_row *k, const char *text, void *base,
			const struct conf_report *r)
{
	struct cfg_where *w = cfg_where_of(r);
	struct dt_config *c = base;
	struct dt_config_listen l;
	char tok[DT_CONFIG_LISTEN_SPEC_MAX + 1];
	int n;

	while ((n = conf_token(&text, tok, sizeof(tok))) != 0) {
		if (cfg_parse_listen(w->p, w->line, tok, &l))
			continue;
		for (unsigned int i = 0; i < c->n_listen; i++)
			if (listen_same(&c->listen[i], &l))
				n = -1;
		if (n < 0)
			conf_report(r, k, "\"%s\" is listed twice", tok);
		else if (c->n_listen == DT_CONFIG_MAX_LISTEN)
			conf_report(r, k, "more than %d addresses", DT_CONFIG_MAX_LISTEN);
		else
			c->listen[c->n_listen++] = l;
	}
	return 0;
}

/* metrics_listen: one ADDRESS:PORT or [IPv6]:PORT; a port is required (there is no default). */
static int parse_metrics_listen(const struct conf_key_row *k, const char *text, void *base,
				const struct conf_report *r)
{
	struct dt_config_listen *l = (struct dt_config_listen *)((char *)base + k->offset);
	char host[64];
	const char *port;
	uint64_t v;

	memset(l, 0, sizeof(*l));
	if (strlen(text) >= sizeof(l->spec) ||
	    conf_split_host_port(text, host, sizeof(host), &port) ||
	    conf_addr_parse(host, &l->family, l->addr)) {
		l->family = DT_FAMILY_NONE;
		conf_report(r, k,
			    "\"%s\" is not ADDRESS:PORT or [IPv6]:PORT (numeric addresses only)",
			    text);
		return -EINVAL;
	}
	if (!port || conf_decimal_u64(port, &v) || v == 0 || v > 65535) {
		l->family = DT_FAMILY_NONE;
		conf_report(r, k, "\"%s\": a port 1 .. 65535 is required (e.g. 127.0.0.1:9473)",
			    text);
		return -EINVAL;
	}
	strcpy(l->spec, text);
	l->port = (uint16_t)v;
	return 0;
}

/* The addresses in order; where they were written does not matter. */
static bool same_listen(const struct conf_key_row *k, const void *a, const void *b)
{
	const struct dt_config *x = a, *y = b;

	if (x->n_listen != y->n_listen)
		return false;
	for (unsigned int i = 0; i < x->n_listen; i++)
		if (!listen_same(&x->listen[i], &y->listen[i]))
			return false;
	return true;
}

static int parse_group(const struct conf_key_row *k, const char *text, void *base,
		       const struct conf_report *r)
{
	struct dt_config *c = base;
	struct group gr, *found = NULL;
	char buf[4096];

	if (strlen(text) >= DT_CONFIG_GROUP_MAX) {
		conf_report(r, k, "name longer than %d characters", DT_CONFIG_GROUP_MAX - 1);
		return -EINVAL;
	}
	if (getgrnam_r(text, &gr, buf, sizeof(buf), &found) || !found) {
		conf_report(r, k, "no group \"%s\" on this system", text);
		return -EINVAL;
	}
	strcpy(c->control_group, text);
	c->control_gid = found->gr_gid;
	return 0;
}

/* notify_command: an absolute program path, then its arguments, split at blanks (no shell). */
static int parse_notify_command(const struct conf_key_row *k, const char *text, void *base,
				const struct conf_report *r)
{
	const char *t = text;
	char word[DT_CONFIG_PATH_MAX];
	int n, words = 0;

	if (conf_parse_path(k, text, base, r))
		return -EINVAL;
	while ((n = conf_token(&t, word, sizeof(word))) > 0)
		words++;
	if (words > DT_CONFIG_NOTIFY_WORDS_MAX) {
		conf_report(r, k, "%d words: at most %d (the program and its arguments)", words,
			    DT_CONFIG_NOTIFY_WORDS_MAX);
		((char *)base + k->offset)[0] = '\0';
		return -EINVAL;
	}
	return 0;
}

static int parse_user(const struct conf_key_row *k, const char *text, void *base,
		      const struct conf_report *r)
{
	struct dt_config *c = base;
	struct passwd pw, *found = NULL;
	char buf[4096];

	if (strlen(text) >= DT_CONFIG_GROUP_MAX) {
		conf_report(r, k, "name longer than %d characters", DT_CONFIG_GROUP_MAX - 1);
		return -EINVAL;
	}
	if (getpwnam_r(text, &pw, buf, sizeof(buf), &found) || !found) {
		conf_report(r, k, "no user \"%s\" on this system", text);
		return -EINVAL;
	}
	strcpy(c->user, text);
	c->user_uid = found->pw_uid;
	c->user_gid = found->pw_gid;
	return 0;
}

/* hash_seed: decimal or 0x-hexadecimal, all 64 bits. */
static int parse_seed(const struct conf_key_row *k, const char *text, void *base,
		      const struct conf_report *r)
{
	const struct conf_key_row dec = { .name = k->name, .size = 8, .max = UINT64_MAX };
	struct dt_config *c = base;
	char *end;
	uint64_t v;

	if (text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
		return conf_parse_uint(&dec, text, &c->hash_seed, r);
	errno = 0;
	v = strtoull(text + 2, &end, 16);
	/* strtoull() would accept a sign or blanks after "0x"; a seed is hex digits only. */
	if (!isxdigit((unsigned char)text[2]) || errno || *end) {
		conf_report(r, k, "\"%s\" is not a 64-bit number", text);
		return -EINVAL;
	}
	c->hash_seed = v;
	return 0;
}

/* ---- [site NAME] values ----------------------------------------------------------------- */

static int parse_site_id(const struct conf_key_row *k, const char *text, void *base,
			 const struct conf_report *r)
{
	struct cfg_where *w = cfg_where_of(r);
	int err = conf_parse_uint(k, text, base, r);

	if (!err)
		w->p->site[w->site].id_valid = true;
	return err;
}

static int parse_source_mac(const struct conf_key_row *k, const char *text, void *base,
			    const struct conf_report *r)
{
	struct dt_config_site *s = base;

	s->has_source_mac = !conf_parse_mac(k, text, base, r);
	return s->has_source_mac ? 0 : -EINVAL;
}

/* For delivery = ipip only; on a route site the tunnel rule (config_build.c) refuses them. */
static int parse_tunnel_end(const struct conf_key_row *k, const char *text, uint8_t addr[16],
			    uint8_t *family, const struct dt_config_site *s,
			    const struct conf_report *r)
{
	if (s->delivery != DT_DELIVERY_IPIP)
		return 0;
	if (conf_addr_parse(text, family, addr)) {
		*family = DT_FAMILY_NONE;
		conf_report(r, k, "\"%s\" is not an IPv4 or IPv6 address", text);
		return -EINVAL;
	}
	return 0;
}

static int parse_tunnel_remote(const struct conf_key_row *k, const char *text, void *base,
			       const struct conf_report *r)
{
	struct dt_config_site *s = base;

	return parse_tunnel_end(k, text, s->tunnel_remote, &s->tunnel_family, s, r);
}

static int parse_tunnel_local(const struct conf_key_row *k, const char *text, void *base,
			      const struct conf_report *r)
{
	struct dt_config_site *s = base;

	return parse_tunnel_end(k, text, s->tunnel_local, &s->tunnel_local_family, s, r);
}

/* beacons: the ids, e.g. "0 1"; each once. */
static int parse_beacons(const struct conf_key_row *k, const char *text, void *base,
			 const struct conf_report *r)
{
	const struct conf_key_row one = { .name = k->name, .size = 1, .max = k->max };
	uint8_t *mask = &((struct dt_config_site *)base)->beacons;
	char tok[32];
	int n, err = 0;

	*mask = 0;
	while ((n = conf_token(&text, tok, sizeof(tok))) != 0) {
		uint8_t id;

		if (n < 0 || conf_parse_uint(&one, tok, &id, r)) {
			if (n < 0)
				conf_report(r, k, "\"%.16s...\" is not a beacon id", tok);
			err = -EINVAL;
		} else if (*mask & (1u << id)) {
			conf_report(r, k, "beacon %u is listed twice", id);
			err = -EINVAL;
		} else {
			*mask |= (uint8_t)(1u << id);
		}
	}
	if (!err && !*mask) {
		conf_report(r, k, "no beacon id");
		err = -EINVAL;
	}
	if (err)
		*mask = 1; /* beacon 0, so that later checks do not cascade */
	return err;
}

/* The site's beacon ids as written in beacons: "0 1". */
static const char *beacon_ids(uint8_t mask, char buf[32])
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int b = 0; b < DT_CONFIG_MAX_BEACONS; b++)
		if (mask & (1u << b))
			n += (size_t)snprintf(buf + n, 32 - n, "%s%u", n ? " " : "", b);
	return buf;
}

static bool source_listed(const struct dt_config_site *s, const struct hb_source *src)
{
	for (unsigned int i = 0; i < s->n_sources; i++)
		if (s->sources[i].beacon_id == src->beacon_id && s->sources[i].len == src->len &&
		    !memcmp(&s->sources[i].net, &src->net, sizeof(src->net)))
			return true;
	return false;
}

/* One "ID ADDRESS[/LENGTH]" of beacon_sources into the site. 0, -EINVAL, or -ENOSPC: full. */
static int source_entry(const struct conf_key_row *k, const char *entry, struct dt_config_site *s,
			const struct conf_report *r)
{
	const struct conf_key_row one = { .name = k->name, .size = 1, .max = k->max };
	char id[16], net[64], extra[8], ids[32];
	struct hb_source src = { 0 };
	const char *t = entry;
	int n = conf_token(&t, id, sizeof(id));

	if (!n) {
		conf_report(r, k, "an empty entry (a comma too many?)");
		return -EINVAL;
	}
	if (n < 0 || conf_token(&t, net, sizeof(net)) <= 0 ||
	    conf_token(&t, extra, sizeof(extra))) {
		conf_report(r, k,
			    "\"%s\" is not BEACON-ID ADDRESS[/LENGTH] (commas separate entries)",
			    entry + strspn(entry, " \t"));
		return -EINVAL;
	}
	if (conf_parse_uint(&one, id, &src.beacon_id, r) || cfg_parse_net(k, net, &src, r))
		return -EINVAL;
	if (!(s->beacons & (1u << src.beacon_id))) {
		conf_report(r, k, "beacon %u is not one of the site's beacons (%s)", src.beacon_id,
			    beacon_ids(s->beacons, ids));
		return -EINVAL;
	}
	if (source_listed(s, &src)) {
		conf_report(r, k, "\"%s\" is listed twice for beacon %u", net, src.beacon_id);
		return -EINVAL;
	}
	if (s->n_sources == HB_MAX_SOURCES) {
		conf_report(r, k, "more than %d entries, the most a site may have", HB_MAX_SOURCES);
		return -ENOSPC;
	}
	s->sources[s->n_sources++] = src;
	return 0;
}

/* beacon_sources: "ID ADDRESS[/LENGTH], ...", every ID one of the site's beacons. */
static int parse_beacon_sources(const struct conf_key_row *k, const char *text, void *base,
				const struct conf_report *r)
{
	struct dt_config_site *s = base;
	char entry[128];
	int err = 0, e;

	s->n_sources = 0;
	for (const char *at = text, *comma; at && err != -ENOSPC; at = comma ? comma + 1 : NULL) {
		size_t n;

		comma = strchr(at, ',');
		n = comma ? (size_t)(comma - at) : strlen(at);
		snprintf(entry, sizeof(entry), "%.*s", (int)n, at);
		if (n >= sizeof(entry)) {
			conf_report(r, k, "\"%.16s...\" is longer than an entry can be",
				    entry + strspn(entry, " \t"));
			e = -EINVAL;
		} else {
			e = source_entry(k, entry, s, r);
		}
		err = e ?: err;
	}
	return err ? -EINVAL : 0;
}
