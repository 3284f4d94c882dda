// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-worker flow tables: struct dt_flow_key -> struct dt_flow_state, the same layouts and the
 * same rules as the XDP program's dt_flows (decide.h applies them).
 *
 * RSS sends a flow to one worker, so each worker owns one table (dt_flow_table.h) and is its only
 * writer: no lock on the packet path. The control plane walks the tables while the workers write
 * them (each slot read under its sequence counter), and its deletions reach the owner through a
 * ring per worker. Like the XDP program's LRU hashes, a full table makes room: the oldest of a few
 * sampled new flows is evicted, an established flow only for another established one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dt_dpdk_internal.h"

#define DELETES_PER_BURST 64

int dt_dpdk_flows__init(struct dt_dpdk_worker *w, __u32 entries)
{
	char name[RTE_RING_NAMESIZE];
	int err;

	err = dt_flow_table__create(&w->flows, entries, SOCKET_ID_ANY);
	if (err) {
		dt_dpdk_log("worker %u: cannot allocate a flow table of %u entries: %s", w->id,
			    entries, strerror(-err));
		return err;
	}
	w->seen = rte_zmalloc_socket("dt_udp_seen", DT_SEEN_SLOTS * sizeof(*w->seen),
				     RTE_CACHE_LINE_SIZE, SOCKET_ID_ANY);
	if (!w->seen) {
		dt_dpdk_log("worker %u: cannot allocate its seen array", w->id);
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "dtd%u_%p", w->id, (void *)w->e);
	w->del_ring = rte_ring_create_elem(name, sizeof(struct dt_flow_key), DT_DPDK_DEL_RING,
					   SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (!w->del_ring) {
		dt_dpdk_log("worker %u: cannot allocate its flow deletion ring", w->id);
		return -ENOMEM;
	}
	return 0;
}

void dt_dpdk_flows__fini(struct dt_dpdk_worker *w)
{
	dt_flow_table__free(w->flows);
	w->flows = NULL;
	rte_free(w->seen);
	w->seen = NULL;
	rte_ring_free(w->del_ring);
}

void dt_dpdk_flows__apply_deletes(struct dt_dpdk_worker *w)
{
	struct dt_flow_key keys[DELETES_PER_BURST];
	unsigned int n, i;

	n = rte_ring_dequeue_burst_elem(w->del_ring, keys, sizeof(keys[0]), DELETES_PER_BURST,
					NULL);
	for (i = 0; i < n; i++)
		dt_flow_table__delete(w->flows, &keys[i], dt_dpdk_flow_sig(&keys[i]));
}

/*
 * A visitor that returns non-zero stops the walk; that value is returned. -EAGAIN: every table
 * was walked, but deletions moved flows in one while it was, so some may have been missed.
 */
int dt_dpdk__for_each_flow(struct dt_dpdk *e, dt_flow_visit_fn fn, void *ctx)
{
	bool partial = false;
	unsigned int i;
	int ret = 0;

	if (!fn)
		return -EINVAL;
	for (i = 0; i < e->n_workers && !ret; i++) {
		ret = dt_flow_table__walk(e->workers[i]->flows, fn, ctx);
		if (ret == -EAGAIN) {
			partial = true;
			ret = 0;
		}
	}
	return ret ?: partial ? -EAGAIN : 0;
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
