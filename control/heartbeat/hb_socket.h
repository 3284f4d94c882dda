/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The heartbeat receiver socket: a UDP socket on one address, read in bounded batches, each
 * datagram stamped with the time the kernel received it, verified by an hb_receiver along with
 * the address it came from (hb_receiver__process_from()), and every accepted heartbeat handed to
 * a callback.
 */
#ifndef DT_HB_SOCKET_H
#define DT_HB_SOCKET_H

#include <sys/socket.h>

#include "hb.h"

#define HB_SOCKET_BATCH 32 /* most datagrams one hb_socket__receive() reads */
#define HB_SOCKET_RCVBUF (16 << 20) /* receive buffer: ~40k datagrams of junk before loss */

/* An accepted heartbeat, as the failure detector wants it. */
struct hb_heartbeat {
	uint16_t site_id;
	uint16_t beacon_id; /* which of the site's beacons (0 for a version 1 datagram) */
	uint16_t key_id; /* which of the site's keys sealed it */
	uint64_t epoch;
	uint64_t seq;
	uint64_t sent_ns; /* sender CLOCK_REALTIME, informational */
	uint32_t interval_us;
	uint32_t power_flags; /* enum dt_power_flag */
	uint64_t arrival_ns; /* CLOCK_MONOTONIC when the kernel received it, not when we read it */
};

typedef void (*hb_accept_fn)(const struct hb_heartbeat *hb, void *ctx);

struct hb_socket;

/*
 * "HOST:PORT", "[V6ADDR]:PORT", or a host alone (port HB_DEFAULT_PORT) into a socket address.
 * passive: for bind() (an empty host means any). Returns 0 or -EINVAL with a message naming spec.
 */
int hb_addr_parse(const char *spec, bool passive, struct sockaddr_storage *ss, socklen_t *len);

/* Bind a nonblocking UDP socket on spec, verifying with rx (not owned). 0 or -errno. */
int hb_socket__open(const char *spec, struct hb_receiver *rx, struct hb_socket **out);
/* hb_socket__open() with a socket filter program (SO_ATTACH_BPF) attached before bind(). */
int hb_socket__open_filtered(const char *spec, struct hb_receiver *rx, int filter_fd,
			     struct hb_socket **out);
int hb_socket__fd(const struct hb_socket *s);
/* The port actually bound (useful after binding port 0). */
uint16_t hb_socket__port(const struct hb_socket *s);
/*
 * Read at most max datagrams (capped at HB_SOCKET_BATCH) without blocking, so a flood cannot
 * starve the caller; call again while it returns max. Returns datagrams read (accepted or not)
 * or -errno.
 */
int hb_socket__receive(struct hb_socket *s, unsigned int max, hb_accept_fn fn, void *ctx);
void hb_socket__close(struct hb_socket *s);

#endif /* DT_HB_SOCKET_H */
