/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Bounded packet parsers: Ethernet, up to DT_MAX_VLAN_DEPTH VLAN tags, IPv4 (options, fragments),
 * IPv6 (up to DT_MAX_IPV6_EXT_HDRS extension headers), TCP, UDP, ICMP, ICMPv6, and the packet
 * quoted inside an ICMP error. Compiled by clang -target bpf and by the host compiler alike.
 *
 * Each header parser takes a cursor and data_end, checks bounds before every access, advances the
 * cursor and returns the next protocol or a negative -DT_REASON_* code, after xdp-tutorial's
 * parsing helpers.
 *
 * Verifier notes, for whoever changes this file (the parser alone verifies in about 45k
 * instructions on kernel 6.18; every change should be loaded with bpftool to check it stays so):
 *  - Every access goes through dt_cursor__hdr(), which compares "header pointer + constant"
 *    with data_end, so the verifier learns a range for exactly the register that is read.
 *  - Offsets are scalars, never pointer differences (unbounded, and privileged-only). After a
 *    variable-length step the offset is masked behind a compiler barrier (dt_cursor__advance()),
 *    so that all paths through a walk reach the next header with the same offset bounds and the
 *    verifier's state pruning merges them.
 *  - Loops have a constant trip count; the IPv6 walk keeps no per-header state in variables
 *    (the fragment state is written to *pkt or returned), for the same reason.
 *
 * On the host the uapi header structs assume 4-aligned IP headers; frames should start 2 octets
 * into a 4-aligned buffer (NET_IP_ALIGN), as the tests and fuzz targets do, or UBSan objects.
 */
#ifndef DT_PARSE_H
#define DT_PARSE_H

#include "dt_compiler.h"
#include "detour_abi.h"

#include <stdbool.h> /* the compiler's own freestanding header, fine for -target bpf */

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>

/* 802.1Q / 802.1ad tag after the MAC addresses; not in the uapi headers. */
struct dt_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/*
 * ICMPv4's first 8 octets. <linux/icmp.h> is not used: it pulls in <linux/if.h> and with it the
 * C library's <sys/socket.h>, which does not build for -target bpf without 32-bit libc headers.
 */
struct dt_icmp_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id; /* echo identifier; unused by errors */
	__be16 sequence;
};

#define DT_ICMP_ECHOREPLY 0
#define DT_ICMP_DEST_UNREACH 3
#define DT_ICMP_ECHO 8
#define DT_ICMP_TIME_EXCEEDED 11
#define DT_ICMP_PARAMETERPROB 12

/* IPv6 fragment header (RFC 8200 4.5); the kernel's struct frag_hdr is not uapi. */
struct dt_ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-octet units << 3 | M flag */
	__be32 identification;
};

#define DT_IP_MF 0x2000
#define DT_IP_OFFSET 0x1fff
#define DT_IP6_MF 0x0001
#define DT_IP6_OFFSET 0xfff8

/* Every extension header and every ICMP error quote is at least 8 octets long. */
#define DT_IPV6_EXT_MIN 8
#define DT_ICMP_QUOTE_L4 8

/*
 * Headers are found by offset from the frame start. Offsets are scalars the verifier can bound
 * (pointer differences would be unbounded), and after every variable-length step the offset is
 * masked to DT_PARSE_MAX_OFF: that makes every path through the header walks end with the same
 * offset bounds, so the verifier's state pruning merges them instead of exploring each
 * combination of header lengths. Headers must end within the first DT_PARSE_MAX_OFF octets.
 */
#define DT_PARSE_MAX_OFF 0x3fff

struct dt_cursor {
	void *data;
	__u32 off; /* of the next header */
	__u32 l3_end; /* end of the IP packet by its length field */
};

/*
 * The header of len octets at the cursor, or NULL if it runs past the frame or the IP packet.
 * The data_end test is what the verifier needs; the l3_end test is what the protocol needs (a
 * header in Ethernet padding, beyond the IP length, is not part of the packet).
 */
