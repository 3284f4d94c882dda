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
 *
 * A burst goes through in stages, so that table lookups are made for the whole burst at once and
 * their cache misses overlap (docs/dpdk.md, "Performance"): parse every packet; look up every
 * destination prefix (rte_lpm_lookup_bulk for IPv4); look up, in one rte_hash bulk call with
 * signatures computed here, the flows of the packets whose home is not UP; then decide, rewrite
 * and queue each packet. decide.h is unchanged: its dt_tables_* calls are answered from what the
 * stages found. The clock is read at most once per burst and counters are added once per run of
 * packets with the same (site, reason).
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

/* One received packet between the stages of its burst. */
struct path_pkt {
	struct dt_packet pkt;
	const struct dt_prefix_info *prefix; /* from the prefix stage */
	int parsed; /* dt_parse_packet()'s result */
	int32_t flow_pos; /* from the flow stage: position in the worker's table, or -ENOENT */
	bool flow_cached; /* flow_pos is the answer for this packet's key */
};

/* A run of packets counted under the same counter, added to the worker's counters at once. */
struct path_count_run {
	__u32 idx;
	__u32 packets;
	__u64 bytes;
};

/* ---- The tables decide.h reads, bound to the engine's published tables ------------------ */

struct dt_tables {
	struct dt_dpdk *e;
	struct dt_dpdk_worker *w;
	struct path_pkt *cur; /* the packet being decided */
	__u64 now; /* read once per burst, and only when the policy needs it */
	bool flows_changed; /* a flow was recorded in this burst: the flow stage's answers are stale */
	struct path_count_run run;
};

#define PATH_PREFIX_NONE UINT32_MAX

static inline const struct dt_prefix_info *path_prefix_info(struct dt_dpdk *e, __u32 nh)
{
	return nh < DT_PREFIX_INFO_N ? &e->prefix_info[nh] : NULL;
}

static const struct dt_prefix_info *path_prefix_lookup(struct dt_dpdk *e,
						       const struct dt_flow_key *k)
{
	uint32_t nh;
	int ret;

	if (k->family == DT_FAMILY_V4)
		ret = rte_lpm_lookup(e->lpm4, rte_be_to_cpu_32(k->daddr[0]), &nh);
	else
		ret = rte_lpm6_lookup(__atomic_load_n(&e->lpm6, __ATOMIC_ACQUIRE),
				      (const uint8_t *)k->daddr, &nh);
	return ret == 0 ? path_prefix_info(e, nh) : NULL;
}

