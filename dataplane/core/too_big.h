/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A moved flow whose packets do not fit the target's path. dt_site.mtu is the largest IP packet
 * the path toward the site carries; ipip delivery puts an outer header in front (route puts
 * nothing). The kernel cannot help: its route still leads to the dead home. So the dataplane does
 * what a router on that path would (docs/xdp.md, "Path MTU"):
 *
 *   a TCP SYN (or SYN-ACK) delivered to the site: its MSS option is lowered to what fits, mtu -
 *     outer header - fixed IP header - fixed TCP header (RFC 6691), the TCP checksum updated
 *     incrementally (RFC 1624), after the rewrite;
 *   too big, IPv4 with DF, or IPv6: answered with ICMP "fragmentation needed" (type 3 code 4,
 *     RFC 1191 next-hop MTU) or ICMPv6 "packet too big" (type 2, RFC 4443), built in the
 *     packet's own buffer and sent back out of the port it came in by, MACs swapped and VLAN tags
 *     kept, at most DT_ICMP_RATE a second per CPU (a token bucket); what the bucket refuses is
 *     dropped and counted;
 *   too big, IPv4 without DF: dropped and counted. A router would fragment it; XDP sends one
 *     frame for one, and passing it to the kernel sends it along the route to the dead home;
 *   never answered (RFC 1812 4.3.2.7, RFC 4443 2.4(e)): an ICMP error, or a packet from a
 *     source that is no unicast host: dropped and counted.
 *
 * The answer comes from the address the packet was sent to (the service): that needs no address
 * of the edge's in the configuration, it passes the client side's source-address filters (it is
 * the address the client talks to), and the client's stack matches the error by the quote alone.
 * The quote is as much of the packet as RFC 1812 4.3.2.3 (576-byte ICMP datagram) and RFC 4443
 * 2.4(c) (1280-byte ICMPv6 packet) allow.
 *
 * None of this is on the healthy path; the SYN test is on the rerouted one.
 */
#ifndef DT_TOO_BIG_H
#define DT_TOO_BIG_H

#include "dt_compiler.h"
#include "detour_abi.h"
#include "dt_buf.h"
#include "csum.h"
#include "parse.h"
#include "rewrite.h"

#define DT_TCP_HLEN 20
#define DT_TCP_SYN 0x02
#define DT_TCPOPT_EOL 0
#define DT_TCPOPT_NOP 1
#define DT_TCPOPT_MSS 2
#define DT_TCPOLEN_MSS 4
#define DT_TCP_OPT_WALK 8 /* options looked at for the MSS; it is the first in practice */
#define DT_TCP_OPT_END 60 /* the longest TCP header */

#define DT_ICMP_HLEN 8
#define DT_ICMP_FRAG_NEEDED 4
#define DT_ICMPV6_PKT_TOOBIG 2
#define DT_ICMP_TTL 64
#define DT_ICMP4_TOS 0xc0 /* precedence 6, internetwork control: RFC 1812 4.3.2.5 */
#define DT_ICMP4_QUOTE_MAX (576 - DT_IPV4_HLEN - DT_ICMP_HLEN)
#define DT_ICMP6_QUOTE_MAX (1280 - DT_IPV6_HLEN - DT_ICMP_HLEN)
#define DT_ICMP_TOKEN_NS (1000000000ull / DT_ICMP_RATE)

/* What delivery to @site puts in front of the IP packet. */
DT_INLINE __u32 dt_delivery_overhead(const struct dt_site *site)
{
	if (site->delivery != DT_DELIVERY_IPIP)
		return 0;
	return site->tunnel_family == DT_FAMILY_V6 ? DT_IPV6_HLEN : DT_IPV4_HLEN;
}

/* ---- MSS clamping ---------------------------------------------------------------------------- */

/* The largest MSS that fits @site's path once delivered (fixed headers only); 0: no limit. */
DT_INLINE __u32 dt_mss_max(const struct dt_packet *pkt, const struct dt_site *site)
{
	__u32 fixed = dt_delivery_overhead(site) + DT_TCP_HLEN +
		      (pkt->l3_proto == ETH_P_IP ? DT_IPV4_HLEN : DT_IPV6_HLEN);

	return site->mtu > fixed ? site->mtu - fixed : 0;
}

/* A 16-bit field as the checksum sums it: at an odd offset its bytes fall in two words. */
DT_INLINE __u32 dt_csum_word(__u16 v, __u32 odd)
{
	return bpf_htons(odd ? (__u16)(v << 8 | v >> 8) : v);
}

