// SPDX-License-Identifier: GPL-2.0-only
/*
 * Recovery and flow-table hygiene, off the event loop.
 *
 * A RECOVERING site becomes UP once the flows that moved away from it are idle. Finding that out
 * means walking the flow table, which for a large table takes milliseconds of system calls: far
 * too long to do on the thread that detects power cuts. So a scanner thread walks the table every
 * DETOURD_SCAN_INTERVAL_NS, and reports through a pipe which recovering sites have no moved flow
 * seen within flow_idle; the event loop then tells the state machine. Only a complete walk
 * reports: one the dataplane says was cut short (-EAGAIN) reports nothing and is counted. The same walk deletes
 * entries of sites that are UP and idle longer than flow_idle (a later drain or failure must not
 * find a stale "established" mark).
 *
 * Between scans the thread runs the walks others hand it (detourd_recovery__submit(): the
 * listing of `detourctl flows`), one at a time; it waits for them and for its next scan in one
 * ppoll(). When it falls behind, scans and jobs take turns, so neither starves the other.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dt_clock.h"
#include "dataplane/dataplane.h"
#include "dt_log.h"
#include "recovery.h"

#define DETOURD_SCAN_INTERVAL_NS 200000000ull /* 200 ms */

struct scan_ctx {
	__u64 now;
	__u64 idle_ns;
	__u64 recovering; /* bit per site */
	__u64 up; /* bit per site */
	__u64 busy; /* recovering sites with a recently active moved flow */
	__u64 established, fresh; /* entries seen, by class */
	struct dt_flow_key stale[256];
	unsigned int n_stale;
};

static int visit_flow(const struct dt_flow_key *key, const struct dt_flow_state *v, void *arg)
{
	struct scan_ctx *c = arg;
	__u64 bit = v->home_site < DT_MAX_SITES ? 1ull << v->home_site : 0;
	/* refreshed after the walk read its clock: in use, not idle (the subtraction would wrap) */
	bool idle = v->last_seen_ns < c->now && c->now - v->last_seen_ns > c->idle_ns;

	if ((c->recovering & bit) && !(v->flags & DT_FLOW_F_HOME) && !idle)
		c->busy |= bit;
	if ((c->up & bit) && idle && c->n_stale < sizeof(c->stale) / sizeof(c->stale[0]))
		c->stale[c->n_stale++] = *key; /* deleted after the walk: not counted */
	else if (v->flags & DT_FLOW_F_NEW)
		c->fresh++;
	else
		c->established++;
	return 0;
}

/*
 * One walk: the recovering sites it found idle. Only a complete walk can say a site is idle: a
 * walk that was cut short or ran out (eviction churn) may have missed the flow that keeps it busy.
 */
__u64 detourd_recovery__scan(struct detourd_recovery *r)
{
	struct scan_ctx c = { 0 };
	unsigned int i;
	int ret;

	c.now = dt_mono_ns();
	c.idle_ns = r->flow_idle_ns;
	c.recovering = atomic_load(&r->recovering);
	c.up = atomic_load(&r->up);
	if (!c.recovering && !c.up)
		return 0;
	ret = r->dp->ops->for_each_flow(r->dp->impl, visit_flow, &c);
	for (i = 0; i < c.n_stale; i++)
		r->dp->ops->delete_flow(r->dp->impl, &c.stale[i]);
	if (ret) {
		atomic_fetch_add(&r->partial_walks, 1);
		return 0;
	}
	atomic_store(&r->flows_established, c.established);
	atomic_store(&r->flows_new, c.fresh);
	atomic_store(&r->flows_counted_ns, c.now);
	return c.recovering & ~c.busy;
}

static void scan_once(struct detourd_recovery *r)
{
	__u64 idle_sites = detourd_recovery__scan(r);

	if (idle_sites && write(r->pipe[1], &idle_sites, sizeof(idle_sites)) < 0 && errno != EAGAIN)
		dt_log_warn("recovery scanner: %s", strerror(errno));
}

/* Until @deadline, or until a job (or the wake-up of stop) can be read: true then. */
static bool wait_for_job(struct detourd_recovery *r, __u64 deadline)
{
	struct pollfd pfd = { .fd = r->jobs[0], .events = POLLIN };
	__u64 now = dt_mono_ns(), left = deadline > now ? deadline - now : 0;
	struct timespec ts = { (time_t)(left / 1000000000ull), (long)(left % 1000000000ull) };

	return ppoll(&pfd, 1, &ts, NULL) > 0 && (pfd.revents & POLLIN);
}

