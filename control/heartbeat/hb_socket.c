/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The heartbeat receiver socket. The kernel stamps every datagram when it arrives
 * (SO_TIMESTAMPNS, CLOCK_REALTIME); we convert that to CLOCK_MONOTONIC once per batch, because
 * the failure detector compares arrival times with deadlines on the monotonic clock and must see
 * when a heartbeat arrived, not when a busy daemon got round to reading it.
 *
 * Kernel corner: setting SO_TIMESTAMPNS enables RX stamping through deferred work
 * (net_enable_timestamp); a datagram received before that work ran has no stamp and the kernel
 * stamps it at read time instead. That only affects the first instants of a fresh socket.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dt_clock.h"
#include "dt_log.h"
#include "hb_socket.h"

/* Room for one byte more than a heartbeat, so an oversized datagram is seen as such. */
#define HB_RX_BUF (HB_WIRE_LEN + 8)
#define HB_CMSG_BUF CMSG_SPACE(sizeof(struct timespec))

struct hb_socket {
	int fd;
	uint16_t port;
	struct hb_receiver *rx;
	uint8_t buf[HB_SOCKET_BATCH][HB_RX_BUF];
	union {
		char buf[HB_CMSG_BUF];
		struct cmsghdr align;
	} cmsg[HB_SOCKET_BATCH];
	struct iovec iov[HB_SOCKET_BATCH];
	struct sockaddr_storage from[HB_SOCKET_BATCH];
	struct mmsghdr msgs[HB_SOCKET_BATCH];
};

/* Bind fd to spec, with the filter program (if >= 0) on it first, and remember the port. */
static int socket_bind(struct hb_socket *s, const char *spec, int filter_fd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, rcvbuf = HB_SOCKET_RCVBUF, err;

	err = hb_addr_parse(spec, true, &ss, &len);
	if (err)
		return err;
	s->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	/*
	 * A deep receive queue: under a junk flood the daemon must still find the genuine
	 * heartbeats among what it reads, not lose them to a full default-sized buffer.
	 * SO_RCVBUFFORCE needs CAP_NET_ADMIN; without it the plain request is capped by rmem_max.
	 */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* before bind(): no datagram is queued unfiltered */
	if (filter_fd >= 0 &&
	    setsockopt(s->fd, SOL_SOCKET, SO_ATTACH_BPF, &filter_fd, sizeof(filter_fd)) < 0) {
		err = -errno;
		dt_log_err("heartbeat socket %s: attaching its filter: %s", spec, strerror(errno));
		return err;
	}
	if (setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0 ||
	    bind(s->fd, (struct sockaddr *)&ss, len) < 0) {
		err = -errno;
		dt_log_err("heartbeat socket %s: %s", spec, strerror(errno));
		return err;
	}
	len = sizeof(ss);
	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						   ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

int hb_socket__open(const char *spec, struct hb_receiver *rx, struct hb_socket **out)
{
	return hb_socket__open_filtered(spec, rx, -1, out);
}

int hb_socket__open_filtered(const char *spec, struct hb_receiver *rx, int filter_fd,
			     struct hb_socket **out)
{
	struct hb_socket *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->rx = rx;
	s->fd = -1;
	err = socket_bind(s, spec, filter_fd);
	if (err) {
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

int hb_socket__fd(const struct hb_socket *s)
{
	return s->fd;
}

uint16_t hb_socket__port(const struct hb_socket *s)
{
	return s->port;
}

void hb_socket__close(struct hb_socket *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s);
}

static void socket_prepare(struct hb_socket *s, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		s->iov[i] = (struct iovec){ .iov_base = s->buf[i], .iov_len = HB_RX_BUF };
		s->msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &s->from[i],
			.msg_namelen = sizeof(s->from[i]),
			.msg_iov = &s->iov[i],
			.msg_iovlen = 1,
			.msg_control = s->cmsg[i].buf,
			.msg_controllen = sizeof(s->cmsg[i].buf),
		};
		s->msgs[i].msg_len = 0;
	}
}

/*
 * Where a datagram came from, as the receiver's source check compares it. An IPv4 sender seen
 * through a dual-stack IPv6 socket (::ffff:a.b.c.d) is the IPv4 address it is.
 */
