// SPDX-License-Identifier: GPL-2.0-only
/*
 * The notify hook's worker (notify.h): a bounded ring filled by the event loop, one thread that
 * runs the hooks one at a time without privileges, and a timeout that kills a hook's process
 * group. Nothing here ever makes the event loop wait: a push is a copy, two atomics and an
 * eventfd write.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dt_clock.h"
#include "dt_log.h"
#include "notify.h"
#include "recovery.h" /* detourd_start_ordinary_thread() */

#define NOTIFY_ARGS_MAX DT_CONFIG_NOTIFY_WORDS_MAX /* the config parser checks */
#define NOTIFY_ENV_MAX 16
#define NOTIFY_POLL_MS 5 /* how often a running hook is checked for its end or its timeout */
#define NOTIFY_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Wait up to @ms (-1: for ever) for the eventfd, and consume it. */
static void wait_wakeup(struct detourd_notify *n, int ms)
{
	struct pollfd p = { .fd = n->efd, .events = POLLIN };
	eventfd_t v;

	if (poll(&p, 1, ms) > 0)
		(void)eventfd_read(n->efd, &v);
}

/* The whole capability set of this thread, gone: a hook must not manage BPF or the network. */
static int drop_all_capabilities(void)
{
	cap_t none = cap_init();
	int err = none ? cap_set_proc(none) : -1;

	if (none)
		cap_free(none);
	if (err)
		return -errno;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ? -errno : 0;
}

struct hook_env {
	char *envp[NOTIFY_ENV_MAX + 1];
	char buf[NOTIFY_ENV_MAX][DT_CONFIG_PATH_MAX];
	unsigned int n;
};

