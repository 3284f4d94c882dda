/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The site state machine: start-up, power warnings, hold-down, recovery, flapping, operator
 * overrides, all-sites-down and bad input. Times come from the test; nothing sleeps.
 */
#include <errno.h>
#include <math.h>

#include "dt_names.h"
#include "health_test.h"

#include "control/heartbeat/power_flags.h"

#define OK DT_POWER_MAINS
#define BOTH 0x3ull
#define SITE0 0x1ull
#define SITE1 0x2ull

/* Beats every site in @mask from @from until @site reaches @want; returns that beat's time. */
static __u64 beat_until(struct health *h, __u64 mask, __u16 site, __u64 from,
			enum dt_site_state want, __u64 limit_ns)
{
	__u64 t;

	for (t = from; t < from + limit_ns; t += TEST_INTERVAL) {
		beat_all(h, mask, t, t + 1, OK);
		if (state_of(h, site) == want)
			return t;
	}
	fail_msg("site %u never reached %s", site, dt_site_state_name(want));
	return 0;
}

/* Both sites up, then site 0 silent from its last beat on: returns that last beat. */
static __u64 lose_site0(struct health *h, __u64 *down_at)
{
	__u64 last0 = beat_all(h, BOTH, T0 + MS, T0 + 100 * MS, OK);

	*down_at = last0 + TEST_DETECT;
	beat_all(h, SITE1, last0 + TEST_INTERVAL, *down_at + 1, OK);
	assert_int_equal(state_of(h, 0), DT_SITE_DOWN);
	return last0;
}

/* ---- Start-up ------------------------------------------------------------------------------ */

static void test_unknown_until_first_heartbeat(void **state)
{
	struct recorder r;
	__u64 grace = 500 * MS, t;
	struct health *h = new_health(&r, 2, grace);
	struct health_site_status st;

	assert_int_equal(health__advance(h, T0 + 100 * MS), 0);
	assert_int_equal(state_of(h, 0), DT_SITE_UNKNOWN);
	assert_int_equal(state_of(h, 1), DT_SITE_UNKNOWN);
	assert_int_equal(r.n, 0);
	beat(h, 0, T0 + 100 * MS, OK);
	assert_event(&r.ev[0], 0, DT_SITE_UNKNOWN, DT_SITE_UP, HEALTH_CAUSE_FIRST_HEARTBEAT,
		     T0 + 100 * MS, T0 + 100 * MS, T0 + 100 * MS);
	assert_int_equal(r.ev[0].power_flags, OK);

	/* site 1 is never heard: DOWN at the end of the grace, not a moment before */
	t = beat_all(h, SITE0, T0 + 110 * MS, T0 + grace, OK);
	assert_int_equal(health__advance(h, T0 + grace - 1), 0);
	assert_int_equal(state_of(h, 1), DT_SITE_UNKNOWN);
	assert_int_equal(health__advance(h, T0 + grace), 0);
	assert_event(last_event(&r), 1, DT_SITE_UNKNOWN, DT_SITE_DOWN, HEALTH_CAUSE_NO_HEARTBEAT, 0,
		     T0 + grace, T0 + grace);
	assert_false(last_event(&r)->flags & HEALTH_EVENT_F_ALL_SITES_DOWN);
	assert_int_equal(health__site_status(h, 1, &st), 0);
	assert_int_equal(st.flaps, 0); /* never heard is not a flap */
	assert_true(st.penalty == 0.0);
	assert_int_equal(state_of(h, 0), DT_SITE_UP);
	(void)t;
	health__free(h);
}

