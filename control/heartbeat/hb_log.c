/* SPDX-License-Identifier: GPL-2.0-only */
/* The heartbeat library's log sink: stderr by default, or a function the program installs. */
#include <stdarg.h>
#include <stdio.h>

#include "hb.h"

static void hb_print_stderr(enum hb_print_level level, const char *msg)
{
	if (level == HB_DEBUG)
		return;
	fprintf(stderr, "%s\n", msg);
}

static hb_print_fn_t hb_print = hb_print_stderr;

void hb_set_print(hb_print_fn_t fn)
{
	hb_print = fn ? fn : hb_print_stderr;
}

void hb_pr(enum hb_print_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hb_print(level, msg);
}
