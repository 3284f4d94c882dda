/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pass 3: the rules that involve more than one value. Failover lists refer to sites by name;
 * prefixes must not overlap with different homes; every site needs a heartbeat key.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_internal.h"
#include "hb.h"

#define WEIGHT_MAX 1000000u

static int raw_site_index(const struct cfg_parser *p, const char *name)
{
	for (unsigned int i = 0; i < p->n_sites; i++)
		if (!strcmp(p->site[i].name, name))
			return (int)i;
	return -1;
}

static int failover_weight(struct cfg_parser *p, unsigned int line, const char *ctx,
			   const char *tok, const char *colon, uint64_t *weight)
{
	struct cfg_raw rv = { .line = line };
	char w[160];

	*weight = 1;
	if (!colon)
		return 0;
	rv.text = (char *)colon + 1;
	snprintf(w, sizeof(w), "%sfailover \"%s\": weight", ctx, tok);
	return cfg_parse_u64(p, &rv, w, 1, WEIGHT_MAX, weight);
}

/* One "NAME[:WEIGHT]" of site i's list; seen[] marks the sites already in it. */
static void failover_add(struct cfg_parser *p, unsigned int i, unsigned int line, char *tok,
			 bool seen[])
{
	struct dt_config_site *s = &p->cfg->sites[i];
	char *colon = strchr(tok, ':'), ctx[DT_SITE_NAME_MAX + 16];
	uint64_t weight;
	int j;

	snprintf(ctx, sizeof(ctx), "site \"%s\": ", s->name);
	if (failover_weight(p, line, ctx, tok, colon, &weight))
		return;
	if (colon)
		*colon = '\0';
	j = raw_site_index(p, tok);
	if (j < 0)
		cfg_error(p, line, "%sfailover site \"%s\" is not defined", ctx, tok);
	else if ((unsigned int)j == i)
		cfg_error(p, line, "%sa site cannot fail over to itself", ctx);
	else if (seen[j])
		cfg_error(p, line, "%sfailover site \"%s\" is listed twice", ctx, tok);
	else if (p->site[j].id_valid)
		s->failover[s->n_failover++] =
			(struct dt_failover_entry){ p->cfg->sites[j].id, (uint32_t)weight };
	if (j >= 0)
		seen[j] = true;
}

/* The failover row's parser: "NAME[:WEIGHT] ...", names of sites read before it. */
int cfg_parse_failover(const struct conf_key_row *k, const char *text, void *base,
		       const struct conf_report *r)
{
	const struct cfg_where *w = cfg_where_of(r);
	bool seen[DT_MAX_SITES] = { false };
	char tok[DT_SITE_NAME_MAX + 16];
	int n;

	while ((n = conf_token(&text, tok, sizeof(tok))) != 0) {
		if (n < 0)
			cfg_error(w->p, w->line,
				  "site \"%s\": failover \"%s...\" is not NAME[:WEIGHT]",
				  w->p->site[w->site].name, tok);
		else
			failover_add(w->p, w->site, w->line, tok, seen);
	}
	return 0;
}

static const char *site_name_of(const struct cfg_parser *p, uint16_t id)
{
	for (unsigned int i = 0; i < p->n_sites; i++)
		if (p->site[i].id_valid && p->cfg->sites[i].id == id)
			return p->site[i].name;
	return "?";
}

/* The flags a prefix line may end with, each at most once. */
static const struct {
	const char *name;
	uint16_t flag;
} prefix_flags[] = {
	{ "stateless", DT_PREFIX_F_STATELESS },
	{ "tcp_reset", DT_PREFIX_F_TCP_RESET },
};

