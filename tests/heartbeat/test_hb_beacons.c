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

#include <errno.h>
#include <stdlib.h>

#include "hb_test_util.h"

#define SITE 5

static int bx_setup(void **state)
{
	return hb_rx_fixture__setup(state, SITE);
}

static int bx_feed(struct hb_rx_fixture *f, uint16_t beacon, uint64_t epoch, uint64_t seq)
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
	struct hb_rx_fixture *f = *state;

	hb_receiver__set_beacons(&f->rx, SITE, 0x3);
	for (uint64_t s = 1; s <= 5000; s++) {
		assert_int_equal(bx_feed(f, 0, 1000, s), 0);
		assert_int_equal(bx_feed(f, 1, 2000, s), 0);
	}
	assert_int_equal(f->rx.counters[HB_OK], 10000);
}

/* A version 1 datagram (an old beacon during a rolling upgrade) is beacon 0, key 0. */
static void test_v1_is_beacon_0(void **state)
{
	struct hb_rx_fixture *f = *state;
	struct hb_msg m = { SITE, 50, 1, 0, 5000, DT_POWER_MAINS, HB_VERSION_1 };
	struct hb_beacon_state st;
	uint8_t wire[HB_WIRE_LEN];
	struct hb_msg out;

	assert_int_equal(hb_encode(&m, wire), HB_V1_WIRE_LEN);
	hb_seal(wire, f->key);
	assert_int_equal(hb_receiver__process(&f->rx, wire, HB_V1_WIRE_LEN, 0, &out), 0);
	assert_int_equal(out.version, HB_VERSION_1);
	assert_int_equal(out.beacon_id, 0);
	assert_int_equal(out.key_id, 0);
	assert_int_equal(hb_receiver__beacon_state(&f->rx, SITE, 0, &st), 0);
	assert_true(st.seen);
	assert_int_equal(st.epoch, 50);
	assert_int_equal(st.top, 1);
	/* The same beacon upgraded to version 2 shares beacon 0's window: no replay across it. */
	assert_int_equal(bx_feed(f, 0, 50, 1), -HB_REASON_REPLAY);
	assert_int_equal(bx_feed(f, 0, 50, 2), 0);
	assert_int_equal(bx_feed(f, 0, 49, 3), -HB_REASON_OLD_EPOCH);
}

/* Only the beacon ids in a site's mask; after init that is beacon 0 alone. Counted, no state. */
static void test_beacon_mask(void **state)
{
	struct hb_rx_fixture *f = *state;
	struct hb_beacon_state st;

	assert_int_equal(bx_feed(f, 0, 1, 1), 0);
	assert_int_equal(bx_feed(f, 1, 1, 1), -HB_REASON_UNKNOWN_BEACON);
	assert_int_equal(hb_receiver__set_beacons(&f->rx, SITE, 0x84), 0); /* beacons 2 and 7 */
	assert_int_equal(bx_feed(f, 0, 1, 2), -HB_REASON_UNKNOWN_BEACON);
	assert_int_equal(bx_feed(f, 2, 1, 1), 0);
	assert_int_equal(bx_feed(f, 7, 1, 1), 0);
	assert_int_equal(bx_feed(f, 8, 1, 1), -HB_REASON_UNKNOWN_BEACON);
	assert_int_equal(bx_feed(f, UINT16_MAX, 1, 1), -HB_REASON_UNKNOWN_BEACON);
	assert_int_equal(f->rx.counters[HB_REASON_UNKNOWN_BEACON], 4);
	assert_int_equal(hb_receiver__beacon_state(&f->rx, SITE, 1, &st), 0);
	assert_false(st.seen);
	assert_int_equal(hb_receiver__set_beacons(&f->rx, DT_MAX_SITES, 1), -ERANGE);
	assert_int_equal(hb_receiver__beacon_state(&f->rx, SITE, HB_MAX_BEACONS, &st), -ERANGE);
	assert_string_equal(hb_reason_str(HB_REASON_UNKNOWN_BEACON), "unknown-beacon");
}

/* A forged datagram of a beacon outside the mask is a bad MAC: the MAC comes first. */
static void test_beacon_mask_after_mac(void **state)
{
	struct hb_rx_fixture *f = *state;
	uint8_t wire[HB_TEST_V2_LEN], wrong[HB_KEY_BYTES];
	struct hb_msg out;

	hb_test_key(wrong, 77);
	hb_test_build_v2(wire, SITE, 5, 0, 1, 1, wrong);
	assert_int_equal(hb_receiver__process(&f->rx, wire, sizeof(wire), 0, &out),
			 -HB_REASON_BAD_MAC);
}