DT_INLINE void *dt_cursor__hdr(const struct dt_cursor *c, void *data_end, __u32 len)
{
	void *hdr = c->data + c->off;

	if (hdr + len > data_end || c->off + len > c->l3_end)
		return NULL;
	return hdr;
}

DT_INLINE int dt_cursor__advance(struct dt_cursor *c, __u32 len)
{
	__u32 off = c->off + len;

	if (off > c->l3_end || off > DT_PARSE_MAX_OFF)
		return -DT_REASON_TRUNCATED;
	/* Hide the bound just tested from clang, or it drops the mask as redundant. */
	dt_barrier_var(off);
	c->off = off & DT_PARSE_MAX_OFF;
	return 0;
}

DT_INLINE bool dt_proto_is_vlan(__u16 h_proto)
{
	return h_proto == ETH_P_8021Q || h_proto == ETH_P_8021AD;
}

/* Returns the EtherType after the VLAN tags (host order). */
DT_INLINE int dt_parse_eth(struct dt_cursor *c, void *data_end, struct dt_packet *pkt)
{
	struct ethhdr *eth = dt_cursor__hdr(c, data_end, sizeof(*eth));
	struct dt_vlan_hdr *vlan;
	__u16 h_proto;
	int i;

	if (!eth)
		return -DT_REASON_TRUNCATED;
	h_proto = bpf_ntohs(eth->h_proto);
	c->off = sizeof(*eth);

	DT_UNROLL
	for (i = 0; i < DT_MAX_VLAN_DEPTH; i++) {
		if (!dt_proto_is_vlan(h_proto))
			break;
		vlan = dt_cursor__hdr(c, data_end, sizeof(*vlan));
		if (!vlan)
			return -DT_REASON_TRUNCATED;
		h_proto = bpf_ntohs(vlan->encap_proto);
		c->off += sizeof(*vlan);
		pkt->vlan_depth++;
	}
	if (dt_proto_is_vlan(h_proto))
		return -DT_REASON_VLAN_LIMIT;
	return h_proto;
}

/* Sets the end of the IP packet from its length field, which must fit in the frame. */
DT_INLINE int dt_cursor__set_l3_len(struct dt_cursor *c, void *data_end, __u32 l3_len)
{
	__u32 l3_end = c->off + l3_len;

	if (c->data + l3_end > data_end)
		return -DT_REASON_TRUNCATED;
	c->l3_end = l3_end;
	return 0;
}

DT_INLINE void dt_ipv4_set_frag(struct dt_packet *pkt, __be16 frag_off)
{
	__u16 fo = bpf_ntohs(frag_off);

	if (fo & DT_IP_OFFSET)
		pkt->frag = DT_FRAG_LATER;
	else if (fo & DT_IP_MF)
		pkt->frag = DT_FRAG_FIRST;
}

/* Returns the IPv4 protocol number; leaves the cursor after the options. */
DT_INLINE int dt_parse_ipv4(struct dt_cursor *c, void *data_end, struct dt_packet *pkt)
{
	struct iphdr *iph = dt_cursor__hdr(c, data_end, sizeof(*iph));
	__u32 hdr_len, tot_len;
	__u8 ver_ihl;

	if (!iph)
		return -DT_REASON_TRUNCATED;
	/* Read version and IHL as a byte: bitfield order depends on the target's endianness. */
	ver_ihl = *(__u8 *)iph;
	hdr_len = (ver_ihl & 0x0f) * 4;
	tot_len = bpf_ntohs(iph->tot_len);
	if ((ver_ihl >> 4) != 4 || hdr_len < sizeof(*iph) || tot_len < hdr_len)
		return -DT_REASON_BAD_HEADER;
	if (dt_cursor__set_l3_len(c, data_end, tot_len))
		return -DT_REASON_TRUNCATED;

	pkt->l3_proto = ETH_P_IP;
	pkt->l3_len = tot_len;
	pkt->ttl = iph->ttl;
	pkt->key.family = DT_FAMILY_V4;
	pkt->key.proto = iph->protocol;
	pkt->key.saddr[0] = iph->saddr;
	pkt->key.daddr[0] = iph->daddr;
	if (hdr_len > sizeof(*iph))
		pkt->flags |= DT_PKT_F_IPV4_OPTIONS;
	dt_ipv4_set_frag(pkt, iph->frag_off);
	c->off += hdr_len;
	return iph->protocol;
}