/* "PREFIX SITE [stateless] [tcp_reset]". 0 when out is a prefix to keep. */
static int prefix_line(struct cfg_parser *p, const struct cfg_raw *rv, struct dt_config_prefix *out)
{
	char pfx[64], site[64], flag[64];
	const char *s = rv->text;
	unsigned int i;
	int j;

	if (conf_token(&s, pfx, sizeof(pfx)) <= 0 || conf_token(&s, site, sizeof(site)) <= 0) {
		cfg_error(p, rv->line,
			  "prefix: expected \"ADDRESS/LENGTH SITE [stateless] [tcp_reset]\"");
		return -EINVAL;
	}
	if (cfg_parse_prefix(p, rv->line, pfx, out))
		return -EINVAL;
	while (conf_token(&s, flag, sizeof(flag))) { /* -1, too long: an unknown flag */
		for (i = 0; i < sizeof(prefix_flags) / sizeof(prefix_flags[0]); i++)
			if (!strcmp(flag, prefix_flags[i].name))
				break;
		if (i == sizeof(prefix_flags) / sizeof(prefix_flags[0])) {
			cfg_error(p, rv->line,
				  "prefix %s: unknown flag \"%s\" (expected \"stateless\" or "
				  "\"tcp_reset\")",
				  pfx, flag);
			return -EINVAL;
		}
		if (out->flags & prefix_flags[i].flag) {
			cfg_error(p, rv->line, "prefix %s: flag \"%s\" given twice", pfx, flag);
			return -EINVAL;
		}
		out->flags |= prefix_flags[i].flag;
	}
	j = raw_site_index(p, site);
	if (j < 0) {
		cfg_error(p, rv->line, "prefix %s: site \"%s\" is not defined", pfx, site);
		return -EINVAL;
	}
	out->home_site = p->cfg->sites[j].id;
	return p->site[j].id_valid ? 0 : -EINVAL;
}

bool cfg_prefix_contains(const struct dt_config_prefix *outer, const struct dt_config_prefix *inner)
{
	unsigned int full = outer->len / 8, rest = outer->len % 8;
	uint8_t mask = (uint8_t)(0xff00 >> rest);

	if (outer->family != inner->family || outer->len > inner->len)
		return false;
	if (memcmp(outer->addr, inner->addr, full))
		return false;
	return !rest || !((outer->addr[full] ^ inner->addr[full]) & mask);
}

const char *cfg_prefix_str(const struct dt_config_prefix *x, char *buf, size_t len)
{
	char a[64];

	inet_ntop(x->family == DT_FAMILY_V4 ? AF_INET : AF_INET6, x->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, x->len);
	return buf;
}

static void prefix_conflict(struct cfg_parser *p, const struct dt_config_prefix *outer,
			    const struct dt_config_prefix *inner)
{
	const struct dt_config_prefix *first = outer->line < inner->line ? outer : inner;
	const struct dt_config_prefix *later = first == outer ? inner : outer;
	char o[80], i[80];

	cfg_prefix_str(outer, o, sizeof(o));
	cfg_prefix_str(inner, i, sizeof(i));
	if (outer->len == inner->len)
		cfg_error(p, later->line, "prefix %s is listed twice (first on line %u)", o,
			  first->line);
	else if (outer->home_site != inner->home_site)
		cfg_error(p, later->line,
			  "prefix %s (site \"%s\", line %u) lies inside %s (site \"%s\", line %u): "
			  "overlapping prefixes must have the same home",
			  i, site_name_of(p, inner->home_site), inner->line, o,
			  site_name_of(p, outer->home_site), outer->line);
}

/*
 * Sorted by address then length, nested prefixes follow the one that holds them, so a stack of
 * the enclosing prefixes finds every overlap in one pass instead of comparing every pair.
 */
static void prefixes_overlap(struct cfg_parser *p, const struct dt_config_prefix *v, unsigned int n)
{
	const struct dt_config_prefix *stack[129];
	unsigned int depth = 0, count[2] = { 0, 0 };

	for (unsigned int k = 0; k < n; k++) {
		while (depth && !cfg_prefix_contains(stack[depth - 1], &v[k]))
			depth--;
		if (depth)
			prefix_conflict(p, stack[depth - 1], &v[k]);
		if (depth < 129)
			stack[depth++] = &v[k];
		count[v[k].family == DT_FAMILY_V6]++;
	}
	for (int f = 0; f < 2; f++)
		if (count[f] > DT_MAX_PREFIXES_DEFAULT)
			cfg_error(p, 0, "more than %d IPv%d prefixes", DT_MAX_PREFIXES_DEFAULT,
				  f ? 6 : 4);
}

