// SPDX-License-Identifier: GPL-2.0-only
/*
 * The DPDK worker loop on rte_ring-backed ports: frames in on the client port, and every behaviour
 * of the XDP program checked from outside by which port a frame leaves by, its bytes, the flow
 * table and the counters. The behaviours both engines share are the cases and scenarios of
 * tests/fixtures/scenario_cases.c, run here on the worker; the engine's own follow.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_packets.h" /* before the core headers: it includes <arpa/inet.h> */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dataplane/core/detour_abi.h"
#include "dt_dataplane_dpdk.h"
#include "dpdk_fixture.h"
#include "scenario_cases.h"

#define SYN SCENARIO_TCP_SYN
#define ACK SCENARIO_TCP_ACK

static bool flow_get(const struct pkt_spec *s, struct dt_flow_state *v)
{
	struct dt_flow_key k = scenario_key_of(s);

	return fix_flow_get(&k, v);
}

/* ---- The engine the shared cases drive ---------------------------------------------------- */

static void set_site(__u32 id, const struct dt_site *s)
{
	assert_int_equal(dt_dpdk__set_site(fix.e, id, s), 0);
}

/* Which port a frame left by is the engine's verdict: the client's (0) is the one it came by. */
static struct scenario_out dpdk_engine_run(const uint8_t *pkt, unsigned int len)
{
	struct fix_out f = fix_run(pkt, len);
	struct scenario_out o = { .port = f.where > 0 ? f.where : -1, .len = f.len };

	o.verdict = f.where == FIX_EXCEPTION ? SCENARIO_TO_KERNEL :
		    f.where == 0	     ? SCENARIO_TX :
		    f.where > 0		     ? SCENARIO_REDIRECTED :
		    f.where == FIX_NOTHING   ? SCENARIO_DROPPED :
					       SCENARIO_NO_FRAME;
	if (f.where >= 0 || f.where == FIX_EXCEPTION)
		memcpy(o.bytes, f.bytes, f.len);
	return o;
}

static __u64 injected_clock_ns(void)
{
	return fix.now_ns;
}

static const struct scenario_engine dpdk_engine = {
	.kind = SCENARIO_DPDK,
	.set_state = fix_set_state,
	.set_site = set_site,
	.run = dpdk_engine_run,
	.counter = fix_counter,
	.flow_get = fix_flow_get,
	.flow_count = fix_flow_count,
	.clock_ns = injected_clock_ns,
	.min_frame_len = 1,
};

/* ---- The engine's own: what a port-owning engine does that XDP leaves to the kernel ------- */

static void test_unsent_mbufs_are_freed_and_counted(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.18.10.1", 11000, ACK);
	struct rte_ring *tx = fix_port_tx_ring(HOME);
	unsigned int free_before, n, i, room = rte_ring_free_count(tx);
	__u64 dropped = dt_dpdk__tx_dropped(fix.e);
	void *filler[4096];
	uint8_t pkt[PKT_MAX];
	struct fix_out o[8];

	/* fill HOME's TX ring with placeholders but 3 slots */
	for (i = 0; i + 3 < room; i++)
		filler[i] = &filler[i];
	assert_int_equal(rte_ring_enqueue_bulk(tx, filler, room - 3, NULL), room - 3);
	free_before = rte_mempool_avail_count(fix.pool);
	for (i = 0; i < 8; i++) {
		s.sport++;
		fix_inject(pkt, pkt_build(pkt, &s));
	}
	fix_poll();
	assert_int_equal(dt_dpdk__tx_dropped(fix.e) - dropped, 5);
	assert_int_equal(rte_mempool_avail_count(fix.pool), free_before - 3);
	n = rte_ring_dequeue_bulk(tx, filler, room - 3, NULL);
	assert_int_equal(n, room - 3);
	assert_int_equal(fix_collect(o, 8), 3);
	assert_int_equal(fix_counter(HOME, DT_REASON_HOME_UP), 8);
}