/* Beacon 1 restarts (a newer epoch) many times: beacon 0's epoch and window are untouched. */
static void test_epochs_per_beacon(void **state)
{
	struct hb_rx_fixture *f = *state;
	struct hb_beacon_state st;

	hb_receiver__set_beacons(&f->rx, SITE, 0x3);
	assert_int_equal(bx_feed(f, 0, 500, 1), 0);
	for (uint64_t e = 1; e <= 20; e++) {
		assert_int_equal(bx_feed(f, 1, 1000 + e, 1), 0);
		assert_int_equal(bx_feed(f, 0, 500, e + 1), 0);
		assert_int_equal(bx_feed(f, 1, 1000 + e - 1, 2), -HB_REASON_OLD_EPOCH);
	}
	assert_int_equal(bx_feed(f, 0, 500, 21), -HB_REASON_REPLAY);
	/* Beacon 0's epoch is older than beacon 1's and still its own. */
	assert_int_equal(bx_feed(f, 0, 499, 100), -HB_REASON_OLD_EPOCH);
	hb_receiver__beacon_state(&f->rx, SITE, 0, &st);
	assert_int_equal(st.epoch, 500);
	assert_int_equal(st.top, 21);
	hb_receiver__beacon_state(&f->rx, SITE, 1, &st);
	assert_int_equal(st.epoch, 1020);
	assert_int_equal(st.top, 1);
	/* And the other way: a newer epoch of beacon 0 leaves beacon 1 alone. */
	assert_int_equal(bx_feed(f, 0, 5000, 1), 0);
	assert_int_equal(bx_feed(f, 1, 1020, 2), 0);
}

/* Key rotation: key ids 0 and 1 at once, then the old one removed. */
static void test_key_rotation(void **state)
{
	struct hb_rx_fixture *f = *state;
	uint8_t wire[HB_TEST_V2_LEN], new_key[HB_KEY_BYTES];
	struct hb_msg out;
	uint64_t seq = 0;

	hb_test_key(new_key, 200);
	assert_int_equal(hb_keyring__set(f->kr, SITE, 1, new_key), 0);
	hb_test_build_v2(wire, SITE, 0, 0, 10, ++seq, f->key);
	assert_int_equal(hb_receiver__process(&f->rx, wire, sizeof(wire), 0, &out), 0);
	assert_int_equal(out.key_id, 0);
	hb_test_build_v2(wire, SITE, 0, 1, 10, ++seq, new_key);
	assert_int_equal(hb_receiver__process(&f->rx, wire, sizeof(wire), 0, &out), 0);
	assert_int_equal(out.key_id, 1);
	/* Each key id's own key: key id 1 sealed with key 0 is a forgery. */
	hb_test_build_v2(wire, SITE, 0, 1, 10, ++seq, f->key);
	assert_int_equal(hb_receiver__process(&f->rx, wire, sizeof(wire), 0, &out),
			 -HB_REASON_BAD_MAC);
	assert_int_equal(hb_keyring__remove(f->kr, SITE, 0), 0);
	hb_test_build_v2(wire, SITE, 0, 0, 10, ++seq, f->key);
	assert_int_equal(hb_receiver__process(&f->rx, wire, sizeof(wire), 0, &out),
			 -HB_REASON_UNKNOWN_KEY);
	hb_test_build_v2(wire, SITE, 0, 1, 10, ++seq, new_key);
	assert_int_equal(hb_receiver__process(&f->rx, wire, sizeof(wire), 0, &out), 0);
	hb_test_build_v2(wire, SITE, 0, 9, 10, ++seq, new_key);
	assert_int_equal(hb_receiver__process(&f->rx, wire, sizeof(wire), 0, &out),
			 -HB_REASON_UNKNOWN_KEY);
	/* A site with no key at all is still unknown-site, not unknown-key. */
	hb_test_build_v2(wire, SITE + 1, 0, 1, 10, ++seq, new_key);
	assert_int_equal(hb_receiver__process(&f->rx, wire, sizeof(wire), 0, &out),
			 -HB_REASON_UNKNOWN_SITE);
	assert_int_equal(f->rx.counters[HB_REASON_UNKNOWN_KEY], 2);
	assert_int_equal(f->rx.counters[HB_OK], 3);
	assert_string_equal(hb_reason_str(HB_REASON_UNKNOWN_KEY), "unknown-key");
}

