// SPDX-License-Identifier: GPL-2.0-only
/*
 * The notify hook's worker (control/detourd/notify.c) on its own: the hook's environment and
 * arguments, a timeout that kills the hook's process group, a full ring that drops and counts,
 * a stop that does not wait for a hanging hook, and hooks that cannot start or fail.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dt_clock.h"
#include "notify.h"

static char dir[64];
static struct detourd_notify n;

static void write_script(const char *name, const char *body)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/dt-notify-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_script("env.sh",
		     "env >\"$1.tmp\"; echo \"ARGS=$#:$2\" >>\"$1.tmp\"; mv \"$1.tmp\" \"$1\"\n");
	write_script("hang.sh", "echo $$ >\"$1\"; sleep 1000 & echo $! >\"$1.child\"; wait\n");
	return detourd_notify__init(&n) ?: detourd_notify__start(&n);
}

/* The queue without its worker: what detourd has from its first transition to its last thread. */
static int setup_not_started(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/dt-notify-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_script("env.sh",
		     "env >\"$1.tmp\"; echo \"ARGS=$#:$2\" >>\"$1.tmp\"; mv \"$1.tmp\" \"$1\"\n");
	return detourd_notify__init(&n);
}

static int teardown(void **state)
{
	char cmd[128];

	detourd_notify__stop(&n);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct detourd_notify_job job(const char *fmt, const char *arg, __u64 timeout_ms)
{
	struct detourd_notify_job j = {
		.timeout_ns = timeout_ms * 1000000,
		.site = "pangyo",
		.site_id = 1,
		.old_state = "up",
		.new_state = "down",
		.cause = "heartbeat_timeout",
		.seq = 42,
		.detected_ns = 123456789,
		.time = { .tv_sec = 1796352000, .tv_nsec = 123456789 }, /* 2026-12-04T02:40:00 */
	};

	snprintf(j.command, sizeof(j.command), fmt, dir, arg);
	return j;
}

/* Wait up to 5 s for *counter to reach want. */
static void wait_count(_Atomic __u64 *counter, __u64 want)
{
	__u64 end = dt_mono_ns() + 5000000000ull;

	while (*counter < want && dt_mono_ns() < end)
		usleep(2000);
	assert_int_equal(*counter, want);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t len;

	if (!f)
		return NULL;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static void test_environment_and_arguments(void **state)
{
	struct detourd_notify_job j = job("%s/env.sh %s/env.out  second", dir, 1000);
	char path[128], *env;

	j.by_operator = true;
	j.uid = 1000;
	snprintf(j.reason, sizeof(j.reason), "power work in hall 2");
	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	assert_true(detourd_notify__push(&n, &j));
	wait_count(&n.succeeded, 1);
	unsetenv("NOTIFY_SOCKET");
	snprintf(path, sizeof(path), "%s/env.out", dir);
	env = slurp(path);
	assert_non_null(env);
	print_message("%s", env);
	assert_non_null(strstr(env, "DETOUR_SITE=pangyo\n"));
	assert_non_null(strstr(env, "DETOUR_SITE_ID=1\n"));
	assert_non_null(strstr(env, "DETOUR_OLD_STATE=up\n"));
	assert_non_null(strstr(env, "DETOUR_NEW_STATE=down\n"));
	assert_non_null(strstr(env, "DETOUR_CAUSE=heartbeat_timeout\n"));
	assert_non_null(strstr(env, "DETOUR_EVENT_SEQ=42\n"));
	assert_non_null(strstr(env, "DETOUR_DETECTED_NS=123456789\n"));
	assert_non_null(strstr(env, "DETOUR_TIME=2026-12-04T02:40:00.123456Z\n"));
	assert_non_null(strstr(env, "DETOUR_OPERATOR_UID=1000\n"));
	assert_non_null(strstr(env, "DETOUR_REASON=power work in hall 2\n"));
	assert_non_null(strstr(env, "PATH=/usr/local/sbin:"));
	assert_non_null(strstr(env, "ARGS=2:second\n")); /* blanks split, two of them count once */
	assert_null(strstr(env, "NOTIFY_SOCKET")); /* nothing of the daemon's own environment */
	assert_int_equal(n.started, 1);
	assert_int_equal(n.failed + n.timed_out + n.dropped, 0);
}

/* No such process, or a zombie nobody reaped yet (the shell's child, reparented). */
static bool gone(pid_t pid)
{
	char path[64], *stat, *paren;

	if (kill(pid, 0))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	stat = slurp(path);
	paren = stat ? strrchr(stat, ')') : NULL;
	return !paren || paren[2] == 'Z';
}

static void test_timeout_kills_the_group(void **state)
{
	struct detourd_notify_job j = job("%s/hang.sh %s/hang.pid", dir, 200);
	char path[128], *pid;
	pid_t shell, child;
	__u64 t0 = dt_mono_ns(), took_ms;

	assert_true(detourd_notify__push(&n, &j));
	wait_count(&n.timed_out, 1);
	took_ms = (dt_mono_ns() - t0) / 1000000;
	print_message("killed after %llu ms (timeout 200 ms)\n", (unsigned long long)took_ms);
	assert_true(took_ms >= 200 && took_ms < 700);
	snprintf(path, sizeof(path), "%s/hang.pid", dir);
	pid = slurp(path);
	assert_non_null(pid);
	shell = atoi(pid);
	snprintf(path, sizeof(path), "%s/hang.pid.child", dir);
	pid = slurp(path);
	assert_non_null(pid);
	child = atoi(pid);
	usleep(50000);
	assert_true(gone(shell));
	assert_true(gone(child)); /* its child too: the whole group */
	assert_int_equal(n.succeeded + n.failed, 0);
}

/* One hook running plus the ring: DETOURD_NOTIFY_QUEUE jobs in all; the next is dropped. */
static void test_full_ring_drops_and_stop_does_not_wait(void **state)
{
	struct detourd_notify_job j = job("%s/hang.sh %s/hang.pid", dir, 10000);
	unsigned int i, accepted = 0;
	__u64 t0;

	for (i = 0; i < DETOURD_NOTIFY_QUEUE + 3; i++)
		accepted += detourd_notify__push(&n, &j);
	assert_int_equal(accepted, DETOURD_NOTIFY_QUEUE);
	assert_int_equal(n.dropped, 3);
	assert_int_equal(n.queued, DETOURD_NOTIFY_QUEUE);
	wait_count(&n.started, 1);
	t0 = dt_mono_ns();
	detourd_notify__stop(&n);
	print_message("stop took %llu ms with a hook hanging\n",
		      (unsigned long long)((dt_mono_ns() - t0) / 1000000));
	assert_true(dt_mono_ns() - t0 < 500000000ull);
	assert_int_equal(n.started, 1); /* the queued ones were not run */
	assert_false(detourd_notify__push(&n, &j)); /* stopped: dropped too */
	assert_int_equal(detourd_notify__init(&n), 0); /* for teardown */
}

static void test_hooks_that_cannot_start_or_fail(void **state)
{
	struct detourd_notify_job missing = job("%s/no-such-hook%s", "", 1000);
	struct detourd_notify_job fails = job("/bin/false%.0s%.0s", "", 1000);

	assert_true(detourd_notify__push(&n, &missing));
	assert_true(detourd_notify__push(&n, &fails));
	wait_count(&n.failed, 2);
	assert_int_equal(n.started, 1); /* /bin/false started, the missing one could not */
	assert_int_equal(n.succeeded + n.timed_out, 0);
}

/* A transition before the worker starts (a restart's restored states) is run once it does. */
static void test_jobs_queued_before_the_worker_run_after(void **state)
{
	struct detourd_notify_job j = job("%s/env.sh %s/early.out", dir, 1000);
	char path[128];

	assert_true(detourd_notify__push(&n, &j));
	usleep(50000);
	assert_int_equal(n.started, 0); /* no worker yet */
	assert_int_equal(detourd_notify__start(&n), 0);
	wait_count(&n.succeeded, 1);
	snprintf(path, sizeof(path), "%s/early.out", dir);
	assert_non_null(slurp(path));
	assert_non_null(strstr(slurp(path), "DETOUR_NEW_STATE=down\n"));
}

/* Stopped before its worker ever started: nothing waits, nothing runs, nothing leaks. */
static void test_stop_without_a_worker(void **state)
{
	struct detourd_notify_job j = job("%s/env.sh %s/never.out", dir, 1000);

	assert_true(detourd_notify__push(&n, &j));
	detourd_notify__stop(&n);
	assert_int_equal(n.started, 0);
	assert_false(detourd_notify__push(&n, &j)); /* stopped: dropped */
	assert_int_equal(detourd_notify__init(&n), 0); /* for teardown */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_environment_and_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jobs_queued_before_the_worker_run_after,
						setup_not_started, teardown),
		cmocka_unit_test_setup_teardown(test_stop_without_a_worker, setup_not_started,
						teardown),
		cmocka_unit_test_setup_teardown(test_timeout_kills_the_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_ring_drops_and_stop_does_not_wait, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hooks_that_cannot_start_or_fail, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
