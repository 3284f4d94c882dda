/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The loader's log sink: stderr by default, or a function the program installs. libbpf's and
 * libxdp's own messages are routed here too, so that a verifier log or a netlink extack message
 * ends up next to the loader line that explains it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "dt_xdp_internal.h"

static void dt_xdp_print_stderr(enum dt_xdp_print_level level, const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

static dt_xdp_print_fn_t dt_xdp_print = dt_xdp_print_stderr;
static enum dt_xdp_print_level dt_xdp_max_level = DT_XDP_INFO;
static bool dt_xdp_libs_quiet;

void dt_xdp_set_print(dt_xdp_print_fn_t fn, enum dt_xdp_print_level max_level)
{
	dt_xdp_print = fn ? fn : dt_xdp_print_stderr;
	dt_xdp_max_level = max_level;
}

static void dt_xdp_vpr(enum dt_xdp_print_level level, const char *prefix, const char *fmt,
		       va_list ap)
{
	char msg[1024];
	size_t len;
	int n;

	if (level > dt_xdp_max_level)
		return;
	n = snprintf(msg, sizeof(msg), "%s", prefix);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	/* libbpf and libxdp end their lines with '\n'; the sink adds its own. */
	len = strlen(msg);
	while (len && msg[len - 1] == '\n')
		msg[--len] = '\0';
	dt_xdp_print(level, msg);
}

void dt_xdp_pr(enum dt_xdp_print_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dt_xdp_vpr(level, "", fmt, ap);
	va_end(ap);
}

static int dt_xdp_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum dt_xdp_print_level l = level == LIBBPF_WARN ? DT_XDP_WARN : DT_XDP_DEBUG;

	if (dt_xdp_libs_quiet)
		l = DT_XDP_DEBUG;
	dt_xdp_vpr(l, "libbpf: ", fmt, ap);
	return 0;
}

static int dt_xdp_libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	enum dt_xdp_print_level l = level == LIBXDP_WARN ? DT_XDP_WARN : DT_XDP_DEBUG;

	if (dt_xdp_libs_quiet)
		l = DT_XDP_DEBUG;
	dt_xdp_vpr(l, "", fmt, ap); /* libxdp prefixes its lines with "libxdp: " itself */
	return 0;
}

void dt_xdp_hook_libs(void)
{
	libbpf_set_print(dt_xdp_libbpf_print);
	libxdp_set_print(dt_xdp_libxdp_print);
}

void dt_xdp_quiet_libs(bool quiet)
{
	dt_xdp_libs_quiet = quiet;
}
