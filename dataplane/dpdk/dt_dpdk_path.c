// SPDX-License-Identifier: GPL-2.0-only
/*
 * The packet path of a worker lcore: dt_parse_packet -> dt_decide -> dt_deliver -> a TX queue,
 * the shared core bound to the engine's tables. Like ebpf/detour.bpf.c, this file only binds; the
 * policy lives in dataplane/core/ (decide.h, deliver.h). Burst RX and TX are in dt_dpdk_worker.c:
 * rte_ethdev.h pulls in <netinet/ip.h>, whose struct iphdr collides with the <linux/ip.h> the core
 * uses.
 *
 * Where a packet goes:
 *   rerouted (home DOWN/DRAINING/RECOVERING rules)  rewritten for the target, its egress port
 *   home UP, or a flow that stays home              rewritten for the home site, its egress port
 *   too big for the site's path (too_big.h)         an ICMP answer out of the port it came by,
 *                                                    or freed
 *   everything the XDP program leaves to the kernel  the exception port, untouched
 * so the counters read exactly as the XDP program's: the packet's home site and the reason the
 * policy gave, or the reason a rewrite refused it. No allocation and no lock per packet.
 *
 * A burst goes through in stages, so that table lookups are made for the whole burst at once and
 * their cache misses overlap (docs/dpdk.md, "Performance"): parse every packet; look up every
 * destination prefix (rte_lpm_lookup_bulk for IPv4) and, for the packets whose home is not UP,
 * compute the flow's signature and prefetch its first slot; then decide, rewrite and queue each
 * packet. decide.h is unchanged: its dt_tables_* calls are answered from what the stages found,
 * and the flow table is probed when the packet is decided, so an earlier packet's record is seen.
 * The clock is read at most once per burst and counters are added once per run of packets with
 * the same (site, reason).
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
	__u32 flow_sig; /* the key's signature, when has_sig */
	bool has_sig; /* the flow stage computed flow_sig (and prefetched its first slot) */
};

/* A run of packets counted under the same counter, added to the worker's counters at once. */
struct path_count_run {
	__u32 site, reason; /* what idx was computed from */
	__u32 idx;
	__u32 packets;
	__u64 bytes;
};

/* ---- The tables decide.h reads, bound to the engine's published tables ------------------ */

