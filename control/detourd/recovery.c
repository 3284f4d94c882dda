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
 */
#include <errno.h>
#include <fcntl.h>
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
		c->stale[c->n_stale++] = *key;
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
	return c.recovering & ~c.busy;
}

static void scan_once(struct detourd_recovery *r)
{
	__u64 idle_sites = detourd_recovery__scan(r);

	if (idle_sites && write(r->pipe[1], &idle_sites, sizeof(idle_sites)) < 0 && errno != EAGAIN)
		dt_log_warn("recovery scanner: %s", strerror(errno));
}

static void *scanner_main(void *arg)
{
	struct detourd_recovery *r = arg;
	__u64 next;

	next = dt_mono_ns();
	while (!atomic_load(&r->stop)) {
		next += DETOURD_SCAN_INTERVAL_NS;
		dt_mono_sleep_until(next);
		scan_once(r);
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

int detourd_recovery__start(struct detourd_recovery *r, struct dt_dataplane *dp, __u64 idle_ns)
{
	int err;

	detourd_recovery__init(r, dp, idle_ns);
	if (pipe2(r->pipe, O_NONBLOCK | O_CLOEXEC))
		return -errno;
	err = detourd_start_ordinary_thread(&r->thread, scanner_main, r);
	if (err) {
		close(r->pipe[0]);
		close(r->pipe[1]);
		return -err;
	}
	r->running = true;
	return 0;
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
	if (!r->running)
		return;
	atomic_store(&r->stop, true);
	pthread_join(r->thread, NULL);
	close(r->pipe[0]);
	close(r->pipe[1]);
	r->running = false;
}
