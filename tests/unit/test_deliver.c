// SPDX-License-Identifier: GPL-2.0-only
/*
 * The deliver step of dataplane/core/deliver.h on the host, with the site and egress tables in
 * plain arrays: each delivery mode and its rerouted reason, the egress it picks, the IPv6 outer
 * flow label (from the decision's hash, else asked of the tables), and every refusal (no site
 * data, no delivery mode, no egress device, a rewrite that refuses) leaving the frame as it came;
 * a packet too big for the site's path answered (TX), rate-limited or dropped (too_big.h).
 * The rewrites themselves are proven byte for byte by test_rewrite.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <string.h>

#include "dataplane/core/dt_buf.h"
#include "dataplane/core/parse.h"
#include "dataplane/core/flow_hash.h"

#define SEED 0x5eed1234u
#define HEADROOM 66 /* 2 mod 4: the IP header lands 4-byte aligned */
#define FRAME_LEN (14 + 20 + 20)
#define SITE 5
#define EGRESS_PORT 3
#define EGRESS_TOKEN 42u

struct dt_tables {
	struct dt_site site[DT_MAX_SITES];
	bool configured[DT_MAX_SITES];
	__u32 egress[DT_MAX_EGRESS_PORTS]; /* port -> token; 0: no device */
	unsigned int egress_asked, hash_asked;
	struct dt_icmp_bucket bucket;
	__u64 now;
};

static const struct dt_site *dt_tables_site(struct dt_tables *t, __u32 site)
{
	return site < DT_MAX_SITES && t->configured[site] ? &t->site[site] : NULL;
}

static bool dt_tables_egress(struct dt_tables *t, const struct dt_buf *b,
			     const struct dt_site *site, __u32 *egress)
{
	t->egress_asked++;
	*egress = site->egress_port < DT_MAX_EGRESS_PORTS ? t->egress[site->egress_port] : 0;
	return *egress != 0;
}

static __u32 dt_tables_flow_hash(struct dt_tables *t, const struct dt_flow_key *k)
{
	t->hash_asked++;
	return dt_flow_hash(k, SEED);
}

static struct dt_icmp_bucket *dt_tables_icmp_bucket(struct dt_tables *t)
{
	return &t->bucket;
}

static __u64 dt_tables_now(struct dt_tables *t)
{
	return t->now;
}

#include "dataplane/core/deliver.h"

static bool clamped;

struct fixture {
	struct dt_tables t;
	__u8 mem[HEADROOM + FRAME_LEN] __attribute__((aligned(4)));
	__u8 orig[HEADROOM + FRAME_LEN];
	struct dt_host_buf hb;
	struct dt_buf b;
	struct dt_packet pkt;
};

static __u16 get_be16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

/* IPv4 header checksum, RFC 1071, for the frame built below. */
static void ipv4_checksum(__u8 *ip)
{
	__u32 sum = 0;
	int i;

	ip[10] = ip[11] = 0;
	for (i = 0; i < 20; i += 2)
		sum += (__u32)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (__u8)(~sum >> 8);
	ip[11] = (__u8)~sum;
}

/* 198.19.0.1:40000 -> 198.18.10.1:443, TCP ACK, TTL @ttl, untagged. */
static void frame_build(struct fixture *f, __u8 ttl)
{
	__u8 *eth = f->mem + HEADROOM, *ip = eth + 14, *tcp = ip + 20;

	memset(f->mem, 0xa5, sizeof(f->mem));
	memset(eth, 0, FRAME_LEN);
	memcpy(eth, (const __u8[]){ 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00 }, 14);
	memcpy(ip, (const __u8[]){ 0x45, 0, 0,	 40, 0, 1, 0x40, 0,  ttl, 6,
				   0,	 0, 198, 19, 0, 1, 198,	 18, 10,  1 },
	       20);
	ipv4_checksum(ip);
	memcpy(tcp, (const __u8[]){ 0x9c, 0x40, 0x01, 0xbb }, 4);
	tcp[12] = 5 << 4;
	tcp[13] = 0x10;
	memcpy(f->orig, f->mem, sizeof(f->mem));
	f->hb = (struct dt_host_buf){
		.base = f->mem, .head = HEADROOM, .len = FRAME_LEN, .cap = sizeof(f->mem)
	};
	dt_buf_init(&f->b, &f->hb);
	assert_int_equal(dt_parse_packet(f->b.data, f->b.data_end, &f->pkt), 0);
}

