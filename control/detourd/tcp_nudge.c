// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TCP nudge (tcp_nudge.h, docs/tcp-recovery.md). The event loop only sets bits and signals;
 * the thread reads the dataplane's record of recent TCP flows once per DOWN (one batch read),
 * keeps the flows homed at the sites that went DOWN and seen within DETOURD_NUDGE_WINDOW_NS,
 * the newest copy of each flow over the CPUs, and sends each its segments through a raw socket,
 * under a token bucket, checking before every segment that the site is still DOWN.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dataplane/dataplane.h"
#include "dt_clock.h"
#include "dt_log.h"
#include "tcp_nudge.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
/* Far enough behind a client's window (at most 2^30) to be outside it whatever it is. */
#define BEHIND_WINDOW 0x40000000u

static __u32 csum_add(__u32 sum, const void *data, size_t len)
{
	const __u8 *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (__u32)(p[len - 1] << 8);
	return sum;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, (__u16)(v >> 16));
	put16(p + 2, (__u16)v);
}

/* Which segment @i of a record is: its flags, sequence and acknowledgment numbers. */
static bool nudge_segment(const struct dt_tcp_seen *s, unsigned int i, __u8 *flags, __u32 *seq,
			  __u32 *ack)
{
	__u32 cseq = ntohl(s->seq), cack = ntohl(s->ack);

	if ((s->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		/* SYN_SENT: a reset that acknowledges the SYN makes connect() fail (RFC 793 3.4) */
		if (i)
			return false;
		*flags = TCP_RST | TCP_ACK;
		*seq = 0;
		*ack = cseq + 1;
		return true;
	}
	if (i == 0) {
		if (!(s->tcp_flags & TCP_ACK))
			return false;
		*flags = TCP_RST;
		*seq = cack;
		*ack = 0;
		return true;
	}
	if (i > 1)
		return false;
	*flags = TCP_ACK;
	*seq = cack - BEHIND_WINDOW;
	*ack = cseq;
	return true;
}

size_t detourd_nudge__build(const struct dt_tcp_seen *s, unsigned int i, __u8 *buf, size_t len)
{
	const struct dt_flow_key *k = &s->key;
	bool v6 = k->family == DT_FAMILY_V6;
	size_t ip_len = v6 ? 40 : 20, alen = v6 ? 16 : 4, total = ip_len + 20;
	__u8 flags, *th = buf + ip_len, pseudo[4] = { 0, 0, 0, 6 };
	__u32 seq, ack, sum;

	if ((k->family != DT_FAMILY_V4 && !v6) || k->proto != 6 || len < total ||
	    !nudge_segment(s, i, &flags, &seq, &ack))
		return 0;
	memset(buf, 0, total);
	if (v6) {
		buf[0] = 0x60;
		put16(buf + 4, 20);
		buf[6] = 6; /* next header TCP */
		buf[7] = 64;
		memcpy(buf + 8, k->daddr, 16); /* from the service ... */
		memcpy(buf + 24, k->saddr, 16); /* ... to the client */
	} else {
		buf[0] = 0x45;
		put16(buf + 2, (__u16)total);
		put16(buf + 6, 0x4000); /* DF */
		buf[8] = 64;
		buf[9] = 6;
		memcpy(buf + 12, k->daddr, 4);
		memcpy(buf + 16, k->saddr, 4);
		put16(buf + 10, csum_fold(csum_add(0, buf, 20)));
	}
	memcpy(th, &k->dport, 2);
	memcpy(th + 2, &k->sport, 2);
	put32(th + 4, seq);
	put32(th + 8, ack);
	th[12] = 5 << 4;
	th[13] = flags;
	/* the window and the urgent pointer stay 0 */
	put16(pseudo, 20);
	sum = csum_add(0, v6 ? buf + 8 : buf + 12, 2 * alen);
	sum = csum_add(sum, pseudo, 4);
	put16(th + 16, csum_fold(csum_add(sum, th, 20)));
	return total;
}

/* ---- the thread ------------------------------------------------------------------------------ */

struct nudge_scan {
	__u64 sites, now;
	struct dt_tcp_seen *v;
	size_t n, cap;
};

static int scan_visit(__u32 slot, const struct dt_tcp_seen *s, void *ctx)
{
	struct nudge_scan *sc = ctx;

	(void)slot;
	if (s->home_site >= DT_MAX_SITES || !(sc->sites & (1ull << s->home_site)))
		return 0;
	if ((__s64)(sc->now - s->seen_ns) > (__s64)DETOURD_NUDGE_WINDOW_NS)
		return 0;
	/* a client that sent a FIN or a RST has closed: it waits for nothing (a copy of another
	 * CPU may be older; the newest decides, after the sort) */
	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? 2 * sc->cap : 1024;
		struct dt_tcp_seen *v = realloc(sc->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		sc->v = v;
		sc->cap = cap;
	}
	sc->v[sc->n++] = *s;
	return 0;
}

/* By key, the newest first: one flow's copies (one per CPU that saw it) sort together. */
static int seen_cmp(const void *a, const void *b)
{
	const struct dt_tcp_seen *x = a, *y = b;
	int c = memcmp(&x->key, &y->key, sizeof(x->key));

	if (c)
		return c;
	return (x->seen_ns < y->seen_ns) - (x->seen_ns > y->seen_ns);
}

/* One token of the bucket, waiting for it if need be; false when stopping. */
static bool take_token(struct detourd_nudge *n)
{
	for (;;) {
		__u64 now = dt_mono_ns();

		n->tokens += (double)(now - n->refilled_ns) * DETOURD_NUDGE_RATE / 1e9;
		if (n->tokens > DETOURD_NUDGE_BURST)
			n->tokens = DETOURD_NUDGE_BURST;
		n->refilled_ns = now;
		if (n->tokens >= 1) {
			n->tokens -= 1;
			return true;
		}
		if (atomic_load(&n->stop))
			return false;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000000 / DETOURD_NUDGE_RATE }, NULL);
	}
}

