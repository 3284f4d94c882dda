/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The blackout guard: when every site goes silent at once the edge is what stalled, so nobody is
 * failed until the hold runs out; one site's silence while the others talk is still a DOWN at
 * its deadline, to the nanosecond (docs/detector.md, "The blackout guard").
 */
#include <errno.h>

#include "health_test.h"

#include "control/heartbeat/power_flags.h"

#define OK DT_POWER_MAINS
#define HOLD (2000 * MS)
#define ALL3 0x7ull

static struct health *new_guarded(struct recorder *r, int nsites, __u64 hold_ns)
{
	struct health *h = new_health(r, nsites, 0);

	assert_int_equal(health__set_blackout_hold(h, hold_ns), 0);
	return h;
}

static int count(const struct recorder *r, enum health_cause cause, enum dt_site_state to)
{
	int i, n = 0;

	for (i = 0; i < r->n; i++)
		n += r->ev[i].cause == cause && r->ev[i].to == to;
	return n;
}

static int count_down(const struct recorder *r)
{
	int i, n = 0;

	for (i = 0; i < r->n; i++)
		n += r->ev[i].to == DT_SITE_DOWN && r->ev[i].from != DT_SITE_DOWN;
	return n;
}

static const struct health_event *find(const struct recorder *r, __u16 site,
				       enum health_cause cause)
{
	int i;

	for (i = 0; i < r->n; i++) {
		if (r->ev[i].site == site && r->ev[i].cause == cause)
			return &r->ev[i];
	}
	fail_msg("no %s event of site %u", health_cause_name(cause), site);
	return NULL;
}

/* Three sites, staggered by a third of an interval as independent beacons are. */
static __u64 beat_staggered(struct health *h, __u64 mask, __u64 from_ns, __u64 to_ns)
{
	__u64 t, last = from_ns;
	__u16 s;

	for (t = from_ns; t < to_ns; t += TEST_INTERVAL) {
		for (s = 0; s < 3; s++) {
			if (!(mask & (1ull << s)))
				continue;
			last = t + s * TEST_INTERVAL / 3;
			assert_int_equal(health__heartbeat(h, s, 0, last, OK), 0);
			assert_int_equal(health__advance(h, last), 0);
		}
	}
	return last;
}

/* The whole edge stalls for 184 intervals: no DOWN, every deadline held, then released. */
static void test_common_silence_fails_nobody(void **state)
{
	struct recorder r;
	struct health *h = new_guarded(&r, 3, HOLD);
	__u64 last = beat_staggered(h, ALL3, T0, T0 + 100 * MS);
	__u64 resume = last + 184 * TEST_INTERVAL;
	struct health_site_status st;

	assert_int_equal(health__advance(h, resume - 1), 0);
	assert_int_equal(count_down(&r), 0);
	assert_int_equal(count(&r, HEALTH_CAUSE_BLACKOUT_HOLD, DT_SITE_UP), 3);
	assert_int_equal(health__site_status(h, 1, &st), 0);
	assert_true(st.blackout_held);
	assert_int_equal(st.state, DT_SITE_UP);

	beat_staggered(h, ALL3, resume, resume + 100 * MS);
	assert_int_equal(count_down(&r), 0);
	assert_int_equal(count(&r, HEALTH_CAUSE_BLACKOUT_END, DT_SITE_UP), 3);
	assert_int_equal(health__site_status(h, 1, &st), 0);
	assert_false(st.blackout_held);
	assert_int_equal(st.blackout_holds, 1);
	assert_int_equal(st.flaps, 0);
	assert_true(st.clean_run); /* the stall was not the site's gap */
	health__free(h);
}

/* The same stall without the guard: every site fails (what the guard is there to prevent). */
static void test_common_silence_without_guard_fails_all(void **state)
{
	struct recorder r;
	struct health *h = new_guarded(&r, 3, 0);
	__u64 last = beat_staggered(h, ALL3, T0, T0 + 100 * MS);

	assert_int_equal(health__advance(h, last + 184 * TEST_INTERVAL), 0);
	assert_int_equal(count_down(&r), 3);
	assert_int_equal(count(&r, HEALTH_CAUSE_BLACKOUT_HOLD, DT_SITE_UP), 0);
	health__free(h);
}