static void site_set(struct fixture *f, __u8 delivery, __u8 tunnel_family)
{
	struct dt_site *s = &f->t.site[SITE];

	memset(s, 0, sizeof(*s));
	s->delivery = delivery;
	s->tunnel_family = tunnel_family;
	s->egress_port = EGRESS_PORT;
	s->mtu = 1500;
	memcpy(s->dst_mac, (const __u8[]){ 2, 0x5e, 0, 0, 0, SITE }, 6);
	memcpy(s->src_mac, (const __u8[]){ 2, 0xed, 0, 0, 0xee, SITE }, 6);
	s->tunnel_src[0] = htobe32(0xc0000201);
	s->tunnel_dst[0] = htobe32(0xc0000202);
	if (tunnel_family == DT_FAMILY_V6) {
		s->tunnel_src[0] = htobe32(0x20010db8);
		s->tunnel_src[3] = htobe32(1);
		s->tunnel_dst[0] = htobe32(0x20010db8);
		s->tunnel_dst[3] = htobe32(2);
	}
	f->t.configured[SITE] = true;
	f->t.egress[EGRESS_PORT] = EGRESS_TOKEN;
}

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	frame_build(&f, 64);
	*state = &f;
	return 0;
}

static const __u8 *frame(const struct fixture *f)
{
	return f->hb.base + f->hb.head;
}

static void assert_untouched(const struct fixture *f)
{
	assert_int_equal(f->hb.head, HEADROOM);
	assert_int_equal(f->hb.len, FRAME_LEN);
	assert_memory_equal(f->mem, f->orig, sizeof(f->mem));
}

static __u32 outer_flow_label(const struct fixture *f)
{
	const __u8 *p = frame(f) + 14;

	return (__u32)(p[1] & 0x0f) << 16 | (__u32)p[2] << 8 | p[3];
}

static void test_route_is_rerouted_route(void **state)
{
	struct fixture *f = *state;
	__u32 egress = 0;

	site_set(f, DT_DELIVERY_ROUTE, DT_FAMILY_V6); /* a tunnel family route does not use */
	assert_int_equal(dt_deliver(&f->t, &f->b, &f->pkt, SITE, 0, &egress, &clamped),
			 DT_REASON_REROUTED_ROUTE);
	assert_int_equal(egress, EGRESS_TOKEN);
	assert_memory_equal(frame(f), f->t.site[SITE].dst_mac, 6);
	assert_memory_equal(frame(f) + 6, f->t.site[SITE].src_mac, 6);
	assert_int_equal(frame(f)[14 + 8], 63); /* TTL */
	assert_int_equal(f->t.hash_asked, 0);
}

static void test_ipip_v4_is_rerouted_ipip(void **state)
{
	struct fixture *f = *state;
	__u32 egress = 0;

	site_set(f, DT_DELIVERY_IPIP, DT_FAMILY_V4);
	assert_int_equal(dt_deliver(&f->t, &f->b, &f->pkt, SITE, 0, &egress, &clamped),
			 DT_REASON_REROUTED_IPIP);
	assert_int_equal(egress, EGRESS_TOKEN);
	assert_int_equal(f->hb.len, FRAME_LEN + 20);
	assert_int_equal(frame(f)[14], 0x45);
	assert_int_equal(frame(f)[14 + 9], 4); /* IP-in-IP */
	assert_int_equal(f->t.hash_asked, 0); /* an IPv4 outer has no flow label */
}

/* A flow just given a target brings its hash: the label is that, and nothing is recomputed. */
static void test_ipip_v6_label_from_decision(void **state)
{
	struct fixture *f = *state;
	__u32 egress = 0, hash = 0x89abcdefu;

	site_set(f, DT_DELIVERY_IPIP, DT_FAMILY_V6);
	assert_int_equal(dt_deliver(&f->t, &f->b, &f->pkt, SITE, hash, &egress, &clamped),
			 DT_REASON_REROUTED_IPIP);
	assert_int_equal(f->hb.len, FRAME_LEN + 40);
	assert_int_equal(frame(f)[14] >> 4, 6);
	assert_int_equal(outer_flow_label(f), hash & DT_FLOW_LABEL_MASK);
	assert_int_equal(f->t.hash_asked, 0);
}

/* A flow the table knew, or one that stays home, has no hash yet: it is asked for, once. */
static void test_ipip_v6_label_asked_when_unhashed(void **state)
{
	struct fixture *f = *state;
	__u32 egress = 0;
	struct dt_flow_key key = f->pkt.key;

	site_set(f, DT_DELIVERY_IPIP, DT_FAMILY_V6);
	assert_int_equal(dt_deliver(&f->t, &f->b, &f->pkt, SITE, 0, &egress, &clamped),
			 DT_REASON_REROUTED_IPIP);
	assert_int_equal(f->t.hash_asked, 1);
	assert_int_equal(outer_flow_label(f), dt_flow_hash(&key, SEED) & DT_FLOW_LABEL_MASK);
}

/* Refused with @reason: the frame reaches the kernel exactly as it came. */
static void expect_refused(struct fixture *f, int reason)
{
	__u32 egress = 0;

	assert_int_equal(dt_deliver(&f->t, &f->b, &f->pkt, SITE, 0, &egress, &clamped), -reason);
	assert_untouched(f);
}

static void test_no_site_data_is_no_site_config(void **state)
{
	struct fixture *f = *state;

	f->t.egress[EGRESS_PORT] = EGRESS_TOKEN;
	expect_refused(f, DT_REASON_NO_SITE_CONFIG);
	assert_int_equal(f->t.egress_asked, 0);
}

