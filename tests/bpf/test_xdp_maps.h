/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Filling the XDP program's maps with tests/bpf/test_scenario.h, as the control plane would: for
 * the in-kernel tests and the XDP/DPDK cross-check alike. Include after cmocka.h, test_scenario.h
 * and detour.skel.h.
 */
#ifndef DT_TEST_XDP_MAPS_H
#define DT_TEST_XDP_MAPS_H

#include <stdbool.h>
#include <string.h>
#include <bpf/libbpf.h>

static inline void xdp_map_put(struct bpf_map *map, const void *key, const void *val)
{
	int err = bpf_map__update_elem(map, key, bpf_map__key_size(map), val,
				       bpf_map__value_size(map), BPF_ANY);

	if (err)
		fail_msg("%s: update failed: %s", bpf_map__name(map), strerror(-err));
}

/*
 * What the control plane does after writing a site state or deleting a flow (dt_xdp_maps.c): the
 * program's cached copies of flow-table entries made before are no longer trusted.
 */
static inline void xdp_bump_flow_gen(struct detour *skel)
{
	struct dt_flow_gen g = { 0 };
	__u32 zero = 0;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.dt_flow_gen), &zero, &g), 0);
	g.gen++;
	xdp_map_put(skel->maps.dt_flow_gen, &zero, &g);
}

static inline void xdp_set_failover(struct detour *skel, __u32 home,
				    const struct dt_failover_entry *list, unsigned int n)
{
	static struct dt_failover_slots slots;

	assert_int_equal(dt_failover_slots__compute(&slots, home, list, n, SCENARIO_SEED), 0);
	xdp_map_put(skel->maps.dt_failover, &home, &slots);
}

static inline void xdp_add_prefix(struct detour *skel, const struct scenario_prefix *p)
{
	struct dt_prefix_info info = { .home_site = p->home, .flags = p->flags };

	if (strchr(p->addr, ':')) {
		struct dt_lpm_v6_key k = { .prefixlen = (__u32)p->len };

		inet_pton(AF_INET6, p->addr, k.addr);
		xdp_map_put(skel->maps.dt_prefix_v6, &k, &info);
	} else {
		struct dt_lpm_v4_key k = { .prefixlen = (__u32)p->len };

		inet_pton(AF_INET, p->addr, &k.addr);
		xdp_map_put(skel->maps.dt_prefix_v4, &k, &info);
	}
}

/*
 * Every scenario site (egress devmap entries pointing at @egress_ifindex), failover list and
 * prefix. @no_tx: no site egresses by the ingress port, so every reroute is a redirect.
 */
static inline void xdp_configure_scenario(struct detour *skel, __u32 egress_ifindex, bool no_tx)
{
	unsigned int i;
	__u32 id;

	for (id = 1; id < NSITES; id++) {
		struct dt_site s = scenario_site((int)id);

		if (no_tx)
			s.egress_ifindex = 1000 + id;
		xdp_map_put(skel->maps.dt_site, &id, &s);
		xdp_map_put(skel->maps.dt_egress, &id, &egress_ifindex);
	}
	for (i = 0; i < SCENARIO_N(scenario_failovers); i++)
		xdp_set_failover(skel, scenario_failovers[i].home, scenario_failovers[i].list,
				 scenario_failovers[i].n);
	for (i = 0; i < SCENARIO_N(scenario_prefixes); i++)
		xdp_add_prefix(skel, &scenario_prefixes[i]);
}

#endif /* DT_TEST_XDP_MAPS_H */