void cfg_check_prefixes(struct cfg_parser *p)
{
	struct dt_config_prefix *v;
	unsigned int n = 0;

	if (!p->n_prefixes)
		return;
	v = calloc(p->n_prefixes, sizeof(*v));
	if (!v) {
		p->oom = true;
		return;
	}
	for (unsigned int k = 0; k < p->n_prefixes; k++)
		if (!prefix_line(p, &p->prefix[k], &v[n]))
			n++;
	qsort(v, n, sizeof(*v), dt_config_prefix__cmp);
	prefixes_overlap(p, v, n);
	p->cfg->prefixes = v;
	p->cfg->n_prefixes = n;
}

/*
 * hb_keyring__load() checks the same on the open descriptor and refuses an unsafe file; this
 * is here so that the refusal reaches the operator as a "FILE:LINE:" message.
 */
static int key_file_secure(struct cfg_parser *p, unsigned int line, const char *path)
{
	const struct dt_config *c = p->cfg;
	bool user = c->user[0] && c->user_uid != 0; /* then its group may read the keys */
	struct stat st;

	if (stat(path, &st)) {
		cfg_error(p, line, "key_file %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode))
		cfg_error(p, line, "key_file %s: not a regular file", path);
	else if (st.st_uid != 0)
		cfg_error(p, line, "key_file %s: owned by uid %u; it must belong to root", path,
			  (unsigned int)st.st_uid);
	else if (user &&
		 st.st_mode & (S_IRWXG | S_IRWXO) & ~(st.st_gid == c->user_gid ? S_IRGRP : 0))
		cfg_error(
			p, line,
			"key_file %s: mode %04o, group %u: only group %u (user %s's) may read the "
			"keys, nobody else (chgrp %u %s; chmod 640 %s)",
			path, (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_gid,
			(unsigned int)c->user_gid, c->user, (unsigned int)c->user_gid, path, path);
	else if (user && !(st.st_mode & S_IRGRP && st.st_gid == c->user_gid))
		cfg_error(p, line,
			  "key_file %s: user %s could not read it (on SIGHUP, detourd runs as it): "
			  "make it group %u, mode 0640 (chgrp %u %s; chmod 640 %s)",
			  path, c->user, (unsigned int)c->user_gid, (unsigned int)c->user_gid, path,
			  path);
	else if (!user && st.st_mode & (S_IRWXG | S_IRWXO))
		cfg_error(p, line,
			  "key_file %s: mode %04o lets group or others at the keys (chmod 600 %s)",
			  path, (unsigned int)(st.st_mode & 07777), path);
	else
		return 0;
	return -EPERM;
}

void cfg_check_keys(struct cfg_parser *p)
{
	unsigned int line = p->global[cfg_key(SEC_DETOUR, "key_file")].line;
	const char *path = p->cfg->key_file;
	bool user = p->cfg->user[0] && p->cfg->user_uid != 0;
	struct hb_keyring *kr = NULL;
	int err;

	if ((p->flags & DT_CONFIG_F_SKIP_KEYS) || key_file_secure(p, line, path))
		return;
	err = hb_keyring__load_group(path, user ? (long)p->cfg->user_gid : -1, &kr);
	if (err == -EACCES && user)
		cfg_error(p, line,
			  "key_file %s: %s to user %s, which detourd runs as (chgrp %u %s; chmod "
			  "640 %s)",
			  path, strerror(-err), p->cfg->user, (unsigned int)p->cfg->user_gid, path,
			  path);
	else if (err)
		cfg_error(p, line, "key_file %s: cannot be loaded: %s (the heartbeat log says why)",
			  path, strerror(-err));
	if (err)
		return;
	for (unsigned int i = 0; i < p->n_sites; i++) {
		const struct dt_config_site *s = &p->cfg->sites[i];

		if (p->site[i].id_valid && !hb_keyring__site_keys(kr, s->id, NULL, 0))
			cfg_error(p, s->line, "site \"%s\": no key for site id %u in key_file %s",
				  s->name, s->id, path);
	}
	hb_keyring__free(kr);
}
