// SPDX-License-Identifier: GPL-2.0-only
/*
 * The packet path of a worker lcore: dt_parse_packet -> dt_decide -> rewrite -> a TX queue, the
 * shared core bound to the engine's tables. Like ebpf/detour.bpf.c, this file only binds; the
 * policy lives in dataplane/core/decide.h. Burst RX and TX are in dt_dpdk_worker.c: rte_ethdev.h
 * pulls in <netinet/ip.h>, whose struct iphdr collides with the <linux/ip.h> the core uses.
 *
 * Where a packet goes:
 *   rerouted (home DOWN/DRAINING/RECOVERING rules)  rewritten for the target, its egress port
 *   home UP, or a flow that stays home              rewritten for the home site, its egress port
 *   everything the XDP program leaves to the kernel  the exception port, untouched
 * so the counters read exactly as the XDP program's: the packet's home site and the reason the
 * policy gave, or the reason a rewrite refused it. No allocation and no lock per packet.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "dt_dpdk_internal.h"
#include "dataplane/core/parse.h"
#include "dataplane/core/flow_hash.h"
#include "dataplane/core/rewrite.h"

/* ---- The tables decide.h reads, bound to the engine's published tables ------------------ */

struct dt_tables {
	struct dt_dpdk *e;
	struct dt_dpdk_worker *w;
	__u64 now; /* read once per packet, and only when the policy needs it */
};

static inline const struct dt_prefix_info *dt_tables_prefix(struct dt_tables *t,
							    const struct dt_flow_key *k)
{
	uint32_t nh;
	int ret;

	if (k->family == DT_FAMILY_V4)
		ret = rte_lpm_lookup(t->e->lpm4, rte_be_to_cpu_32(k->daddr[0]), &nh);
	else
		ret = rte_lpm6_lookup(__atomic_load_n(&t->e->lpm6, __ATOMIC_ACQUIRE),
				      (const uint8_t *)k->daddr, &nh);
	return ret == 0 && nh < DT_PREFIX_INFO_N ? &t->e->prefix_info[nh] : NULL;
}

static inline __u32 dt_tables_site_state(struct dt_tables *t, __u32 site)
{
	if (site >= DT_MAX_SITES)
		return DT_SITE_UNKNOWN;
	return __atomic_load_n(&t->e->state[site].state, __ATOMIC_RELAXED);
}

static inline const struct dt_failover_slots *dt_tables_failover(struct dt_tables *t, __u32 home)
{
	if (home >= DT_MAX_SITES)
		return NULL;
	return __atomic_load_n(&t->e->failover[home], __ATOMIC_ACQUIRE);
}

static inline struct dt_flow_state *dt_tables_flow(struct dt_tables *t, const struct dt_flow_key *k)
{
	return dt_dpdk_flows__lookup(t->w, k);
}

static inline int dt_tables_flow_record(struct dt_tables *t, const struct dt_flow_key *k,
					const struct dt_flow_state *v)
{
	return dt_dpdk_flows__record(t->w, k, v);
}

static inline __u64 dt_tables_now(struct dt_tables *t)
{
	if (!t->now)
		t->now = t->e->opts.clock_ns(t->e->opts.clock_ctx);
	return t->now;
}

#include "dataplane/core/decide.h"

/* ---- TX queues and counters ------------------------------------------------------------------- */

static inline void worker__count(struct dt_dpdk_worker *w, __u32 site, __u32 reason, __u32 bytes)
{
	struct dt_counter *c = &w->counters[dt_counter_index(site, reason)];

	c->packets++; /* per worker: no atomics; readers sum racy but whole 64-bit words */
	c->bytes += bytes;
}

static inline void worker__tx(struct dt_dpdk_worker *w, unsigned int slot, struct rte_mbuf *m)
{
	struct dt_dpdk_txq *q = &w->txq[slot];

	/* One RX burst fills at most DT_DPDK_BURST entries; dt_dpdk_worker.c flushes after it. */
	q->pkts[q->n++] = m;
}

/*
 * The kernel behind the exception port is the router: a unicast frame addressed to the port it
 * came in by is addressed to it. But the kernel drops a frame whose destination MAC is not its
 * interface's own (PACKET_OTHERHOST), and the TAP has one MAC for all ports: readdress it.
 * Broadcast, multicast (ARP, ND) and frames for other hosts keep their destination.
 */
