// SPDX-License-Identifier: GPL-2.0-only
/*
 * One decision logic, two dataplanes: the same configuration, the same packets in the same order
 * and so the same flow keys go through the XDP program (BPF_PROG_TEST_RUN, xdp_fixture.h) and
 * through the DPDK worker. Required identical: the verdict (passed, rerouted, a too-big packet
 * answered or dropped), the target site, the output bytes of every rerouted frame and every
 * answer, every counter, and the flow tables (keys, home, target, flags). Needs root and bpffs,
 * as tests/bpf/test_detour.c does.
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
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane/core/detour_abi.h"
#include "dpdk_fixture.h"
#include "golden_packets.h"
#include "scenario_cases.h"
#include "xdp_fixture.h"
#include "test_xdp_maps.h"

static unsigned int compared_rerouted, compared_passed, compared_too_big;

/* Both dataplanes at once. */
static void set_state(__u32 site, __u32 state)
{
	struct dt_site_state_val v = { .state = state };

	xdp_map_put(xfix.skel->maps.dt_site_state, &site, &v);
	fix_set_state(site, state);
}

static void set_site(__u32 id, const struct dt_site *s)
{
	xdp_map_put(xfix.skel->maps.dt_site, &id, s);
	assert_int_equal(dt_dpdk__set_site(fix.e, id, s), 0);
}

/* The XDP maps get what fix_configure() gives the engine: both read test_scenario.h. */
static void xdp_configure(void)
{
	xdp_configure_scenario(xfix.skel, 1, true);
}

/* One packet through both: the same verdict, target and bytes. */
static void cross(const uint8_t *pkt, unsigned int len)
{
	struct xdp_run x = xdp_fixture_run(pkt, len);
	struct fix_out d = fix_run(pkt, len);

	if (x.action == XDP_PASS) {
		/* passed: the engine sends it home (HOME_UP) or to the kernel, never elsewhere */
		assert_true(d.where == FIX_EXCEPTION || (d.where >= 1 && d.where < NSITES));
		if (d.where == FIX_EXCEPTION) {
			assert_int_equal(d.len, len);
			assert_memory_equal(d.bytes, pkt, len);
		}
		compared_passed++;
		return;
	}
	if (x.action == XDP_DROP) { /* too big, not answered: the engine drops it too */
		assert_int_equal(d.where, FIX_NOTHING);
		compared_too_big++;
		return;
	}
	if (x.action == XDP_TX) { /* a too-big answer: out of the port it came by (the client's) */
		assert_int_equal(d.where, 0);
		compared_too_big++;
	} else {
		assert_int_equal(x.action, XDP_REDIRECT);
		assert_int_equal(d.where, x.out[5]); /* the port of the next-hop MAC's site */
		compared_rerouted++;
	}
	assert_int_equal(d.len, x.len);
	assert_memory_equal(d.bytes, x.out, x.len);
}

