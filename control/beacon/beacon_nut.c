/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal upsd (NUT network protocol) client: "GET VAR <ups> ups.status" over TCP, answered by
 * 'VAR <ups> ups.status "OL CHRG"' or "ERR <reason>". We speak the protocol ourselves rather
 * than link libupsclient because every step here has to be nonblocking with one deadline for
 * the whole exchange (connect included), and one request line is all we need.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "beacon.h"
#include "dt_clock.h"

#define NUT_LINE_MAX 512

int nut_client__init(struct nut_client *nc, const char *ups, const char *host, uint16_t port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai;
	char port_str[8];
	int err;

	memset(nc, 0, sizeof(*nc));
	nc->fd = -1;
	snprintf(nc->ups, sizeof(nc->ups), "%s", ups);
	snprintf(port_str, sizeof(port_str), "%u", port);
	err = getaddrinfo(host, port_str, &hints, &ai);
	if (err) {
		dt_log_err("ups %s@%s: %s", ups, host, gai_strerror(err));
		return -EINVAL;
	}
	memcpy(&nc->addr, ai->ai_addr, ai->ai_addrlen);
	nc->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

void nut_client__close(struct nut_client *nc)
{
	if (nc->fd >= 0)
		close(nc->fd);
	nc->fd = -1;
}

/* Wait for events on fd until the deadline: 0, -ETIMEDOUT or -errno. */
static int nut_wait(int fd, short events, uint64_t deadline_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left = dt_mono_ms_left(deadline_ms);
	int n;

	if (left <= 0)
		return -ETIMEDOUT;
	n = poll(&pfd, 1, (int)left);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static int nut_connect(struct nut_client *nc, uint64_t deadline_ms)
{
	int soerr = 0, err;
	socklen_t len = sizeof(soerr);

	nc->fd = socket(nc->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (nc->fd < 0)
		return -errno;
	if (connect(nc->fd, (struct sockaddr *)&nc->addr, nc->addr_len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	err = nut_wait(nc->fd, POLLOUT, deadline_ms);
	if (err)
		return err;
	if (getsockopt(nc->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -errno;
	return -soerr;
}

/* One reply line into line[], without the newline. */
static int nut_read_line(struct nut_client *nc, char *line, size_t cap, uint64_t deadline_ms)
{
	size_t len = 0;

	while (len < cap - 1) {
		ssize_t n;
		int err = nut_wait(nc->fd, POLLIN, deadline_ms);

		if (err)
			return err;
		/* Peek-free byte-at-a-time is fine: one short line every poll interval. */
		n = recv(nc->fd, line + len, 1, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		if (line[len] == '\n') {
			line[len] = '\0';
			return 0;
		}
		len++;
	}
	return -EMSGSIZE;
}

/* 'VAR <ups> ups.status "<words>"' into flags; ERR or anything else is an error. */
static int nut_parse_reply(const struct nut_client *nc, char *line, uint32_t *flags)
{
	char prefix[NUT_LINE_MAX];
	size_t plen, len = strlen(line);

	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	if (!strncmp(line, "ERR ", 4)) {
		dt_log_warn("ups %s: upsd says %s", nc->ups, line);
		return -EPROTO;
	}
	plen = (size_t)snprintf(prefix, sizeof(prefix), "VAR %s ups.status \"", nc->ups);
	if (len < plen + 1 || strncmp(line, prefix, plen) || line[len - 1] != '"') {
		dt_log_warn("ups %s: unexpected reply \"%.80s\"", nc->ups, line);
		return -EPROTO;
	}
	line[len - 1] = '\0';
	*flags = power_status_parse(line + plen);
	return 0;
}

static int nut_exchange(struct nut_client *nc, uint64_t deadline_ms, uint32_t *flags)
{
	char req[128], line[NUT_LINE_MAX];
	int len, err;

	len = snprintf(req, sizeof(req), "GET VAR %s ups.status\n", nc->ups);
	err = nut_wait(nc->fd, POLLOUT, deadline_ms);
	if (err)
		return err;
	if (send(nc->fd, req, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) != len)
		return errno ? -errno : -EIO;
	err = nut_read_line(nc, line, sizeof(line), deadline_ms);
	if (err)
		return err;
	return nut_parse_reply(nc, line, flags);
}

int nut_client__query(struct nut_client *nc, uint32_t timeout_ms, uint32_t *flags)
{
	uint64_t deadline_ms = dt_mono_ms() + timeout_ms;
	int err = 0;

	*flags = DT_POWER_UNKNOWN;
	if (nc->fd < 0)
		err = nut_connect(nc, deadline_ms);
	if (!err)
		err = nut_exchange(nc, deadline_ms, flags);
	/* After a failure the stream may hold half a reply: start the next query afresh. */
	if (err) {
		nut_client__close(nc);
		*flags = DT_POWER_UNKNOWN;
	}
	return err;
}
