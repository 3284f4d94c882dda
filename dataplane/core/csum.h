/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Internet checksum helpers for the packet core: RFC 1624 incremental updates for the fields a
 * rewrite touches, and a full RFC 1071 checksum of a fixed 20-byte IPv4 header for outer headers.
 *
 * Every word is used exactly as it sits in the packet (__be16, or a __be32 seen as two __be16).
 * The one's complement sum is byte-order independent (RFC 1071 section 2(B)), so nothing is ever
 * swapped: fields and checksums are read and written in network order and the result is right on
 * either host byte order.
 *
 * Updates use RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), never eqn. 2 (HC' = HC + m + ~m'): eqn. 2
 * can turn a checksum that recomputation gives as 0x0000 into 0xffff (RFC 1624 section 3), eqn. 3
 * always agrees with recomputation.
 */
#ifndef DT_CSUM_H
#define DT_CSUM_H

#include "dt_compiler.h"
/*
 * The uapi headers, like parse.h: glibc's <netinet/in.h> may follow them in a host file, but not
 * precede them.
 */
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>

/*
 * Fold a 32-bit accumulator of 16-bit words to 16 bits with end-around carry. Two rounds are
 * enough: after the first the value is at most 0x1fffe, after the second at most 0xffff.
 */
DT_INLINE __u16 dt_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/*
 * Accumulate the change of one 16-bit word, ~m + m'. The casts matter: ~ on a promoted __u16
 * sets the upper 16 bits, which would then be folded back in as a bogus carry.
 */
DT_INLINE __u32 dt_csum_acc16(__u32 acc, __be16 from, __be16 to)
{
	return acc + (__u16)~from + (__u16)to;
}

/* A 32-bit field (an IPv4 address) is two consecutive words; their order does not matter. */
DT_INLINE __u32 dt_csum_acc32(__u32 acc, __be32 from, __be32 to)
{
	acc = dt_csum_acc16(acc, (__be16)(from >> 16), (__be16)(to >> 16));
	return dt_csum_acc16(acc, (__be16)(from & 0xffff), (__be16)(to & 0xffff));
}

/*
 * A 128-bit field (an IPv6 address) as four 32-bit ones; at most 16 * 0x1fffe, no overflow.
 * Written out: four calls need no loop for the unroller or the verifier.
 */
DT_INLINE __u32 dt_csum_acc128(__u32 acc, const __be32 *from, const __be32 *to)
{
	acc = dt_csum_acc32(acc, from[0], to[0]);
	acc = dt_csum_acc32(acc, from[1], to[1]);
	acc = dt_csum_acc32(acc, from[2], to[2]);
	return dt_csum_acc32(acc, from[3], to[3]);
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + sum of (~m + m')). */
DT_INLINE __sum16 dt_csum_apply(__sum16 check, __u32 acc)
{
	return (__sum16)(__u16)~dt_csum_fold(acc + (__u16)~check);
}

DT_INLINE __sum16 dt_csum_replace16(__sum16 check, __be16 from, __be16 to)
{
	return dt_csum_apply(check, dt_csum_acc16(0, from, to));
}

DT_INLINE __sum16 dt_csum_replace32(__sum16 check, __be32 from, __be32 to)
{
	return dt_csum_apply(check, dt_csum_acc32(0, from, to));
}

DT_INLINE __sum16 dt_csum_replace128(__sum16 check, const __be32 *from, const __be32 *to)
{
	return dt_csum_apply(check, dt_csum_acc128(0, from, to));
}

/*
 * TTL has no 16-bit word of its own: it is the high byte of the word it shares with the
 * protocol (RFC 791 header layout, bytes 8 and 9), so a TTL change is a change of that word.
 */
DT_INLINE __sum16 dt_csum_replace_ttl(__sum16 check, __u8 proto, __u8 from, __u8 to)
{
	__be16 old_word = bpf_htons((__u16)((__u16)from << 8 | proto));
	__be16 new_word = bpf_htons((__u16)((__u16)to << 8 | proto));

	return dt_csum_replace16(check, old_word, new_word);
}

/*
 * Finish an L4 checksum whose pseudo-header (RFC 793, RFC 768, RFC 8200 section 8.1) changed.
 * UDP: a zero checksum means "none was computed" (RFC 768 on IPv4, RFC 6935 zero-checksum tunnels
 * on IPv6) and must stay zero, an update would invent a wrong one; and a computed zero is sent as
 * 0xffff, its other one's complement spelling, so that it is not read as "none". Protocols with
 * no pseudo-header (ICMPv4) or another checksum (SCTP's CRC32c) are left alone.
 */
DT_INLINE __sum16 dt_csum_l4_apply(__u8 l4_proto, __sum16 check, __u32 acc)
{
	__sum16 updated;

	if (l4_proto != IPPROTO_TCP && l4_proto != IPPROTO_UDP && l4_proto != IPPROTO_ICMPV6)
		return check;
	if (l4_proto == IPPROTO_UDP && check == 0)
		return 0;
	updated = dt_csum_apply(check, acc);
	if (l4_proto == IPPROTO_UDP && updated == 0)
		return (__sum16)0xffff;
	return updated;
}

/* The L4 checksum after an IPv4 source or destination address changed from @from to @to. */
DT_INLINE __sum16 dt_csum_l4_replace_addr4(__u8 l4_proto, __sum16 check, __be32 from, __be32 to)
{
	return dt_csum_l4_apply(l4_proto, check, dt_csum_acc32(0, from, to));
}

/* The same for an IPv6 address; @from and @to point at four __be32 words each. */
DT_INLINE __sum16 dt_csum_l4_replace_addr6(__u8 l4_proto, __sum16 check, const __be32 *from,
					   const __be32 *to)
{
	return dt_csum_l4_apply(l4_proto, check, dt_csum_acc128(0, from, to));
}

/*
 * Full checksum of an IPv4 header without options (IHL 5), for headers we build. The fixed 20
 * bytes make it ten constant loads, written out, with no loop for the verifier to walk. The check
 * field (word 5) is skipped, so the caller need not zero it first. The caller has bounds-checked
 * all 20 bytes.
 */
DT_INLINE __sum16 dt_csum_ipv4_header(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = (__u32)w[0] + w[1] + w[2] + w[3] + w[4] + w[6] + w[7] + w[8] + w[9];

	return (__sum16)(__u16)~dt_csum_fold(sum);
}

#endif /* DT_CSUM_H */
