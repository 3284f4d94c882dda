// SPDX-License-Identifier: GPL-2.0-only
/*
 * The DPDK worker loop on rte_ring-backed ports: frames in on the client port, and every behaviour
 * of the XDP program checked from outside by which port a frame leaves by, its bytes, the flow
 * table and the counters. The configuration is tests/bpf/test_detour.c's.
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
#include "golden_packets.h"

#define SYN SCENARIO_TCP_SYN
#define ACK SCENARIO_TCP_ACK

static bool flow_get(const struct pkt_spec *s, struct dt_flow_state *v)
{
	struct dt_flow_key k = scenario_key_of(s);

	return fix_flow_get(&k, v);
}

/* The site a frame was rewritten for, by its next-hop MAC; -1 when it is not a site's. */
static int mac_site(const struct fix_out *o)
{
	if (o->bytes[0] != 0x02 || o->bytes[1] != 0x5e)
		return -1;
	return o->bytes[5];
}

static void expect_exception_untouched(const uint8_t *pkt, unsigned int len)
{
	struct fix_out o = fix_run(pkt, len);

	assert_int_equal(o.where, FIX_EXCEPTION);
	assert_int_equal(o.len, len);
	assert_memory_equal(o.bytes, pkt, len);
}

/* Route rewrite toward @target: its port, its MACs, VLANs gone, TTL - 1, the rest as it came. */
static void check_routed(const struct pkt_spec *s, const uint8_t *in, unsigned int in_len,
			 const struct fix_out *o, int target)
{
	unsigned int l2_in = 14 + 4 * s->vlans;
	const uint8_t *ip = o->bytes + 14;
	struct dt_site site = scenario_site(target);

	assert_int_equal(o->where, target);
	assert_int_equal(mac_site(o), target);
	assert_int_equal(o->len, in_len - 4 * s->vlans);
	assert_memory_equal(o->bytes + 6, site.src_mac, 6);
	assert_int_equal(get16(o->bytes + 12), s->family == 4 ? 0x0800 : 0x86dd);
	if (s->family == 4) {
		assert_int_equal(ip[8], in[l2_in + 8] - 1);
		assert_true(ipv4_header_ok(ip));
		assert_memory_equal(ip, in + l2_in, 8);
		assert_memory_equal(ip + 12, in + l2_in + 12, in_len - l2_in - 12);
	} else {
		assert_int_equal(ip[7], in[l2_in + 7] - 1);
		assert_memory_equal(ip, in + l2_in, 7);
		assert_memory_equal(ip + 8, in + l2_in + 8, in_len - l2_in - 8);
	}
}

static void check_encap(const struct pkt_spec *s, const uint8_t *in, unsigned int in_len,
			const struct fix_out *o, int outer_family)
{
	unsigned int l2_in = 14 + 4 * s->vlans, inner_len = in_len - l2_in;
	unsigned int outer_len = outer_family == 4 ? 20 : 40;
	const uint8_t *outer = o->bytes + 14, *inner = outer + outer_len;
	int site = outer_family == 4 ? IPIP4 : IPIP6;
	uint8_t dst[16];

	assert_int_equal(o->where, site);
	assert_int_equal(mac_site(o), site);
	assert_int_equal(o->len, 14 + outer_len + inner_len);
	assert_int_equal(get16(o->bytes + 12), outer_family == 4 ? 0x0800 : 0x86dd);
	if (outer_family == 4) {
		inet_pton(AF_INET, "198.18.200.4", dst);
		assert_int_equal(outer[0], 0x45);
		assert_int_equal(get16(outer + 2), 20 + inner_len);
		assert_int_equal(outer[9], s->family == 4 ? 4 : 41);
		assert_true(ipv4_header_ok(outer));
		assert_memory_equal(outer + 16, dst, 4);
	} else {
		inet_pton(AF_INET6, "2001:db8:200::5", dst);
		assert_int_equal(outer[0] >> 4, 6);
		assert_int_equal(get16(outer + 4), inner_len);
		assert_int_equal(outer[6], s->family == 4 ? 4 : 41);
		assert_memory_equal(outer + 24, dst, 16);
	}
	if (s->family == 4) {
		assert_int_equal(inner[8], in[l2_in + 8] - 1);
		assert_true(ipv4_header_ok(inner));
		assert_memory_equal(inner + 12, in + l2_in + 12, inner_len - 12);
	} else {
		assert_int_equal(inner[7], in[l2_in + 7] - 1);
		assert_memory_equal(inner + 8, in + l2_in + 8, inner_len - 8);
	}
}

