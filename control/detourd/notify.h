/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The notify hook (`notify_command`, like keepalived's notify scripts and NUT's NOTIFYCMD): a
 * program run on every site transition with the site, the old and new state, the cause and the
 * time in its environment.
 *
 * The event loop never waits for it. detourd_notify__push() copies the job into a bounded
 * single-producer ring and wakes a worker thread through an eventfd; a full ring drops the job
 * and counts it. The worker runs SCHED_OTHER with no capabilities at all (it drops them when it
 * starts; no_new_privs keeps an exec from gaining any), starts one hook at a time with
 * posix_spawn() in a process group of its own, and kills the group with SIGKILL once the job's
 * timeout has passed. Hooks run in the order the transitions happened.
 */
#ifndef DT_DETOURD_NOTIFY_H
#define DT_DETOURD_NOTIFY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <linux/types.h>

#include "dataplane/core/detour_abi.h"
#include "dt_config.h"

#define DETOURD_NOTIFY_QUEUE 64 /* jobs queued or running: one more is dropped */
#define DETOURD_NOTIFY_TEXT_MAX 201 /* an operator's reason, with the NUL */

struct detourd_notify_job {
	char command[DT_CONFIG_PATH_MAX]; /* the program, then its arguments, split at blanks */
	__u64 timeout_ns;
	char site[DT_SITE_NAME_MAX];
	unsigned int site_id;
	char old_state[16], new_state[16], cause[32];
	__u64 seq; /* the event log's "seq" */
	__u64 detected_ns; /* CLOCK_MONOTONIC, the event log's "detected_ns" */
	struct timespec time; /* CLOCK_REALTIME of the detection */
	bool by_operator;
	unsigned int uid; /* the operator's, when by_operator */
	char reason[DETOURD_NOTIFY_TEXT_MAX];
};

struct detourd_notify {
	struct detourd_notify_job ring[DETOURD_NOTIFY_QUEUE];
	_Atomic unsigned int head; /* written by the loop */
	_Atomic unsigned int tail; /* written by the worker */
	int efd; /* eventfd: a job was queued, or stop */
	pthread_t thread;
	bool accepting; /* init done: jobs are queued, to run once the worker starts */
	bool running; /* the worker thread exists */
	_Atomic bool stop;
	/* what happened to the jobs; read by `detourctl status` */
	_Atomic __u64 queued, started, succeeded, failed, timed_out, dropped;
};

/* The queue, before the first transition: jobs pushed now wait for the worker. 0 or -errno. */
int detourd_notify__init(struct detourd_notify *n);
/*
 * Start the worker (SCHED_OTHER, no capabilities), after detourd_drop_privileges(), so that it
 * runs as the configured user and privs.c need not reach it. 0 or -errno.
 */
int detourd_notify__start(struct detourd_notify *n);
/* Queue a job; false (and counted as dropped) when the ring is full. Event loop only. */
bool detourd_notify__push(struct detourd_notify *n, const struct detourd_notify_job *job);
/* Stop the worker: a running hook is killed, queued ones are not run. */
void detourd_notify__stop(struct detourd_notify *n);

#endif /* DT_DETOURD_NOTIFY_H */
