/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TCP nudge (docs/tcp-recovery.md): when a site goes DOWN, the TCP clients the dataplane
 * recorded going to it lately (dt_tcp_seen: prefixes with `tcp_reset`) are sent, from the
 * service's address, segments that make their stacks drop the connection now rather than after
 * a retransmission timer. A thread of its own sends them, at most DETOURD_NUDGE_RATE a second,
 * and only while the site is still DOWN: never for a site that is UP, DRAINING or RECOVERING.
 */
#ifndef DT_DETOURD_TCP_NUDGE_H
#define DT_DETOURD_TCP_NUDGE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "dataplane/core/detour_abi.h"

struct dt_dataplane;

#define DETOURD_NUDGE_RATE 20000 /* segments a second */
#define DETOURD_NUDGE_BURST 2000
#define DETOURD_NUDGE_WINDOW_NS 3000000000ull /* flows seen within this before the DOWN */
#define DETOURD_NUDGE_PKT_MAX 60 /* IPv6 + TCP, no options */

struct detourd_nudge {
	struct dt_dataplane *dp;
	int fd4, fd6; /* raw sockets, opened while detourd still has CAP_NET_RAW */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	__u64 pending; /* sites whose flows are to be nudged (under lock) */
	_Atomic __u64 down; /* sites DOWN now: nothing is sent for any other */
	atomic_bool stop;
	bool started; /* detourd_nudge__start() ran: the sockets are ours to close */
	bool running; /* the thread runs */
	double tokens;
	__u64 refilled_ns;
	_Atomic __u64 flows, segments, send_errors;
};

/*
 * The segments for one recorded flow: @i = 0, 1; the IP packet (header included) into @buf, its
 * length returned, or 0 when the record has no segment @i. A record of a client's SYN (SYN_SENT):
 * a RST|ACK acknowledging it (the connect fails at once). Any other: a RST at the client's last
 * acknowledgment number (accepted when exact: RFC 5961 3.2; else answered with a challenge ACK),
 * then an ACK far behind the client's window, which any stack answers with an ACK (RFC 793
 * 3.9, RFC 5961 4 and 5) — rerouted now to a healthy site, which resets the unknown connection
 * with the exact sequence number.
 */
size_t detourd_nudge__build(const struct dt_tcp_seen *s, unsigned int i, __u8 *buf, size_t len);

/*
 * Open the raw sockets while detourd still has CAP_NET_RAW (a dataplane without the record:
 * nothing; a socket that cannot be opened: a warning, and nothing is nudged); then, once the
 * capabilities are dropped (a thread keeps those it was created with), start the thread,
 * SCHED_OTHER like the recovery scanner. 0 or -errno.
 */
int detourd_nudge__open(struct detourd_nudge *n, struct dt_dataplane *dp);
int detourd_nudge__start(struct detourd_nudge *n);
/* After a site's state was written to the dataplane. */
void detourd_nudge__transition(struct detourd_nudge *n, __u32 site, enum dt_site_state to);
void detourd_nudge__stop(struct detourd_nudge *n);

#endif /* DT_DETOURD_TCP_NUDGE_H */
