// SPDX-License-Identifier: GPL-2.0-only
/*
 * The DPDK engine as detourd opens it (`detourd --dataplane dpdk ... -- EAL_ARGS`): the EAL from
 * the arguments after `--`, the configuration's names resolved to DPDK ports, the engine opened
 * behind struct dt_dataplane (dt_dataplane_dpdk.c), its workers launched on the worker lcores by
 * dp->ops->launch(). The control plane keeps running in detourd's event loop on the main lcore.
 *
 * Which DPDK port a configuration name means, in this order:
 *   1. a --port NAME=DEVICE mapping (a PCI NIC has no kernel name, and ':' is not allowed in one);
 *   2. a DPDK port of that very name (net_af_xdp0, net_tap0, ...);
 *   3. the port whose device arguments say iface=NAME (net_af_xdp, net_af_packet, net_pcap): so
 *      the configuration an XDP edge runs with names the same ports in DPDK mode.
 * Every interface and every site's interface becomes an engine port; the exception port (toward
 * the kernel) is --exception-port, or the first net_tap / virtio-user port that is not one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "dataplane/dataplane.h"
#include "dt_log.h"
#include "dt_config.h"
#include "dt_dataplane_dpdk.h"

/* Exit codes of a start-up that failed here (1 is any other failure, 2 a usage error). */
#define DPDK_EXIT_EAL 3 /* invalid EAL arguments, no hugepages, no worker lcore */
#define DPDK_EXIT_PORT 4 /* an interface with no DPDK port, no exception port */

struct port_plan {
	const char *label[DT_DPDK_MAX_PORTS];
	char dev[DT_DPDK_MAX_PORTS][RTE_ETH_NAME_MAX_LEN];
	unsigned int n;
	char exception[RTE_ETH_NAME_MAX_LEN];
};

static int eal_start(const struct dt_dataplane_opts *o, int *exit_code)
{
	int err;

	if (rte_eal_init(o->argc, o->argv) >= 0)
		return 0;
	err = rte_errno ?: EINVAL;
	*exit_code = DPDK_EXIT_EAL;
	dt_log_err("dpdk: EAL start-up failed: %s", rte_strerror(err));
	if (err == ENOMEM || err == EACCES)
		dt_log_err(
			"dpdk: no usable hugepages? reserve them (scripts/setup.sh) or run the EAL "
			"with --no-huge -m 512");
	else if (err == EINVAL)
		dt_log_err(
			"dpdk: check the EAL arguments after \"--\" (dpdk-testpmd -h lists them)");
	return -err;
}

/* Does the port's device string carry iface=NAME (net_af_xdp0,iface=edge0,start_queue=0)? */
static bool port_has_iface(uint16_t id, const char *name)
{
	struct rte_eth_dev_info info;
	const struct rte_devargs *da;
	size_t n = strlen(name);
	const char *p;

	if (rte_eth_dev_info_get(id, &info) || !info.device)
		return false;
	da = rte_dev_devargs(info.device);
	for (p = da && da->args ? da->args : ""; (p = strstr(p, "iface=")); p++) {
		bool starts = p == da->args || p[-1] == ',';

		if (starts && !strncmp(p + 6, name, n) && (p[6 + n] == ',' || !p[6 + n]))
			return true;
	}
	return false;
}

static int resolve_port(const struct dt_dataplane_opts *o, const char *name, char *dev)
{
	const char *want = name;
	unsigned int i;
	uint16_t id;

	for (i = 0; i < o->n_maps; i++)
		if (!strcmp(o->map_name[i], name))
			want = o->map_dev[i];
	if (!rte_eth_dev_get_port_by_name(want, &id))
		return rte_eth_dev_get_name_by_port(id, dev);
	RTE_ETH_FOREACH_DEV(id)
		if (want == name && port_has_iface(id, name))
			return rte_eth_dev_get_name_by_port(id, dev);
	dt_log_err("interface %s: no DPDK port %s%s; give it to the EAL (--vdev "
		   "net_af_xdp0,iface=%s or -a PCI) or map it (--port %s=DEVICE)",
		   name, want == name ? "by that name or with iface=" : "", want, name, name);
	return -ENODEV;
}

static int plan_add(struct port_plan *pl, const struct dt_dataplane_opts *o, const char *name)
{
	unsigned int i;
	int err;

	for (i = 0; i < pl->n; i++)
		if (!strcmp(pl->label[i], name))
			return 0;
	if (pl->n == DT_DPDK_MAX_PORTS) {
		dt_log_err("interface %s: more than %d DPDK ports", name, DT_DPDK_MAX_PORTS);
		return -E2BIG;
	}
	err = resolve_port(o, name, pl->dev[pl->n]);
	if (!err)
		pl->label[pl->n++] = name;
	return err;
}