static void run_one_job(struct detourd_recovery *r)
{
	struct detourd_walk_job *job;

	if (read(r->jobs[0], &job, sizeof(job)) != sizeof(job) || !job)
		return;
	atomic_fetch_sub(&r->queued, 1);
	job->run(job, r->dp);
}

static void *scanner_main(void *arg)
{
	struct detourd_recovery *r = arg;
	__u64 next = dt_mono_ns() + DETOURD_SCAN_INTERVAL_NS;

	for (;;) {
		bool job = wait_for_job(r, next);

		if (atomic_load(&r->stop))
			break;
		if (job)
			run_one_job(r);
		if (dt_mono_ns() >= next) {
			next += DETOURD_SCAN_INTERVAL_NS;
			scan_once(r);
		}
	}
	return NULL;
}

/* SCHED_OTHER whatever the caller runs at: the scanner must never compete with the event loop. */
int detourd_start_ordinary_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	struct sched_param sp = { .sched_priority = 0 };
	pthread_attr_t attr;
	int err = pthread_attr_init(&attr);

	err = err ?: pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	err = err ?: pthread_attr_setschedpolicy(&attr, SCHED_OTHER);
	err = err ?: pthread_attr_setschedparam(&attr, &sp);
	err = err ?: pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return err;
}

/* The scanner's state without its thread: what detourd_recovery__scan() needs. */
void detourd_recovery__init(struct detourd_recovery *r, struct dt_dataplane *dp, __u64 idle_ns)
{
	memset(r, 0, sizeof(*r));
	r->dp = dp;
	r->flow_idle_ns = idle_ns;
}

static void close_pipes(struct detourd_recovery *r)
{
	close(r->pipe[0]);
	close(r->pipe[1]);
	close(r->jobs[0]);
	close(r->jobs[1]);
}

int detourd_recovery__start(struct detourd_recovery *r, struct dt_dataplane *dp, __u64 idle_ns)
{
	int err;

	detourd_recovery__init(r, dp, idle_ns);
	if (pipe2(r->pipe, O_NONBLOCK | O_CLOEXEC))
		return -errno;
	if (pipe2(r->jobs, O_NONBLOCK | O_CLOEXEC)) {
		err = -errno;
		close(r->pipe[0]);
		close(r->pipe[1]);
		return err;
	}
	err = detourd_start_ordinary_thread(&r->thread, scanner_main, r);
	if (err) {
		close_pipes(r);
		return -err;
	}
	r->running = true;
	return 0;
}

int detourd_recovery__submit(struct detourd_recovery *r, struct detourd_walk_job *job)
{
	int err;

	if (!r->running)
		return -ESRCH;
	if (atomic_fetch_add(&r->queued, 1) >= DETOURD_WALK_JOBS_MAX) {
		atomic_fetch_sub(&r->queued, 1);
		return -EBUSY;
	}
	if (write(r->jobs[1], &job, sizeof(job)) == sizeof(job))
		return 0;
	err = errno == EAGAIN ? -EBUSY : -errno;
	atomic_fetch_sub(&r->queued, 1);
	return err;
}

/* Tell the scanner which sites are recovering and which are up (bit per site id). */
void detourd_recovery__set_sites(struct detourd_recovery *r, __u64 recovering, __u64 up)
{
	atomic_store(&r->recovering, recovering);
	atomic_store(&r->up, up);
}

/* Sites the scanner found idle since the last call (0 if none); never blocks. */
__u64 detourd_recovery__take_idle(struct detourd_recovery *r)
{
	__u64 v, all = 0;

	while (read(r->pipe[0], &v, sizeof(v)) == sizeof(v))
		all |= v;
	return all;
}

void detourd_recovery__stop(struct detourd_recovery *r)
{
	struct detourd_walk_job *job = NULL;

	if (!r->running)
		return;
	atomic_store(&r->stop, true);
	if (write(r->jobs[1], &job, sizeof(job)) < 0) /* wake it; a full pipe wakes it too */
		dt_log_debug("recovery scanner: wake-up: %s", strerror(errno));
	pthread_join(r->thread, NULL);
	while (read(r->jobs[0], &job, sizeof(job)) == sizeof(job))
		if (job)
			job->drop(job);
	close_pipes(r);
	r->running = false;
}
