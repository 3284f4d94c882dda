/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Key files: permissions (0600 accepted; group/other bits or a non-root owner refused, naming
 * the file and its mode), parse errors naming the line, comments, duplicates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hb_test_util.h"

#define KEY_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static char dir[64];
static char path[128];

static int dir_setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/hb-keyring-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	return 0;
}

static int dir_teardown(void **state)
{
	unlink(path);
	rmdir(dir);
	dt_log_set_sink(NULL);
	return 0;
}

static void write_keyfile(const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static int load(struct hb_keyring **kr)
{
	hb_test_log_reset();
	*kr = NULL;
	return hb_keyring__load(path, kr);
}

static void test_good_file(void **state)
{
	struct hb_keyring *kr;
	const uint8_t *k;

	if (geteuid() != 0)
		skip(); /* the file must be owned by root */
	write_keyfile("# site keys\n\n0 " KEY_A "\n  63\t" KEY_B "   # last site\n", 0600);
	assert_int_equal(load(&kr), 0);
	assert_int_equal(hb_keyring__count(kr), 2);
	k = hb_keyring__key(kr, 0);
	assert_non_null(k);
	assert_int_equal(k[1], 0x01);
	assert_int_equal(k[31], 0x1f);
	assert_int_equal(hb_keyring__key(kr, 63)[0], 0xff);
	assert_null(hb_keyring__key(kr, 1));
	hb_keyring__free(kr);
	/* Stricter than 0600 is fine too. */
	write_keyfile("1 " KEY_A "\n", 0400);
	assert_int_equal(load(&kr), 0);
	hb_keyring__free(kr);
}

static void test_insecure_modes(void **state)
{
	const mode_t modes[] = { 0640, 0644, 0604, 0660, 0602, 0610 };
	struct hb_keyring *kr;
	char want[64];

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		write_keyfile("0 " KEY_A "\n", modes[i]);
		assert_int_equal(load(&kr), -EPERM);
		assert_null(kr);
		assert_non_null(strstr(hb_test_log, path));
		snprintf(want, sizeof(want), "mode %04o", (unsigned int)modes[i]);
		assert_non_null(strstr(hb_test_log, want));
	}
}

static void test_wrong_owner(void **state)
{
	struct hb_keyring *kr;

	if (geteuid() != 0)
		skip();
	write_keyfile("0 " KEY_A "\n", 0600);
	assert_int_equal(chown(path, 1, 1), 0);
	assert_int_equal(load(&kr), -EPERM);
	assert_non_null(strstr(hb_test_log, path));
	assert_non_null(strstr(hb_test_log, "uid 1"));
}

static void expect_parse_error(const char *text, unsigned int line, const char *what)
{
	struct hb_keyring *kr;
	char want[32];

	write_keyfile(text, 0600);
	assert_int_equal(load(&kr), -EINVAL);
	assert_null(kr);
	snprintf(want, sizeof(want), "line %u:", line);
	assert_non_null(strstr(hb_test_log, want));
	assert_non_null(strstr(hb_test_log, what));
}

static void test_parse_errors(void **state)
{
	if (geteuid() != 0)
		skip(); /* permissions are checked before parsing */
	expect_parse_error("0 " KEY_A "\n1 0011\n", 2, "hex digits");
	expect_parse_error("# c\n\n0 " KEY_A "zz\n", 3, "hex digits");
	expect_parse_error("64 " KEY_A "\n", 1, "site id");
	expect_parse_error("-1 " KEY_A "\n", 1, "site id");
	expect_parse_error("x " KEY_A "\n", 1, "site id");
	expect_parse_error("0 " KEY_A " extra\n", 1, "expected");
	expect_parse_error("0\n", 1, "expected");
	expect_parse_error("0 " KEY_A "\n0 " KEY_B "\n", 2, "has a key already");
	expect_parse_error("0 0g0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
			   1, "hex digits");
}

static void test_missing_empty_and_not_regular(void **state)
{
	struct hb_keyring *kr;

	unlink(path);
	assert_int_equal(load(&kr), -ENOENT);
	assert_non_null(strstr(hb_test_log, path));
	if (geteuid() == 0) {
		write_keyfile("# nothing\n", 0600);
		assert_int_equal(load(&kr), -ENOENT);
		assert_non_null(strstr(hb_test_log, "no keys"));
	}
	hb_test_log_reset();
	assert_int_equal(hb_keyring__load(dir, &kr), -EINVAL);
	assert_non_null(strstr(hb_test_log, "not a regular file"));
}

static void test_long_line(void **state)
{
	char text[600];

	if (geteuid() != 0)
		skip();
	memset(text, ' ', sizeof(text));
	memcpy(text + 500, "0 x\n", 5);
	expect_parse_error(text, 1, "longer than");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_insecure_modes),
		cmocka_unit_test(test_wrong_owner),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_missing_empty_and_not_regular),
		cmocka_unit_test(test_long_line),
	};

	return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
