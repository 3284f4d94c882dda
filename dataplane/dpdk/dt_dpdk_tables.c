// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control plane's side of the published tables: every writer here runs while the workers
 * forward, and none of them ever lets a worker see half of a change (see dt_dpdk_internal.h).
 * Writers are serialised by ctl_lock; readers (the workers) take no lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dt_dpdk_internal.h"

#define LPM4_TBL8S 1024 /* only prefixes longer than /24 use tbl8 groups */
#define LPM6_TBL8S 8192 /* a /48 takes up to 3 groups; 8 MiB per copy */

static struct rte_rcu_qsbr *qsbr_create(unsigned int max_threads)
{
	size_t sz = rte_rcu_qsbr_get_memsize(max_threads);
	struct rte_rcu_qsbr *v = rte_zmalloc("dt_qsbr", sz, RTE_CACHE_LINE_SIZE);

	if (v && rte_rcu_qsbr_init(v, max_threads)) {
		rte_free(v);
		return NULL;
	}
	return v;
}

/* LPM names are global to the process; the engine's address keeps two engines apart. */
static int lpm_create(struct dt_dpdk *e)
{
	struct rte_lpm_config c4 = { .max_rules = DT_MAX_PREFIXES_DEFAULT,
				     .number_tbl8s = LPM4_TBL8S };
	struct rte_lpm6_config c6 = { .max_rules = DT_MAX_PREFIXES_DEFAULT,
				      .number_tbl8s = LPM6_TBL8S };
	struct rte_lpm_rcu_config rcu = { .v = e->qsbr, .mode = RTE_LPM_QSBR_MODE_SYNC };
	char name[RTE_LPM_NAMESIZE];
	int i;

	snprintf(name, sizeof(name), "dt4_%p", (void *)e);
	e->lpm4 = rte_lpm_create(name, SOCKET_ID_ANY, &c4);
	if (!e->lpm4 || rte_lpm_rcu_qsbr_add(e->lpm4, &rcu))
		return -(rte_errno ?: ENOMEM);
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "dt6%d_%p", i, (void *)e);
		e->lpm6_copy[i] = rte_lpm6_create(name, SOCKET_ID_ANY, &c6);
		if (!e->lpm6_copy[i])
			return -(rte_errno ?: ENOMEM);
	}
	e->lpm6 = e->lpm6_copy[0];
	return 0;
}

int dt_dpdk_tables__init(struct dt_dpdk *e)
{
	unsigned int i;
	int err;

	/* The LPM next hop indexes this table: one entry per (home site, stateless) pair. */
	for (i = 0; i < DT_PREFIX_INFO_N; i++) {
		e->prefix_info[i].home_site = (__u16)(i >> 1);
		e->prefix_info[i].flags = (i & 1) ? DT_PREFIX_F_STATELESS : 0;
	}
	pthread_mutex_init(&e->ctl_lock, NULL);
	e->qsbr = qsbr_create(e->n_workers);
	if (!e->qsbr) {
		dt_dpdk_log("tables: cannot allocate the RCU variable");
		return -ENOMEM;
	}
	err = lpm_create(e);
	if (err)
		dt_dpdk_log("tables: cannot create the prefix tables: %s", strerror(-err));
	return err;
}

void dt_dpdk_tables__fini(struct dt_dpdk *e)
{
	unsigned int i;

	for (i = 0; i < DT_MAX_SITES; i++) {
		free((void *)e->site[i]);
		free((void *)e->failover[i]);
	}
	rte_lpm_free(e->lpm4);
	rte_lpm6_free(e->lpm6_copy[0]);
	rte_lpm6_free(e->lpm6_copy[1]);
	rte_free(e->qsbr);
	pthread_mutex_destroy(&e->ctl_lock);
}

/* Wait until no worker can still hold a pointer read before the caller's last store. */
static void tables__grace(struct dt_dpdk *e)
{
	rte_rcu_qsbr_synchronize(e->qsbr, RTE_QSBR_THRID_INVALID);
}

int dt_dpdk__set_site_state(struct dt_dpdk *e, __u32 site, enum dt_site_state state)
{
	if (site >= DT_MAX_SITES || (unsigned int)state >= DT_SITE_STATE_MAX)
		return -EINVAL;
	__atomic_store_n(&e->state[site].state, (__u32)state, __ATOMIC_RELEASE);
	return 0;
}

/* Swap an RCU-protected pointer to an immutable object and free the one it replaced. */
static void tables__publish(struct dt_dpdk *e, const void **slot, const void *obj)
{
	const void *old;

	pthread_mutex_lock(&e->ctl_lock);
	old = __atomic_exchange_n(slot, obj, __ATOMIC_ACQ_REL);
	if (old)
		tables__grace(e);
	pthread_mutex_unlock(&e->ctl_lock);
	free((void *)old);
}

static int site_check(const struct dt_site *cfg)
{
	if (cfg->delivery >= DT_DELIVERY_MAX || cfg->egress_port >= DT_MAX_EGRESS_PORTS)
		return -EINVAL;
	if (cfg->delivery == DT_DELIVERY_IPIP && cfg->tunnel_family != DT_FAMILY_V4 &&
	    cfg->tunnel_family != DT_FAMILY_V6)
		return -EINVAL;
	return 0;
}

/* cfg NULL removes the site's delivery data: its flows then fail open. */
int dt_dpdk__set_site(struct dt_dpdk *e, __u32 site, const struct dt_site *cfg)
{
	struct dt_site *copy = NULL;

	if (site >= DT_MAX_SITES || (cfg && site_check(cfg)))
		return -EINVAL;
	if (cfg) {
		copy = malloc(sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		*copy = *cfg;
	}
	tables__publish(e, (const void **)&e->site[site], copy);
	return 0;
}

int dt_dpdk__set_failover(struct dt_dpdk *e, __u32 home, const struct dt_failover_slots *slots)
{
	struct dt_failover_slots *copy = NULL;

	if (home >= DT_MAX_SITES)
		return -EINVAL;
	if (slots) {
		copy = malloc(sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		*copy = *slots;
	}
	tables__publish(e, (const void **)&e->failover[home], copy);
	return 0;
}

int dt_dpdk__set_egress(struct dt_dpdk *e, __u32 egress, const char *port_name)
{
	int slot;

	if (egress >= DT_MAX_EGRESS_PORTS || !port_name)
		return -EINVAL;
	slot = dt_dpdk__slot(e, port_name);
	if (slot >= 0 && (unsigned int)slot < e->n_ports) {
		__atomic_store_n(&e->egress_slot[egress], (__u32)slot + 1, __ATOMIC_RELEASE);
		return 0;
	}
	dt_dpdk_log("egress %u: port %s is not one of the engine's ports", egress, port_name);
	return -ENODEV;
}
