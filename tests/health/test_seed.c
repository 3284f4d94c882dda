/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A restarted daemon goes on where the last one stopped (issue 13, item 7): health__seed_site()
 * gives a site the state, override and damping that health__site_seed() saved. A DOWN site needs
 * its hold-down of fresh heartbeats, a failed one stays failed, a RECOVERING one is not UP before
 * it is heard, a seeded site that is never heard goes DOWN after the start-up grace, and a seed
 * that cannot be is refused.
 */
#include <errno.h>

#include "health_test.h"

#define GRACE (500 * MS)

static struct health_seed seed_of(enum dt_site_state state, enum health_override override)
{
	return (struct health_seed){ .state = state, .override = override, .since_ns = T0 / 2 };
}

/* The other site as a restart finds it: UP (else the DOWN one would be the last resort). */
static void seed_up(struct health *h, __u16 site)
{
	struct health_seed seed = seed_of(DT_SITE_UP, HEALTH_OVERRIDE_NONE);

	assert_int_equal(health__seed_site(h, site, &seed), 0);
}

static void test_seed_down_needs_hold_down(void **state)
{
	struct recorder *r = *state;
	struct health *h = new_health(r, 2, GRACE);
	struct health_seed seed = seed_of(DT_SITE_DOWN, HEALTH_OVERRIDE_NONE);
	__u64 first = T0 + 5 * MS, t;

	assert_int_equal(health__seed_site(h, 0, &seed), 0);
	assert_int_equal(r->n, 1);
	/* its deadline is when it went DOWN, under the last daemon */
	assert_event(&r->ev[0], 0, DT_SITE_UNKNOWN, DT_SITE_DOWN, HEALTH_CAUSE_STATE_RESTORED, 0,
		     T0 / 2, T0);
	seed_up(h, 1);
	/* heartbeats from 5 ms on: still DOWN just before the hold-down, RECOVERING at its end */
	t = beat_all(h, 0x3, first, first + TEST_HOLD_DOWN, 0);
	assert_int_equal(state_of(h, 0), DT_SITE_DOWN);
	assert_int_equal(state_of(h, 1), DT_SITE_UP);
	beat_all(h, 0x3, t + TEST_INTERVAL, t + 2 * TEST_INTERVAL, 0);
	assert_int_equal(state_of(h, 0), DT_SITE_RECOVERING);
	for (int i = 0; i < r->n; i++) {
		if (r->ev[i].site == 0 && r->ev[i].to == DT_SITE_RECOVERING) {
			assert_string_equal(health_cause_name(r->ev[i].cause), "hold_down_passed");
			assert_int_equal(r->ev[i].deadline_ns, first + TEST_HOLD_DOWN);
		}
		assert_false(r->ev[i].site == 0 && r->ev[i].to == DT_SITE_UP);
	}
	health__free(h);
}

static void test_seed_fail_override_stays(void **state)
{
	struct recorder *r = *state;
	struct health *h = new_health(r, 2, GRACE);
	struct health_seed seed = seed_of(DT_SITE_DOWN, HEALTH_OVERRIDE_FAIL);
	struct health_site_status st;
	__u64 t;

	assert_int_equal(health__seed_site(h, 0, &seed), 0);
	t = beat_all(h, 0x3, T0 + MS, T0 + 10 * TEST_HOLD_DOWN, 0);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.state, DT_SITE_DOWN);
	assert_int_equal(st.override, HEALTH_OVERRIDE_FAIL);
	assert_int_equal(health__restore(h, 0, t), 0);
	beat_all(h, 0x3, t + TEST_INTERVAL, t + 2 * TEST_INTERVAL, 0);
	assert_int_equal(state_of(h, 0), DT_SITE_RECOVERING);
	health__free(h);
}

static void test_seed_drain_override_stays(void **state)
{
	struct recorder *r = *state;
	struct health *h = new_health(r, 2, GRACE);
	struct health_seed seed = seed_of(DT_SITE_DRAINING, HEALTH_OVERRIDE_DRAIN);
	struct health_site_status st;

	assert_int_equal(health__seed_site(h, 1, &seed), 0);
	beat_all(h, 0x3, T0 + MS, T0 + 10 * TEST_HOLD_DOWN, 0);
	assert_int_equal(health__site_status(h, 1, &st), 0);
	assert_int_equal(st.state, DT_SITE_DRAINING);
	assert_int_equal(st.override, HEALTH_OVERRIDE_DRAIN);
	health__free(h);
}

