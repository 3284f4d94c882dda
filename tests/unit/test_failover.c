// SPDX-License-Identifier: GPL-2.0-only
/*
 * Failover slots as the control plane computes them: validation, determinism, weighted split,
 * and the rendezvous property that removing a candidate reorders nothing else.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "failover_slots.h"

static struct dt_failover_slots slots_a, slots_b;

static void test_rejects_bad_lists(void **state)
{
	const struct dt_failover_entry self[] = { { 1, 1 }, { 0, 1 } };
	const struct dt_failover_entry zero[] = { { 1, 0 } };
	const struct dt_failover_entry dup[] = { { 1, 1 }, { 1, 2 } };
	const struct dt_failover_entry range[] = { { DT_MAX_SITES, 1 } };
	const struct dt_failover_entry ok[] = { { 1, 1 } };

	assert_int_equal(dt_failover_slots__compute(&slots_a, 0, self, 2, 0), -EINVAL);
	assert_int_equal(dt_failover_slots__compute(&slots_a, 0, zero, 1, 0), -EINVAL);
	assert_int_equal(dt_failover_slots__compute(&slots_a, 0, dup, 2, 0), -EINVAL);
	assert_int_equal(dt_failover_slots__compute(&slots_a, 0, range, 1, 0), -EINVAL);
	assert_int_equal(dt_failover_slots__compute(&slots_a, 0, ok, 0, 0), -EINVAL);
	assert_int_equal(dt_failover_slots__compute(&slots_a, DT_MAX_SITES, ok, 1, 0), -EINVAL);
	assert_int_equal(dt_failover_slots__compute(&slots_a, 0, ok, 1, 0), 0);
}

/* Same configuration, same table: what lets a fleet of edges agree without talking. */
static void test_deterministic_and_seeded(void **state)
{
	const struct dt_failover_entry list[] = { { 1, 1 }, { 2, 1 }, { 3, 2 } };

	assert_int_equal(dt_failover_slots__compute(&slots_a, 0, list, 3, 7), 0);
	assert_int_equal(dt_failover_slots__compute(&slots_b, 0, list, 3, 7), 0);
	assert_memory_equal(&slots_a, &slots_b, sizeof(slots_a));
	assert_int_equal(dt_failover_slots__compute(&slots_b, 0, list, 3, 8), 0);
	assert_memory_not_equal(&slots_a, &slots_b, sizeof(slots_a));
}

/* Every slot ranks every candidate exactly once (n <= DT_FAILOVER_CANDIDATES), the rest NONE. */
static void test_every_slot_is_a_permutation(void **state)
{
	const struct dt_failover_entry list[] = { { 4, 3 }, { 9, 1 }, { 17, 5 } };
	unsigned int s, i;

	assert_int_equal(dt_failover_slots__compute(&slots_a, 2, list, 3, 1), 0);
	for (s = 0; s < DT_FAILOVER_SLOTS; s++) {
		unsigned int seen = 0;

		for (i = 0; i < 3; i++) {
			uint8_t c = slots_a.cand[s][i];

			assert_true(c == 4 || c == 9 || c == 17);
			seen |= 1u << (c % 32);
		}
		assert_int_equal(__builtin_popcount(seen), 3);
		assert_int_equal(slots_a.cand[s][3], DT_CANDIDATE_NONE);
	}
}

/* The first choice of each slot splits in proportion to the weights. */
static void test_first_choice_follows_weights(void **state)
{
	const struct dt_failover_entry list[] = { { 1, 1 }, { 2, 1 }, { 3, 2 } };
	unsigned int count[DT_MAX_SITES] = { 0 }, s;
	uint64_t seed;

	for (seed = 0; seed < 8; seed++) {
		assert_int_equal(dt_failover_slots__compute(&slots_a, 0, list, 3, seed), 0);
		for (s = 0; s < DT_FAILOVER_SLOTS; s++)
			count[slots_a.cand[s][0]]++;
	}
	/*
	 * 8192 slots: expected 2048 / 2048 / 4096. One binomial standard deviation is about 39 for
	 * the small shares and 45 for the large one; allow 5 of them.
	 */
	assert_in_range(count[1], 2048 - 200, 2048 + 200);
	assert_in_range(count[2], 2048 - 200, 2048 + 200);
	assert_in_range(count[3], 4096 - 230, 4096 + 230);
}

