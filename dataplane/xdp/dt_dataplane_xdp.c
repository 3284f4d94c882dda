// SPDX-License-Identifier: GPL-2.0-only
/*
 * The XDP dataplane behind struct dt_dataplane: the detour_xdp program and its pinned maps,
 * through the loader library beside this file (dt_xdp.h).
 *
 * Start-up loads the program with LIBBPF_PIN_BY_NAME maps, so when a previous daemon left pinned
 * maps behind they are reused as they are — flows, site states and counters survive a restart —
 * and attaching swaps the program on each interface atomically. Nothing here ever writes a
 * site state on its own: states change only through transitions of the state machine.
 *
 * Launch has nothing to start: the program forwards from the moment open attaches it. Until the
 * configuration is written it works from the maps it adopted (the previous daemon's state, so a
 * restart never stops forwarding) or, on a first start, passes every packet to the kernel.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <json-c/json.h>

#include "dataplane/dataplane.h"
#include "dt_log.h"
#include "dt_config.h"
#include "dt_xdp.h"

#define XDP_MAX_IFS DT_CONFIG_MAX_INTERFACES

struct xdp_dataplane {
	struct dt_xdp *x;
	unsigned int n_ifs;
	char ifname[XDP_MAX_IFS][DT_CONFIG_IFNAME_MAX];
	struct dt_xdp_attach_result attached[XDP_MAX_IFS];
	enum dt_xdp_mode mode;
	bool fresh; /* no pin existed before this start: a failed start leaves nothing behind */
	char pin_root[DT_CONFIG_PATH_MAX];
};

static int xdp_launch(void *dp)
{
	return 0;
}

static int xdp_set_site_state(void *dp, __u32 site, enum dt_site_state state)
{
	return dt_xdp__set_site_state(((struct xdp_dataplane *)dp)->x, site, state);
}

static int xdp_set_site(void *dp, __u32 site, const struct dt_site *cfg)
{
	return dt_xdp__set_site(((struct xdp_dataplane *)dp)->x, site, cfg);
}

static int xdp_set_failover(void *dp, __u32 home, const struct dt_failover_slots *slots)
{
	return dt_xdp__set_failover(((struct xdp_dataplane *)dp)->x, home, slots);
}

static int xdp_add_prefix(void *dp, __u8 family, const __u8 *addr, __u32 len,
			  const struct dt_prefix_info *info)
{
	struct dt_xdp *x = ((struct xdp_dataplane *)dp)->x;
	__be32 a4;

	if (family == DT_FAMILY_V6)
		return dt_xdp__add_prefix_v6(x, addr, len, info);
	memcpy(&a4, addr, 4);
	return dt_xdp__add_prefix_v4(x, a4, len, info);
}

static int xdp_del_prefix(void *dp, __u8 family, const __u8 *addr, __u32 len)
{
	struct dt_xdp *x = ((struct xdp_dataplane *)dp)->x;
	__be32 a4;

	if (family == DT_FAMILY_V6)
		return dt_xdp__del_prefix_v6(x, addr, len);
	memcpy(&a4, addr, 4);
	return dt_xdp__del_prefix_v4(x, a4, len);
}

static int xdp_set_egress(void *dp, __u32 port, const char *ifname)
{
	return dt_xdp__set_egress(((struct xdp_dataplane *)dp)->x, port, ifname);
}

static int xdp_read_counter(void *dp, __u32 site, __u32 reason, struct dt_counter *sum)
{
	return dt_xdp__read_counter(((struct xdp_dataplane *)dp)->x, site, reason, sum);
}

static int xdp_for_each_flow(void *dp, dt_flow_visit_fn fn, void *ctx)
{
	return dt_xdp__for_each_flow(((struct xdp_dataplane *)dp)->x, fn, ctx);
}

static int xdp_for_each_tcp_seen(void *dp, dt_tcp_seen_visit_fn fn, void *ctx)
{
	return dt_xdp__for_each_tcp_seen(((struct xdp_dataplane *)dp)->x, fn, ctx);
}

static int xdp_delete_flow(void *dp, const struct dt_flow_key *key)
{
	return dt_xdp__delete_flow(((struct xdp_dataplane *)dp)->x, key);
}

static const char *path_name(enum dt_xdp_path p)
{
	return p == DT_XDP_PATH_LIBXDP ? "libxdp" : "direct";
}

static struct json_object *xdp_describe(void *dp)
{
	struct xdp_dataplane *d = dp;
	struct json_object *arr = json_object_new_array();
	unsigned int i;

