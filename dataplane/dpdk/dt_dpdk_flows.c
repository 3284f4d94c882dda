// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-worker flow tables: struct dt_flow_key -> struct dt_flow_state, the same layouts and the
 * same rules as the XDP program's dt_flows (decide.h applies them).
 *
 * RSS sends a flow to one worker, so each worker owns one rte_hash and is its only writer: no
 * lock on the packet path. The control plane reads the tables lock-free (RW_CONCURRENCY_LF)
 * while it walks them, online on flow_qsbr so that a key slot a worker deleted is not reused
 * under it: the worker puts deleted slots on a defer queue and never waits. The control plane's
 * deletions reach the owner through a ring. Like the XDP program's LRU hash, a full table makes
 * room: the oldest of a few sampled flows is evicted (sampled LRU).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dt_dpdk_internal.h"

#define EVICT_SAMPLES 8
#define DELETES_PER_BURST 64

/* rte_hash's hash function for the flow tables: the signature the packet path computes. */
static uint32_t flows__hash(const void *key, uint32_t key_len, uint32_t init_val)
{
	return dt_dpdk_flow_sig(key);
}

static int flows__create_hash(struct dt_dpdk_worker *w, __u32 entries)
{
	struct rte_hash_rcu_config rcu = { .v = w->e->flow_qsbr, .mode = RTE_HASH_QSBR_MODE_DQ };
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters p = {
		.name = name,
		.entries = entries,
		.key_len = sizeof(struct dt_flow_key),
		.hash_func = flows__hash,
		.hash_func_init_val = DT_DPDK_FLOW_SIG_INIT,
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};

	snprintf(name, sizeof(name), "dtf%u_%p", w->id, (void *)w->e);
	w->flows = rte_hash_create(&p);
	if (!w->flows || rte_hash_rcu_qsbr_add(w->flows, &rcu))
		return -ENOMEM;
	return 0;
}

int dt_dpdk_flows__init(struct dt_dpdk_worker *w, __u32 entries)
{
	char name[RTE_RING_NAMESIZE];
	int32_t max_id;

	if (flows__create_hash(w, entries))
		goto nomem;
	max_id = rte_hash_max_key_id(w->flows);
	w->flow_vals = rte_zmalloc("dt_flow_vals", ((size_t)max_id + 1) * sizeof(*w->flow_vals),
				   RTE_CACHE_LINE_SIZE);
	snprintf(name, sizeof(name), "dtd%u_%p", w->id, (void *)w->e);
	w->del_ring = rte_ring_create_elem(name, sizeof(struct dt_flow_key), DT_DPDK_DEL_RING,
					   SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (max_id < 0 || !w->flow_vals || !w->del_ring)
		goto nomem;
	return 0;
nomem:
	dt_dpdk_log("worker %u: cannot allocate a flow table of %u entries", w->id, entries);
	return -ENOMEM;
}

void dt_dpdk_flows__fini(struct dt_dpdk_worker *w)
{
	rte_hash_free(w->flows);
	rte_free(w->flow_vals);
	rte_ring_free(w->del_ring);
}

struct dt_flow_state *dt_dpdk_flows__lookup(struct dt_dpdk_worker *w, const struct dt_flow_key *k)
{
	int32_t pos = rte_hash_lookup_with_hash(w->flows, k, dt_dpdk_flow_sig(k));

	return pos >= 0 ? &w->flow_vals[pos] : NULL;
}

/*
 * A burst's flow keys at once, their signatures computed by the caller (dt_dpdk_flow_sig()):
 * rte_hash prefetches every key's buckets before it compares any, so the misses overlap.
 */
void dt_dpdk_flows__lookup_bulk(struct dt_dpdk_worker *w, const struct dt_flow_key **keys,
				__u32 *sigs, unsigned int n, int32_t *pos)
{
	if (rte_hash_lookup_with_hash_bulk(w->flows, (const void **)keys, sigs, n, pos)) {
		while (n--)
			pos[n] =
				-ENOENT; /* only for n > RTE_HASH_LOOKUP_BULK_MAX: a caller's bug */
	}
}

/* The oldest of EVICT_SAMPLES occupied slots from a rotating cursor leaves. */
static void flows__evict_one(struct dt_dpdk_worker *w)
{
	__u32 max_id = (__u32)rte_hash_max_key_id(w->flows) + 1;
	const struct dt_flow_key *victim = NULL;
	__u64 oldest = UINT64_MAX;
	unsigned int tries;
	int found = 0;

	for (tries = 0; tries < 4 * EVICT_SAMPLES && found < EVICT_SAMPLES; tries++) {
		__u32 pos = w->evict_cursor++ % max_id;
		void *key;

		if (rte_hash_get_key_with_position(w->flows, (int32_t)pos, &key))
			continue;
		found++;
		if (w->flow_vals[pos].last_seen_ns < oldest) {
			oldest = w->flow_vals[pos].last_seen_ns;
			victim = key;
		}
	}
	if (victim) {
		struct dt_flow_key k = *victim;

		rte_hash_del_key(w->flows, &k);
	}
}

int dt_dpdk_flows__record(struct dt_dpdk_worker *w, const struct dt_flow_key *k,
			  const struct dt_flow_state *v)
{
	int32_t pos = rte_hash_add_key(w->flows, k);

	if (pos == -ENOSPC) {
		flows__evict_one(w);
		pos = rte_hash_add_key(w->flows, k);
	}
	if (pos < 0)
		return pos;
	w->flow_vals[pos] = *v;
	return 0;
}

void dt_dpdk_flows__apply_deletes(struct dt_dpdk_worker *w)
{
	struct dt_flow_key keys[DELETES_PER_BURST];
	unsigned int n, i;

	n = rte_ring_dequeue_burst_elem(w->del_ring, keys, sizeof(keys[0]), DELETES_PER_BURST,
					NULL);
	for (i = 0; i < n; i++)
		rte_hash_del_key(w->flows, &keys[i]);
}

static int flows__walk(struct dt_dpdk_worker *w, dt_dpdk_flow_visit_fn fn, void *ctx)
{
	const void *key;
	uint32_t next = 0;
	void *data;
	int32_t pos;
	int ret;

	while ((pos = rte_hash_iterate(w->flows, &key, &data, &next)) >= 0) {
		struct dt_flow_key k = *(const struct dt_flow_key *)key;
		struct dt_flow_state v = w->flow_vals[pos];

		ret = fn(&k, &v, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

/* A visitor that returns non-zero stops the walk; that value is returned. */
int dt_dpdk__for_each_flow(struct dt_dpdk *e, dt_dpdk_flow_visit_fn fn, void *ctx)
{
	unsigned int i;
	int ret = 0;

	if (!fn)
		return -EINVAL;
	pthread_mutex_lock(&e->flow_lock);
	rte_rcu_qsbr_thread_online(e->flow_qsbr, 0);
	for (i = 0; i < e->n_workers && !ret; i++)
		ret = flows__walk(e->workers[i], fn, ctx);
	rte_rcu_qsbr_thread_offline(e->flow_qsbr, 0);
	pthread_mutex_unlock(&e->flow_lock);
	return ret;
}

int dt_dpdk__delete_flow(struct dt_dpdk *e, const struct dt_flow_key *key)
{
	unsigned int i;
	int err = 0;

	if (!key)
		return -EINVAL;
	for (i = 0; i < e->n_workers; i++) {
		if (rte_ring_mp_enqueue_elem(e->workers[i]->del_ring, (void *)key, sizeof(*key))) {
			dt_dpdk_log("worker %u: flow deletion queue full", i);
			err = -EBUSY;
		}
	}
	return err;
}
