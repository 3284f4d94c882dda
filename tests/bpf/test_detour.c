// SPDX-License-Identifier: GPL-2.0-only
/*
 * The XDP program in the kernel: ebpf/detour.bpf.c loaded from its skeleton, maps filled as the
 * control plane would, packets driven through it with BPF_PROG_TEST_RUN. Every behaviour of the
 * packet path is checked from outside: the XDP verdict, the bytes that come out, the flow table
 * and the counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dt_clock.h"
#include "dataplane/core/detour_abi.h"
#include "failover_slots.h"
#include "golden_packets.h"
#include "test_packets.h"
#include "test_scenario.h"
#include "detour.skel.h"
#include "test_xdp_maps.h"

#define EGRESS_IFINDEX 1 /* lo: BPF_PROG_TEST_RUN does not transmit, the devmap needs a device */

static struct detour *skel;
static char pin_root[64];
static int ncpus;

static void set_state(__u32 site, __u32 state)
{
	struct dt_site_state_val v = { .state = state };

	xdp_map_put(skel->maps.dt_site_state, &site, &v);
	xdp_bump_flow_gen(skel);
}

static void configure(void)
{
	xdp_configure_scenario(skel, EGRESS_IFINDEX, false);
}

static int group_setup(void **state)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	int err;

	ncpus = libbpf_num_possible_cpus();
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/detour-test-%d", getpid());
	opts.pin_root_path = pin_root;
	skel = detour__open_opts(&opts);
	if (!skel) {
		fprintf(stderr, "detour: open failed: %s\n", strerror(errno));
		return -1;
	}
	skel->rodata->flow_hash_seed = SCENARIO_SEED;
	err = detour__load(skel);
	if (err) {
		fprintf(stderr, "detour: load failed (is bpffs mounted?): %s\n", strerror(-err));
		detour__destroy(skel);
		return -1;
	}
	configure();
	return 0;
}

static int group_teardown(void **state)
{
	bpf_object__unpin_maps(skel->obj, NULL);
	rmdir(pin_root);
	detour__destroy(skel);
	return 0;
}

/* Each test starts with every site UP, an empty flow table and zero counters. */
static int test_setup(void **state)
{
	struct dt_flow_key key;
	void *zero = calloc(ncpus, sizeof(struct dt_counter));
	__u32 id;
	int fd = bpf_map__fd(skel->maps.dt_flows);

	for (id = 1; id < NSITES; id++)
		set_state(id, DT_SITE_UP);
	while (!bpf_map_get_next_key(fd, NULL, &key))
		bpf_map_delete_elem(fd, &key);
	xdp_bump_flow_gen(skel);
	for (id = 0; id < DT_COUNTER_ENTRIES; id++)
		bpf_map_update_elem(bpf_map__fd(skel->maps.dt_counters), &id, zero, BPF_ANY);
	free(zero);
	for (id = 1; id < NSITES; id++) {
		struct dt_site s = scenario_site(id);

		xdp_map_put(skel->maps.dt_site, &id, &s);
	}
	return 0;
}

struct run_result {
	__u32 action;
	uint8_t out[PKT_MAX + 256];
	__u32 out_len;
};

static struct run_result run(const uint8_t *pkt, unsigned int len)
{
	struct run_result r = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len, .data_out = r.out,
		    .data_size_out = sizeof(r.out), .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.detour_xdp), &opts);

	if (err)
		fail_msg("BPF_PROG_TEST_RUN: %s", strerror(-err));
	r.action = opts.retval;
	r.out_len = opts.data_size_out;
	return r;
}

static __u64 counter(__u32 site, __u32 reason)
{
	struct dt_counter *per_cpu = calloc(ncpus, sizeof(*per_cpu));
	__u32 idx = dt_counter_index(site, reason);
	__u64 total = 0;
	int i;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.dt_counters), &idx, per_cpu),
			 0);
	for (i = 0; i < ncpus; i++)
		total += per_cpu[i].packets;
	free(per_cpu);
	return total;
}

