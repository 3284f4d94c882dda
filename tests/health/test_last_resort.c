/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Damping and hold-down never leave traffic with nowhere to go: while no site takes new flows, a
 * DOWN site whose heartbeats arrive takes them at once (cause last_resort), and restore clears a
 * suppression. The scenario of issue 13, item 8: the failover sites' beacons stall a few times,
 * damping suppresses them, then the home loses power.
 */
#include "health_test.h"

#define ALL 0x7ull
#define FAILOVER 0x6ull /* s1, s2 */

/* s1 and s2 go silent for 50 ms (more than the 30 ms detection) while s0 beats on. */
static __u64 stall_failover(struct health *h, __u64 t)
{
	t = beat_all(h, 0x1, t, t + 50 * MS, 0) + TEST_INTERVAL;
	assert_int_equal(state_of(h, 1), DT_SITE_DOWN);
	assert_int_equal(state_of(h, 2), DT_SITE_DOWN);
	return t;
}

/* Three sites up, then three stalls of s1 and s2 with 200 ms of heartbeats between: suppressed. */
static __u64 suppress_failover_sites(struct health *h, __u64 *now)
{
	struct health_site_status st;
	__u64 t = beat_all(h, ALL, T0, T0 + 500 * MS, 0) + TEST_INTERVAL;

	for (int i = 0; i < 2; i++) {
		t = stall_failover(h, t);
		t = beat_all(h, ALL, t, t + 200 * MS, 0) + TEST_INTERVAL;
		assert_int_equal(state_of(h, 1), DT_SITE_RECOVERING);
	}
	t = stall_failover(h, t);
	t = beat_all(h, ALL, t, t + 2000 * MS, 0); /* twenty hold-downs of fresh heartbeats */
	assert_int_equal(health__site_status(h, 1, &st), 0);
	assert_int_equal(st.state, DT_SITE_DOWN);
	assert_true(st.suppressed);
	assert_true(st.suppressed_until_ns > t + 10000 * MS);
	assert_true(st.penalty >= 2000.0);
	*now = t;
	return t + TEST_INTERVAL;
}

static void test_home_cut_while_failover_suppressed(void **state)
{
	struct recorder *r = *state;
	struct health *h = new_health(r, 3, 0);
	const struct health_event *ev;
	__u64 last_home, t;
	unsigned int first;

	t = suppress_failover_sites(h, &last_home);
	first = r->n;
	beat_all(h, FAILOVER, t, t + 100 * MS, 0); /* the home is cut: only s1, s2 beat */
	assert_int_equal(state_of(h, 0), DT_SITE_DOWN);
	assert_int_equal(r->n, first + 3);
	/*
	 * The releases come before the home's DOWN: the daemon writes the dataplane once per event,
	 * and in the other order every site was DOWN between two writes and packets failed open to
	 * the dead home (seen in CI: test-suppressed-failover lost a request in that 0.2 ms).
	 */
	for (int i = 1; i <= 2; i++) {
		ev = &r->ev[first + i - 1];
		assert_int_equal(ev->site, i);
		assert_int_equal(ev->to, DT_SITE_RECOVERING);
		assert_string_equal(health_cause_name(ev->cause), "last_resort");
		assert_int_equal(ev->deadline_ns, last_home + TEST_DETECT); /* the same instant */
	}
	assert_event(&r->ev[first + 2], 0, DT_SITE_UP, DT_SITE_DOWN, HEALTH_CAUSE_HEARTBEAT_TIMEOUT,
		     last_home, last_home + TEST_DETECT, last_home + TEST_DETECT);
	assert_false(r->ev[first + 2].flags & HEALTH_EVENT_F_ALL_SITES_DOWN);
	assert_int_equal(state_of(h, 1), DT_SITE_RECOVERING);
	assert_int_equal(state_of(h, 2), DT_SITE_RECOVERING);
	health__free(h);
}

/*
 * The daemon drains a batch of heartbeats before it advances: the failover sites' heartbeats of
 * the batch are already later than the home's deadline when that deadline is processed. Both
 * are still released at the deadline (seen in a namespace run: only one was).
 */