static void worker__readdress_for_kernel(struct dt_dpdk_worker *w, struct rte_mbuf *m)
{
	__u8 *dst = rte_pktmbuf_mtod(m, __u8 *);
	unsigned int slot;

	if (rte_pktmbuf_data_len(m) < 14 || (dst[0] & 1))
		return;
	for (slot = 0; slot < w->e->n_ports; slot++)
		if (w->e->port_id[slot] == m->port && !memcmp(dst, w->e->port_mac[slot], 6)) {
			memcpy(dst, w->e->port_mac[DT_DPDK_EXCEPTION], 6);
			return;
		}
}

static inline void worker__except(struct dt_dpdk_worker *w, struct rte_mbuf *m, __u32 site,
				  __u32 reason, __u32 bytes)
{
	worker__count(w, site, reason, bytes);
	worker__readdress_for_kernel(w, m);
	worker__tx(w, DT_DPDK_EXCEPTION, m);
}

/* ---- One packet ------------------------------------------------------------------------ */

/*
 * Rewrite for @site_id's delivery mode and queue the frame on the site's egress port. Returns
 * the rerouted reason, or the negative reason the frame was refused with (frame untouched). The
 * site is read once: one packet, one published configuration.
 */
static inline int worker__deliver(struct dt_dpdk_worker *w, struct dt_buf *b,
				  const struct dt_packet *pkt, __u32 site_id, __u32 hash)
{
	const struct dt_site *site = __atomic_load_n(&w->e->site[site_id], __ATOMIC_ACQUIRE);
	__u32 slot;
	int err;

	if (!site || site->delivery == DT_DELIVERY_NONE)
		return -DT_REASON_NO_SITE_CONFIG;
	slot = __atomic_load_n(&w->e->egress_slot[site->egress_port], __ATOMIC_RELAXED);
	if (!slot)
		return -DT_REASON_NO_SITE_CONFIG;
	if (site->delivery == DT_DELIVERY_ROUTE) {
		err = dt_rewrite_route(b, pkt, site);
	} else {
		/* a healthy flow's hash was never computed; the IPv6 flow label needs it */
		if (!hash && site->tunnel_family == DT_FAMILY_V6)
			hash = dt_flow_hash(&pkt->key, w->e->opts.flow_hash_seed);
		err = dt_encap_ipip(b, pkt, site, hash);
	}
	if (err < 0)
		return err;
	worker__tx(w, slot - 1, b->ctx);
	return site->delivery == DT_DELIVERY_ROUTE ? DT_REASON_REROUTED_ROUTE :
						     DT_REASON_REROUTED_IPIP;
}

static inline void worker__packet(struct dt_dpdk_worker *w, struct rte_mbuf *m)
{
	struct dt_tables t = { .e = w->e, .w = w };
	__u32 bytes = rte_pktmbuf_pkt_len(m);
	struct dt_decision d;
	struct dt_packet pkt;
	struct dt_buf b;
	int ret;

	dt_buf_init(&b, m);
	ret = dt_parse_packet(b.data, b.data_end, &pkt);
	if (ret < 0)
		return worker__except(w, m, DT_SITE_NONE, -ret, bytes);
	dt_decide(&t, &pkt, w->e->opts.flow_hash_seed, &d);
	if (d.record_failed)
		worker__count(w, d.home, DT_REASON_FLOW_INSERT_FAILED, 0);
	if (d.reason == DT_REASON_NONE) {
		ret = worker__deliver(w, &b, &pkt, d.target, d.hash);
		if (ret < 0)
			return worker__except(w, m, d.home, -ret, bytes);
		return worker__count(w, d.home, ret, bytes);
	}
	/* The XDP program would pass these to the kernel, which routes them home: so do we. */
	if (d.reason == DT_REASON_HOME_UP && worker__deliver(w, &b, &pkt, d.home, d.hash) > 0)
		return worker__count(w, d.home, d.reason, bytes);
	worker__except(w, m, d.home, d.reason, bytes);
}

/* Classify, rewrite and queue one received burst, prefetching a few packets ahead. */
void dt_dpdk_path__burst(struct dt_dpdk_worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n && i < DT_DPDK_PREFETCH; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		if (i + DT_DPDK_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + DT_DPDK_PREFETCH], void *));
		worker__packet(w, pkts[i]);
	}
}
