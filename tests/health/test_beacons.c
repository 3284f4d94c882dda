// SPDX-License-Identifier: GPL-2.0-only
/*
 * Several beacons per site (issue 13): alive while any is heard, a silent one only a notice,
 * power from several feeds (min_supplies), rolling restarts, gap observation, and recovery on a
 * jittery link.
 */
#include <errno.h>

#include "health_test.h"
#include "control/heartbeat/power_flags.h"

#define OK 0u
#define A 0
#define B 1

/* One site "s0" with beacons @mask and @min_supplies, the test timers; no blackout guard. */
static struct health *beacon_health(struct recorder *r, __u8 mask, __u8 min_supplies)
{
	struct health_site_config cfg;

	test_site_config(&cfg, 0, "s0");
	cfg.beacons = mask;
	cfg.min_supplies = min_supplies;
	return new_health_site(r, &cfg);
}

static void hb(struct health *h, __u8 beacon, __u64 at_ns, __u32 flags)
{
	assert_int_equal(health__heartbeat(h, 0, beacon, at_ns, flags), 0);
	assert_int_equal(health__advance(h, at_ns), 0);
}

/*
 * The setting: 1 ms x 3, hold-down 1 s; 100 ms of heartbeats, then a 10 ms stall has made
 * it DOWN. Returns the time the heartbeats come back.
 */
static __u64 jittery_site_down(struct recorder *r, struct health **hp)
{
	struct health_site_config cfg;
	__u64 t;

	health_site_config__init(&cfg, 0, "s0");
	cfg.interval_ns = 1 * MS;
	cfg.multiplier = 3;
	cfg.hold_down_ns = 1000 * MS;
	*hp = new_health_site(r, &cfg);
	for (t = T0; t < T0 + 100 * MS; t += MS)
		hb(*hp, 0, t, OK);
	t += 10 * MS;
	assert_int_equal(health__advance(*hp, t), 0);
	assert_int_equal(state_of(*hp, 0), DT_SITE_DOWN);
	return t;
}

/* Both beacons every interval, B half an interval after A, on [from, to); flags per beacon. */
static void beat_ab(struct health *h, __u64 from, __u64 to, __u32 fa, __u32 fb)
{
	__u64 t;

	for (t = from; t < to; t += TEST_INTERVAL) {
		hb(h, A, t, fa);
		hb(h, B, t + TEST_INTERVAL / 2, fb);
	}
}

static void beat_one(struct health *h, __u8 beacon, __u64 from, __u64 to, __u32 flags)
{
	__u64 t;

	for (t = from; t < to; t += TEST_INTERVAL)
		hb(h, beacon, t, flags);
}

static int transitions(const struct recorder *r)
{
	int i, n = 0;

	for (i = 0; i < r->n; i++)
		n += !(r->ev[i].flags & HEALTH_EVENT_F_NOTICE);
	return n;
}

static void assert_beacon_notice(const struct health_event *ev, enum health_cause cause,
				 __u8 beacon, __u64 at_ns)
{
	assert_string_equal(health_cause_name(ev->cause), health_cause_name(cause));
	assert_true(ev->flags & HEALTH_EVENT_F_NOTICE);
	assert_int_equal(ev->from, ev->to);
	assert_int_equal(ev->beacon, beacon);
	assert_int_equal(ev->deadline_ns, at_ns);
	/* that beacon's own last heartbeat: the detection time before its silence, or this one */
	assert_int_equal(ev->last_heartbeat_ns,
			 cause == HEALTH_CAUSE_BEACON_SILENT ? at_ns - TEST_DETECT : at_ns);
}

