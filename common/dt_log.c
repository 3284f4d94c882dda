// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "dt_log.h"

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_DEBUG };

#define N_LEVELS (sizeof(level_names) / sizeof(level_names[0]))

static struct {
	const char *ident;
	unsigned int flags;
	enum dt_log_level max;
	dt_log_sink_fn sink;
} dt_logger = { .max = DT_LOG_INFO };

void dt_log_init(const char *ident, unsigned int flags)
{
	dt_logger.ident = ident;
	dt_logger.flags = flags;
	dt_logger.max = DT_LOG_INFO;
	if (flags & DT_LOG_SYSLOG)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void dt_log_set_level(enum dt_log_level max)
{
	dt_logger.max = max;
}

enum dt_log_level dt_log_get_level(void)
{
	return dt_logger.max;
}

void dt_log_set_sink(dt_log_sink_fn fn)
{
	dt_logger.sink = fn;
}

int dt_log_parse_level(const char *s, enum dt_log_level *out)
{
	unsigned int i;

	for (i = 0; s && i < N_LEVELS; i++)
		if (!strcmp(s, level_names[i])) {
			*out = (enum dt_log_level)i;
			return 0;
		}
	return -EINVAL;
}

const char *dt_log_level_name(enum dt_log_level level)
{
	return (unsigned int)level < N_LEVELS ? level_names[level] : "invalid";
}

static void dt_log_emit(enum dt_log_level level, const char *msg)
{
	if (dt_logger.flags & DT_LOG_SYSLOG)
		syslog(syslog_prio[level], "%s", msg);
	else if (!dt_logger.ident)
		fprintf(stderr, "%s\n", msg);
	else if (dt_logger.flags & DT_LOG_TAG_LEVEL)
		fprintf(stderr, "%s: %s: %s\n", dt_logger.ident, level_names[level], msg);
	else
		fprintf(stderr, "%s: %s\n", dt_logger.ident, msg);
}

void dt_vlog(enum dt_log_level level, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t len;

	if ((unsigned int)level >= N_LEVELS || level > dt_logger.max)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* libbpf and libxdp end their lines with '\n'; the sink adds its own. */
	len = strlen(msg);
	while (len && msg[len - 1] == '\n')
		msg[--len] = '\0';
	if (dt_logger.sink)
		dt_logger.sink(level, msg);
	else
		dt_log_emit(level, msg);
}

void dt_log(enum dt_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dt_vlog(level, fmt, ap);
	va_end(ap);
}
