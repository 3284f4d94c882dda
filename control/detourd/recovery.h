/* SPDX-License-Identifier: GPL-2.0-only */
/* The flow-table scanner thread that tells when a recovering site's moved flows are idle. */
#ifndef DT_DETOURD_RECOVERY_H
#define DT_DETOURD_RECOVERY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <linux/types.h>

struct dt_dataplane;

struct detourd_recovery {
	struct dt_dataplane *dp;
	__u64 flow_idle_ns;
	pthread_t thread;
	int pipe[2]; /* scanner -> event loop: bitmasks of idle recovering sites */
	_Atomic __u64 recovering;
	_Atomic __u64 up;
	_Atomic __u64 partial_walks; /* walks that were not complete, so reported nothing */
	atomic_bool stop;
	bool running;
};

void detourd_recovery__init(struct detourd_recovery *r, struct dt_dataplane *dp, __u64 idle_ns);
int detourd_recovery__start(struct detourd_recovery *r, struct dt_dataplane *dp, __u64 idle_ns);
/* One walk, on the caller's thread: the recovering sites it found idle (0 unless complete). */
__u64 detourd_recovery__scan(struct detourd_recovery *r);
void detourd_recovery__set_sites(struct detourd_recovery *r, __u64 recovering, __u64 up);
__u64 detourd_recovery__take_idle(struct detourd_recovery *r);
void detourd_recovery__stop(struct detourd_recovery *r);

/* A thread that runs SCHED_OTHER whatever its creator runs at (the notify worker uses it too). */
int detourd_start_ordinary_thread(pthread_t *t, void *(*fn)(void *), void *arg);

#endif /* DT_DETOURD_RECOVERY_H */
