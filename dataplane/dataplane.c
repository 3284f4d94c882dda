// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engines detourd can run, by name. Adding one is a row here and a struct
 * dt_dataplane_engine beside the engine: nothing in the daemon asks which engine it drives.
 */
#include <errno.h>
#include <string.h>

#include "dataplane/dataplane.h"

const struct dt_dataplane_engine *const dt_dataplane_engines[] = {
	&dt_dataplane_engine_xdp,
	&dt_dataplane_engine_dpdk,
	NULL,
};

const struct dt_dataplane_engine *dt_dataplane__find(const char *name)
{
	const struct dt_dataplane_engine *const *e;

	for (e = dt_dataplane_engines; *e; e++)
		if (!strcmp((*e)->name, name))
			return *e;
	return NULL;
}

int dt_dataplane__open(const char *name, const struct dt_config *cfg,
		       const struct dt_dataplane_opts *o, struct dt_dataplane *dp, int *exit_code)
{
	const struct dt_dataplane_engine *e = dt_dataplane__find(name);

	return e ? e->open(cfg, o, dp, exit_code) : -ENOENT;
}
