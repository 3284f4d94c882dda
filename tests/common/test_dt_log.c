// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shared log: level filtering, level names, the replacement sink and the stderr formats,
 * with the journal's priority prefixes when JOURNAL_STREAM names stderr.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dt_log.h"

static char captured[4096];
static unsigned int n_captured;
static enum dt_log_level last_level;

static void capture(enum dt_log_level level, const char *msg)
{
	size_t used = strlen(captured);

	snprintf(captured + used, sizeof(captured) - used, "%s\n", msg);
	last_level = level;
	n_captured++;
}

static int reset(void **state)
{
	dt_log_init(NULL, 0);
	dt_log_set_sink(capture);
	captured[0] = '\0';
	n_captured = 0;
	return 0;
}

static int restore(void **state)
{
	dt_log_set_sink(NULL);
	return 0;
}

static void log_every_level(void)
{
	dt_log_err("e %d", 1);
	dt_log_warn("w %d", 2);
	dt_log_info("i %d", 3);
	dt_log_debug("d %d", 4);
}

static void test_default_level_is_info(void **state)
{
	assert_int_equal(dt_log_get_level(), DT_LOG_INFO);
	log_every_level();
	assert_string_equal(captured, "e 1\nw 2\ni 3\n");
	assert_int_equal(last_level, DT_LOG_INFO);
}

static void test_level_filters(void **state)
{
	static const struct {
		enum dt_log_level max;
		const char *want;
	} cases[] = {
		{ DT_LOG_ERR, "e 1\n" },
		{ DT_LOG_WARN, "e 1\nw 2\n" },
		{ DT_LOG_INFO, "e 1\nw 2\ni 3\n" },
		{ DT_LOG_DEBUG, "e 1\nw 2\ni 3\nd 4\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		captured[0] = '\0';
		dt_log_set_level(cases[i].max);
		log_every_level();
		assert_string_equal(captured, cases[i].want);
	}
}

static void test_trailing_newlines_dropped(void **state)
{
	dt_log_warn("libbpf: line from a library\n\n");
	assert_string_equal(captured, "libbpf: line from a library\n");
}

static void test_out_of_range_level_ignored(void **state)
{
	dt_log_set_level(DT_LOG_DEBUG);
	dt_log((enum dt_log_level)7, "nothing");
	assert_int_equal(n_captured, 0);
}

static void test_parse_level(void **state)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	enum dt_log_level l = DT_LOG_INFO;

	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(dt_log_parse_level(names[i], &l), 0);
		assert_int_equal(l, (enum dt_log_level)i);
		assert_string_equal(dt_log_level_name(l), names[i]);
	}
	assert_int_equal(dt_log_parse_level("warning", &l), -EINVAL);
	assert_int_equal(dt_log_parse_level("", &l), -EINVAL);
	assert_int_equal(dt_log_parse_level(NULL, &l), -EINVAL);
	assert_int_equal(l, DT_LOG_DEBUG); /* untouched on failure */
	assert_string_equal(dt_log_level_name((enum dt_log_level)9), "invalid");
}

/* Run fn with stderr sent to a file, and return what it wrote. */
static const char *stderr_of(void (*fn)(void))
{
	static char out[1024];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	assert_int_not_equal(dup2(fileno(tmp), STDERR_FILENO), -1);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void log_two_lines(void)
{
	dt_log_warn("site %s: heartbeat late", "pangyo");
	dt_log_debug("not shown");
	dt_log_err("key file %s: no keys", "/etc/detour/keys");
}

static void test_stderr_with_level(void **state)
{
	dt_log_set_sink(NULL);
	dt_log_init("detourd", DT_LOG_TAG_LEVEL);
	assert_string_equal(stderr_of(log_two_lines),
			    "detourd: warn: site pangyo: heartbeat late\n"
			    "detourd: error: key file /etc/detour/keys: no keys\n");
}

static void test_stderr_ident_only(void **state)
{
	dt_log_set_sink(NULL);
	dt_log_init("detour-beacon", 0);
	assert_string_equal(stderr_of(log_two_lines),
			    "detour-beacon: site pangyo: heartbeat late\n"
			    "detour-beacon: key file /etc/detour/keys: no keys\n");
}

static void test_stderr_bare(void **state)
{
	dt_log_set_sink(NULL);
	dt_log_init(NULL, 0);
	assert_string_equal(stderr_of(log_two_lines),
			    "site pangyo: heartbeat late\nkey file /etc/detour/keys: no keys\n");
}

static void test_syslog_leaves_stderr_alone(void **state)
{
	dt_log_set_sink(NULL);
	dt_log_init("detour-test", DT_LOG_SYSLOG);
	assert_string_equal(stderr_of(log_two_lines), "");
	closelog();
}

/* JOURNAL_STREAM set to what stderr is now (as systemd does), then the log opened. */
static void journal_init(const char *ident, unsigned int flags, bool match)
{
	struct stat st;
	char env[64];

	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + (match ? 0 : 1));
	setenv("JOURNAL_STREAM", env, 1);
	dt_log_init(ident, flags);
}