/* ---- Healthy paths ------------------------------------------------------------------------- */

static void test_no_prefix_goes_to_the_exception_port(void **state)
{
	struct pkt_spec v4 = scenario_tcp4("198.18.99.1", 1000, SYN),
			v6 = scenario_tcp6("2001:db8:99::1", 1000, SYN);
	uint8_t pkt[PKT_MAX];

	fix_set_state(HOME, DT_SITE_DOWN);
	expect_exception_untouched(pkt, pkt_build(pkt, &v4));
	expect_exception_untouched(pkt, pkt_build(pkt, &v6));
	assert_int_equal(fix_counter(DT_SITE_NONE, DT_REASON_NO_PREFIX), 2);
	assert_int_equal(fix_flow_count(), 0);
}

/* The engine owns its ports: a healthy home's traffic is routed to the home's next hop. */
static void test_home_up_is_forwarded_home(void **state)
{
	struct pkt_spec specs[] = { scenario_tcp4("198.18.10.1", 1000, SYN),
				    scenario_tcp6("2001:db8:10::1", 1, SYN),
				    scenario_tcp4("198.18.10.1", 1001, ACK) };
	uint8_t pkt[PKT_MAX];
	unsigned int i;

	for (i = 0; i < 3; i++) {
		unsigned int len;
		struct fix_out o;

		specs[i].vlans = (int)i;
		len = pkt_build(pkt, &specs[i]);
		o = fix_run(pkt, len);
		check_routed(&specs[i], pkt, len, &o, HOME);
	}
	assert_int_equal(fix_counter(HOME, DT_REASON_HOME_UP), 3);
	assert_int_equal(fix_flow_count(), 0);
}

/* ---- Home DOWN ----------------------------------------------------------------------------- */

static void test_home_down_reroutes_route_mode(void **state)
{
	struct pkt_spec specs[] = {
		scenario_tcp4("198.18.10.1", 1000, SYN),
		scenario_tcp4("198.18.10.2", 1001, ACK),
		scenario_tcp6("2001:db8:10::1", 1002, SYN),
		scenario_tcp6("2001:db8:10::2", 1003, ACK),
	};
	uint8_t pkt[PKT_MAX];
	unsigned int i, vlans;

	fix_set_state(HOME, DT_SITE_DOWN);
	for (i = 0; i < 4; i++) {
		for (vlans = 0; vlans <= 2; vlans++) {
			struct dt_flow_state f;
			struct fix_out o;
			unsigned int len;

			specs[i].vlans = (int)vlans;
			specs[i].sport += 10;
			len = pkt_build(pkt, &specs[i]);
			o = fix_run(pkt, len);
			assert_true(flow_get(&specs[i], &f));
			assert_true(f.target_site == SITE_A || f.target_site == SITE_B);
			assert_int_equal(f.home_site, HOME);
			assert_int_equal(f.last_seen_ns, fix.now_ns);
			check_routed(&specs[i], pkt, len, &o, f.target_site);
		}
	}
	assert_int_equal(fix_counter(HOME, DT_REASON_REROUTED_ROUTE), 12);
}

