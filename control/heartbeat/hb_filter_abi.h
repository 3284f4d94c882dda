/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the heartbeat socket filter (ebpf/hb_sockfilter.bpf.c) and its loader (hb_filter.c) share:
 * the per-site entry of the filter's table and the reasons it counts. Included by the BPF
 * program too: kernel types only. The reasons are enum hb_reason's values (hb.h); hb_filter.c
 * asserts that they agree.
 */
#ifndef DT_HB_FILTER_ABI_H
#define DT_HB_FILTER_ABI_H

#include <linux/types.h>

#define HB_FILTER_SITES 64 /* DT_MAX_SITES */
#define HB_FILTER_SOURCES 16 /* HB_MAX_SOURCES */
#define HB_FILTER_KEYS 4 /* HB_MAX_KEYS_PER_SITE */
#define HB_FILTER_BEACONS 8 /* HB_MAX_BEACONS */
#define HB_FILTER_REASONS 15 /* HB_REASON_MAX */

/* The reasons the filter drops for, as enum hb_reason numbers them. */
#define HB_FILTER_R_SHORT 1
#define HB_FILTER_R_LONG 2
#define HB_FILTER_R_BAD_MAGIC 3
#define HB_FILTER_R_BAD_VERSION 4
#define HB_FILTER_R_UNKNOWN_SITE 5
#define HB_FILTER_R_UNKNOWN_KEY 12
#define HB_FILTER_R_WRONG_SOURCE 14

/* Heartbeat header fields the filter reads (docs/heartbeat.md), after the 8-byte UDP header. */
#define HB_FILTER_UDP_HDR 8
#define HB_FILTER_MAGIC 0x44544842u
#define HB_FILTER_V1_LEN 56
#define HB_FILTER_V2_LEN 64

/* One address or prefix a beacon may send from: addr & mask == net, word by word. */
struct hb_filter_src {
	__u8 beacon_id;
	__u8 v6; /* 0: IPv4, in net[0] and mask[0] */
	__u8 pad[2];
	__u32 net[4]; /* network byte order, host bits zero */
	__u32 mask[4];
};

/* A site as the filter sees it: its key ids and where its beacons may send from. */
struct hb_filter_site {
	__u8 n_keys; /* 0: no key, the site is unknown */
	__u8 sourced; /* bit b: beacon b may send from its entries in src[] only */
	__u8 n_sources;
	__u8 pad;
	__u16 key_id[HB_FILTER_KEYS];
	struct hb_filter_src src[HB_FILTER_SOURCES];
};

#endif /* DT_HB_FILTER_ABI_H */
