/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Power readings that are not upsd: the NUT status-word mapping shared by every source, a
 * status file and a status command. Whatever cannot be read is DT_POWER_UNKNOWN, never healthy.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "beacon.h"
#include "dt_clock.h"

#define STATUS_LINE_MAX 256

/*
 * Unknown words (DISCHRG, TRIM, BOOST, CAL, ...) are ignored. A status naming neither OL nor OB
 * says nothing about where the power comes from, so it also carries UNKNOWN.
 */
uint32_t power_status_parse(const char *status)
{
	char buf[STATUS_LINE_MAX], *save, *tok;
	uint32_t flags = 0;

	snprintf(buf, sizeof(buf), "%s", status);
	for (tok = strtok_r(buf, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save))
		flags |= dt_power_word_flag(tok) & ~DT_POWER_UNKNOWN;
	if (!(flags & (DT_POWER_MAINS | DT_POWER_ON_BATTERY)))
		flags |= DT_POWER_UNKNOWN;
	return flags;
}

/* The first line of buf[0 .. len), NUL-terminated in place; -EINVAL if there is none. */
static int first_line(char *buf, size_t len)
{
	char *nl = memchr(buf, '\n', len);

	if (nl)
		*nl = '\0';
	else
		buf[len] = '\0';
	return buf[0] ? 0 : -EINVAL;
}

int power_status_file(const char *path, uint32_t *flags)
{
	char buf[STATUS_LINE_MAX + 1];
	ssize_t n;
	int fd;

	*flags = DT_POWER_UNKNOWN;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, STATUS_LINE_MAX);
	close(fd);
	if (n < 0)
		return -errno;
	if (first_line(buf, (size_t)n))
		return -EINVAL;
	*flags = power_status_parse(buf);
	return 0;
}

/* sh -c cmd with stdout on out_fd, stdin on /dev/null, default signals, in its own group. */
static int command_spawn(const char *cmd, int out_fd, pid_t *pid)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int err;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	posix_spawnattr_init(&attr);
	/* The poller thread blocks the signals main handles; the child must not inherit that. */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGINT);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETPGROUP);
	err = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, NULL);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -err;
}

/* Read the child's output until EOF or the deadline. Returns bytes read or -ETIMEDOUT. */
static ssize_t command_read(int fd, char *buf, size_t cap, uint64_t deadline_ms)
{
	size_t len = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = dt_mono_ms_left(deadline_ms);
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (ssize_t)len;
		len += (size_t)n;
		if (len == cap)
			return (ssize_t)len; /* the first line is all we parse */
	}
}

/* Reap the child by the deadline; kill its whole group if it overstays. */
static int command_reap(pid_t pid, uint64_t deadline_ms)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int status = 0;

	if (pidfd >= 0) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		int64_t left = dt_mono_ms_left(deadline_ms);

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			kill(-pid, SIGKILL);
		close(pidfd);
	} else {
		kill(-pid, SIGKILL);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

int power_status_command(const char *cmd, uint32_t timeout_ms, uint32_t *flags)
{
	char buf[STATUS_LINE_MAX + 1];
	uint64_t deadline_ms = dt_mono_ms() + timeout_ms;
	int pipefd[2], err;
	ssize_t n;
	pid_t pid;

	*flags = DT_POWER_UNKNOWN;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	err = command_spawn(cmd, pipefd[1], &pid);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		return err;
	}
	n = command_read(pipefd[0], buf, STATUS_LINE_MAX, deadline_ms);
	close(pipefd[0]);
	if (n < 0)
		kill(-pid, SIGKILL);
	err = command_reap(pid, deadline_ms);
	if (n < 0)
		return (int)n;
	if (err)
		return err;
	if (first_line(buf, (size_t)n))
		return -EINVAL;
	*flags = power_status_parse(buf);
	return 0;
}
