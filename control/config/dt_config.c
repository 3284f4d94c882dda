/* SPDX-License-Identifier: GPL-2.0-only */
/* The configuration's entry points: read the file, run the three passes, hand back the result. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"

#define CONFIG_FILE_MAX (16u << 20) /* far above 32768 prefix lines */

static int site_id_cmp(const void *a, const void *b)
{
	const struct dt_config_site *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int parser_init(struct cfg_parser *p, const char *source, unsigned int flags)
{
	memset(p, 0, sizeof(*p));
	p->source = source;
	p->flags = flags;
	p->site = calloc(DT_MAX_SITES, sizeof(*p->site));
	p->msg = calloc(CFG_MAX_KEPT_ERRORS, sizeof(*p->msg));
	p->cfg = calloc(1, sizeof(*p->cfg));
	return p->site && p->msg && p->cfg ? 0 : -ENOMEM;
}

/* Errors found before parsing could start (unreadable file, out of memory). */
static int fail_at(const char *source, unsigned int line, struct dt_config_error *err, int ret,
		   const char *why)
{
	struct dt_config_error_item *item = err ? &err->item[0] : NULL;

	if (!err)
		return ret;
	memset(err, 0, sizeof(*err));
	if (line)
		snprintf(item->msg, sizeof(item->msg), "%s:%u: %s", source, line, why);
	else
		snprintf(item->msg, sizeof(item->msg), "%s: %s", source, why);
	item->line = line;
	err->count = err->total = 1;
	return ret;
}

static int fail_early(const char *source, struct dt_config_error *err, int ret, const char *why)
{
	return fail_at(source, 0, err, ret, why);
}

static int parse_buffer(const char *text, size_t len, const char *source, unsigned int flags,
			struct dt_config **out, struct dt_config_error *err)
{
	struct cfg_parser p;
	int ret = parser_init(&p, source, flags);

	ret = ret ?: cfg_lex(&p, text, len);
	if (!ret) {
		cfg_build(&p);
		cfg_check_keys(&p);
		ret = p.oom ? -ENOMEM : p.n_errors ? -EINVAL : 0;
	}
	if (ret == -ENOMEM)
		fail_early(source, err, ret, "out of memory");
	else
		cfg_errors__export(&p, err);
	if (!ret) {
		qsort(p.cfg->sites, p.cfg->n_sites, sizeof(p.cfg->sites[0]), site_id_cmp);
		snprintf(p.cfg->source, sizeof(p.cfg->source), "%s", source);
		*out = p.cfg;
		p.cfg = NULL;
	}
	dt_config__free(p.cfg);
	cfg_parser__release(&p);
	return ret;
}

int dt_config__parse_string(const char *text, const char *source, unsigned int flags,
			    struct dt_config **out, struct dt_config_error *err)
{
	if (!text || !source || !out)
		return fail_early(source ? source : "(config)", err, -EINVAL, "no text to parse");
	return parse_buffer(text, strlen(text), source, flags, out, err);
}

/* The whole file, NUL-terminated. A NUL inside would silently end the text: refuse it. */
static int read_file(int fd, const char *path, char **text, size_t *len,
		     struct dt_config_error *err)
{
	struct stat st;
	ssize_t n;
	char *buf;

	if (fstat(fd, &st))
		return fail_early(path, err, -errno, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail_early(path, err, -EINVAL, "not a regular file");
	if ((uint64_t)st.st_size > CONFIG_FILE_MAX)
		return fail_early(path, err, -EFBIG, "larger than 16 MiB");
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return fail_early(path, err, -ENOMEM, "out of memory");
	n = read(fd, buf, (size_t)st.st_size);
	if (n != st.st_size) {
		free(buf);
		return fail_early(path, err, n < 0 ? -errno : -EIO, "short read");
	}
	buf[n] = '\0';
	*text = buf;
	*len = (size_t)n;
	return 0;
}

static unsigned int line_of(const char *text, const char *at)
{
	unsigned int line = 1;

	for (; text < at; text++)
		line += *text == '\n';
	return line;
}

int dt_config__load(const char *path, struct dt_config **out, struct dt_config_error *err)
{
	char *text = NULL;
	const char *nul;
	size_t len = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail_early(path, err, -errno, strerror(errno));
	ret = read_file(fd, path, &text, &len, err);
	close(fd);
	if (ret)
		return ret;
	nul = memchr(text, '\0', len);
	if (nul)
		ret = fail_at(path, line_of(text, nul), err, -EINVAL,
			      "a NUL byte: this is not a text file");
	else
		ret = parse_buffer(text, len, path, 0, out, err);
	free(text);
	return ret;
}

void dt_config__free(struct dt_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->prefixes);
	free(cfg);
}

const struct dt_config_site *dt_config__site_by_id(const struct dt_config *cfg, uint16_t id)
{
	for (unsigned int i = 0; i < cfg->n_sites; i++)
		if (cfg->sites[i].id == id)
			return &cfg->sites[i];
	return NULL;
}

const struct dt_config_site *dt_config__site_by_name(const struct dt_config *cfg, const char *name)
{
	for (unsigned int i = 0; i < cfg->n_sites; i++)
		if (!strcmp(cfg->sites[i].name, name))
			return &cfg->sites[i];
	return NULL;
}

/* ---- The prefix table, kept sorted (family, address, length) -------------------------------- */

int dt_config_prefix__cmp(const void *a, const void *b)
{
	const struct dt_config_prefix *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

struct dt_config_prefix *dt_config__find_prefix(const struct dt_config *cfg,
						const struct dt_config_prefix *p)
{
	return bsearch(p, cfg->prefixes, cfg->n_prefixes, sizeof(*p), dt_config_prefix__cmp);
}

static const char *site_name(const struct dt_config *cfg, uint16_t id)
{
	const struct dt_config_site *s = dt_config__site_by_id(cfg, id);

	return s ? s->name : "?";
}

/* The configuration file's rules for a prefix added at run time (config_check.c). */
int dt_config__check_new_prefix(const struct dt_config *cfg, const struct dt_config_prefix *p,
				char *err, size_t len)
{
	unsigned int i, same_family = 0;
	char a[80], b[80];

	for (i = 0; i < cfg->n_prefixes; i++) {
		const struct dt_config_prefix *q = &cfg->prefixes[i];
		bool nested = cfg_prefix_contains(q, p) || cfg_prefix_contains(p, q);

		same_family += q->family == p->family;
		if (!nested || q->home_site == p->home_site || q->len == p->len)
			continue;
		snprintf(err, len,
			 "prefix %s (site \"%s\") overlaps %s (site \"%s\"): overlapping prefixes "
			 "must have the same home",
			 cfg_prefix_str(p, a, sizeof(a)), site_name(cfg, p->home_site),
			 cfg_prefix_str(q, b, sizeof(b)), site_name(cfg, q->home_site));
		return -EEXIST;
	}
	if (!dt_config__find_prefix(cfg, p) && same_family >= DT_MAX_PREFIXES_DEFAULT) {
		snprintf(err, len, "more than %d IPv%d prefixes", DT_MAX_PREFIXES_DEFAULT,
			 p->family == DT_FAMILY_V6 ? 6 : 4);
		return -ENOSPC;
	}
	return 0;
}

int dt_config__put_prefix(struct dt_config *cfg, const struct dt_config_prefix *p)
{
	struct dt_config_prefix *slot = dt_config__find_prefix(cfg, p), *grown;
	unsigned int i;

	if (slot) {
		*slot = *p;
		return 0;
	}
	grown = realloc(cfg->prefixes, (cfg->n_prefixes + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	cfg->prefixes = grown;
	for (i = cfg->n_prefixes; i > 0 && dt_config_prefix__cmp(&grown[i - 1], p) > 0; i--)
		grown[i] = grown[i - 1];
	grown[i] = *p;
	cfg->n_prefixes++;
	return 0;
}

int dt_config__remove_prefix(struct dt_config *cfg, const struct dt_config_prefix *p)
{
	struct dt_config_prefix *slot = dt_config__find_prefix(cfg, p);
	size_t after;

	if (!slot)
		return -ENOENT;
	after = (size_t)(cfg->prefixes + cfg->n_prefixes - (slot + 1));
	memmove(slot, slot + 1, after * sizeof(*slot));
	cfg->n_prefixes--;
	return 0;
}
