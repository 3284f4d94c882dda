/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The XDP loader: open the detour skeleton, size its maps, load it, pin every map under one bpffs
 * root, attach it to interfaces, and write the maps the daemon drives. Layouts come only from
 * dataplane/core/detour_abi.h.
 *
 * State across restarts. Every map is pinned by name (LIBBPF_PIN_BY_NAME) under the pin root, so
 * state belongs to the pins, not to a process:
 *   - dt_xdp__load() reuses maps that are already pinned (after checking that each is compatible
 *     with the requested sizes), so loading a new program keeps flows, site states and counters;
 *     dt_xdp__attach() then swaps the program on the interface atomically (XDP_FLAGS_REPLACE).
 *   - dt_xdp__adopt() opens the pinned maps and loads nothing: a restarted daemon that does not
 *     need a new program uses it and leaves the attached program untouched.
 * Attachments made through netlink (the direct path) or through libxdp (whose dispatcher links are
 * pinned) outlive the process, which is what a hitless daemon restart needs.
 *
 * Every function returns 0 or a negative errno and logs, through dt_log (common/dt_log.h), one
 * line that names the step and the object (interface, map, program) it is about.
 */
#ifndef DT_XDP_H
#define DT_XDP_H

#include <stdbool.h>
#include <linux/types.h>

#include "dataplane/core/detour_abi.h"
#include "dataplane/dataplane.h"
#include "dt_names.h"

/* ---- Loading ------------------------------------------------------------------------------- */

struct dt_xdp_opts {
	const char *pin_root; /* bpffs directory holding the map pins */
	__u32 flow_table_size; /* entries in dt_flows */
	__u32 max_prefixes; /* entries per family in dt_prefix_v4 / dt_prefix_v6 */
	__u32 flow_hash_seed; /* fleet-wide: every edge router must use the same one */
};

/* Fill o with the defaults from detour_abi.h. */
void dt_xdp_opts__init(struct dt_xdp_opts *o);

struct dt_xdp;

/*
 * Check bpffs, open, size, load and pin. A verifier rejection prints the verifier log; a pinned
 * map that does not match the options (say, another flow-table size) is named, with the fix.
 */
int dt_xdp__load(const struct dt_xdp_opts *opts, struct dt_xdp **out);
/* Open the maps pinned under opts->pin_root without loading anything. Sizes are not checked. */
int dt_xdp__adopt(const struct dt_xdp_opts *opts, struct dt_xdp **out);
void dt_xdp__close(struct dt_xdp *x);

/* Kernel id of the loaded program; 0 for an adopted object, which has none. */
__u32 dt_xdp__prog_id(const struct dt_xdp *x);

/* ---- Attaching ----------------------------------------------------------------------------- */

enum dt_xdp_mode {
	DT_XDP_MODE_NATIVE = 0, /* in the driver (XDP_FLAGS_DRV_MODE) */
	DT_XDP_MODE_GENERIC = 1, /* after the skb is built (XDP_FLAGS_SKB_MODE) */
};
/* Named by dt_xdp_mode_name() in common/dt_names.h, which cannot include this header. */
_Static_assert((int)DT_XDP_MODE_NATIVE == (int)DT_XDP_MODE_VALUE_NATIVE &&
		       (int)DT_XDP_MODE_GENERIC == (int)DT_XDP_MODE_VALUE_GENERIC,
	       "dt_names.h's XDP mode values");

enum dt_xdp_path {
	DT_XDP_PATH_AUTO = 0, /* libxdp's dispatcher if the kernel allows it, else direct */
	DT_XDP_PATH_LIBXDP = 1, /* the libxdp dispatcher or nothing */
	DT_XDP_PATH_DIRECT = 2, /* one program through netlink, bpf_xdp_attach() */
};

struct dt_xdp_attach_opts {
	enum dt_xdp_mode mode;
	enum dt_xdp_path path;
};

