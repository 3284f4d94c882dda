/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Key files: permissions (0600 accepted; group/other bits or a non-root owner refused, naming
 * the file and its mode; 0640 accepted for the one group detourd's `user` is in), parse errors
 * naming FILE:LINE, comments, key ids, duplicates.
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
	k = hb_keyring__key(kr, 0, 0);
	assert_non_null(k);
	assert_int_equal(k[1], 0x01);
	assert_int_equal(k[31], 0x1f);
	assert_int_equal(hb_keyring__key(kr, 63, 0)[0], 0xff);
	assert_null(hb_keyring__key(kr, 1, 0));
	hb_keyring__free(kr);
	/* Stricter than 0600 is fine too. */
	write_keyfile("1 " KEY_A "\n", 0400);
	assert_int_equal(load(&kr), 0);
	hb_keyring__free(kr);
}

/* Several keys per site, each with its key id; a line without a key id is key id 0. */
static void test_key_ids(void **state)
{
	struct hb_keyring *kr;
	uint16_t ids[HB_MAX_KEYS_PER_SITE];

	if (geteuid() != 0)
		skip();
	write_keyfile("4 " KEY_A "\n4 1 " KEY_B "\n9 65535 " KEY_B "\n4 300 " KEY_A "\n", 0600);
	assert_int_equal(load(&kr), 0);
	assert_int_equal(hb_keyring__count(kr), 4);
	assert_int_equal(hb_keyring__site_keys(kr, 4, ids, HB_MAX_KEYS_PER_SITE), 3);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[1], 1);
	assert_int_equal(ids[2], 300);
	assert_int_equal(hb_keyring__site_keys(kr, 9, NULL, 0), 1);
	assert_int_equal(hb_keyring__site_keys(kr, 5, NULL, 0), 0);
	assert_int_equal(hb_keyring__key(kr, 4, 0)[0], 0x00);
	assert_int_equal(hb_keyring__key(kr, 4, 1)[0], 0xff);
	assert_int_equal(hb_keyring__key(kr, 9, 65535)[0], 0xff);
	assert_null(hb_keyring__key(kr, 9, 0));
	assert_null(hb_keyring__key(kr, 4, 2));
	hb_keyring__free(kr);
}

/* set() replaces a key id's key, adds up to HB_MAX_KEYS_PER_SITE, remove() keeps the order. */
static void test_set_and_remove(void **state)
{
	struct hb_keyring *kr = hb_keyring__new();
	uint8_t a[HB_KEY_BYTES], b[HB_KEY_BYTES];
	uint16_t ids[HB_MAX_KEYS_PER_SITE];

	hb_test_key(a, 1);
	hb_test_key(b, 2);
	for (uint16_t id = 10; id < 10 + HB_MAX_KEYS_PER_SITE; id++)
		assert_int_equal(hb_keyring__set(kr, 3, id, a), 0);
	assert_int_equal(hb_keyring__set(kr, 3, 99, a), -ENOSPC);
	assert_int_equal(hb_keyring__set(kr, 3, 11, b), 0); /* replaces */
	assert_memory_equal(hb_keyring__key(kr, 3, 11), b, HB_KEY_BYTES);
	assert_int_equal(hb_keyring__set(kr, DT_MAX_SITES, 0, a), -ERANGE);
	assert_int_equal(hb_keyring__remove(kr, 3, 10), 0);
	assert_int_equal(hb_keyring__remove(kr, 3, 10), -ENOENT);
	assert_int_equal(hb_keyring__remove(kr, DT_MAX_SITES, 0), -ENOENT);
	assert_null(hb_keyring__key(kr, 3, 10));
	assert_int_equal(hb_keyring__site_keys(kr, 3, ids, 2), 3);
	assert_int_equal(ids[0], 11);
	assert_int_equal(ids[1], 12);
	assert_memory_equal(hb_keyring__key(kr, 3, 11), b, HB_KEY_BYTES);
	assert_memory_equal(hb_keyring__key(kr, 3, 13), a, HB_KEY_BYTES);
	assert_int_equal(hb_keyring__count(kr), 3);
	assert_int_equal(hb_keyring__set(kr, 3, 99, a), 0); /* room again */
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

/* detourd's `user`: the key file root's, readable by that user's group and nobody else. */
static void test_group_readable(void **state)
{
	const mode_t refused[] = { 0660, 0644, 0650, 0604 };
	struct hb_keyring *kr;
	struct stat st;
	char want[64];

	if (geteuid() != 0)
		skip(); /* the file must be owned by root */
	write_keyfile("0 " KEY_A "\n", 0640);
	assert_int_equal(stat(path, &st), 0);
	hb_test_log_reset();
	assert_int_equal(hb_keyring__load_group(path, (long)st.st_gid, &kr), 0);
	assert_non_null(hb_keyring__key(kr, 0, 0));
	hb_keyring__free(kr);
	/* another group than the file's: refused, naming the mode and the group */
	hb_test_log_reset();
	kr = NULL;
	assert_int_equal(hb_keyring__load_group(path, (long)st.st_gid + 1, &kr), -EPERM);
	assert_null(kr);
	assert_non_null(strstr(hb_test_log, "mode 0640"));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		write_keyfile("0 " KEY_A "\n", refused[i]);
		hb_test_log_reset();
		kr = NULL;
		assert_int_equal(hb_keyring__load_group(path, (long)st.st_gid, &kr), -EPERM);
		assert_null(kr);
		snprintf(want, sizeof(want), "mode %04o", (unsigned int)refused[i]);
		assert_non_null(strstr(hb_test_log, want));
	}
	/* and without a group, 0640 is what it always was: refused */
	write_keyfile("0 " KEY_A "\n", 0640);
	assert_int_equal(hb_keyring__load_group(path, -1, &kr), -EPERM);
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
	char want[160];

	write_keyfile(text, 0600);
	assert_int_equal(load(&kr), -EINVAL);
	assert_null(kr);
	snprintf(want, sizeof(want), "%s:%u:", path, line);
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
	expect_parse_error("0 " KEY_A " extra\n", 1, "key id"); /* three tokens: id, key */
	expect_parse_error("0 1 " KEY_A " extra\n", 1, "expected");
	expect_parse_error("0\n", 1, "expected");
	expect_parse_error("0 " KEY_A "\n0 " KEY_B "\n", 2, "key id 0 already");
	/* A key without a key id is key id 0: the same key id given explicitly is a duplicate. */
	expect_parse_error("# c\n0 " KEY_A "\n1 " KEY_A "\n0 0 " KEY_B "\n", 4, "key id 0 already");
	expect_parse_error("2 7 " KEY_A "\n2 8 " KEY_B "\n2 7 " KEY_B "\n", 3, "key id 7 already");
	expect_parse_error("2 65536 " KEY_A "\n", 1, "key id");
	expect_parse_error("2 -1 " KEY_A "\n", 1, "key id");
	expect_parse_error("2 x " KEY_A "\n", 1, "key id");
	expect_parse_error("2 1 " KEY_A "\n2 2 " KEY_A "\n2 3 " KEY_A "\n2 4 " KEY_A "\n2 5 " KEY_A
			   "\n",
			   5, "4 keys already");
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
		cmocka_unit_test(test_key_ids),
		cmocka_unit_test(test_set_and_remove),
		cmocka_unit_test(test_insecure_modes),
		cmocka_unit_test(test_group_readable),
		cmocka_unit_test(test_wrong_owner),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_missing_empty_and_not_regular),
		cmocka_unit_test(test_long_line),
	};

	return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