static void test_kernel_replies_leave_by_the_return_port(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.19.1.2", 12000, ACK);
	struct rte_mbuf *m = rte_pktmbuf_alloc(fix.pool);
	uint8_t pkt[PKT_MAX];
	unsigned int len = pkt_build(pkt, &s);
	struct fix_out o;

	memcpy(rte_pktmbuf_append(m, (uint16_t)len), pkt, len);
	assert_int_equal(rte_ring_enqueue(fix_port_rx_ring(FIX_EXCEPTION), m), 0);
	fix_poll();
	assert_int_equal(fix_collect(&o, 1), 1);
	assert_int_equal(o.where, 0); /* the client port */
	assert_memory_equal(o.bytes, pkt, len);
}

static void test_flow_api_lists_and_deletes(void **state)
{
	struct pkt_spec a = scenario_tcp4("198.18.10.20", 13000, SYN),
			b = scenario_tcp6("2001:db8:10::20", 1, SYN);
	struct dt_flow_key ka = scenario_key_of(&a);
	struct dt_flow_state f;
	uint8_t pkt[PKT_MAX];

	fix_set_state(HOME, DT_SITE_DOWN);
	fix_run(pkt, pkt_build(pkt, &a));
	fix_run(pkt, pkt_build(pkt, &b));
	assert_int_equal(fix_flow_count(), 2);
	assert_int_equal(dt_dpdk__delete_flow(fix.e, &ka), 0);
	fix_poll();
	assert_false(fix_flow_get(&ka, &f));
	assert_true(flow_get(&b, &f));
	assert_int_equal(fix_flow_count(), 1);
	assert_int_equal(dt_dpdk__for_each_flow(fix.e, NULL, NULL), -EINVAL);
}

static void test_refreshes_last_seen_by_the_injected_clock(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.18.10.21", 14000, SYN);
	uint8_t pkt[PKT_MAX];
	struct dt_flow_state f;
	__u64 t0 = fix.now_ns;

	fix_set_state(HOME, DT_SITE_DOWN);
	fix_run(pkt, pkt_build(pkt, &s));
	s.tcp_flags = ACK;
	fix_run(pkt, pkt_build(pkt, &s)); /* promoted, at t0 */
	fix.now_ns += DT_FLOW_REFRESH_NS - 1; /* inside the refresh interval: not written */
	fix_run(pkt, pkt_build(pkt, &s));
	assert_true(flow_get(&s, &f));
	assert_int_equal(f.last_seen_ns, t0);
	fix.now_ns += 2;
	fix_run(pkt, pkt_build(pkt, &s));
	assert_true(flow_get(&s, &f));
	assert_int_equal(f.last_seen_ns, fix.now_ns);
}

/*
 * A site state published between two packets of a moved flow is seen by the second: the flow's
 * target fails after the flow went there (and stayed for a packet), and its next packet goes to
 * the other failover site, as XDP, which decides every packet, sends it. A worker that caches
 * per-flow decisions must drop them on publication.
 */
static void test_site_state_published_between_packets_redecides_a_flow(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.18.10.22", 14100, SYN);
	uint8_t pkt[PKT_MAX];
	struct dt_flow_state f;
	int target, other, i;

	fix_set_state(HOME, DT_SITE_DOWN);
	target = fix_run(pkt, pkt_build(pkt, &s)).where;
	assert_true(target == SITE_A || target == SITE_B);
	other = target == SITE_A ? SITE_B : SITE_A;
	s.tcp_flags = ACK;
	for (i = 0; i < 2; i++)
		assert_int_equal(fix_run(pkt, pkt_build(pkt, &s)).where, target);
	fix_set_state((__u32)target, DT_SITE_DOWN);
	for (i = 0; i < 2; i++)
		assert_int_equal(fix_run(pkt, pkt_build(pkt, &s)).where, other);
	assert_true(flow_get(&s, &f));
	assert_int_equal(f.target_site, other);
	fix_set_state((__u32)target, DT_SITE_UP); /* moved flows stay where they went */
	assert_int_equal(fix_run(pkt, pkt_build(pkt, &s)).where, other);
	assert_int_equal(fix_counter(HOME, DT_REASON_REROUTED_ROUTE), 6);
}

