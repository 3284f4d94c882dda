// SPDX-License-Identifier: GPL-2.0-only
/*
 * From configuration to dataplane: site delivery data, egress ports, failover slots and the
 * prefix tables; and SIGHUP reloads applied as a difference, new entries before removals, so that
 * no packet finds a gap. Site states are never written here: only the state machine does that.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "detourd.h"
#include "dt_log.h"
#include "failover_slots.h"

static int interface_mac(const char *ifname, __u8 mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/*
 * Our source MAC toward the site: the configured one, else the port's own. A DPDK port may have
 * no kernel interface behind it (a NIC bound to vfio-pci): the dataplane knows its MAC then.
 */
static int site_source_mac(const struct dt_dataplane *dp, const struct dt_config_site *s,
			   __u8 mac[6])
{
	int err;

	if (s->has_source_mac) {
		memcpy(mac, s->source_mac, 6);
		return 0;
	}
	err = dp->ops->port_mac ? dp->ops->port_mac(dp->impl, s->interface, mac) :
				  interface_mac(s->interface, mac);
	if (err)
		dt_log_err("site %s: interface %s: cannot read its MAC: %s", s->name, s->interface,
			   strerror(-err));
	return err;
}

static int site_delivery(const struct dt_dataplane *dp, const struct dt_config_site *s,
			 struct dt_site *out)
{
	memset(out, 0, sizeof(*out));
	out->delivery = s->delivery;
	out->tunnel_family = s->tunnel_family;
	out->mtu = s->mtu;
	out->egress_port = s->id;
	/* XDP_TX detection only: a DPDK port need not be a kernel interface */
	out->egress_ifindex = if_nametoindex(s->interface);
	if (!out->egress_ifindex && !dp->ops->port_mac) {
		dt_log_err("site %s: interface %s: %s", s->name, s->interface, strerror(errno));
		return -ENODEV;
	}
	memcpy(out->dst_mac, s->next_hop_mac, 6);
	memcpy(out->tunnel_src, s->tunnel_local, 16);
	memcpy(out->tunnel_dst, s->tunnel_remote, 16);
	return site_source_mac(dp, s, out->src_mac);
}

/* What one site's configuration becomes in the dataplane, worked out before anything is written. */
struct site_plan {
	struct dt_site site;
	bool has_slots;
	struct dt_failover_slots slots;
};

static int prepare_site(const struct detourd *d, const struct dt_config *cfg,
			const struct dt_config_site *s, struct site_plan *plan)
{
	int err = site_delivery(&d->dp, s, &plan->site);

	plan->has_slots = !err && s->n_failover;
	if (!plan->has_slots)
		return err;
	err = dt_failover_slots__compute(&plan->slots, s->id, s->failover, s->n_failover,
					 cfg->hash_seed);
	if (err)
		dt_log_err("site %s: failover slots: %s", s->name, strerror(-err));
	return err;
}

static int write_site(struct detourd *d, const struct dt_config_site *s,
		      const struct site_plan *plan)
{
	const struct dt_dataplane_ops *ops = d->dp.ops;
	int err = ops->set_egress(d->dp.impl, s->id, s->interface);

	err = err ?: ops->set_site(d->dp.impl, s->id, &plan->site);
	if (!err && plan->has_slots)
		err = ops->set_failover(d->dp.impl, s->id, &plan->slots);
	if (err)
		dt_log_err("site %s: dataplane: %s", s->name, strerror(-err));
	return err;
}

static int apply_site(struct detourd *d, const struct dt_config *cfg,
		      const struct dt_config_site *s)
{
	struct site_plan *plan = malloc(sizeof(*plan));
	int err;

	if (!plan)
		return -ENOMEM;
	err = prepare_site(d, cfg, s, plan);
	err = err ?: write_site(d, s, plan);
	free(plan);
	return err;
}

static int apply_prefix(struct detourd *d, const struct dt_config_prefix *p)
{
	struct dt_prefix_info info = { .home_site = p->home_site, .flags = p->flags };

	return d->dp.ops->add_prefix(d->dp.impl, p->family, p->addr, p->len, &info);
}

int detourd_apply_config(struct detourd *d, const struct dt_config *cfg)
{
	unsigned int i;
	int err;

	for (i = 0; i < cfg->n_sites; i++)
		if ((err = apply_site(d, cfg, &cfg->sites[i])))
			return err;
	for (i = 0; i < cfg->n_prefixes; i++)
		if ((err = apply_prefix(d, &cfg->prefixes[i]))) {
			dt_log_err("prefix at %s:%u: %s", cfg->source, cfg->prefixes[i].line,
				   strerror(-err));
			return err;
		}
	return 0;
}