static void env_add(struct hook_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void env_add(struct hook_env *e, const char *fmt, ...)
{
	va_list ap;

	if (e->n == NOTIFY_ENV_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(e->buf[e->n], sizeof(e->buf[e->n]), fmt, ap);
	va_end(ap);
	e->envp[e->n] = e->buf[e->n];
	e->envp[++e->n] = NULL;
}

/* The hook's whole environment: nothing of detourd's own (no NOTIFY_SOCKET, no WATCHDOG_*). */
static void build_env(const struct detourd_notify_job *j, struct hook_env *e)
{
	struct tm tm;
	char when[40];

	gmtime_r(&j->time.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	e->n = 0;
	env_add(e, "%s", NOTIFY_PATH);
	env_add(e, "DETOUR_SITE=%s", j->site);
	env_add(e, "DETOUR_SITE_ID=%u", j->site_id);
	env_add(e, "DETOUR_OLD_STATE=%s", j->old_state);
	env_add(e, "DETOUR_NEW_STATE=%s", j->new_state);
	env_add(e, "DETOUR_CAUSE=%s", j->cause);
	env_add(e, "DETOUR_EVENT_SEQ=%llu", (unsigned long long)j->seq);
	env_add(e, "DETOUR_TIME=%s.%06ldZ", when, j->time.tv_nsec / 1000);
	env_add(e, "DETOUR_DETECTED_NS=%llu", (unsigned long long)j->detected_ns);
	if (j->by_operator)
		env_add(e, "DETOUR_OPERATOR_UID=%u", j->uid);
	if (j->by_operator && j->reason[0])
		env_add(e, "DETOUR_REASON=%s", j->reason);
}

/* Split the command at blanks, in @copy. The number of words. */
static unsigned int split_command(const char *command, char *copy, size_t len, char **argv)
{
	unsigned int argc = 0;
	char *save, *w;

	snprintf(copy, len, "%s", command);
	for (w = strtok_r(copy, " \t", &save); w && argc < NOTIFY_ARGS_MAX;
	     w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	return argc;
}

/*
 * A new process group, default signal dispositions and an empty mask, stdin from /dev/null,
 * stdout and stderr detourd's, no other descriptor.
 */
static int spawn_hook(char **argv, char **envp, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	const short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int err;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	err = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	/* whatever detourd holds without O_CLOEXEC (a library's socket) stays with it */
	err = err ?: posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	err = err ?: posix_spawnattr_setflags(&attr, flags);
	err = err ?: posix_spawnattr_setpgroup(&attr, 0);
	err = err ?: posix_spawnattr_setsigmask(&attr, &none);
	err = err ?: posix_spawnattr_setsigdefault(&attr, &all);
	err = err ?: posix_spawn(pid, argv[0], &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return err;
}

static void run_job(struct detourd_notify *n, const struct detourd_notify_job *j)
{
	char copy[sizeof(j->command)], *argv[NOTIFY_ARGS_MAX + 1];
	struct hook_env env;
	__u64 deadline;
	int err, status = 0;
	pid_t pid;

	if (!split_command(j->command, copy, sizeof(copy), argv))
		return;
	build_env(j, &env);
	if ((err = spawn_hook(argv, env.envp, &pid))) {
		dt_log_err("notify_command %s: %s (site %s: %s -> %s)", argv[0], strerror(err),
			   j->site, j->old_state, j->new_state);
		atomic_fetch_add(&n->failed, 1);
		return;
	}
	atomic_fetch_add(&n->started, 1);
	deadline = dt_mono_ns() + j->timeout_ns;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (dt_mono_ns() < deadline && !atomic_load(&n->stop)) {
			wait_wakeup(n, NOTIFY_POLL_MS);
			continue;
		}
		kill(-pid, SIGKILL); /* the group: a shell's children too */
		waitpid(pid, &status, 0);
		atomic_fetch_add(&n->timed_out, 1);
		dt_log_warn("notify_command %s (site %s: %s -> %s) %s after %llu ms: killed",
			    argv[0], j->site, j->old_state, j->new_state,
			    atomic_load(&n->stop) ? "still running at stop" : "timed out",
			    (unsigned long long)(j->timeout_ns / 1000000));
		return;
	}
	if (WIFEXITED(status) && !WEXITSTATUS(status)) {
		atomic_fetch_add(&n->succeeded, 1);
		return;
	}
	atomic_fetch_add(&n->failed, 1);
	if (WIFEXITED(status))
		dt_log_warn("notify_command %s (site %s: %s -> %s) exited with status %d", argv[0],
			    j->site, j->old_state, j->new_state, WEXITSTATUS(status));
	else
		dt_log_warn("notify_command %s (site %s: %s -> %s) killed by signal %d", argv[0],
			    j->site, j->old_state, j->new_state, WTERMSIG(status));
}

static void *worker_main(void *arg)
{
	struct detourd_notify *n = arg;
	int err = drop_all_capabilities();

	if (err)
		dt_log_err("notify: cannot drop the worker's capabilities (%s): no hook will run",
			   strerror(-err));
	while (!atomic_load(&n->stop)) {
		unsigned int tail = atomic_load_explicit(&n->tail, memory_order_relaxed);

		if (tail == atomic_load_explicit(&n->head, memory_order_acquire)) {
			wait_wakeup(n, -1);
			continue;
		}
		if (err)
			atomic_fetch_add(&n->failed, 1);
		else
			run_job(n, &n->ring[tail % DETOURD_NOTIFY_QUEUE]);
		atomic_store_explicit(&n->tail, tail + 1, memory_order_release);
	}
	return NULL;
}

int detourd_notify__init(struct detourd_notify *n)
{
	memset(n, 0, sizeof(*n));
	n->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->efd < 0)
		return -errno;
	n->accepting = true;
	return 0;
}

int detourd_notify__start(struct detourd_notify *n)
{
	sigset_t all, old;
	int err;

	/*
	 * Every signal blocked in the worker from its first instruction: detourd reads its
	 * signals from a signalfd, and a SIGHUP the kernel picked this thread for would kill it.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = detourd_start_ordinary_thread(&n->thread, worker_main, n);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	pthread_setname_np(n->thread, "dt-notify");
	n->running = true;
	return 0;
}

bool detourd_notify__push(struct detourd_notify *n, const struct detourd_notify_job *job)
{
	unsigned int head = atomic_load_explicit(&n->head, memory_order_relaxed);

	if (!n->accepting ||
	    head - atomic_load_explicit(&n->tail, memory_order_acquire) >= DETOURD_NOTIFY_QUEUE) {
		atomic_fetch_add(&n->dropped, 1);
		return false;
	}
	n->ring[head % DETOURD_NOTIFY_QUEUE] = *job;
	atomic_store_explicit(&n->head, head + 1, memory_order_release);
	atomic_fetch_add(&n->queued, 1);
	(void)eventfd_write(n->efd, 1);
	return true;
}

void detourd_notify__stop(struct detourd_notify *n)
{
	unsigned int left;

	if (!n->accepting)
		return;
	n->accepting = false;
	if (n->running) {
		atomic_store(&n->stop, true);
		(void)eventfd_write(n->efd, 1);
		pthread_join(n->thread, NULL);
		n->running = false;
	}
	close(n->efd);
	left = atomic_load(&n->head) - atomic_load(&n->tail);
	if (left)
		dt_log_info("notify: stopping with %u hooks not run", left);
}