static void test_moved_flows_stick_when_a_site_returns(void **state)
{
	uint8_t pkt[PKT_MAX];
	struct pkt_spec s[64];
	int i, moved_back = 0;

	fix_set_state(HOME, DT_SITE_DOWN);
	fix_set_state(SITE_A, DT_SITE_DOWN);
	for (i = 0; i < 64; i++) {
		s[i] = scenario_tcp4("198.18.10.7", (uint16_t)(3000 + i), SYN);
		assert_int_equal(fix_run(pkt, pkt_build(pkt, &s[i])).where, SITE_B);
	}
	fix_set_state(SITE_A, DT_SITE_UP);
	for (i = 0; i < 64; i++) {
		s[i].tcp_flags = ACK;
		moved_back += fix_run(pkt, pkt_build(pkt, &s[i])).where != SITE_B;
	}
	assert_int_equal(moved_back, 0);
}

static void test_home_down_reroutes_ipip_all_four(void **state)
{
	struct {
		struct pkt_spec s;
		int outer;
	} cases[] = {
		{ scenario_tcp4("198.18.20.1", 4000, SYN), 4 },
		{ scenario_tcp6("2001:db8:20::1", 4001, SYN), 4 },
		{ scenario_tcp4("198.18.21.1", 4002, SYN), 6 },
		{ scenario_tcp6("2001:db8:21::1", 4003, SYN), 6 },
	};
	uint8_t pkt[PKT_MAX];
	unsigned int i;

	fix_set_state(HOME_V4TUN, DT_SITE_DOWN);
	fix_set_state(HOME_V6TUN, DT_SITE_DOWN);
	for (i = 0; i < 4; i++) {
		unsigned int len;
		struct fix_out o;

		cases[i].s.vlans = (int)(i % 3);
		len = pkt_build(pkt, &cases[i].s);
		o = fix_run(pkt, len);
		check_encap(&cases[i].s, pkt, len, &o, cases[i].outer);
	}
	assert_int_equal(fix_counter(HOME_V4TUN, DT_REASON_REROUTED_IPIP), 2);
	assert_int_equal(fix_counter(HOME_V6TUN, DT_REASON_REROUTED_IPIP), 2);
}

/* ---- Drain and recovery --------------------------------------------------------------------- */

static void test_draining_moves_new_and_keeps_established(void **state)
{
	struct pkt_spec syn = scenario_tcp4("198.18.10.5", 5000, SYN),
			est = scenario_tcp4("198.18.10.5", 5001, ACK);
	struct pkt_spec syn6 = scenario_tcp6("2001:db8:10::5", 5002, SYN);
	struct pkt_spec est6 = scenario_tcp6("2001:db8:10::5", 5003, ACK);
	uint8_t pkt[PKT_MAX];
	struct dt_flow_state f;
	struct fix_out o;
	unsigned int len;

	fix_set_state(HOME, DT_SITE_DRAINING);
	assert_true(fix_run(pkt, pkt_build(pkt, &syn)).where != HOME);
	assert_true(fix_run(pkt, pkt_build(pkt, &syn6)).where != HOME);
	len = pkt_build(pkt, &est);
	o = fix_run(pkt, len);
	check_routed(&est, pkt, len, &o, HOME); /* established: stays home */
	len = pkt_build(pkt, &est6);
	o = fix_run(pkt, len);
	check_routed(&est6, pkt, len, &o, HOME);
	assert_true(flow_get(&est, &f));
	assert_int_equal(f.flags, DT_FLOW_F_HOME);
	assert_true(flow_get(&syn, &f));
	assert_int_equal(f.flags, 0);
	syn.tcp_flags = ACK;
	o = fix_run(pkt, pkt_build(pkt, &syn));
	assert_int_equal(o.where, f.target_site);
	assert_int_equal(fix_counter(HOME, DT_REASON_HOME_UP), 2);
	assert_int_equal(fix_counter(HOME, DT_REASON_REROUTED_ROUTE), 3);
}

static void test_draining_stateless_moves_all_at_once(void **state)
{
	struct pkt_spec est = scenario_tcp4("198.18.30.1", 6000, ACK);
	uint8_t pkt[PKT_MAX];
	struct fix_out o;

	fix_set_state(HOME_STATELESS, DT_SITE_DRAINING);
	o = fix_run(pkt, pkt_build(pkt, &est));
	assert_true(o.where == SITE_A || o.where == SITE_B);
	assert_int_equal(fix_flow_count(), 0);
}