int detourd_add_health_sites(struct detourd *d, const struct dt_config *cfg)
{
	unsigned int i;
	int err;

	for (i = 0; i < cfg->n_sites; i++) {
		const struct dt_config_site *s = &cfg->sites[i];
		struct health_site_config hc;

		health_site_config__init(&hc, s->id, s->name);
		hc.interval_ns = s->interval_ns;
		hc.multiplier = s->multiplier;
		hc.phi_threshold = cfg->phi_threshold;
		hc.hold_down_ns = s->hold_down_ns;
		hc.recovery_timeout_ns = s->recovery_timeout_ns;
		hc.beacons = s->beacons;
		hc.min_supplies = s->min_supplies;
		hc.damping = (struct health_damping_config){
			.penalty_per_flap = cfg->damping.penalty_per_flap,
			.suppress_threshold = cfg->damping.suppress_threshold,
			.reuse_threshold = cfg->damping.reuse_threshold,
			.half_life_ns = cfg->damping.half_life_ns,
			.max_hold_down_ns = cfg->damping.max_hold_down_ns,
		};
		err = health__add_site(d->health, &hc);
		if (err) {
			dt_log_err("site %s: detector: %s", s->name, strerror(-err));
			return err;
		}
	}
	return 0;
}

/*
 * The heartbeat sockets' kernel filter takes the receiver's keys and sources, swapped in at once.
 * If the new table cannot be made, the filter is emptied rather than left with the old sources
 * (which could refuse a beacon the new file allows): user space checks everything meanwhile.
 */
static void detourd_sync_filter(struct detourd *d)
{
	int err;

	if (!d->hb_filter || !(err = hb_filter__update(d->hb_filter, &d->rx)))
		return;
	hb_filter__clear(d->hb_filter);
	dt_log_warn("heartbeat filter: new table failed (%s): sources and keys checked in user "
		    "space only",
		    strerror(-err));
}

void detourd_heartbeat_counters(const struct detourd *d, uint64_t total[HB_REASON_MAX],
				uint64_t kernel[HB_REASON_MAX])
{
	unsigned int i;

	memset(kernel, 0, HB_REASON_MAX * sizeof(kernel[0]));
	if (d->hb_filter)
		hb_filter__drops(d->hb_filter, kernel);
	for (i = 0; i < HB_REASON_MAX; i++)
		total[i] = d->rx.counters[i] + kernel[i];
}

/* Where each site's beacons may send from: at start and on SIGHUP (same sites, validated). */
int detourd_set_sources(struct detourd *d, const struct dt_config *cfg)
{
	for (unsigned int i = 0; i < cfg->n_sites; i++) {
		const struct dt_config_site *s = &cfg->sites[i];
		int err = hb_receiver__set_sources(&d->rx, s->id, s->sources, s->n_sources);

		if (err) {
			dt_log_err("site %s: beacon_sources: %s", s->name, strerror(-err));
			return err;
		}
	}
	detourd_sync_filter(d);
	return 0;
}

/* ---- SIGHUP ----------------------------------------------------------------------------- */

/*
 * Prefixes: add and update first, then delete what is gone; LPM updates replace in place. Both
 * tables are sorted, so each lookup is a binary search: 10,000 prefixes reload in O(n log n).
 */
static int reload_prefixes(struct detourd *d, const struct dt_config *old,
			   const struct dt_config *new, unsigned int *changed)
{
	unsigned int i;
	int err;

	for (i = 0; i < new->n_prefixes; i++) {
		const struct dt_config_prefix *p = &new->prefixes[i];
		const struct dt_config_prefix *was = dt_config__find_prefix(old, p);

		if (was && was->home_site == p->home_site && was->flags == p->flags)
			continue;
		if ((err = apply_prefix(d, p)))
			return err;
		(*changed)++;
	}
	for (i = 0; i < old->n_prefixes; i++) {
		const struct dt_config_prefix *p = &old->prefixes[i];

		if (dt_config__find_prefix(new, p))
			continue;
		err = d->dp.ops->del_prefix(d->dp.impl, p->family, p->addr, p->len);
		if (err && err != -ENOENT)
			return err;
		(*changed)++;
	}
	return 0;
}

