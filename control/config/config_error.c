/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Error messages: "FILE:LINE: what is wrong", collected while parsing, sorted by line when
 * handed to the caller so that the operator reads them top to bottom, as from a compiler.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

void cfg_error(struct cfg_parser *p, unsigned int line, const char *fmt, ...)
{
	struct cfg_msg *m;
	int used;
	va_list ap;

	p->n_errors++;
	if (p->n_msgs >= CFG_MAX_KEPT_ERRORS || !p->msg)
		return;
	m = &p->msg[p->n_msgs];
	m->line = line;
	m->seq = p->n_msgs++;
	if (line)
		used = snprintf(m->text, sizeof(m->text), "%s:%u: ", p->source, line);
	else
		used = snprintf(m->text, sizeof(m->text), "%s: ", p->source);
	if (used < 0 || (size_t)used >= sizeof(m->text))
		return;
	va_start(ap, fmt);
	vsnprintf(m->text + used, sizeof(m->text) - (size_t)used, fmt, ap);
	va_end(ap);
}

/* Line order; errors about the whole file (line 0) last, since they are often consequences. */
static int msg_cmp(const void *a, const void *b)
{
	const struct cfg_msg *x = a, *y = b;
	unsigned int lx = x->line ? x->line : ~0u, ly = y->line ? y->line : ~0u;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cfg_errors__export(struct cfg_parser *p, struct dt_config_error *err)
{
	unsigned int i;

	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	if (p->msg)
		qsort(p->msg, p->n_msgs, sizeof(p->msg[0]), msg_cmp);
	for (i = 0; i < p->n_msgs && i < DT_CONFIG_MAX_ERRORS; i++) {
		err->item[i].line = p->msg[i].line;
		memcpy(err->item[i].msg, p->msg[i].text, sizeof(err->item[i].msg));
	}
	err->count = i;
	err->total = p->n_errors;
}

void dt_config_error__print(const struct dt_config_error *err, FILE *f)
{
	for (unsigned int i = 0; i < err->count; i++)
		fprintf(f, "%s\n", err->item[i].msg);
	if (err->total > err->count)
		fprintf(f, "(%u more errors not shown)\n", err->total - err->count);
}