/* One site cut while the others talk: DOWN exactly at its deadline, the guard changes nothing. */
static void test_single_cut_detected_at_deadline(void **state)
{
	struct recorder r;
	struct health *h = new_guarded(&r, 3, HOLD);
	__u64 last = beat_staggered(h, ALL3, T0, T0 + 100 * MS);
	__u64 last0 = last - 2 * TEST_INTERVAL / 3; /* site 0 beat a third before site 1 ... */
	const struct health_event *ev;

	beat_staggered(h, 0x6, last + 1, last0 + TEST_DETECT + 5 * TEST_INTERVAL);
	ev = find(&r, 0, HEALTH_CAUSE_HEARTBEAT_TIMEOUT);
	assert_int_equal(ev->deadline_ns, last0 + TEST_DETECT);
	assert_int_equal(ev->to, DT_SITE_DOWN);
	assert_false(ev->flags & HEALTH_EVENT_F_BLACKOUT);
	assert_int_equal(count(&r, HEALTH_CAUSE_BLACKOUT_HOLD, DT_SITE_UP), 0);
	health__free(h);
}

/*
 * Site 0 dies inside a blackout: its silence counts only outside it. Silent from its last beat
 * to the blackout's start (the last time anyone was heard) and again after the first heartbeat
 * that ends it: DOWN once those two add up to its detection time.
 */
static void test_cut_inside_blackout_counts_silence_outside_it(void **state)
{
	struct recorder r;
	struct health *h = new_guarded(&r, 3, HOLD);
	__u64 last2 = beat_staggered(h, ALL3, T0, T0 + 100 * MS);
	__u64 last0 = last2 - 2 * TEST_INTERVAL / 3;
	__u64 resume = last2 + 50 * TEST_INTERVAL;
	__u64 ends = resume + TEST_INTERVAL / 3; /* site 1's first heartbeat */
	__u64 expect = ends + TEST_DETECT - (last2 - last0);
	const struct health_event *ev;

	beat_staggered(h, 0x6, resume, expect + 3 * TEST_INTERVAL);
	ev = find(&r, 0, HEALTH_CAUSE_HEARTBEAT_TIMEOUT);
	assert_int_equal(ev->deadline_ns, expect);
	assert_int_equal(ev->last_heartbeat_ns, last0);
	assert_int_equal(count_down(&r), 1);
	/* all three were held; the two that talk again never went down */
	assert_int_equal(count(&r, HEALTH_CAUSE_BLACKOUT_HOLD, DT_SITE_UP), 3);
	assert_int_equal(state_of(h, 1), DT_SITE_UP);
	assert_int_equal(state_of(h, 2), DT_SITE_UP);
	health__free(h);
}

/* Nobody is heard for longer than the hold: each site fails when its own hold runs out. */
static void test_blackout_longer_than_hold_fails_all(void **state)
{
	struct recorder r;
	struct health *h = new_guarded(&r, 3, HOLD);
	__u64 last2 = beat_staggered(h, ALL3, T0, T0 + 100 * MS);
	__u64 last0 = last2 - 2 * TEST_INTERVAL / 3;
	const struct health_event *ev;

	assert_int_equal(health__advance(h, last2 + TEST_DETECT + HOLD), 0);
	assert_int_equal(count_down(&r), 3);
	ev = find(&r, 0, HEALTH_CAUSE_HEARTBEAT_TIMEOUT);
	assert_int_equal(ev->deadline_ns, last0 + TEST_DETECT + HOLD);
	assert_true(ev->flags & HEALTH_EVENT_F_BLACKOUT);
	assert_true(last_event(&r)->flags & HEALTH_EVENT_F_ALL_SITES_DOWN);
	health__free(h);
}