static void test_delivery_none_is_no_site_config(void **state)
{
	struct fixture *f = *state;

	site_set(f, DT_DELIVERY_NONE, DT_FAMILY_V4);
	expect_refused(f, DT_REASON_NO_SITE_CONFIG);
	assert_int_equal(f->t.egress_asked, 0);
}

/* The egress is resolved before the frame is touched: a missing device leaks no rewrite. */
static void test_no_egress_device_is_no_site_config(void **state)
{
	struct fixture *f = *state;

	site_set(f, DT_DELIVERY_ROUTE, DT_FAMILY_NONE);
	f->t.egress[EGRESS_PORT] = 0;
	expect_refused(f, DT_REASON_NO_SITE_CONFIG);
	assert_int_equal(f->t.egress_asked, 1);
}

static void test_ipip_without_tunnel_is_no_site_config(void **state)
{
	struct fixture *f = *state;

	site_set(f, DT_DELIVERY_IPIP, DT_FAMILY_NONE);
	expect_refused(f, DT_REASON_NO_SITE_CONFIG);
}

/* What the rewrite refuses (TTL) is the reason. */
static void test_rewrite_refusal_is_its_reason(void **state)
{
	struct fixture *f = *state;

	frame_build(f, 1);
	site_set(f, DT_DELIVERY_ROUTE, DT_FAMILY_NONE);
	expect_refused(f, DT_REASON_TTL_EXPIRED);
}

/*
 * Too big for the site's path (DF set): answered, sent back (TX), never refused to the kernel;
 * the bucket's DT_ICMP_BURST answers, then dropped as rate-limited until a token is due.
 */
static void test_too_big_is_answered_then_rate_limited(void **state)
{
	struct fixture *f = *state;
	__u32 egress = 0;
	int i, ret;

	site_set(f, DT_DELIVERY_IPIP, DT_FAMILY_V4);
	f->t.site[SITE].mtu = FRAME_LEN - 14 + 20 - 1; /* one byte short once encapsulated */
	f->t.now = 5000000000ull;
	for (i = 0; i < DT_ICMP_BURST; i++) {
		frame_build(f, 64);
		ret = dt_deliver(&f->t, &f->b, &f->pkt, SITE, 0, &egress, &clamped);
		assert_int_equal(ret, DT_REASON_TOO_BIG_ICMP);
		assert_int_equal(dt_deliver_verdict(ret), DT_VERDICT_TX);
		assert_int_equal(frame(f)[14 + 20], 3); /* destination unreachable */
		assert_int_equal(get_be16(frame(f) + 14 + 26), FRAME_LEN - 14 - 1);
	}
	frame_build(f, 64);
	ret = dt_deliver(&f->t, &f->b, &f->pkt, SITE, 0, &egress, &clamped);
	assert_int_equal(ret, DT_REASON_TOO_BIG_RATE_LIMITED);
	assert_int_equal(dt_deliver_verdict(ret), DT_VERDICT_DROP);
	assert_untouched(f);
	f->t.now += DT_ICMP_TOKEN_NS;
	assert_int_equal(dt_deliver(&f->t, &f->b, &f->pkt, SITE, 0, &egress, &clamped),
			 DT_REASON_TOO_BIG_ICMP);
}

/* IPv4 without DF may not be answered: dropped (a router would fragment; we cannot). */
static void test_too_big_without_df_is_dropped(void **state)
{
	struct fixture *f = *state;
	__u32 egress = 0;
	int ret;

	site_set(f, DT_DELIVERY_ROUTE, DT_FAMILY_NONE);
	f->t.site[SITE].mtu = FRAME_LEN - 14 - 1;
	f->mem[HEADROOM + 14 + 6] = 0; /* DF off */
	ipv4_checksum(f->mem + HEADROOM + 14);
	memcpy(f->orig, f->mem, sizeof(f->mem));
	ret = dt_deliver(&f->t, &f->b, &f->pkt, SITE, 0, &egress, &clamped);
	assert_int_equal(ret, DT_REASON_TOO_BIG_DROPPED);
	assert_int_equal(dt_deliver_verdict(ret), DT_VERDICT_DROP);
	assert_untouched(f);
	assert_int_equal(f->t.bucket.tokens, 0); /* no token spent on it */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup(name, setup)
		T(test_route_is_rerouted_route),
		T(test_ipip_v4_is_rerouted_ipip),
		T(test_ipip_v6_label_from_decision),
		T(test_ipip_v6_label_asked_when_unhashed),
		T(test_no_site_data_is_no_site_config),
		T(test_delivery_none_is_no_site_config),
		T(test_no_egress_device_is_no_site_config),
		T(test_ipip_without_tunnel_is_no_site_config),
		T(test_rewrite_refusal_is_its_reason),
		T(test_too_big_is_answered_then_rate_limited),
		T(test_too_big_without_df_is_dropped),
#undef T
	};

	return cmocka_run_group_tests_name("deliver", tests, NULL, NULL);
}
