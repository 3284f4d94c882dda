/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The DPDK dataplane engine: the shared packet core (dataplane/core/) run by worker lcores over
 * DPDK ports, with tables that the control plane publishes while the workers run.
 *
 * A struct dt_dpdk owns its ports (every port receives; any port may be a site's egress), one
 * exception port toward the kernel, one mbuf pool, the published tables and one worker per RX
 * queue. Every function returns 0 or -errno and logs which object failed; none calls rte_exit().
 */
#ifndef DT_DPDK_H
#define DT_DPDK_H

#include <stdbool.h>
#include <linux/types.h>

#include "dataplane/core/detour_abi.h"
#include "dataplane/dataplane.h"

#define DT_DPDK_MAX_PORTS 16
#define DT_DPDK_MAX_WORKERS 16

struct dt_dpdk;
struct dt_dpdk_worker;

struct dt_dpdk_opts {
	/* EAL arguments (argv[0] is a program name); argc 0: the caller already ran rte_eal_init() */
	int eal_argc;
	char **eal_argv;
	/* DPDK port names ("net_ring0", "0000:03:00.0", ...) that the engine receives from */
	const char *ports[DT_DPDK_MAX_PORTS];
	unsigned int n_ports;
	/*
	 * optional: what the control plane calls each of @ports (detourd: the configuration's
	 * interface name, e.g. "edge0" for "net_af_xdp0"); set_egress() and port_id() take either
	 */
	const char *port_labels[DT_DPDK_MAX_PORTS];
	/* where packets go that the engine does not handle: a net_tap / virtio-user port */
	const char *exception_port;
	/* optional: one of @ports; what the kernel sends into the exception port leaves by it */
	const char *exception_return_port;
	unsigned int n_workers; /* one RX and one TX queue per worker on every port; default 1 */
	__u32 flow_hash_seed; /* the fleet-wide seed: every edge must use the same one */
	__u32 flow_entries; /* per worker; default DT_FLOW_TABLE_DEFAULT */
	__u32 mbufs; /* pool size; default 8191 */
	/* monotonic nanoseconds, as bpf_ktime_get_ns(); default CLOCK_MONOTONIC */
	__u64 (*clock_ns)(void *ctx);
	void *clock_ctx;
};

int dt_dpdk__open(const struct dt_dpdk_opts *opts, struct dt_dpdk **out);
void dt_dpdk__close(struct dt_dpdk *e);

/* ---- Control plane: each call is O(1) for the workers and visible at their next burst ---- */
int dt_dpdk__set_site_state(struct dt_dpdk *e, __u32 site, enum dt_site_state state);
int dt_dpdk__set_site(struct dt_dpdk *e, __u32 site, const struct dt_site *cfg);
int dt_dpdk__set_failover(struct dt_dpdk *e, __u32 home, const struct dt_failover_slots *slots);
/* family DT_FAMILY_V4 or V6, addr in network order (IPv4 in the first 4 bytes) */
int dt_dpdk__add_prefix(struct dt_dpdk *e, __u8 family, const __u8 *addr, __u32 len,
			const struct dt_prefix_info *info);
int dt_dpdk__del_prefix(struct dt_dpdk *e, __u8 family, const __u8 *addr, __u32 len);
/* egress index (dt_site.egress_port) -> one of the engine's ports, by DPDK port name */
int dt_dpdk__set_egress(struct dt_dpdk *e, __u32 egress, const char *port_name);
int dt_dpdk__read_counter(struct dt_dpdk *e, __u32 site, __u32 reason, struct dt_counter *sum);
/* mbufs that tx_burst did not take, freed and counted here (the ABI has no reason for them) */
__u64 dt_dpdk__tx_dropped(struct dt_dpdk *e);
int dt_dpdk__for_each_flow(struct dt_dpdk *e, dt_flow_visit_fn fn, void *ctx);
/* Queued to every worker, done at its next burst (a worker without the flow ignores it). */
int dt_dpdk__delete_flow(struct dt_dpdk *e, const struct dt_flow_key *key);

/* ---- Workers --------------------------------------------------------------------------- */
unsigned int dt_dpdk__n_workers(const struct dt_dpdk *e);
struct dt_dpdk_worker *dt_dpdk__worker(struct dt_dpdk *e, unsigned int id);
/* DPDK port id of an engine port or of the exception port (name or label as in the options) */
int dt_dpdk__port_id(const struct dt_dpdk *e, const char *name);
/* The MAC address of an engine port (name or label): a site's default source MAC. */
int dt_dpdk__port_mac(const struct dt_dpdk *e, const char *name, __u8 mac[6]);
/*
 * Run @w on the calling thread until *stop, or for @max_bursts polls when max_bursts > 0 (a test
 * drains its queues this way). Returns the number of packets received.
 */
long dt_dpdk_worker__run(struct dt_dpdk_worker *w, const volatile bool *stop, long max_bursts);
/* Launch every worker on its own EAL worker lcore; dt_dpdk__stop() joins them. */
int dt_dpdk__launch(struct dt_dpdk *e);
void dt_dpdk__stop(struct dt_dpdk *e);

#endif /* DT_DPDK_H */
