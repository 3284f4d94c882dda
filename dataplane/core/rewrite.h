/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Delivery rewrites: turn a parsed frame into the frame a takeover site receives.
 *
 *   route  Ethernet(site MACs) + the IP packet, VLAN tags removed, TTL / hop limit decremented.
 *   ipip   Ethernet(site MACs) + outer IPv4/IPv6 + the IP packet (inner TTL decremented),
 *          for all four combinations of inner and outer family.
 *
 * Both return 0 or the negative of an enum dt_reason. Every precondition (the frame matches what
 * the parser said, TTL, MTU) is checked before the first byte or the head moves, so a refused
 * frame is exactly as it came: the kernel answers an expiring TTL, and deliver.h a packet too big
 * for the site's path (too_big.h: the kernel's route would send it to the dead home). The
 * only failure after that point is the adjust itself, which leaves the frame as it was too; the
 * bounds checks after a successful adjust cannot fail (the frame was measured before it), they
 * are there for the verifier.
 *
 * After dt_buf_adjust_head() every pointer is re-derived from b->data and re-checked against
 * b->data_end: in BPF the helper invalidates packet pointers, and the host builds follow suit.
 * On host builds the IP header is assumed 4-byte aligned (NET_IP_ALIGN) since uapi structs are
 * used to reach it; BPF loads do not care.
 */
#ifndef DT_REWRITE_H
#define DT_REWRITE_H

/* The uapi headers first, as in parse.h: glibc's <netinet/in.h> may follow them, not precede. */
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include "dt_compiler.h"
#include "detour_abi.h"
#include "dt_buf.h"
#include "csum.h"

#define DT_VLAN_HLEN 4
#define DT_IPV4_HLEN 20 /* outer headers never carry options */
#define DT_IPV6_HLEN 40
#define DT_IPV4_DF 0x4000 /* the uapi headers do not export IP_DF */
#define DT_OUTER_TTL 64
#define DT_FLOW_LABEL_MASK 0xfffff

/* IPv4: the header is what the parser saw, and its lengths fit the frame. */
DT_INLINE int dt_rewrite_check_ipv4(const void *l3, const void *data_end,
				    const struct dt_packet *pkt)
{
	const struct iphdr *iph = l3;
	__u8 ver_ihl;

	if ((const void *)(iph + 1) > data_end)
		return -DT_REASON_TRUNCATED;
	/* By byte, not through the bitfields, whose order follows the target's endianness. */
	ver_ihl = *(const __u8 *)iph;
	if (ver_ihl >> 4 != 4 || (ver_ihl & 0x0f) < 5 || iph->ttl != pkt->ttl ||
	    bpf_ntohs(iph->tot_len) != pkt->l3_len || (ver_ihl & 0x0fu) * 4 > pkt->l3_len)
		return -DT_REASON_TRUNCATED;
	return 0;
}

DT_INLINE int dt_rewrite_check_ipv6(const void *l3, const void *data_end,
				    const struct dt_packet *pkt)
{
	const struct ipv6hdr *ip6 = l3;

	if ((const void *)(ip6 + 1) > data_end)
		return -DT_REASON_TRUNCATED;
	if (*(const __u8 *)ip6 >> 4 != 6 || ip6->hop_limit != pkt->ttl ||
	    DT_IPV6_HLEN + bpf_ntohs(ip6->payload_len) != pkt->l3_len)
		return -DT_REASON_TRUNCATED;
	return 0;
}

/*
 * The frame is still what the parser said it is. The L3 offset is rebuilt from the bounded VLAN
 * depth rather than taken from pkt->l3_off so that the verifier sees a small constant range, not
 * any __u16.
 */
