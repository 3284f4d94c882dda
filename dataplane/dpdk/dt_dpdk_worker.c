// SPDX-License-Identifier: GPL-2.0-only
/*
 * A worker lcore's loop: burst RX on its queue of every port, the packet path
 * (dt_dpdk_path.c) on each burst, burst TX per egress port with what tx_burst did not take freed
 * and counted, the control plane's flow deletions, and a quiescent-state report per burst.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_ethdev.h>
#include <rte_rcu_qsbr.h>

#include "dt_dpdk_internal.h"

static void worker__flush_slot(struct dt_dpdk_worker *w, unsigned int slot)
{
	struct dt_dpdk_txq *q = &w->txq[slot];
	uint16_t sent;

	if (!q->n)
		return;
	sent = rte_eth_tx_burst(w->e->port_id[slot], (uint16_t)w->id, q->pkts, q->n);
	if (sent < q->n) {
		rte_pktmbuf_free_bulk(q->pkts + sent, q->n - sent);
		w->tx_dropped += q->n - sent;
	}
	q->n = 0;
}

void dt_dpdk_worker__flush(struct dt_dpdk_worker *w)
{
	unsigned int slot;

	for (slot = 0; slot < w->e->n_ports; slot++)
		worker__flush_slot(w, slot);
	worker__flush_slot(w, DT_DPDK_EXCEPTION);
}

static unsigned int worker__rx_slot(struct dt_dpdk_worker *w, unsigned int slot)
{
	struct rte_mbuf *pkts[DT_DPDK_BURST];
	uint16_t n;

	n = rte_eth_rx_burst(w->e->port_id[slot], (uint16_t)w->id, pkts, DT_DPDK_BURST);
	if (n) {
		dt_dpdk_path__burst(w, slot, pkts, n);
		dt_dpdk_worker__flush(w);
	}
	return n;
}

/* What the kernel sends back through the exception port leaves by the return port as it is. */
static unsigned int worker__rx_exception(struct dt_dpdk_worker *w)
{
	struct dt_dpdk_txq *q;
	uint16_t n;

	if (w->id != 0 || !w->e->exception_return)
		return 0;
	q = &w->txq[w->e->exception_return - 1];
	n = rte_eth_rx_burst(w->e->port_id[DT_DPDK_EXCEPTION], 0, q->pkts + q->n,
			     (uint16_t)(DT_DPDK_BURST - q->n));
	q->n += n;
	worker__flush_slot(w, w->e->exception_return - 1);
	return n;
}

static unsigned int worker__poll(struct dt_dpdk_worker *w)
{
	unsigned int slot, n = 0;

	for (slot = 0; slot < w->e->n_ports; slot++)
		n += worker__rx_slot(w, slot);
	n += worker__rx_exception(w);
	dt_dpdk_flows__apply_deletes(w);
	return n;
}

/*
 * Online on the engine's QSBR variable for the whole run, quiescent after every burst: a worker
 * holds no table pointer across bursts, so one burst bounds how long a writer waits.
 */
long dt_dpdk_worker__run(struct dt_dpdk_worker *w, const volatile bool *stop, long max_bursts)
{
	long total = 0, bursts;

	if (!stop && max_bursts <= 0)
		return -EINVAL;
	rte_rcu_qsbr_thread_online(w->e->qsbr, w->id);
	for (bursts = 0; max_bursts <= 0 || bursts < max_bursts; bursts++) {
		if (stop && *stop)
			break;
		total += worker__poll(w);
		rte_rcu_qsbr_quiescent(w->e->qsbr, w->id);
	}
	rte_rcu_qsbr_thread_offline(w->e->qsbr, w->id);
	return total;
}
