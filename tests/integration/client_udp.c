/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dt-client udp: requests at a fixed rate over K flows, each answered or lost within a timeout.
 *
 * Sends follow an absolute schedule (start + k / rate) so that a slow wake-up never lowers the
 * rate; answers are read between sends. Every socket is connected, so only the service's
 * answers are read, and each socket is its own flow (own source port) for the edge's hash.
 */
#include "dt_client.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct udp_req {
	uint64_t sent_ns;
	uint64_t answered_ns;
	int site; /* row in the report, -1 while unanswered */
};

struct udp_run {
	const struct client_opts *o;
	struct client_report *r;
	struct udp_req *req;
	struct pollfd *pfd;
	uint64_t timeout_ns;
};

static int open_flows(struct udp_run *u)
{
	unsigned int i;

	for (i = 0; i < u->o->flows; i++) {
		int fd = socket(u->o->target.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&u->o->target.sa, u->o->target.len)) {
			fprintf(stderr, "dt-client: udp flow %u to %s: %s\n", i, u->o->addr,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			return -errno;
		}
		u->pfd[i] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	return 0;
}

/* "<site> <server-seq> DTQ <seq>": the answer to request @seq from @site. */
static void udp_take_answer(struct udp_run *u, char *buf, uint64_t now)
{
	char site[DT_WIRE_SITE_MAX];
	unsigned long long server_seq, seq;
	struct udp_req *q;

	if (sscanf(buf, "%31s %llu DTQ %llu", site, &server_seq, &seq) != 3 || seq >= u->r->sent)
		return;
	q = &u->req[seq];
	if (q->site >= 0 || q->answered_ns)
		return; /* a duplicate */
	q->answered_ns = now;
	if (now - q->sent_ns > u->timeout_ns) {
		u->r->late++;
		return;
	}
	q->site = client_report__site(u->r, site, now);
}

static void udp_read(struct udp_run *u, int fd)
{
	char buf[DT_WIRE_MSG_MAX];
	ssize_t n;

	/* Bounded: at most a socket buffer's worth per call; ICMP errors read as -1 and end it. */
	while ((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = '\0';
		udp_take_answer(u, buf, dt_mono_ns());
	}
}

/* Read answers until @until (monotonic ns). */
static void udp_poll_until(struct udp_run *u, uint64_t until)
{
	uint64_t now;
	unsigned int i;

	while ((now = dt_mono_ns()) < until) {
		uint64_t wait = until - now;
		struct timespec ts = { .tv_sec = (time_t)(wait / 1000000000ull),
				       .tv_nsec = (long)(wait % 1000000000ull) };

		if (ppoll(u->pfd, u->o->flows, &ts, NULL) <= 0)
			continue;
		for (i = 0; i < u->o->flows; i++)
			if (u->pfd[i].revents)
				udp_read(u, u->pfd[i].fd);
	}
}

static void udp_send(struct udp_run *u, unsigned long k)
{
	char msg[32];
	int len = snprintf(msg, sizeof(msg), "DTQ %lu", k);

	u->req[k] = (struct udp_req){ .sent_ns = dt_mono_ns(), .site = -1 };
	u->r->sent = k + 1;
	/* A refused send (no route, link down) is a request the user lost: keep counting. */
	send(u->pfd[k % u->o->flows].fd, msg, (size_t)len, MSG_DONTWAIT);
}

static void udp_account(struct udp_run *u, FILE *log)
{
	unsigned long k;

	for (k = 0; k < u->r->sent; k++) {
		const struct udp_req *q = &u->req[k];

		if (q->site < 0)
			client_report__lost(u->r, q->sent_ns);
		if (log)
			fprintf(log, "%lu %llu %llu %s\n", k, (unsigned long long)q->sent_ns,
				(unsigned long long)(q->site >= 0 ? q->answered_ns : 0),
				q->site >= 0 ? u->r->sites[q->site].name : "-");
	}
}

static void udp_loop(struct udp_run *u)
{
	uint64_t period = 1000000000ull / u->o->rate, last_sent = 0;
	unsigned long k;

	u->r->start_ns = dt_mono_ns();
	for (k = 0; k < u->o->count && !dt_client_stop; k++) {
		udp_poll_until(u, u->r->start_ns + k * period);
		udp_send(u, k);
		last_sent = u->req[k].sent_ns;
	}
	udp_poll_until(u, last_sent + u->timeout_ns);
	u->r->end_ns = dt_mono_ns();
}

int run_udp(const struct client_opts *o, struct client_report *r)
{
	struct udp_run u = { .o = o, .r = r, .timeout_ns = o->timeout_ms * 1000000ull };
	FILE *log = NULL;
	unsigned int i;
	int err = -ENOMEM;

	u.req = calloc(o->count, sizeof(*u.req));
	u.pfd = calloc(o->flows, sizeof(*u.pfd));
	for (i = 0; u.pfd && i < o->flows; i++)
		u.pfd[i].fd = -1;
	if (u.req && u.pfd && !(err = open_flows(&u))) {
		udp_loop(&u);
		if (o->log_path && !(log = fopen(o->log_path, "w")))
			fprintf(stderr, "dt-client: --log %s: %s\n", o->log_path, strerror(errno));
		udp_account(&u, log);
		if (log)
			fclose(log);
	}
	for (i = 0; u.pfd && i < o->flows; i++)
		if (u.pfd[i].fd >= 0)
			close(u.pfd[i].fd);
	free(u.pfd);
	free(u.req);
	return err;
}
