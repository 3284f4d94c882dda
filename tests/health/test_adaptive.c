/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Adaptive detection (phi-accrual): a regular stream keeps the fixed detection time, a jittery
 * one earns a longer one computed from its own gaps, never beyond interval x 100, and a gap that
 * made the site DOWN is not learned (docs/detector.md, "Adaptive detection").
 */
#include <errno.h>
#include <math.h>

#include "health_test.h"
#include "phi.h"

#include "control/heartbeat/power_flags.h"

#define OK DT_POWER_MAINS
#define PHI 8.0

static struct health *new_adaptive(struct recorder *r, double phi)
{
	struct health_site_config cfg;

	test_site_config(&cfg, 0, "s0");
	cfg.phi_threshold = phi;
	return new_health_site(r, &cfg);
}

static __u64 detect_of(const struct health *h)
{
	struct health_site_status st;

	assert_int_equal(health__site_status(h, 0, &st), 0);
	return st.detect_ns;
}

/* Reference values of the standard normal's upper tail. */
static void test_phi_z(void **state)
{
	assert_true(fabs(phi_z(1.0) - 1.2816) < 1e-3); /* P(X > 1.2816) = 0.1 */
	assert_true(fabs(phi_z(3.0) - 3.0902) < 1e-3);
	assert_true(fabs(phi_z(8.0) - 5.6120) < 1e-3);
}

static void test_window_mean_and_floor(void **state)
{
	struct phi_window w = { 0 };
	int i;

	for (i = 0; i < PHI_MIN_SAMPLES - 1; i++)
		phi_window__add(&w, 1 * MS);
	assert_int_equal(phi_window__silence_ns(&w, 2.0, 0), 0); /* too few samples */
	phi_window__add(&w, 1 * MS);
	/* no deviation at all: the floor of 0.2 ms stands in for it */
	assert_int_equal(phi_window__silence_ns(&w, 2.0, 200000), 1 * MS + 2 * 200000);
	/* a full window forgets the oldest: 1000 gaps of 3 ms leave no 1 ms gap behind */
	for (i = 0; i < PHI_WINDOW; i++)
		phi_window__add(&w, 3 * MS);
	assert_int_equal(phi_window__silence_ns(&w, 1.0, 0), 3 * MS);
}

/* Regular heartbeats: mean + z x floor is below interval x multiplier, which stays the rule. */
static void test_regular_stream_keeps_fixed_detection(void **state)
{
	struct recorder r;
	struct health *h = new_adaptive(&r, PHI);
	__u64 last = beat_all(h, 1, T0, T0 + 200 * TEST_INTERVAL, OK);

	assert_int_equal(detect_of(h), TEST_DETECT);
	assert_int_equal(health__advance(h, last + TEST_DETECT), 0);
	assert_int_equal(last_event(&r)->to, DT_SITE_DOWN);
	assert_int_equal(last_event(&r)->deadline_ns, last + TEST_DETECT);
	health__free(h);
}

/*
 * Gaps of 5 and 25 ms alternating (mean 15 ms, deviation 10 ms): the site earns
 * 15 + z(8) x 10 = 71.1 ms, so a 40 ms gap that the fixed 30 ms rule would fail is no DOWN,
 * and the DOWN comes exactly at the learnt time.
 */
static void test_jittery_stream_earns_longer_detection(void **state)
{
	struct recorder r;
	struct health *h = new_adaptive(&r, PHI);
	__u64 t = T0, expect = (__u64)((15000.0 + phi_z(PHI) * 10000.0) * 1000);
	int i;

	for (i = 0; i < 201; i++) { /* the first heartbeat has no gap before it: 200 gaps */
		t += i % 2 ? 25 * MS : 5 * MS;
		beat(h, 0, t, OK);
	}
	assert_int_equal(detect_of(h), expect);
	t += 40 * MS;
	beat(h, 0, t, OK);
	assert_int_equal(state_of(h, 0), DT_SITE_UP);
	assert_int_equal(health__advance(h, t + detect_of(h)), 0);
	assert_int_equal(last_event(&r)->to, DT_SITE_DOWN);
	assert_int_equal(last_event(&r)->deadline_ns, t + detect_of(h));
	health__free(h);
}

/* However wild the gaps, detection never waits longer than interval x 100. */
static void test_detection_capped(void **state)
{
	struct recorder r;
	struct health *h = new_adaptive(&r, PHI);
	__u64 t = T0;
	int i;

	for (i = 0; i < 100; i++) {
		t += i % 2 ? detect_of(h) - 1 : 1 * MS; /* always just in time */
		beat(h, 0, t, OK);
	}
	assert_int_equal(detect_of(h), TEST_INTERVAL * HEALTH_PHI_MAX_MULTIPLIER);
	health__free(h);
}

/* The gap that made the site DOWN is the outage, not jitter: it is not learnt. */
static void test_outage_not_learnt(void **state)
{
	struct recorder r;
	struct health *h = new_adaptive(&r, PHI);
	__u64 last = beat_all(h, 1, T0, T0 + 50 * TEST_INTERVAL, OK);
	__u64 back = last + 10 * TEST_DETECT;

	beat(h, 0, back, OK);
	assert_int_equal(state_of(h, 0), DT_SITE_DOWN);
	beat_all(h, 1, back + TEST_INTERVAL, back + 20 * TEST_INTERVAL, OK);
	assert_int_equal(detect_of(h), TEST_DETECT);
	health__free(h);
}

static void test_bad_threshold(void **state)
{
	struct health_opts opts = { .start_ns = T0 };
	struct health_site_config cfg;
	struct health *h = NULL;

	assert_int_equal(health__new(&opts, &h), 0);
	test_site_config(&cfg, 0, "s0");
	cfg.phi_threshold = -1;
	assert_int_equal(health__add_site(h, &cfg), -EINVAL);
	cfg.phi_threshold = PHI_MAX + 0.5;
	assert_int_equal(health__add_site(h, &cfg), -EINVAL);
	cfg.phi_threshold = NAN;
	assert_int_equal(health__add_site(h, &cfg), -EINVAL);
	cfg.phi_threshold = PHI_MAX;
	assert_int_equal(health__add_site(h, &cfg), 0);
	health__free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phi_z),
		cmocka_unit_test(test_window_mean_and_floor),
		cmocka_unit_test(test_regular_stream_keeps_fixed_detection),
		cmocka_unit_test(test_jittery_stream_earns_longer_detection),
		cmocka_unit_test(test_detection_capped),
		cmocka_unit_test(test_outage_not_learnt),
		cmocka_unit_test(test_bad_threshold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