/* A grace shorter than a site's detection time is stretched to it; all silent = all down. */
static void test_startup_grace_at_least_detection(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 2, 1 * MS);

	assert_int_equal(health__next_deadline(h), T0 + TEST_DETECT);
	assert_int_equal(health__advance(h, T0 + TEST_DETECT - 1), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(health__advance(h, T0 + TEST_DETECT), 0);
	assert_int_equal(r.n, 2);
	assert_false(r.ev[0].flags & HEALTH_EVENT_F_ALL_SITES_DOWN);
	assert_true(r.ev[1].flags & HEALTH_EVENT_F_ALL_SITES_DOWN);
	assert_true(health__all_sites_down(h));
	health__free(h);
}

/* ---- Power --------------------------------------------------------------------------------- */

static void test_warning_drains_then_down(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 2, 0);
	__u64 t = beat_all(h, BOTH, T0 + MS, T0 + 50 * MS, OK) + TEST_INTERVAL;
	__u32 ob = DT_POWER_ON_BATTERY;

	r.n = 0;
	assert_int_equal(health__heartbeat(h, 0, 0, t, ob), 0);
	assert_event(&r.ev[0], 0, DT_SITE_UP, DT_SITE_DRAINING, HEALTH_CAUSE_POWER_WARNING, t, t,
		     t);
	assert_int_equal(r.ev[0].power_flags, ob);
	/* more warnings: no new event; then the site goes dark */
	beat(h, 0, t + TEST_INTERVAL, ob | DT_POWER_LOW_BATTERY);
	assert_int_equal(r.n, 1);
	beat_all(h, SITE1, t + TEST_INTERVAL, t + TEST_INTERVAL + TEST_DETECT + 1, OK);
	assert_int_equal(r.n, 2);
	assert_event(&r.ev[1], 0, DT_SITE_DRAINING, DT_SITE_DOWN, HEALTH_CAUSE_HEARTBEAT_TIMEOUT,
		     t + TEST_INTERVAL, t + TEST_INTERVAL + TEST_DETECT,
		     t + TEST_INTERVAL + TEST_DETECT);
	assert_int_equal(r.ev[1].power_flags, ob | DT_POWER_LOW_BATTERY);
	health__free(h);
}

static void test_each_warning_bit_drains_and_clears(void **state)
{
	static const __u32 warn[] = { DT_POWER_ON_BATTERY, DT_POWER_LOW_BATTERY,
				      DT_POWER_FORCED_SHUTDOWN, DT_POWER_ALARM };
	static const __u32 benign[] = { DT_POWER_GENERATOR, DT_POWER_CHARGING,
					DT_POWER_REPLACE_BATTERY, DT_POWER_BYPASS };
	struct recorder r;
	struct health *h = new_health(&r, 1, 0);
	__u64 t = beat_all(h, SITE0, T0 + MS, T0 + 50 * MS, OK);
	unsigned int i;

	for (i = 0; i < 4; i++) {
		r.n = 0;
		beat(h, 0, t += TEST_INTERVAL, OK | benign[i]);
		assert_int_equal(r.n, 0);
		beat(h, 0, t += TEST_INTERVAL, warn[i]);
		assert_int_equal(state_of(h, 0), DT_SITE_DRAINING);
		beat(h, 0, t += TEST_INTERVAL, OK);
		assert_int_equal(r.n, 2);
		/* sticky failback: flows moved during the drain come home only when idle */
		assert_event(&r.ev[1], 0, DT_SITE_DRAINING, DT_SITE_RECOVERING,
			     HEALTH_CAUSE_POWER_RESTORED, t, t, t);
		assert_int_equal(health__flows_idle(h, 0, t), 0);
		assert_int_equal(state_of(h, 0), DT_SITE_UP);
	}
	health__free(h);
}

