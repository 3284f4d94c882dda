// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine's life cycle: EAL start-up (or adoption of a running EAL), the mbuf pool, port and
 * queue set-up for any PMD, the tables and the workers, and launching workers on lcores.
 * Every failure names the object and the step, and returns -errno; nothing here exits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "dt_clock.h"
#include "dt_dpdk_internal.h"

#define RX_DESC 1024
#define TX_DESC 1024
#define MBUF_CACHE 256
#define MBUFS_DEFAULT 16383

static __u64 clock_monotonic_ns(void *ctx)
{
	return dt_mono_ns(); /* the clock bpf_ktime_get_ns() reads */
}

static int opts_check(const struct dt_dpdk_opts *o)
{
	unsigned int i, j;

	if (!o->n_ports || o->n_ports > DT_DPDK_MAX_PORTS || !o->exception_port ||
	    o->n_workers > DT_DPDK_MAX_WORKERS) {
		dt_dpdk_log("options: 1..%u ports, an exception port and at most %u workers needed",
			    DT_DPDK_MAX_PORTS, DT_DPDK_MAX_WORKERS);
		return -EINVAL;
	}
	for (i = 0; i < o->n_ports; i++) {
		for (j = 0; j < i; j++)
			if (!o->ports[i] || !strcmp(o->ports[i], o->ports[j]))
				goto dup;
		if (!o->ports[i] || !strcmp(o->ports[i], o->exception_port))
			goto dup;
	}
	return 0;
dup:
	dt_dpdk_log("options: port %s missing or listed twice", o->ports[i] ?: "(null)");
	return -EINVAL;
}

static int eal_start(int argc, char **argv)
{
	int ret = rte_eal_init(argc, argv);

	if (ret < 0) {
		ret = rte_errno ?: EINVAL;
		dt_dpdk_log("EAL: initialisation failed: %s", rte_strerror(ret));
		return -ret;
	}
	return 0;
}

static int port_configure(struct dt_dpdk *e, uint16_t id, uint16_t n_rx, uint16_t n_tx)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	int err;
	uint16_t q;

	err = rte_eth_dev_info_get(id, &info);
	if (err)
		return err;
	if (n_rx > 1 && info.flow_type_rss_offloads) {
		/* RSS over addresses and ports: a flow stays on one worker and its flow table */
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
			info.flow_type_rss_offloads;
	}
	err = rte_eth_dev_configure(id, n_rx, n_tx, &conf);
	for (q = 0; !err && q < n_rx; q++)
		err = rte_eth_rx_queue_setup(id, q, RX_DESC, rte_eth_dev_socket_id(id), NULL,
					     e->pool);
	for (q = 0; !err && q < n_tx; q++)
		err = rte_eth_tx_queue_setup(id, q, TX_DESC, rte_eth_dev_socket_id(id), NULL);
	err = err ?: rte_eth_dev_start(id);
	if (!err)
		rte_eth_promiscuous_enable(id); /* not every PMD has it; not needed by all */
	return err;
}

static int port_open(struct dt_dpdk *e, unsigned int slot, const char *name, uint16_t n_rx)
{
	uint16_t id;
	int err;

	snprintf(e->port_name[slot], sizeof(e->port_name[slot]), "%s", name);
	if (slot < DT_DPDK_MAX_PORTS && e->opts.port_labels[slot])
		snprintf(e->port_label[slot], sizeof(e->port_label[slot]), "%s",
			 e->opts.port_labels[slot]);
	if (rte_eth_dev_get_port_by_name(name, &id)) {
		dt_dpdk_log("port %s: no such DPDK port (give it with --vdev or -a)", name);
		return -ENODEV;
	}
	e->port_id[slot] = id;
	rte_eth_macaddr_get(id, (struct rte_ether_addr *)e->port_mac[slot]);
	err = port_configure(e, id, n_rx, (uint16_t)e->n_workers);
	if (err)
		dt_dpdk_log("port %s: set-up of %u RX / %u TX queues failed: %s", name, n_rx,
			    e->n_workers, strerror(-err));
	return err;
}

