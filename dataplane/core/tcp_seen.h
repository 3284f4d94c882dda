/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The record of TCP flows recently seen going home, for prefixes that ask for it (`tcp_reset`,
 * DT_PREFIX_F_TCP_RESET): when their home goes DOWN, detourd makes each recently active client
 * of it reconnect at once instead of after its retransmission timer (docs/tcp-recovery.md).
 *
 * One slot per flow-key fold (dt_tcp_seen_index()), direct-mapped, per CPU (XDP: a per-CPU
 * array, so no write is ever torn by another CPU and no cache line bounces): a newer flow takes
 * its slot from an older one. A slot is written when the packet is of another flow than the slot
 * holds, when its SYN/FIN/RST bits differ from the slot's, or when the slot is older than
 * DT_TCP_SEEN_REFRESH_MS; so a steady flow costs one write every 10 ms, and its other packets a
 * load and a compare. Nothing here decides where a packet goes: the record is only read by the
 * control plane, after the home is DOWN.
 *
 * The engine passes the slot, its clocks and the packet's bytes:
 *   dt_tcp_seen_due(slot, pkt, tick, refresh_ticks)   whether the packet must be written
 *   dt_tcp_seen_write(slot, pkt, th, home, now_ns, tick)  write it (th: the TCP header's first
 *                                                        12 bytes, already bounds-checked)
 */
#ifndef DT_TCP_SEEN_H
#define DT_TCP_SEEN_H

#include "dt_compiler.h"
#include "detour_abi.h"
#include "flow_hash.h"

#define DT_TCP_F_FIN 0x01
#define DT_TCP_F_SYN 0x02
#define DT_TCP_F_RST 0x04
#define DT_TCP_F_ACK 0x10

/* The slot of a key: the top bits of the fold dt_udp_seen uses too. */
DT_INLINE __u32 dt_tcp_seen_index(const struct dt_flow_key *key)
{
	_Static_assert((DT_TCP_SEEN_SLOTS & (DT_TCP_SEEN_SLOTS - 1)) == 0, "a power of 2");
	return dt_flow_key_fold(key) >> (32 - DT_TCP_SEEN_BITS);
}

/*
 * Whether a packet of a tracked prefix is one the record keeps: TCP with its header read whole,
 * not a fragment, not an ICMP error about a TCP flow.
 */
DT_INLINE bool dt_tcp_seen_wants(const struct dt_packet *pkt)
{
	return pkt->key.proto == 6 /* IPPROTO_TCP */ && !pkt->malformed &&
	       pkt->frag == DT_FRAG_NONE && !(pkt->flags & DT_PKT_F_ICMP_ERROR) && pkt->l4_off;
}

DT_INLINE bool dt_tcp_seen_same_key(const struct dt_tcp_seen *s, const struct dt_flow_key *k)
{
	__u64 a[sizeof(*k) / sizeof(__u64)], b[sizeof(*k) / sizeof(__u64)];

	dt_memcpy(a, &s->key, sizeof(a));
	dt_memcpy(b, k, sizeof(b));
	return !((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]));
}

/*
 * Due: another flow; a SYN or RST bit other than the slot's; the flow's first FIN; or a refresh.
 * A FIN stays in the slot until the flow's next SYN (dt_tcp_seen_write()), so that a client that
 * closed is known to have closed: the control plane leaves it alone.
 */
DT_INLINE bool dt_tcp_seen_due(const struct dt_tcp_seen *s, const struct dt_packet *pkt, __u32 tick,
			       __u32 refresh_ticks)
{
	if (!dt_tcp_seen_same_key(s, &pkt->key))
		return true;
	if ((s->tcp_flags ^ pkt->tcp_flags) & (DT_TCP_F_SYN | DT_TCP_F_RST))
		return true;
	if (pkt->tcp_flags & ~s->tcp_flags & DT_TCP_F_FIN)
		return true;
	return tick - s->tick >= refresh_ticks;
}

DT_INLINE void dt_tcp_seen_write(struct dt_tcp_seen *s, const struct dt_packet *pkt, const __u8 *th,
				 __u32 home, __u64 now_ns, __u32 tick)
{
	__u8 fin = 0;

	if (!(pkt->tcp_flags & DT_TCP_F_SYN) && dt_tcp_seen_same_key(s, &pkt->key))
		fin = s->tcp_flags & DT_TCP_F_FIN;
	dt_memcpy(&s->key, &pkt->key, sizeof(s->key));
	dt_memcpy(&s->seq, th + 4, sizeof(s->seq));
	dt_memcpy(&s->ack, th + 8, sizeof(s->ack));
	s->seen_ns = now_ns;
	s->tick = tick;
	s->home_site = (__u16)home;
	s->tcp_flags = pkt->tcp_flags | fin;
	s->pad = 0;
}

#endif /* DT_TCP_SEEN_H */
