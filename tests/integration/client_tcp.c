/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dt-client tcp and tcp-long. Every step (connect, greeting, echo) has the per-request timeout,
 * through non-blocking sockets and poll, so a blackholed site costs one timeout, never a hang.
 */
#include "dt_client.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	uint64_t now;

	while ((now = dt_mono_ns()) < deadline) {
		int ms = (int)((deadline - now + 999999) / 1000000);
		int n = poll(&p, 1, ms);

		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
	return -ETIMEDOUT;
}

static int tcp_connect(const struct client_target *t, uint64_t deadline, int *fdp)
{
	int fd = socket(t->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&t->sa, t->len) && errno != EINPROGRESS)
		err = -errno;
	if (!err)
		err = wait_fd(fd, POLLOUT, deadline);
	if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
		err = -err;
	if (err) {
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

/* Read exactly up to and including the first '\n' (at most @size - 1 bytes) before @deadline. */
static int read_line(int fd, char *buf, size_t size, uint64_t deadline)
{
	size_t got = 0;

	while (got < size - 1) {
		ssize_t n;
		int err = wait_fd(fd, POLLIN, deadline);

		if (err)
			return err;
		n = read(fd, buf + got, 1); /* one byte at a time: never eat the next message */
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n > 0 && buf[got++] == '\n')
			break;
	}
	buf[got] = '\0';
	return got && buf[got - 1] == '\n' ? 0 : -EPROTO;
}

/* Send @msg and read its echo back. */
static int echo(int fd, const char *msg, uint64_t deadline)
{
	char back[DT_WIRE_MSG_MAX];
	size_t len = strlen(msg);
	int err;

	if (write(fd, msg, len) != (ssize_t)len)
		return -EIO;
	err = read_line(fd, back, sizeof(back), deadline);
	if (!err && strcmp(back, msg))
		err = -EPROTO;
	return err;
}

static void note_error(struct client_report *r, unsigned long k, const char *step, int err)
{
	if (!r->error[0])
		snprintf(r->error, sizeof(r->error), "#%lu %s: %s", k, step, strerror(-err));
}

/* One short connection: greeting, one echo, close. Returns the site row or -errno. */
static int tcp_once(const struct client_opts *o, struct client_report *r, unsigned long k)
{
	uint64_t deadline = dt_mono_ns() + o->timeout_ms * 1000000ull;
	char site[DT_WIRE_SITE_MAX + 2], msg[32];
	int fd, err = tcp_connect(&o->target, deadline, &fd);

	if (err) {
		note_error(r, k, "connect", err);
		return err;
	}
	err = read_line(fd, site, sizeof(site), deadline);
	snprintf(msg, sizeof(msg), "ping %lu\n", k);
	err = err ?: echo(fd, msg, deadline);
	close(fd);
	if (err) {
		note_error(r, k, "exchange", err);
		return err;
	}
	site[strcspn(site, "\n")] = '\0';
	return client_report__site(r, site, dt_mono_ns());
}

int run_tcp(const struct client_opts *o, struct client_report *r)
{
	uint64_t period = 1000000000ull / o->rate;
	FILE *log = o->log_path ? fopen(o->log_path, "w") : NULL;
	unsigned long k;

	r->start_ns = dt_mono_ns();
	for (k = 0; k < o->count && !dt_client_stop; k++) {
		uint64_t sent;
		int row;

		sleep_until_ns(r->start_ns + k * period);
		sent = dt_mono_ns();
		r->sent++;
		row = tcp_once(o, r, k);
		if (row < 0)
			client_report__lost(r, sent);
		if (log)
			fprintf(log, "%lu %llu %llu %s\n", k, (unsigned long long)sent,
				(unsigned long long)(row >= 0 ? dt_mono_ns() : 0),
				row >= 0 ? r->sites[row].name : "-");
	}
	r->end_ns = dt_mono_ns();
	if (log)
		fclose(log);
	return 0;
}

/* One connection for the whole run; a broken exchange ends it (the flow left its site). */
int run_tcp_long(const struct client_opts *o, struct client_report *r)
{
	uint64_t period = 1000000000ull / o->rate, deadline;
	char site[DT_WIRE_SITE_MAX + 2], msg[48];
	unsigned long k;
	int fd, err, row = -1;

	r->start_ns = dt_mono_ns();
	deadline = r->start_ns + o->timeout_ms * 1000000ull;
	err = tcp_connect(&o->target, deadline, &fd);
	if (err) {
		note_error(r, 0, "connect", err);
		r->end_ns = dt_mono_ns();
		return 0;
	}
	err = read_line(fd, site, sizeof(site), deadline);
	site[strcspn(site, "\n")] = '\0';
	for (k = 0; !err && k < o->count && !dt_client_stop; k++) {
		sleep_until_ns(r->start_ns + k * period);
		snprintf(msg, sizeof(msg), "message %lu\n", k);
		r->sent++;
		err = echo(fd, msg, dt_mono_ns() + o->timeout_ms * 1000000ull);
		if (!err)
			row = client_report__site(r, site, dt_mono_ns());
	}
	if (err) {
		note_error(r, k, "exchange", err);
		client_report__lost(r, dt_mono_ns());
	}
	close(fd);
	r->long_stayed = !err && row >= 0 && r->n_sites == 1;
	r->end_ns = dt_mono_ns();
	return 0;
}
