/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The deliver step: after dt_decide(), rewrite a packet for a site's delivery mode and tell the
 * engine which of its egresses the packet leaves by. One copy, shared by the XDP program and the
 * DPDK engine; what an egress is stays theirs (an XDP action, a DPDK port slot). Beside decide.h's
 * dt_tables_flow_hash() and dt_tables_now(), it reads three more functions that the including
 * program defines before including this header:
 *
 *   const struct dt_site *dt_tables_site(struct dt_tables *t, __u32 site);
 *   bool dt_tables_egress(struct dt_tables *t, const struct dt_buf *b, const struct dt_site *site,
 *                         __u32 *egress);   false: the site's egress port has no device
 *   struct dt_icmp_bucket *dt_tables_icmp_bucket(struct dt_tables *t);   this CPU's / worker's
 *
 * A packet too big for the site's path is answered or dropped here (too_big.h): the deliver step
 * then returns a reason whose dt_deliver_verdict() says so (TX: back out of the ingress port).
 *
 * The egress is resolved before the frame is touched, so a site whose port is missing never
 * leaks a rewritten frame: a refused packet reaches the kernel as it came.
 */
#ifndef DT_DELIVER_H
#define DT_DELIVER_H

#include "dt_compiler.h"
#include "detour_abi.h"
#include "dt_buf.h"
#include "rewrite.h"
#include "too_big.h"

struct dt_tables;

/*
 * The flow hash an ipip rewrite puts in an IPv6 outer header's flow label. A flow that was just
 * given a target has it already (@hash, from dt_decide()); a flow the table knew, or one that
 * stays home, was never hashed, and only an IPv6 outer needs it.
 */
DT_INLINE __u32 dt_deliver_hash(struct dt_tables *t, const struct dt_packet *pkt,
				const struct dt_site *site, __u32 hash)
{
	if (hash || site->tunnel_family != DT_FAMILY_V6)
		return hash;
	return dt_tables_flow_hash(t, &pkt->key);
}

/*
 * The site @site_id a packet is delivered to, with *@egress set to where it leaves; NULL when the
 * site has no delivery data or its egress port no device (no_site_config). The site is read once:
 * one packet, one configuration.
 */
DT_INLINE const struct dt_site *dt_deliver_site(struct dt_tables *t, const struct dt_buf *b,
						__u32 site_id, __u32 *egress)
{
	const struct dt_site *site = dt_tables_site(t, site_id);

	if (!site || site->delivery == DT_DELIVERY_NONE || !dt_tables_egress(t, b, site, egress))
		return NULL;
	return site;
}

/*
 * Too big for @site's path: answered with ICMP (rate-limited) or dropped, never passed to the
 * kernel, whose route leads to the dead home. The frame is untouched unless the answer is sent.
 */
DT_INLINE int dt_deliver_too_big(struct dt_tables *t, struct dt_buf *b, const struct dt_packet *pkt,
				 const struct dt_site *site)
{
	__u32 overhead = dt_delivery_overhead(site);
	struct dt_icmp_bucket *bucket;

	if (site->mtu <= overhead || !dt_too_big_answerable(b, pkt))
		return DT_REASON_TOO_BIG_DROPPED;
	bucket = dt_tables_icmp_bucket(t);
	if (!bucket || !dt_icmp_bucket_take(bucket, dt_tables_now(t)))
		return DT_REASON_TOO_BIG_RATE_LIMITED;
	return dt_icmp_too_big(b, pkt, site->mtu - overhead);
}

/*
 * Rewrite @pkt for @site's delivery mode, and lower a SYN's MSS to fit (*@clamped says it was).
 * Returns the reason to count it under, positive, with dt_deliver_verdict() telling how it leaves;
 * or the negative reason the rewrite refused it with (TTL, no tunnel family: frame untouched,
 * for the kernel). @hash is dt_decide()'s.
 */
DT_INLINE int dt_deliver_rewrite(struct dt_tables *t, struct dt_buf *b, const struct dt_packet *pkt,
				 const struct dt_site *site, __u32 hash, bool *clamped)
{
	int err;

	if (site->delivery == DT_DELIVERY_ROUTE)
		err = dt_rewrite_route(b, pkt, site);
	else
		err = dt_encap_ipip(b, pkt, site, dt_deliver_hash(t, pkt, site, hash));
	if (err == -DT_REASON_MTU_EXCEEDED)
		return dt_deliver_too_big(t, b, pkt, site);
	if (err < 0)
		return err;
	*clamped = dt_mss_clamp(b, pkt, site);
	return site->delivery == DT_DELIVERY_ROUTE ? DT_REASON_REROUTED_ROUTE :
						     DT_REASON_REROUTED_IPIP;
}

/*
 * How a packet the deliver step handled leaves: rerouted by the site's egress (REDIRECT, which
 * the XDP program may turn into XDP_TX), a too-big answer back out of the ingress port (TX), or
 * not at all (DROP).
 */
DT_INLINE enum dt_verdict dt_deliver_verdict(int reason)
{
	if (reason == DT_REASON_TOO_BIG_ICMP)
		return DT_VERDICT_TX;
	if (reason == DT_REASON_TOO_BIG_RATE_LIMITED || reason == DT_REASON_TOO_BIG_DROPPED)
		return DT_VERDICT_DROP;
	return DT_VERDICT_REDIRECT;
}

/*
 * The whole step: dt_deliver_site(), then dt_deliver_rewrite(). Returns its reason, or the
 * negative reason the packet was refused with, no_site_config included; *@egress is set when it
 * is delivered. (An engine that counts no_site_config at its own exit calls the two halves.)
 */
DT_INLINE int dt_deliver(struct dt_tables *t, struct dt_buf *b, const struct dt_packet *pkt,
			 __u32 site_id, __u32 hash, __u32 *egress, bool *clamped)
{
	const struct dt_site *site = dt_deliver_site(t, b, site_id, egress);

	if (!site)
		return -DT_REASON_NO_SITE_CONFIG;
	return dt_deliver_rewrite(t, b, pkt, site, hash, clamped);
}

#endif /* DT_DELIVER_H */