/* Everything a reload needs that can fail without writing anything: site plans, the keys. */
struct reload_plan {
	struct site_plan *site; /* one per site of the new file */
	struct hb_keyring *keys;
};

static void reload_plan__free(struct reload_plan *rp)
{
	free(rp->site);
	hb_keyring__free(rp->keys);
}

static int reload_prepare(struct detourd *d, const struct dt_config *new, struct reload_plan *rp)
{
	unsigned int i;
	int err;

	rp->site = calloc(new->n_sites ? new->n_sites : 1, sizeof(*rp->site));
	if (!rp->site)
		return -ENOMEM;
	for (i = 0; i < new->n_sites; i++)
		if ((err = prepare_site(d, new, &new->sites[i], &rp->site[i])))
			return err;
	return detourd_load_keys(new, &rp->keys);
}

/* A write failed part way: put the running configuration back, as far as the dataplane lets us. */
static void reload_roll_back(struct detourd *d, const struct dt_config *new)
{
	unsigned int i, changed = 0;
	int err = 0;

	for (i = 0; i < d->cfg->n_sites; i++)
		err = apply_site(d, d->cfg, &d->cfg->sites[i]) ?: err;
	err = reload_prefixes(d, new, d->cfg, &changed) ?: err;
	if (err)
		dt_log_err(
			"reload: rolling back failed too (%s): the dataplane holds a mix; restart "
			"detourd",
			strerror(-err));
	else
		dt_log_warn("reload: rolled back: the dataplane holds the running configuration");
}

static int reload_commit(struct detourd *d, const struct dt_config *new, struct reload_plan *rp,
			 unsigned int *prefixes)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < new->n_sites && !ret; i++)
		ret = write_site(d, &new->sites[i], &rp->site[i]);
	ret = ret ?: reload_prefixes(d, d->cfg, new, prefixes);
	if (ret) {
		reload_roll_back(d, new);
		return ret;
	}
	d->rx.keys = rp->keys; /* windows and epochs per site are kept */
	hb_keyring__free(d->keys);
	d->keys = rp->keys;
	rp->keys = NULL;
	health__set_blackout_hold(d->health, new->blackout_hold_ns);
	detourd_set_sources(d, new);
	ctl_server__set_idle_timeout(d->ctl, new->control_idle_ns);
	d->rx.max_skew_ns = new->max_skew_ns;
	return 0;
}

/*
 * SIGHUP, all or nothing: a file with an error, a key that needs a restart, or anything that
 * cannot be applied (an interface this edge lacks, a key file that does not load) is refused
 * before the first write; a dataplane write that fails after it is rolled back.
 */
int detourd_reload(struct detourd *d)
{
	struct reload_plan rp = { 0 };
	struct dt_config_error err;
	struct dt_config *new;
	unsigned int prefixes = 0;
	const char *what;
	int ret = dt_config__load(d->config_path, &new, &err);

	if (ret) {
		dt_log_err("reload: %s rejected, the running configuration stays:", d->config_path);
		dt_config_error__print(&err, stderr);
		return ret;
	}
	if ((what = dt_config__reload_blocker(d->cfg, new))) {
		dt_log_err("reload: %s changed; restart detourd to apply it. Nothing was changed.",
			   what);
		dt_config__free(new);
		return -EINVAL;
	}
	ret = reload_prepare(d, new, &rp);
	if (ret)
		dt_log_err(
			"reload: %s refused, nothing was changed: it cannot be applied here (%s)",
			d->config_path, strerror(-ret));
	else if ((ret = reload_commit(d, new, &rp, &prefixes)))
		dt_log_err("reload: applying %s failed: %s", d->config_path, strerror(-ret));
	reload_plan__free(&rp);
	if (ret) {
		dt_config__free(new);
		return ret;
	}
	dt_log_info("reload: %s applied (%u prefix changes)", d->config_path, prefixes);
	dt_config__free(d->cfg);
	d->cfg = new;
	d->policy_gen++;
	return 0;
}

/* Lazily: a burst of prefix changes costs one hash, when status or the metrics next ask. */
const char *detourd_policy_fingerprint(struct detourd *d)
{
	if (d->fingerprint_gen != d->policy_gen + 1) {
		dt_config__policy_fingerprint(d->cfg, d->policy_fingerprint);
		d->fingerprint_gen = d->policy_gen + 1;
	}
	return d->policy_fingerprint;
}