static void journal_daemon_lines(void)
{
	journal_init("detourd", DT_LOG_TAG_LEVEL, true);
	assert_true(dt_log_to_journal());
	dt_log_set_level(DT_LOG_DEBUG);
	log_two_lines();
	dt_log_info("running: %u sites", 2);
	dt_log_debug("detail");
	dt_log_warn("libbpf: first line\nsecond line\n");
}

/* stderr is the journal: each line starts with its syslog priority, the ident is left out. */
static void test_journal_priority_prefix(void **state)
{
	dt_log_set_sink(NULL);
	assert_string_equal(stderr_of(journal_daemon_lines),
			    "<4>warn: site pangyo: heartbeat late\n"
			    "<7>debug: not shown\n"
			    "<3>error: key file /etc/detour/keys: no keys\n"
			    "<5>info: running: 2 sites\n"
			    "<7>debug: detail\n"
			    "<4>warn: libbpf: first line\n"
			    "<4>warn: second line\n");
	unsetenv("JOURNAL_STREAM");
}

static void journal_beacon_lines(void)
{
	journal_init("detour-beacon", 0, true);
	log_two_lines();
}

static void test_journal_without_level_tag(void **state)
{
	dt_log_set_sink(NULL);
	assert_string_equal(
		stderr_of(journal_beacon_lines),
		"<4>site pangyo: heartbeat late\n<3>key file /etc/detour/keys: no keys\n");
	unsetenv("JOURNAL_STREAM");
}

static void journal_other_stream(void)
{
	journal_init("detourd", DT_LOG_TAG_LEVEL, false);
	assert_false(dt_log_to_journal());
	log_two_lines();
}

/* A JOURNAL_STREAM inherited by a process whose stderr went elsewhere: plain lines. */
static void test_journal_stream_of_another_file(void **state)
{
	dt_log_set_sink(NULL);
	assert_string_equal(stderr_of(journal_other_stream),
			    "detourd: warn: site pangyo: heartbeat late\n"
			    "detourd: error: key file /etc/detour/keys: no keys\n");
	setenv("JOURNAL_STREAM", "garbage", 1);
	dt_log_init("detourd", DT_LOG_TAG_LEVEL);
	assert_false(dt_log_to_journal());
	unsetenv("JOURNAL_STREAM");
	dt_log_init("detourd", DT_LOG_TAG_LEVEL);
	assert_false(dt_log_to_journal());
}

static void test_init_resets_level(void **state)
{
	dt_log_set_level(DT_LOG_ERR);
	dt_log_init("detourd", DT_LOG_TAG_LEVEL);
	assert_int_equal(dt_log_get_level(), DT_LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_level_is_info, reset, restore),
		cmocka_unit_test_setup_teardown(test_level_filters, reset, restore),
		cmocka_unit_test_setup_teardown(test_trailing_newlines_dropped, reset, restore),
		cmocka_unit_test_setup_teardown(test_out_of_range_level_ignored, reset, restore),
		cmocka_unit_test_setup_teardown(test_parse_level, reset, restore),
		cmocka_unit_test_setup_teardown(test_stderr_with_level, reset, restore),
		cmocka_unit_test_setup_teardown(test_stderr_ident_only, reset, restore),
		cmocka_unit_test_setup_teardown(test_stderr_bare, reset, restore),
		cmocka_unit_test_setup_teardown(test_syslog_leaves_stderr_alone, reset, restore),
		cmocka_unit_test_setup_teardown(test_journal_priority_prefix, reset, restore),
		cmocka_unit_test_setup_teardown(test_journal_without_level_tag, reset, restore),
		cmocka_unit_test_setup_teardown(test_journal_stream_of_another_file, reset,
						restore),
		cmocka_unit_test_setup_teardown(test_init_resets_level, reset, restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
