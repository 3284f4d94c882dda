// SPDX-License-Identifier: GPL-2.0-only
/*
 * Prefixes: destination prefix -> struct dt_prefix_info, published while workers look them up.
 *
 * The LPM next hop is an index into e->prefix_info (home site * 2 + stateless), an immutable
 * table, so a lookup hands decide.h a stable pointer. IPv4 is one rte_lpm written under its
 * readers; IPv6 is a left-right pair of rte_lpm6 (see dt_dpdk_internal.h for why).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_rcu_qsbr.h>

#include "dt_dpdk_internal.h"

static int prefix_check(__u8 family, __u32 len)
{
	if (family == DT_FAMILY_V4)
		return len <= 32 ? 0 : -EINVAL;
	if (family == DT_FAMILY_V6)
		return len <= 128 ? 0 : -EINVAL;
	return -EINVAL;
}

static __u32 prefix_next_hop(const struct dt_prefix_info *info)
{
	return (__u32)info->home_site << 1 | !!(info->flags & DT_PREFIX_F_STATELESS);
}

static __u32 lpm4_addr(const __u8 *addr)
{
	__be32 a;

	memcpy(&a, addr, sizeof(a));
	return ntohl(a);
}

/* Apply one change to both IPv6 copies, the one no worker reads first. */
static int lpm6__apply(struct dt_dpdk *e, const __u8 *addr, __u32 len, const __u32 *next_hop)
{
	struct rte_lpm6 *old = e->lpm6;
	struct rte_lpm6 *standby = old == e->lpm6_copy[0] ? e->lpm6_copy[1] : e->lpm6_copy[0];
	int err;

	err = next_hop ? rte_lpm6_add(standby, addr, (uint8_t)len, *next_hop) :
			 rte_lpm6_delete(standby, addr, (uint8_t)len);
	if (err)
		return err;
	__atomic_store_n(&e->lpm6, standby, __ATOMIC_RELEASE);
	rte_rcu_qsbr_synchronize(e->qsbr, RTE_QSBR_THRID_INVALID);
	err = next_hop ? rte_lpm6_add(old, addr, (uint8_t)len, *next_hop) :
			 rte_lpm6_delete(old, addr, (uint8_t)len);
	if (err)
		dt_dpdk_log("prefix table v6: the two copies differ after a failed update (%d)",
			    err);
	return err;
}

int dt_dpdk__add_prefix(struct dt_dpdk *e, __u8 family, const __u8 *addr, __u32 len,
			const struct dt_prefix_info *info)
{
	__u32 nh;
	int err;

	if (!addr || !info || prefix_check(family, len) || info->home_site >= DT_MAX_SITES ||
	    (info->flags & ~DT_PREFIX_F_STATELESS))
		return -EINVAL;
	nh = prefix_next_hop(info);
	pthread_mutex_lock(&e->ctl_lock);
	if (family == DT_FAMILY_V4)
		err = rte_lpm_add(e->lpm4, lpm4_addr(addr), (uint8_t)len, nh);
	else
		err = lpm6__apply(e, addr, len, &nh);
	pthread_mutex_unlock(&e->ctl_lock);
	if (err)
		dt_dpdk_log("prefix table v%u: cannot add a /%u: %s", family, len, strerror(-err));
	return err < 0 ? err : 0;
}

int dt_dpdk__del_prefix(struct dt_dpdk *e, __u8 family, const __u8 *addr, __u32 len)
{
	__u32 nh;
	int err;

	if (!addr || prefix_check(family, len))
		return -EINVAL;
	pthread_mutex_lock(&e->ctl_lock);
	if (family == DT_FAMILY_V4) {
		err = rte_lpm_is_rule_present(e->lpm4, lpm4_addr(addr), (uint8_t)len, &nh) == 1 ?
			      rte_lpm_delete(e->lpm4, lpm4_addr(addr), (uint8_t)len) :
			      -ENOENT;
	} else {
		err = rte_lpm6_is_rule_present(e->lpm6, addr, (uint8_t)len, &nh) == 1 ?
			      lpm6__apply(e, addr, len, NULL) :
			      -ENOENT;
	}
	pthread_mutex_unlock(&e->ctl_lock);
	return err < 0 ? err : 0;
}