static void test_recovering_keeps_moved_flows_new_go_home(void **state)
{
	struct pkt_spec moved = scenario_tcp6("2001:db8:10::9", 7000, SYN);
	struct pkt_spec fresh = scenario_tcp6("2001:db8:10::9", 7001, SYN);
	uint8_t pkt[PKT_MAX];
	struct fix_out o;
	unsigned int len;
	int target;

	fix_set_state(HOME, DT_SITE_DOWN);
	target = fix_run(pkt, pkt_build(pkt, &moved)).where;
	assert_true(target == SITE_A || target == SITE_B);
	fix_set_state(HOME, DT_SITE_RECOVERING);
	moved.tcp_flags = ACK;
	assert_int_equal(fix_run(pkt, pkt_build(pkt, &moved)).where, target);
	len = pkt_build(pkt, &fresh);
	o = fix_run(pkt, len);
	check_routed(&fresh, pkt, len, &o, HOME);
	assert_int_equal(fix_flow_count(), 1);
}

/* ---- Fail open, TTL, MTU, ICMP errors, malformed ------------------------------------------- */

static void test_no_healthy_site_fails_open_to_the_exception_port(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.18.10.1", 8000, SYN);
	uint8_t pkt[PKT_MAX];

	fix_set_state(HOME, DT_SITE_DOWN);
	fix_set_state(SITE_A, DT_SITE_DOWN);
	fix_set_state(SITE_B, DT_SITE_DRAINING);
	expect_exception_untouched(pkt, pkt_build(pkt, &s));
	assert_int_equal(fix_counter(HOME, DT_REASON_NO_HEALTHY_SITE), 1);
}

static void test_ttl_expiring_goes_to_the_exception_port(void **state)
{
	struct pkt_spec s4 = scenario_tcp4("198.18.10.1", 8100, SYN),
			s6 = scenario_tcp6("2001:db8:10::1", 8101, SYN);
	uint8_t pkt[PKT_MAX];

	s4.ttl = s6.ttl = 1;
	/* home UP: forwarding home would expire it too; the kernel answers, counted as XDP does */
	expect_exception_untouched(pkt, pkt_build(pkt, &s4));
	assert_int_equal(fix_counter(HOME, DT_REASON_HOME_UP), 1);
	fix_set_state(HOME, DT_SITE_DOWN);
	expect_exception_untouched(pkt, pkt_build(pkt, &s4));
	expect_exception_untouched(pkt, pkt_build(pkt, &s6));
	assert_int_equal(fix_counter(HOME, DT_REASON_TTL_EXPIRED), 2);
}

static void test_too_big_after_rewrite_goes_to_the_exception_port(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.18.20.1", 8200, SYN);
	struct dt_site tun = scenario_site(IPIP4);
	uint8_t pkt[PKT_MAX];
	unsigned int len;

	s.payload = 1420;
	len = pkt_build(pkt, &s); /* a 1460-byte IP packet: fits 1500, not with a 20-byte outer */
	tun.mtu = 1460 + 19;
	assert_int_equal(dt_dpdk__set_site(fix.e, IPIP4, &tun), 0);
	fix_set_state(HOME_V4TUN, DT_SITE_DOWN);
	expect_exception_untouched(pkt, len);
	assert_int_equal(fix_counter(HOME_V4TUN, DT_REASON_MTU_EXCEEDED), 1);
	tun.mtu = 1460 + 20;
	assert_int_equal(dt_dpdk__set_site(fix.e, IPIP4, &tun), 0);
	assert_int_equal(fix_run(pkt, len).where, IPIP4);
}