static bool flow_get(const struct pkt_spec *s, struct dt_flow_state *v)
{
	struct dt_flow_key k = scenario_key_of(s);

	return !bpf_map_lookup_elem(bpf_map__fd(skel->maps.dt_flows), &k, v);
}

static unsigned int flow_count(void)
{
	struct dt_flow_key key, next;
	int fd = bpf_map__fd(skel->maps.dt_flows);
	unsigned int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

#define SYN SCENARIO_TCP_SYN
#define ACK SCENARIO_TCP_ACK

/* Which site a rewritten frame is going to: the last byte of its next-hop MAC (scenario_site()). */
static int site_of_frame(const struct run_result *r)
{
	if (r->out[0] != 0x02 || r->out[1] != 0x5e)
		return -1;
	return r->out[5];
}

/* ---- Healthy paths: untouched, no flow-table writes ------------------------------------ */

static void expect_pass_untouched(const uint8_t *pkt, unsigned int len, struct run_result *r)
{
	*r = run(pkt, len);
	assert_int_equal(r->action, XDP_PASS);
	assert_int_equal(r->out_len, len);
	assert_memory_equal(r->out, pkt, len);
}

static void test_no_prefix_passes(void **state)
{
	uint8_t pkt[PKT_MAX];
	struct pkt_spec v4 = scenario_tcp4("198.18.99.1", 1000, SYN),
			v6 = scenario_tcp6("2001:db8:99::1", 1000, SYN);
	struct run_result r;

	set_state(HOME, DT_SITE_DOWN);
	expect_pass_untouched(pkt, pkt_build(pkt, &v4), &r);
	expect_pass_untouched(pkt, pkt_build(pkt, &v6), &r);
	assert_int_equal(counter(DT_SITE_NONE, DT_REASON_NO_PREFIX), 2);
	assert_int_equal(flow_count(), 0);
}

static void test_home_up_passes(void **state)
{
	uint8_t pkt[PKT_MAX];
	struct pkt_spec specs[] = { scenario_tcp4("198.18.10.1", 1000, SYN),
				    scenario_tcp6("2001:db8:10::1", 1, SYN) };
	struct run_result r;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		specs[i].vlans = i;
		expect_pass_untouched(pkt, pkt_build(pkt, &specs[i]), &r);
	}
	assert_int_equal(counter(HOME, DT_REASON_HOME_UP), 2);
	assert_int_equal(flow_count(), 0);
}

/* ---- Home DOWN, route mode -------------------------------------------------------------- */

static void check_routed(const struct pkt_spec *s, const uint8_t *in, unsigned int in_len,
			 const struct run_result *r, int target)
{
	unsigned int l2_in = 14 + 4 * s->vlans;
	const uint8_t *ip = r->out + 14;
	struct dt_site site = scenario_site(target);

	assert_int_equal(r->action, XDP_REDIRECT);
	assert_int_equal(r->out_len, in_len - 4 * s->vlans); /* VLAN tags stripped */
	assert_int_equal(site_of_frame(r), target);
	assert_memory_equal(r->out + 6, site.src_mac, 6);
	assert_int_equal(get16(r->out + 12), s->family == 4 ? 0x0800 : 0x86dd);
	if (s->family == 4) {
		assert_int_equal(ip[8], in[l2_in + 8] - 1); /* TTL */
		assert_true(ipv4_header_ok(ip));
		/* everything but TTL and checksum is as it came */
		assert_memory_equal(ip, in + l2_in, 8);
		assert_memory_equal(ip + 12, in + l2_in + 12, in_len - l2_in - 12);
	} else {
		assert_int_equal(ip[7], in[l2_in + 7] - 1); /* hop limit */
		assert_memory_equal(ip, in + l2_in, 7);
		assert_memory_equal(ip + 8, in + l2_in + 8, in_len - l2_in - 8);
	}
}

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

	set_state(HOME, DT_SITE_DOWN);
	for (i = 0; i < 4; i++) {
		for (vlans = 0; vlans <= 2; vlans++) {
			struct dt_flow_state f;
			struct run_result r;
			unsigned int len;

			specs[i].vlans = vlans;
			specs[i].sport += 10;
			len = pkt_build(pkt, &specs[i]);
			r = run(pkt, len);
			assert_true(flow_get(&specs[i], &f));
			assert_true(f.target_site == SITE_A || f.target_site == SITE_B);
			assert_int_equal(f.home_site, HOME);
			check_routed(&specs[i], pkt, len, &r, f.target_site);
		}
	}
	assert_int_equal(counter(HOME, DT_REASON_REROUTED_ROUTE), 12);
}