/* After a detourd restart: the saved (epoch, top) of a beacon holds against recordings. */
static void test_restore(void **state)
{
	struct hb_rx_fixture *f = *state;
	struct hb_beacon_state st;

	hb_receiver__set_beacons(&f->rx, SITE, 0x3);
	assert_int_equal(hb_receiver__restore(&f->rx, SITE, 1, 700, 5000), 0);
	assert_int_equal(hb_receiver__beacon_state(&f->rx, SITE, 1, &st), 0);
	assert_true(st.seen);
	assert_int_equal(st.epoch, 700);
	assert_int_equal(st.top, 5000);
	assert_int_equal(bx_feed(f, 1, 699, 6000), -HB_REASON_OLD_EPOCH);
	/* Every sequence up to top of the same epoch: within the window replay, below too old. */
	for (uint64_t s = 5000 - HB_REPLAY_WINDOW + 1; s <= 5000; s++)
		assert_int_equal(bx_feed(f, 1, 700, s), -HB_REASON_REPLAY);
	assert_int_equal(bx_feed(f, 1, 700, 5000 - HB_REPLAY_WINDOW), -HB_REASON_TOO_OLD);
	assert_int_equal(bx_feed(f, 1, 700, 1), -HB_REASON_TOO_OLD);
	/* What comes after top is new, out of order too. */
	assert_int_equal(bx_feed(f, 1, 700, 5003), 0);
	assert_int_equal(bx_feed(f, 1, 700, 5001), 0);
	assert_int_equal(bx_feed(f, 1, 700, 5001), -HB_REASON_REPLAY);
	assert_int_equal(bx_feed(f, 1, 700, 5200), 0);
	assert_int_equal(bx_feed(f, 1, 700, 5002), 0);
	/* Beacon 0 was not restored: anything goes; a newer epoch of beacon 1 starts afresh. */
	assert_int_equal(bx_feed(f, 0, 1, 1), 0);
	assert_int_equal(bx_feed(f, 1, 701, 1), 0);
	assert_int_equal(bx_feed(f, 1, 701, 2), 0);
	assert_int_equal(hb_receiver__restore(&f->rx, SITE, HB_MAX_BEACONS, 1, 1), -ERANGE);
	assert_int_equal(hb_receiver__restore(&f->rx, DT_MAX_SITES, 0, 1, 1), -ERANGE);
}

/* A top at a word's last bit, and at 0: the fill must not spill into sequences after top. */
static void test_restore_edges(void **state)
{
	struct hb_rx_fixture *f = *state;

	hb_receiver__restore(&f->rx, SITE, 0, 9, 127);
	assert_int_equal(bx_feed(f, 0, 9, 127), -HB_REASON_REPLAY);
	assert_int_equal(bx_feed(f, 0, 9, 130), 0);
	assert_int_equal(bx_feed(f, 0, 9, 128), 0);
	hb_receiver__restore(&f->rx, SITE, 0, 10, 0);
	assert_int_equal(bx_feed(f, 0, 10, 2), 0);
	assert_int_equal(bx_feed(f, 0, 10, 1), 0);
	hb_receiver__restore(&f->rx, SITE, 0, 11, 64);
	assert_int_equal(bx_feed(f, 0, 11, 66), 0);
	assert_int_equal(bx_feed(f, 0, 11, 65), 0);
	assert_int_equal(bx_feed(f, 0, 11, 63), -HB_REASON_REPLAY);
	assert_int_equal(bx_feed(f, 0, 11, 64), -HB_REASON_REPLAY);
}

#define BX_TEST(t) cmocka_unit_test_setup_teardown(t, bx_setup, hb_rx_fixture__teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BX_TEST(test_two_beacons_interleaved),
		BX_TEST(test_v1_is_beacon_0),
		BX_TEST(test_beacon_mask),
		BX_TEST(test_beacon_mask_after_mac),
		BX_TEST(test_epochs_per_beacon),
		BX_TEST(test_key_rotation),
		BX_TEST(test_restore),
		BX_TEST(test_restore_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