static void test_release_with_later_heartbeats_in_batch(void **state)
{
	struct recorder *r = *state;
	struct health *h = new_health(r, 3, 0);
	__u64 last_home, t, deadline;

	t = suppress_failover_sites(h, &last_home);
	deadline = last_home + TEST_DETECT;
	beat_all(h, FAILOVER, t, deadline - TEST_INTERVAL / 2, 0);
	t = deadline + MS; /* the next batch arrives after the home's deadline */
	assert_int_equal(health__heartbeat(h, 1, 0, t, 0), 0);
	assert_int_equal(health__heartbeat(h, 2, 0, t + 1000, 0), 0);
	assert_int_equal(health__advance(h, t + 2000), 0);
	assert_int_equal(state_of(h, 0), DT_SITE_DOWN);
	for (int i = 1; i <= 2; i++) {
		const struct health_event *ev = &r->ev[r->n - 3 + i - 1];

		assert_int_equal(state_of(h, i), DT_SITE_RECOVERING);
		assert_int_equal(ev->site, i);
		assert_int_equal(ev->deadline_ns, deadline);
		assert_string_equal(health_cause_name(ev->cause), "last_resort");
	}
	assert_event(last_event(r), 0, DT_SITE_UP, DT_SITE_DOWN, HEALTH_CAUSE_HEARTBEAT_TIMEOUT,
		     last_home, deadline, t + 2000);
	health__free(h);
}

static void test_restore_clears_suppression(void **state)
{
	struct recorder *r = *state;
	struct health *h = new_health(r, 3, 0);
	struct health_site_status st;
	__u64 now;

	suppress_failover_sites(h, &now);
	assert_int_equal(health__restore(h, 1, now), 0);
	assert_int_equal(health__site_status(h, 1, &st), 0);
	assert_int_equal(st.state, DT_SITE_RECOVERING);
	assert_false(st.suppressed);
	assert_int_equal(st.suppressed_until_ns, 0);
	assert_true(st.penalty == 0.0);
	assert_event(last_event(r), 1, DT_SITE_DOWN, DT_SITE_RECOVERING,
		     HEALTH_CAUSE_OPERATOR_RESTORE, now, now, now);
	assert_int_equal(state_of(h, 2), DT_SITE_DOWN); /* only the restored site */
	health__free(h);
}

/* Every site silent (an edge cut off): nothing is released; the first one heard takes traffic. */
static void test_first_site_back_after_total_loss(void **state)
{
	struct recorder *r = *state;
	struct health *h = new_health(r, 3, 0);
	__u64 t = beat_all(h, ALL, T0, T0 + 500 * MS, 0) + TEST_INTERVAL;
	__u64 back = t + 500 * MS;

	assert_int_equal(health__advance(h, back - 1), 0);
	for (int s = 0; s < 3; s++)
		assert_int_equal(state_of(h, s), DT_SITE_DOWN);
	beat(h, 2, back, 0);
	assert_event(last_event(r), 2, DT_SITE_DOWN, DT_SITE_RECOVERING, HEALTH_CAUSE_LAST_RESORT,
		     back, back, back);
	assert_int_equal(state_of(h, 0), DT_SITE_DOWN);
	assert_int_equal(state_of(h, 1), DT_SITE_DOWN);
	beat_all(h, 0x6, back + TEST_INTERVAL, back + 50 * MS, 0);
	assert_int_equal(state_of(h, 2), DT_SITE_RECOVERING);
	assert_int_equal(state_of(h, 1), DT_SITE_DOWN); /* a site takes traffic: hold-down again */
	health__free(h);
}

/* An operator's fail is never overruled: the failed site stays DOWN with no other site left. */
static void test_failed_site_is_no_last_resort(void **state)
{
	struct recorder *r = *state;
	struct health *h = new_health(r, 2, 0);
	__u64 t = beat_all(h, 0x3, T0, T0 + 500 * MS, 0);

	assert_int_equal(health__fail(h, 1, t, HEALTH_F_FORCE), 0);
	t = beat_all(h, 0x2, t + TEST_INTERVAL, t + 200 * MS, 0);
	assert_int_equal(state_of(h, 0), DT_SITE_DOWN);
	assert_int_equal(state_of(h, 1), DT_SITE_DOWN);
	assert_true(last_event(r)->site == 0);
	health__free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_home_cut_while_failover_suppressed, recorder_setup),
		cmocka_unit_test_setup(test_release_with_later_heartbeats_in_batch, recorder_setup),
		cmocka_unit_test_setup(test_restore_clears_suppression, recorder_setup),
		cmocka_unit_test_setup(test_first_site_back_after_total_loss, recorder_setup),
		cmocka_unit_test_setup(test_failed_site_is_no_last_resort, recorder_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