static void test_unknown_power_reported_not_drained(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 1, 0);
	struct health_site_config cfg;
	__u64 t = T0 + MS;

	beat(h, 0, t, OK);
	r.n = 0;
	beat(h, 0, t += TEST_INTERVAL, DT_POWER_UNKNOWN);
	assert_int_equal(state_of(h, 0), DT_SITE_UP);
	assert_int_equal(r.n, 1);
	assert_event(&r.ev[0], 0, DT_SITE_UP, DT_SITE_UP, HEALTH_CAUSE_POWER_UNKNOWN, t, t, t);
	assert_true(r.ev[0].flags & HEALTH_EVENT_F_NOTICE);
	assert_true(r.ev[0].flags & HEALTH_EVENT_F_POWER_UNKNOWN);
	beat(h, 0, t += TEST_INTERVAL, DT_POWER_UNKNOWN);
	assert_int_equal(r.n, 1); /* reported once, not per heartbeat */
	beat(h, 0, t += TEST_INTERVAL, OK);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ev[1].cause, HEALTH_CAUSE_POWER_KNOWN);
	assert_false(r.ev[1].flags & HEALTH_EVENT_F_POWER_UNKNOWN);

	/* a site configured to distrust an unknown UPS drains */
	test_site_config(&cfg, 1, "s1");
	cfg.drain_on_unknown_power = true;
	assert_int_equal(health__add_site(h, &cfg), 0);
	beat(h, 0, t += TEST_INTERVAL, OK);
	beat(h, 1, t, OK);
	beat(h, 1, t += TEST_INTERVAL, DT_POWER_UNKNOWN);
	assert_int_equal(state_of(h, 1), DT_SITE_DRAINING);
	health__free(h);
}

/* ---- Hold-down and recovery ---------------------------------------------------------------- */

static void test_hold_down_needs_clean_run(void **state)
{
	struct recorder r;
	struct health *h = new_health_with(&r, 2, 0, 0);
	__u64 down_at, back, t;

	lose_site0(h, &down_at);
	back = down_at + TEST_INTERVAL;
	/* clean for less than the hold-down, then a gap of exactly the detection time */
	t = beat_all(h, BOTH, back, back + TEST_HOLD_DOWN / 2, OK);
	beat_all(h, SITE1, t + TEST_INTERVAL, t + TEST_DETECT, OK);
	back = t + TEST_DETECT;
	/* a warning in the middle of the next run restarts it too */
	t = beat_all(h, BOTH, back, back + TEST_HOLD_DOWN / 2, OK) + TEST_INTERVAL;
	beat(h, 0, t, DT_POWER_ON_BATTERY);
	assert_int_equal(state_of(h, 0), DT_SITE_DOWN);
	back = t + TEST_INTERVAL;
	t = beat_all(h, BOTH, back, back + TEST_HOLD_DOWN, OK);
	assert_int_equal(health__advance(h, back + TEST_HOLD_DOWN - 1), 0);
	assert_int_equal(state_of(h, 0), DT_SITE_DOWN);
	r.n = 0;
	assert_int_equal(health__advance(h, back + TEST_HOLD_DOWN), 0);
	assert_int_equal(r.n, 1);
	assert_event(&r.ev[0], 0, DT_SITE_DOWN, DT_SITE_RECOVERING, HEALTH_CAUSE_HOLD_DOWN_PASSED,
		     t, back + TEST_HOLD_DOWN, back + TEST_HOLD_DOWN);
	assert_int_equal(r.ev[0].hold_down_ns, TEST_HOLD_DOWN);
	health__free(h);
}

static __u64 recover_site0(struct health *h, struct recorder *r)
{
	__u64 down_at;

	lose_site0(h, &down_at);
	return beat_until(h, BOTH, 0, down_at + TEST_INTERVAL, DT_SITE_RECOVERING,
			  10 * TEST_HOLD_DOWN);
}

static void test_recovering_up_when_flows_idle(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 2, 0);
	__u64 t = recover_site0(h, &r) + 3 * MS;

	r.n = 0;
	assert_int_equal(health__flows_idle(h, 0, t), 0);
	assert_event(&r.ev[0], 0, DT_SITE_RECOVERING, DT_SITE_UP, HEALTH_CAUSE_FLOWS_IDLE,
		     t - 3 * MS, t, t);
	/* the hint means nothing to a site that is not recovering */
	assert_int_equal(health__flows_idle(h, 0, t + 1), 0);
	assert_int_equal(health__flows_idle(h, 1, t + 1), 0);
	assert_int_equal(r.n, 1);
	health__free(h);
}