static void test_target_on_ingress_port_uses_xdp_tx(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.18.40.1", 2000, SYN);
	uint8_t pkt[PKT_MAX];
	struct run_result r;

	set_state(HOME_TX, DT_SITE_DOWN);
	r = run(pkt, pkt_build(pkt, &s));
	assert_int_equal(r.action, XDP_TX);
	assert_int_equal(site_of_frame(&r), SITE_TX);
}

/* A moved flow stays on its target; new flows follow the slot table; both MACs prove it. */
static void test_moved_flows_stick_when_a_site_returns(void **state)
{
	uint8_t pkt[PKT_MAX];
	struct pkt_spec s[64];
	int first[64], i, moved_back = 0;

	set_state(HOME, DT_SITE_DOWN);
	set_state(SITE_A, DT_SITE_DOWN);
	for (i = 0; i < 64; i++) {
		struct run_result r;

		s[i] = scenario_tcp4("198.18.10.7", 3000 + i, SYN);
		r = run(pkt, pkt_build(pkt, &s[i]));
		first[i] = site_of_frame(&r);
		assert_int_equal(first[i], SITE_B);
	}
	set_state(SITE_A, DT_SITE_UP);
	for (i = 0; i < 64; i++) {
		struct run_result r;

		s[i].tcp_flags = ACK;
		r = run(pkt, pkt_build(pkt, &s[i]));
		moved_back += site_of_frame(&r) != first[i];
	}
	assert_int_equal(moved_back, 0);
}

/* A home that fails, comes back and fails again: its moved flows are rerouted again each time. */
static void test_home_fails_twice(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.18.10.9", 3100, SYN);
	uint8_t pkt[PKT_MAX];
	struct run_result r;
	int round, i;

	for (round = 0; round < 3; round++) {
		set_state(HOME, DT_SITE_DOWN);
		for (i = 0; i < 4; i++) {
			r = run(pkt, pkt_build(pkt, &s));
			assert_int_equal(r.action, XDP_REDIRECT);
			s.tcp_flags = ACK;
		}
		set_state(HOME, DT_SITE_UP);
		r = run(pkt, pkt_build(pkt, &s));
		assert_int_equal(r.action, XDP_PASS);
	}
}

/* ---- ipip --------------------------------------------------------------------------------- */

static void check_encap(const struct pkt_spec *s, const uint8_t *in, unsigned int in_len,
			const struct run_result *r, int outer_family)
{
	unsigned int l2_in = 14 + 4 * s->vlans, inner_len = in_len - l2_in;
	unsigned int outer_len = outer_family == 4 ? 20 : 40;
	const uint8_t *outer = r->out + 14, *inner = outer + outer_len;
	uint8_t inner_proto = s->family == 4 ? 4 : 41;

	assert_int_equal(r->action, XDP_REDIRECT);
	assert_int_equal(r->out_len, 14 + outer_len + inner_len);
	assert_int_equal(site_of_frame(r), outer_family == 4 ? IPIP4 : IPIP6);
	assert_int_equal(get16(r->out + 12), outer_family == 4 ? 0x0800 : 0x86dd);
	if (outer_family == 4) {
		uint8_t dst[4];

		inet_pton(AF_INET, "198.18.200.4", dst);
		assert_int_equal(outer[0], 0x45);
		assert_int_equal(get16(outer + 2), 20 + inner_len);
		assert_int_equal(outer[9], inner_proto);
		assert_true(ipv4_header_ok(outer));
		assert_memory_equal(outer + 16, dst, 4);
	} else {
		uint8_t dst[16];

		inet_pton(AF_INET6, "2001:db8:200::5", dst);
		assert_int_equal(outer[0] >> 4, 6);
		assert_int_equal(get16(outer + 4), inner_len);
		assert_int_equal(outer[6], inner_proto);
		assert_memory_equal(outer + 24, dst, 16);
	}
	/* the inner packet is the original, TTL/hop limit one less */
	if (s->family == 4) {
		assert_int_equal(inner[8], in[l2_in + 8] - 1);
		assert_true(ipv4_header_ok(inner));
		assert_memory_equal(inner + 12, in + l2_in + 12, inner_len - 12);
	} else {
		assert_int_equal(inner[7], in[l2_in + 7] - 1);
		assert_memory_equal(inner + 8, in + l2_in + 8, inner_len - 8);
	}
}