/* Its recovery timeout long past, its flows idle: still not UP until its first heartbeat. */
static void test_seed_recovering_not_up_before_heard(void **state)
{
	struct recorder *r = *state;
	struct health *h = new_health(r, 2, GRACE);
	struct health_seed seed = seed_of(DT_SITE_RECOVERING, HEALTH_OVERRIDE_NONE);
	__u64 t = T0 + GRACE - 10 * MS;

	seed.since_ns = MS; /* its recovery timeout ended at T0 + MS */
	assert_int_equal(health__seed_site(h, 0, &seed), 0);
	assert_int_equal(health__advance(h, t), 0);
	assert_int_equal(health__flows_idle(h, 0, t), 0);
	assert_int_equal(state_of(h, 0), DT_SITE_RECOVERING);
	beat(h, 0, t + MS, 0);
	assert_int_equal(state_of(h, 0), DT_SITE_UP); /* the recovery timeout had passed */
	assert_string_equal(health_cause_name(last_event(r)->cause), "recovery_timeout");
	health__free(h);
}

/* A RECOVERING site heard again keeps recovering until its own timeout, counted from before. */
static void test_seed_recovering_keeps_its_clock(void **state)
{
	struct recorder *r = *state;
	struct health *h = new_health(r, 1, GRACE);
	struct health_seed seed = seed_of(DT_SITE_RECOVERING, HEALTH_OVERRIDE_NONE);
	__u64 t;

	seed.since_ns = T0 - TEST_RECOVERY / 2;
	assert_int_equal(health__seed_site(h, 0, &seed), 0);
	t = beat_all(h, 0x1, T0 + MS, T0 + TEST_RECOVERY / 2 - MS, 0);
	assert_int_equal(state_of(h, 0), DT_SITE_RECOVERING);
	beat_all(h, 0x1, t + TEST_INTERVAL, t + 3 * TEST_INTERVAL, 0);
	assert_int_equal(state_of(h, 0), DT_SITE_UP);
	assert_int_equal(last_event(r)->deadline_ns, T0 + TEST_RECOVERY / 2);
	health__free(h);
}

static void test_seed_up_silent_goes_down_after_grace(void **state)
{
	struct recorder *r = *state;
	struct health *h = new_health(r, 2, GRACE);
	struct health_seed seed = seed_of(DT_SITE_UP, HEALTH_OVERRIDE_NONE);
	struct health_site_status st;

	seed.flaps = 2;
	assert_int_equal(health__seed_site(h, 0, &seed), 0);
	beat_all(h, 0x2, T0 + MS, T0 + GRACE - MS, 0);
	assert_int_equal(state_of(h, 0), DT_SITE_UP);
	beat_all(h, 0x2, T0 + GRACE - MS + TEST_INTERVAL, T0 + GRACE + TEST_INTERVAL, 0);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.state, DT_SITE_DOWN);
	assert_int_equal(st.flaps, 2); /* never heard in this life: not a flap */
	for (int i = 0; i < r->n; i++)
		if (r->ev[i].site == 0 && r->ev[i].to == DT_SITE_DOWN)
			assert_event(&r->ev[i], 0, DT_SITE_UP, DT_SITE_DOWN,
				     HEALTH_CAUSE_NO_HEARTBEAT, 0, T0 + GRACE,
				     r->ev[i].detected_ns);
	health__free(h);
}

/* A suppressed site stays suppressed across the restart: its hold-down ends at reuse. */
static void test_seed_keeps_suppression(void **state)
{
	struct recorder *r = *state;
	struct health *h = new_health(r, 2, GRACE);
	struct health_seed seed = seed_of(DT_SITE_DOWN, HEALTH_OVERRIDE_NONE);
	struct health_site_status st;
	__u64 reuse = T0 + 5 * TEST_HOLD_DOWN;

	seed.penalty = 2500;
	seed.penalty_ns = T0 - MS;
	seed.reuse_ns = reuse;
	seed.flaps = 3;
	assert_int_equal(health__seed_site(h, 0, &seed), 0);
	seed_up(h, 1);
	beat_all(h, 0x3, T0 + MS, reuse - MS, 0);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.state, DT_SITE_DOWN);
	assert_true(st.suppressed);
	assert_int_equal(st.suppressed_until_ns, reuse);
	assert_int_equal(st.flaps, 3);
	beat_all(h, 0x3, reuse - MS + TEST_INTERVAL, reuse + 2 * TEST_INTERVAL, 0);
	assert_int_equal(state_of(h, 0), DT_SITE_RECOVERING);
	health__free(h);
}

