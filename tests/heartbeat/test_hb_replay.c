/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replay window (RFC 6479) and the receiver's epoch rules: duplicates, reordering, too-old
 * sequences, a restarted beacon, an old epoch after a new one, a forged new epoch, counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "hb_test_util.h"

static void test_window_in_order_and_duplicates(void **state)
{
	struct hb_replay_window w;

	hb_replay_window__reset(&w);
	for (uint64_t s = 1; s <= 5000; s++) {
		assert_int_equal(hb_replay_window__check(&w, s), 0);
		hb_replay_window__update(&w, s);
		assert_int_equal(hb_replay_window__check(&w, s), -HB_REASON_REPLAY);
	}
	assert_int_equal(hb_replay_window__check(&w, 5000 - HB_REPLAY_WINDOW + 1),
			 -HB_REASON_REPLAY);
	assert_int_equal(hb_replay_window__check(&w, 5000 - HB_REPLAY_WINDOW), -HB_REASON_TOO_OLD);
	assert_int_equal(hb_replay_window__check(&w, 1), -HB_REASON_TOO_OLD);
}

/* Every other sequence missing, then filled in backwards: each accepted exactly once. */
static void test_window_reordered(void **state)
{
	struct hb_replay_window w;
	const uint64_t top = 2 * HB_REPLAY_WINDOW;

	hb_replay_window__reset(&w);
	for (uint64_t s = 2; s <= top; s += 2)
		hb_replay_window__update(&w, s);
	for (uint64_t s = top - 1; s > top - HB_REPLAY_WINDOW; s -= 2) {
		assert_int_equal(hb_replay_window__check(&w, s), 0);
		hb_replay_window__update(&w, s);
		assert_int_equal(hb_replay_window__check(&w, s), -HB_REASON_REPLAY);
	}
	/* The first odd one just outside the window is too old even though it was never seen. */
	assert_int_equal(hb_replay_window__check(&w, top - HB_REPLAY_WINDOW - 1),
			 -HB_REASON_TOO_OLD);
}

/* A jump forward further than the ring forgets everything behind the window. */
static void test_window_big_jump(void **state)
{
	struct hb_replay_window w;
	const uint64_t far = 1000000;

	hb_replay_window__reset(&w);
	for (uint64_t s = 1; s <= 100; s++)
		hb_replay_window__update(&w, s);
	hb_replay_window__update(&w, far);
	/* Within the new window, sequences whose ring bits were reused must read as unseen. */
	for (uint64_t s = far - HB_REPLAY_WINDOW + 1; s < far; s++)
		assert_int_equal(hb_replay_window__check(&w, s), 0);
	assert_int_equal(hb_replay_window__check(&w, far), -HB_REASON_REPLAY);
	assert_int_equal(hb_replay_window__check(&w, 50), -HB_REASON_TOO_OLD);
}

static void test_window_near_wrap(void **state)
{
	struct hb_replay_window w;

	hb_replay_window__reset(&w);
	hb_replay_window__update(&w, UINT64_MAX - 1);
	assert_int_equal(hb_replay_window__check(&w, UINT64_MAX), 0);
	hb_replay_window__update(&w, UINT64_MAX);
	assert_int_equal(hb_replay_window__check(&w, UINT64_MAX), -HB_REASON_REPLAY);
	assert_int_equal(hb_replay_window__check(&w, UINT64_MAX - 1), -HB_REASON_REPLAY);
	assert_int_equal(hb_replay_window__check(&w, UINT64_MAX - 2), 0);
	assert_int_equal(hb_replay_window__check(&w, 3), -HB_REASON_TOO_OLD);
}

/*
 * Against a plain model (a list of everything accepted): random sequences around a moving top,
 * the window must agree with "new and not older than top - WINDOW + 1" every time.
 */
#define MODEL_N 20000

static bool model_seen(const uint64_t *seen, size_t n, uint64_t s)
{
	for (size_t i = 0; i < n; i++)
		if (seen[i] == s)
			return true;
	return false;
}

