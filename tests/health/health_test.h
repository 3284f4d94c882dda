/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the health tests: an event recorder, a test configuration and a heartbeat feeder
 * that plays the daemon loop (drain the socket, then advance) against an injected clock.
 */
#ifndef DT_HEALTH_TEST_H
#define DT_HEALTH_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "dt_names.h"
#include "health.h"

#define MS 1000000ull
#define T0 (1000 * MS) /* library start: a monotonic clock is never near zero */

#define TEST_INTERVAL (10 * MS)
#define TEST_MULT 3
#define TEST_DETECT (TEST_INTERVAL * TEST_MULT)
#define TEST_HOLD_DOWN (100 * MS)
#define TEST_RECOVERY (1000 * MS)
#define TEST_HALF_LIFE (10000 * MS)
#define TEST_MAX_HOLD_DOWN (60000 * MS)

#define MAX_EVENTS 2048

struct recorder {
	struct health_event ev[MAX_EVENTS];
	int n;
};

static inline void recorder_cb(const struct health_event *ev, void *ctx)
{
	struct recorder *r = ctx;

	assert_true(r->n < MAX_EVENTS);
	r->ev[r->n++] = *ev;
}

/* cmocka setup: every test of a file shares one recorder (large: not on the stack). */
static inline int recorder_setup(void **state)
{
	static struct recorder r;

	*state = &r;
	return 0;
}

static inline void test_site_config(struct health_site_config *cfg, __u16 id, const char *name)
{
	health_site_config__init(cfg, id, name);
	cfg->interval_ns = TEST_INTERVAL;
	cfg->multiplier = TEST_MULT;
	cfg->hold_down_ns = TEST_HOLD_DOWN;
	cfg->recovery_timeout_ns = TEST_RECOVERY;
	cfg->damping.penalty_per_flap = 1000;
	cfg->damping.suppress_threshold = 2000;
	cfg->damping.reuse_threshold = 750;
	cfg->damping.half_life_ns = TEST_HALF_LIFE;
	cfg->damping.max_hold_down_ns = TEST_MAX_HOLD_DOWN;
}

/* A library with @nsites sites "s0", "s1", ..., all with the test configuration. */
static inline struct health *new_health_with(struct recorder *r, int nsites, __u64 grace_ns,
					     __u32 penalty_per_flap)
{
	struct health_opts opts = {
		.start_ns = T0,
		.startup_grace_ns = grace_ns,
		.on_event = recorder_cb,
		.ctx = r,
	};
	struct health_site_config cfg;
	struct health *h = NULL;
	char name[16];
	int i;

	memset(r, 0, sizeof(*r));
	assert_int_equal(health__new(&opts, &h), 0);
	for (i = 0; i < nsites; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		test_site_config(&cfg, (__u16)i, name);
		cfg.damping.penalty_per_flap = penalty_per_flap;
		assert_int_equal(health__add_site(h, &cfg), 0);
	}
	return h;
}

/* A library with the one site @cfg, no start-up grace, no blackout guard. */
static inline struct health *new_health_site(struct recorder *r,
					     const struct health_site_config *cfg)
{
	struct health_opts opts = { .start_ns = T0, .on_event = recorder_cb, .ctx = r };
	struct health *h = NULL;

	memset(r, 0, sizeof(*r));
	assert_int_equal(health__new(&opts, &h), 0);
	assert_int_equal(health__add_site(h, cfg), 0);
	return h;
}

static inline struct health *new_health(struct recorder *r, int nsites, __u64 grace_ns)
{
	return new_health_with(r, nsites, grace_ns, 1000);
}

/* One heartbeat read at its arrival time, as the daemon loop does: drain, then advance. */
static inline void beat(struct health *h, __u16 site, __u64 at_ns, __u32 flags)
{
	assert_int_equal(health__heartbeat(h, site, 0, at_ns, flags), 0);
	assert_int_equal(health__advance(h, at_ns), 0);
}

/* Heartbeats of every site in @mask at from, from + interval, ... while < to; returns the last. */
static inline __u64 beat_all(struct health *h, __u64 mask, __u64 from_ns, __u64 to_ns, __u32 flags)
{
	__u64 t, last = from_ns;
	__u16 s;

	for (t = from_ns; t < to_ns; t += TEST_INTERVAL) {
		for (s = 0; s < DT_MAX_SITES; s++) {
			if (mask & (1ull << s))
				assert_int_equal(health__heartbeat(h, s, 0, t, flags), 0);
		}
		assert_int_equal(health__advance(h, t), 0);
		last = t;
	}
	return last;
}

static inline enum dt_site_state state_of(const struct health *h, __u16 site)
{
	struct health_site_status st;

	assert_int_equal(health__site_status(h, site, &st), 0);
	return st.state;
}

static inline const struct health_event *last_event(const struct recorder *r)
{
	assert_true(r->n > 0);
	return &r->ev[r->n - 1];
}

/* Every field an event carries, checked at once so that no test forgets one. */
static inline void assert_event(const struct health_event *ev, __u16 site, enum dt_site_state from,
				enum dt_site_state to, enum health_cause cause,
				__u64 last_heartbeat_ns, __u64 deadline_ns, __u64 detected_ns)
{
	char expect_name[16];

	snprintf(expect_name, sizeof(expect_name), "s%u", site);
	assert_int_equal(ev->site, site);
	assert_string_equal(ev->site_name, expect_name);
	assert_string_equal(dt_site_state_name(ev->from), dt_site_state_name(from));
	assert_string_equal(dt_site_state_name(ev->to), dt_site_state_name(to));
	assert_string_equal(health_cause_name(ev->cause), health_cause_name(cause));
	assert_int_equal(ev->last_heartbeat_ns, last_heartbeat_ns);
	assert_int_equal(ev->deadline_ns, deadline_ns);
	assert_int_equal(ev->detected_ns, detected_ns);
	assert_int_equal(ev->applied_ns, 0);
}

#endif /* DT_HEALTH_TEST_H */
