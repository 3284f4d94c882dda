/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "deadline_timer.h"

#define NSEC_PER_SEC 1000000000ull

int deadline_timer__open(struct deadline_timer *t)
{
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	return t->fd < 0 ? -errno : 0;
}

void deadline_timer__close(struct deadline_timer *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

int deadline_timer__fd(const struct deadline_timer *t)
{
	return t->fd;
}

static int deadline_timer__set(struct deadline_timer *t, __u64 deadline_ns)
{
	struct itimerspec its = {
		.it_value.tv_sec = deadline_ns / NSEC_PER_SEC,
		.it_value.tv_nsec = deadline_ns % NSEC_PER_SEC,
	};

	return timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL) ? -errno : 0;
}

int deadline_timer__arm(struct deadline_timer *t, __u64 deadline_ns)
{
	if (deadline_ns == UINT64_MAX)
		return deadline_timer__disarm(t);
	/* A zero it_value disarms: a deadline at time 0 is simply long past, so fire now. */
	return deadline_timer__set(t, deadline_ns ? deadline_ns : 1);
}

int deadline_timer__disarm(struct deadline_timer *t)
{
	return deadline_timer__set(t, 0);
}

int deadline_timer__ack(struct deadline_timer *t, __u64 *expirations)
{
	uint64_t count;
	ssize_t n = read(t->fd, &count, sizeof(count));

	if (n < 0)
		return -errno;
	if (n != sizeof(count))
		return -EIO;
	if (expirations)
		*expirations = count;
	return 0;
}