/* The same with a prefix published between two packets: a more specific one, another home. */
static void test_prefix_published_between_packets_redecides_a_flow(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.18.10.23", 14200, ACK);
	uint8_t addr[16] = { 198, 18, 10, 23 };
	uint8_t pkt[PKT_MAX];
	int target;

	fix_set_state(HOME, DT_SITE_DOWN);
	fix_set_state(HOME_V4TUN, DT_SITE_DOWN);
	target = fix_run(pkt, pkt_build(pkt, &s)).where;
	assert_true(target == SITE_A || target == SITE_B);
	assert_int_equal(fix_run(pkt, pkt_build(pkt, &s)).where, target);
	fix_add_prefix("198.18.10.23", 32, HOME_V4TUN, 0);
	assert_int_equal(fix_run(pkt, pkt_build(pkt, &s)).where, IPIP4);
	assert_int_equal(fix_run(pkt, pkt_build(pkt, &s)).where, IPIP4);
	assert_int_equal(dt_dpdk__del_prefix(fix.e, DT_FAMILY_V4, addr, 32), 0);
	assert_int_equal(fix_counter(HOME_V4TUN, DT_REASON_REROUTED_IPIP), 2);
}

static void test_control_plane_rejects_bad_arguments(void **state)
{
	struct dt_prefix_info bad_home = { .home_site = DT_MAX_SITES };
	struct dt_prefix_info bad_flags = { .home_site = 1, .flags = 0x80 };
	struct dt_site bad_site = scenario_site(SITE_A);
	uint8_t addr[16] = { 198, 18, 77, 0 };
	struct dt_counter c;

	assert_int_equal(dt_dpdk__set_site_state(fix.e, DT_MAX_SITES, DT_SITE_UP), -EINVAL);
	assert_int_equal(dt_dpdk__set_site_state(fix.e, 1, DT_SITE_STATE_MAX), -EINVAL);
	bad_site.delivery = DT_DELIVERY_MAX;
	assert_int_equal(dt_dpdk__set_site(fix.e, SITE_A, &bad_site), -EINVAL);
	bad_site = scenario_site(SITE_A);
	bad_site.egress_port = DT_MAX_EGRESS_PORTS;
	assert_int_equal(dt_dpdk__set_site(fix.e, SITE_A, &bad_site), -EINVAL);
	assert_int_equal(dt_dpdk__set_failover(fix.e, DT_MAX_SITES, NULL), -EINVAL);
	assert_int_equal(dt_dpdk__add_prefix(fix.e, DT_FAMILY_V4, addr, 33, &bad_flags), -EINVAL);
	assert_int_equal(dt_dpdk__add_prefix(fix.e, DT_FAMILY_V4, addr, 24, &bad_home), -EINVAL);
	assert_int_equal(dt_dpdk__add_prefix(fix.e, DT_FAMILY_V4, addr, 24, &bad_flags), -EINVAL);
	assert_int_equal(dt_dpdk__add_prefix(fix.e, 5, addr, 24, &bad_flags), -EINVAL);
	assert_int_equal(dt_dpdk__del_prefix(fix.e, DT_FAMILY_V4, addr, 24), -ENOENT);
	assert_int_equal(dt_dpdk__del_prefix(fix.e, DT_FAMILY_V6, addr, 129), -EINVAL);
	assert_int_equal(dt_dpdk__set_egress(fix.e, 3, "net_ring_nosuch"), -ENODEV);
	assert_int_equal(dt_dpdk__set_egress(fix.e, DT_MAX_EGRESS_PORTS, fix_port_name(1)),
			 -EINVAL);
	assert_int_equal(dt_dpdk__read_counter(fix.e, 1, DT_REASON_MAX, &c), -EINVAL);
}

/* A prefix deleted stops matching; an IPv6 one too (the left-right copy is in step). */
static void test_prefix_delete_and_readd(void **state)
{
	struct pkt_spec v4 = scenario_tcp4("198.18.50.1", 15000, SYN),
			v6 = scenario_tcp6("2001:db8:50::1", 1, SYN);
	uint8_t a4[16] = { 198, 18, 50, 0 }, a6[16];
	struct dt_prefix_info info = { .home_site = HOME };
	uint8_t pkt[PKT_MAX];
	int round;

	inet_pton(AF_INET6, "2001:db8:50::", a6);
	for (round = 0; round < 3; round++) {
		assert_int_equal(dt_dpdk__add_prefix(fix.e, DT_FAMILY_V4, a4, 24, &info), 0);
		assert_int_equal(dt_dpdk__add_prefix(fix.e, DT_FAMILY_V6, a6, 48, &info), 0);
		assert_int_equal(fix_run(pkt, pkt_build(pkt, &v4)).where, HOME);
		assert_int_equal(fix_run(pkt, pkt_build(pkt, &v6)).where, HOME);
		assert_int_equal(dt_dpdk__del_prefix(fix.e, DT_FAMILY_V4, a4, 24), 0);
		assert_int_equal(dt_dpdk__del_prefix(fix.e, DT_FAMILY_V6, a6, 48), 0);
		assert_int_equal(fix_run(pkt, pkt_build(pkt, &v4)).where, FIX_EXCEPTION);
		assert_int_equal(fix_run(pkt, pkt_build(pkt, &v6)).where, FIX_EXCEPTION);
	}
}

