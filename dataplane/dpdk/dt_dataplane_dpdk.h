/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The DPDK engine behind struct dt_dataplane (control/detourd/dataplane.h), so that detourd can
 * drive it exactly as it drives the XDP program.
 */
#ifndef DT_DATAPLANE_DPDK_H
#define DT_DATAPLANE_DPDK_H

#include "control/detourd/dataplane.h"
#include "dt_dpdk.h"

/* Start the engine (EAL, ports, tables) and fill @dp. Workers are not launched: call
 * dt_dataplane_dpdk__engine() then dt_dpdk__launch(). 0 or -errno. */
int dt_dataplane_dpdk__open(const struct dt_dpdk_opts *opts, struct dt_dataplane *dp);
/* Put an engine the caller opened behind @dp; dp->ops->close() then closes it. */
void dt_dataplane_dpdk__wrap(struct dt_dpdk *e, struct dt_dataplane *dp);
/* The engine behind a dataplane that dt_dataplane_dpdk__open() filled. */
struct dt_dpdk *dt_dataplane_dpdk__engine(const struct dt_dataplane *dp);

#endif /* DT_DATAPLANE_DPDK_H */