static void send_segment(struct detourd_nudge *n, const struct dt_tcp_seen *s, const __u8 *pkt,
			 size_t len)
{
	struct sockaddr_in6 to6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in to4 = { .sin_family = AF_INET };
	bool v6 = s->key.family == DT_FAMILY_V6;
	ssize_t r;

	if (v6) {
		memcpy(&to6.sin6_addr, s->key.saddr, 16);
		r = sendto(n->fd6, pkt, len, 0, (struct sockaddr *)&to6, sizeof(to6));
	} else {
		memcpy(&to4.sin_addr, s->key.saddr, 4);
		r = sendto(n->fd4, pkt, len, 0, (struct sockaddr *)&to4, sizeof(to4));
	}
	if (r == (ssize_t)len)
		atomic_fetch_add(&n->segments, 1);
	else if (atomic_fetch_add(&n->send_errors, 1) == 0)
		dt_log_warn("tcp_reset: send: %s", r < 0 ? strerror(errno) : "short");
}

static void nudge_flow(struct detourd_nudge *n, const struct dt_tcp_seen *s, unsigned int *segs)
{
	__u8 pkt[DETOURD_NUDGE_PKT_MAX];
	unsigned int i;
	size_t len;

	for (i = 0; (len = detourd_nudge__build(s, i, pkt, sizeof(pkt))); i++) {
		if (!take_token(n))
			return;
		/* the site may have come back while we waited: never for one that is not DOWN */
		if (!(atomic_load(&n->down) & (1ull << s->home_site)))
			return;
		send_segment(n, s, pkt, len);
		(*segs)++;
	}
}

static void nudge_sites(struct detourd_nudge *n, __u64 sites)
{
	struct nudge_scan sc = { .sites = sites, .now = dt_mono_ns() };
	unsigned int flows = 0, segs = 0, closed = 0;
	size_t i;
	int err;

	err = n->dp->ops->for_each_tcp_seen(n->dp->impl, scan_visit, &sc);
	if (err < 0)
		dt_log_warn("tcp_reset: reading the record of TCP flows: %s", strerror(-err));
	if (sc.n) /* sc.v is NULL while empty, and qsort's pointer must not be */
		qsort(sc.v, sc.n, sizeof(*sc.v), seen_cmp);
	for (i = 0; i < sc.n && !atomic_load(&n->stop); i++) {
		if (i && !memcmp(&sc.v[i].key, &sc.v[i - 1].key, sizeof(sc.v[i].key)))
			continue; /* an older copy, from another CPU */
		if (sc.v[i].tcp_flags & (TCP_FIN | TCP_RST)) {
			closed++;
			continue;
		}
		nudge_flow(n, &sc.v[i], &segs);
		flows++;
	}
	atomic_fetch_add(&n->flows, flows);
	dt_log_info("tcp_reset: sites 0x%llx down: %u recent TCP flows told to reconnect, %u "
		    "segments, %.3f ms (%u closed ones left alone)",
		    (unsigned long long)sites, flows, segs, (double)(dt_mono_ns() - sc.now) / 1e6,
		    closed);
	free(sc.v);
}

