/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * deadline_timer with a real timerfd and epoll. Every assertion is about correctness (it fires,
 * never before its deadline; disarmed, it does not), never about how soon: that is the
 * benchmark's business. Waits are bounded so a broken timer fails instead of hanging.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "dt_clock.h"
#include "health_test.h"

#include "deadline_timer.h"

#define WAIT_BOUND_MS 5000

struct fixture {
	struct deadline_timer t;
	int epfd;
};

static int setup(void **state)
{
	static struct fixture f;
	struct epoll_event ev = { .events = EPOLLIN };

	assert_int_equal(deadline_timer__open(&f.t), 0);
	f.epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(f.epfd >= 0);
	assert_int_equal(epoll_ctl(f.epfd, EPOLL_CTL_ADD, deadline_timer__fd(&f.t), &ev), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->epfd);
	deadline_timer__close(&f->t);
	assert_int_equal(deadline_timer__fd(&f->t), -1);
	return 0;
}

static int wait_ready(struct fixture *f, int timeout_ms)
{
	struct epoll_event ev;
	int n;

	do
		n = epoll_wait(f->epfd, &ev, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	return n;
}

static void test_fires_at_or_after_deadline(void **state)
{
	struct fixture *f = *state;
	__u64 deadline, expirations = 0;
	int i;

	for (i = 0; i < 20; i++) {
		deadline = dt_mono_ns() + 2 * MS;
		assert_int_equal(deadline_timer__arm(&f->t, deadline), 0);
		assert_int_equal(wait_ready(f, WAIT_BOUND_MS), 1);
		assert_true(dt_mono_ns() >= deadline);
		assert_int_equal(deadline_timer__ack(&f->t, &expirations), 0);
		assert_int_equal(expirations, 1);
	}
}

static void test_past_deadline_fires_at_once(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(deadline_timer__arm(&f->t, dt_mono_ns() - 5 * MS), 0);
	assert_int_equal(wait_ready(f, WAIT_BOUND_MS), 1);
	assert_int_equal(deadline_timer__ack(&f->t, NULL), 0);
	/* time zero is long past too, not "disarm" */
	assert_int_equal(deadline_timer__arm(&f->t, 0), 0);
	assert_int_equal(wait_ready(f, WAIT_BOUND_MS), 1);
	assert_int_equal(deadline_timer__ack(&f->t, NULL), 0);
}

static void test_disarm_and_rearm(void **state)
{
	struct fixture *f = *state;
	__u64 deadline = dt_mono_ns() + 1 * MS;

	assert_int_equal(deadline_timer__arm(&f->t, deadline), 0);
	assert_int_equal(deadline_timer__disarm(&f->t), 0);
	/* a disarmed timer is not readable, even well after the old deadline */
	assert_int_equal(wait_ready(f, 20), 0);
	assert_int_equal(deadline_timer__ack(&f->t, NULL), -EAGAIN);
	/* HEALTH_NO_DEADLINE disarms too */
	assert_int_equal(deadline_timer__arm(&f->t, dt_mono_ns() + 1 * MS), 0);
	assert_int_equal(deadline_timer__arm(&f->t, HEALTH_NO_DEADLINE), 0);
	assert_int_equal(wait_ready(f, 20), 0);
	/* re-arming moves the deadline: only the last one counts */
	deadline = dt_mono_ns() + 3 * MS;
	assert_int_equal(deadline_timer__arm(&f->t, dt_mono_ns() + 1 * MS), 0);
	assert_int_equal(deadline_timer__arm(&f->t, deadline), 0);
	assert_int_equal(wait_ready(f, WAIT_BOUND_MS), 1);
	assert_true(dt_mono_ns() >= deadline);
	assert_int_equal(deadline_timer__ack(&f->t, NULL), 0);
}

static void test_closed_timer_errors(void **state)
{
	struct deadline_timer t = { .fd = -1 };

	assert_int_equal(deadline_timer__arm(&t, dt_mono_ns()), -EBADF);
	assert_int_equal(deadline_timer__ack(&t, NULL), -EBADF);
	deadline_timer__close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires_at_or_after_deadline),
		cmocka_unit_test(test_past_deadline_fires_at_once),
		cmocka_unit_test(test_disarm_and_rearm),
		cmocka_unit_test(test_closed_timer_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
