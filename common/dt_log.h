/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one log of every Detour program and library. A program names itself once (dt_log_init);
 * the libraries (heartbeat, XDP loader, DPDK engine) call dt_log_*() directly, so one level set
 * by --log-level filters every line. Line formats on stderr:
 *   ident and DT_LOG_TAG_LEVEL:  "detourd: warn: site pangyo: ..."
 *   ident only:                  "detour-beacon: site 1: ..."
 *   no ident (tools, tests):     "site 1: ..."
 * With DT_LOG_SYSLOG the lines go to syslog under the ident instead. When stderr is systemd's
 * journal (JOURNAL_STREAM names it, checked by dt_log_init), each line starts with its syslog
 * priority and drops the ident, which the journal records itself:
 *   "<4>warn: site pangyo: ..." (DT_LOG_TAG_LEVEL), "<4>site 1: ..." (without)
 * error is <3>, warn <4>, info <5> (notice, as syslog gets it), debug <7>; a message of several
 * lines (a verifier log) gives each line the prefix.
 */
#ifndef DT_COMMON_LOG_H
#define DT_COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum dt_log_level { DT_LOG_ERR = 0, DT_LOG_WARN, DT_LOG_INFO, DT_LOG_DEBUG };

enum dt_log_flags {
	DT_LOG_TAG_LEVEL = 1u << 0, /* print the level name after the ident */
	DT_LOG_SYSLOG = 1u << 1, /* syslog(3) instead of stderr */
};

/* A replacement sink (tests capture lines with it): gets the message without ident or level. */
typedef void (*dt_log_sink_fn)(enum dt_log_level level, const char *msg);

/* ident may be NULL (bare lines); it must outlive the log. Resets the level to info. */
void dt_log_init(const char *ident, unsigned int flags);
void dt_log_set_level(enum dt_log_level max);
enum dt_log_level dt_log_get_level(void);
/* NULL restores the stderr/syslog sink chosen by dt_log_init(). */
void dt_log_set_sink(dt_log_sink_fn fn);

/* Whether dt_log_init() found stderr to be the journal's stream. */
bool dt_log_to_journal(void);

/* "error", "warn", "info", "debug"; 0 or -EINVAL for anything else. */
int dt_log_parse_level(const char *s, enum dt_log_level *out);
const char *dt_log_level_name(enum dt_log_level level);

void dt_vlog(enum dt_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void dt_log(enum dt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define dt_log_err(...) dt_log(DT_LOG_ERR, __VA_ARGS__)
#define dt_log_warn(...) dt_log(DT_LOG_WARN, __VA_ARGS__)
#define dt_log_info(...) dt_log(DT_LOG_INFO, __VA_ARGS__)
#define dt_log_debug(...) dt_log(DT_LOG_DEBUG, __VA_ARGS__)

#endif /* DT_COMMON_LOG_H */