/*
 * What the kernel sends into the exception port leaves by the return port as it is: its source
 * MAC must be that port's. A PMD that cannot change its MAC (net_ring) keeps its own.
 */
static void exception_take_mac(struct dt_dpdk *e)
{
	unsigned int ret = e->exception_return - 1;
	uint16_t id = e->port_id[DT_DPDK_EXCEPTION];

	if (rte_eth_dev_default_mac_addr_set(id, (struct rte_ether_addr *)e->port_mac[ret]))
		return;
	memcpy(e->port_mac[DT_DPDK_EXCEPTION], e->port_mac[ret], 6);
}

static int ports_open(struct dt_dpdk *e)
{
	unsigned int slot;
	int err = 0;

	for (slot = 0; slot < e->n_ports && !err; slot++)
		err = port_open(e, slot, e->opts.ports[slot], (uint16_t)e->n_workers);
	/* the exception port's RX (the kernel's replies) is polled by worker 0 only */
	err = err ?: port_open(e, DT_DPDK_EXCEPTION, e->opts.exception_port, 1);
	for (slot = 0; slot < e->n_ports && e->opts.exception_return_port; slot++)
		if (!strcmp(e->port_name[slot], e->opts.exception_return_port))
			e->exception_return = slot + 1;
	if (!err && e->opts.exception_return_port && !e->exception_return) {
		dt_dpdk_log("port %s: the exception return port is not one of the engine's ports",
			    e->opts.exception_return_port);
		err = -EINVAL;
	}
	if (!err && e->exception_return)
		exception_take_mac(e);
	e->ports_started = !err;
	return err;
}

