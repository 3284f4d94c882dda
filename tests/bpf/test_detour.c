// SPDX-License-Identifier: GPL-2.0-only
/*
 * The XDP program in the kernel: ebpf/detour.bpf.c loaded from its skeleton, maps filled as the
 * control plane would, packets driven through it with BPF_PROG_TEST_RUN. Every behaviour of the
 * packet path is checked from outside: the XDP verdict, the bytes that come out, the flow table
 * and the counters. The behaviours the DPDK worker shares are the cases and scenarios of
 * tests/fixtures/scenario_cases.c, run here on the XDP program; the program's own (the per-CPU
 * flow cache) follow.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
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
#include "dataplane/core/tcp_seen.h"
#include "failover_slots.h"
#include "scenario_cases.h"
#include "test_packets.h"
#include "test_scenario.h"
#include "xdp_fixture.h"
#include "test_xdp_maps.h"

#define EGRESS_IFINDEX 1 /* lo: BPF_PROG_TEST_RUN does not transmit, the devmap needs a device */

static void set_state(__u32 site, __u32 state)
{
	struct dt_site_state_val v = { .state = state };

	xdp_map_put(xfix.skel->maps.dt_site_state, &site, &v);
	xdp_bump_flow_gen(xfix.skel);
}

static void set_site(__u32 id, const struct dt_site *s)
{
	xdp_map_put(xfix.skel->maps.dt_site, &id, s);
}

static int group_setup(void **state)
{
	if (xdp_fixture_open("detour-test"))
		return -1;
	xdp_configure_scenario(xfix.skel, EGRESS_IFINDEX, false);
	return 0;
}

static int group_teardown(void **state)
{
	xdp_fixture_close();
	return 0;
}

/* Each test starts with every site UP, an empty flow table and zero counters. */
static int test_setup(void **state)
{
	struct dt_flow_key key;
	void *zero = calloc((size_t)xfix.ncpus, sizeof(struct dt_counter));
	__u32 id;
	int fd = bpf_map__fd(xfix.skel->maps.dt_flows);
	int fd_new = bpf_map__fd(xfix.skel->maps.dt_flow_new);

	for (id = 1; id < NSITES; id++)
		set_state(id, DT_SITE_UP);
	while (!bpf_map_get_next_key(fd, NULL, &key))
		bpf_map_delete_elem(fd, &key);
	while (!bpf_map_get_next_key(fd_new, NULL, &key))
		bpf_map_delete_elem(fd_new, &key);
	xdp_bump_flow_gen(xfix.skel);
	for (id = 0; id < DT_COUNTER_ENTRIES; id++)
		bpf_map_update_elem(bpf_map__fd(xfix.skel->maps.dt_counters), &id, zero, BPF_ANY);
	free(zero);
	for (id = 1; id < NSITES; id++) {
		struct dt_site s = scenario_site((int)id);

		set_site(id, &s);
	}
	return 0;
}

/* ---- The engine the shared cases drive ---------------------------------------------------- */

static struct scenario_out xdp_engine_run(const uint8_t *pkt, unsigned int len)
{
	struct xdp_run r = xdp_fixture_run(pkt, len);
	struct scenario_out o = { .port = -1, .len = r.len };

	o.verdict = r.action == XDP_PASS     ? SCENARIO_TO_KERNEL :
		    r.action == XDP_REDIRECT ? SCENARIO_REDIRECTED :
		    r.action == XDP_TX	     ? SCENARIO_TX :
		    r.action == XDP_DROP     ? SCENARIO_DROPPED :
					       SCENARIO_NO_FRAME;
	memcpy(o.bytes, r.out, r.len);
	return o;
}

static bool flow_get_key(const struct dt_flow_key *k, struct dt_flow_state *v)
{
	return !bpf_map_lookup_elem(bpf_map__fd(xfix.skel->maps.dt_flows), k, v) ||
	       !bpf_map_lookup_elem(bpf_map__fd(xfix.skel->maps.dt_flow_new), k, v);
}

static const struct scenario_engine xdp_engine = {
	.kind = SCENARIO_XDP,
	.set_state = set_state,
	.set_site = set_site,
	.run = xdp_engine_run,
	.counter = xdp_fixture_counter,
	.flow_get = flow_get_key,
	.flow_count = xdp_fixture_flow_count,
	.min_frame_len = 14, /* BPF_PROG_TEST_RUN takes no less than an Ethernet header */
};

/* ---- The XDP program's own ------------------------------------------------------------------ */

#define SYN SCENARIO_TCP_SYN
#define ACK SCENARIO_TCP_ACK

static struct xdp_run run(const uint8_t *pkt, unsigned int len)
{
	return xdp_fixture_run(pkt, len);
}

static bool flow_get(const struct pkt_spec *s, struct dt_flow_state *v)
{
	struct dt_flow_key k = scenario_key_of(s);

	return flow_get_key(&k, v);
}

