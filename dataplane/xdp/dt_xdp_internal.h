/* SPDX-License-Identifier: GPL-2.0-only */
/* What the loader's source files share and nobody else sees. */
#ifndef DT_XDP_INTERNAL_H
#define DT_XDP_INTERNAL_H

#include <limits.h>

#include "dt_xdp.h"

#define DT_XDP_PROG_NAME "detour_xdp"
#define DT_XDP_DISPATCHER_NAME "xdp_dispatcher" /* libxdp's multi-program dispatcher */

/* Every map of detour.bpf.c, in the order of dt_xdp_map_names[]. */
enum dt_xdp_map_id {
	DT_MAP_PREFIX_V4,
	DT_MAP_PREFIX_V6,
	DT_MAP_SITE_STATE,
	DT_MAP_SITE,
	DT_MAP_FAILOVER,
	DT_MAP_FLOWS,
	DT_MAP_EGRESS,
	DT_MAP_COUNTERS,
	DT_MAP_FLOW_GEN,
	DT_MAP_FLOW_NEW,
	DT_MAP_TCP_SEEN,
	DT_MAP_COUNT,
};

extern const char *const dt_xdp_map_names[DT_MAP_COUNT];

struct detour;

struct dt_xdp {
	struct detour *skel; /* loaded by dt_xdp__load(); only opened by dt_xdp__adopt() */
	struct dt_xdp_opts opts; /* opts.pin_root points at pin_root below */
	char pin_root[PATH_MAX];
	int map_fd[DT_MAP_COUNT];
	bool adopted; /* map_fd[] came from bpf_obj_get() and are ours to close */
	int prog_fd; /* -1 when adopted */
	__u32 prog_id;
	__u32 flow_max_entries; /* bounds dt_xdp__for_each_flow() */
	struct dt_flow_gen *flow_gen; /* dt_flow_gen mapped into memory: bumped by an atomic add */
	int freplace_probe; /* 0 not yet probed, 1 the kernel takes freplace, else -errno */
};

/* Map dt_flow_gen (BPF_F_MMAPABLE) into x->flow_gen once its fd is known; 0 or -errno. */
int dt_xdp_map_flow_gen(struct dt_xdp *x);
/* Open the skeleton with the pin root, the seed and the map sizes of opts; nothing is loaded. */
int dt_xdp_open_skel(const struct dt_xdp_opts *opts, struct detour **out);
/* Check every pin under pin_root against skel's map definitions before libbpf reuses them. */
int dt_xdp_check_pins(struct detour *skel, const char *pin_root);
/* -ENOENT with the mount hint unless pin_root's parent directory is on bpffs. */
int dt_xdp_check_bpffs(const char *pin_root);
/*
 * After an attach to @ifname: warn when it is a veth whose peer offloads TX checksums (every
 * rerouted packet would leave with an unfinished checksum), or note it when the peer is in
 * another network namespace and cannot be checked (dt_xdp_veth.c).
 */
void dt_xdp_check_veth_csum(const char *ifname, int ifindex);
/* Route libbpf's and libxdp's messages to dt_log, with the loader's own lines. */
void dt_xdp_hook_libs(void);
/* While set, libbpf warnings become debug lines: for probes that are expected to fail. */
void dt_xdp_quiet_libs(bool quiet);

#endif /* DT_XDP_INTERNAL_H */
