/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine's private layout, shared by its source files only.
 *
 * Publication (why each table is shaped as it is, see docs/dpdk.md):
 *  - site states: one __u32 per site, written with an atomic store: failing a site is one write
 *    that every worker sees at its next packet;
 *  - site delivery data and failover slots: one RCU-protected pointer per site to an immutable
 *    object; a writer builds a new object, swaps the pointer, waits for a grace period of the
 *    engine's QSBR variable, and frees the old one. A worker reads each pointer once per packet,
 *    so a packet never sees half of one configuration and half of another;
 *  - IPv4 prefixes: one rte_lpm, written under readers as rte_lpm allows, with its tbl8 groups
 *    reclaimed through the engine's QSBR variable (rte_lpm_rcu_qsbr_add);
 *  - IPv6 prefixes: two copies of the rte_lpm6, left-right: rte_lpm6 has no RCU support and
 *    rebuilds its whole table on delete, so it must never be written under readers. A writer
 *    changes the copy no worker reads, publishes it, waits for a grace period, then applies the
 *    same change to the other copy.
 *  - flows: one open-addressing table per worker (dt_flow_table.h; RSS keeps a flow on one
 *    worker), written only by that worker, walked by the control plane with a sequence counter
 *    per slot; its array is never freed under a walker, so nothing needs reclaiming. The control
 *    plane's deletions go through a ring per worker.
 */
#ifndef DT_DPDK_INTERNAL_H
#define DT_DPDK_INTERNAL_H

#include <pthread.h>
#include <string.h>
#include <rte_common.h>
#include <rte_hash_crc.h>
#if defined(RTE_ARCH_X86_64) && defined(__SSE4_2__)
#include <nmmintrin.h>
#endif
#include <rte_mbuf.h>

#include "dt_dpdk.h"
#include "dt_log.h"
#include "dt_flow_table.h"

#define DT_DPDK_BURST 32
#define DT_DPDK_PREFETCH 4 /* packets ahead: covers a cache miss at ~50 ns per packet */
#define DT_DPDK_DEL_RING 1024 /* pending control-plane flow deletions per worker */
#define DT_DPDK_EXCEPTION DT_DPDK_MAX_PORTS /* the exception port's slot in port tables */
#define DT_PREFIX_INFO_N (DT_MAX_SITES * 2) /* (home, stateless) pairs: the LPM next hops */

struct rte_lpm;
struct rte_lpm6;
struct rte_ring;
struct rte_rcu_qsbr;
struct rte_mempool;

struct dt_dpdk_txq {
	uint16_t n;
	struct rte_mbuf *pkts[DT_DPDK_BURST];
};

struct dt_dpdk_worker {
	struct dt_dpdk *e;
	unsigned int id; /* RX/TX queue on every port and the QSBR thread id */
	unsigned int lcore;
	struct dt_flow_table *flows;
	struct dt_flow_bucket flow_bucket; /* promotions of new flows (decide.h) */
	__u32 *seen; /* DT_SEEN_SLOTS stamps of non-TCP flows seen at home (decide.h) */
	struct rte_ring *del_ring; /* struct dt_flow_key elements from the control plane */
	__u64 tx_dropped;
	struct dt_icmp_bucket icmp_bucket; /* too-big answers this worker may send (too_big.h) */
	struct dt_dpdk_txq txq[DT_DPDK_MAX_PORTS + 1]; /* by engine port slot; last: exception */
	struct dt_counter counters[DT_COUNTER_ENTRIES];
} __rte_cache_aligned;

struct dt_dpdk {
	struct dt_dpdk_opts opts;
	bool eal_owned;
	struct rte_mempool *pool;
	uint16_t port_id[DT_DPDK_MAX_PORTS + 1]; /* by slot; [DT_DPDK_EXCEPTION] = exception */
	char port_name[DT_DPDK_MAX_PORTS + 1][64];
	char port_label[DT_DPDK_MAX_PORTS + 1][64]; /* empty: no label */
	__u8 port_mac[DT_DPDK_MAX_PORTS + 1][6]; /* read once at start-up */
	unsigned int n_ports; /* data ports, slots 0 .. n_ports - 1 */
	unsigned int exception_return; /* slot + 1 of the port the kernel's replies leave by */
	bool ports_started;

	/* published tables, read by workers */
	struct dt_site_state_val state[DT_MAX_SITES];
	const struct dt_site *site[DT_MAX_SITES];
	const struct dt_failover_slots *failover[DT_MAX_SITES];
	__u32 egress_slot[DT_MAX_EGRESS_PORTS]; /* egress index -> port slot + 1; 0: unset */
	struct rte_lpm *lpm4;
	struct rte_lpm6 *lpm6_copy[2];
	struct rte_lpm6 *lpm6; /* the copy workers read */
	struct dt_prefix_info prefix_info[DT_PREFIX_INFO_N]; /* immutable after open */

	struct rte_rcu_qsbr *qsbr; /* readers: workers */
	pthread_mutex_t ctl_lock; /* one control-plane writer at a time */

	unsigned int n_workers;
	struct dt_dpdk_worker *workers[DT_DPDK_MAX_WORKERS];
	volatile bool stop;
	bool launched;
};

/* dt_dpdk.c: the slot of a data port or the exception port by name or label; -ENODEV */
int dt_dpdk__slot(const struct dt_dpdk *e, const char *name);

/* dt_dpdk_tables.c */
int dt_dpdk_tables__init(struct dt_dpdk *e);
void dt_dpdk_tables__fini(struct dt_dpdk *e);

/*
 * The flow tables' signature: CRC32-C over the key's five 64-bit words (rte_hash_crc() where
 * SSE4.2 is missing), computed inline, once per key; its low bits pick the first slot.
 */
#define DT_DPDK_FLOW_SIG_INIT 0u

static inline __u32 dt_dpdk_flow_sig(const struct dt_flow_key *k)
{
#if defined(RTE_ARCH_X86_64) && defined(__SSE4_2__)
	__u64 w[sizeof(*k) / sizeof(__u64)];
	__u64 crc = DT_DPDK_FLOW_SIG_INIT;
	unsigned int i;

	memcpy(w, k, sizeof(w)); /* not a cast: the key is only 4-aligned */
	for (i = 0; i < RTE_DIM(w); i++)
		crc = _mm_crc32_u64(crc, w[i]);
	return (__u32)crc;
#else
	return rte_hash_crc(k, sizeof(*k), DT_DPDK_FLOW_SIG_INIT);
#endif
}

_Static_assert(sizeof(struct dt_flow_key) % sizeof(__u64) == 0, "the signature reads whole words");

/* dt_dpdk_flows.c */
int dt_dpdk_flows__init(struct dt_dpdk_worker *w, __u32 entries);
void dt_dpdk_flows__fini(struct dt_dpdk_worker *w);
void dt_dpdk_flows__apply_deletes(struct dt_dpdk_worker *w);

/* dt_dpdk_worker.c */
void dt_dpdk_worker__flush(struct dt_dpdk_worker *w);

/* dt_dpdk_path.c */
void dt_dpdk_path__burst(struct dt_dpdk_worker *w, unsigned int rx_slot, struct rte_mbuf **pkts,
			 uint16_t n);

/* The engine's lines are errors, tagged with its name wherever dt_log sends them. */
#define dt_dpdk_log(fmt, ...) dt_log_err("detour-dpdk: " fmt, ##__VA_ARGS__)

#endif /* DT_DPDK_INTERNAL_H */