static void msg_source(const struct msghdr *mh, struct hb_ip *ip)
{
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
	const struct sockaddr_storage *ss = mh->msg_name;
	const struct sockaddr_in6 *in6 = mh->msg_name;
	const struct sockaddr_in *in = mh->msg_name;
	bool mapped;

	memset(ip, 0, sizeof(*ip));
	if (ss->ss_family == AF_INET && mh->msg_namelen >= sizeof(*in)) {
		ip->family = DT_FAMILY_V4;
		memcpy(ip->addr, &in->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6 && mh->msg_namelen >= sizeof(*in6)) {
		mapped = !memcmp(&in6->sin6_addr, v4_mapped, sizeof(v4_mapped));
		ip->family = mapped ? DT_FAMILY_V4 : DT_FAMILY_V6;
		memcpy(ip->addr, in6->sin6_addr.s6_addr + (mapped ? 12 : 0), mapped ? 4 : 16);
	}
}

/* The kernel's receive time (CLOCK_REALTIME), or 0 if the datagram carries none. */
static uint64_t msg_rx_realtime(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return dt_timespec_ns(&ts);
		}
	}
	return 0;
}

/*
 * realtime - monotonic, sampled now. Bracketing the realtime read between two monotonic reads
 * and taking their midpoint keeps the error to half the time of one clock_gettime().
 */
static int64_t clock_offset_ns(uint64_t *mono_now)
{
	uint64_t m1 = dt_clock_ns(CLOCK_MONOTONIC);
	uint64_t r = dt_clock_ns(CLOCK_REALTIME);
	uint64_t m2 = dt_clock_ns(CLOCK_MONOTONIC);

	*mono_now = m2;
	return (int64_t)(r - (m1 + (m2 - m1) / 2));
}

/*
 * Realtime stamp to monotonic. If the realtime clock was stepped between arrival and now the
 * result is off by the step; clamping to "now" at least keeps a heartbeat from arriving in the
 * future, which would let it push a deadline out.
 */
static uint64_t arrival_mono(uint64_t rx_real, int64_t offset, uint64_t mono_now)
{
	uint64_t mono;

	if (!rx_real)
		return mono_now;
	mono = (uint64_t)((int64_t)rx_real - offset);
	return mono > mono_now ? mono_now : mono;
}

static void socket_deliver(struct hb_socket *s, unsigned int i, int64_t offset, uint64_t mono_now,
			   hb_accept_fn fn, void *ctx)
{
	struct mmsghdr *mm = &s->msgs[i];
	uint64_t rx_real = msg_rx_realtime(&mm->msg_hdr);
	size_t len = mm->msg_len;
	struct hb_heartbeat hb;
	struct hb_ip from;
	struct hb_msg m;

	if (mm->msg_hdr.msg_flags & MSG_TRUNC)
		len = HB_RX_BUF + 1; /* bigger than the buffer: oversized, whatever it held */
	msg_source(&mm->msg_hdr, &from);
	if (hb_receiver__process_from(s->rx, s->buf[i], len, &from, rx_real, &m))
		return;
	hb = (struct hb_heartbeat){
		.site_id = m.site_id,
		.beacon_id = m.beacon_id,
		.key_id = m.key_id,
		.epoch = m.epoch,
		.seq = m.seq,
		.sent_ns = m.sent_ns,
		.interval_us = m.interval_us,
		.power_flags = m.power_flags,
		.arrival_ns = arrival_mono(rx_real, offset, mono_now),
	};
	if (fn)
		fn(&hb, ctx);
}

int hb_socket__receive(struct hb_socket *s, unsigned int max, hb_accept_fn fn, void *ctx)
{
	uint64_t mono_now;
	int64_t offset;
	int n;

	if (max > HB_SOCKET_BATCH)
		max = HB_SOCKET_BATCH;
	if (max == 0)
		return 0;
	socket_prepare(s, max);
	n = recvmmsg(s->fd, s->msgs, max, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	offset = clock_offset_ns(&mono_now);
	for (int i = 0; i < n; i++)
		socket_deliver(s, (unsigned int)i, offset, mono_now, fn, ctx);
	return n;
}