/* Lower the MSS option at @opt, @off octets into the TCP header @th, to @mss; 1 if it was. */
DT_INLINE int dt_mss_lower(__u8 *opt, struct tcphdr *th, __u32 off, __u16 mss)
{
	__u16 old = (__u16)(opt[2] << 8 | opt[3]);
	__u32 odd = off & 1;

	if (old <= mss)
		return 0;
	opt[2] = (__u8)(mss >> 8);
	opt[3] = (__u8)mss;
	th->check =
		dt_csum_apply(th->check, (__u16)~dt_csum_word(old, odd) + dt_csum_word(mss, odd));
	return 1;
}

/* Walk the options of the TCP header at @tcp_off for the MSS and lower it to @mss. */
DT_INLINE int dt_mss_clamp_at(struct dt_buf *b, __u32 tcp_off, __u16 mss)
{
	struct tcphdr *th = (void *)((char *)b->data + tcp_off);
	__u32 hlen, off = DT_TCP_HLEN, i;
	__u8 *opt;

	if ((void *)(th + 1) > b->data_end)
		return 0;
	hlen = (((__u8 *)th)[12] >> 4) * 4;
	DT_UNROLL
	for (i = 0; i < DT_TCP_OPT_WALK; i++) {
		if (off + DT_TCPOLEN_MSS > hlen || off > DT_TCP_OPT_END - DT_TCPOLEN_MSS)
			return 0;
		opt = (__u8 *)th + off;
		if ((void *)(opt + DT_TCPOLEN_MSS) > b->data_end || opt[0] == DT_TCPOPT_EOL)
			return 0;
		if (opt[0] == DT_TCPOPT_NOP) {
			off++;
			continue;
		}
		if (opt[0] == DT_TCPOPT_MSS && opt[1] == DT_TCPOLEN_MSS)
			return dt_mss_lower(opt, th, off, mss);
		if (opt[1] < 2)
			return 0;
		off += opt[1];
	}
	return 0;
}

/*
 * After the rewrite for @site: a SYN's (or SYN-ACK's) MSS lowered to fit the site's path.
 * Returns 1 if it was lowered. The TCP header sits behind Ethernet, what delivery added and the
 * packet's own IP header (options, extension headers), whose length the parser measured.
 */
DT_INLINE int dt_mss_clamp(struct dt_buf *b, const struct dt_packet *pkt,
			   const struct dt_site *site)
{
	__u32 ip_hlen = pkt->l4_off - pkt->l3_off, mss;

	if (!(pkt->tcp_flags & DT_TCP_SYN) || pkt->key.proto != IPPROTO_TCP || !pkt->l4_off ||
	    ip_hlen > 0xff)
		return 0;
	mss = dt_mss_max(pkt, site);
	if (!mss)
		return 0;
	dt_barrier_var(ip_hlen);
	ip_hlen &= 0xff;
	return dt_mss_clamp_at(b, ETH_HLEN + dt_delivery_overhead(site) + ip_hlen, (__u16)mss);
}

/* ---- The rate limit ------------------------------------------------------------------------- */

/* Take a token from @bk at @now (ns), refilled at DT_ICMP_RATE a second up to DT_ICMP_BURST. */
DT_INLINE bool dt_icmp_bucket_take(struct dt_icmp_bucket *bk, __u64 now)
{
	__u64 n = (now - bk->last_ns) / DT_ICMP_TOKEN_NS;

	if (n >= DT_ICMP_BURST) {
		bk->tokens = DT_ICMP_BURST;
		bk->last_ns = now;
	} else if (n) {
		bk->tokens = bk->tokens + n < DT_ICMP_BURST ? bk->tokens + (__u32)n : DT_ICMP_BURST;
		bk->last_ns += n * DT_ICMP_TOKEN_NS;
	}
	if (!bk->tokens)
		return false;
	bk->tokens--;
	return true;
}

/* ---- Whom to answer ------------------------------------------------------------------------- */

/* Not this network, loopback, multicast or reserved (RFC 1812 4.3.2.7). */
DT_INLINE bool dt_ipv4_src_answerable(__be32 saddr)
{
	__u8 a = *(const __u8 *)&saddr;

	return a != 0 && a != 127 && a < 224;
}

