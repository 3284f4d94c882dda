/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The heartbeat socket filter's loader: the BPF program (ebpf/hb_sockfilter.bpf.c) that every
 * heartbeat socket carries (hb_socket__open_filtered()), its table of sites, keys and sources,
 * and the counters of what it dropped. The table is built from a receiver's state and swapped
 * in whole (hb_filter__update()), so readers in the kernel see the old set or the new one.
 */
#ifndef DT_HB_FILTER_H
#define DT_HB_FILTER_H

#include <stdint.h>

#include "hb.h"

struct hb_filter;

/* Load the program and its maps. No table yet: only the header checks drop. 0 or -errno. */
int hb_filter__open(struct hb_filter **out);
/* The program, for SO_ATTACH_BPF. */
int hb_filter__prog_fd(const struct hb_filter *f);
/*
 * A new table from rx's keys (which sites and key ids exist) and each site's sources, swapped in
 * at once. 0 or -errno (the old table stays).
 */
int hb_filter__update(struct hb_filter *f, const struct hb_receiver *rx);
/* Empty the table: sources and keys are then checked in user space only. */
void hb_filter__clear(struct hb_filter *f);
/* Datagrams dropped in the kernel, by enum hb_reason, summed over CPUs. 0 or -errno. */
int hb_filter__drops(const struct hb_filter *f, uint64_t out[HB_REASON_MAX]);
void hb_filter__close(struct hb_filter *f);

#endif /* DT_HB_FILTER_H */