static int count_visit(const struct dt_flow_key *k, const struct dt_flow_state *v, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

/* The ops table detourd drives reaches the same engine, with the XDP implementation's meanings. */
static void test_dataplane_ops(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.18.10.30", 16000, SYN);
	struct dt_dpdk_opts bad = { 0 };
	struct dt_dataplane dp = { 0 };
	struct dt_flow_key k = scenario_key_of(&s);
	struct json_object *desc, *last;
	uint8_t pkt[PKT_MAX];
	struct dt_counter c;
	int flows = 0;

	assert_int_equal(dt_dataplane_dpdk__open(&bad, &dp), -EINVAL);
	assert_null(dp.ops);
	dt_dataplane_dpdk__wrap(fix.e, &dp);
	assert_ptr_equal(dt_dataplane_dpdk__engine(&dp), fix.e);
	assert_string_equal(dp.ops->mode, "dpdk");
	assert_int_equal(dp.ops->set_site_state(dp.impl, HOME, DT_SITE_DOWN), 0);
	assert_true(fix_run(pkt, pkt_build(pkt, &s)).where != HOME);
	assert_int_equal(fix_counter(HOME, DT_REASON_REROUTED_ROUTE), 1);
	assert_int_equal(dp.ops->read_counter(dp.impl, HOME, DT_REASON_REROUTED_ROUTE, &c), 0);
	assert_true(c.packets >= 1); /* the ops read the whole count, fix_counter() a delta */
	assert_int_equal(dp.ops->for_each_flow(dp.impl, count_visit, &flows), 0);
	assert_int_equal(flows, 1);
	assert_int_equal(dp.ops->delete_flow(dp.impl, &k), 0);
	fix_poll();
	assert_int_equal(fix_flow_count(), 0);
	desc = dp.ops->describe(dp.impl);
	assert_int_equal(json_object_array_length(desc), NSITES + 1);
	last = json_object_array_get_idx(desc, NSITES);
	assert_string_equal(json_object_get_string(json_object_object_get(last, "role")),
			    "exception");
	assert_string_equal(json_object_get_string(json_object_object_get(last, "name")),
			    fix_port_name(FIX_EXCEPTION));
	json_object_put(desc);
}

static int setup(void **state)
{
	fix_reset();
	return 0;
}

static int group_setup(void **state)
{
	int err = fix_eal_init("worker", "0");

	if (err) {
		fprintf(stderr, "EAL: %s\n", strerror(-err));
		return -1;
	}
	err = fix_engine_open(1);
	if (err) {
		fprintf(stderr, "engine: %s\n", strerror(-err));
		return -1;
	}
	fix_configure();
	return 0;
}

static int group_teardown(void **state)
{
	fix_engine_close();
	return 0;
}

int main(void)
{
	static const struct CMUnitTest own[] = {
#define T(name) cmocka_unit_test_setup(name, setup)
		T(test_unsent_mbufs_are_freed_and_counted),
		T(test_kernel_replies_leave_by_the_return_port),
		T(test_flow_api_lists_and_deletes),
		T(test_refreshes_last_seen_by_the_injected_clock),
		T(test_site_state_published_between_packets_redecides_a_flow),
		T(test_prefix_published_between_packets_redecides_a_flow),
		T(test_control_plane_rejects_bad_arguments),
		T(test_prefix_delete_and_readd),
		T(test_dataplane_ops),
#undef T
	};
	return scenario_run_group("dpdk_worker", &dpdk_engine, setup, own, SCENARIO_N(own),
				  group_setup, group_teardown);
}