/* Hop-by-hop (0), routing (43), fragment (44), AH (51), destination options (60). */
#define DT_IPV6_EXT_MASK                                                                      \
	((1ull << IPPROTO_HOPOPTS) | (1ull << IPPROTO_ROUTING) | (1ull << IPPROTO_FRAGMENT) | \
	 (1ull << IPPROTO_AH) | (1ull << IPPROTO_DSTOPTS))

/*
 * One test instead of five comparisons: each comparison would split the verifier's state on the
 * value of nexthdr, and the walk would then be explored once per header type per step.
 */
DT_INLINE bool dt_ipv6_is_ext(int nexthdr)
{
	return nexthdr >= 0 && nexthdr < 64 && ((1ull << nexthdr) & DT_IPV6_EXT_MASK);
}

/* Marks a walk that stopped at a non-first fragment: what follows is data, not headers. */
#define DT_WALK_LATER_FRAG 0x100

/*
 * The fragment header: its length, or the marked next header of a non-first fragment. In the
 * outer packet (@record) a first fragment is noted with the fragment header's next header as its
 * protocol: that is the protocol every fragment of the datagram has (RFC 8200 4.5), whatever
 * headers follow it in the first.
 */
DT_INLINE int dt_ipv6_frag_len(const void *hdr, struct dt_packet *pkt, bool record)
{
	const struct dt_ipv6_frag_hdr *fh = hdr;
	__u16 fo = bpf_ntohs(fh->frag_off);

	if (fo & DT_IP6_OFFSET)
		return -(DT_WALK_LATER_FRAG | fh->nexthdr);
	if (record && (fo & DT_IP6_MF)) {
		pkt->frag = DT_FRAG_FIRST;
		pkt->key.proto = fh->nexthdr;
	}
	return sizeof(*fh);
}

/*
 * The length of one extension header, or the negated marked next header of a non-first
 * fragment. AH counts 4-octet units minus 2 (RFC 4302); the others 8-octet units minus 1.
 */
DT_INLINE int dt_ipv6_ext_len(const void *hdr, int type, struct dt_packet *pkt, bool record)
{
	const struct ipv6_opt_hdr *opt = hdr;

	if (type == IPPROTO_FRAGMENT)
		return dt_ipv6_frag_len(hdr, pkt, record);
	if (type == IPPROTO_AH)
		return ((int)opt->hdrlen + 2) * 4;
	return ((int)opt->hdrlen + 1) * 8;
}

/*
 * Walks at most DT_MAX_IPV6_EXT_HDRS extension headers. Returns the upper-layer protocol, with
 * DT_WALK_LATER_FRAG set if the walk stopped at a non-first fragment, or a negative reason. With
 * record set (the outer packet) it notes a first fragment and the walk in *pkt; nothing
 * else is kept in variables, so the verifier's paths through the walk differ only in offset.
 */
DT_INLINE int dt_walk_ipv6_ext(struct dt_cursor *c, void *data_end, int nexthdr,
			       struct dt_packet *pkt, bool record)
{
	struct ipv6_opt_hdr *opt;
	void *hdr;
	int i, len;

