/* SPDX-License-Identifier: GPL-2.0-only */
/* detour-beacon's log: stderr in the foreground, syslog as a daemon. */
#include <stdarg.h>
#include <stdio.h>

#include "beacon.h"

static bool log_to_stderr = true;

static void beacon_hb_print(enum hb_print_level level, const char *msg)
{
	static const int prio[] = {
		[HB_WARN] = LOG_ERR, [HB_INFO] = LOG_INFO, [HB_DEBUG] = LOG_DEBUG
	};

	if (level != HB_DEBUG)
		blog(prio[level], "%s", msg);
}

void beacon_log_init(bool foreground)
{
	log_to_stderr = foreground;
	if (!foreground)
		openlog("detour-beacon", LOG_PID, LOG_DAEMON);
	hb_set_print(beacon_hb_print);
}

void blog(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_to_stderr) {
		fprintf(stderr, "detour-beacon: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(priority, fmt, ap);
	}
	va_end(ap);
}