/* Which site a rewritten frame is going to: the last byte of its next-hop MAC (scenario_site()). */
static int site_of_frame(const struct xdp_run *r)
{
	if (r->out[0] != 0x02 || r->out[1] != 0x5e)
		return -1;
	return r->out[5];
}

/* ---- The per-CPU cache of recent flows in front of dt_flows -------------------------------- */

static void flow_put(const struct pkt_spec *s, const struct dt_flow_state *v)
{
	struct dt_flow_key k = scenario_key_of(s);

	xdp_map_put(xfix.skel->maps.dt_flows, &k, v);
}

/*
 * A moved flow's SYN (recorded as new), an ACK (promoted into dt_flows) and another (read from
 * dt_flows and copied into this CPU's cache).
 */
static int move_and_cache(struct pkt_spec *s)
{
	uint8_t pkt[PKT_MAX];
	struct xdp_run r;

	s->tcp_flags = SYN;
	r = run(pkt, pkt_build(pkt, s));
	s->tcp_flags = ACK;
	assert_int_equal(run(pkt, pkt_build(pkt, s)).action, XDP_REDIRECT);
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
	struct xdp_run r;
	int target;

	set_state(HOME, DT_SITE_DOWN);
	target = move_and_cache(&s);
	assert_true(flow_get(&s, &f));
	f.target_site = (__u16)other_target(target);
	flow_put(&s, &f);
	/* no bump: the cached copy answers (this is what proves the cache is in the path) */
	r = run(pkt, pkt_build(pkt, &s));
	assert_int_equal(site_of_frame(&r), target);
	xdp_bump_flow_gen(xfix.skel);
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
	struct xdp_run r;
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
	xdp_bump_flow_gen(xfix.skel);
	assert_int_equal(run(pkt, pkt_build(pkt, &s)).action, XDP_REDIRECT); /* cached again */
	assert_true(flow_get(&s, &f));
	assert_int_equal(f.last_seen_ns, old); /* not due yet */
	nanosleep(&wait, NULL);
	before = dt_clock_ns(CLOCK_MONOTONIC_COARSE);
	assert_int_equal(run(pkt, pkt_build(pkt, &s)).action, XDP_REDIRECT);
	assert_true(flow_get(&s, &f));
	assert_true(f.last_seen_ns >= before);
}

/*
 * A flood of made-up connections during a drain that complete a handshake (a spoofed SYN, then an
 * ACK of the same flow), more than the flow table holds: the promotions they ask for are limited
 * by the token bucket, so the established class keeps the connections that moved before it. The
 * LRU alone would not (each flood flow is used twice, as a real one is).
 */
static void test_handshake_flood_keeps_moved_flows(void **state)
{
	enum { REAL = 16, FLOOD = DT_FLOW_TABLE_DEFAULT + 4096 };
	struct pkt_spec s[REAL];
	int target[REAL], i, lost = 0;
	uint8_t pkt[PKT_MAX];
	struct xdp_run r;

	set_state(HOME, DT_SITE_DRAINING);
	for (i = 0; i < REAL; i++) {
		s[i] = scenario_tcp4("198.18.10.14", (uint16_t)(20000 + i), SYN);
		r = run(pkt, pkt_build(pkt, &s[i]));
		target[i] = site_of_frame(&r);
		s[i].tcp_flags = ACK;
		r = run(pkt, pkt_build(pkt, &s[i]));
		assert_int_equal(site_of_frame(&r), target[i]);
	}
	for (i = 0; i < FLOOD; i++) {
		struct pkt_spec f =
			scenario_tcp4("198.18.10.15", (uint16_t)(1024 + (i & 0x7fff)), SYN);

		f.dport = (uint16_t)(1000 + (i >> 15));
		run(pkt, pkt_build(pkt, &f));
		f.tcp_flags = ACK;
		run(pkt, pkt_build(pkt, &f));
	}
	for (i = 0; i < REAL; i++) {
		r = run(pkt, pkt_build(pkt, &s[i]));
		lost += r.action != XDP_REDIRECT || site_of_frame(&r) != target[i];
	}
	assert_int_equal(lost, 0);
	assert_true(xdp_fixture_counter(HOME, DT_REASON_FLOW_PROMOTE_LIMITED) > 0);
}

/* ---- The record of TCP flows of tcp_reset prefixes (dataplane/core/tcp_seen.h) ------------ */

#define TRACKED_V4 "198.18.60.0"
#define TRACKED_V6 "2001:db8:60::"

/* This packet's slot of dt_tcp_seen, as the CPU that holds its flow has it; false if none does. */
static bool tcp_seen_get(const struct pkt_spec *s, struct dt_tcp_seen *out)
{
	struct dt_flow_key k = scenario_key_of(s);
	__u32 idx = dt_tcp_seen_index(&k);
	struct dt_tcp_seen *v = calloc((size_t)xfix.ncpus, sizeof(*v));
	bool found = false;
	int c;

	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(xfix.skel->maps.dt_tcp_seen), &idx, v), 0);
	for (c = 0; c < xfix.ncpus && !found; c++)
		if (!memcmp(&v[c].key, &k, sizeof(k))) {
			*out = v[c];
			found = true;
		}
	free(v);
	return found;
}