static void test_home_down_reroutes_ipip_all_four(void **state)
{
	struct {
		struct pkt_spec s;
		int outer;
	} cases[] = {
		{ scenario_tcp4("198.18.20.1", 4000, SYN), 4 }, /* IPv4 in IPv4 */
		{ scenario_tcp6("2001:db8:20::1", 4001, SYN), 4 }, /* IPv6 in IPv4 */
		{ scenario_tcp4("198.18.21.1", 4002, SYN), 6 }, /* IPv4 in IPv6 */
		{ scenario_tcp6("2001:db8:21::1", 4003, SYN), 6 }, /* IPv6 in IPv6 */
	};
	uint8_t pkt[PKT_MAX];
	unsigned int i;

	set_state(HOME_V4TUN, DT_SITE_DOWN);
	set_state(HOME_V6TUN, DT_SITE_DOWN);
	for (i = 0; i < 4; i++) {
		unsigned int len;

		cases[i].s.vlans = i % 3;
		len = pkt_build(pkt, &cases[i].s);
		struct run_result r = run(pkt, len);

		check_encap(&cases[i].s, pkt, len, &r, cases[i].outer);
	}
	assert_int_equal(counter(HOME_V4TUN, DT_REASON_REROUTED_IPIP), 2);
	assert_int_equal(counter(HOME_V6TUN, DT_REASON_REROUTED_IPIP), 2);
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
	struct run_result r;

	set_state(HOME, DT_SITE_DRAINING);
	r = run(pkt, pkt_build(pkt, &syn));
	assert_int_equal(r.action, XDP_REDIRECT);
	r = run(pkt, pkt_build(pkt, &syn6));
	assert_int_equal(r.action, XDP_REDIRECT);
	expect_pass_untouched(pkt, pkt_build(pkt, &est), &r);
	expect_pass_untouched(pkt, pkt_build(pkt, &est6), &r);
	assert_true(flow_get(&est, &f));
	assert_int_equal(f.flags, DT_FLOW_F_HOME);
	assert_true(flow_get(&syn, &f));
	assert_int_equal(f.flags, 0);
	/* the moved connection's later packets follow it */
	syn.tcp_flags = ACK;
	r = run(pkt, pkt_build(pkt, &syn));
	assert_int_equal(r.action, XDP_REDIRECT);
	assert_int_equal(site_of_frame(&r), f.target_site);
}

static void test_draining_stateless_moves_all_at_once(void **state)
{
	struct pkt_spec est = scenario_tcp4("198.18.30.1", 6000, ACK);
	uint8_t pkt[PKT_MAX];
	struct run_result r;

	set_state(HOME_STATELESS, DT_SITE_DRAINING);
	r = run(pkt, pkt_build(pkt, &est));
	assert_int_equal(r.action, XDP_REDIRECT);
	assert_int_equal(flow_count(), 0);
}

