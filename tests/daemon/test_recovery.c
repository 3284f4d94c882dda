// SPDX-License-Identifier: GPL-2.0-only
/*
 * The recovery scanner (control/detourd/recovery.c) on a fake dataplane: a RECOVERING site is
 * idle only after a complete walk found none of its moved flows active; a walk the dataplane says
 * was cut short (-EAGAIN) calls nothing idle, whatever it visited.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "dt_clock.h"
#include "dataplane/dataplane.h"
#include "recovery.h"

#define HOME 3
#define IDLE_NS 1000000000ull

struct fake_dp {
	struct dt_flow_state flows[4];
	unsigned int n;
	int walk_ret; /* what the walk returns after visiting every flow */
	unsigned int deleted;
};

static int fake_walk(void *dp, dt_flow_visit_fn fn, void *ctx)
{
	struct fake_dp *f = dp;
	struct dt_flow_key key = { .family = DT_FAMILY_V4, .proto = 6 };
	unsigned int i;

	for (i = 0; i < f->n; i++) {
		key.sport = (__be16)i;
		fn(&key, &f->flows[i], ctx);
	}
	return f->walk_ret;
}

static int fake_delete(void *dp, const struct dt_flow_key *key)
{
	((struct fake_dp *)dp)->deleted++;
	return 0;
}

static const struct dt_dataplane_ops fake_ops = {
	.mode = "fake",
	.for_each_flow = fake_walk,
	.delete_flow = fake_delete,
};

static __u64 scan(struct fake_dp *f)
{
	struct dt_dataplane dp = { .ops = &fake_ops, .impl = f };
	struct detourd_recovery r;

	detourd_recovery__init(&r, &dp, IDLE_NS);
	detourd_recovery__set_sites(&r, 1ull << HOME, 0);
	return detourd_recovery__scan(&r);
}

/* A moved flow of HOME, idle for twice flow_idle. */
static struct dt_flow_state idle_flow(void)
{
	return (struct dt_flow_state){ .last_seen_ns = dt_mono_ns() - 2 * IDLE_NS,
				       .home_site = HOME,
				       .target_site = HOME + 1 };
}

static void test_complete_walk_of_idle_flows_says_idle(void **state)
{
	struct fake_dp f = { .n = 1 };

	f.flows[0] = idle_flow();
	assert_int_equal(scan(&f), 1ull << HOME);
}

static void test_complete_walk_with_an_active_flow_says_busy(void **state)
{
	struct fake_dp f = { .n = 2 };

	f.flows[0] = idle_flow();
	f.flows[1] = idle_flow();
	f.flows[1].last_seen_ns = dt_mono_ns();
	assert_int_equal(scan(&f), 0);
}

/* The active flow was evicted and the walk restarted until it ran out: that is no proof. */
static void test_walk_that_ran_out_says_nothing(void **state)
{
	struct fake_dp f = { .n = 1, .walk_ret = -EAGAIN };

	f.flows[0] = idle_flow();
	assert_int_equal(scan(&f), 0);
}

static void test_empty_walk_that_ran_out_says_nothing(void **state)
{
	struct fake_dp f = { .walk_ret = -EAGAIN };

	assert_int_equal(scan(&f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_walk_of_idle_flows_says_idle),
		cmocka_unit_test(test_complete_walk_with_an_active_flow_says_busy),
		cmocka_unit_test(test_walk_that_ran_out_says_nothing),
		cmocka_unit_test(test_empty_walk_that_ran_out_says_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