static bool plan_has_dev(const struct port_plan *pl, const char *dev)
{
	unsigned int i;

	for (i = 0; i < pl->n; i++)
		if (!strcmp(pl->dev[i], dev))
			return true;
	return false;
}

static int plan_exception(struct port_plan *pl, const struct dt_dataplane_opts *o)
{
	struct rte_eth_dev_info info;
	uint16_t id;

	if (o->exception_port)
		return resolve_port(o, o->exception_port, pl->exception);
	RTE_ETH_FOREACH_DEV(id) {
		if (rte_eth_dev_info_get(id, &info) ||
		    rte_eth_dev_get_name_by_port(id, pl->exception))
			continue;
		if ((!strcmp(info.driver_name, "net_tap") ||
		     !strcmp(info.driver_name, "net_virtio_user")) &&
		    !plan_has_dev(pl, pl->exception))
			return 0;
	}
	dt_log_err("dpdk: no exception port toward the kernel: give the EAL one "
		   "(--vdev net_tap0,iface=dtap0) or name it with --exception-port");
	return -ENODEV;
}

static int plan_ports(struct port_plan *pl, const struct dt_config *cfg,
		      const struct dt_dataplane_opts *o)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < cfg->n_interfaces && !err; i++)
		err = plan_add(pl, o, cfg->interfaces[i]);
	for (i = 0; i < cfg->n_sites && !err; i++)
		err = plan_add(pl, o, cfg->sites[i].interface);
	err = err ?: plan_exception(pl, o);
	for (i = 0; i < pl->n && !err; i++)
		dt_log_info("interface %s: DPDK port %s", pl->label[i], pl->dev[i]);
	if (!err)
		dt_log_info("dpdk: exception port %s, replies from the kernel leave by %s",
			    pl->exception, pl->label[0]);
	return err;
}

static int choose_workers(const struct dt_dataplane_opts *o, unsigned int *n)
{
	unsigned int avail = rte_lcore_count() - 1;

	*n = o->workers ?: avail;
	if (*n > DT_DPDK_MAX_WORKERS)
		*n = DT_DPDK_MAX_WORKERS;
	if (*n && *n <= avail)
		return 0;
	dt_log_err("dpdk: %u worker%s wanted, %u worker lcore%s given: give the EAL more (-l 0,1)",
		   *n, *n == 1 ? "" : "s", avail, avail == 1 ? "" : "s");
	return -ENODEV;
}

static int engine_open(const struct dt_config *cfg, const struct port_plan *pl,
		       unsigned int workers, struct dt_dataplane *dp)
{
	struct dt_dpdk_opts eo = {
		.n_ports = pl->n,
		.exception_port = pl->exception,
		.exception_return_port = pl->dev[0], /* the first client-facing interface */
		.n_workers = workers,
		.flow_hash_seed = (__u32)cfg->hash_seed, /* as the XDP program's: same choices */
		.flow_entries = cfg->flow_table_size,
	};
	unsigned int i;

	for (i = 0; i < pl->n; i++) {
		eo.ports[i] = pl->dev[i];
		eo.port_labels[i] = pl->label[i];
	}
	return dt_dataplane_dpdk__open_in_eal(&eo, dp);
}

static int dpdk_open(const struct dt_config *cfg, const struct dt_dataplane_opts *o,
		     struct dt_dataplane *dp, int *exit_code)
{
	struct port_plan pl = { 0 }; /* the engine copies every name it keeps */
	unsigned int workers = 0;
	int err = eal_start(o, exit_code);

	if (err)
		return err;
	err = choose_workers(o, &workers);
	if (err)
		*exit_code = DPDK_EXIT_EAL;
	else if ((err = plan_ports(&pl, cfg, o)))
		*exit_code = DPDK_EXIT_PORT;
	else if ((err = engine_open(cfg, &pl, workers, dp)))
		dt_log_err("dpdk: engine start-up failed: %s", strerror(-err));
	if (err)
		rte_eal_cleanup();
	else
		dt_log_info("dpdk: %u ports, %u workers on lcores after %u", pl.n, workers,
			    rte_get_main_lcore());
	return err;
}

/* The EAL's arguments go after `--`, where nothing can take them for detourd's own. */
static int dpdk_check_opts(const struct dt_dataplane_opts *o)
{
	if (o->argc <= 1 || o->after_dashdash)
		return 0;
	fprintf(stderr, "detourd: unexpected argument \"%s\" (EAL arguments go after --)\n",
		o->argv[1]);
	return -EINVAL;
}

const struct dt_dataplane_engine dt_dataplane_engine_dpdk = {
	.name = "dpdk",
	.check_opts = dpdk_check_opts,
	.open = dpdk_open,
};