static void test_recovering_up_by_timeout(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 2, 0);
	__u64 since, t;

	since = recover_site0(h, &r);
	assert_int_equal(last_event(&r)->deadline_ns, since);
	t = beat_all(h, BOTH, since + TEST_INTERVAL, since + TEST_RECOVERY, OK);
	assert_int_equal(health__advance(h, since + TEST_RECOVERY - 1), 0);
	assert_int_equal(state_of(h, 0), DT_SITE_RECOVERING);
	assert_int_equal(health__advance(h, since + TEST_RECOVERY), 0);
	assert_event(last_event(&r), 0, DT_SITE_RECOVERING, DT_SITE_UP,
		     HEALTH_CAUSE_RECOVERY_TIMEOUT, t, since + TEST_RECOVERY,
		     since + TEST_RECOVERY);
	health__free(h);
}

static void test_recovering_down_when_heartbeats_stop(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 2, 0);
	__u64 t = recover_site0(h, &r);
	struct health_site_status st;

	beat_all(h, SITE1, t + TEST_INTERVAL, t + TEST_DETECT + 1, OK);
	assert_event(last_event(&r), 0, DT_SITE_RECOVERING, DT_SITE_DOWN,
		     HEALTH_CAUSE_HEARTBEAT_TIMEOUT, t, t + TEST_DETECT, t + TEST_DETECT);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.flaps, 2);
	health__free(h);
}

/* ---- Flapping ------------------------------------------------------------------------------ */

/* The test's own model of RFC 2439 decay, to predict the hold-down independently. */
struct model {
	double penalty;
	__u64 at_ns;
};

static void model__flap(struct model *m, __u64 at_ns)
{
	double ceiling = 750.0 * exp2((double)TEST_MAX_HOLD_DOWN / TEST_HALF_LIFE);

	m->penalty = m->penalty * exp2(-(double)(at_ns - m->at_ns) / TEST_HALF_LIFE) + 1000.0;
	m->penalty = m->penalty > ceiling ? ceiling : m->penalty;
	m->at_ns = at_ns;
}

static double model__hold_down(const struct model *m, __u64 clean_since_ns)
{
	double reuse_at, hold;

	if (m->penalty < 2000.0)
		return TEST_HOLD_DOWN;
	reuse_at = m->at_ns + TEST_HALF_LIFE * log2(m->penalty / 750.0);
	hold = reuse_at - clean_since_ns;
	hold = hold < TEST_HOLD_DOWN ? TEST_HOLD_DOWN : hold;
	return hold > TEST_MAX_HOLD_DOWN ? TEST_MAX_HOLD_DOWN : hold;
}

/*
 * One site goes dark, then bounces @bounces times while DOWN (back for 5 heartbeats, gone for the
 * detection time), then stays clean until RECOVERING. Returns the hold-down the event reports.
 */
static __u64 flap_scenario(int bounces, double *expected)
{
	struct recorder r;
	struct health *h = new_health(&r, 1, 0);
	struct model m = { 0 };
	__u64 t = beat_all(h, SITE0, T0 + MS, T0 + 50 * MS, OK), back;
	int i;

	t += TEST_DETECT;
	model__flap(&m, t);
	for (i = 0; i < bounces; i++) {
		t = beat_all(h, SITE0, t + TEST_INTERVAL, t + 6 * TEST_INTERVAL, OK);
		t += TEST_DETECT;
		model__flap(&m, t);
	}
	back = t + TEST_INTERVAL;
	t = beat_until(h, SITE0, 0, back, DT_SITE_RECOVERING, TEST_MAX_HOLD_DOWN + TEST_DETECT);
	assert_int_equal(last_event(&r)->cause, HEALTH_CAUSE_HOLD_DOWN_PASSED);
	assert_true(fabs(last_event(&r)->penalty -
			 m.penalty * exp2(-(double)(last_event(&r)->deadline_ns - m.at_ns) /
					  TEST_HALF_LIFE)) < 1e-6 * m.penalty);
	*expected = model__hold_down(&m, back);
	t = last_event(&r)->hold_down_ns;
	health__free(h);
	return t;
}

