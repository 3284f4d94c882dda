// SPDX-License-Identifier: GPL-2.0-only
/*
 * The decision policy of dataplane/core/decide.h on the host, with the tables in plain arrays:
 * every state of the home site, flow-table stickiness, drain and recovery rules, fail open, and
 * the weighted, minimally disruptive choice of a target. The same behaviours are proven in the
 * kernel by tests/bpf/test_detour.c with real packets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/core/detour_abi.h"
#include "dataplane/core/flow_hash.h"
#include "failover_slots.h"

#define TEST_FLOWS 4096
#define SEED 0x12345678u

/* One /24 prefix per test, home site HOME; failover sites A (weight 1), B (1) and C (2). */
enum { HOME = 1, SITE_A = 2, SITE_B = 3, SITE_C = 4 };

struct host_flow {
	bool used;
	struct dt_flow_key key;
	struct dt_flow_state v;
};

struct dt_tables {
	__be32 prefix_addr; /* one IPv4 /24 is enough for the policy */
	struct dt_prefix_info prefix;
	__u32 state[DT_MAX_SITES];
	struct dt_failover_slots failover[DT_MAX_SITES];
	struct host_flow flows[TEST_FLOWS];
	bool flows_full; /* make inserts fail */
	struct dt_flow_bucket bucket;
	__u32 seen[DT_SEEN_SLOTS];
	__u64 now;
	unsigned int flow_lookups, flow_writes, clock_reads;
};

static const struct dt_prefix_info *dt_tables_prefix(struct dt_tables *t,
						     const struct dt_flow_key *k)
{
	if (k->family != DT_FAMILY_V4 || (k->daddr[0] & htobe32(0xffffff00)) != t->prefix_addr)
		return NULL;
	return &t->prefix;
}

static __u32 dt_tables_site_state(struct dt_tables *t, __u32 site)
{
	return site < DT_MAX_SITES ? t->state[site] : DT_SITE_UNKNOWN;
}

static const struct dt_failover_slots *dt_tables_failover(struct dt_tables *t, __u32 home)
{
	return home < DT_MAX_SITES ? &t->failover[home] : NULL;
}

static struct host_flow *host_flow_find(struct dt_tables *t, const struct dt_flow_key *k)
{
	unsigned int i;

	for (i = 0; i < TEST_FLOWS; i++)
		if (t->flows[i].used && !memcmp(&t->flows[i].key, k, sizeof(*k)))
			return &t->flows[i];
	return NULL;
}

static struct dt_flow_state *dt_tables_flow(struct dt_tables *t, const struct dt_flow_key *k)
{
	struct host_flow *f = host_flow_find(t, k);

	t->flow_lookups++;
	return f ? &f->v : NULL;
}

static int dt_tables_flow_record(struct dt_tables *t, const struct dt_flow_key *k,
				 const struct dt_flow_state *v)
{
	struct host_flow *f = host_flow_find(t, k);
	unsigned int i;

	t->flow_writes++;
	for (i = 0; !f && !t->flows_full && i < TEST_FLOWS; i++)
		if (!t->flows[i].used)
			f = &t->flows[i];
	if (!f)
		return -1;
	f->used = true;
	f->key = *k;
	f->v = *v;
	return 0;
}

static struct dt_flow_bucket *dt_tables_flow_bucket(struct dt_tables *t)
{
	return &t->bucket;
}

static __u32 *dt_tables_seen_slot(struct dt_tables *t, const struct dt_flow_key *k)
{
	return &t->seen[dt_seen_index(k)];
}

static __u32 dt_tables_seen_now(struct dt_tables *t)
{
	return (__u32)(t->now / 1000000) ?: 1; /* ms */
}

static __u32 dt_tables_seen_hz(struct dt_tables *t)
{
	return 1000;
}

static __u64 dt_tables_now(struct dt_tables *t)
{
	t->clock_reads++;
	return t->now;
}

static __u32 dt_tables_flow_hash(struct dt_tables *t, const struct dt_flow_key *k)
{
	return dt_flow_hash(k, SEED);
}

#include "dataplane/core/decide.h"

static struct dt_tables *tables_new(void)
{
	const struct dt_failover_entry list[] = { { SITE_A, 1 }, { SITE_B, 1 }, { SITE_C, 2 } };
	struct dt_tables *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->prefix_addr = htobe32(0xc6120a00); /* 198.18.10.0/24 */
	t->prefix.home_site = HOME;
	t->state[HOME] = t->state[SITE_A] = t->state[SITE_B] = t->state[SITE_C] = DT_SITE_UP;
	assert_int_equal(dt_failover_slots__compute(&t->failover[HOME], HOME, list, 3, SEED), 0);
	t->now = 1000000000ull;
	return t;
}

