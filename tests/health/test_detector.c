/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The failure detector: when a site is declared DOWN, what the event says about it, and why a
 * late timer or a late read never produces a false failover (docs/detector.md).
 */
#include "health_test.h"

#include "control/heartbeat/power_flags.h"

#define OK DT_POWER_MAINS

static void test_detect_exactly_at_deadline(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 1, 0);
	__u64 hb = T0 + 1 * MS, deadline = hb + TEST_DETECT;

	beat(h, 0, hb, OK);
	assert_int_equal(r.n, 1);
	assert_event(&r.ev[0], 0, DT_SITE_UNKNOWN, DT_SITE_UP, HEALTH_CAUSE_FIRST_HEARTBEAT, hb, hb,
		     hb);
	assert_int_equal(health__next_deadline(h), deadline);

	assert_int_equal(health__advance(h, deadline - 1), 0);
	assert_int_equal(state_of(h, 0), DT_SITE_UP);
	assert_int_equal(r.n, 1);

	assert_int_equal(health__advance(h, deadline), 0);
	assert_int_equal(state_of(h, 0), DT_SITE_DOWN);
	assert_int_equal(r.n, 2);
	assert_event(&r.ev[1], 0, DT_SITE_UP, DT_SITE_DOWN, HEALTH_CAUSE_HEARTBEAT_TIMEOUT, hb,
		     deadline, deadline);
	/* the only site is gone: said loudly */
	assert_true(r.ev[1].flags & HEALTH_EVENT_F_ALL_SITES_DOWN);
	assert_true(health__all_sites_down(h));
	health__free(h);
}

static void test_late_advance_reports_deadline_and_detected(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 1, 0);
	__u64 hb = T0 + 2 * MS, deadline = hb + TEST_DETECT, late = deadline + 7 * MS + 123;

	beat(h, 0, hb, OK);
	assert_int_equal(health__advance(h, late), 0);
	assert_int_equal(r.n, 2);
	assert_event(&r.ev[1], 0, DT_SITE_UP, DT_SITE_DOWN, HEALTH_CAUSE_HEARTBEAT_TIMEOUT, hb,
		     deadline, late);
	health__free(h);
}

/* The timer fired late and the heartbeat was read late, but it arrived in time: it wins. */
static void test_late_read_before_deadline_wins(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 1, 0);
	__u64 hb = T0 + 1 * MS, deadline = hb + TEST_DETECT;
	struct health_site_status st;

	beat(h, 0, hb, OK);
	/* woken 5 ms after the deadline: drain first (arrival deadline - 1), then advance */
	assert_int_equal(health__heartbeat(h, 0, 0, deadline - 1, OK), 0);
	assert_int_equal(health__advance(h, deadline + 5 * MS), 0);
	assert_int_equal(state_of(h, 0), DT_SITE_UP);
	assert_int_equal(r.n, 1);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.last_heartbeat_ns, deadline - 1);
	assert_int_equal(health__next_deadline(h), deadline - 1 + TEST_DETECT);
	health__free(h);
}

/* The other way round: a heartbeat that arrived after the deadline cannot hide the outage. */
static void test_late_heartbeat_does_not_hide_outage(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 1, 0);
	__u64 hb = T0 + 1 * MS, deadline = hb + TEST_DETECT, arrival = deadline + 2 * MS;
	struct health_site_status st;

	beat(h, 0, hb, OK);
	/* the timer never got to run; the late heartbeat is read first */
	assert_int_equal(health__heartbeat(h, 0, 0, arrival, OK), 0);
	assert_int_equal(r.n, 2);
	assert_event(&r.ev[1], 0, DT_SITE_UP, DT_SITE_DOWN, HEALTH_CAUSE_HEARTBEAT_TIMEOUT, hb,
		     deadline, arrival);
	assert_int_equal(health__advance(h, arrival + 3 * MS), 0);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.state, DT_SITE_DOWN);
	assert_true(st.clean_run);
	assert_int_equal(st.clean_since_ns, arrival);
	assert_int_equal(st.flaps, 1);
	health__free(h);
}

/* The liveness window is [last, last + detect): a heartbeat exactly at the deadline is late. */
static void test_heartbeat_at_deadline_is_late(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 1, 0);
	__u64 hb = T0 + 1 * MS, deadline = hb + TEST_DETECT;

	beat(h, 0, hb, OK);
	assert_int_equal(health__heartbeat(h, 0, 0, deadline, OK), 0);
	assert_int_equal(state_of(h, 0), DT_SITE_DOWN);
	assert_int_equal(last_event(&r)->deadline_ns, deadline);
	health__free(h);
}

