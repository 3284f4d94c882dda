/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * detourd's state file (control/detourd/state_file.c): what one daemon writes the next reads back,
 * in a directory it creates; a record of another site, a torn record, a file of another kind, a
 * file from another boot and a second daemon on the same file are each handled as documented.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state_file.h"

static char dir[64], path[128];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/dt-state-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/detourd.state", dir); /* sub/ does not exist yet */
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static const struct health_seed failed_down = {
	.state = DT_SITE_DOWN,
	.override = HEALTH_OVERRIDE_FAIL,
	.since_ns = 123456789,
	.flaps = 4,
	.penalty = 2345.5,
	.penalty_ns = 111,
	.reuse_ns = 999999,
};

static void write_one(void)
{
	struct state_file sf;
	struct hb_beacon_state b1 = { .seen = true, .epoch = 77, .top = 1000 };

	assert_int_equal(state_file__open(&sf, path), 0);
	state_file__put_site(&sf, 3, "pangyo", &failed_down);
	state_file__put_beacon(&sf, 3, "pangyo", 1, &b1);
	b1.top = 999; /* lower in the same epoch: not a move */
	state_file__put_beacon(&sf, 3, "pangyo", 1, &b1);
	state_file__close(&sf);
}

static void test_round_trip(void **state)
{
	struct state_file sf;
	struct health_seed seed;
	struct hb_beacon_state b;
	struct stat st;

	write_one();
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(state_file__open(&sf, path), 0);
	assert_true(sf.same_boot);
	assert_true(state_file__site(&sf, 3, "pangyo", &seed));
	assert_memory_equal(&seed, &failed_down, sizeof(seed));
	assert_true(state_file__beacon(&sf, 3, "pangyo", 1, &b));
	assert_int_equal(b.epoch, 77);
	assert_int_equal(b.top, 1000);
	assert_false(state_file__beacon(&sf, 3, "pangyo", 0, &b)); /* never heard */
	assert_false(state_file__site(&sf, 4, "ansan", &seed));
	state_file__close(&sf);
}

/* Site id 3 is now called ansan: pangyo's record is not ansan's, and writing ansan forgets it. */
static void test_other_site_same_id(void **state)
{
	struct state_file sf;
	struct health_seed seed;
	struct hb_beacon_state b = { .seen = true, .epoch = 5, .top = 6 };

	write_one();
	assert_int_equal(state_file__open(&sf, path), 0);
	assert_false(state_file__site(&sf, 3, "ansan", &seed));
	assert_false(state_file__beacon(&sf, 3, "ansan", 1, &b));
	b = (struct hb_beacon_state){ .seen = true, .epoch = 5, .top = 6 };
	state_file__put_beacon(&sf, 3, "ansan", 0, &b);
	assert_false(state_file__site(&sf, 3, "pangyo", &seed));
	assert_false(state_file__beacon(&sf, 3, "ansan", 1, &b)); /* pangyo's beacon 1 is gone */
	assert_true(state_file__beacon(&sf, 3, "ansan", 0, &b));
	state_file__close(&sf);
}

/* A crash between a record's two generation stores leaves it odd: not trusted. */
static void test_torn_record(void **state)
{
	struct state_file sf;
	struct health_seed seed;
	struct hb_beacon_state b;

	write_one();
	assert_int_equal(state_file__open(&sf, path), 0);
	sf.map->site[3].beacon[1].gen |= 1;
	assert_false(state_file__beacon(&sf, 3, "pangyo", 1, &b));
	assert_true(state_file__site(&sf, 3, "pangyo", &seed)); /* the rest of the site is whole */
	sf.map->site[3].gen |= 1;
	assert_false(state_file__site(&sf, 3, "pangyo", &seed));
	state_file__close(&sf);
}