/*
 * After a stall the daemon reads everything at once, sorted by arrival, with no advance between:
 * deadlines that passed during the stall are judged then, and still held.
 */
static void test_backlog_read_after_stall_fails_nobody(void **state)
{
	struct recorder r;
	struct health *h = new_guarded(&r, 3, HOLD);
	__u64 last = beat_staggered(h, ALL3, T0, T0 + 100 * MS);
	__u64 t = last + 20 * TEST_INTERVAL;
	__u16 s;

	for (s = 0; s < 3; s++)
		assert_int_equal(health__heartbeat(h, s, 0, t + s * MS, OK), 0);
	assert_int_equal(health__advance(h, t + 3 * MS), 0);
	assert_int_equal(count_down(&r), 0);
	assert_int_equal(count(&r, HEALTH_CAUSE_BLACKOUT_END, DT_SITE_UP), 3);
	health__free(h);
}

/* One other site silent is no blackout while a third still talks. */
static void test_one_talking_witness_is_enough(void **state)
{
	struct recorder r;
	struct health *h = new_guarded(&r, 3, HOLD);
	__u64 last = beat_staggered(h, ALL3, T0, T0 + 100 * MS);

	beat_staggered(h, 0x4, last + 1, last + 10 * TEST_INTERVAL);
	assert_int_equal(count(&r, HEALTH_CAUSE_HEARTBEAT_TIMEOUT, DT_SITE_DOWN), 2);
	assert_int_equal(count(&r, HEALTH_CAUSE_BLACKOUT_HOLD, DT_SITE_UP), 0);
	health__free(h);
}

/* With every other site already DOWN there is no witness: the last site fails at its deadline. */
static void test_no_witness_no_guard(void **state)
{
	struct recorder r;
	struct health *h = new_guarded(&r, 2, HOLD);
	__u64 last = beat_staggered(h, 0x3, T0, T0 + 100 * MS);
	__u64 last1;

	last1 = beat_staggered(h, 0x2, last + 1, last + 10 * TEST_INTERVAL);
	assert_int_equal(state_of(h, 0), DT_SITE_DOWN);
	assert_int_equal(health__advance(h, last1 + TEST_DETECT), 0);
	assert_int_equal(state_of(h, 1), DT_SITE_DOWN);
	assert_int_equal(last_event(&r)->deadline_ns, last1 + TEST_DETECT);
	assert_false(last_event(&r)->flags & HEALTH_EVENT_F_BLACKOUT);
	health__free(h);
}

static void test_blackout_hold_bounds(void **state)
{
	struct health_opts opts = { .start_ns = T0, .blackout_hold_ns = (1ull << 60) + 1 };
	struct recorder r;
	struct health *h = NULL;

	assert_int_equal(health__new(&opts, &h), -EINVAL);
	h = new_guarded(&r, 1, HOLD);
	assert_int_equal(health__set_blackout_hold(h, (1ull << 60) + 1), -EINVAL);
	assert_int_equal(health__set_blackout_hold(NULL, HOLD), -EINVAL);
	assert_string_equal(health_cause_name(HEALTH_CAUSE_BLACKOUT_HOLD), "blackout_hold");
	assert_string_equal(health_cause_name(HEALTH_CAUSE_BLACKOUT_END), "blackout_end");
	health__free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_silence_fails_nobody),
		cmocka_unit_test(test_common_silence_without_guard_fails_all),
		cmocka_unit_test(test_single_cut_detected_at_deadline),
		cmocka_unit_test(test_cut_inside_blackout_counts_silence_outside_it),
		cmocka_unit_test(test_blackout_longer_than_hold_fails_all),
		cmocka_unit_test(test_backlog_read_after_stall_fails_nobody),
		cmocka_unit_test(test_one_talking_witness_is_enough),
		cmocka_unit_test(test_no_witness_no_guard),
		cmocka_unit_test(test_blackout_hold_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