static void test_flapping_grows_hold_down_bounded(void **state)
{
	static const int bounces[] = { 0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96 };
	const unsigned int n = sizeof(bounces) / sizeof(bounces[0]);
	__u64 hold[sizeof(bounces) / sizeof(bounces[0])];
	double expected;
	unsigned int i;

	for (i = 0; i < n; i++) {
		hold[i] = flap_scenario(bounces[i], &expected);
		assert_true(fabs((double)hold[i] - expected) <= 1.0); /* rounded up to the ns */
		assert_true(hold[i] >= TEST_HOLD_DOWN && hold[i] <= TEST_MAX_HOLD_DOWN);
		if (i)
			assert_true(hold[i] >= hold[i - 1]);
	}
	/* one flap is not punished (below the suppress threshold); then it grows... */
	assert_int_equal(hold[0], TEST_HOLD_DOWN);
	for (i = 2; i < 9; i++)
		assert_true(hold[i] > hold[i - 1]);
	/* ...up to the bound: the ceiling penalty decays to reuse in max_hold_down */
	assert_true(hold[n - 1] > TEST_MAX_HOLD_DOWN - 100 * MS);
	assert_int_equal(hold[n - 1], hold[n - 2]);
}

/* After a long quiet time the penalty has decayed: the next flap gets the base hold-down. */
static void test_flapping_decays_back(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 1, 0);
	struct health_site_status st;
	__u64 t = beat_all(h, SITE0, T0 + MS, T0 + 50 * MS, OK);
	int i;

	for (i = 0; i < 8; i++) /* heavily penalised */
		t = beat_all(h, SITE0, t + TEST_DETECT, t + TEST_DETECT + 5 * TEST_INTERVAL, OK);
	t = beat_until(h, SITE0, 0, t + TEST_INTERVAL, DT_SITE_RECOVERING, TEST_MAX_HOLD_DOWN * 2);
	assert_true(last_event(&r)->hold_down_ns > TEST_HOLD_DOWN);
	assert_int_equal(health__flows_idle(h, 0, t), 0);
	/* quiet and UP for 12 half-lives */
	t = beat_all(h, SITE0, t + TEST_INTERVAL, t + 12 * TEST_HALF_LIFE, OK);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_true(st.penalty < 1.0);
	assert_int_equal(state_of(h, 0), DT_SITE_UP);
	beat_until(h, SITE0, 0, t + TEST_DETECT, DT_SITE_RECOVERING, 10 * TEST_HOLD_DOWN);
	assert_int_equal(last_event(&r)->hold_down_ns, TEST_HOLD_DOWN);
	health__free(h);
}

/* ---- Operator ------------------------------------------------------------------------------ */