static void test_icmp_error_follows_its_flow(void **state)
{
	struct pkt_spec specs[] = { scenario_tcp4("198.18.10.3", 9000, SYN),
				    scenario_tcp6("2001:db8:10::3", 9001, SYN) };
	uint8_t pkt[PKT_MAX];
	unsigned int i;

	fix_set_state(HOME, DT_SITE_DOWN);
	for (i = 0; i < 2; i++) {
		int flow = fix_run(pkt, pkt_build(pkt, &specs[i])).where;
		struct fix_out err = fix_run(pkt, pkt_build_icmp_error(pkt, &specs[i],
								       i == 0 ? "198.19.9.9" :
										"2001:db8:ff::9"));

		assert_true(flow == SITE_A || flow == SITE_B);
		assert_int_equal(err.where, flow);
		assert_int_equal(mac_site(&err), flow);
	}
}

/* Every golden packet comes out exactly once, counted exactly once; malformed ones untouched. */
static void test_golden_packets(void **state)
{
	__u64 total = 0;
	unsigned int i, r, site;

	for (i = 0; i < dt_golden_packet_count; i++) {
		const struct dt_golden_packet *g = &dt_golden_packets[i];
		struct fix_out o;

		if (!g->len)
			continue;
		o = fix_run(g->bytes, g->len);
		if (g->expect_ret < 0) {
			assert_int_equal(o.where, FIX_EXCEPTION);
			assert_int_equal(o.len, g->len);
			assert_memory_equal(o.bytes, g->bytes, g->len);
		} else {
			assert_true(o.where == FIX_EXCEPTION || o.where == HOME);
		}
		total++;
	}
	for (site = 0; site <= DT_MAX_SITES; site++)
		for (r = 0; r < DT_REASON_MAX; r++)
			total -= fix_counter(site, r);
	assert_int_equal(total, 0);
	assert_true(fix_counter(DT_SITE_NONE, DT_REASON_TRUNCATED) > 0);
	assert_true(fix_counter(DT_SITE_NONE, DT_REASON_NOT_IP) > 0);
}

static void test_split_and_second_failure(void **state)
{
	enum { FLOWS = 3000 };
	static int before[FLOWS];
	unsigned int i, on[16] = { 0 }, moved = 0;
	uint8_t pkt[PKT_MAX];

	fix_set_state(HOME, DT_SITE_DOWN);
	for (i = 0; i < FLOWS; i++) {
		struct pkt_spec s = scenario_tcp4("198.18.10.10", (uint16_t)(10000 + i), SYN);

		before[i] = fix_run(pkt, pkt_build(pkt, &s)).where;
		assert_true(before[i] == SITE_A || before[i] == SITE_B);
		on[before[i]]++;
	}
	assert_in_range(on[SITE_A], FLOWS * 44 / 100, FLOWS * 56 / 100);
	assert_in_range(on[SITE_B], FLOWS * 44 / 100, FLOWS * 56 / 100);
	fix_set_state(SITE_B, DT_SITE_DOWN);
	for (i = 0; i < FLOWS; i++) {
		struct pkt_spec s = scenario_tcp4("198.18.10.10", (uint16_t)(10000 + i), ACK);
		int now = fix_run(pkt, pkt_build(pkt, &s)).where;

		moved += before[i] == SITE_B;
		assert_int_equal(now, before[i] == SITE_B ? SITE_A : before[i]);
	}
	assert_int_equal(moved, on[SITE_B]);
}

/* ---- The engine's own corners: TX drops, the return path, the flow table's API ----------- */

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
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup(name, setup)
		T(test_no_prefix_goes_to_the_exception_port),
		T(test_home_up_is_forwarded_home),
		T(test_home_down_reroutes_route_mode),
		T(test_moved_flows_stick_when_a_site_returns),
		T(test_home_down_reroutes_ipip_all_four),
		T(test_draining_moves_new_and_keeps_established),
		T(test_draining_stateless_moves_all_at_once),
		T(test_recovering_keeps_moved_flows_new_go_home),
		T(test_no_healthy_site_fails_open_to_the_exception_port),
		T(test_ttl_expiring_goes_to_the_exception_port),
		T(test_too_big_after_rewrite_goes_to_the_exception_port),
		T(test_icmp_error_follows_its_flow),
		T(test_golden_packets),
		T(test_split_and_second_failure),
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

	return cmocka_run_group_tests_name("dpdk_worker", tests, group_setup, group_teardown);
}
