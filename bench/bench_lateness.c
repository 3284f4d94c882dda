/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bench-lateness: how late does a deadline_timer wake-up through epoll arrive, on this machine?
 *
 * Arms N absolute deadlines one after the other, waits for each in epoll_wait() like the daemon
 * does, and records now - deadline. Prints p50 / p99 / max in microseconds and a final JSON line.
 * --load keeps every CPU busy with spinning threads meanwhile; --fifo, --mlock and --slack try
 * what a daemon can do about it. A benchmark, not a test: the numbers depend on the machine.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "dt_clock.h"
#include "deadline_timer.h"

#define MAX_COUNT 1000000u
#define MAX_LOAD_THREADS 256
/* epoll_wait never waits longer than this for one deadline: a bound, not a measurement. */
#define WAIT_BOUND_MS 5000

struct bench_opts {
	unsigned int count;
	__u64 spacing_ns;
	bool load;
	bool fifo;
	bool mlock;
	bool slack;
};

struct load {
	pthread_t threads[MAX_LOAD_THREADS];
	int nthreads;
	atomic_bool stop;
};

struct bench_result {
	__u64 p50_ns;
	__u64 p99_ns;
	__u64 max_ns;
	unsigned int rebased; /* deadlines already past when armed: a previous wake-up overran */
};

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-n count] [-s spacing_us] [--load] [--fifo] [--mlock] [--slack]\n"
		"  -n, --count N       deadlines to measure (default 2000)\n"
		"  -s, --spacing US    spacing between deadlines in microseconds (default 1000)\n"
		"      --load          spin a thread on every CPU meanwhile (keys get _loaded)\n"
		"      --fifo          SCHED_FIFO for the measuring thread, if permitted\n"
		"      --mlock         mlockall(MCL_CURRENT | MCL_FUTURE)\n"
		"      --slack         prctl(PR_SET_TIMERSLACK, 1)\n",
		prog);
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "spacing", required_argument, NULL, 's' },
		{ "load", no_argument, NULL, 'l' },
		{ "fifo", no_argument, NULL, 'f' },
		{ "mlock", no_argument, NULL, 'm' },
		{ "slack", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "n:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
		case 's':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !v || v > MAX_COUNT)
				return -EINVAL;
			if (c == 'n')
				o->count = (unsigned int)v;
			else
				o->spacing_ns = (__u64)v * 1000;
			break;
		case 'l':
			o->load = true;
			break;
		case 'f':
			o->fifo = true;
			break;
		case 'm':
			o->mlock = true;
			break;
		case 'k':
			o->slack = true;
			break;
		default:
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

static void *spin(void *arg)
{
	struct load *l = arg;

	while (!atomic_load_explicit(&l->stop, memory_order_relaxed))
		;
	return NULL;
}

/* Spinners are explicitly SCHED_OTHER: inheriting SCHED_FIFO would starve the whole machine. */
static int load__start(struct load *l)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct sched_param sp = { .sched_priority = 0 };
	pthread_attr_t attr;
	int err = 0;

	atomic_init(&l->stop, false);
	l->nthreads = 0;
	if (ncpu < 1 || ncpu > MAX_LOAD_THREADS)
		ncpu = ncpu < 1 ? 1 : MAX_LOAD_THREADS;
	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_OTHER);
	pthread_attr_setschedparam(&attr, &sp);
	while (l->nthreads < ncpu && !err) {
		err = -pthread_create(&l->threads[l->nthreads], &attr, spin, l);
		if (!err)
			l->nthreads++;
	}
	pthread_attr_destroy(&attr);
	return err;
}

static void load__stop(struct load *l)
{
	int i;

	atomic_store(&l->stop, true);
	for (i = 0; i < l->nthreads; i++)
		pthread_join(l->threads[i], NULL);
}

/* Each tuning is best effort: report what did not apply and measure anyway. */
static void apply_tuning(const struct bench_opts *o)
{
	struct sched_param sp = { .sched_priority = sched_get_priority_min(SCHED_FIFO) + 1 };

	if (o->fifo && sched_setscheduler(0, SCHED_FIFO, &sp))
		fprintf(stderr, "bench-lateness: SCHED_FIFO: %s\n", strerror(errno));
	if (o->mlock && mlockall(MCL_CURRENT | MCL_FUTURE))
		fprintf(stderr, "bench-lateness: mlockall: %s\n", strerror(errno));
	if (o->slack && prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL))
		fprintf(stderr, "bench-lateness: timerslack: %s\n", strerror(errno));
}