/* Not unspecified, loopback or multicast (RFC 4443 2.4(e)). */
DT_INLINE bool dt_ipv6_src_answerable(const __be32 *s)
{
	if (*(const __u8 *)s == 0xff)
		return false;
	return s[0] || s[1] || s[2] || (s[3] && s[3] != bpf_htonl(1));
}

/* The IPv4 header's DF bit, read from the frame at the offset the VLAN depth gives. */
DT_INLINE bool dt_ipv4_df(const struct dt_buf *b, const struct dt_packet *pkt)
{
	__u32 depth = pkt->vlan_depth;
	const struct iphdr *iph;

	if (depth > DT_MAX_VLAN_DEPTH)
		return false;
	iph = (const void *)((const char *)b->data + ETH_HLEN + DT_VLAN_HLEN * depth);
	if ((const void *)(iph + 1) > b->data_end)
		return false;
	return iph->frag_off & bpf_htons(DT_IPV4_DF);
}

/* Whether a too-big packet may be answered at all. */
DT_INLINE bool dt_too_big_answerable(const struct dt_buf *b, const struct dt_packet *pkt)
{
	if (pkt->flags & DT_PKT_F_ICMP_ERROR)
		return false;
	if (pkt->l3_proto == ETH_P_IPV6)
		return dt_ipv6_src_answerable(pkt->key.saddr);
	return dt_ipv4_src_answerable(pkt->key.saddr[0]) && dt_ipv4_df(b, pkt);
}

/* ---- The answer ------------------------------------------------------------------------------ */

/*
 * The one's complement sum of the @len octets at @p, in memory order (csum.h): the quote. A loop
 * (not unrolled) of at most DT_ICMP6_QUOTE_MAX / 2 + 4 words; only answers, which are rate
 * limited, run it.
 */
DT_INLINE __u32 dt_csum_partial(const __u8 *p, const void *data_end, __u32 len)
{
	__u32 sum = 0, i;

	DT_NO_UNROLL
	for (i = 0; i < DT_ICMP6_QUOTE_MAX / 2 + DT_ICMP_HLEN / 2; i++) {
		const __u8 *w = p + 2 * i;

		if (2 * i + 1 == len) { /* the odd last octet, padded with a zero */
			if ((const void *)(w + 1) <= data_end)
				sum += bpf_htons((__u16)(w[0] << 8));
			break;
		}
		if (2 * i + 2 > len || (const void *)(w + 2) > data_end)
			break;
		sum += *(const __u16 *)w;
	}
	return sum;
}

DT_INLINE int dt_icmp4_write(struct dt_buf *b, __u32 l2, const struct dt_packet *pkt, __u32 len,
			     __u32 mtu)
{
	struct iphdr *iph = (void *)((char *)b->data + l2);
	struct dt_icmp_hdr *icmp = (void *)(iph + 1);

	if ((void *)(icmp + 1) > b->data_end)
		return -DT_REASON_TRUNCATED;
	*(__u8 *)iph = 0x45;
	iph->tos = DT_ICMP4_TOS;
	iph->tot_len = bpf_htons(DT_IPV4_HLEN + len);
	iph->id = 0;
	iph->frag_off = bpf_htons(DT_IPV4_DF);
	iph->ttl = DT_ICMP_TTL;
	iph->protocol = IPPROTO_ICMP;
	iph->saddr = pkt->key.daddr[0];
	iph->daddr = pkt->key.saddr[0];
	iph->check = dt_csum_ipv4_header(iph);
	icmp->type = DT_ICMP_DEST_UNREACH;
	icmp->code = DT_ICMP_FRAG_NEEDED;
	icmp->checksum = 0;
	icmp->id = 0;
	icmp->sequence = bpf_htons((__u16)mtu);
	icmp->checksum = (__sum16)(__u16)~dt_csum_fold(
		dt_csum_partial((const __u8 *)icmp, b->data_end, len));
	return 0;
}