static void *nudge_thread(void *arg)
{
	struct detourd_nudge *n = arg;

	for (;;) {
		__u64 sites;

		pthread_mutex_lock(&n->lock);
		while (!n->pending && !atomic_load(&n->stop))
			pthread_cond_wait(&n->cond, &n->lock);
		sites = n->pending;
		n->pending = 0;
		pthread_mutex_unlock(&n->lock);
		if (atomic_load(&n->stop))
			return NULL;
		nudge_sites(n, sites);
	}
}

int detourd_nudge__open(struct detourd_nudge *n, struct dt_dataplane *dp)
{
	memset(n, 0, sizeof(*n));
	n->fd4 = n->fd6 = -1;
	n->dp = dp;
	n->started = true;
	if (!dp->ops->for_each_tcp_seen) {
		dt_log_info("tcp_reset: the %s dataplane keeps no record of TCP flows: not nudged",
			    dp->ops->mode);
		return 0;
	}
	n->fd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	n->fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (n->fd4 < 0 || n->fd6 < 0) {
		dt_log_warn("tcp_reset: raw socket: %s: TCP clients of a DOWN site are not nudged",
			    strerror(errno));
		detourd_nudge__stop(n);
	}
	return 0;
}

/* SCHED_OTHER whatever the caller runs at, like the recovery scanner: never ahead of the loop. */
static int nudge_thread_attr(pthread_attr_t *attr)
{
	struct sched_param sp = { .sched_priority = 0 };
	int err = pthread_attr_init(attr);

	err = err ?: pthread_attr_setinheritsched(attr, PTHREAD_EXPLICIT_SCHED);
	err = err ?: pthread_attr_setschedpolicy(attr, SCHED_OTHER);
	return err ?: pthread_attr_setschedparam(attr, &sp);
}

int detourd_nudge__start(struct detourd_nudge *n)
{
	pthread_attr_t attr;
	int err;

	if (!n->started || n->fd4 < 0 || n->fd6 < 0)
		return 0; /* no record, or no sockets: said at open */
	n->tokens = DETOURD_NUDGE_BURST;
	n->refilled_ns = dt_mono_ns();
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->cond, NULL);
	err = nudge_thread_attr(&attr);
	err = err ?: pthread_create(&n->thread, &attr, nudge_thread, n);
	pthread_attr_destroy(&attr);
	if (err) {
		dt_log_err("tcp_reset: thread: %s", strerror(err));
		detourd_nudge__stop(n);
		return -err;
	}
	n->running = true;
	return 0;
}

void detourd_nudge__transition(struct detourd_nudge *n, __u32 site, enum dt_site_state to)
{
	__u64 bit;

	if (!n->running || site >= DT_MAX_SITES)
		return;
	bit = 1ull << site;
	if (to != DT_SITE_DOWN) {
		atomic_fetch_and(&n->down, ~bit);
		return;
	}
	atomic_fetch_or(&n->down, bit);
	pthread_mutex_lock(&n->lock);
	n->pending |= bit;
	pthread_cond_signal(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

void detourd_nudge__stop(struct detourd_nudge *n)
{
	if (!n->started)
		return;
	if (n->running) {
		pthread_mutex_lock(&n->lock);
		atomic_store(&n->stop, true);
		pthread_cond_signal(&n->cond);
		pthread_mutex_unlock(&n->lock);
		pthread_join(n->thread, NULL);
		n->running = false;
	}
	if (n->fd4 >= 0)
		close(n->fd4);
	if (n->fd6 >= 0)
		close(n->fd6);
	n->fd4 = n->fd6 = -1;
}
