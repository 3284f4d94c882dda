// SPDX-License-Identifier: GPL-2.0-only
/*
 * The DPDK test fixture (dpdk_fixture.h): ring ports, the engine on them, the shared
 * configuration, and helpers that inject a frame and read back where it went.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dpdk_fixture.h"

#define N_PORTS (NSITES + 1) /* index 0: client, 1 .. NSITES - 1: sites, NSITES: exception */
#define EXC_INDEX NSITES
#define RING_SIZE 4096

struct fixture fix;

static struct rte_ring *rx_ring[N_PORTS], *tx_ring[N_PORTS];
static char port_name[N_PORTS][64];
static struct dt_counter base[DT_COUNTER_ENTRIES];

int fix_eal_init(const char *tag, const char *lcores)
{
	static char prefix[64];
	char *argv[] = { "dt-dpdk-test",
			 "--no-huge",
			 "-m",
			 "512",
			 "--no-pci",
			 "--no-shconf",
			 "--file-prefix",
			 prefix,
			 "-l",
			 (char *)lcores,
			 "--log-level=error",
			 NULL };

	snprintf(prefix, sizeof(prefix), "dt-%s-%d", tag, getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		return -rte_errno;
	return 0;
}

static __u64 fix_clock(void *ctx)
{
	return ((struct fixture *)ctx)->now_ns;
}

static int ring_port(int i, const char *tag)
{
	char name[32];
	int id;

	snprintf(name, sizeof(name), "%s_rx", tag);
	rx_ring[i] = rte_ring_create(name, RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "%s_tx", tag);
	tx_ring[i] = rte_ring_create(name, RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!rx_ring[i] || !tx_ring[i])
		return -ENOMEM;
	id = rte_eth_from_rings(tag, &rx_ring[i], 1, &tx_ring[i], 1, SOCKET_ID_ANY);
	if (id < 0)
		return -ENODEV;
	rte_eth_dev_get_name_by_port((uint16_t)id, port_name[i]);
	return 0;
}

static int ports_create(struct dt_dpdk_opts *o)
{
	char tag[16];
	int i, err = 0;

	for (i = 0; i < N_PORTS && !err; i++) {
		if (i == 0)
			snprintf(tag, sizeof(tag), "client");
		else if (i == EXC_INDEX)
			snprintf(tag, sizeof(tag), "exc");
		else
			snprintf(tag, sizeof(tag), "s%d", i);
		err = ring_port(i, tag);
	}
	for (i = 0; i < EXC_INDEX; i++)
		o->ports[i] = port_name[i];
	o->n_ports = EXC_INDEX;
	o->exception_port = port_name[EXC_INDEX];
	o->exception_return_port = port_name[0];
	return err;
}

int fix_engine_open(unsigned int n_workers)
{
	struct dt_dpdk_opts o = { .n_workers = n_workers,
				  .flow_hash_seed = FIX_SEED,
				  .flow_entries = 8192,
				  .clock_ns = fix_clock,
				  .clock_ctx = &fix };
	int err, i;

	fix.now_ns = 1000000000ull;
	fix.pool = rte_pktmbuf_pool_create("fix_pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					   SOCKET_ID_ANY);
	if (!fix.pool)
		return -ENOMEM;
	err = ports_create(&o);
	err = err ?: dt_dpdk__open(&o, &fix.e);
	if (err)
		return err;
	fix.w = dt_dpdk__worker(fix.e, 0);
	for (i = 1; i < NSITES && !err; i++)
		err = dt_dpdk__set_egress(fix.e, (__u32)i, port_name[i]);
	return err;
}

void fix_engine_close(void)
{
	dt_dpdk__close(fix.e);
}

const char *fix_port_name(int where)
{
	return port_name[where == FIX_EXCEPTION ? EXC_INDEX : where];
}

struct rte_ring *fix_port_rx_ring(int where)
{
	return rx_ring[where == FIX_EXCEPTION ? EXC_INDEX : where];
}

struct rte_ring *fix_port_tx_ring(int where)
{
	return tx_ring[where == FIX_EXCEPTION ? EXC_INDEX : where];
}

void fix_set_state(__u32 site, __u32 state)
{
	assert_int_equal(dt_dpdk__set_site_state(fix.e, site, state), 0);
}

void fix_set_failover(__u32 home, const struct dt_failover_entry *list, unsigned int n)
{
	static struct dt_failover_slots slots;

	assert_int_equal(dt_failover_slots__compute(&slots, home, list, n, FIX_SEED), 0);
	assert_int_equal(dt_dpdk__set_failover(fix.e, home, &slots), 0);
}

void fix_add_prefix(const char *addr, int plen, __u16 home, __u16 flags)
{
	struct dt_prefix_info info = { .home_site = home, .flags = flags };
	uint8_t a[16] = { 0 };
	bool v6 = strchr(addr, ':') != NULL;

	inet_pton(v6 ? AF_INET6 : AF_INET, addr, a);
	assert_int_equal(dt_dpdk__add_prefix(fix.e, v6 ? DT_FAMILY_V6 : DT_FAMILY_V4, a,
					     (__u32)plen, &info),
			 0);
}

void fix_configure(void)
{
	unsigned int i;

	for (i = 0; i < SCENARIO_N(scenario_failovers); i++)
		fix_set_failover(scenario_failovers[i].home, scenario_failovers[i].list,
				 scenario_failovers[i].n);
	for (i = 0; i < SCENARIO_N(scenario_prefixes); i++)
		fix_add_prefix(scenario_prefixes[i].addr, scenario_prefixes[i].len,
			       scenario_prefixes[i].home, scenario_prefixes[i].flags);
}

void fix_poll(void)
{
	assert_true(dt_dpdk_worker__run(fix.w, NULL, 2) >= 0);
}

static int count_flow(const struct dt_flow_key *k, const struct dt_flow_state *v, void *ctx)
{
	(*(unsigned int *)ctx)++;
	return 0;
}

unsigned int fix_flow_count(void)
{
	unsigned int n = 0;

	assert_int_equal(dt_dpdk__for_each_flow(fix.e, count_flow, &n), 0);
	return n;
}

static int delete_flow(const struct dt_flow_key *k, const struct dt_flow_state *v, void *ctx)
{
	return dt_dpdk__delete_flow(fix.e, k) ? 1 : 0;
}

static void counters_snapshot(void)
{
	__u32 site, r;

	for (site = 0; site <= DT_MAX_SITES; site++)
		for (r = 0; r < DT_REASON_MAX; r++)
			dt_dpdk__read_counter(fix.e, site, r, &base[dt_counter_index(site, r)]);
}

void fix_reset(void)
{
	struct fix_out junk[4];
	unsigned int tries;
	__u32 id;

	for (id = 1; id < NSITES; id++) {
		struct dt_site s = scenario_site((int)id);

		fix_set_state(id, DT_SITE_UP);
		assert_int_equal(dt_dpdk__set_site(fix.e, id, &s), 0);
	}
	/* deletions are applied by the worker, DT_DPDK_DEL_RING at a time */
	for (tries = 0; tries < 100 && fix_flow_count(); tries++) {
		dt_dpdk__for_each_flow(fix.e, delete_flow, NULL);
		for (id = 0; id < 32; id++)
			fix_poll();
	}
	assert_int_equal(fix_flow_count(), 0);
	while (fix_collect(junk, 4))
		;
	fix.now_ns += 10000000000ull;
	counters_snapshot();
}

__u64 fix_counter(__u32 site, __u32 reason)
{
	struct dt_counter c;

	assert_int_equal(dt_dpdk__read_counter(fix.e, site, reason, &c), 0);
	return c.packets - base[dt_counter_index(site, reason)].packets;
}

struct flow_find {
	const struct dt_flow_key *k;
	struct dt_flow_state *v;
};

static int find_flow(const struct dt_flow_key *k, const struct dt_flow_state *v, void *ctx)
{
	struct flow_find *f = ctx;

	if (memcmp(k, f->k, sizeof(*k)))
		return 0;
	*f->v = *v;
	return 1;
}

bool fix_flow_get(const struct dt_flow_key *k, struct dt_flow_state *v)
{
	struct flow_find f = { k, v };

	return dt_dpdk__for_each_flow(fix.e, find_flow, &f) == 1;
}

void fix_inject(const uint8_t *pkt, unsigned int len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fix.pool);
	char *p;

	assert_non_null(m);
	p = rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	memcpy(p, pkt, len);
	assert_int_equal(rte_ring_enqueue(rx_ring[0], m), 0);
}

unsigned int fix_collect(struct fix_out *out, unsigned int max)
{
	unsigned int n = 0;
	int i;

	for (i = 0; i < N_PORTS; i++) {
		struct rte_mbuf *m;

		while (n < max && !rte_ring_dequeue(tx_ring[i], (void **)&m)) {
			out[n].where = i == EXC_INDEX ? FIX_EXCEPTION : i;
			out[n].len = rte_pktmbuf_pkt_len(m);
			assert_true(out[n].len <= FIX_PKT_MAX);
			assert_int_equal(m->nb_segs, 1);
			memcpy(out[n].bytes, rte_pktmbuf_mtod(m, void *), out[n].len);
			rte_pktmbuf_free(m);
			n++;
		}
	}
	return n;
}

struct fix_out fix_run(const uint8_t *pkt, unsigned int len)
{
	static struct fix_out outs[4];
	unsigned int n;

	fix_inject(pkt, len);
	fix_poll();
	n = fix_collect(outs, 4);
	if (n == 1)
		return outs[0];
	outs[0].where = n ? FIX_SEVERAL : FIX_NOTHING;
	return outs[0];
}
