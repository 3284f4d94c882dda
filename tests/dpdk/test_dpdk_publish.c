// SPDX-License-Identifier: GPL-2.0-only
/*
 * Publication while a worker runs: a worker lcore forwards a stream while the control plane
 * flips site states, replaces site delivery data, failover slots and IPv6 prefixes hundreds of
 * times. Every configuration of a site is stamped with its generation in both MACs and, for the
 * tunnel site, in both tunnel addresses: a frame built from half of one configuration and half of
 * another would carry two different stamps. Under ASan a reader that outlived a grace period
 * would be a use-after-free. Bounded in generations, packets and wall time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_packets.h" /* before the core headers: it includes <arpa/inet.h> */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_ring.h>

#include "dataplane/core/detour_abi.h"
#include "common/dt_clock.h"
#include "dpdk_fixture.h"

#define GENERATIONS 400
#define PACKETS_PER_GEN 48
#define WALL_LIMIT_S 60

static struct dt_site site_gen(int id, unsigned int gen)
{
	struct dt_site s = scenario_site(id);

	s.dst_mac[2] = s.src_mac[2] = (uint8_t)(gen >> 8);
	s.dst_mac[3] = s.src_mac[3] = (uint8_t)gen;
	if (id == IPIP6) {
		((uint8_t *)s.tunnel_dst)[14] = ((uint8_t *)s.tunnel_src)[14] = (uint8_t)(gen >> 8);
		((uint8_t *)s.tunnel_dst)[15] = ((uint8_t *)s.tunnel_src)[15] = (uint8_t)gen;
	}
	return s;
}

/* The generation a frame carries, or -1 when its stamps disagree. */
static int frame_gen(const struct fix_out *o)
{
	int gen = o->bytes[2] << 8 | o->bytes[3];

	if ((o->bytes[6 + 2] << 8 | o->bytes[6 + 3]) != gen)
		return -1;
	if (o->where == IPIP6) {
		const uint8_t *ip6 = o->bytes + 14;

		if ((ip6[8 + 14] << 8 | ip6[8 + 15]) != gen ||
		    (ip6[24 + 14] << 8 | ip6[24 + 15]) != gen)
			return -1;
	}
	return gen;
}

struct tally {
	unsigned long out, checked, home, torn;
	int min_gen[NSITES], max_gen[NSITES];
};

static void check_outputs(struct tally *t, unsigned int published)
{
	static struct fix_out o[256];
	unsigned int n, i;

	while ((n = fix_collect(o, 256))) {
		for (i = 0; i < n; i++) {
			int gen;

			t->out++;
			assert_true(o[i].where == HOME || o[i].where == SITE_A ||
				    o[i].where == SITE_B || o[i].where == IPIP6);
			if (o[i].where == HOME || o[i].where == SITE_B) {
				t->home++;
				continue;
			}
			gen = frame_gen(&o[i]);
			if (gen < 0 || (unsigned int)gen > published) {
				t->torn++;
				continue;
			}
			t->checked++;
		}
	}
}

static void inject_burst(unsigned int gen)
{
	uint8_t pkt[PKT_MAX];
	unsigned int i;

	for (i = 0; i < PACKETS_PER_GEN; i++) {
		struct pkt_spec s = { .family = i & 1 ? 6 : 4,
				      .proto = 6,
				      .tcp_flags = 0x10,
				      .src = i & 1 ? "2001:db8:ff::2" : "198.19.1.2",
				      .dst = i & 1 ? "2001:db8:21::7" : "198.18.10.7",
				      .sport = (uint16_t)(1000 +
							  (gen * PACKETS_PER_GEN + i) % 20000),
				      .dport = 443,
				      .payload = 20 };

		fix_inject(pkt, pkt_build(pkt, &s));
	}
}

/* One generation: new site data, new failover slots, a state flip, an IPv6 prefix swap. */
static void publish(unsigned int gen)
{
	const struct dt_failover_entry ab[] = { { SITE_A, 1 + gen % 3 }, { SITE_B, 1 } };
	struct dt_prefix_info info = { .home_site = HOME_V6TUN };
	struct dt_site a = site_gen(SITE_A, gen), t6 = site_gen(IPIP6, gen);
	uint8_t extra[16];

	assert_int_equal(dt_dpdk__set_site(fix.e, SITE_A, &a), 0);
	assert_int_equal(dt_dpdk__set_site(fix.e, IPIP6, &t6), 0);
	fix_set_failover(HOME, ab, 2);
	fix_set_state(HOME, gen % 4 == 3 ? DT_SITE_UP : DT_SITE_DOWN);
	fix_set_state(SITE_B, gen % 2 ? DT_SITE_UP : DT_SITE_DOWN);
	inet_pton(AF_INET6, "2001:db8:77::", extra);
	extra[6] = (uint8_t)gen; /* 2001:db8:77:XX00::/56, clear of every configured prefix */
	assert_int_equal(dt_dpdk__add_prefix(fix.e, DT_FAMILY_V6, extra, 56, &info), 0);
	assert_int_equal(dt_dpdk__del_prefix(fix.e, DT_FAMILY_V6, extra, 56), 0);
}

static void test_publication_under_traffic(void **state)
{
	uint64_t start_ns = dt_mono_ns();
	struct tally t = { 0 };
	unsigned long injected = 0;
	unsigned int gen, waits;

	fix_set_state(HOME_V6TUN, DT_SITE_DOWN);
	assert_int_equal(dt_dpdk__launch(fix.e), 0);
	for (gen = 1; gen <= GENERATIONS; gen++) {
		publish(gen);
		if (rte_ring_free_count(fix_port_rx_ring(0)) > PACKETS_PER_GEN) {
			inject_burst(gen);
			injected += PACKETS_PER_GEN;
		}
		check_outputs(&t, gen);
		if (dt_mono_ns() - start_ns > WALL_LIMIT_S * 1000000000ull)
			break;
	}
	/* let the worker finish the stream: bounded by packets, not by a sleep */
	for (waits = 0; t.out < injected && waits < 1000000; waits++)
		check_outputs(&t, GENERATIONS);
	dt_dpdk__stop(fix.e);
	check_outputs(&t, GENERATIONS);
	fprintf(stderr,
		"%u generations, %lu packets in, %lu out, %lu stamped and consistent, "
		"%lu home/B, %lu torn\n",
		gen - 1, injected, t.out, t.checked, t.home, t.torn);
	assert_int_equal(t.torn, 0);
	assert_int_equal(t.out, injected);
	assert_true(t.checked > injected / 4);
	assert_int_equal(dt_dpdk__tx_dropped(fix.e), 0);
}

static int group_setup(void **state)
{
	if (fix_eal_init("publish", "0,1") || fix_engine_open(1)) {
		fprintf(stderr, "dpdk engine: set-up failed (2 lcores needed)\n");
		return -1;
	}
	fix_configure();
	fix_reset();
	return 0;
}

static int group_teardown(void **state)
{
	fix_engine_close();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publication_under_traffic),
	};

	return cmocka_run_group_tests_name("dpdk_publish", tests, group_setup, group_teardown);
}