DT_INLINE int dt_rewrite_check_frame(const struct dt_buf *b, const struct dt_packet *pkt)
{
	__u32 depth = pkt->vlan_depth;
	const void *l3;
	__u32 l3_off;

	if (depth > DT_MAX_VLAN_DEPTH)
		return -DT_REASON_TRUNCATED;
	l3_off = ETH_HLEN + DT_VLAN_HLEN * depth;
	if (pkt->l3_off != l3_off)
		return -DT_REASON_TRUNCATED;
	if ((const char *)b->data + l3_off + pkt->l3_len > (const char *)b->data_end)
		return -DT_REASON_TRUNCATED;
	l3 = (const char *)b->data + l3_off;
	if (pkt->l3_proto == ETH_P_IP)
		return dt_rewrite_check_ipv4(l3, b->data_end, pkt);
	if (pkt->l3_proto == ETH_P_IPV6)
		return dt_rewrite_check_ipv6(l3, b->data_end, pkt);
	return -DT_REASON_NOT_IP;
}

/*
 * Whether a rewrite re-reads the frame to check it against the parser's account. The XDP program
 * and the host tests must: the verifier needs every bound derived again from the packet, and a
 * test may hand in a frame and a dt_packet that disagree. The DPDK worker rewrites the very mbuf
 * it has just parsed, unchanged since (dt_dpdk_path.c), and parse.h has already checked all of it
 * (version, header length, total length within the frame, TTL, L3 offset): there the second
 * reading costs ~40 instructions a packet and can never fail.
 */
#ifdef DT_TARGET_DPDK
#define DT_REWRITE_REREAD_FRAME 0
#else
#define DT_REWRITE_REREAD_FRAME 1
#endif

/*
 * Everything a rewrite needs to be true before it touches the frame; @outer_len is the header it
 * will add (0 for route).
 */
DT_INLINE int dt_rewrite_check(const struct dt_buf *b, const struct dt_packet *pkt,
			       const struct dt_site *site, __u32 outer_len)
{
	__u32 ip_len;
	int err;

	if (DT_REWRITE_REREAD_FRAME)
		err = dt_rewrite_check_frame(b, pkt);
	else if (pkt->l3_proto != ETH_P_IP && pkt->l3_proto != ETH_P_IPV6)
		err = -DT_REASON_NOT_IP;
	else
		err = 0;
	if (err)
		return err;
	if (pkt->ttl <= 1)
		return -DT_REASON_TTL_EXPIRED;
	ip_len = pkt->l3_len + outer_len;
	if (site->mtu && ip_len > site->mtu)
		return -DT_REASON_MTU_EXCEEDED;
	return 0;
}

DT_INLINE int dt_eth_write(void *data, const void *data_end, const struct dt_site *site,
			   __u16 eth_proto)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -DT_REASON_TRUNCATED;
	dt_memcpy(eth->h_dest, site->dst_mac, ETH_ALEN);
	dt_memcpy(eth->h_source, site->src_mac, ETH_ALEN);
	eth->h_proto = bpf_htons(eth_proto);
	return 0;
}

/*
 * RFC 1624 eqn. 3 for a TTL decrement: the TTL is the high byte of the word it shares with the
 * protocol, so the word drops by exactly 0x0100 (no borrow: the TTL is > 1), and ~m + m' is the
 * constant 0xffff - 0x0100, in the word's memory order: no need to read the TTL and protocol
 * bytes to get it.
 */
#define DT_CSUM_TTL_DECREMENT ((__u32)0xffff - bpf_htons(0x0100))

/* As a router would (RFC 1812 5.3.1): the caller has checked that the TTL is > 1. */
DT_INLINE int dt_ipv4_decrement_ttl(struct iphdr *iph, const void *data_end)
{
	if ((void *)(iph + 1) > data_end)
		return -DT_REASON_TRUNCATED;
	iph->check = dt_csum_apply(iph->check, DT_CSUM_TTL_DECREMENT);
	iph->ttl--;
	return 0;
}

/* RFC 8200 section 3; no header checksum in IPv6. */
DT_INLINE int dt_ipv6_decrement_hop_limit(struct ipv6hdr *ip6, const void *data_end)
{
	if ((void *)(ip6 + 1) > data_end)
		return -DT_REASON_TRUNCATED;
	ip6->hop_limit--;
	return 0;
}

DT_INLINE int dt_l3_decrement_ttl(void *l3, const void *data_end, __u16 l3_proto)
{
	if (l3_proto == ETH_P_IP)
		return dt_ipv4_decrement_ttl(l3, data_end);
	return dt_ipv6_decrement_hop_limit(l3, data_end);
}