static void test_one_silent_beacon_is_a_notice(void **state)
{
	struct recorder r;
	struct health *h = beacon_health(&r, 0x3, 1);
	__u64 b_last = T0 + 190 * MS + TEST_INTERVAL / 2, silent_at = b_last + TEST_DETECT;
	struct health_site_status st;

	beat_ab(h, T0, T0 + 200 * MS, OK, OK);
	assert_int_equal(r.n, 1); /* first_heartbeat */
	beat_one(h, A, T0 + 200 * MS, T0 + 230 * MS, OK);
	assert_int_equal(r.n, 1);
	/* the notice has its own deadline: it comes from the timer, not the next heartbeat */
	assert_int_equal(health__next_deadline(h), silent_at);
	assert_int_equal(health__advance(h, silent_at), 0);
	assert_int_equal(r.n, 2);
	assert_beacon_notice(&r.ev[1], HEALTH_CAUSE_BEACON_SILENT, B, silent_at);
	assert_int_equal(r.ev[1].to, DT_SITE_UP);
	beat_one(h, A, T0 + 230 * MS, T0 + 300 * MS, OK);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.state, DT_SITE_UP);
	assert_true(st.degraded);
	assert_int_equal(st.beacons, 0x3);
	assert_int_equal(st.beacons_live, 0x1);
	assert_int_equal(st.beacon_last_ns[B], b_last);
	assert_int_equal(st.beacon_last_ns[A], T0 + 290 * MS);
	assert_int_equal(r.n, 2);
	hb(h, B, T0 + 295 * MS, OK);
	assert_int_equal(r.n, 3);
	assert_beacon_notice(&r.ev[2], HEALTH_CAUSE_BEACON_BACK, B, T0 + 295 * MS);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_false(st.degraded);
	assert_int_equal(st.beacons_live, 0x3);
	assert_int_equal(st.flaps, 0);
	assert_int_equal(transitions(&r), 1);
	health__free(h);
}

static void test_both_silent_down_at_the_later_deadline(void **state)
{
	struct recorder r;
	struct health *h = beacon_health(&r, 0x3, 1);
	__u64 a_last = T0 + 190 * MS, b_last = a_last + TEST_INTERVAL / 2;

	beat_ab(h, T0, T0 + 200 * MS, OK, OK);
	assert_int_equal(health__advance(h, T0 + 400 * MS), 0);
	assert_int_equal(r.n, 3);
	/* A went first while B was still heard: a notice; then the site, at B's deadline */
	assert_beacon_notice(&r.ev[1], HEALTH_CAUSE_BEACON_SILENT, A, a_last + TEST_DETECT);
	assert_event(&r.ev[2], 0, DT_SITE_UP, DT_SITE_DOWN, HEALTH_CAUSE_HEARTBEAT_TIMEOUT, b_last,
		     b_last + TEST_DETECT, T0 + 400 * MS);
	assert_int_equal(r.ev[2].beacon, B);
	health__free(h);
}

/* Restart each beacon of the site in turn, heartbeats flowing: nothing moves. */
static void test_rolling_restart_moves_nothing(void **state)
{
	struct recorder r;
	struct health *h = beacon_health(&r, 0x3, 1);
	struct health_site_status st;
	int i, silent = 0, back = 0;

	beat_ab(h, T0, T0 + 500 * MS, OK, OK);
	beat_one(h, B, T0 + 500 * MS + TEST_INTERVAL / 2, T0 + 1500 * MS, OK); /* A restarts */
	beat_ab(h, T0 + 1500 * MS, T0 + 2000 * MS, OK, OK);
	beat_one(h, A, T0 + 2000 * MS, T0 + 3000 * MS, OK); /* B restarts */
	beat_ab(h, T0 + 3000 * MS, T0 + 3500 * MS, OK, OK);
	for (i = 0; i < r.n; i++) {
		silent += r.ev[i].cause == HEALTH_CAUSE_BEACON_SILENT;
		back += r.ev[i].cause == HEALTH_CAUSE_BEACON_BACK;
	}
	assert_int_equal(transitions(&r), 1); /* the first heartbeat */
	assert_int_equal(silent, 2);
	assert_int_equal(back, 2);
	assert_int_equal(r.n, 5);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.state, DT_SITE_UP);
	assert_int_equal(st.flaps, 0);
	assert_true(st.penalty == 0);
	assert_int_equal(st.detect_ns, TEST_DETECT);
	assert_false(st.degraded);
	health__free(h);
}