static void tcp_seen_clear(void)
{
	struct dt_tcp_seen *zero = calloc((size_t)xfix.ncpus, sizeof(*zero));
	__u32 i;

	for (i = 0; i < DT_TCP_SEEN_SLOTS; i++)
		bpf_map_update_elem(bpf_map__fd(xfix.skel->maps.dt_tcp_seen), &i, zero, BPF_ANY);
	free(zero);
}

/* A TCP segment with sequence 0x01020304 and acknowledgment 0x0a0b0c0d (checksum not redone:
 * the healthy path does not read it). */
static unsigned int tcp_with_numbers(uint8_t *pkt, const struct pkt_spec *s)
{
	unsigned int len = pkt_build(pkt, s), l4 = 14 + (s->family == 4 ? 20 : 40);
	static const uint8_t nums[8] = { 1, 2, 3, 4, 10, 11, 12, 13 };

	memcpy(pkt + l4 + 4, nums, sizeof(nums));
	return len;
}

static void tracked_prefixes(void)
{
	const struct scenario_prefix p[] = { { TRACKED_V4, 24, HOME, DT_PREFIX_F_TCP_RESET },
					     { TRACKED_V6, 48, HOME, DT_PREFIX_F_TCP_RESET } };

	xdp_add_prefix(xfix.skel, &p[0]);
	xdp_add_prefix(xfix.skel, &p[1]);
	tcp_seen_clear();
}

/* Home UP: the segment passes untouched and its slot holds its flow, numbers, home and time. */
static void test_tcp_reset_records_tcp_going_home(void **state)
{
	struct pkt_spec s[2] = { scenario_tcp4("198.18.60.7", 40000, ACK),
				 scenario_tcp4("198.18.60.7", 40001, ACK) };
	uint8_t pkt[PKT_MAX];
	struct dt_tcp_seen v;
	__u64 before = dt_mono_ns();
	int i;

	s[1].family = 6;
	s[1].src = "2001:db8:1::2";
	s[1].dst = "2001:db8:60::7";
	tracked_prefixes();
	for (i = 0; i < 2; i++) {
		unsigned int len = tcp_with_numbers(pkt, &s[i]);
		struct xdp_run r = run(pkt, len);

		assert_int_equal(r.action, XDP_PASS);
		assert_memory_equal(r.out, pkt, len);
		assert_true(tcp_seen_get(&s[i], &v));
		assert_int_equal(v.home_site, HOME);
		assert_int_equal(be32toh(v.seq), 0x01020304);
		assert_int_equal(be32toh(v.ack), 0x0a0b0c0d);
		assert_int_equal(v.tcp_flags, ACK);
		/* the coarse clock lags by up to a tick (4 ms at HZ 250) */
		assert_true(v.seen_ns + 20000000ull >= before && v.seen_ns <= dt_mono_ns());
	}
	assert_int_equal(xdp_fixture_counter(HOME, DT_REASON_HOME_UP), 2);
}

/* No flag, a home that is not UP, UDP: nothing recorded. */
static void test_tcp_reset_records_nothing_else(void **state)
{
	struct pkt_spec plain = scenario_tcp4("198.18.10.7", 40000, ACK);
	struct pkt_spec tcp = scenario_tcp4("198.18.60.8", 40000, ACK);
	struct pkt_spec udp = scenario_tcp4("198.18.60.9", 40000, 0);
	const __u32 not_up[] = { DT_SITE_DRAINING, DT_SITE_DOWN, DT_SITE_RECOVERING };
	uint8_t pkt[PKT_MAX];
	struct dt_tcp_seen v;
	unsigned int i;

	tracked_prefixes();
	run(pkt, tcp_with_numbers(pkt, &plain));
	assert_false(tcp_seen_get(&plain, &v));
	udp.proto = 17;
	run(pkt, pkt_build(pkt, &udp));
	assert_false(tcp_seen_get(&udp, &v));
	for (i = 0; i < sizeof(not_up) / sizeof(not_up[0]); i++) {
		set_state(HOME, not_up[i]);
		run(pkt, tcp_with_numbers(pkt, &tcp));
		assert_false(tcp_seen_get(&tcp, &v));
	}
}

int main(void)
{
	static const struct CMUnitTest own[] = {
#define T(name) cmocka_unit_test_setup(name, test_setup)
		T(test_flow_cache_trusts_only_the_current_generation),
		T(test_flow_cache_coherent_across_cpus),
		T(test_flow_cache_lets_last_seen_refresh),
		T(test_handshake_flood_keeps_moved_flows),
		T(test_tcp_reset_records_tcp_going_home),
		T(test_tcp_reset_records_nothing_else),
#undef T
	};
	return scenario_run_group("detour_xdp", &xdp_engine, test_setup, own, SCENARIO_N(own),
				  group_setup, group_teardown);
}