static void test_reordered_heartbeat_ignored(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 1, 0);
	__u64 hb = T0 + 1 * MS;
	struct health_site_status st;

	beat(h, 0, hb, OK);
	assert_int_equal(health__heartbeat(h, 0, 0, hb + 5 * MS, OK), 0);
	/* older, and it carries a warning that is no longer current */
	assert_int_equal(health__heartbeat(h, 0, 0, hb + 3 * MS, DT_POWER_ON_BATTERY), 0);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.stale_heartbeats, 1);
	assert_int_equal(st.last_heartbeat_ns, hb + 5 * MS);
	assert_int_equal(st.state, DT_SITE_UP);
	assert_int_equal(health__next_deadline(h), hb + 5 * MS + TEST_DETECT);
	health__free(h);
}

/* One advance far past several deadlines: processed in time order, each at its own deadline. */
static void test_late_advance_orders_sites_by_deadline(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 3, 0);
	__u64 hb[3] = { T0 + 7 * MS, T0 + 2 * MS, T0 + 4 * MS };
	__u64 late = T0 + 500 * MS;
	int i;

	assert_int_equal(health__heartbeat(h, 0, 0, hb[0], OK), 0);
	assert_int_equal(health__heartbeat(h, 1, 0, hb[1], OK), 0);
	assert_int_equal(health__heartbeat(h, 2, 0, hb[2], OK), 0);
	r.n = 0;
	assert_int_equal(health__advance(h, late), 0);
	assert_int_equal(r.n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(r.ev[i].cause, HEALTH_CAUSE_HEARTBEAT_TIMEOUT);
		assert_int_equal(r.ev[i].detected_ns, late);
		assert_int_equal(r.ev[i].deadline_ns, hb[r.ev[i].site] + TEST_DETECT);
		if (i)
			assert_true(r.ev[i - 1].deadline_ns < r.ev[i].deadline_ns);
	}
	/* only the last one leaves no site up */
	assert_false(r.ev[1].flags & HEALTH_EVENT_F_ALL_SITES_DOWN);
	assert_true(r.ev[2].flags & HEALTH_EVENT_F_ALL_SITES_DOWN);
	health__free(h);
}

/* ---- Jitter and scheduling delay ------------------------------------------------------------ */

static __u64 rng_next(__u64 *s)
{
	/* xorshift64*: reproducible from the seed, good enough for jitter */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static __u64 rng_below(__u64 *s, __u64 n)
{
	return rng_next(s) % n;
}

#define JITTER_BEATS 5000

/*
 * A beacon with up to 0.5 x interval of jitter; a daemon that is usually prompt but stalls for up
 * to 3 intervals one wake-up in 20 (a loaded machine). Returns the heartbeat timeouts seen.
 */
static int run_jittered(__u64 seed, bool drain_first)
{
	static __u64 arrival[JITTER_BEATS];
	struct recorder r;
	struct health *h = new_health(&r, 1, 0);
	__u64 wake = 0, lateness;
	int i, fed = 0, timeouts = 0;

	for (i = 0; i < JITTER_BEATS; i++)
		arrival[i] = T0 + i * TEST_INTERVAL + rng_below(&seed, TEST_INTERVAL / 2);
	for (i = 0; i < JITTER_BEATS; i++) {
		lateness = rng_below(&seed, 20) ? rng_below(&seed, TEST_INTERVAL / 5) :
						  rng_below(&seed, 3 * TEST_INTERVAL);
		if (arrival[i] + lateness > wake)
			wake = arrival[i] + lateness;
		if (!drain_first)
			assert_int_equal(health__advance(h, wake), 0);
		for (; fed < JITTER_BEATS && arrival[fed] <= wake; fed++)
			assert_int_equal(health__heartbeat(h, 0, 0, arrival[fed], OK), 0);
		if (drain_first)
			assert_int_equal(health__advance(h, wake), 0);
	}
	for (i = 0; i < r.n; i++)
		timeouts += r.ev[i].cause == HEALTH_CAUSE_HEARTBEAT_TIMEOUT;
	if (drain_first) {
		assert_int_equal(r.n, 1);
		assert_int_equal(state_of(h, 0), DT_SITE_UP);
	}
	health__free(h);
	return timeouts;
}

static void test_jittered_heartbeats_never_trip(void **state)
{
	static const __u64 seeds[] = { 0x9e3779b97f4a7c15ull, 1, 0xdeadbeefcafeull, 42 };
	unsigned int i;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		assert_int_equal(run_jittered(seeds[i], true), 0);
}

/* The same streams, read in the wrong order (advance before draining), do trip: the rule matters. */
static void test_wrong_loop_order_would_trip(void **state)
{
	assert_true(run_jittered(0x9e3779b97f4a7c15ull, false) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect_exactly_at_deadline),
		cmocka_unit_test(test_late_advance_reports_deadline_and_detected),
		cmocka_unit_test(test_late_read_before_deadline_wins),
		cmocka_unit_test(test_late_heartbeat_does_not_hide_outage),
		cmocka_unit_test(test_heartbeat_at_deadline_is_late),
		cmocka_unit_test(test_reordered_heartbeat_ignored),
		cmocka_unit_test(test_late_advance_orders_sites_by_deadline),
		cmocka_unit_test(test_jittered_heartbeats_never_trip),
		cmocka_unit_test(test_wrong_loop_order_would_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
