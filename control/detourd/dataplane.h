/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What detourd needs from a dataplane, whichever it is: the XDP program and its pinned maps, or
 * (issue 7) the DPDK engine and its RCU-published tables. Every writer is O(1); failing a site is
 * one set_site_state() call however many flows it carries.
 */
#ifndef DT_DATAPLANE_H
#define DT_DATAPLANE_H

#include <stdbool.h>
#include <linux/types.h>
#include <json-c/json.h>

#include "dataplane/core/detour_abi.h"

struct dt_config;

typedef int (*dt_flow_visit_fn)(const struct dt_flow_key *key, const struct dt_flow_state *val,
				void *ctx);

struct dt_dataplane_ops {
	const char *mode; /* "xdp" or "dpdk" */
	int (*set_site_state)(void *dp, __u32 site, enum dt_site_state state);
	int (*set_site)(void *dp, __u32 site, const struct dt_site *cfg);
	int (*set_failover)(void *dp, __u32 home, const struct dt_failover_slots *slots);
	/* family is DT_FAMILY_V4 or V6, addr in network order (IPv4 in the first 4 bytes) */
	int (*add_prefix)(void *dp, __u8 family, const __u8 *addr, __u32 len,
			  const struct dt_prefix_info *info);
	int (*del_prefix)(void *dp, __u8 family, const __u8 *addr, __u32 len);
	int (*set_egress)(void *dp, __u32 port, const char *ifname);
	int (*read_counter)(void *dp, __u32 site, __u32 reason, struct dt_counter *sum);
	int (*for_each_flow)(void *dp, dt_flow_visit_fn fn, void *ctx);
	int (*delete_flow)(void *dp, const struct dt_flow_key *key);
	/* Describe interfaces and attachment for `detourctl status` (a new JSON array). */
	struct json_object *(*describe)(void *dp);
	/*
	 * Optional (DPDK): the MAC of a port the dataplane owns, for a site without source_mac.
	 * NULL: the port is a kernel interface and its MAC is read from the kernel.
	 */
	int (*port_mac)(void *dp, const char *port, __u8 mac[6]);
	void (*close)(void *dp);
};

struct dt_dataplane {
	const struct dt_dataplane_ops *ops;
	void *impl;
};

/* Load or adopt the XDP program, attach it to every configured interface. 0 or -errno. */
int dt_dataplane_xdp__open(const struct dt_config *cfg, struct dt_dataplane *dp);

#endif /* DT_DATAPLANE_H */