static void test_operator_drain_and_restore(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 2, 0);
	__u64 t = beat_all(h, BOTH, T0 + MS, T0 + 50 * MS, OK) + 1;

	r.n = 0;
	assert_int_equal(health__drain(h, 0, t, 0), 0);
	assert_event(&r.ev[0], 0, DT_SITE_UP, DT_SITE_DRAINING, HEALTH_CAUSE_OPERATOR_DRAIN, t - 1,
		     t, t);
	assert_int_equal(r.ev[0].flags & HEALTH_EVENT_F_FORCED, 0);
	/* clean heartbeats do not undo an operator drain */
	t = beat_all(h, BOTH, t + TEST_INTERVAL - 1, t + 100 * MS, OK);
	assert_int_equal(state_of(h, 0), DT_SITE_DRAINING);
	assert_int_equal(r.n, 1);
	/* the other site is now the last one up: draining it is refused, unless forced */
	assert_int_equal(health__drain(h, 1, t, 0), -EBUSY);
	assert_int_equal(state_of(h, 1), DT_SITE_UP);
	assert_int_equal(r.n, 1);
	assert_int_equal(health__drain(h, 1, t, HEALTH_F_FORCE), 0);
	assert_int_equal(last_event(&r)->to, DT_SITE_DRAINING);
	assert_true(last_event(&r)->flags & HEALTH_EVENT_F_FORCED);
	assert_int_equal(health__restore(h, 0, t), 0);
	assert_event(last_event(&r), 0, DT_SITE_DRAINING, DT_SITE_RECOVERING,
		     HEALTH_CAUSE_OPERATOR_RESTORE, t, t, t);
	/* restoring a site whose UPS still warns leaves it draining */
	beat(h, 1, t + 1, DT_POWER_ON_BATTERY);
	assert_int_equal(health__restore(h, 1, t + 1), 0);
	assert_int_equal(state_of(h, 1), DT_SITE_DRAINING);
	health__free(h);
}

static void test_operator_fail_and_restore(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 2, 0);
	__u64 t = beat_all(h, BOTH, T0 + MS, T0 + 50 * MS, OK) + 1;
	struct health_site_status st;

	r.n = 0;
	assert_int_equal(health__fail(h, 0, t, 0), 0);
	assert_event(&r.ev[0], 0, DT_SITE_UP, DT_SITE_DOWN, HEALTH_CAUSE_OPERATOR_FAIL, t - 1, t,
		     t);
	assert_int_equal(health__fail(h, 1, t, 0), -EBUSY);
	assert_int_equal(health__drain(h, 1, t, 0), -EBUSY);
	/* healthy heartbeats for far longer than the hold-down: an override holds */
	t = beat_all(h, BOTH, t + TEST_INTERVAL - 1, t + 5 * TEST_HOLD_DOWN, OK);
	assert_int_equal(state_of(h, 0), DT_SITE_DOWN);
	assert_int_equal(r.n, 1);
	assert_int_equal(health__site_status(h, 0, &st), 0);
	assert_int_equal(st.flaps, 0);
	assert_true(st.penalty == 0.0);
	assert_string_equal(health_override_name(st.override), "fail");
	/* restore: the clean run is long enough, so it recovers at once */
	assert_int_equal(health__restore(h, 0, t + 1), 0);
	assert_event(last_event(&r), 0, DT_SITE_DOWN, DT_SITE_RECOVERING,
		     HEALTH_CAUSE_OPERATOR_RESTORE, t, t + 1, t + 1);
	health__free(h);
}

/* A drain given to a DOWN site takes effect when it comes back; restore then lets it up. */
static void test_drain_of_down_site(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 2, 0);
	__u64 down_at, t;

	lose_site0(h, &down_at);
	assert_int_equal(health__drain(h, 0, down_at + 1, 0), 0);
	assert_int_equal(state_of(h, 0), DT_SITE_DOWN);
	t = beat_until(h, BOTH, 0, down_at + TEST_INTERVAL, DT_SITE_DRAINING, 10 * TEST_HOLD_DOWN);
	assert_int_equal(last_event(&r)->cause, HEALTH_CAUSE_HOLD_DOWN_PASSED);
	assert_int_equal(health__restore(h, 0, t + 1), 0);
	assert_int_equal(state_of(h, 0), DT_SITE_RECOVERING);
	assert_int_equal(health__flows_idle(h, 0, t + 2), 0);
	assert_int_equal(state_of(h, 0), DT_SITE_UP);
	health__free(h);
}