/*
 * route: the egress port is untagged, so the VLAN tags go. Both MACs are replaced, so nothing of
 * the old Ethernet header needs to move: dropping the tag bytes from the front and writing a
 * fresh header in front of the IP header gives the same frame.
 */
DT_INLINE int dt_rewrite_route(struct dt_buf *b, const struct dt_packet *pkt,
			       const struct dt_site *site)
{
	__u16 l3_proto = pkt->l3_proto;
	int strip, err;

	err = dt_rewrite_check(b, pkt, site, 0);
	if (err)
		return err;
	strip = pkt->vlan_depth * DT_VLAN_HLEN;
	if (strip && dt_buf_adjust_head(b, strip))
		return -DT_REASON_ADJUST_FAILED;
	err = dt_eth_write(b->data, b->data_end, site, l3_proto);
	if (err)
		return err;
	return dt_l3_decrement_ttl((char *)b->data + ETH_HLEN, b->data_end, l3_proto);
}

/*
 * Traffic class of the inner packet, copied to the outer header (RFC 2983 uniform DSCP, RFC 6040
 * normal-mode ECN), and whether the outer may be fragmented: an IPv6 inner never may (RFC 8200
 * forbids router fragmentation), an IPv4 inner only if its own DF is clear (RFC 2003 3.1).
 * Read byte-wise: the IPv6 class straddles the version and flow-label nibbles.
 */
DT_INLINE int dt_inner_class(const void *inner, const void *data_end, __u16 l3_proto, __u8 *tos,
			     int *df)
{
	const __u8 *p = inner;

	if (l3_proto == ETH_P_IP) {
		const struct iphdr *iph = inner;

		if ((const void *)(iph + 1) > data_end)
			return -DT_REASON_TRUNCATED;
		*tos = iph->tos;
		*df = !!(iph->frag_off & bpf_htons(DT_IPV4_DF));
		return 0;
	}
	if ((const void *)(p + DT_IPV6_HLEN) > data_end)
		return -DT_REASON_TRUNCATED;
	*tos = (__u8)(p[0] << 4 | p[1] >> 4);
	*df = 1;
	return 0;
}

/* The caller has bounds-checked the 20 bytes. id 0: see the note in dt_encap_finish_v4(). */
DT_INLINE void dt_outer_ipv4_write(struct iphdr *outer, const struct dt_site *site, __u8 tos,
				   int df, __u16 inner_len, __u8 inner_proto)
{
	*(__u8 *)outer = 0x45; /* version 4, IHL 5: bitfield order differs by endianness */
	outer->tos = tos;
	outer->tot_len = bpf_htons(DT_IPV4_HLEN + inner_len);
	outer->id = 0;
	outer->frag_off = df ? bpf_htons(DT_IPV4_DF) : 0;
	outer->ttl = DT_OUTER_TTL;
	outer->protocol = inner_proto;
	outer->saddr = site->tunnel_src[0];
	outer->daddr = site->tunnel_dst[0];
	outer->check = dt_csum_ipv4_header(outer);
}

/* Version, class and RFC 6438 flow label share the first word; written byte-wise for that. */
DT_INLINE void dt_outer_ipv6_write(struct ipv6hdr *outer, const struct dt_site *site, __u8 tc,
				   __u32 flow_label, __u16 inner_len, __u8 inner_proto)
{
	__u8 *p = (__u8 *)outer;

	p[0] = (__u8)(0x60 | tc >> 4);
	p[1] = (__u8)(tc << 4 | ((flow_label >> 16) & 0x0f));
	p[2] = (__u8)(flow_label >> 8);
	p[3] = (__u8)flow_label;
	outer->payload_len = bpf_htons(inner_len);
	outer->nexthdr = inner_proto;
	outer->hop_limit = DT_OUTER_TTL;
	dt_memcpy(&outer->saddr, site->tunnel_src, sizeof(outer->saddr));
	dt_memcpy(&outer->daddr, site->tunnel_dst, sizeof(outer->daddr));
}

DT_INLINE __u8 dt_inner_ipproto(__u16 l3_proto)
{
	return l3_proto == ETH_P_IP ? IPPROTO_IPIP : IPPROTO_IPV6;
}