/* NUT's MINSUPPLIES: one feed on battery out of two drains only when two are required. */
static void test_min_supplies(void **state)
{
	struct recorder r;
	struct health *h = beacon_health(&r, 0x3, 1);

	beat_ab(h, T0, T0 + 300 * MS, OK, DT_POWER_ON_BATTERY);
	assert_int_equal(state_of(h, 0), DT_SITE_UP);
	assert_int_equal(r.n, 1);
	health__free(h);

	h = beacon_health(&r, 0x3, 2);
	beat_ab(h, T0, T0 + 100 * MS, OK, OK);
	hb(h, A, T0 + 100 * MS, OK);
	hb(h, B, T0 + 105 * MS, DT_POWER_ON_BATTERY);
	assert_int_equal(r.n, 2);
	assert_event(&r.ev[1], 0, DT_SITE_UP, DT_SITE_DRAINING, HEALTH_CAUSE_POWER_WARNING,
		     T0 + 105 * MS, T0 + 105 * MS, T0 + 105 * MS);
	assert_int_equal(r.ev[1].beacon, B);
	health__free(h);
}

/* A beacon that went silent counts neither for the site's power nor against it. */
static void test_silent_beacon_power_no_longer_counts(void **state)
{
	struct recorder r;
	struct health *h = beacon_health(&r, 0x3, 2);
	__u64 b_last = T0 + 190 * MS + TEST_INTERVAL / 2;
	struct health_site_status st;

	/* two required, B on battery: DRAINING; B goes silent: its stale warning is dropped */
	beat_ab(h, T0, T0 + 200 * MS, OK, DT_POWER_ON_BATTERY);
	assert_int_equal(state_of(h, 0), DT_SITE_DRAINING);
	beat_one(h, A, T0 + 200 * MS, T0 + 300 * MS, OK);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.state, DT_SITE_RECOVERING);
	assert_int_equal(st.beacon_power_flags[B], DT_POWER_ON_BATTERY);
	assert_string_equal(health_cause_name(last_event(&r)->cause), "power_restored");
	assert_int_equal(last_event(&r)->deadline_ns, b_last + TEST_DETECT);
	health__free(h);

	/* one required, A on battery, B on mains: B's silence leaves only A's battery */
	h = beacon_health(&r, 0x3, 1);
	beat_ab(h, T0, T0 + 200 * MS, DT_POWER_ON_BATTERY, OK);
	/* A alone at first: DRAINING; B on mains brings it back, RECOVERING (sticky failback) */
	assert_int_equal(state_of(h, 0), DT_SITE_RECOVERING);
	beat_one(h, A, T0 + 200 * MS, T0 + 300 * MS, DT_POWER_ON_BATTERY);
	assert_int_equal(state_of(h, 0), DT_SITE_DRAINING);
	assert_string_equal(health_cause_name(last_event(&r)->cause), "power_warning");
	assert_int_equal(last_event(&r)->deadline_ns, b_last + TEST_DETECT);
	health__free(h);
}

static void test_unconfigured_beacon_refused(void **state)
{
	struct health_site_config cfg;
	struct recorder r;
	struct health *h = beacon_health(&r, 0x3, 1);

	assert_int_equal(health__heartbeat(h, 0, 2, T0, OK), -EINVAL);
	assert_int_equal(health__heartbeat(h, 0, HEALTH_MAX_BEACONS, T0, OK), -EINVAL);
	assert_int_equal(health__heartbeat(h, 1, 0, T0, OK), -ENOENT);
	assert_int_equal(r.n, 0);
	assert_int_equal(state_of(h, 0), DT_SITE_UNKNOWN);
	test_site_config(&cfg, 1, "s1");
	cfg.beacons = 0;
	assert_int_equal(health__add_site(h, &cfg), -EINVAL);
	cfg.beacons = 0x3;
	cfg.min_supplies = 0;
	assert_int_equal(health__add_site(h, &cfg), -EINVAL);
	cfg.min_supplies = 3;
	assert_int_equal(health__add_site(h, &cfg), -EINVAL);
	cfg.min_supplies = 2;
	assert_int_equal(health__add_site(h, &cfg), 0);
	health__free(h);
	/* the default is beacon 0 alone, one supply */
	health_site_config__init(&cfg, 0, "x");
	assert_int_equal(cfg.beacons, 1);
	assert_int_equal(cfg.min_supplies, 1);
}