/* From another boot the monotonic times mean nothing: only the override, and its state. */
static void test_other_boot(void **state)
{
	struct state_file sf;
	struct health_seed seed, drain = { .state = DT_SITE_DRAINING,
					   .override = HEALTH_OVERRIDE_DRAIN,
					   .since_ns = 5 };
	struct hb_beacon_state b;

	write_one();
	assert_int_equal(state_file__open(&sf, path), 0);
	state_file__put_site(&sf, 4, "ansan", &drain);
	state_file__put_site(&sf, 5, "sihung", &(struct health_seed){ .state = DT_SITE_DOWN });
	snprintf(sf.map->boot_id, sizeof(sf.map->boot_id), "another-boot");
	state_file__close(&sf);
	assert_int_equal(state_file__open(&sf, path), 0);
	assert_false(sf.same_boot);
	assert_true(state_file__site(&sf, 3, "pangyo", &seed));
	assert_int_equal(seed.state, DT_SITE_DOWN);
	assert_int_equal(seed.override, HEALTH_OVERRIDE_FAIL);
	assert_int_equal(seed.since_ns, 0);
	assert_int_equal(seed.flaps, 0);
	assert_true(seed.penalty == 0);
	assert_true(state_file__site(&sf, 4, "ansan", &seed));
	assert_int_equal(seed.state, DT_SITE_UNKNOWN);
	assert_int_equal(seed.override, HEALTH_OVERRIDE_DRAIN);
	assert_false(state_file__site(&sf, 5, "sihung", &seed)); /* DOWN by heartbeats: forgotten */
	assert_true(state_file__beacon(&sf, 3, "pangyo", 1, &b)); /* epochs are not clock times */
	state_file__close(&sf);
}

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void assert_file_is(const char *p, const char *text)
{
	char buf[256] = { 0 };
	FILE *f = fopen(p, "r");

	assert_non_null(f);
	assert_true(fread(buf, 1, sizeof(buf) - 1, f) > 0);
	fclose(f);
	assert_string_equal(buf, text);
}

/* Someone's file at that path is kept as PATH.bad, whole, and a new state file is started. */
static void test_foreign_file_set_aside(void **state)
{
	char sub[96], bad[160];
	struct state_file sf;
	struct health_seed seed;

	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(path, "not a state file\n");
	assert_int_equal(state_file__open(&sf, path), 0);
	snprintf(bad, sizeof(bad), "%s.bad", path);
	assert_file_is(bad, "not a state file\n");
	assert_false(state_file__site(&sf, 3, "pangyo", &seed));
	state_file__put_site(&sf, 3, "pangyo", &failed_down);
	state_file__close(&sf);
	assert_int_equal(state_file__open(&sf, path), 0);
	assert_true(state_file__site(&sf, 3, "pangyo", &seed));
	state_file__close(&sf);
}

/* One of the right size but another version: set aside too. */
static void test_other_version_set_aside(void **state)
{
	char bad[160];
	struct state_file sf;

	write_one();
	assert_int_equal(state_file__open(&sf, path), 0);
	sf.map->version = 2;
	state_file__close(&sf);
	assert_int_equal(state_file__open(&sf, path), 0);
	snprintf(bad, sizeof(bad), "%s.bad", path);
	assert_int_equal(access(bad, F_OK), 0);
	assert_int_equal(sf.map->version, STATE_FILE_VERSION);
	state_file__close(&sf);
}

static void test_second_daemon_refused(void **state)
{
	struct state_file a, b;

	assert_int_equal(state_file__open(&a, path), 0);
	assert_int_equal(state_file__open(&b, path), -EBUSY);
	assert_null(b.map);
	state_file__close(&a);
	assert_int_equal(state_file__open(&b, path), 0);
	state_file__close(&b);
}

static void test_unusable_path(void **state)
{
	struct state_file sf;
	char file[96], p[160];

	snprintf(file, sizeof(file), "%s/plain", dir);
	write_file(file, "x");
	/* a file where a directory should be */
	snprintf(p, sizeof(p), "%s/plain/detourd.state", dir);
	assert_int_equal(state_file__open(&sf, p), -ENOTDIR);
	assert_null(sf.map);
	assert_int_equal(sf.fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_site_same_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_file_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_version_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_daemon_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unusable_path, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