/* Failing a draining site when every other one is down would leave nothing: refused. */
static void test_fail_last_serving_site_refused(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 2, 0);
	__u64 down_at, t;

	lose_site0(h, &down_at);
	t = down_at + TEST_INTERVAL;
	beat(h, 1, t, DT_POWER_ON_BATTERY);
	assert_int_equal(state_of(h, 1), DT_SITE_DRAINING);
	assert_int_equal(health__fail(h, 1, t, 0), -EBUSY);
	assert_int_equal(health__fail(h, 1, t, HEALTH_F_FORCE), 0);
	assert_true(last_event(&r)->flags & HEALTH_EVENT_F_FORCED);
	assert_true(last_event(&r)->flags & HEALTH_EVENT_F_ALL_SITES_DOWN);
	assert_true(health__all_sites_down(h));
	/* failing an already down site changes nothing and is not refused */
	assert_int_equal(health__fail(h, 0, t, 0), 0);
	health__free(h);
}

/* ---- All sites down ------------------------------------------------------------------------ */

static void test_all_sites_down_reported(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 3, 0);
	__u64 t = beat_all(h, 0x7, T0 + MS, T0 + 50 * MS, OK);
	int i, flagged = 0;

	r.n = 0;
	assert_int_equal(health__advance(h, t + TEST_DETECT), 0);
	assert_int_equal(r.n, 3);
	for (i = 0; i < 3; i++)
		flagged += !!(r.ev[i].flags & HEALTH_EVENT_F_ALL_SITES_DOWN);
	assert_int_equal(flagged, 1);
	assert_true(r.ev[2].flags & HEALTH_EVENT_F_ALL_SITES_DOWN);
	assert_true(health__all_sites_down(h));
	beat_until(h, 0x1, 0, t + TEST_DETECT + TEST_INTERVAL, DT_SITE_RECOVERING,
		   10 * TEST_HOLD_DOWN);
	assert_false(health__all_sites_down(h));
	health__free(h);
}

/* ---- Bad input ----------------------------------------------------------------------------- */

static void test_bad_input(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 1, 0);
	struct health_site_status st;

	assert_int_equal(health__heartbeat(h, 5, 0, T0, OK), -ENOENT);
	assert_int_equal(health__heartbeat(h, DT_MAX_SITES, 0, T0, OK), -ENOENT);
	assert_int_equal(health__heartbeat(h, 0xffff, 0, T0, OK), -ENOENT);
	assert_int_equal(health__drain(h, 7, T0, 0), -ENOENT);
	assert_int_equal(health__fail(h, 7, T0, 0), -ENOENT);
	assert_int_equal(health__restore(h, 7, T0), -ENOENT);
	assert_int_equal(health__flows_idle(h, 7, T0), -ENOENT);
	assert_int_equal(health__site_status(h, 7, &st), -ENOENT);
	assert_int_equal(health__site_status(h, 0, NULL), -EINVAL);
	assert_int_equal(health__drain(h, 0, T0, 0x80), -EINVAL);
	assert_int_equal(health__advance(h, T0 + 10), 0);
	assert_int_equal(health__advance(h, T0 + 9), -EINVAL); /* time never goes back */
	assert_int_equal(health__drain(h, 0, T0, 0), -EINVAL);
	assert_int_equal(health__advance(NULL, T0), -EINVAL);
	assert_int_equal(health__heartbeat(NULL, 0, 0, T0, OK), -ENOENT);
	assert_int_equal(health__next_deadline(NULL), HEALTH_NO_DEADLINE);
	assert_int_equal(health__new(NULL, NULL), -EINVAL);
	assert_int_equal(r.n, 0);
	health__free(h);
	health__free(NULL);
}

