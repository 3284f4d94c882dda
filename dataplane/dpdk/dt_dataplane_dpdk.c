// SPDX-License-Identifier: GPL-2.0-only
/*
 * struct dt_dataplane_ops for the DPDK engine: thin adapters onto dt_dpdk__*(), with the XDP
 * implementation's meanings (dataplane/xdp/dt_dataplane_xdp.c): deleting a flow that is already
 * gone is not an error, an egress is named by the port the engine owns (here a DPDK port name).
 */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>
#include <rte_ethdev.h>

#include "dt_dataplane_dpdk.h"
#include "dt_dpdk_internal.h"

/* The workers start only now, on tables the control plane has filled. */
static int dpdk_launch(void *dp)
{
	return dt_dpdk__launch(dp);
}

static int dpdk_set_site_state(void *dp, __u32 site, enum dt_site_state state)
{
	return dt_dpdk__set_site_state(dp, site, state);
}

static int dpdk_set_site(void *dp, __u32 site, const struct dt_site *cfg)
{
	return dt_dpdk__set_site(dp, site, cfg);
}

static int dpdk_set_failover(void *dp, __u32 home, const struct dt_failover_slots *slots)
{
	return dt_dpdk__set_failover(dp, home, slots);
}

static int dpdk_add_prefix(void *dp, __u8 family, const __u8 *addr, __u32 len,
			   const struct dt_prefix_info *info)
{
	return dt_dpdk__add_prefix(dp, family, addr, len, info);
}

static int dpdk_del_prefix(void *dp, __u8 family, const __u8 *addr, __u32 len)
{
	return dt_dpdk__del_prefix(dp, family, addr, len);
}

static int dpdk_set_egress(void *dp, __u32 port, const char *ifname)
{
	return dt_dpdk__set_egress(dp, port, ifname);
}

static int dpdk_read_counter(void *dp, __u32 site, __u32 reason, struct dt_counter *sum)
{
	return dt_dpdk__read_counter(dp, site, reason, sum);
}

static int dpdk_for_each_flow(void *dp, dt_flow_visit_fn fn, void *ctx)
{
	return dt_dpdk__for_each_flow(dp, fn, ctx);
}

static int dpdk_delete_flow(void *dp, const struct dt_flow_key *key)
{
	return dt_dpdk__delete_flow(dp, key);
}

static struct json_object *port_describe(struct dt_dpdk *e, unsigned int slot, const char *role)
{
	struct json_object *o = json_object_new_object();
	struct rte_eth_stats st = { 0 };

	rte_eth_stats_get(e->port_id[slot], &st);
	json_object_object_add(o, "name",
			       json_object_new_string(e->port_label[slot][0] ? e->port_label[slot] :
									       e->port_name[slot]));
	json_object_object_add(o, "device", json_object_new_string(e->port_name[slot]));
	json_object_object_add(o, "mode", json_object_new_string("dpdk"));
	json_object_object_add(o, "role", json_object_new_string(role));
	json_object_object_add(o, "port_id", json_object_new_int(e->port_id[slot]));
	json_object_object_add(o, "workers", json_object_new_int((int)e->n_workers));
	json_object_object_add(o, "rx_packets", json_object_new_int64((int64_t)st.ipackets));
	json_object_object_add(o, "tx_packets", json_object_new_int64((int64_t)st.opackets));
	json_object_object_add(o, "tx_dropped",
			       json_object_new_int64((int64_t)dt_dpdk__tx_dropped(e)));
	return o;
}

static struct json_object *dpdk_describe(void *dp)
{
	struct dt_dpdk *e = dp;
	struct json_object *arr = json_object_new_array();
	unsigned int slot;

	for (slot = 0; slot < e->n_ports; slot++)
		json_object_array_add(arr, port_describe(e, slot, "data"));
	json_object_array_add(arr, port_describe(e, DT_DPDK_EXCEPTION, "exception"));
	return arr;
}

static int dpdk_port_mac(void *dp, const char *port, __u8 mac[6])
{
	return dt_dpdk__port_mac(dp, port, mac);
}

static void dpdk_close(void *dp)
{
	dt_dpdk__close(dp);
}

static const struct dt_dataplane_ops dpdk_ops = {
	.mode = "dpdk",
	/*
	 * The EAL reserves a very large address range up front and maps into it later; with
	 * MCL_FUTURE those later mappings (and glibc's own) were seen to fail with EAGAIN. The
	 * engine's memory is hugepages or the EAL's pinned pool anyway.
	 */
	.lock_memory = false,
	.on_stop = "the DPDK workers stop with the daemon",
	.launch = dpdk_launch,
	.set_site_state = dpdk_set_site_state,
	.set_site = dpdk_set_site,
	.set_failover = dpdk_set_failover,
	.add_prefix = dpdk_add_prefix,
	.del_prefix = dpdk_del_prefix,
	.set_egress = dpdk_set_egress,
	.read_counter = dpdk_read_counter,
	.for_each_flow = dpdk_for_each_flow,
	.delete_flow = dpdk_delete_flow,
	.describe = dpdk_describe,
	.port_mac = dpdk_port_mac,
	.close = dpdk_close,
};

void dt_dataplane_dpdk__wrap(struct dt_dpdk *e, struct dt_dataplane *dp)
{
	dp->ops = &dpdk_ops;
	dp->impl = e;
}

int dt_dataplane_dpdk__open(const struct dt_dpdk_opts *opts, struct dt_dataplane *dp)
{
	struct dt_dpdk *e;
	int err = dt_dpdk__open(opts, &e);

	if (err)
		return err;
	dt_dataplane_dpdk__wrap(e, dp);
	return 0;
}

int dt_dataplane_dpdk__open_in_eal(const struct dt_dpdk_opts *opts, struct dt_dataplane *dp)
{
	int err = dt_dataplane_dpdk__open(opts, dp);

	if (!err)
		((struct dt_dpdk *)dp->impl)->eal_owned = true; /* dt_dpdk__close() releases it */
	return err;
}

struct dt_dpdk *dt_dataplane_dpdk__engine(const struct dt_dataplane *dp)
{
	return dp->ops == &dpdk_ops ? dp->impl : NULL;
}