static void test_recovering_keeps_moved_flows_new_go_home(void **state)
{
	struct pkt_spec moved = scenario_tcp6("2001:db8:10::9", 7000, SYN),
			fresh = scenario_tcp6("2001:db8:10::9", 7001, SYN);
	uint8_t pkt[PKT_MAX];
	struct run_result r;
	int target;

	set_state(HOME, DT_SITE_DOWN);
	r = run(pkt, pkt_build(pkt, &moved));
	target = site_of_frame(&r);
	set_state(HOME, DT_SITE_RECOVERING);
	moved.tcp_flags = ACK;
	r = run(pkt, pkt_build(pkt, &moved));
	assert_int_equal(r.action, XDP_REDIRECT);
	assert_int_equal(site_of_frame(&r), target);
	expect_pass_untouched(pkt, pkt_build(pkt, &fresh), &r);
	assert_int_equal(flow_count(), 1);
}

/* ---- Fail open, TTL, MTU, ICMP errors, malformed ------------------------------------------ */

static void test_no_healthy_site_fails_open(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.18.10.1", 8000, SYN);
	uint8_t pkt[PKT_MAX];
	struct run_result r;

	set_state(HOME, DT_SITE_DOWN);
	set_state(SITE_A, DT_SITE_DOWN);
	set_state(SITE_B, DT_SITE_DRAINING);
	expect_pass_untouched(pkt, pkt_build(pkt, &s), &r);
	assert_int_equal(counter(HOME, DT_REASON_NO_HEALTHY_SITE), 1);
}

static void test_ttl_expiring_goes_to_the_kernel(void **state)
{
	struct pkt_spec s4 = scenario_tcp4("198.18.10.1", 8100, SYN),
			s6 = scenario_tcp6("2001:db8:10::1", 8101, SYN);
	uint8_t pkt[PKT_MAX];
	struct run_result r;

	set_state(HOME, DT_SITE_DOWN);
	s4.ttl = s6.ttl = 1;
	expect_pass_untouched(pkt, pkt_build(pkt, &s4), &r);
	expect_pass_untouched(pkt, pkt_build(pkt, &s6), &r);
	assert_int_equal(counter(HOME, DT_REASON_TTL_EXPIRED), 2);
}

static void test_too_big_after_rewrite_goes_to_the_kernel(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.18.20.1", 8200, SYN);
	struct dt_site tun = scenario_site(IPIP4);
	__u32 id = IPIP4;
	uint8_t pkt[PKT_MAX];
	struct run_result r;
	unsigned int len;

	s.payload = 1420;
	len = pkt_build(pkt, &s); /* 1460-byte IP packet: fits 1500, not with a 20-byte outer */
	tun.mtu = 1460 + 19;
	xdp_map_put(skel->maps.dt_site, &id, &tun);
	set_state(HOME_V4TUN, DT_SITE_DOWN);
	expect_pass_untouched(pkt, len, &r);
	assert_int_equal(counter(HOME_V4TUN, DT_REASON_MTU_EXCEEDED), 1);
	tun.mtu = 1460 + 20;
	xdp_map_put(skel->maps.dt_site, &id, &tun);
	r = run(pkt, len);
	assert_int_equal(r.action, XDP_REDIRECT);
}

static void test_icmp_error_follows_its_flow(void **state)
{
	struct pkt_spec specs[] = { scenario_tcp4("198.18.10.3", 9000, SYN),
				    scenario_tcp6("2001:db8:10::3", 9001, SYN) };
	uint8_t pkt[PKT_MAX];
	unsigned int i;

	set_state(HOME, DT_SITE_DOWN);
	for (i = 0; i < 2; i++) {
		struct run_result flow, err;

		flow = run(pkt, pkt_build(pkt, &specs[i]));
		err = run(pkt, pkt_build_icmp_error(pkt, &specs[i],
						    i == 0 ? "198.19.9.9" : "2001:db8:ff::9"));
		assert_int_equal(err.action, XDP_REDIRECT);
		assert_int_equal(site_of_frame(&err), site_of_frame(&flow));
	}
}

