/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libbpf's and libxdp's own messages go to dt_log too, so that a verifier log or a netlink
 * extack message ends up next to the loader line that explains it, under the same --log-level.
 */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "dt_log.h"
#include "dt_xdp_internal.h"

static bool dt_xdp_libs_quiet;

static void dt_xdp_lib_line(bool warn, const char *prefix, const char *fmt, va_list ap)
{
	enum dt_log_level level = warn && !dt_xdp_libs_quiet ? DT_LOG_WARN : DT_LOG_DEBUG;
	char msg[1024];

	if (level > dt_log_get_level())
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	dt_log(level, "%s%s", prefix, msg);
}

static int dt_xdp_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	dt_xdp_lib_line(level == LIBBPF_WARN, "libbpf: ", fmt, ap);
	return 0;
}

static int dt_xdp_libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	dt_xdp_lib_line(level == LIBXDP_WARN, "", fmt, ap); /* libxdp writes its own "libxdp: " */
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
