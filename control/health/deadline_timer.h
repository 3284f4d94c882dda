/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A timerfd armed at absolute CLOCK_MONOTONIC deadlines, for the daemon's epoll set. Absolute
 * (TFD_TIMER_ABSTIME) because the detector hands out absolute deadlines: re-arming never drifts,
 * and a deadline already in the past fires at once instead of being lost.
 */
#ifndef DT_DEADLINE_TIMER_H
#define DT_DEADLINE_TIMER_H

#include <linux/types.h>

struct deadline_timer {
	int fd;
};

int deadline_timer__open(struct deadline_timer *t);
void deadline_timer__close(struct deadline_timer *t);
int deadline_timer__fd(const struct deadline_timer *t);
/* HEALTH_NO_DEADLINE (UINT64_MAX) disarms. */
int deadline_timer__arm(struct deadline_timer *t, __u64 deadline_ns);
int deadline_timer__disarm(struct deadline_timer *t);
/* Consume an expiry; -EAGAIN when the timer has not fired. */
int deadline_timer__ack(struct deadline_timer *t, __u64 *expirations);

#endif /* DT_DEADLINE_TIMER_H */