struct dt_tables {
	struct dt_dpdk *e;
	struct dt_dpdk_worker *w;
	unsigned int rx_slot; /* the port the burst came in by: too-big answers leave by it */
	struct path_pkt *cur; /* the packet being decided */
	__u64 now; /* read once per burst, and only when the policy needs it */
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

/* The signature the flow stage computed for the packet being decided; any other key's. */
static inline __u32 path_flow_sig(const struct dt_tables *t, const struct dt_flow_key *k)
{
	if (likely(k == &t->cur->pkt.key && t->cur->has_sig))
		return t->cur->flow_sig;
	return dt_dpdk_flow_sig(k);
}

/*
 * Asked when the packet is decided, not in the flow stage: a flow recorded by an earlier packet
 * of the same burst (a SYN, then its ACK) is found, as in XDP, where packets come one by one.
 * The flow stage has prefetched the slot.
 */
static inline struct dt_flow_state *dt_tables_flow(struct dt_tables *t, const struct dt_flow_key *k)
{
	return dt_flow_table__lookup(t->w->flows, k, path_flow_sig(t, k));
}

static inline int dt_tables_flow_record(struct dt_tables *t, const struct dt_flow_key *k,
					const struct dt_flow_state *v)
{
	return dt_flow_table__record(t->w->flows, k, path_flow_sig(t, k), v);
}

static inline struct dt_flow_bucket *dt_tables_flow_bucket(struct dt_tables *t)
{
	return &t->w->flow_bucket;
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

#define PATH_SEEN_SHIFT 20 /* the seen clock's tick: 2^20 ns, about 1 ms */
#define PATH_SEEN_HZ 954 /* 1e9 / 2^20, rounded */

static inline __u32 *dt_tables_seen_slot(struct dt_tables *t, const struct dt_flow_key *k)
{
	return &t->w->seen[dt_seen_index(k)];
}

static inline __u32 dt_tables_seen_now(struct dt_tables *t)
{
	return (__u32)(dt_tables_now(t) >> PATH_SEEN_SHIFT) ?: 1;
}

static inline __u32 dt_tables_seen_hz(struct dt_tables *t)
{
	return PATH_SEEN_HZ;
}

/*
 * Through t->w->e, the same engine as t->e: gcc then keeps the worker in a register across the
 * deliver step: three instructions a rerouted packet fewer (callgrind).
 */
static inline const struct dt_site *dt_tables_site(struct dt_tables *t, __u32 site)
{
	return __atomic_load_n(&t->w->e->site[site], __ATOMIC_ACQUIRE);
}

/* The egress is the site's egress port's TX slot + 1, as egress_slot holds it (0: none). */
static inline bool dt_tables_egress(struct dt_tables *t, const struct dt_buf *b,
				    const struct dt_site *site, __u32 *slot1)
{
	*slot1 = __atomic_load_n(&t->w->e->egress_slot[site->egress_port], __ATOMIC_RELAXED);
	return *slot1 != 0;
}

static inline struct dt_icmp_bucket *dt_tables_icmp_bucket(struct dt_tables *t)
{
	return &t->w->icmp_bucket;
}

/* The fleet-wide seeded flow hash, read only when a decision or a flow label needs it. */
static inline __u32 dt_tables_flow_hash(struct dt_tables *t, const struct dt_flow_key *k)
{
	return dt_flow_hash(k, t->e->opts.flow_hash_seed);
}

#include "dataplane/core/decide.h"
#include "dataplane/core/deliver.h"

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
	if (site != t->run.site || reason != t->run.reason) {
		if (t->run.packets)
			path_count_flush(t);
		t->run.site = site;
		t->run.reason = reason;
		t->run.idx = dt_counter_index(site, reason);
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
 * Rewrite for @site_id's delivery mode (deliver.h) and queue the frame: on the site's egress
 * port, or a too-big answer on the port it came in by, or free it (a too-big packet dropped).
 */
static __rte_always_inline int worker__deliver(struct dt_tables *t, struct dt_buf *b,
					       const struct dt_packet *pkt, __u32 site_id,
					       __u32 hash, __u32 home)
{
	bool clamped = false;
	__u32 slot1;
	int ret = dt_deliver(t, b, pkt, site_id, hash, &slot1, &clamped);
	enum dt_verdict v;

	if (ret <= 0)
		return ret;
	if (unlikely(clamped))
		worker__count(t, home, DT_REASON_MSS_CLAMPED, 0);
	v = dt_deliver_verdict(ret);
	if (likely(v == DT_VERDICT_REDIRECT))
		worker__tx(t->w, slot1 - 1, b->ctx);
	else if (v == DT_VERDICT_TX)
		worker__tx(t->w, t->rx_slot, b->ctx);
	else
		rte_pktmbuf_free(b->ctx);
	return ret;
}

/* A too-big packet answered or dropped, whichever site it was for: its frame is gone. */
static inline bool worker__consumed(int ret)
{
	return ret > 0 && dt_deliver_verdict(ret) != DT_VERDICT_REDIRECT;
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
	dt_decide(t, pkt, &d);
	if (d.event)
		worker__count(t, d.home, d.event, 0);
	if (d.reason == DT_REASON_NONE) {
		ret = worker__deliver(t, &b, pkt, d.target, d.hash, d.home);
		if (ret < 0)
			return worker__except(t, m, d.home, -ret, bytes);
		return worker__count(t, d.home, ret, bytes);
	}
	/* The XDP program would pass these to the kernel, which routes them home: so do we. */
	if (d.reason == DT_REASON_HOME_UP) {
		ret = worker__deliver(t, &b, pkt, d.home, d.hash, d.home);
		if (ret > 0)
			return worker__count(t, d.home, worker__consumed(ret) ? ret : d.reason,
					     bytes);
	}
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
		pp[i].has_sig = false;
	}
}

/*
 * A packet's prefix, and when its home is not UP its flow's signature and first slot prefetched:
 * every slot of the burst is asked for before the first packet is decided, so the misses overlap.
 */
static inline void path_set_prefix(struct dt_tables *t, struct path_pkt *p, uint32_t nh)
{
	p->prefix = path_prefix_info(t->e, nh);
	if (!p->prefix || !dt_decide_reads_flow(t, p->prefix, &p->pkt))
		return;
	p->flow_sig = dt_dpdk_flow_sig(&p->pkt.key);
	p->has_sig = true;
	dt_flow_table__prefetch(t->w->flows, p->flow_sig);
}

/*
 * Every destination's prefix: IPv4 in one rte_lpm_lookup_bulk() (its tbl24 loads are issued
 * back to back), IPv6 one by one from the copy published when the burst began (a worker is
 * quiescent only between bursts, so that copy is not written before the burst ends).
 */
static void path_prefixes(struct dt_tables *t, struct path_pkt *pp, uint16_t n)
{
	struct rte_lpm6 *lpm6 = __atomic_load_n(&t->e->lpm6, __ATOMIC_ACQUIRE);
	uint32_t ip4[DT_DPDK_BURST], nh4[DT_DPDK_BURST], nh;
	uint16_t idx4[DT_DPDK_BURST], n4 = 0, i;

	for (i = 0; i < n; i++) {
		if (pp[i].parsed < 0)
			continue;
		if (pp[i].pkt.key.family == DT_FAMILY_V4) {
			idx4[n4] = i;
			ip4[n4++] = rte_be_to_cpu_32(pp[i].pkt.key.daddr[0]);
		} else if (!rte_lpm6_lookup(lpm6, (const uint8_t *)pp[i].pkt.key.daddr, &nh)) {
			path_set_prefix(t, &pp[i], nh);
		}
	}
	if (!n4)
		return;
	rte_lpm_lookup_bulk(t->e->lpm4, ip4, nh4, n4);
	for (i = 0; i < n4; i++)
		if (nh4[i] & RTE_LPM_LOOKUP_SUCCESS)
			path_set_prefix(t, &pp[idx4[i]], nh4[i] & 0x00ffffff);
}

/*
 * Classify, rewrite and queue one burst received on port slot @rx_slot. The caller's RX burst is
 * at most DT_DPDK_BURST packets, which is also what a TX queue holds until
 * dt_dpdk_worker__flush().
 */
void dt_dpdk_path__burst(struct dt_dpdk_worker *w, unsigned int rx_slot, struct rte_mbuf **pkts,
			 uint16_t n)
{
	struct dt_tables t = { .e = w->e, .w = w, .rx_slot = rx_slot };
	struct path_pkt pp[DT_DPDK_BURST];
	uint16_t i;

	n = RTE_MIN(n, (uint16_t)DT_DPDK_BURST);
	path_parse(pkts, pp, n);
	path_prefixes(&t, pp, n);
	for (i = 0; i < n; i++) {
		t.cur = &pp[i];
		worker__packet(&t, pkts[i]);
	}
	if (t.run.packets)
		path_count_flush(&t);
}
