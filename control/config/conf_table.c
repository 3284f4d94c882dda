/* SPDX-License-Identifier: GPL-2.0-only */
/* What a key table gives beyond its rows: lookup, suggestions, defaults and the reload rule. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conf_table.h"

void conf_report(const struct conf_report *r, const struct conf_key_row *key, const char *fmt, ...)
{
	char why[CONF_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	r->fn(r->user, key, why);
}

static bool in_section(const struct conf_key_row *k, unsigned int section)
{
	return k->sections & (1u << section);
}

const struct conf_key_row *conf_table__find(const struct conf_table *t, unsigned int section,
					    const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (in_section(&t->rows[i], section) && !strcmp(t->rows[i].name, name))
			return &t->rows[i];
	return NULL;
}

/* Levenshtein distance; names too long to be keys are far from everything. */
static int key_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[64];

	if (la >= 64 || lb >= 64)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];

		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			best = best < up + 1 ? best : up + 1;
			best = best < row[j - 1] + 1 ? best : row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

#define SUGGEST_MAX_DISTANCE 2 /* one slip of the finger, or two */

const char *conf_table__suggest(const struct conf_table *t, unsigned int section, const char *name)
{
	const char *best = NULL;
	int best_d = SUGGEST_MAX_DISTANCE + 1;

	for (size_t i = 0; i < t->n; i++) {
		int d;

		if (!in_section(&t->rows[i], section))
			continue;
		d = key_distance(name, t->rows[i].name);
		if (d < best_d) {
			best = t->rows[i].name;
			best_d = d;
		}
	}
	return best;
}

int conf_table__defaults(const struct conf_table *t, unsigned int section, void *base,
			 const struct conf_report *r)
{
	int err = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct conf_key_row *k = &t->rows[i];

		if (in_section(k, section) && k->def && k->parse)
			err = err ?: k->parse(k, k->def, base, r);
	}
	return err;
}

static bool key_same(const struct conf_key_row *k, const void *a, const void *b)
{
	if (k->same)
		return k->same(k, a, b);
	return !memcmp((const char *)a + k->offset, (const char *)b + k->offset, k->size);
}

const struct conf_key_row *conf_table__first_restart(const struct conf_table *t,
						     unsigned int section, const void *a,
						     const void *b)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct conf_key_row *k = &t->rows[i];

		if (in_section(k, section) && (k->flags & CONF_RESTART) && !key_same(k, a, b))
			return k;
	}
	return NULL;
}

const char *conf_key__label(const struct conf_key_row *key)
{
	return key->label ? key->label : key->name;
}
