/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Internet checksum helpers for the packet core: the RFC 1624 incremental update a rewrite applies
 * (the TTL decrement, rewrite.h), and a full RFC 1071 checksum of a fixed 20-byte IPv4 header for
 * outer headers.
 *
 * Every word is used exactly as it sits in the packet (__be16). The one's complement sum is
 * byte-order independent (RFC 1071 section 2(B)), so nothing is ever swapped: fields and
 * checksums are read and written in network order and the result is right on either host byte
 * order.
 *
 * Updates use RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), never eqn. 2 (HC' = HC + m + ~m'): eqn. 2
 * can turn a checksum that recomputation gives as 0x0000 into 0xffff (RFC 1624 section 3), eqn. 3
 * always agrees with recomputation.
 */
#ifndef DT_CSUM_H
#define DT_CSUM_H

#include "dt_compiler.h"
/*
 * The uapi header, like parse.h: glibc's <netinet/in.h> may follow it in a host file, but not
 * precede it.
 */
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

/* RFC 1624 eqn. 3: HC' = ~(~HC + sum of (~m + m')). */
DT_INLINE __sum16 dt_csum_apply(__sum16 check, __u32 acc)
{
	return (__sum16)(__u16)~dt_csum_fold(acc + (__u16)~check);
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