static int wait_deadline(struct deadline_timer *t, int epfd, __u64 deadline_ns, __u64 *late_ns)
{
	struct epoll_event ev;
	__u64 now;
	int n, err;

	err = deadline_timer__arm(t, deadline_ns);
	if (err)
		return err;
	do
		n = epoll_wait(epfd, &ev, 1, WAIT_BOUND_MS);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : -ETIMEDOUT;
	now = dt_mono_ns();
	err = deadline_timer__ack(t, NULL);
	if (err)
		return err;
	*late_ns = now - deadline_ns;
	return 0;
}

/*
 * Deadlines follow each other at a fixed spacing. One that is already past when armed (the
 * previous wake-up overran it) is moved to now + spacing, so that every sample measures one
 * independent wake-up instead of the backlog of an earlier one.
 */
static int measure(struct deadline_timer *t, int epfd, const struct bench_opts *o, __u64 *samples,
		   unsigned int *rebased)
{
	__u64 deadline = dt_mono_ns() + o->spacing_ns;
	unsigned int i;
	int err;

	for (i = 0; i < o->count; i++) {
		err = wait_deadline(t, epfd, deadline, &samples[i]);
		if (err)
			return err;
		deadline += o->spacing_ns;
		if (deadline <= dt_mono_ns()) {
			deadline = dt_mono_ns() + o->spacing_ns;
			(*rebased)++;
		}
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void summarize(__u64 *samples, unsigned int n, struct bench_result *r)
{
	unsigned int p99 = (unsigned int)(((__u64)n * 99 + 99) / 100); /* nearest-rank */

	qsort(samples, n, sizeof(*samples), cmp_u64);
	r->p50_ns = samples[(n - 1) / 2];
	r->p99_ns = samples[p99 ? p99 - 1 : 0];
	r->max_ns = samples[n - 1];
}

static int run(const struct bench_opts *o, __u64 *samples, struct bench_result *r)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct deadline_timer t;
	int epfd, err;

	err = deadline_timer__open(&t);
	if (err)
		return err;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		err = -errno;
		goto out_timer;
	}
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, deadline_timer__fd(&t), &ev)) {
		err = -errno;
		goto out_epoll;
	}
	err = measure(&t, epfd, o, samples, &r->rebased);
	if (!err)
		summarize(samples, o->count, r);
out_epoll:
	close(epfd);
out_timer:
	deadline_timer__close(&t);
	return err;
}

static void report(const struct bench_opts *o, const struct bench_result *r, int load_threads)
{
	const char *sfx = o->load ? "_loaded" : "";

	printf("deadlines: %u at %llu us spacing, load threads: %d, fifo: %d, mlock: %d, slack: %d\n",
	       o->count, (unsigned long long)(o->spacing_ns / 1000), load_threads, o->fifo,
	       o->mlock, o->slack);
	printf("lateness p50 %.1f us, p99 %.1f us, max %.1f us (%u overran the next deadline)\n",
	       r->p50_ns / 1e3, r->p99_ns / 1e3, r->max_ns / 1e3, r->rebased);
	printf("{\"timer_lateness_p50_us%s\": %.1f, \"timer_lateness_p99_us%s\": %.1f, "
	       "\"timer_lateness_max_us%s\": %.1f}\n",
	       sfx, r->p50_ns / 1e3, sfx, r->p99_ns / 1e3, sfx, r->max_ns / 1e3);
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .count = 2000, .spacing_ns = 1000000 };
	struct bench_result r = { 0 };
	struct load l = { .nthreads = 0 };
	__u64 *samples;
	int err;

	if (parse_args(argc, argv, &o)) {
		usage(argv[0]);
		return 2;
	}
	samples = calloc(o.count, sizeof(*samples));
	if (!samples)
		return 1;
	err = o.load ? load__start(&l) : 0;
	if (!err) {
		apply_tuning(&o);
		err = run(&o, samples, &r);
	}
	load__stop(&l);
	if (!err)
		report(&o, &r, l.nthreads);
	else
		fprintf(stderr, "bench-lateness: %s\n", strerror(-err));
	free(samples);
	return err ? 1 : 0;
}