/* The prefix stage answered for the packet being decided; any other key is looked up. */
static inline const struct dt_prefix_info *dt_tables_prefix(struct dt_tables *t,
							    const struct dt_flow_key *k)
{
	if (likely(k == &t->cur->pkt.key))
		return t->cur->prefix;
	return path_prefix_lookup(t->e, k);
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

/*
 * The flow stage's answer while no flow was recorded in this burst; after a record (which may
 * have added this very key, or evicted another) the table itself is asked again.
 */
static inline struct dt_flow_state *dt_tables_flow(struct dt_tables *t, const struct dt_flow_key *k)
{
	const struct path_pkt *p = t->cur;

	if (k == &p->pkt.key && p->flow_cached && !t->flows_changed)
		return p->flow_pos >= 0 ? &t->w->flow_vals[p->flow_pos] : NULL;
	return dt_dpdk_flows__lookup(t->w, k);
}

static inline int dt_tables_flow_record(struct dt_tables *t, const struct dt_flow_key *k,
					const struct dt_flow_state *v)
{
	t->flows_changed = true;
	return dt_dpdk_flows__record(t->w, k, v);
}

/*
 * One read per burst: a burst is received in well under a microsecond, and last_seen is only
 * compared with DT_FLOW_REFRESH_NS (100 ms) and idle timeouts. A clock read costs ~23 ns here
 * (vDSO clock_gettime), more than the rest of a rerouted packet's decision.
 */
static inline __u64 dt_tables_now(struct dt_tables *t)
{
	if (!t->now)
		t->now = t->e->opts.clock_ns(t->e->opts.clock_ctx);
	return t->now;
}

#include "dataplane/core/decide.h"

/* ---- TX queues and counters ------------------------------------------------------------------- */

static inline void path_count_flush(struct dt_tables *t)
{
	struct dt_counter *c = &t->w->counters[t->run.idx];

	/* per worker: no atomics; readers sum racy but whole 64-bit words */
	c->packets += t->run.packets;
	c->bytes += t->run.bytes;
	t->run.packets = 0;
	t->run.bytes = 0;
}

static inline void worker__count(struct dt_tables *t, __u32 site, __u32 reason, __u32 bytes)
{
	__u32 idx = dt_counter_index(site, reason);

	if (idx != t->run.idx) {
		if (t->run.packets)
			path_count_flush(t);
		t->run.idx = idx;
	}
	t->run.packets++;
	t->run.bytes += bytes;
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

static inline void worker__except(struct dt_tables *t, struct rte_mbuf *m, __u32 site, __u32 reason,
				  __u32 bytes)
{
	worker__count(t, site, reason, bytes);
	worker__readdress_for_kernel(t->w, m);
	worker__tx(t->w, DT_DPDK_EXCEPTION, m);
}

/* ---- One packet ------------------------------------------------------------------------ */

/*
 * Rewrite for @site_id's delivery mode and queue the frame on the site's egress port. Returns
 * the rerouted reason, or the negative reason the frame was refused with (frame untouched). The
 * site is read once: one packet, one published configuration.
 */
static __rte_always_inline int worker__deliver(struct dt_dpdk_worker *w, struct dt_buf *b,
					       const struct dt_packet *pkt, __u32 site_id,
					       __u32 hash)
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

static inline void worker__packet(struct dt_tables *t, struct rte_mbuf *m)
{
	const struct dt_packet *pkt = &t->cur->pkt;
	__u32 bytes = rte_pktmbuf_pkt_len(m);
	struct dt_decision d;
	struct dt_buf b;
	int ret;

	if (t->cur->parsed < 0)
		return worker__except(t, m, DT_SITE_NONE, -t->cur->parsed, bytes);
	dt_buf_init(&b, m);
	dt_decide(t, pkt, t->e->opts.flow_hash_seed, &d);
	if (d.record_failed)
		worker__count(t, d.home, DT_REASON_FLOW_INSERT_FAILED, 0);
	if (d.reason == DT_REASON_NONE) {
		ret = worker__deliver(t->w, &b, pkt, d.target, d.hash);
		if (ret < 0)
			return worker__except(t, m, d.home, -ret, bytes);
		return worker__count(t, d.home, ret, bytes);
	}
	/* The XDP program would pass these to the kernel, which routes them home: so do we. */
	if (d.reason == DT_REASON_HOME_UP && worker__deliver(t->w, &b, pkt, d.home, d.hash) > 0)
		return worker__count(t, d.home, d.reason, bytes);
	worker__except(t, m, d.home, d.reason, bytes);
}

/* ---- The stages of a burst ---------------------------------------------------------------- */

/* Parse every packet, prefetching the frames a few packets ahead. */
static void path_parse(struct rte_mbuf **pkts, struct path_pkt *pp, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n && i < DT_DPDK_PREFETCH; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		void *data = rte_pktmbuf_mtod(pkts[i], void *);

		if (i + DT_DPDK_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + DT_DPDK_PREFETCH], void *));
		pp[i].parsed = dt_parse_packet(data, (char *)data + rte_pktmbuf_data_len(pkts[i]),
					       &pp[i].pkt);
		pp[i].prefix = NULL;
		pp[i].flow_cached = false;
	}
}

/*
 * Every destination's prefix: IPv4 in one rte_lpm_lookup_bulk() (its tbl24 loads are issued
 * back to back), IPv6 one by one from the copy published when the burst began (a worker is
 * quiescent only between bursts, so that copy is not written before the burst ends).
 */