static void test_bad_config(void **state)
{
	struct recorder r;
	struct health *h = new_health(&r, 1, 0);
	struct health_site_config cfg, bad;

	test_site_config(&cfg, 1, "s1");
	bad = cfg, bad.interval_ns = 0;
	assert_int_equal(health__add_site(h, &bad), -EINVAL);
	bad = cfg, bad.multiplier = 0;
	assert_int_equal(health__add_site(h, &bad), -EINVAL);
	bad = cfg, bad.interval_ns = UINT64_MAX / 2;
	assert_int_equal(health__add_site(h, &bad), -EINVAL);
	bad = cfg, bad.id = DT_MAX_SITES;
	assert_int_equal(health__add_site(h, &bad), -EINVAL);
	bad = cfg, bad.name[0] = '\0';
	assert_int_equal(health__add_site(h, &bad), -EINVAL);
	bad = cfg, memset(bad.name, 'x', sizeof(bad.name)); /* no terminating NUL */
	assert_int_equal(health__add_site(h, &bad), -EINVAL);
	bad = cfg, bad.recovery_timeout_ns = 0;
	assert_int_equal(health__add_site(h, &bad), -EINVAL);
	bad = cfg, bad.damping.reuse_threshold = bad.damping.suppress_threshold;
	assert_int_equal(health__add_site(h, &bad), -EINVAL);
	bad = cfg, bad.damping.half_life_ns = 0;
	assert_int_equal(health__add_site(h, &bad), -EINVAL);
	bad = cfg, bad.damping.max_hold_down_ns = bad.hold_down_ns - 1;
	assert_int_equal(health__add_site(h, &bad), -EINVAL);
	test_site_config(&bad, 0, "dup");
	assert_int_equal(health__add_site(h, &bad), -EEXIST);
	bad = cfg, bad.damping.penalty_per_flap = 0, bad.damping.half_life_ns = 0;
	assert_int_equal(health__add_site(h, &bad), 0); /* damping off: its fields do not matter */
	health__free(h);
}

static void test_names(void **state)
{
	assert_string_equal(dt_site_state_name(DT_SITE_UP), "up");
	assert_string_equal(dt_site_state_name(DT_SITE_RECOVERING), "recovering");
	assert_string_equal(dt_site_state_name((enum dt_site_state)99), "invalid");
	assert_string_equal(dt_site_state_name((enum dt_site_state) - 1), "invalid");
	assert_string_equal(health_cause_name(HEALTH_CAUSE_HEARTBEAT_TIMEOUT), "heartbeat_timeout");
	assert_string_equal(health_cause_name(HEALTH_CAUSE_MAX), "invalid");
	assert_string_equal(health_override_name((enum health_override)3), "invalid");
	for (int i = 0; i < HEALTH_CAUSE_MAX; i++)
		assert_string_not_equal(health_cause_name((enum health_cause)i), "invalid");
	for (int i = 0; i < DT_SITE_STATE_MAX; i++)
		assert_string_not_equal(dt_site_state_name((enum dt_site_state)i), "invalid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_until_first_heartbeat),
		cmocka_unit_test(test_startup_grace_at_least_detection),
		cmocka_unit_test(test_warning_drains_then_down),
		cmocka_unit_test(test_each_warning_bit_drains_and_clears),
		cmocka_unit_test(test_unknown_power_reported_not_drained),
		cmocka_unit_test(test_hold_down_needs_clean_run),
		cmocka_unit_test(test_recovering_up_when_flows_idle),
		cmocka_unit_test(test_recovering_up_by_timeout),
		cmocka_unit_test(test_recovering_down_when_heartbeats_stop),
		cmocka_unit_test(test_flapping_grows_hold_down_bounded),
		cmocka_unit_test(test_flapping_decays_back),
		cmocka_unit_test(test_operator_drain_and_restore),
		cmocka_unit_test(test_operator_fail_and_restore),
		cmocka_unit_test(test_drain_of_down_site),
		cmocka_unit_test(test_fail_last_serving_site_refused),
		cmocka_unit_test(test_all_sites_down_reported),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
