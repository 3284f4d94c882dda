/* SPDX-License-Identifier: GPL-2.0-only */
/* The damping arithmetic on its own: decay, suppression, reuse time, ceiling. */
#include <errno.h>
#include <math.h>

#include "health_test.h"

#include "damping.h"

static const struct health_damping_config cfg = {
	.penalty_per_flap = 1000,
	.suppress_threshold = 2000,
	.reuse_threshold = 750,
	.half_life_ns = TEST_HALF_LIFE,
	.max_hold_down_ns = TEST_MAX_HOLD_DOWN,
};

static void test_penalty_halves_every_half_life(void **state)
{
	struct damping d = { 0 };
	double p0;
	int k;

	damping__flap(&d, &cfg, T0);
	p0 = damping__penalty(&d, &cfg, T0);
	assert_true(p0 == cfg.penalty_per_flap);
	for (k = 1; k <= 10; k++)
		assert_true(fabs(damping__penalty(&d, &cfg, T0 + k * TEST_HALF_LIFE) -
				 p0 / (1 << k)) < 1e-9 * p0);
	/* a time before the last flap does not extrapolate backwards */
	assert_true(damping__penalty(&d, &cfg, T0 - 1) == p0);
}

static void test_below_suppress_not_suppressed(void **state)
{
	struct damping d = { 0 };

	damping__flap(&d, &cfg, T0);
	assert_int_equal(d.reuse_ns, 0);
	assert_int_equal(damping__hold_down_end(&d, &cfg, TEST_HOLD_DOWN, T0 + 5),
			 T0 + 5 + TEST_HOLD_DOWN);
}

/* Suppressed until the penalty is at the reuse threshold, to the nanosecond. */
static void test_reuse_time_is_exact(void **state)
{
	struct damping d = { 0 };

	damping__flap(&d, &cfg, T0);
	damping__flap(&d, &cfg, T0);
	assert_true(d.reuse_ns > T0);
	assert_true(damping__penalty(&d, &cfg, d.reuse_ns) <= cfg.reuse_threshold);
	assert_true(damping__penalty(&d, &cfg, d.reuse_ns - 1) > cfg.reuse_threshold);
	assert_int_equal(damping__hold_down_end(&d, &cfg, TEST_HOLD_DOWN, T0), d.reuse_ns);
}

static void test_ceiling_bounds_hold_down(void **state)
{
	struct damping d = { 0 };
	double ceiling = cfg.reuse_threshold * exp2((double)TEST_MAX_HOLD_DOWN / TEST_HALF_LIFE);
	__u64 t = 20 * TEST_MAX_HOLD_DOWN;
	int i;

	for (i = 0; i < 1000; i++)
		damping__flap(&d, &cfg, t);
	assert_true(damping__penalty(&d, &cfg, t) <= ceiling);
	assert_true(d.reuse_ns - t <= TEST_MAX_HOLD_DOWN);
	/* a clean run that started long before is capped at max_hold_down from its start */
	assert_int_equal(damping__hold_down_end(&d, &cfg, TEST_HOLD_DOWN,
						t - 10 * TEST_MAX_HOLD_DOWN),
			 t - 9 * TEST_MAX_HOLD_DOWN);
}

static void test_disabled_and_validation(void **state)
{
	struct health_damping_config off = cfg, bad;
	struct damping d = { 0 };

	off.penalty_per_flap = 0;
	damping__flap(&d, &off, T0);
	assert_true(damping__penalty(&d, &off, T0) == 0.0);
	assert_int_equal(damping__hold_down_end(&d, &off, TEST_HOLD_DOWN, T0), T0 + TEST_HOLD_DOWN);
	assert_int_equal(damping_config__validate(&cfg, TEST_HOLD_DOWN), 0);
	assert_int_equal(damping_config__validate(&off, TEST_HOLD_DOWN), 0);
	bad = cfg, bad.reuse_threshold = 0;
	assert_int_equal(damping_config__validate(&bad, TEST_HOLD_DOWN), -EINVAL);
	bad = cfg, bad.suppress_threshold = bad.reuse_threshold - 1;
	assert_int_equal(damping_config__validate(&bad, TEST_HOLD_DOWN), -EINVAL);
	bad = cfg, bad.max_hold_down_ns = UINT64_MAX;
	assert_int_equal(damping_config__validate(&bad, TEST_HOLD_DOWN), -EINVAL);
	/* a huge clean-since never wraps around */
	assert_int_equal(damping__hold_down_end(&d, &off, TEST_HOLD_DOWN, UINT64_MAX - 1),
			 UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_penalty_halves_every_half_life),
		cmocka_unit_test(test_below_suppress_not_suppressed),
		cmocka_unit_test(test_reuse_time_is_exact),
		cmocka_unit_test(test_ceiling_bounds_hold_down),
		cmocka_unit_test(test_disabled_and_validation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
