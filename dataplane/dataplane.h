/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What detourd needs from a dataplane, whichever it is: the XDP program and its pinned maps
 * (dataplane/xdp/), or the DPDK engine and its RCU-published tables (dataplane/dpdk/). Both
 * engines and the daemon include this header, and the daemon reaches an engine only through it:
 * found by name, opened, launched, written, read and closed through struct dt_dataplane_ops.
 * Every writer is O(1); failing a site is one set_site_state() call however many flows it
 * carries.
 */
#ifndef DT_DATAPLANE_H
#define DT_DATAPLANE_H

#include <stdbool.h>
#include <linux/types.h>

#include "dataplane/core/detour_abi.h"

struct dt_config;
struct json_object;

/* A walk over the record of TCP flows (dt_tcp_seen): every CPU's copy of every slot in use. */
typedef int (*dt_tcp_seen_visit_fn)(__u32 slot, const struct dt_tcp_seen *s, void *ctx);

/* A flow-table walk: return non-zero to stop it, and the walk returns that value. */
typedef int (*dt_flow_visit_fn)(const struct dt_flow_key *key, const struct dt_flow_state *val,
				void *ctx);

struct dt_dataplane_ops {
	const char *mode; /* the engine's name: "xdp" or "dpdk" */
	/*
	 * May the daemon lock its memory when it goes realtime? Not every engine's allocator
	 * survives mlockall(MCL_FUTURE).
	 */
	bool lock_memory;
	/* What stopping the daemon does to forwarding, for the line it logs when it stops. */
	const char *on_stop;
	/*
	 * Start forwarding. Called once, after the configuration has been written, so that no
	 * packet is judged by an empty table. 0 or -errno.
	 */
	int (*launch)(void *dp);
	int (*set_site_state)(void *dp, __u32 site, enum dt_site_state state);
	int (*set_site)(void *dp, __u32 site, const struct dt_site *cfg);
	int (*set_failover)(void *dp, __u32 home, const struct dt_failover_slots *slots);
	/* family is DT_FAMILY_V4 or V6, addr in network order (IPv4 in the first 4 bytes) */
	int (*add_prefix)(void *dp, __u8 family, const __u8 *addr, __u32 len,
			  const struct dt_prefix_info *info);
	int (*del_prefix)(void *dp, __u8 family, const __u8 *addr, __u32 len);
	int (*set_egress)(void *dp, __u32 port, const char *ifname);
	int (*read_counter)(void *dp, __u32 site, __u32 reason, struct dt_counter *sum);
	/*
	 * Walk every flow-table entry: 0 when the walk was complete, the visitor's non-zero
	 * return, -EAGAIN when it was cut short (eviction churn, deletions that moved entries)
	 * and may have missed flows, or another -errno.
	 */
	int (*for_each_flow)(void *dp, dt_flow_visit_fn fn, void *ctx);
	int (*delete_flow)(void *dp, const struct dt_flow_key *key);
	/*
	 * Optional: visit the record of recent TCP flows of tcp_reset prefixes (one read of it);
	 * 0, the visitor's non-zero return, or -errno. NULL: the engine keeps no record (DPDK).
	 */
	int (*for_each_tcp_seen)(void *dp, dt_tcp_seen_visit_fn fn, void *ctx);
	/* Describe interfaces and attachment for `detourctl status` (a new JSON array). */
	struct json_object *(*describe)(void *dp);
	/*
	 * Optional (DPDK): the MAC of a port the dataplane owns, for a site without source_mac.
	 * NULL: the port is a kernel interface and its MAC is read from the kernel.
	 */
	int (*port_mac)(void *dp, const char *port, __u8 mac[6]);
	/* Release everything open took; whether forwarding outlives it is on_stop's to say. */
	void (*close)(void *dp);
	/*
	 * Optional: close after a start that failed, undoing what this start made that nobody had
	 * before (XDP: the program it attached, the pins it created). NULL: close.
	 */
	void (*abandon)(void *dp);
};

struct dt_dataplane {
	const struct dt_dataplane_ops *ops;
	void *impl;
};

/* ---- Engines, found by name (detourd --dataplane NAME) ------------------------------------ */

#define DT_DATAPLANE_DEFAULT "xdp"
#define DT_DATAPLANE_MAX_PORT_MAPS 16

/*
 * What the command line gives an engine. Each engine reads what concerns it and checks the
 * rest: the XDP program takes no operands and ignores the DPDK options.
 */
struct dt_dataplane_opts {
	/*
	 * The operands after the options, as a command line of their own: argv[0] is the program's
	 * name (the EAL parses them so). after_dashdash: they followed `--`.
	 */
	int argc;
	char **argv;
	bool after_dashdash;
	/* DPDK: the port toward the kernel; NULL: the first net_tap or virtio-user port */
	const char *exception_port;
	unsigned int workers; /* DPDK: worker lcores; 0: one per EAL worker lcore */
	/* DPDK, --port NAME=DEVICE: a configuration name for a port with no kernel name (a PCI NIC) */
	const char *map_name[DT_DATAPLANE_MAX_PORT_MAPS];
	const char *map_dev[DT_DATAPLANE_MAX_PORT_MAPS];
	unsigned int n_maps;
};

struct dt_dataplane_engine {
	const char *name;
	/* Usage errors in @o for this engine, printed on stderr: 0 or -EINVAL. */
	int (*check_opts)(const struct dt_dataplane_opts *o);
	/*
	 * Start the engine for @cfg and fill @dp; forwarding waits for dp->ops->launch(). On failure
	 * the engine may set *exit_code to a more precise exit status than 1.
	 */
	int (*open)(const struct dt_config *cfg, const struct dt_dataplane_opts *o,
		    struct dt_dataplane *dp, int *exit_code);
};

/* Defined beside each engine (dataplane/xdp/dt_dataplane_xdp.c, dataplane/dpdk/dt_dpdk_eal.c). */
extern const struct dt_dataplane_engine dt_dataplane_engine_xdp;
extern const struct dt_dataplane_engine dt_dataplane_engine_dpdk;

/* Every engine, NULL-terminated. */
extern const struct dt_dataplane_engine *const dt_dataplane_engines[];

/* The engine called @name, or NULL. */
const struct dt_dataplane_engine *dt_dataplane__find(const char *name);
/* Open the engine called @name (see struct dt_dataplane_engine). 0 or -errno. */
int dt_dataplane__open(const char *name, const struct dt_config *cfg,
		       const struct dt_dataplane_opts *o, struct dt_dataplane *dp, int *exit_code);

#endif /* DT_DATAPLANE_H */