/*
 * After the head moved: Ethernet, 20 bytes of outer IPv4, then the inner packet, all at constant
 * offsets from the reloaded b->data. The outer IPv4 header carries no per-flow entropy (its source
 * is always tunnel_src, protocol 4 or 41, no ports): load spreading toward a site only happens
 * with an IPv6 outer, through the flow label. id is 0 as for an atomic datagram (RFC 6864); an
 * outer without DF (IPv4 inner without DF) that is fragmented on the way would then rely on the
 * (src, dst, proto) triple alone to reassemble - acceptable for a failover path.
 */
DT_INLINE int dt_encap_finish_v4(struct dt_buf *b, const struct dt_packet *pkt,
				 const struct dt_site *site)
{
	struct iphdr *outer = (void *)((char *)b->data + ETH_HLEN);
	void *inner = (char *)b->data + ETH_HLEN + DT_IPV4_HLEN;
	int df = 0;
	__u8 tos = 0;
	int err;

	err = dt_inner_class(inner, b->data_end, pkt->l3_proto, &tos, &df);
	err = err ?: dt_l3_decrement_ttl(inner, b->data_end, pkt->l3_proto);
	err = err ?: dt_eth_write(b->data, b->data_end, site, ETH_P_IP);
	if (err)
		return err;
	if ((void *)(outer + 1) > b->data_end)
		return -DT_REASON_TRUNCATED;
	dt_outer_ipv4_write(outer, site, tos, df, pkt->l3_len, dt_inner_ipproto(pkt->l3_proto));
	return 0;
}

DT_INLINE int dt_encap_finish_v6(struct dt_buf *b, const struct dt_packet *pkt,
				 const struct dt_site *site, __u32 flow_hash)
{
	struct ipv6hdr *outer = (void *)((char *)b->data + ETH_HLEN);
	void *inner = (char *)b->data + ETH_HLEN + DT_IPV6_HLEN;
	int df = 0;
	__u8 tc = 0;
	int err;

	err = dt_inner_class(inner, b->data_end, pkt->l3_proto, &tc, &df);
	err = err ?: dt_l3_decrement_ttl(inner, b->data_end, pkt->l3_proto);
	err = err ?: dt_eth_write(b->data, b->data_end, site, ETH_P_IPV6);
	if (err)
		return err;
	if ((void *)(outer + 1) > b->data_end)
		return -DT_REASON_TRUNCATED;
	dt_outer_ipv6_write(outer, site, tc, flow_hash & DT_FLOW_LABEL_MASK, pkt->l3_len,
			    dt_inner_ipproto(pkt->l3_proto));
	return 0;
}

/*
 * ipip: the old Ethernet header and VLAN tags are dropped and Ethernet + outer header take their
 * place in one adjust of the net growth, outer length - (old L2 length - 14). The IP packet itself
 * does not move. An IPv4 outer's 16-bit total length must hold the inner packet plus 20 bytes.
 */
DT_INLINE int dt_encap_ipip(struct dt_buf *b, const struct dt_packet *pkt,
			    const struct dt_site *site, __u32 flow_hash)
{
	__u32 outer_len;
	int growth, err;

	if (site->tunnel_family == DT_FAMILY_V4)
		outer_len = DT_IPV4_HLEN;
	else if (site->tunnel_family == DT_FAMILY_V6)
		outer_len = DT_IPV6_HLEN;
	else
		return -DT_REASON_NO_SITE_CONFIG;
	err = dt_rewrite_check(b, pkt, site, outer_len);
	if (err)
		return err;
	if (outer_len == DT_IPV4_HLEN && pkt->l3_len > 0xffff - DT_IPV4_HLEN)
		return -DT_REASON_MTU_EXCEEDED;
	growth = (int)outer_len - (int)(pkt->vlan_depth * DT_VLAN_HLEN);
	if (dt_buf_adjust_head(b, -growth))
		return -DT_REASON_ADJUST_FAILED;
	if (outer_len == DT_IPV4_HLEN)
		return dt_encap_finish_v4(b, pkt, site);
	return dt_encap_finish_v6(b, pkt, site, flow_hash);
}

#endif /* DT_REWRITE_H */
