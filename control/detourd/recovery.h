/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The flow-table scanner thread: it tells when a recovering site's moved flows are idle, and runs
 * the other walks of the flow table (`detourctl flows`) so that none runs on the event loop.
 */
#ifndef DT_DETOURD_RECOVERY_H
#define DT_DETOURD_RECOVERY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <linux/types.h>

struct dt_dataplane;

/* A walk for the scanner thread to do between its scans. */
struct detourd_walk_job {
	/* on the scanner thread: do it with the dataplane, then free it */
	void (*run)(struct detourd_walk_job *job, struct dt_dataplane *dp);
	/* the scanner stopped before it ran: free it */
	void (*drop)(struct detourd_walk_job *job);
};

#define DETOURD_WALK_JOBS_MAX 16 /* waiting at once; more are refused (-EBUSY) */

struct detourd_recovery {
	struct dt_dataplane *dp;
	__u64 flow_idle_ns;
	pthread_t thread;
	int pipe[2]; /* scanner -> event loop: bitmasks of idle recovering sites */
	int jobs[2]; /* event loop -> scanner: struct detourd_walk_job pointers (NULL: wake up) */
	atomic_uint queued; /* jobs submitted and not yet started */
	_Atomic __u64 recovering;
	_Atomic __u64 up;
	_Atomic __u64 partial_walks; /* walks that were not complete, so reported nothing */
	/* What the last complete walk counted, and when (0: none yet): the metrics read them. */
	_Atomic __u64 flows_established;
	_Atomic __u64 flows_new;
	_Atomic __u64 flows_counted_ns;
	atomic_bool stop;
	bool running;
};

void detourd_recovery__init(struct detourd_recovery *r, struct dt_dataplane *dp, __u64 idle_ns);
int detourd_recovery__start(struct detourd_recovery *r, struct dt_dataplane *dp, __u64 idle_ns);
/* One walk, on the caller's thread: the recovering sites it found idle (0 unless complete). */
__u64 detourd_recovery__scan(struct detourd_recovery *r);
void detourd_recovery__set_sites(struct detourd_recovery *r, __u64 recovering, __u64 up);
__u64 detourd_recovery__take_idle(struct detourd_recovery *r);
/*
 * Hand a walk to the scanner thread; it runs after the job before it, between scans. 0; -EBUSY
 * when DETOURD_WALK_JOBS_MAX wait already; -ESRCH when the scanner is not running.
 */
int detourd_recovery__submit(struct detourd_recovery *r, struct detourd_walk_job *job);
void detourd_recovery__stop(struct detourd_recovery *r);
/* A thread that runs SCHED_OTHER whatever its creator runs at. 0 or an errno value. */
int detourd_start_ordinary_thread(pthread_t *t, void *(*fn)(void *), void *arg);

/* A thread that runs SCHED_OTHER whatever its creator runs at (the notify worker uses it too). */
int detourd_start_ordinary_thread(pthread_t *t, void *(*fn)(void *), void *arg);

#endif /* DT_DETOURD_RECOVERY_H */