static int workers_create(struct dt_dpdk *e)
{
	unsigned int i;
	int err;

	for (i = 0; i < e->n_workers; i++) {
		struct dt_dpdk_worker *w =
			rte_zmalloc("dt_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);

		if (!w)
			return -ENOMEM;
		e->workers[i] = w;
		w->e = e;
		w->id = i;
		err = dt_dpdk_flows__init(w, e->opts.flow_entries);
		if (err)
			return err;
		rte_rcu_qsbr_thread_register(e->qsbr, i);
	}
	return 0;
}

static void opts_defaults(struct dt_dpdk_opts *o)
{
	o->n_workers = o->n_workers ?: 1;
	o->flow_entries = o->flow_entries ?: DT_FLOW_TABLE_DEFAULT;
	o->mbufs = o->mbufs ?: MBUFS_DEFAULT;
	if (!o->clock_ns)
		o->clock_ns = clock_monotonic_ns;
}

static int engine_build(struct dt_dpdk *e)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	int err;

	snprintf(name, sizeof(name), "dtm_%p", (void *)e);
	e->pool = rte_pktmbuf_pool_create(name, e->opts.mbufs, MBUF_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (!e->pool) {
		dt_dpdk_log("mbuf pool: cannot allocate %u mbufs: %s", e->opts.mbufs,
			    rte_strerror(rte_errno));
		return -ENOMEM;
	}
	err = dt_dpdk_tables__init(e);
	err = err ?: workers_create(e);
	err = err ?: ports_open(e);
	return err;
}

int dt_dpdk__open(const struct dt_dpdk_opts *opts, struct dt_dpdk **out)
{
	struct dt_dpdk *e;
	int err;

	*out = NULL;
	err = opts_check(opts);
	if (!err && opts->eal_argc)
		err = eal_start(opts->eal_argc, opts->eal_argv);
	if (err)
		return err;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->opts = *opts;
	opts_defaults(&e->opts);
	e->eal_owned = opts->eal_argc > 0;
	e->n_ports = opts->n_ports;
	e->n_workers = e->opts.n_workers;
	err = engine_build(e);
	if (err) {
		dt_dpdk__close(e);
		return err;
	}
	*out = e;
	return 0;
}

static void ports_stop(struct dt_dpdk *e)
{
	unsigned int slot;

	for (slot = 0; slot < e->n_ports; slot++)
		rte_eth_dev_stop(e->port_id[slot]);
	rte_eth_dev_stop(e->port_id[DT_DPDK_EXCEPTION]);
}

void dt_dpdk__close(struct dt_dpdk *e)
{
	unsigned int i;

	if (!e)
		return;
	dt_dpdk__stop(e);
	if (e->ports_started)
		ports_stop(e);
	for (i = 0; i < e->n_workers; i++) {
		if (e->workers[i])
			dt_dpdk_flows__fini(e->workers[i]);
		rte_free(e->workers[i]);
	}
	if (e->qsbr)
		dt_dpdk_tables__fini(e);
	rte_mempool_free(e->pool);
	if (e->eal_owned)
		rte_eal_cleanup();
	free(e);
}

static int worker_main(void *arg)
{
	struct dt_dpdk_worker *w = arg;

	dt_dpdk_worker__run(w, &w->e->stop, 0);
	return 0;
}

int dt_dpdk__launch(struct dt_dpdk *e)
{
	unsigned int i, lcore = rte_get_next_lcore(-1, 1, 0);

	if (e->launched)
		return -EALREADY;
	for (i = 0; i < e->n_workers; i++, lcore = rte_get_next_lcore(lcore, 1, 0)) {
		if (lcore >= RTE_MAX_LCORE) {
			dt_dpdk_log("worker %u: no free EAL lcore (give more with -l)", i);
			e->stop = true;
			rte_eal_mp_wait_lcore();
			e->stop = false;
			return -ENODEV;
		}
		e->workers[i]->lcore = lcore;
		rte_eal_remote_launch(worker_main, e->workers[i], lcore);
	}
	e->launched = true;
	return 0;
}

void dt_dpdk__stop(struct dt_dpdk *e)
{
	unsigned int i;

	if (!e->launched)
		return;
	e->stop = true;
	for (i = 0; i < e->n_workers; i++)
		rte_eal_wait_lcore(e->workers[i]->lcore);
	e->stop = false;
	e->launched = false;
}

unsigned int dt_dpdk__n_workers(const struct dt_dpdk *e)
{
	return e->n_workers;
}

struct dt_dpdk_worker *dt_dpdk__worker(struct dt_dpdk *e, unsigned int id)
{
	return id < e->n_workers ? e->workers[id] : NULL;
}

int dt_dpdk__slot(const struct dt_dpdk *e, const char *name)
{
	unsigned int slot;

	for (slot = 0; name && slot <= DT_DPDK_MAX_PORTS; slot++)
		if ((slot < e->n_ports || slot == DT_DPDK_EXCEPTION) &&
		    (!strcmp(e->port_name[slot], name) ||
		     (e->port_label[slot][0] && !strcmp(e->port_label[slot], name))))
			return (int)slot;
	return -ENODEV;
}

int dt_dpdk__port_id(const struct dt_dpdk *e, const char *name)
{
	int slot = dt_dpdk__slot(e, name);

	return slot < 0 ? slot : e->port_id[slot];
}

int dt_dpdk__port_mac(const struct dt_dpdk *e, const char *name, __u8 mac[6])
{
	int slot = dt_dpdk__slot(e, name);

	if (slot < 0)
		return slot;
	memcpy(mac, e->port_mac[slot], 6);
	return 0;
}

int dt_dpdk__read_counter(struct dt_dpdk *e, __u32 site, __u32 reason, struct dt_counter *sum)
{
	__u32 idx = dt_counter_index(site, reason);
	unsigned int i;

	if (reason >= DT_REASON_MAX || !sum)
		return -EINVAL;
	sum->packets = sum->bytes = 0;
	for (i = 0; i < e->n_workers; i++) {
		sum->packets += e->workers[i]->counters[idx].packets;
		sum->bytes += e->workers[i]->counters[idx].bytes;
	}
	return 0;
}

__u64 dt_dpdk__tx_dropped(struct dt_dpdk *e)
{
	__u64 n = 0;
	unsigned int i;

	for (i = 0; i < e->n_workers; i++)
		n += e->workers[i]->tx_dropped;
	return n;
}