static void test_gap_warning_and_suggested_multiplier(void **state)
{
	struct recorder r;
	struct health *h = beacon_health(&r, 0x1, 1);
	struct health_site_status st;
	__u64 t;

	t = T0 + 200 * MS;
	beat_one(h, A, T0, t, OK);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.max_gap_ns, TEST_INTERVAL);
	assert_false(st.detect_too_tight);
	assert_int_equal(st.suggested_multiplier, 2); /* 10 x 2 > 12.5 */
	/* 26 ms: 5/4 of it is 32.5 ms, beyond 10 ms x 3 */
	hb(h, A, t - TEST_INTERVAL + 26 * MS, OK);
	assert_int_equal(r.n, 2);
	assert_true(last_event(&r)->flags & HEALTH_EVENT_F_NOTICE);
	assert_string_equal(health_cause_name(last_event(&r)->cause), "timers_too_tight");
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.max_gap_ns, 26 * MS);
	assert_true(st.detect_too_tight);
	assert_int_equal(st.suggested_multiplier, 4);
	assert_int_equal(st.beacon_max_gap_ns[A], 26 * MS);
	/* said once, not per gap */
	t = t - TEST_INTERVAL + 26 * MS;
	hb(h, A, t + 27 * MS, OK);
	assert_int_equal(r.n, 2);
	/* the window forgets: a minute of regular heartbeats later it holds again */
	beat_one(h, A, t + 37 * MS, t + 61000 * MS, OK);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_false(st.detect_too_tight);
	assert_int_equal(st.max_gap_ns, TEST_INTERVAL);
	assert_int_equal(r.n, 2);
	health__free(h);
}

/* Too few gaps are no basis for a warning: a single near miss right after start-up says nothing. */
static void test_gap_warning_needs_samples(void **state)
{
	struct recorder r;
	struct health *h = beacon_health(&r, 0x1, 1);
	struct health_site_status st;

	beat_one(h, A, T0, T0 + 50 * MS, OK);
	hb(h, A, T0 + 40 * MS + 29 * MS, OK);
	assert_int_equal(r.n, 1);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_false(st.detect_too_tight);
	assert_int_equal(st.max_gap_ns, 29 * MS);
	health__free(h);
}

/*
 * Issue 13, item 9: 1 ms x 3, hold-down 1 s, a DOWN site whose heartbeats come back with a gap of
 * 4 ms every 200 ms. Each of those gaps broke the clean run, so the site stayed DOWN for ever with
 * fresh heartbeats; it must reach RECOVERING once its hold-down has passed.
 */
static void test_recovery_reachable_on_jittery_link(void **state)
{
	struct health_site_status st;
	struct recorder r;
	struct health *h;
	__u64 t, back = jittery_site_down(&r, &h);
	int i;

	for (t = back, i = 0; t < back + 3000 * MS && state_of(h, 0) == DT_SITE_DOWN; i++) {
		hb(h, 0, t, OK);
		t += i % 200 == 199 ? 4 * MS : MS;
	}
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.state, DT_SITE_RECOVERING);
	assert_int_equal(st.flaps, 1); /* the stall; the jitter after it is no bounce */
	assert_string_equal(health_cause_name(last_event(&r)->cause), "hold_down_passed");
	assert_true(last_event(&r)->deadline_ns >= back + 1000 * MS);
	assert_true(last_event(&r)->deadline_ns <= back + 1000 * MS + 4 * MS);
	health__free(h);
}

/* The tolerance is bounded: a gap of a tenth of the hold-down while DOWN restarts the run. */
static void test_long_gap_while_down_restarts_run(void **state)
{
	struct health_site_status st;
	struct recorder r;
	struct health *h;
	__u64 t, back;

	for (t = jittery_site_down(&r, &h); t < T0 + 600 * MS; t += MS)
		hb(h, 0, t, OK);
	back = t + 100 * MS;
	hb(h, 0, back, OK);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.state, DT_SITE_DOWN);
	assert_int_equal(st.clean_since_ns, back);
	assert_int_equal(st.flaps, 2); /* the bounce counts */
	health__free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recovery_reachable_on_jittery_link),
		cmocka_unit_test(test_long_gap_while_down_restarts_run),
		cmocka_unit_test(test_one_silent_beacon_is_a_notice),
		cmocka_unit_test(test_both_silent_down_at_the_later_deadline),
		cmocka_unit_test(test_rolling_restart_moves_nothing),
		cmocka_unit_test(test_min_supplies),
		cmocka_unit_test(test_silent_beacon_power_no_longer_counts),
		cmocka_unit_test(test_unconfigured_beacon_refused),
		cmocka_unit_test(test_gap_warning_and_suggested_multiplier),
		cmocka_unit_test(test_gap_warning_needs_samples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