/* Every golden packet: nothing configured for its addresses, so it passes untouched, counted. */
static void test_golden_packets_pass_untouched(void **state)
{
	__u64 total = 0;
	unsigned int i, r, site;

	for (i = 0; i < dt_golden_packet_count; i++) {
		const struct dt_golden_packet *g = &dt_golden_packets[i];
		struct run_result res;

		if (g->len < 14)
			continue;
		expect_pass_untouched(g->bytes, g->len, &res);
		total++;
	}
	for (site = 0; site <= DT_MAX_SITES; site++)
		for (r = 0; r < DT_REASON_MAX; r++)
			total -= counter(site, r);
	assert_int_equal(total, 0); /* each counted exactly once */
	assert_true(counter(DT_SITE_NONE, DT_REASON_TRUNCATED) > 0);
	assert_true(counter(DT_SITE_NONE, DT_REASON_NOT_IP) > 0);
}

/* ---- Weighted choice, and a second failure ------------------------------------------------- */

static void test_split_and_second_failure(void **state)
{
	enum { FLOWS = 3000 };
	static int before[FLOWS];
	unsigned int i, on[16] = { 0 }, moved = 0;
	uint8_t pkt[PKT_MAX];

	set_state(HOME, DT_SITE_DOWN);
	for (i = 0; i < FLOWS; i++) {
		struct pkt_spec s = scenario_tcp4("198.18.10.10", 10000 + i, SYN);
		struct run_result r = run(pkt, pkt_build(pkt, &s));

		before[i] = site_of_frame(&r);
		on[before[i]]++;
	}
	/* weights 1:1; 3000 flows over 1024 slots: allow +-6 percentage points */
	assert_in_range(on[SITE_A], FLOWS * 44 / 100, FLOWS * 56 / 100);
	assert_in_range(on[SITE_B], FLOWS * 44 / 100, FLOWS * 56 / 100);

	set_state(SITE_B, DT_SITE_DOWN);
	for (i = 0; i < FLOWS; i++) {
		struct pkt_spec s = scenario_tcp4("198.18.10.10", 10000 + i, ACK);
		struct run_result r = run(pkt, pkt_build(pkt, &s));

		if (before[i] == SITE_B) {
			assert_int_equal(site_of_frame(&r), SITE_A);
			moved++;
		} else {
			assert_int_equal(site_of_frame(&r), before[i]);
		}
	}
	assert_int_equal(moved, on[SITE_B]);
}

/* ---- The per-CPU cache of recent flows in front of dt_flows -------------------------------- */

static void flow_put(const struct pkt_spec *s, const struct dt_flow_state *v)
{
	struct dt_flow_key k = scenario_key_of(s);

	xdp_map_put(skel->maps.dt_flows, &k, v);
}

/* A moved flow's SYN (recorded) and an ACK (read from dt_flows and copied into this CPU's cache). */
static int move_and_cache(struct pkt_spec *s)
{
	uint8_t pkt[PKT_MAX];
	struct run_result r;

	s->tcp_flags = SYN;
	r = run(pkt, pkt_build(pkt, s));
	s->tcp_flags = ACK;
	assert_int_equal(run(pkt, pkt_build(pkt, s)).action, XDP_REDIRECT);
	return site_of_frame(&r);
}

static int other_target(int site)
{
	return site == SITE_A ? SITE_B : SITE_A;
}

/* An entry changed behind the cache's back is served stale until the generation moves, not after. */
static void test_flow_cache_trusts_only_the_current_generation(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.18.10.11", 9000, SYN);
	uint8_t pkt[PKT_MAX];
	struct dt_flow_state f;
	struct run_result r;
	int target;

	set_state(HOME, DT_SITE_DOWN);
	target = move_and_cache(&s);
	assert_true(flow_get(&s, &f));
	f.target_site = (__u16)other_target(target);
	flow_put(&s, &f);
	/* no bump: the cached copy answers (this is what proves the cache is in the path) */
	r = run(pkt, pkt_build(pkt, &s));
	assert_int_equal(site_of_frame(&r), target);
	xdp_bump_flow_gen(skel);
	r = run(pkt, pkt_build(pkt, &s));
	assert_int_equal(site_of_frame(&r), other_target(target));
}

static bool pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return !sched_setaffinity(0, sizeof(set), &set);
}