static int setup(void **state)
{
	*state = tables_new();
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* Client 198.19.x.y:port -> service 198.18.10.1:443 */
static struct dt_packet flow_packet(unsigned int n, __u8 proto, __u8 tcp_flags)
{
	struct dt_packet p = { 0 };

	p.key.family = DT_FAMILY_V4;
	p.key.proto = proto;
	p.key.saddr[0] = htobe32(0xc6130000 | (n >> 8));
	p.key.daddr[0] = htobe32(0xc6120a01);
	p.key.sport = htobe16((__u16)(1024 + (n & 0xff) * 97));
	p.key.dport = htobe16(443);
	p.l3_proto = 0x0800;
	p.ttl = 64;
	p.tcp_flags = tcp_flags;
	return p;
}

#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define PROTO_TCP 6
#define PROTO_UDP 17

static struct dt_decision decide(struct dt_tables *t, const struct dt_packet *p)
{
	struct dt_decision d;

	dt_decide(t, p, &d);
	return d;
}

static void test_no_prefix_passes_without_touching_flows(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(1, PROTO_TCP, TCP_SYN);
	struct dt_decision d;

	p.key.daddr[0] = htobe32(0xc6120b01); /* 198.18.11.1: no prefix */
	t->state[HOME] = DT_SITE_DOWN;
	d = decide(t, &p);
	assert_int_equal(d.reason, DT_REASON_NO_PREFIX);
	assert_int_equal(d.home, DT_SITE_NONE);
	assert_int_equal(t->flow_lookups + t->flow_writes, 0);
}

static void test_home_up_passes_without_touching_flows(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(1, PROTO_TCP, TCP_SYN);
	struct dt_decision d = decide(t, &p);

	assert_int_equal(d.reason, DT_REASON_HOME_UP);
	assert_int_equal(d.home, HOME);
	assert_int_equal(d.target, HOME);
	assert_int_equal(t->flow_lookups + t->flow_writes, 0);
}

static void test_home_down_moves_to_first_healthy_candidate(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(7, PROTO_TCP, TCP_SYN);
	struct dt_decision d;
	struct dt_flow_state *f;
	__u32 slot;

	t->state[HOME] = DT_SITE_DOWN;
	d = decide(t, &p);
	assert_int_equal(d.reason, DT_REASON_NONE);
	assert_int_equal(d.hash, dt_flow_hash(&p.key, SEED));
	slot = d.hash & (DT_FAILOVER_SLOTS - 1);
	assert_int_equal(d.target, t->failover[HOME].cand[slot][0]);
	f = dt_tables_flow(t, &p.key);
	assert_non_null(f);
	assert_int_equal(f->target_site, d.target);
	assert_int_equal(f->home_site, HOME);
	assert_int_equal(f->flags, DT_FLOW_F_NEW);
	assert_int_equal(f->last_seen_ns, t->now);
	/* its next packet shows it is real: promoted to the established class */
	p.tcp_flags = TCP_ACK;
	t->now += 1000;
	assert_int_equal(decide(t, &p).target, d.target);
	assert_int_equal(f->flags, 0);
	assert_int_equal(f->last_seen_ns, t->now);
}

/* In DOWN, a mid-stream TCP packet of a flow the table does not know follows the hash, unrecorded. */
static void test_home_down_records_no_unknown_established_tcp(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(8, PROTO_TCP, TCP_ACK);
	struct dt_decision d;

	t->state[HOME] = DT_SITE_DOWN;
	d = decide(t, &p);
	assert_int_equal(d.reason, DT_REASON_NONE);
	assert_int_equal(d.target, t->failover[HOME].cand[d.hash & (DT_FAILOVER_SLOTS - 1)][0]);
	assert_int_equal(t->flow_writes, 0);
}

/* A repeated SYN does not promote; an ICMP error neither records nor promotes. */
static void test_only_a_later_packet_promotes(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(9, PROTO_TCP, TCP_SYN);

	t->state[HOME] = DT_SITE_DOWN;
	decide(t, &p);
	decide(t, &p);
	assert_int_equal(dt_tables_flow(t, &p.key)->flags, DT_FLOW_F_NEW);
	p.flags = DT_PKT_F_ICMP_ERROR;
	p.tcp_flags = 0;
	assert_int_equal(decide(t, &p).reason, DT_REASON_NONE);
	assert_int_equal(dt_tables_flow(t, &p.key)->flags, DT_FLOW_F_NEW);
	assert_int_equal(t->flow_writes, 1);
}

/* Promotions take a token each: a burst's worth, then one per interval; a refused one waits. */
static void test_promotions_are_rate_limited(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(10, PROTO_UDP, 0);
	struct dt_decision d;
	unsigned int i;

	t->state[HOME] = DT_SITE_DOWN;
	for (i = 0; i < DT_FLOW_PROMOTE_BURST; i++)
		assert_true(dt_flow_bucket_take(t));
	decide(t, &p);
	d = decide(t, &p);
	assert_int_equal(d.reason, DT_REASON_NONE);
	assert_int_equal(d.event, DT_REASON_FLOW_PROMOTE_LIMITED);
	assert_int_equal(dt_tables_flow(t, &p.key)->flags, DT_FLOW_F_NEW);
	t->now += DT_FLOW_PROMOTE_INTERVAL_NS;
	d = decide(t, &p);
	assert_int_equal(d.event, 0);
	assert_int_equal(dt_tables_flow(t, &p.key)->flags, 0);
	assert_false(dt_flow_bucket_take(t));
}

/* An ICMP error about a moved flow whose target died follows the hash but rewrites nothing. */
static void test_icmp_error_of_a_flow_whose_target_died_records_nothing(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(16, PROTO_TCP, TCP_SYN);
	struct dt_decision d1, d2;
	unsigned int writes;

	t->state[HOME] = DT_SITE_DOWN;
	d1 = decide(t, &p);
	t->state[d1.target] = DT_SITE_DOWN;
	writes = t->flow_writes;
	p.flags = DT_PKT_F_ICMP_ERROR;
	p.tcp_flags = 0;
	d2 = decide(t, &p);
	assert_int_equal(d2.reason, DT_REASON_NONE);
	assert_int_not_equal(d2.target, d1.target);
	assert_int_equal(t->flow_writes, writes);
	assert_int_equal(dt_tables_flow(t, &p.key)->target_site, d1.target);
}

/* During a drain, an ICMP error about a flow the table does not know goes home, unrecorded. */
static void test_draining_icmp_error_pins_nothing(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(15, PROTO_TCP, 0);
	struct dt_decision d;

	p.flags = DT_PKT_F_ICMP_ERROR;
	t->state[HOME] = DT_SITE_DRAINING;
	assert_int_equal(decide(t, &p).reason, DT_REASON_HOME_UP);
	assert_int_equal(t->flow_writes, 0);
	/* the flow's real first packet then moves it */
	p.flags = 0;
	p.tcp_flags = TCP_SYN;
	d = decide(t, &p);
	assert_int_equal(d.reason, DT_REASON_NONE);
	assert_int_not_equal(d.target, HOME);
}

static void test_unknown_home_passes(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(7, PROTO_UDP, 0);

	t->state[HOME] = DT_SITE_UNKNOWN;
	assert_int_equal(decide(t, &p).reason, DT_REASON_HOME_UP);
}

/* Once moved, a flow stays on its target even when a better-ranked candidate comes back. */
static void test_moved_flow_is_sticky(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(11, PROTO_TCP, TCP_SYN);
	__u32 slot = dt_flow_hash(&p.key, SEED) & (DT_FAILOVER_SLOTS - 1);
	__u32 first = t->failover[HOME].cand[slot][0];
	__u32 second = t->failover[HOME].cand[slot][1];
	struct dt_decision d;

	t->state[HOME] = DT_SITE_DOWN;
	t->state[first] = DT_SITE_DOWN;
	assert_int_equal(decide(t, &p).target, second);
	t->state[first] = DT_SITE_UP;
	d = decide(t, &p);
	assert_int_equal(d.reason, DT_REASON_NONE);
	assert_int_equal(d.target, second);
}

/* A moved flow whose target dies is chosen again, and the table updated. */
static void test_flow_whose_target_died_is_moved_again(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(12, PROTO_TCP, TCP_SYN);
	struct dt_decision d1, d2;

	t->state[HOME] = DT_SITE_DOWN;
	d1 = decide(t, &p);
	t->state[d1.target] = DT_SITE_DOWN;
	d2 = decide(t, &p);
	assert_int_equal(d2.reason, DT_REASON_NONE);
	assert_int_not_equal(d2.target, d1.target);
	assert_int_equal(dt_tables_flow(t, &p.key)->target_site, d2.target);
}

static void test_no_healthy_site_fails_open(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(13, PROTO_UDP, 0);
	struct dt_decision d;

	t->state[HOME] = t->state[SITE_A] = t->state[SITE_B] = DT_SITE_DOWN;
	t->state[SITE_C] = DT_SITE_DRAINING; /* serves its own flows, takes no new ones */
	d = decide(t, &p);
	assert_int_equal(d.reason, DT_REASON_NO_HEALTHY_SITE);
	assert_int_equal(d.target, HOME);
	assert_int_equal(t->flow_writes, 0);
}

/* A recovering site is healthy: it takes over flows of another site that fails. */
static void test_recovering_site_takes_over(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(14, PROTO_UDP, 0);
	struct dt_decision d;

	t->state[HOME] = t->state[SITE_A] = t->state[SITE_B] = DT_SITE_DOWN;
	t->state[SITE_C] = DT_SITE_RECOVERING;
	d = decide(t, &p);
	assert_int_equal(d.reason, DT_REASON_NONE);
	assert_int_equal(d.target, SITE_C);
}

static void test_draining_moves_new_tcp_and_keeps_established(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet syn = flow_packet(20, PROTO_TCP, TCP_SYN);
	struct dt_packet est = flow_packet(21, PROTO_TCP, TCP_ACK);
	struct dt_packet synack = flow_packet(22, PROTO_TCP, TCP_SYN | TCP_ACK);
	struct dt_decision d;

	t->state[HOME] = DT_SITE_DRAINING;
	d = decide(t, &syn);
	assert_int_equal(d.reason, DT_REASON_NONE);
	assert_int_not_equal(d.target, HOME);
	assert_int_equal(dt_tables_flow(t, &syn.key)->flags, DT_FLOW_F_NEW);
	/* the rest of the moved connection follows it, promoted */
	syn.tcp_flags = TCP_ACK;
	assert_int_equal(decide(t, &syn).target, d.target);
	assert_int_equal(dt_tables_flow(t, &syn.key)->flags, 0);

	d = decide(t, &est);
	assert_int_equal(d.reason, DT_REASON_HOME_UP);
	assert_int_equal(dt_tables_flow(t, &est.key)->flags, DT_FLOW_F_HOME | DT_FLOW_F_NEW);
	/* even a later SYN-looking packet of an established flow stays home */
	est.tcp_flags = TCP_SYN;
	assert_int_equal(decide(t, &est).reason, DT_REASON_HOME_UP);

	assert_int_equal(decide(t, &synack).reason, DT_REASON_HOME_UP);
}

static void test_draining_moves_unknown_udp(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(30, PROTO_UDP, 0);
	struct dt_decision d;

	t->state[HOME] = DT_SITE_DRAINING;
	d = decide(t, &p);
	assert_int_equal(d.reason, DT_REASON_NONE);
	assert_non_null(dt_tables_flow(t, &p.key));
}

/* A UDP flow seen at home before the drain stays home while it keeps sending; others move. */
static void test_draining_keeps_udp_seen_at_home(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet est = flow_packet(32, PROTO_UDP, 0), fresh = flow_packet(33, PROTO_UDP, 0);
	struct dt_decision d;
	int i;

	assert_int_not_equal(dt_seen_index(&est.key), dt_seen_index(&fresh.key));
	assert_int_equal(decide(t, &est).reason, DT_REASON_HOME_UP); /* UP: stamped */
	t->state[HOME] = DT_SITE_DRAINING;
	t->now += 5 * 1000000000ull;
	d = decide(t, &est);
	assert_int_equal(d.reason, DT_REASON_HOME_UP);
	assert_int_equal(dt_tables_flow(t, &est.key)->flags, DT_FLOW_F_HOME | DT_FLOW_F_NEW);
	d = decide(t, &fresh);
	assert_int_equal(d.reason, DT_REASON_NONE);
	assert_int_not_equal(d.target, HOME);
	/* it keeps sending, every 50 s, for 5 minutes, its entry evicted each time: still home */
	for (i = 0; i < 6; i++) {
		memset(t->flows, 0, sizeof(t->flows));
		t->now += 50 * 1000000000ull;
		assert_int_equal(decide(t, &est).reason, DT_REASON_HOME_UP);
	}
	/* silent for longer than the window: a new flow */
	memset(t->flows, 0, sizeof(t->flows));
	t->now += (DT_SEEN_WINDOW_S + 1) * 1000000000ull;
	assert_int_equal(decide(t, &est).reason, DT_REASON_NONE);
}

/* A stateless prefix's flows are not stamped: they may all move. */
static void test_stateless_udp_is_not_stamped(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(34, PROTO_UDP, 0);

	t->prefix.flags = DT_PREFIX_F_STATELESS;
	decide(t, &p);
	assert_int_equal(*dt_tables_seen_slot(t, &p.key), 0);
	p.key.proto = PROTO_TCP;
	t->prefix.flags = 0;
	decide(t, &p);
	assert_int_equal(*dt_tables_seen_slot(t, &p.key), 0); /* TCP needs none */
}

static void test_draining_stateless_moves_everything_without_records(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet est = flow_packet(31, PROTO_TCP, TCP_ACK);

	t->prefix.flags = DT_PREFIX_F_STATELESS;
	t->state[HOME] = DT_SITE_DRAINING;
	assert_int_equal(decide(t, &est).reason, DT_REASON_NONE);
	assert_int_equal(t->flow_lookups + t->flow_writes, 0);
}

static void test_recovering_keeps_moved_flows_and_sends_new_home(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet moved = flow_packet(40, PROTO_TCP, TCP_SYN);
	struct dt_packet fresh = flow_packet(41, PROTO_TCP, TCP_SYN);
	struct dt_decision d1, d2;
	unsigned int writes;

	t->state[HOME] = DT_SITE_DOWN;
	d1 = decide(t, &moved);
	t->state[HOME] = DT_SITE_RECOVERING;
	writes = t->flow_writes;
	moved.tcp_flags = TCP_ACK;
	d2 = decide(t, &moved);
	assert_int_equal(d2.reason, DT_REASON_NONE);
	assert_int_equal(d2.target, d1.target);
	assert_int_equal(dt_tables_flow(t, &moved.key)->flags, 0); /* its ACK promoted it */
	assert_int_equal(decide(t, &fresh).reason, DT_REASON_HOME_UP);
	assert_int_equal(t->flow_writes, writes + 1); /* recovery records nothing new */
	/* the target of a moved flow dies during recovery: the flow goes home */
	t->state[d1.target] = DT_SITE_DOWN;
	assert_int_equal(decide(t, &moved).reason, DT_REASON_HOME_UP);
}

static void test_last_seen_refresh_is_rate_limited(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(50, PROTO_UDP, 0);
	__u64 start = t->now;

	t->state[HOME] = DT_SITE_DOWN;
	decide(t, &p);
	decide(t, &p); /* promoted */
	t->now += DT_FLOW_REFRESH_NS - 1;
	decide(t, &p);
	assert_int_equal(dt_tables_flow(t, &p.key)->last_seen_ns, start);
	t->now += 1;
	decide(t, &p);
	assert_int_equal(dt_tables_flow(t, &p.key)->last_seen_ns, t->now);
}

/* A dataplane's fresh private copy (DT_FLOW_F_CACHED) is decided on alike, without the clock. */
static void test_cached_copy_needs_no_clock(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(51, PROTO_UDP, 0);
	struct dt_flow_state *f;
	struct dt_decision d1, d2;
	unsigned int reads;

	t->state[HOME] = DT_SITE_DOWN;
	d1 = decide(t, &p);
	decide(t, &p); /* promoted: only an established flow is cached */
	f = dt_tables_flow(t, &p.key);
	f->flags |= DT_FLOW_F_CACHED;
	t->now += 10 * DT_FLOW_REFRESH_NS;
	reads = t->clock_reads;
	d2 = decide(t, &p);
	assert_int_equal(d2.reason, DT_REASON_NONE);
	assert_int_equal(d2.target, d1.target);
	assert_int_equal(t->clock_reads, reads);
	assert_int_not_equal(f->last_seen_ns, t->now);
	/* the same entry without the flag is refreshed, by the clock */
	f->flags &= (__u8)~DT_FLOW_F_CACHED;
	decide(t, &p);
	assert_int_equal(t->clock_reads, reads + 1);
	assert_int_equal(f->last_seen_ns, t->now);
}

/* Every fragment of a datagram has the same key (parse.h): a DOWN home's fragments all move. */
static void test_fragments_move_together(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet first = flow_packet(60, PROTO_UDP, 0), later;
	struct dt_decision d1, d2;

	first.key.sport = first.key.dport = 0;
	first.frag = DT_FRAG_FIRST;
	later = first;
	later.frag = DT_FRAG_LATER;
	t->state[HOME] = DT_SITE_DOWN;
	d1 = decide(t, &first);
	assert_int_equal(d1.reason, DT_REASON_NONE);
	d2 = decide(t, &later);
	assert_int_equal(d2.reason, DT_REASON_NONE);
	assert_int_equal(d2.target, d1.target);
	assert_true(dt_decide_reads_flow(t, &t->prefix, &later));
	/* recorded like any flow: its fragments stay when a site it could go to returns */
	assert_non_null(dt_tables_flow(t, &later.key));
}

/*
 * Six failover sites, the first four listed down: every flow goes to one of the other two, none
 * fails open; when one of those fails too, only its flows move.
 */
static void test_six_sites_first_four_down(void **state)
{
	const struct dt_failover_entry list[] = { { 2, 1 }, { 3, 1 }, { 4, 1 },
						  { 5, 1 }, { 6, 1 }, { 7, 1 } };
	static __u32 before[2000];
	struct dt_tables *t = *state;
	unsigned int i, site;

	assert_int_equal(dt_failover_slots__compute(&t->failover[HOME], HOME, list, 6, SEED), 0);
	t->state[HOME] = DT_SITE_DOWN;
	for (site = 2; site <= 7; site++)
		t->state[site] = site <= 5 ? DT_SITE_DOWN : DT_SITE_UP;
	t->prefix.flags = DT_PREFIX_F_STATELESS; /* each packet chooses afresh */
	for (i = 0; i < 2000; i++) {
		struct dt_packet p = flow_packet(i, PROTO_UDP, 0);
		struct dt_decision d = decide(t, &p);

		assert_int_equal(d.reason, DT_REASON_NONE);
		assert_true(d.target == 6 || d.target == 7);
		before[i] = d.target;
	}
	t->state[6] = DT_SITE_DOWN;
	for (i = 0; i < 2000; i++) {
		struct dt_packet p = flow_packet(i, PROTO_UDP, 0);

		assert_int_equal(decide(t, &p).target, 7);
	}
	t->state[6] = DT_SITE_UP;
	t->state[7] = DT_SITE_DOWN;
	for (i = 0; i < 2000; i++) {
		struct dt_packet p = flow_packet(i, PROTO_UDP, 0);

		assert_int_equal(decide(t, &p).target, 6);
	}
	t->state[7] = DT_SITE_UP; /* the same states again: the same choices */
	for (i = 0; i < 2000; i++) {
		struct dt_packet p = flow_packet(i, PROTO_UDP, 0);

		assert_int_equal(decide(t, &p).target, before[i]);
	}
}

/*
 * What `detourctl what-if` counts (dt_failover_slots__shares()) is what the packet path chooses,
 * slot by slot: every mix of the five states over the home and its three failover sites, then
 * random mixes over eight failover sites (past the unrolled first candidates).
 */
static void check_shares_match(struct dt_tables *t)
{
	__u32 count[DT_MAX_SITES], seen[DT_MAX_SITES] = { 0 }, none, seen_none = 0, slot, total = 0;
	unsigned int i;

	none = dt_failover_slots__shares(&t->failover[HOME], HOME, t->state, count);
	for (slot = 0; slot < DT_FAILOVER_SLOTS; slot++) {
		__u32 target = dt_choose_target(t, HOME, slot);

		assert_int_equal(dt_failover_slots__target(&t->failover[HOME], HOME, slot,
							   t->state),
				 target);
		if (target < DT_MAX_SITES)
			seen[target]++;
		else
			seen_none++;
	}
	assert_int_equal(none, seen_none);
	assert_memory_equal(count, seen, sizeof(count));
	for (i = 0; i < DT_MAX_SITES; i++)
		total += count[i];
	assert_int_equal(total + none, DT_FAILOVER_SLOTS);
}

static void test_shares_match_choose_target(void **state)
{
	static const __u32 states[] = { DT_SITE_UNKNOWN, DT_SITE_UP, DT_SITE_DRAINING, DT_SITE_DOWN,
					DT_SITE_RECOVERING };
	const struct dt_failover_entry eight[] = { { 2, 1 }, { 3, 2 }, { 4, 1 }, { 5, 3 },
						   { 6, 1 }, { 7, 1 }, { 8, 5 }, { 9, 1 } };
	struct dt_tables *t = *state;
	unsigned int combo, c, site, lcg = 12345;

	for (combo = 0; combo < 5 * 5 * 5 * 5; combo++) {
		for (c = combo, site = HOME; site <= SITE_C; site++, c /= 5)
			t->state[site] = states[c % 5];
		check_shares_match(t);
	}
	assert_int_equal(dt_failover_slots__compute(&t->failover[HOME], HOME, eight, 8, SEED), 0);
	for (combo = 0; combo < 300; combo++) {
		for (site = HOME; site <= 9; site++) {
			lcg = lcg * 1103515245u + 12345u;
			t->state[site] = states[(lcg >> 16) % 5];
		}
		check_shares_match(t);
	}
}

/* A malformed packet keeps a home that serves flows, and leaves a DOWN one, without a record. */
static void test_malformed_leaves_only_a_down_home(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(61, PROTO_TCP, 0);
	const __u32 stays[] = { DT_SITE_UP, DT_SITE_DRAINING, DT_SITE_RECOVERING };
	struct dt_decision d;
	size_t i;

	p.key.sport = p.key.dport = 0;
	p.malformed = DT_REASON_TRUNCATED;
	for (i = 0; i < sizeof(stays) / sizeof(stays[0]); i++) {
		t->state[HOME] = stays[i];
		d = decide(t, &p);
		/* an UP home's is healthy traffic like any: the healthy path does not look */
		assert_int_equal(d.reason, i ? DT_REASON_TRUNCATED : DT_REASON_HOME_UP);
		assert_int_equal(d.target, HOME);
	}
	t->state[HOME] = DT_SITE_DOWN;
	d = decide(t, &p);
	assert_int_equal(d.reason, DT_REASON_NONE);
	assert_true(d.target == SITE_A || d.target == SITE_B || d.target == SITE_C);
	assert_int_equal(t->flow_lookups + t->flow_writes, 0);
	p.key.daddr[0] = htobe32(0xc6120b01);
	assert_int_equal(decide(t, &p).reason, DT_REASON_NO_PREFIX);
}

static void test_flow_table_full_still_moves(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(70, PROTO_UDP, 0);
	struct dt_decision d;

	t->flows_full = true;
	t->state[HOME] = DT_SITE_DOWN;
	d = decide(t, &p);
	assert_int_equal(d.reason, DT_REASON_NONE);
	assert_int_equal(d.event, DT_REASON_FLOW_INSERT_FAILED);
}

/* Over many flows the targets split by weight (1:1:2) within the stated tolerance. */
static void test_split_follows_weights(void **state)
{
	struct dt_tables *t = *state;
	unsigned int n, count[DT_MAX_SITES] = { 0 };
	const unsigned int flows = 40000;

	t->prefix.flags = DT_PREFIX_F_STATELESS; /* no flow table: measure the choice itself */
	t->state[HOME] = DT_SITE_DOWN;
	for (n = 0; n < flows; n++) {
		struct dt_packet p = flow_packet(n, PROTO_UDP, 0);

		count[decide(t, &p).target]++;
	}
	/* +-3 percentage points: the slot table quantises to 1/1024 and sampling adds the rest. */
	assert_in_range(count[SITE_A], flows / 4 - flows * 3 / 100, flows / 4 + flows * 3 / 100);
	assert_in_range(count[SITE_B], flows / 4 - flows * 3 / 100, flows / 4 + flows * 3 / 100);
	assert_in_range(count[SITE_C], flows / 2 - flows * 3 / 100, flows / 2 + flows * 3 / 100);
}

/* When a second site fails, only the flows that were on it move; the rest stay put. */
static void test_second_failure_moves_only_its_flows(void **state)
{
	struct dt_tables *t = *state;
	static __u32 before[20000];
	unsigned int n, moved = 0;

	t->prefix.flags = DT_PREFIX_F_STATELESS;
	t->state[HOME] = DT_SITE_DOWN;
	for (n = 0; n < 20000; n++) {
		struct dt_packet p = flow_packet(n, PROTO_UDP, 0);

		before[n] = decide(t, &p).target;
	}
	t->state[SITE_C] = DT_SITE_DOWN;
	for (n = 0; n < 20000; n++) {
		struct dt_packet p = flow_packet(n, PROTO_UDP, 0);
		__u32 after = decide(t, &p).target;

		if (before[n] == SITE_C) {
			assert_true(after == SITE_A || after == SITE_B);
			moved++;
		} else {
			assert_int_equal(after, before[n]);
		}
	}
	assert_true(moved > 0);
}

/* ---- site_state.h: what each state means, for every state (and one out of range) ----------- */

static const __u32 all_states[] = { DT_SITE_UNKNOWN, DT_SITE_UP,	 DT_SITE_DRAINING,
				    DT_SITE_DOWN,    DT_SITE_RECOVERING, DT_SITE_STATE_MAX };

/* A predicate and what it must say for each of all_states[]. */
struct state_case {
	bool (*pred)(__u32 state);
	bool expect[sizeof(all_states) / sizeof(all_states[0])];
};

static const struct state_case keeps_home = { dt_state_keeps_home,
					      { true, true, false, false, false, false } };
static const struct state_case takes_new_flows = { dt_state_takes_new_flows,
						   { false, true, false, false, true, false } };
static const struct state_case serves_flows = { dt_state_serves_flows,
						{ false, true, true, false, true, false } };
static const struct state_case uses_flow_table = { dt_state_uses_flow_table,
						   { false, false, true, true, true, false } };

static void test_state_predicate(void **state)
{
	const struct state_case *c = *state;
	size_t i;

	for (i = 0; i < sizeof(all_states) / sizeof(all_states[0]); i++)
		assert_int_equal(c->pred(all_states[i]), c->expect[i]);
}

/* One packet: dt_decide_reads_flow() must say beforehand whether dt_decide() reads the table. */
static void check_reads_flow(__u32 home_state, bool stateless, __u8 frag, __u8 proto, __u8 flags)
{
	struct dt_tables *t = tables_new();
	struct dt_packet p = flow_packet(40, proto, flags);
	bool predicted;

	t->state[HOME] = home_state;
	t->prefix.flags = stateless ? DT_PREFIX_F_STATELESS : 0;
	p.frag = frag & 3;
	p.malformed = frag & 4 ? DT_REASON_EXT_HDR_LIMIT : 0;
	predicted = dt_decide_reads_flow(t, &t->prefix, &p);
	decide(t, &p);
	assert_int_equal(predicted, t->flow_lookups > 0);
	free(t);
}

/*
 * For every home state, stateless or not, every fragment kind, malformed (4) or not, new and
 * established TCP, UDP.
 */
static void test_reads_flow_matches_decide(void **state)
{
	const __u8 frags[] = { DT_FRAG_NONE, DT_FRAG_FIRST, DT_FRAG_LATER, 4 | DT_FRAG_NONE };
	size_t s, f;
	int stateless;

	for (s = 0; s < sizeof(all_states) / sizeof(all_states[0]); s++) {
		for (stateless = 0; stateless < 2; stateless++) {
			for (f = 0; f < sizeof(frags); f++) {
				check_reads_flow(all_states[s], stateless, frags[f], PROTO_TCP,
						 TCP_SYN);
				check_reads_flow(all_states[s], stateless, frags[f], PROTO_TCP,
						 TCP_ACK);
				check_reads_flow(all_states[s], stateless, frags[f], PROTO_UDP, 0);
			}
		}
	}
}

/* A home out of range is no prefix to dt_decide(): it reads no flow, and none is predicted. */
static void test_reads_flow_home_out_of_range(void **state)
{
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(41, PROTO_TCP, TCP_ACK);

	t->prefix.home_site = DT_MAX_SITES;
	assert_false(dt_decide_reads_flow(t, &t->prefix, &p));
	assert_int_equal(decide(t, &p).reason, DT_REASON_NO_PREFIX);
	assert_int_equal(t->flow_lookups, 0);
}

/*
 * tcp_reset (tcp_seen.h): the decision asks the engine to record a TCP packet of a flagged prefix
 * going home to an UP site, and nothing else: not without the flag, not in any other state of
 * the home, not for UDP, an ICMP error, a fragment or a malformed packet; and it reads no flow.
 */
static void test_tcp_reset_tracks_only_tcp_going_home_to_an_up_site(void **state)
{
	const __u32 not_up[] = { DT_SITE_UNKNOWN, DT_SITE_DRAINING, DT_SITE_DOWN,
				 DT_SITE_RECOVERING };
	struct dt_tables *t = *state;
	struct dt_packet p = flow_packet(42, PROTO_TCP, TCP_ACK), q;
	unsigned int i;

	p.l4_off = 34;
	assert_int_equal(decide(t, &p).track, 0); /* no flag */
	t->prefix.flags = DT_PREFIX_F_TCP_RESET;
	assert_int_equal(decide(t, &p).track, 1);
	assert_int_equal(decide(t, &p).reason, DT_REASON_HOME_UP);
	t->prefix.flags |= DT_PREFIX_F_STATELESS;
	assert_int_equal(decide(t, &p).track, 1);
	assert_int_equal(t->flow_lookups + t->flow_writes, 0);
	for (i = 0; i < sizeof(not_up) / sizeof(not_up[0]); i++) {
		t->state[HOME] = not_up[i];
		assert_int_equal(decide(t, &p).track, 0);
	}
	t->state[HOME] = DT_SITE_UP;
	q = flow_packet(42, PROTO_UDP, 0);
	q.l4_off = 34;
	assert_int_equal(decide(t, &q).track, 0);
	q = p;
	q.flags |= DT_PKT_F_ICMP_ERROR;
	assert_int_equal(decide(t, &q).track, 0);
	q = p;
	q.frag = DT_FRAG_FIRST;
	assert_int_equal(decide(t, &q).track, 0);
	q = p;
	q.malformed = DT_REASON_TRUNCATED;
	assert_int_equal(decide(t, &q).track, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_no_prefix_passes_without_touching_flows),
		T(test_home_up_passes_without_touching_flows),
		T(test_tcp_reset_tracks_only_tcp_going_home_to_an_up_site),
		T(test_home_down_moves_to_first_healthy_candidate),
		T(test_home_down_records_no_unknown_established_tcp),
		T(test_only_a_later_packet_promotes),
		T(test_promotions_are_rate_limited),
		T(test_draining_icmp_error_pins_nothing),
		T(test_icmp_error_of_a_flow_whose_target_died_records_nothing),
		T(test_unknown_home_passes),
		T(test_moved_flow_is_sticky),
		T(test_flow_whose_target_died_is_moved_again),
		T(test_no_healthy_site_fails_open),
		T(test_recovering_site_takes_over),
		T(test_draining_moves_new_tcp_and_keeps_established),
		T(test_draining_moves_unknown_udp),
		T(test_draining_keeps_udp_seen_at_home),
		T(test_stateless_udp_is_not_stamped),
		T(test_draining_stateless_moves_everything_without_records),
		T(test_recovering_keeps_moved_flows_and_sends_new_home),
		T(test_last_seen_refresh_is_rate_limited),
		T(test_cached_copy_needs_no_clock),
		T(test_fragments_move_together),
		T(test_malformed_leaves_only_a_down_home),
		T(test_six_sites_first_four_down),
		T(test_shares_match_choose_target),
		T(test_flow_table_full_still_moves),
		T(test_split_follows_weights),
		T(test_second_failure_moves_only_its_flows),
#define P(c) { "test_state_" #c, test_state_predicate, NULL, NULL, (void *)&c }
		P(keeps_home),
		P(takes_new_flows),
		P(serves_flows),
		P(uses_flow_table),
#undef P
		T(test_reads_flow_matches_decide),
		T(test_reads_flow_home_out_of_range),
#undef T
	};

	return cmocka_run_group_tests_name("decide", tests, NULL, NULL);
}
