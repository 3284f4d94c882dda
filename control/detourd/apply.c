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

static int apply_site(struct detourd *d, const struct dt_config *cfg,
		      const struct dt_config_site *s)
{
	const struct dt_dataplane_ops *ops = d->dp.ops;
	struct dt_failover_slots *slots;
	struct dt_site site;
	int err = site_delivery(&d->dp, s, &site);

	err = err ?: ops->set_egress(d->dp.impl, s->id, s->interface);
	err = err ?: ops->set_site(d->dp.impl, s->id, &site);
	if (err || !s->n_failover)
		return err;
	slots = malloc(sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	err = dt_failover_slots__compute(slots, s->id, s->failover, s->n_failover, cfg->hash_seed);
	err = err ?: ops->set_failover(d->dp.impl, s->id, slots);
	free(slots);
	if (err)
		dt_log_err("site %s: failover slots: %s", s->name, strerror(-err));
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

static int reload_keys(struct detourd *d, const char *path)
{
	struct hb_keyring *keys;
	int err = hb_keyring__load(path, &keys);

	if (err)
		return err;
	d->rx.keys = keys; /* windows and epochs per site are kept */
	hb_keyring__free(d->keys);
	d->keys = keys;
	return 0;
}

int detourd_reload(struct detourd *d)
{
	struct dt_config_error err;
	struct dt_config *new;
	unsigned int i, prefixes = 0;
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
	for (i = 0; i < new->n_sites && !ret; i++)
		ret = apply_site(d, new, &new->sites[i]);
	ret = ret ?: reload_prefixes(d, d->cfg, new, &prefixes);
	ret = ret ?: reload_keys(d, new->key_file);
	ret = ret ?: health__set_blackout_hold(d->health, new->blackout_hold_ns);
	ret = ret ?: detourd_set_sources(d, new);
	ret = ret ?: ctl_server__set_idle_timeout(d->ctl, new->control_idle_ns);
	if (!ret)
		d->rx.max_skew_ns = new->max_skew_ns;
	if (ret) {
		dt_log_err("reload: applying %s failed half way: %s; the dataplane holds a mix, "
			   "send SIGHUP again after fixing the cause",
			   d->config_path, strerror(-ret));
		dt_config__free(new);
		return ret;
	}
	dt_log_info("reload: %s applied (%u prefix changes)", d->config_path, prefixes);
	dt_config__free(d->cfg);
	d->cfg = new;
	return 0;
}