/*
 * CPU 0 caches a flow on site X. On CPU 1, X fails (the flow moves to Y and dt_flows says so),
 * then X returns. Back on CPU 0 the flow must stay on Y, as dt_flows says: the state writes moved
 * the generation, so CPU 0's copy (X, which serves again) is not trusted.
 */
static void test_flow_cache_coherent_across_cpus(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.18.10.12", 9100, SYN);
	uint8_t pkt[PKT_MAX];
	cpu_set_t saved;
	struct run_result r;
	int x;

	assert_int_equal(sched_getaffinity(0, sizeof(saved), &saved), 0);
	if (CPU_COUNT(&saved) < 2 || !CPU_ISSET(0, &saved) || !CPU_ISSET(1, &saved))
		skip();
	set_state(HOME, DT_SITE_DOWN);
	assert_true(pin_to(0));
	x = move_and_cache(&s);
	assert_true(pin_to(1));
	set_state((__u32)x, DT_SITE_DOWN);
	r = run(pkt, pkt_build(pkt, &s));
	assert_int_equal(site_of_frame(&r), other_target(x));
	set_state((__u32)x, DT_SITE_UP);
	assert_true(pin_to(0));
	r = run(pkt, pkt_build(pkt, &s));
	sched_setaffinity(0, sizeof(saved), &saved);
	assert_int_equal(site_of_frame(&r), other_target(x));
}

/*
 * The idle scanner judges flows by last_seen: a cached copy must not hide a flow's packets from
 * it. An entry whose refresh is due in 30 ms is cached at most that long; a packet 60 ms later
 * reaches dt_flows again and refreshes it. The program's clock cannot be injected, hence the
 * (bounded, 60 ms) wait.
 */
static void test_flow_cache_lets_last_seen_refresh(void **state)
{
	struct pkt_spec s = scenario_tcp4("198.18.10.13", 9200, SYN);
	const struct timespec wait = { .tv_nsec = 60000000 };
	uint8_t pkt[PKT_MAX];
	struct dt_flow_state f;
	__u64 old, before;

	set_state(HOME, DT_SITE_DOWN);
	move_and_cache(&s);
	assert_true(flow_get(&s, &f));
	old = dt_clock_ns(CLOCK_MONOTONIC_COARSE) - (DT_FLOW_REFRESH_NS - 30000000ull);
	f.last_seen_ns = old;
	flow_put(&s, &f);
	xdp_bump_flow_gen(skel);
	assert_int_equal(run(pkt, pkt_build(pkt, &s)).action, XDP_REDIRECT); /* cached again */
	assert_true(flow_get(&s, &f));
	assert_int_equal(f.last_seen_ns, old); /* not due yet */
	nanosleep(&wait, NULL);
	before = dt_clock_ns(CLOCK_MONOTONIC_COARSE);
	assert_int_equal(run(pkt, pkt_build(pkt, &s)).action, XDP_REDIRECT);
	assert_true(flow_get(&s, &f));
	assert_true(f.last_seen_ns >= before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup(name, test_setup)
		T(test_no_prefix_passes),
		T(test_home_up_passes),
		T(test_home_down_reroutes_route_mode),
		T(test_target_on_ingress_port_uses_xdp_tx),
		T(test_moved_flows_stick_when_a_site_returns),
		T(test_home_down_reroutes_ipip_all_four),
		T(test_draining_moves_new_and_keeps_established),
		T(test_draining_stateless_moves_all_at_once),
		T(test_recovering_keeps_moved_flows_new_go_home),
		T(test_no_healthy_site_fails_open),
		T(test_ttl_expiring_goes_to_the_kernel),
		T(test_too_big_after_rewrite_goes_to_the_kernel),
		T(test_icmp_error_follows_its_flow),
		T(test_golden_packets_pass_untouched),
		T(test_split_and_second_failure),
		T(test_home_fails_twice),
		T(test_flow_cache_trusts_only_the_current_generation),
		T(test_flow_cache_coherent_across_cpus),
		T(test_flow_cache_lets_last_seen_refresh),
#undef T
	};

	return cmocka_run_group_tests_name("detour_xdp", tests, group_setup, group_teardown);
}