	DT_UNROLL
	for (i = 0; i < DT_MAX_IPV6_EXT_HDRS; i++) {
		if (!dt_ipv6_is_ext(nexthdr))
			return nexthdr;
		hdr = dt_cursor__hdr(c, data_end, DT_IPV6_EXT_MIN);
		if (!hdr)
			return -DT_REASON_TRUNCATED;
		opt = hdr;
		if (record)
			pkt->flags |= DT_PKT_F_IPV6_EXT;
		len = dt_ipv6_ext_len(hdr, nexthdr, pkt, record);
		if (len < 0)
			return -len;
		nexthdr = opt->nexthdr;
		len = dt_cursor__advance(c, len);
		if (len)
			return len;
	}
	if (dt_ipv6_is_ext(nexthdr))
		return -DT_REASON_EXT_HDR_LIMIT;
	return nexthdr;
}

/*
 * Returns the upper-layer protocol after the extension headers. A walk that fails (a header past
 * the packet, more headers than DT_MAX_IPV6_EXT_HDRS) leaves the addresses, protocol 0 and the
 * reason in pkt->malformed, and returns IPPROTO_NONE: the packet is valid IPv6 all the same.
 */
DT_INLINE int dt_parse_ipv6(struct dt_cursor *c, void *data_end, struct dt_packet *pkt)
{
	struct ipv6hdr *ip6h = dt_cursor__hdr(c, data_end, sizeof(*ip6h));
	__u32 l3_len;
	int nexthdr;

	if (!ip6h)
		return -DT_REASON_TRUNCATED;
	if ((*(__u8 *)ip6h >> 4) != 6)
		return -DT_REASON_BAD_HEADER;
	l3_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
	if (dt_cursor__set_l3_len(c, data_end, l3_len))
		return -DT_REASON_TRUNCATED;

	pkt->l3_proto = ETH_P_IPV6;
	pkt->l3_len = l3_len;
	pkt->ttl = ip6h->hop_limit;
	pkt->key.family = DT_FAMILY_V6;
	dt_memcpy(pkt->key.saddr, &ip6h->saddr, sizeof(pkt->key.saddr));
	dt_memcpy(pkt->key.daddr, &ip6h->daddr, sizeof(pkt->key.daddr));
	c->off += sizeof(*ip6h);
	nexthdr = dt_walk_ipv6_ext(c, data_end, ip6h->nexthdr, pkt, true);
	if (nexthdr < 0) {
		pkt->malformed = -nexthdr;
		return IPPROTO_NONE;
	}
	if (nexthdr & DT_WALK_LATER_FRAG)
		pkt->frag = DT_FRAG_LATER;
	nexthdr &= 0xff;
	if (pkt->frag != DT_FRAG_FIRST) /* a first fragment's was noted at its fragment header */
		pkt->key.proto = nexthdr;
	return nexthdr;
}

/* TCP and UDP both start with the two ports. */
struct dt_ports {
	__be16 source;
	__be16 dest;
};

DT_INLINE int dt_parse_tcp(struct dt_cursor *c, void *data_end, struct dt_packet *pkt)
{
	struct tcphdr *th = dt_cursor__hdr(c, data_end, sizeof(*th));
	__u32 hdr_len;

	if (!th)
		return -DT_REASON_TRUNCATED;
	hdr_len = (((__u8 *)th)[12] >> 4) * 4;
	if (hdr_len < sizeof(*th))
		return -DT_REASON_BAD_HEADER;
	/* The options are not read, only required to be there. */
	if (c->off + hdr_len > c->l3_end)
		return -DT_REASON_TRUNCATED;
	pkt->key.sport = th->source;
	pkt->key.dport = th->dest;
	pkt->tcp_flags = ((__u8 *)th)[13];
	return 0;
}

DT_INLINE int dt_parse_udp(struct dt_cursor *c, void *data_end, struct dt_packet *pkt)
{
	struct udphdr *uh = dt_cursor__hdr(c, data_end, sizeof(*uh));

	if (!uh)
		return -DT_REASON_TRUNCATED;
	pkt->key.sport = uh->source;
	pkt->key.dport = uh->dest;
	return 0;
}

