// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dt_log.h"

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_DEBUG };

#define N_LEVELS (sizeof(level_names) / sizeof(level_names[0]))

static struct {
	const char *ident;
	unsigned int flags;
	enum dt_log_level max;
	dt_log_sink_fn sink;
	bool journal; /* stderr is systemd's journal: "<N>" prefixes, no ident */
} dt_logger = { .max = DT_LOG_INFO };

/*
 * Whether stderr is the journal's stream: systemd sets JOURNAL_STREAM to "DEV:INODE" of the
 * stream it connected, and a process whose stderr is still that stream may prefix each line
 * with its priority, "<3>" (sd-daemon(3)). A redirected stderr no longer matches.
 */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (!env || sscanf(env, "%llu:%llu%c", &dev, &ino, &end) != 2 || fstat(STDERR_FILENO, &st))
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void dt_log_init(const char *ident, unsigned int flags)
{
	dt_logger.ident = ident;
	dt_logger.flags = flags;
	dt_logger.max = DT_LOG_INFO;
	dt_logger.journal = !(flags & DT_LOG_SYSLOG) && stderr_is_journal();
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

bool dt_log_to_journal(void)
{
	return dt_logger.journal;
}

/* The journal stores one entry per line: each line of a message gets the priority. */
static void dt_log_journal(enum dt_log_level level, const char *msg)
{
	const char *tag = dt_logger.flags & DT_LOG_TAG_LEVEL ? level_names[level] : NULL;

	do {
		size_t n = strcspn(msg, "\n");

		fprintf(stderr, "<%d>%s%s%.*s\n", syslog_prio[level], tag ? tag : "",
			tag ? ": " : "", (int)n, msg);
		msg += n + (msg[n] == '\n');
	} while (*msg);
}

static void dt_log_emit(enum dt_log_level level, const char *msg)
{
	if (dt_logger.flags & DT_LOG_SYSLOG)
		syslog(syslog_prio[level], "%s", msg);
	else if (dt_logger.journal)
		dt_log_journal(level, msg);
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