/* What one library saves, another takes: state, override, since, flaps, damping. */
static void test_seed_round_trip(void **state)
{
	struct recorder *r = *state;
	struct health *h = new_health(r, 2, GRACE), *h2;
	struct health_seed a, b;
	__u64 t;

	t = beat_all(h, 0x3, T0, T0 + 200 * MS, 0);
	t = beat_all(h, 0x2, t + TEST_INTERVAL, t + 100 * MS, 0); /* s0 DOWN: a flap */
	assert_int_equal(health__fail(h, 0, t, 0), 0);
	assert_int_equal(health__site_seed(h, 0, &a), 0);
	assert_int_equal(a.state, DT_SITE_DOWN);
	assert_int_equal(a.override, HEALTH_OVERRIDE_FAIL);
	assert_int_equal(a.flaps, 1);
	assert_true(a.penalty > 0);
	assert_true(a.since_ns > T0 + 200 * MS && a.since_ns < t);
	h2 = new_health(r, 2, GRACE);
	assert_int_equal(health__seed_site(h2, 0, &a), 0);
	assert_int_equal(health__site_seed(h2, 0, &b), 0);
	assert_int_equal(b.state, a.state);
	assert_int_equal(b.override, a.override);
	assert_int_equal(b.flaps, a.flaps);
	assert_true(b.penalty == a.penalty);
	assert_int_equal(b.since_ns, T0); /* a time later than the new library's now is now */
	health__free(h);
	health__free(h2);
}

static void test_seed_refused(void **state)
{
	struct recorder *r = *state;
	struct health *h = new_health(r, 2, GRACE);
	struct health_seed seed = seed_of(DT_SITE_UP, HEALTH_OVERRIDE_FAIL);

	assert_int_equal(health__seed_site(h, 0, &seed), -EINVAL); /* fail, yet UP */
	seed = seed_of(DT_SITE_RECOVERING, HEALTH_OVERRIDE_DRAIN);
	assert_int_equal(health__seed_site(h, 0, &seed), -EINVAL); /* drain, yet takes flows */
	seed = seed_of((enum dt_site_state)7, HEALTH_OVERRIDE_NONE);
	assert_int_equal(health__seed_site(h, 0, &seed), -EINVAL);
	seed = seed_of(DT_SITE_DOWN, (enum health_override)3);
	assert_int_equal(health__seed_site(h, 0, &seed), -EINVAL);
	seed = seed_of(DT_SITE_DOWN, HEALTH_OVERRIDE_NONE);
	seed.penalty = -1;
	assert_int_equal(health__seed_site(h, 0, &seed), -EINVAL);
	seed.penalty = 0;
	assert_int_equal(health__seed_site(h, 9, &seed), -ENOENT);
	assert_int_equal(r->n, 0); /* nothing refused left a trace */
	assert_int_equal(state_of(h, 0), DT_SITE_UNKNOWN);
	assert_int_equal(health__seed_site(h, 0, &seed), 0);
	assert_int_equal(health__seed_site(h, 0, &seed), -EBUSY); /* seeded once */
	beat(h, 1, T0 + MS, 0);
	assert_int_equal(health__seed_site(h, 1, &seed), -EBUSY); /* heard */
	health__free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_seed_down_needs_hold_down, recorder_setup),
		cmocka_unit_test_setup(test_seed_fail_override_stays, recorder_setup),
		cmocka_unit_test_setup(test_seed_drain_override_stays, recorder_setup),
		cmocka_unit_test_setup(test_seed_recovering_not_up_before_heard, recorder_setup),
		cmocka_unit_test_setup(test_seed_recovering_keeps_its_clock, recorder_setup),
		cmocka_unit_test_setup(test_seed_up_silent_goes_down_after_grace, recorder_setup),
		cmocka_unit_test_setup(test_seed_keeps_suppression, recorder_setup),
		cmocka_unit_test_setup(test_seed_round_trip, recorder_setup),
		cmocka_unit_test_setup(test_seed_refused, recorder_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