static void test_window_against_model(void **state)
{
	static uint64_t seen[MODEL_N];
	struct hb_replay_window w;
	uint64_t top = 0;
	size_t n = 0;

	srandom(4303);
	hb_replay_window__reset(&w);
	for (int i = 0; i < MODEL_N; i++) {
		uint64_t base = top + 40 > 3000 ? top + 40 - 3000 : 0;
		uint64_t s = base + (uint64_t)(random() % 3040);
		int want = 0;

		if (n && top - s >= HB_REPLAY_WINDOW && s <= top)
			want = -HB_REASON_TOO_OLD;
		else if (model_seen(seen, n, s))
			want = -HB_REASON_REPLAY;
		assert_int_equal(hb_replay_window__check(&w, s), want);
		if (!want) {
			hb_replay_window__update(&w, s);
			seen[n++] = s;
			top = s > top ? s : top;
		}
	}
}

/* ---- The receiver: windows per (site, epoch) --------------------------------------------- */

#define SITE 5

static int rx_setup(void **state)
{
	return hb_rx_fixture__setup(state, SITE);
}

static int rx_feed(struct hb_rx_fixture *f, uint64_t epoch, uint64_t seq)
{
	uint8_t wire[HB_WIRE_LEN];
	struct hb_msg out;

	hb_test_build(wire, SITE, epoch, seq, f->key);
	return hb_receiver__process(&f->rx, wire, sizeof(wire), 0, &out);
}

static void test_rx_duplicate_and_reorder(void **state)
{
	struct hb_rx_fixture *f = *state;

	assert_int_equal(rx_feed(f, 10, 1), 0);
	assert_int_equal(rx_feed(f, 10, 3), 0);
	assert_int_equal(rx_feed(f, 10, 2), 0);
	assert_int_equal(rx_feed(f, 10, 2), -HB_REASON_REPLAY);
	assert_int_equal(rx_feed(f, 10, 3), -HB_REASON_REPLAY);
	assert_int_equal(rx_feed(f, 10, 5000), 0);
	assert_int_equal(rx_feed(f, 10, 4), -HB_REASON_TOO_OLD);
	assert_int_equal(f->rx.counters[HB_OK], 4);
	assert_int_equal(f->rx.counters[HB_REASON_REPLAY], 2);
	assert_int_equal(f->rx.counters[HB_REASON_TOO_OLD], 1);
}

/* A restarted beacon: larger epoch, sequence back at 1. Accepted; the old epoch is then dead. */
static void test_rx_new_epoch_then_old(void **state)
{
	struct hb_rx_fixture *f = *state;

	for (uint64_t s = 1; s <= 3000; s++)
		assert_int_equal(rx_feed(f, 100, s), 0);
	assert_int_equal(rx_feed(f, 200, 1), 0);
	assert_int_equal(rx_feed(f, 200, 2), 0);
	assert_int_equal(rx_feed(f, 200, 1), -HB_REASON_REPLAY);
	/* A late packet of the old run, or a replay of one: never accepted again. */
	assert_int_equal(rx_feed(f, 100, 3001), -HB_REASON_OLD_EPOCH);
	assert_int_equal(rx_feed(f, 100, 2999), -HB_REASON_OLD_EPOCH);
	assert_int_equal(f->rx.counters[HB_REASON_OLD_EPOCH], 2);
	assert_int_equal(f->rx.site[SITE].beacon[0].epoch, 200);
}

