// SPDX-License-Identifier: GPL-2.0-only
/* The Prometheus text exposition format, version 0.0.4: metrics_text.h says the rules. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_text.h"

#define MT_VALUE_MAX 40 /* "%.17g" of any double, or a u64 */
#define MT_LABEL_VALUE_MAX 256 /* escaped, including the NUL */

void mt_init(struct mt_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void mt_free(struct mt_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static int fail(struct mt_buf *b, int err)
{
	if (!b->err)
		b->err = err;
	return b->err;
}

static int put(struct mt_buf *b, const char *s, size_t n)
{
	if (b->err)
		return b->err;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return fail(b, -ENOMEM);
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static int puts_(struct mt_buf *b, const char *s)
{
	return put(b, s, strlen(s));
}

int mt_finish(struct mt_buf *b, char **page, size_t *len)
{
	if (!b->err && !b->data)
		put(b, "", 0);
	if (b->err) {
		mt_free(b);
		return b->err;
	}
	*page = b->data;
	*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return 0;
}

static bool name_char(char c, bool first, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

static bool valid_name(const char *s, bool colon)
{
	const char *p;

	if (!s || !*s || strlen(s) >= MT_NAME_MAX)
		return false;
	for (p = s; *p; p++)
		if (!name_char(*p, p == s, colon))
			return false;
	return true;
}

bool mt_valid_metric_name(const char *s)
{
	return valid_name(s, true);
}

bool mt_valid_label_name(const char *s)
{
	return valid_name(s, false) && strncmp(s, "__", 2);
}

/* Escape @s: backslash and newline always, the double quote when @quote. */
static int escape(const char *s, char *out, size_t len, bool quote)
{
	size_t n = 0;

	for (; *s; s++) {
		const char *rep = NULL;
		char one[2] = { *s, '\0' };

		if (*s == '\\')
			rep = "\\\\";
		else if (*s == '\n')
			rep = "\\n";
		else if (quote && *s == '"')
			rep = "\\\"";
		else
			rep = one;
		if (n + strlen(rep) + 1 > len)
			return -ENOSPC;
		memcpy(out + n, rep, strlen(rep));
		n += strlen(rep);
	}
	if (n + 1 > len)
		return -ENOSPC;
	out[n] = '\0';
	return 0;
}

int mt_escape_label_value(const char *s, char *out, size_t len)
{
	return escape(s, out, len, true);
}

int mt_escape_help(const char *s, char *out, size_t len)
{
	return escape(s, out, len, false);
}

static const char *const type_names[] = {
	[MT_COUNTER] = "counter",
	[MT_GAUGE] = "gauge",
	[MT_HISTOGRAM] = "histogram",
};

int mt_family(struct mt_buf *b, const char *name, enum mt_type type, const char *help)
{
	char esc[1024];
	unsigned int i;
	size_t n;

	if (b->err)
		return b->err;
	if (!mt_valid_metric_name(name) || (unsigned int)type > MT_HISTOGRAM)
		return fail(b, -EINVAL);
	n = strlen(name);
	/* the suffixes the format gives meaning to must not be a family's own */
	if (type == MT_COUNTER && (n < 6 || strcmp(name + n - 6, "_total")))
		return fail(b, -EINVAL);
	for (i = 0; i < b->n_seen; i++)
		if (!strcmp(b->seen[i], name))
			return fail(b, -EEXIST);
	if (b->n_seen == MT_MAX_FAMILIES)
		return fail(b, -ENOSPC);
	if (mt_escape_help(help, esc, sizeof(esc)))
		return fail(b, -ENOSPC);
	strcpy(b->seen[b->n_seen++], name);
	strcpy(b->family, name);
	b->type = type;
	puts_(b, "# HELP ");
	puts_(b, name);
	puts_(b, " ");
	puts_(b, esc);
	puts_(b, "\n# TYPE ");
	puts_(b, name);
	puts_(b, " ");
	puts_(b, type_names[type]);
	return puts_(b, "\n");
}

/* A float as Go's strconv.ParseFloat reads it: the shortest form that reads back the same. */
static void format_double(double v, char out[MT_VALUE_MAX])
{
	if (isnan(v)) {
		strcpy(out, "NaN");
	} else if (isinf(v)) {
		strcpy(out, v > 0 ? "+Inf" : "-Inf");
	} else {
		snprintf(out, MT_VALUE_MAX, "%.15g", v);
		if (strtod(out, NULL) != v)
			snprintf(out, MT_VALUE_MAX, "%.17g", v);
	}
}

/* NAME{l1="v1",...,extra="x"} VALUE\n; @suffix is appended to the family's name. */
static int sample_line(struct mt_buf *b, const char *suffix, const struct mt_label *labels,
		       const struct mt_label *extra, const char *value)
{
	char esc[MT_LABEL_VALUE_MAX];
	const struct mt_label *l;
	bool any = false;
	int pass;

	if (b->err)
		return b->err;
	if (!b->family[0])
		return fail(b, -EINVAL);
	puts_(b, b->family);
	puts_(b, suffix);
	for (pass = 0; pass < 2; pass++)
		for (l = pass ? extra : labels; l && l->name; l++) {
			if (!mt_valid_label_name(l->name) || !l->value)
				return fail(b, -EINVAL);
			if (mt_escape_label_value(l->value, esc, sizeof(esc)))
				return fail(b, -ENOSPC);
			puts_(b, any ? "," : "{");
			puts_(b, l->name);
			puts_(b, "=\"");
			puts_(b, esc);
			puts_(b, "\"");
			any = true;
			if (pass)
				break; /* one extra label: le */
		}
	if (any)
		puts_(b, "}");
	puts_(b, " ");
	puts_(b, value);
	return puts_(b, "\n");
}

/* Counters and gauges only: a histogram's samples come from mt_histogram(). */
static int plain_family(struct mt_buf *b)
{
	if (b->err)
		return b->err;
	return b->family[0] && b->type != MT_HISTOGRAM ? 0 : fail(b, -EINVAL);
}

int mt_sample(struct mt_buf *b, const struct mt_label *labels, double value)
{
	char v[MT_VALUE_MAX];

	if (plain_family(b))
		return b->err;
	if (b->type == MT_COUNTER && (isnan(value) || value < 0))
		return fail(b, -ERANGE);
	format_double(value, v);
	return sample_line(b, "", labels, NULL, v);
}

int mt_sample_u64(struct mt_buf *b, const struct mt_label *labels, uint64_t value)
{
	char v[MT_VALUE_MAX];

	if (plain_family(b))
		return b->err;
	snprintf(v, sizeof(v), "%llu", (unsigned long long)value);
	return sample_line(b, "", labels, NULL, v);
}

int mt_histogram(struct mt_buf *b, const struct mt_label *labels, const double *le,
		 const uint64_t *per_bucket, unsigned int n, uint64_t count, double sum)
{
	char v[MT_VALUE_MAX], bound[MT_VALUE_MAX];
	struct mt_label extra[2] = { { "le", bound }, { NULL, NULL } };
	const struct mt_label *l;
	uint64_t cum = 0;
	unsigned int i;

	if (b->err)
		return b->err;
	if (!b->family[0] || b->type != MT_HISTOGRAM)
		return fail(b, -EINVAL);
	for (l = labels; l && l->name; l++)
		if (!strcmp(l->name, "le"))
			return fail(b, -EINVAL);
	for (i = 0; i < n; i++) {
		if (!isfinite(le[i]) || (i && le[i] <= le[i - 1]))
			return fail(b, -EINVAL);
		cum += per_bucket[i];
	}
	if (cum > count)
		return fail(b, -ERANGE);
	for (cum = 0, i = 0; i < n; i++) {
		cum += per_bucket[i];
		format_double(le[i], bound);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)cum);
		sample_line(b, "_bucket", labels, extra, v);
	}
	strcpy(bound, "+Inf");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)count);
	sample_line(b, "_bucket", labels, extra, v);
	format_double(sum, v);
	sample_line(b, "_sum", labels, NULL, v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)count);
	return sample_line(b, "_count", labels, NULL, v);
}
