/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * detourd as a DPDK application (`detourd --dataplane dpdk ... -- EAL_ARGS`): EAL start-up from
 * the arguments after `--`, the configuration's interfaces resolved to DPDK ports, the engine
 * (dataplane/dpdk/) behind struct dt_dataplane, and its workers on the worker lcores. The control
 * plane keeps running in detourd's event loop on the main lcore.
 */
#ifndef DT_DETOURD_DPDK_MODE_H
#define DT_DETOURD_DPDK_MODE_H

#include "dataplane.h"
#include "dt_config.h"

#define DETOURD_DPDK_MAX_MAPS 16

/* Exit codes of a start-up that failed in DPDK mode (1 is any other failure, 2 a usage error). */
#define DETOURD_EXIT_EAL 3 /* invalid EAL arguments, no hugepages, no worker lcore */
#define DETOURD_EXIT_PORT 4 /* an interface with no DPDK port, no exception port */

struct detourd_dpdk_opts {
	int eal_argc; /* eal_argv[0] is the program name */
	char **eal_argv;
	const char *exception_port; /* NULL: the first net_tap or virtio-user port */
	unsigned int workers; /* 0: one per worker lcore */
	/* --port NAME=DEVICE: a configuration name for a port with no kernel name (a PCI NIC) */
	const char *map_name[DETOURD_DPDK_MAX_MAPS];
	const char *map_dev[DETOURD_DPDK_MAX_MAPS];
	unsigned int n_maps;
};

/* Parse one --port NAME=DEVICE into @o. 0 or -EINVAL (message printed). */
int detourd_dpdk_opts__add_map(struct detourd_dpdk_opts *o, char *arg);

/*
 * Start the EAL and the engine, fill @dp. Workers are not running yet: the caller applies the
 * configuration first, then detourd_dpdk__launch(). On failure *exit_code says which kind.
 */
int detourd_dpdk__open(const struct dt_config *cfg, const struct detourd_dpdk_opts *o,
		       struct dt_dataplane *dp, int *exit_code);
int detourd_dpdk__launch(struct dt_dataplane *dp);
/* Stop the workers, close the engine and its ports, release the EAL. */
void detourd_dpdk__close(struct dt_dataplane *dp);

#endif /* DT_DETOURD_DPDK_MODE_H */