DT_INLINE int dt_icmp6_write(struct dt_buf *b, __u32 l2, const struct dt_packet *pkt, __u32 len,
			     __u32 mtu)
{
	struct ipv6hdr *ip6 = (void *)((char *)b->data + l2);
	struct dt_icmp_hdr *icmp = (void *)(ip6 + 1);
	const __u16 *a = (const __u16 *)pkt->key.saddr; /* both addresses: 16 words */
	__u8 *p = (__u8 *)ip6;
	__u32 sum, i;

	if ((void *)(icmp + 1) > b->data_end)
		return -DT_REASON_TRUNCATED;
	p[0] = 0x60; /* version 6, class 0, no flow label; by byte: the header may be 2-aligned */
	p[1] = p[2] = p[3] = 0;
	ip6->payload_len = bpf_htons(len);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = DT_ICMP_TTL;
	dt_memcpy(&ip6->saddr, pkt->key.daddr, sizeof(ip6->saddr));
	dt_memcpy(&ip6->daddr, pkt->key.saddr, sizeof(ip6->daddr));
	icmp->type = DT_ICMPV6_PKT_TOOBIG;
	icmp->code = 0;
	icmp->checksum = 0;
	icmp->id = bpf_htons((__u16)(mtu >> 16));
	icmp->sequence = bpf_htons((__u16)mtu);
	sum = bpf_htons((__u16)len) + bpf_htons(IPPROTO_ICMPV6);
	DT_UNROLL
	for (i = 0; i < 16; i++)
		sum += a[i];
	sum += dt_csum_partial((const __u8 *)icmp, b->data_end, len);
	icmp->checksum = (__sum16)(__u16)~dt_csum_fold(sum);
	return 0;
}

/* The frame's L2 header kept for the answer: Ethernet and VLAN tags, MACs swapped. */
struct dt_l2_copy {
	__u8 b[ETH_HLEN + DT_VLAN_HLEN * DT_MAX_VLAN_DEPTH];
};

DT_INLINE int dt_l2_save(const struct dt_buf *b, struct dt_l2_copy *l2)
{
	if ((const char *)b->data + sizeof(l2->b) > (const char *)b->data_end)
		return -DT_REASON_TRUNCATED;
	dt_memcpy(l2->b + ETH_ALEN, b->data, ETH_ALEN);
	dt_memcpy(l2->b, (const char *)b->data + ETH_ALEN, ETH_ALEN);
	dt_memcpy(l2->b + 2 * ETH_ALEN, (const char *)b->data + 2 * ETH_ALEN,
		  sizeof(l2->b) - 2 * ETH_ALEN);
	return 0;
}

/*
 * Turn the frame into the answer, in place: the head grows by the new IP and ICMP headers, so
 * that the packet itself becomes the quote where it is, the tail is cut to the quote's end, and
 * the L2 header is written back in front with its MACs swapped. @mtu is the next-hop MTU to
 * report. Returns DT_REASON_TOO_BIG_ICMP; -adjust_failed with the frame untouched; or
 * DT_REASON_TOO_BIG_DROPPED if the frame was changed and could not be finished.
 */
DT_INLINE int dt_icmp_too_big(struct dt_buf *b, const struct dt_packet *pkt, __u32 mtu)
{
	bool v6 = pkt->l3_proto == ETH_P_IPV6;
	__u32 hdr = (v6 ? DT_IPV6_HLEN : DT_IPV4_HLEN) + DT_ICMP_HLEN, l2, quote;
	__u32 max = v6 ? DT_ICMP6_QUOTE_MAX : DT_ICMP4_QUOTE_MAX;
	struct dt_l2_copy saved;
	int err;

	if (pkt->vlan_depth > DT_MAX_VLAN_DEPTH || dt_l2_save(b, &saved))
		return -DT_REASON_TRUNCATED;
	l2 = ETH_HLEN + DT_VLAN_HLEN * (pkt->vlan_depth & 3);
	quote = pkt->l3_len < max ? pkt->l3_len : max;
	if (dt_buf_adjust_head(b, -(int)hdr))
		return -DT_REASON_ADJUST_FAILED;
	if (dt_buf_adjust_tail(b, (int)(l2 + hdr + quote) - (int)dt_buf_len(b)))
		return DT_REASON_TOO_BIG_DROPPED;
	if ((char *)b->data + sizeof(saved.b) > (char *)b->data_end)
		return DT_REASON_TOO_BIG_DROPPED;
	dt_memcpy(b->data, saved.b, sizeof(saved.b)); /* what follows l2 is overwritten next */
	if (v6)
		err = dt_icmp6_write(b, l2, pkt, DT_ICMP_HLEN + quote, mtu);
	else
		err = dt_icmp4_write(b, l2, pkt, DT_ICMP_HLEN + quote, mtu);
	return err ? DT_REASON_TOO_BIG_DROPPED : DT_REASON_TOO_BIG_ICMP;
}

#endif /* DT_TOO_BIG_H */