/* Both count every packet under the same (site, reason), from the start of the run. */
static void compare_counters(void)
{
	unsigned int bad = 0;
	__u32 site, r;

	for (site = 0; site <= DT_MAX_SITES; site++) {
		for (r = 0; r < DT_REASON_MAX; r++) {
			struct dt_counter c;

			assert_int_equal(dt_dpdk__read_counter(fix.e, site, r, &c), 0);
			if (c.packets == xdp_fixture_counter(site, r))
				continue;
			fprintf(stderr, "counter site %u reason %u: dpdk %llu xdp %llu\n", site, r,
				(unsigned long long)c.packets,
				(unsigned long long)xdp_fixture_counter(site, r));
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Every flow of one XDP class is in the engine with the same home, target and flags. */
static unsigned int compare_flow_map(int fd)
{
	struct dt_flow_key key, next;
	unsigned int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct dt_flow_state xv, dv;

		assert_int_equal(bpf_map_lookup_elem(fd, &next, &xv), 0);
		assert_true(fix_flow_get(&next, &dv));
		assert_int_equal(xv.home_site, dv.home_site);
		assert_int_equal(xv.target_site, dv.target_site);
		assert_int_equal(xv.flags, dv.flags);
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

/* Both XDP classes (a flow lives in one) together are the engine's one table, and no other. */
static void compare_flows(void)
{
	unsigned int n = compare_flow_map(bpf_map__fd(xfix.skel->maps.dt_flows));

	n += compare_flow_map(bpf_map__fd(xfix.skel->maps.dt_flow_new));
	assert_int_equal(n, fix_flow_count());
}

/* Fragments (first, middle, last) and the malformed classes a DOWN home steers on addresses. */
static void mix_unusual(struct pkt_spec *s, unsigned int i)
{
	s->mf = i % 11 == 5 || i % 11 == 6;
	s->frag_off = i % 11 == 6 || i % 11 == 7 ? 3 : 0;
	if (i % 13 == 4 && s->proto != 1 && s->proto != 58)
		s->l4_cut = 6;
	if (i % 17 == 3)
		s->tcp_doff = 3;
	if (i % 19 == 2 && s->family == 6)
		s->ext_hdrs = i % 2 ? DT_MAX_IPV6_EXT_HDRS + 1 : 2;
	if (i % 58 == 29)
		s->quote_l4 = 4;
}

/*
 * A mix of families, protocols, VLAN depths and TCP flags toward every configured prefix, with
 * fragments and malformed packets among them.
 */
static unsigned int build_mixed(uint8_t *pkt, unsigned int i)
{
	static const char *dst4[] = { "198.18.10.1", "198.18.20.2", "198.18.21.3", "198.18.30.4",
				      "198.18.40.5", "198.18.99.6", "198.18.50.7" };
	static const char *dst6[] = { "2001:db8:10::1", "2001:db8:20::2", "2001:db8:21::3",
				      "2001:db8:99::6", "2001:db8:50::7" };
	static const uint8_t protos[] = { 6, 6, 17, 1 };
	struct pkt_spec s = { .family = i % 3 ? 4 : 6,
			      .vlans = (int)(i % 5 % 3),
			      .sport = (uint16_t)(20000 + i / 7),
			      .dport = 443,
			      .payload = i % 61 };

	s.proto = protos[i % 4];
	if (s.proto == 1 && s.family == 6)
		s.proto = 58;
	s.tcp_flags = i % 7 == 0 ? 0x02 : 0x10;
	s.src = s.family == 4 ? "198.19.1.2" : "2001:db8:ff::2";
	s.dst = s.family == 4 ? dst4[i % 7] : dst6[i % 5];
	s.ttl = i % 53 == 0 ? 1 : 0;
	if (s.proto == 6 && s.tcp_flags == 0x02 && i % 3 == 1)
		s.mss = 1460;
	mix_unusual(&s, i);
	if (i % 19 == 5) { /* as large as MTU 1500 takes: too big for a tunnel */
		/* IPv6 extension and Fragment headers count: the packet stays at 1500 */
		unsigned int ext = s.family == 6 ? 8 * (s.ext_hdrs + (s.mf || s.frag_off)) : 0;

		s.payload = 1500 - (s.family == 4 ? 20 : 40) - ext - l4_header_len(&s);
		s.df = i % 2;
	}
	if (i % 29 == 0)
		return pkt_build_icmp_error(pkt, &s,
					    s.family == 4 ? "198.19.9.9" : "2001:db8:ff::9");
	return pkt_build(pkt, &s);
}

/*
 * Both engines' too-big answers are rate-limited: the XDP program's bucket refills on the real
 * clock, the engine's on the fixture's, which stands still. Each run starts with both full (a
 * rest, and the fixture's clock moved on as far) and answers fewer than DT_ICMP_BURST.
 */
static void refill_buckets(void)
{
	const struct timespec rest = { .tv_nsec = 60000000 };

	nanosleep(&rest, NULL);
	fix.now_ns += 60000000ull;
}

static void run_mixed(unsigned int first, unsigned int n)
{
	uint8_t pkt[PKT_MAX];
	unsigned int i;

	refill_buckets();
	for (i = first; i < first + n; i++)
		cross(pkt, build_mixed(pkt, i));
	compare_counters();
	compare_flows();
}

static void test_all_up_and_golden(void **state)
{
	unsigned int i;

	for (i = 0; i < dt_golden_packet_count; i++)
		if (dt_golden_packets[i].len)
			cross(dt_golden_packets[i].bytes, dt_golden_packets[i].len);
	run_mixed(0, 400);
}

/* Every case of the shared table (scenario_cases.c), under its states, through both. */
static void test_scenario_table(void **state)
{
	uint8_t pkt[PKT_MAX];
	size_t i, j;
	__u32 id;

	for (i = 0; i < scenario_case_count; i++) {
		const struct scenario_case *c = &scenario_cases[i];

		for (j = 0; j < SCENARIO_N(c->before) && c->before[j].site; j++)
			set_state(c->before[j].site, c->before[j].state);
		if (c->after_first_packet) {
			cross(pkt, scenario_build(pkt, c, true));
			if (c->then[0].site)
				set_state(c->then[0].site, c->then[0].state);
		}
		cross(pkt, scenario_build(pkt, c, false));
		for (id = 1; id < NSITES; id++)
			set_state(id, DT_SITE_UP);
	}
	compare_counters();
	compare_flows();
}

static void test_homes_down(void **state)
{
	unsigned int site;

	for (site = SIX_1; site < SIX_1 + 4; site++) /* HOME_SIX's first four */
		set_state(site, DT_SITE_DOWN);
	set_state(HOME_SIX, DT_SITE_DOWN);
	set_state(HOME, DT_SITE_DOWN);
	set_state(HOME_V4TUN, DT_SITE_DOWN);
	set_state(HOME_V6TUN, DT_SITE_DOWN);
	set_state(HOME_TX, DT_SITE_DOWN);
	run_mixed(0, 600);
	set_state(SITE_A, DT_SITE_DOWN); /* a second failure: only A's flows move */
	run_mixed(0, 600);
}

static void test_draining_recovering_stateless(void **state)
{
	set_state(HOME, DT_SITE_DRAINING);
	set_state(HOME_STATELESS, DT_SITE_DRAINING);
	run_mixed(1000, 400);
	set_state(HOME, DT_SITE_RECOVERING);
	set_state(HOME_V4TUN, DT_SITE_RECOVERING);
	run_mixed(0, 600);
}

static void test_fail_open_and_mtu(void **state)
{
	struct dt_site tun = scenario_site(IPIP4);

	set_state(SITE_B, DT_SITE_DOWN); /* with A down too, HOME has no healthy site */
	tun.mtu = 100;
	set_site(IPIP4, &tun);
	run_mixed(2000, 300);
	tun.mtu = 1500;
	set_site(IPIP4, &tun);
	fprintf(stderr, "cross-checked %u rerouted, %u too big and %u passed packets\n",
		compared_rerouted, compared_too_big, compared_passed);
	assert_true(compared_rerouted > 300);
	assert_true(compared_too_big > 40);
}

/*
 * The flow-table rules of decide.h ("The flow table") on both: per flow, an ICMP error about it
 * before it starts (it pins nothing), its SYN (recorded as new), an ACK (promoted), and flows the
 * table never saw start (mid-stream ACKs, recorded only during a drain), UDP among them, over a
 * drain, a failure and a recovery.
 */
static unsigned int build_flow_life(uint8_t *pkt, unsigned int i, unsigned int step)
{
	struct pkt_spec s = scenario_tcp4("198.18.10.30", (uint16_t)(50000 + i), 0x10);

	if (i % 4 == 1)
		s = scenario_tcp6("2001:db8:10::30", (uint16_t)(50000 + i), 0x10);
	if (i % 4 == 2)
		s.proto = 17;
	if (i % 4 == 3) /* never starts: mid-stream ACKs only */
		return pkt_build(pkt, &s);
	if (step == 0)
		return pkt_build_icmp_error(pkt, &s,
					    s.family == 4 ? "198.19.9.9" : "2001:db8:ff::9");
	s.tcp_flags = step == 1 ? 0x02 : 0x10;
	return pkt_build(pkt, &s);
}

static void test_flow_table_rules(void **state)
{
	static const __u32 states[] = { DT_SITE_DRAINING, DT_SITE_DOWN, DT_SITE_RECOVERING };
	uint8_t pkt[PKT_MAX];
	unsigned int st, step, i, before;

	set_state(SITE_A, DT_SITE_UP);
	set_state(SITE_B, DT_SITE_UP);
	for (st = 0; st < 3; st++) {
		set_state(HOME, states[st]);
		for (step = 0; step < 4; step++) {
			before = fix_flow_count();
			for (i = st * 64; i < st * 64 + 64; i++)
				cross(pkt, build_flow_life(pkt, i, step));
			if (step == 0) /* the ICMP errors pinned nothing; only the drain's ACKs */
				assert_int_equal(fix_flow_count() - before,
						 states[st] == DT_SITE_DRAINING ? 16 : 0);
		}
		compare_counters();
		compare_flows();
	}
}

/*
 * The engine decides a burst in stages (all prefixes, then all flow lookups, then each packet),
 * the XDP program one packet at a time. Bursts of DT-sized runs with the same few flows repeated
 * inside one burst, SYN and ACK mixed, over DRAINING (a SYN records a move, a later ACK of the
 * same flow must find it), DOWN and RECOVERING homes: the same rerouted frames, counters and flow
 * tables as the XDP program given the packets one by one.
 */
#define BURST 32

static unsigned int build_repeating(uint8_t *pkt, unsigned int i, unsigned int round)
{
	static const char *dst4[] = { "198.18.10.1", "198.18.20.2", "198.18.21.3" };
	struct pkt_spec s = scenario_tcp4(dst4[i % 3], (uint16_t)(40000 + round * 16 + i % 5),
					  (i * 7 + round) % 3 ? 0x10 : 0x02);

	if (i % 4 == 3)
		s = scenario_tcp6("2001:db8:10::1", (uint16_t)(40000 + round * 16 + i % 5),
				  i % 8 == 3 ? 0x02 : 0x10);
	return pkt_build(pkt, &s);
}

/* A rerouted XDP frame must be among the engine's outputs of the same burst, once. */
static void match_rerouted(const struct xdp_run *x, struct fix_out *d, unsigned int nd, bool *used)
{
	unsigned int j;

	for (j = 0; j < nd; j++) {
		if (used[j] || d[j].where != x->out[5] || d[j].len != x->len ||
		    memcmp(d[j].bytes, x->out, x->len))
			continue;
		used[j] = true;
		return;
	}
	fail_msg("a frame the XDP program rerouted to site %u is not among the engine's",
		 x->out[5]);
}

static void cross_burst(unsigned int round)
{
	static struct xdp_run x[BURST];
	static struct fix_out d[2 * BURST];
	bool used[2 * BURST] = { false };
	uint8_t pkt[PKT_MAX];
	unsigned int i, nd, rerouted = 0;

	for (i = 0; i < BURST; i++) {
		unsigned int len = build_repeating(pkt, i, round);

		x[i] = xdp_fixture_run(pkt, len);
		fix_inject(pkt, len);
	}
	fix_poll(); /* one RX burst takes all BURST frames */
	nd = fix_collect(d, 2 * BURST);
	assert_int_equal(nd, BURST);
	for (i = 0; i < BURST; i++) {
		if (x[i].action != XDP_REDIRECT)
			continue;
		match_rerouted(&x[i], d, nd, used);
		rerouted++;
	}
	compared_rerouted += rerouted;
	compared_passed += BURST - rerouted;
}

static void test_bursts_match_one_by_one(void **state)
{
	static const __u32 states[] = { DT_SITE_DRAINING, DT_SITE_DOWN, DT_SITE_RECOVERING };
	unsigned int s, round;

	set_state(SITE_A, DT_SITE_UP);
	set_state(SITE_B, DT_SITE_UP);
	for (s = 0; s < 3; s++) {
		set_state(HOME, states[s]);
		set_state(HOME_V4TUN, states[s]);
		for (round = 0; round < 4; round++)
			cross_burst(s * 4 + round);
	}
	compare_counters();
	compare_flows();
}

static int group_setup(void **state)
{
	__u32 id;

	if (xdp_fixture_open("detour-cross"))
		return -1;
	if (fix_eal_init("cross", "0") || fix_engine_open(1)) {
		fprintf(stderr, "dpdk engine: set-up failed\n");
		return -1;
	}
	xdp_configure();
	fix_configure();
	fix_reset(); /* the engine's site table, as xdp_configure() wrote the XDP one */
	for (id = 1; id < NSITES; id++)
		set_state(id, DT_SITE_UP);
	return 0;
}

static int group_teardown(void **state)
{
	fix_engine_close();
	xdp_fixture_close();
	return 0;
}

int main(void)
{
	/* In order: each scenario starts from the states and flows the previous one left. */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_up_and_golden),
		cmocka_unit_test(test_scenario_table),
		cmocka_unit_test(test_homes_down),
		cmocka_unit_test(test_draining_recovering_stateless),
		cmocka_unit_test(test_fail_open_and_mtu),
		cmocka_unit_test(test_bursts_match_one_by_one),
		cmocka_unit_test(test_flow_table_rules),
	};

	return cmocka_run_group_tests_name("dpdk_xdp_cross", tests, group_setup, group_teardown);
}
