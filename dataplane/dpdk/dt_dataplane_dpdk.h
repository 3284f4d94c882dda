/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The DPDK engine behind struct dt_dataplane (dataplane/dataplane.h), so that detourd can drive
 * it exactly as it drives the XDP program. detourd opens it through dt_dataplane_engine_dpdk
 * (dt_dpdk_eal.c: the EAL from its command line, its configuration's names resolved to ports).
 */
#ifndef DT_DATAPLANE_DPDK_H
#define DT_DATAPLANE_DPDK_H

#include "dataplane/dataplane.h"
#include "dt_dpdk.h"

/* Start the engine (EAL, ports, tables) and fill @dp. Workers are not launched: dp->ops->launch()
 * does that. 0 or -errno. */
int dt_dataplane_dpdk__open(const struct dt_dpdk_opts *opts, struct dt_dataplane *dp);
/*
 * The same in an EAL the caller started, which then belongs to the engine: dp->ops->close()
 * releases it after the engine. On failure the EAL stays the caller's.
 */
int dt_dataplane_dpdk__open_in_eal(const struct dt_dpdk_opts *opts, struct dt_dataplane *dp);
/* Put an engine the caller opened behind @dp; dp->ops->close() then closes it. */
void dt_dataplane_dpdk__wrap(struct dt_dpdk *e, struct dt_dataplane *dp);
/* The engine behind a dataplane that dt_dataplane_dpdk__open() filled. */
struct dt_dpdk *dt_dataplane_dpdk__engine(const struct dt_dataplane *dp);

#endif /* DT_DATAPLANE_DPDK_H */