/* Someone without the key claims a newer epoch: counted as bad MAC, the window is untouched. */
static void test_rx_forged_new_epoch(void **state)
{
	struct hb_rx_fixture *f = *state;
	uint8_t wire[HB_WIRE_LEN], wrong[HB_KEY_BYTES];
	struct hb_msg out;

	for (uint64_t s = 1; s <= 10; s++)
		assert_int_equal(rx_feed(f, 100, s), 0);
	hb_test_key(wrong, 99);
	hb_test_build(wire, SITE, UINT64_MAX, 1, wrong);
	assert_int_equal(hb_receiver__process(&f->rx, wire, sizeof(wire), 0, &out),
			 -HB_REASON_BAD_MAC);
	/* Had the forgery reset the window, these replays would pass and epoch 100 would die. */
	assert_int_equal(rx_feed(f, 100, 10), -HB_REASON_REPLAY);
	assert_int_equal(rx_feed(f, 100, 11), 0);
	assert_int_equal(f->rx.site[SITE].beacon[0].epoch, 100);
	assert_int_equal(f->rx.counters[HB_REASON_BAD_MAC], 1);
}

static void test_rx_fields_and_skew(void **state)
{
	struct hb_rx_fixture *f = *state;
	struct hb_msg m = { .site_id = SITE, .epoch = 1, .seq = 1, .sent_ns = 5000000000ull };
	uint8_t wire[HB_WIRE_LEN];
	struct hb_msg out;

	hb_encode(&m, wire); /* interval 0: authentic, but no detector could use it */
	hb_seal(wire, f->key);
	assert_int_equal(hb_receiver__process(&f->rx, wire, sizeof(wire), 0, &out),
			 -HB_REASON_BAD_FIELD);
	m.interval_us = 1000;
	hb_encode(&m, wire);
	hb_seal(wire, f->key);
	f->rx.max_skew_ns = 1000000000ull;
	assert_int_equal(hb_receiver__process(&f->rx, wire, sizeof(wire), 7000000000ull, &out),
			 -HB_REASON_STALE);
	assert_int_equal(hb_receiver__process(&f->rx, wire, sizeof(wire), 5900000000ull, &out), 0);
	assert_int_equal(out.seq, 1);
	/* Rejections before acceptance did not consume the sequence: none was recorded twice. */
	assert_int_equal(f->rx.counters[HB_OK], 1);
}

static void test_rx_counts_every_reason(void **state)
{
	struct hb_rx_fixture *f = *state;
	uint8_t wire[HB_WIRE_LEN];
	struct hb_msg out;
	uint64_t total = 0;

	hb_test_build(wire, SITE, 1, 1, f->key);
	hb_receiver__process(&f->rx, wire, 10, 0, &out);
	hb_receiver__process(&f->rx, wire, sizeof(wire), 0, &out);
	wire[0] ^= 1;
	hb_receiver__process(&f->rx, wire, sizeof(wire), 0, &out);
	hb_test_build(wire, SITE + 1, 1, 1, f->key);
	hb_receiver__process(&f->rx, wire, sizeof(wire), 0, &out);
	assert_int_equal(f->rx.counters[HB_REASON_SHORT], 1);
	assert_int_equal(f->rx.counters[HB_OK], 1);
	assert_int_equal(f->rx.counters[HB_REASON_BAD_MAGIC], 1);
	assert_int_equal(f->rx.counters[HB_REASON_UNKNOWN_SITE], 1);
	for (int r = 0; r < HB_REASON_MAX; r++)
		total += f->rx.counters[r];
	assert_int_equal(total, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_in_order_and_duplicates),
		cmocka_unit_test(test_window_reordered),
		cmocka_unit_test(test_window_big_jump),
		cmocka_unit_test(test_window_near_wrap),
		cmocka_unit_test(test_window_against_model),
		cmocka_unit_test_setup_teardown(test_rx_duplicate_and_reorder, rx_setup,
						hb_rx_fixture__teardown),
		cmocka_unit_test_setup_teardown(test_rx_new_epoch_then_old, rx_setup,
						hb_rx_fixture__teardown),
		cmocka_unit_test_setup_teardown(test_rx_forged_new_epoch, rx_setup,
						hb_rx_fixture__teardown),
		cmocka_unit_test_setup_teardown(test_rx_fields_and_skew, rx_setup,
						hb_rx_fixture__teardown),
		cmocka_unit_test_setup_teardown(test_rx_counts_every_reason, rx_setup,
						hb_rx_fixture__teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