static void path_prefixes(struct dt_dpdk *e, struct path_pkt *pp, uint16_t n)
{
	struct rte_lpm6 *lpm6 = __atomic_load_n(&e->lpm6, __ATOMIC_ACQUIRE);
	uint32_t ip4[DT_DPDK_BURST], nh4[DT_DPDK_BURST], nh;
	uint16_t idx4[DT_DPDK_BURST], n4 = 0, i;

	for (i = 0; i < n; i++) {
		if (pp[i].parsed < 0)
			continue;
		if (pp[i].pkt.key.family == DT_FAMILY_V4) {
			idx4[n4] = i;
			ip4[n4++] = rte_be_to_cpu_32(pp[i].pkt.key.daddr[0]);
		} else if (!rte_lpm6_lookup(lpm6, (const uint8_t *)pp[i].pkt.key.daddr, &nh)) {
			pp[i].prefix = path_prefix_info(e, nh);
		}
	}
	if (!n4)
		return;
	rte_lpm_lookup_bulk(e->lpm4, ip4, nh4, n4);
	for (i = 0; i < n4; i++)
		if (nh4[i] & RTE_LPM_LOOKUP_SUCCESS)
			pp[idx4[i]].prefix = path_prefix_info(e, nh4[i] & 0x00ffffff);
}

/* Whether dt_decide() will ask the flow table about this packet (decide.h's rules). */
static inline bool path_needs_flow(struct dt_tables *t, const struct path_pkt *p)
{
	__u32 state;

	if (p->parsed < 0 || !p->prefix || (p->prefix->flags & DT_PREFIX_F_STATELESS) ||
	    p->pkt.frag == DT_FRAG_LATER)
		return false;
	state = dt_tables_site_state(t, p->prefix->home_site);
	return state == DT_SITE_DOWN || state == DT_SITE_DRAINING || state == DT_SITE_RECOVERING;
}

/* The flows of every packet whose home is not UP, in one bulk lookup. */
static void path_flows(struct dt_tables *t, struct path_pkt *pp, uint16_t n)
{
	const struct dt_flow_key *keys[DT_DPDK_BURST];
	__u32 sigs[DT_DPDK_BURST];
	int32_t pos[DT_DPDK_BURST];
	uint16_t idx[DT_DPDK_BURST], m = 0, i;

	for (i = 0; i < n; i++) {
		if (!path_needs_flow(t, &pp[i]))
			continue;
		keys[m] = &pp[i].pkt.key;
		sigs[m] = dt_dpdk_flow_sig(keys[m]);
		idx[m++] = i;
	}
	if (!m)
		return;
	dt_dpdk_flows__lookup_bulk(t->w, keys, sigs, m, pos);
	for (i = 0; i < m; i++) {
		pp[idx[i]].flow_pos = pos[i];
		pp[idx[i]].flow_cached = true;
		if (pos[i] >= 0) /* decide.h reads it soon: dt_decide_known() */
			rte_prefetch0(&t->w->flow_vals[pos[i]]);
	}
}

/*
 * Classify, rewrite and queue one received burst. The caller's RX burst is at most DT_DPDK_BURST
 * packets, which is also what a TX queue holds until dt_dpdk_worker__flush().
 */
void dt_dpdk_path__burst(struct dt_dpdk_worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	struct dt_tables t = { .e = w->e, .w = w };
	struct path_pkt pp[DT_DPDK_BURST];
	uint16_t i;

	n = RTE_MIN(n, (uint16_t)DT_DPDK_BURST);
	path_parse(pkts, pp, n);
	path_prefixes(w->e, pp, n);
	path_flows(&t, pp, n);
	for (i = 0; i < n; i++) {
		t.cur = &pp[i];
		worker__packet(&t, pkts[i]);
	}
	if (t.run.packets)
		path_count_flush(&t);
}