DT_INLINE bool dt_icmp_is_echo(int proto, __u8 type)
{
	if (proto == IPPROTO_ICMP)
		return type == DT_ICMP_ECHO || type == DT_ICMP_ECHOREPLY;
	if (proto == IPPROTO_ICMPV6)
		return type == ICMPV6_ECHO_REQUEST || type == ICMPV6_ECHO_REPLY;
	return false;
}

DT_INLINE bool dt_icmp_is_error(int proto, __u8 type)
{
	if (proto == IPPROTO_ICMP)
		return type == DT_ICMP_DEST_UNREACH || type == DT_ICMP_TIME_EXCEEDED ||
		       type == DT_ICMP_PARAMETERPROB;
	return type == ICMPV6_DEST_UNREACH || type == ICMPV6_PKT_TOOBIG ||
	       type == ICMPV6_TIME_EXCEED || type == ICMPV6_PARAMPROB;
}

/*
 * The first 8 octets of the quoted L4 header, reversed into the forward flow: the quote is a
 * packet our server sent, the flow we route runs the other way. A quoted ICMP error is not
 * followed (one level only): its ports stay zero.
 */
DT_INLINE int dt_parse_icmp_quote_l4(struct dt_cursor *c, void *data_end, struct dt_packet *pkt,
				     int proto)
{
	struct dt_icmp_hdr *l4 = dt_cursor__hdr(c, data_end, DT_ICMP_QUOTE_L4);
	struct dt_ports *ports = (void *)l4;

	if (!l4)
		return -DT_REASON_TRUNCATED;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		pkt->key.sport = ports->dest;
		pkt->key.dport = ports->source;
	} else if (dt_icmp_is_echo(proto, l4->type)) {
		pkt->key.sport = l4->id;
		pkt->key.dport = l4->id;
	}
	return 0;
}

/* The IPv4 packet quoted by an ICMPv4 error. Its length field is not checked: quotes are cut. */
DT_INLINE int dt_parse_icmp_quote_v4(struct dt_cursor *c, void *data_end, struct dt_packet *pkt)
{
	struct iphdr *iph = dt_cursor__hdr(c, data_end, sizeof(*iph));
	__u8 ver_ihl;
	int err;

	if (!iph)
		return -DT_REASON_TRUNCATED;
	ver_ihl = *(__u8 *)iph;
	if ((ver_ihl >> 4) != 4 || (ver_ihl & 0x0f) < 5)
		return -DT_REASON_BAD_HEADER;
	pkt->key.saddr[0] = iph->daddr;
	pkt->key.daddr[0] = iph->saddr;
	pkt->key.proto = iph->protocol;
	err = dt_cursor__advance(c, (ver_ihl & 0x0f) * 4);
	if (err)
		return err;
	/* A quoted non-first fragment carries no L4 header to read ports from. */
	if (bpf_ntohs(iph->frag_off) & DT_IP_OFFSET)
		return 0;
	return dt_parse_icmp_quote_l4(c, data_end, pkt, iph->protocol);
}

/* The IPv6 packet quoted by an ICMPv6 error, with its own bounded extension-header walk. */
DT_INLINE int dt_parse_icmp_quote_v6(struct dt_cursor *c, void *data_end, struct dt_packet *pkt)
{
	struct ipv6hdr *ip6h = dt_cursor__hdr(c, data_end, sizeof(*ip6h));
	int nexthdr;

	if (!ip6h)
		return -DT_REASON_TRUNCATED;
	if ((*(__u8 *)ip6h >> 4) != 6)
		return -DT_REASON_BAD_HEADER;
	dt_memcpy(pkt->key.saddr, &ip6h->daddr, sizeof(pkt->key.saddr));
	dt_memcpy(pkt->key.daddr, &ip6h->saddr, sizeof(pkt->key.daddr));
	c->off += sizeof(*ip6h);
	nexthdr = dt_walk_ipv6_ext(c, data_end, ip6h->nexthdr, pkt, false);
	if (nexthdr < 0)
		return nexthdr;
	pkt->key.proto = nexthdr & 0xff;
	if ((nexthdr & DT_WALK_LATER_FRAG) || nexthdr == IPPROTO_NONE)
		return 0;
	return dt_parse_icmp_quote_l4(c, data_end, pkt, nexthdr);
}