/* Rendezvous: dropping a candidate from the list leaves the relative order of the others. */
static void test_removing_a_candidate_reorders_nothing_else(void **state)
{
	const struct dt_failover_entry full[] = { { 1, 2 }, { 2, 1 }, { 3, 1 } };
	const struct dt_failover_entry less[] = { { 1, 2 }, { 3, 1 } };
	unsigned int s, i, j;

	assert_int_equal(dt_failover_slots__compute(&slots_a, 0, full, 3, 3), 0);
	assert_int_equal(dt_failover_slots__compute(&slots_b, 0, less, 2, 3), 0);
	for (s = 0; s < DT_FAILOVER_SLOTS; s++) {
		for (i = 0, j = 0; i < 3; i++) {
			if (slots_a.cand[s][i] == 2)
				continue;
			assert_int_equal(slots_a.cand[s][i], slots_b.cand[s][j++]);
		}
	}
}

/* Any number of failover sites: every slot ranks all of them, once each, then NONE. */
static void test_long_list_ranks_every_site(void **state)
{
	struct dt_failover_entry list[DT_MAX_SITES - 1];
	unsigned int s, i, n = DT_MAX_SITES - 1, first[DT_MAX_SITES] = { 0 };

	for (i = 0; i < n; i++)
		list[i] = (struct dt_failover_entry){ .site = i + 1, .weight = 1 };
	assert_int_equal(dt_failover_slots__compute(&slots_a, 0, list, n, 5), 0);
	for (s = 0; s < DT_FAILOVER_SLOTS; s++) {
		uint64_t seen = 0;

		for (i = 0; i < n; i++) {
			assert_in_range(slots_a.cand[s][i], 1, n);
			seen |= 1ull << slots_a.cand[s][i];
		}
		assert_int_equal(__builtin_popcountll(seen), n);
		for (; i < DT_FAILOVER_CANDIDATES; i++)
			assert_int_equal(slots_a.cand[s][i], DT_CANDIDATE_NONE);
		first[slots_a.cand[s][0]]++;
	}
	for (i = 1; i <= n; i++) /* 1024 / 63: about 16 first choices each */
		assert_in_range(first[i], 2, 40);
}

/*
 * Six failover sites, the first four listed down: the first up candidate of every slot is one
 * of the other two (with four candidates a slot, one slot in 15 had none), split by weight.
 */
static void test_six_sites_four_down(void **state)
{
	const struct dt_failover_entry list[] = { { 11, 1 }, { 12, 1 }, { 13, 1 },
						  { 14, 1 }, { 15, 1 }, { 16, 3 } };
	unsigned int s, i, on[DT_MAX_SITES] = { 0 };

	assert_int_equal(dt_failover_slots__compute(&slots_a, 1, list, 6, 9), 0);
	for (s = 0; s < DT_FAILOVER_SLOTS; s++) {
		for (i = 0; i < DT_FAILOVER_CANDIDATES; i++)
			if (slots_a.cand[s][i] == 15 || slots_a.cand[s][i] == 16)
				break;
		assert_true(i < DT_FAILOVER_CANDIDATES);
		on[slots_a.cand[s][i]]++;
	}
	/* among the two left, 1:3: expected 256 / 768 */
	assert_in_range(on[15], 256 - 70, 256 + 70);
	assert_int_equal(on[15] + on[16], DT_FAILOVER_SLOTS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rejects_bad_lists),
		cmocka_unit_test(test_deterministic_and_seeded),
		cmocka_unit_test(test_every_slot_is_a_permutation),
		cmocka_unit_test(test_first_choice_follows_weights),
		cmocka_unit_test(test_removing_a_candidate_reorders_nothing_else),
		cmocka_unit_test(test_long_list_ranks_every_site),
		cmocka_unit_test(test_six_sites_four_down),
	};

	return cmocka_run_group_tests_name("failover_slots", tests, NULL, NULL);
}