/* What dt_xdp__attach() did. */
struct dt_xdp_attach_result {
	__u32 prog_id; /* the program now running on the interface */
	enum dt_xdp_path path; /* LIBXDP or DIRECT */
	bool fell_back; /* AUTO asked for libxdp, the kernel refused, DIRECT was used */
	bool replaced; /* an older detour_xdp was swapped out atomically */
};

/*
 * Attach to ifname. Never replaces a program that is not detour_xdp: that is -EEXIST, naming it.
 * An older detour_xdp in the same mode is replaced atomically. res may be NULL.
 */
int dt_xdp__attach(struct dt_xdp *x, const char *ifname, const struct dt_xdp_attach_opts *opts,
		   struct dt_xdp_attach_result *res);

/* What is attached to an interface, as bpf_xdp_query() reports it. */
struct dt_xdp_status {
	__u32 prog_id; /* 0: nothing attached */
	enum dt_xdp_mode mode;
	bool ours; /* detour_xdp directly, or inside a libxdp dispatcher */
	bool dispatcher; /* the attached program is libxdp's dispatcher */
	char prog_name[16]; /* BPF_OBJ_NAME_LEN */
};

int dt_xdp_query(const char *ifname, struct dt_xdp_status *st);
/* Remove detour_xdp from ifname (either path, either mode). -ENOENT if it is not attached. */
int dt_xdp_detach(const char *ifname);
/* Remove every Detour map pin under pin_root and the directory itself: all state is lost. */
int dt_xdp_unpin(const char *pin_root);

/* ---- Map writers, O(1) each (for_each_flow excepted) ---------------------------------------- */

/*
 * Both also increment dt_flow_gen, so that the program's per-CPU copies of flow-table entries
 * made before the write are not trusted after it (an atomic add on the mapped value).
 */
int dt_xdp__set_site_state(struct dt_xdp *x, __u32 site, enum dt_site_state state);
int dt_xdp__site_state(struct dt_xdp *x, __u32 site, enum dt_site_state *state);
int dt_xdp__set_site(struct dt_xdp *x, __u32 site, const struct dt_site *cfg);
int dt_xdp__set_failover(struct dt_xdp *x, __u32 home, const struct dt_failover_slots *slots);
/* addr in network order; host bits beyond prefixlen are cleared before the trie stores it. */
int dt_xdp__add_prefix_v4(struct dt_xdp *x, __be32 addr, __u32 prefixlen,
			  const struct dt_prefix_info *info);
int dt_xdp__del_prefix_v4(struct dt_xdp *x, __be32 addr, __u32 prefixlen);
int dt_xdp__add_prefix_v6(struct dt_xdp *x, const __u8 addr[16], __u32 prefixlen,
			  const struct dt_prefix_info *info);
int dt_xdp__del_prefix_v6(struct dt_xdp *x, const __u8 addr[16], __u32 prefixlen);
/* Make egress port `port` (the dt_site.egress_port key) send out of ifname. */
int dt_xdp__set_egress(struct dt_xdp *x, __u32 port, const char *ifname);
/* Counters of (site, reason) summed over every possible CPU; DT_SITE_NONE is the "none" row. */
int dt_xdp__read_counter(struct dt_xdp *x, __u32 site, __u32 reason, struct dt_counter *sum);

/*
 * Both classes of flows (dt_flows, then dt_flow_new). Return non-zero from the callback to stop;
 * dt_xdp__for_each_flow() then returns that value. -EAGAIN: the walk ran out of steps under
 * eviction churn and may have missed flows.
 */
int dt_xdp__for_each_flow(struct dt_xdp *x, dt_flow_visit_fn fn, void *ctx);
/* Remove one flow-table entry; an entry already gone is not an error. */
int dt_xdp__delete_flow(struct dt_xdp *x, const struct dt_flow_key *key);
/*
 * Every CPU's copy of every used slot of dt_tcp_seen, read in one batch lookup (slot by slot if
 * the kernel has no batch operations for it); 0, the callback's non-zero return, or -errno.
 */
int dt_xdp__for_each_tcp_seen(struct dt_xdp *x, dt_tcp_seen_visit_fn fn, void *ctx);

#endif /* DT_XDP_H */