	for (i = 0; i < d->n_ifs; i++) {
		struct json_object *o = json_object_new_object();
		struct dt_xdp_status st;
		bool attached = !dt_xdp_query(d->ifname[i], &st) &&
				(st.ours || st.prog_id == dt_xdp__prog_id(d->x));

		json_object_object_add(o, "name", json_object_new_string(d->ifname[i]));
		json_object_object_add(o, "mode",
				       json_object_new_string(dt_xdp_mode_name(d->mode)));
		json_object_object_add(
			o, "attach",
			json_object_new_string(attached ? path_name(d->attached[i].path) :
							  "detached"));
		json_object_object_add(o, "prog_id",
				       json_object_new_int64(attached ? st.prog_id : 0));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void xdp_close(void *dp)
{
	struct xdp_dataplane *d = dp;

	/* Leaves the program attached and the maps pinned: that is the hitless restart. */
	dt_xdp__close(d->x);
	free(d);
}

/* Undo this start: what nobody had before it (a first start), or nothing (a restart). */
static void undo_start(struct xdp_dataplane *d)
{
	unsigned int i;

	if (!d->fresh) {
		dt_log_warn(
			"start failed: detour_xdp stays attached with the maps it adopted under "
			"%s, forwarding on the last state (as after a SIGKILL)",
			d->pin_root);
		return;
	}
	for (i = 0; i < d->n_ifs; i++)
		if (!dt_xdp_detach(d->ifname[i]))
			dt_log_warn("start failed: detour_xdp detached from %s again",
				    d->ifname[i]);
	if (!dt_xdp_unpin(d->pin_root))
		dt_log_warn("start failed: the pins it made under %s are removed", d->pin_root);
}

static void xdp_abandon(void *dp)
{
	struct xdp_dataplane *d = dp;

	dt_xdp__close(d->x);
	undo_start(d);
	free(d);
}

static const struct dt_dataplane_ops xdp_ops = {
	.mode = "xdp",
	.lock_memory = true,
	.on_stop = "the XDP program keeps forwarding",
	.launch = xdp_launch,
	.set_site_state = xdp_set_site_state,
	.set_site = xdp_set_site,
	.set_failover = xdp_set_failover,
	.add_prefix = xdp_add_prefix,
	.del_prefix = xdp_del_prefix,
	.set_egress = xdp_set_egress,
	.read_counter = xdp_read_counter,
	.for_each_flow = xdp_for_each_flow,
	.delete_flow = xdp_delete_flow,
	.for_each_tcp_seen = xdp_for_each_tcp_seen,
	.describe = xdp_describe,
	.close = xdp_close,
	.abandon = xdp_abandon,
};

static int attach_all(struct xdp_dataplane *d, const struct dt_config *cfg)
{
	struct dt_xdp_attach_opts ao = { .mode = d->mode, .path = DT_XDP_PATH_AUTO };
	unsigned int i;
	int err;

	for (i = 0; i < cfg->n_interfaces; i++) {
		snprintf(d->ifname[i], sizeof(d->ifname[i]), "%s", cfg->interfaces[i]);
		err = dt_xdp__attach(d->x, d->ifname[i], &ao, &d->attached[i]);
		if (err)
			return err; /* dt_xdp__attach() said which interface and why */
		d->n_ifs = i + 1;
		dt_log_info("interface %s: detour_xdp attached (prog %u, %s%s%s)", d->ifname[i],
			    d->attached[i].prog_id, path_name(d->attached[i].path),
			    d->attached[i].fell_back ? ", libxdp dispatcher unavailable" : "",
			    d->attached[i].replaced ? ", replaced the previous program" : "");
	}
	return 0;
}

static bool dir_has_entries(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	bool any = false;

	while (dir && !any && (e = readdir(dir)))
		any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (dir)
		closedir(dir);
	return any;
}

static int xdp_open(const struct dt_config *cfg, const struct dt_dataplane_opts *opts,
		    struct dt_dataplane *dp, int *exit_code)
{
	struct xdp_dataplane *d = calloc(1, sizeof(*d));
	struct dt_xdp_opts o;
	int err;

	if (!d)
		return -ENOMEM;
	dt_xdp_opts__init(&o);
	o.pin_root = cfg->pin_root;
	o.flow_table_size = cfg->flow_table_size;
	o.flow_hash_seed = (__u32)cfg->hash_seed;
	d->mode = cfg->xdp_mode == DT_CONFIG_XDP_GENERIC ? DT_XDP_MODE_GENERIC : DT_XDP_MODE_NATIVE;
	snprintf(d->pin_root, sizeof(d->pin_root), "%s", cfg->pin_root);
	d->fresh = !dir_has_entries(cfg->pin_root);
	err = dt_xdp__load(&o, &d->x);
	err = err ?: attach_all(d, cfg);
	if (err) {
		if (d->x)
			dt_xdp__close(d->x);
		undo_start(d);
		free(d);
		return err;
	}
	dp->ops = &xdp_ops;
	dp->impl = d;
	return 0;
}

/* Operands belong to an engine that takes them: the DPDK EAL's, after `--`. */
static int xdp_check_opts(const struct dt_dataplane_opts *o)
{
	if (o->argc <= 1)
		return 0;
	fprintf(stderr, "detourd: unexpected argument \"%s\"%s\n", o->argv[1],
		o->after_dashdash ? " (EAL arguments need --dataplane dpdk)" : "");
	return -EINVAL;
}

const struct dt_dataplane_engine dt_dataplane_engine_xdp = {
	.name = "xdp",
	.check_opts = xdp_check_opts,
	.open = xdp_open,
};