/*
 * ICMP and ICMPv6 share the first 8 octets' layout (type, code, checksum, identifier, sequence).
 * Echo puts the identifier in both ports so that request and reply hash alike; an error is keyed
 * by the flow it is about, so it follows that flow to the same site.
 */
DT_INLINE int dt_parse_icmp(struct dt_cursor *c, void *data_end, struct dt_packet *pkt, int proto)
{
	struct dt_icmp_hdr *icmp = dt_cursor__hdr(c, data_end, sizeof(*icmp));

	if (!icmp)
		return -DT_REASON_TRUNCATED;
	pkt->icmp_type = icmp->type;
	pkt->icmp_code = icmp->code;
	if (dt_icmp_is_echo(proto, icmp->type)) {
		pkt->key.sport = icmp->id;
		pkt->key.dport = icmp->id;
		return 0;
	}
	if (!dt_icmp_is_error(proto, icmp->type))
		return 0;
	pkt->flags |= DT_PKT_F_ICMP_ERROR;
	c->off += sizeof(*icmp);
	if (proto == IPPROTO_ICMP)
		return dt_parse_icmp_quote_v4(c, data_end, pkt);
	return dt_parse_icmp_quote_v6(c, data_end, pkt);
}

DT_INLINE int dt_parse_l4(struct dt_cursor *c, void *data_end, struct dt_packet *pkt, int proto)
{
	if (proto == IPPROTO_TCP)
		return dt_parse_tcp(c, data_end, pkt);
	if (proto == IPPROTO_UDP)
		return dt_parse_udp(c, data_end, pkt);
	if ((proto == IPPROTO_ICMP && pkt->key.family == DT_FAMILY_V4) ||
	    (proto == IPPROTO_ICMPV6 && pkt->key.family == DT_FAMILY_V6))
		return dt_parse_icmp(c, data_end, pkt, proto);
	/* GRE, ESP, SCTP...: a valid packet whose flow has no ports. */
	return 0;
}

/*
 * Parses one frame into *pkt. Returns 0 for an IPv4/IPv6 packet, else a negative reason; *pkt
 * is zeroed first, so the key's padding and unused address words are always zero.
 *
 * Once the IP header is read, the packet's destination is known, so whatever fails after it
 * does not fail the parse: pkt->malformed holds the reason, the key the addresses and the
 * protocol (0 where the IPv6 walk did not reach it), no ports. A fragment (IPv4 MF or offset,
 * IPv6 Fragment header with M or offset) is keyed the same way, on purpose: only the first
 * fragment has ports, and every fragment of a datagram must be decided alike, without state.
 */
DT_INLINE int dt_parse_packet(void *data, void *data_end, struct dt_packet *pkt)
{
	struct dt_cursor c = { .data = data, .off = 0, .l3_end = DT_PARSE_MAX_OFF };
	int proto;

	dt_memset(pkt, 0, sizeof(*pkt));
	proto = dt_parse_eth(&c, data_end, pkt);
	if (proto < 0)
		return proto;
	pkt->l3_off = c.off;
	if (proto == ETH_P_IP)
		proto = dt_parse_ipv4(&c, data_end, pkt);
	else if (proto == ETH_P_IPV6)
		proto = dt_parse_ipv6(&c, data_end, pkt);
	else
		return -DT_REASON_NOT_IP;
	if (proto < 0)
		return proto;
	if (pkt->frag != DT_FRAG_NONE || proto == IPPROTO_NONE)
		return 0;
	pkt->l4_off = c.off;
	proto = dt_parse_l4(&c, data_end, pkt, proto);
	if (proto < 0)
		pkt->malformed = -proto;
	return 0;
}

#endif /* DT_PARSE_H */
