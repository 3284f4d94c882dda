/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * csum.h against an independent checksum written here from its definition (RFC 1071: the one's
 * complement of the one's complement sum of big-endian 16-bit words, odd byte padded with zero).
 * Random headers and segments come from a fixed-seed generator, so a failure reproduces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dataplane/core/csum.h"

#define ROUNDS 20000
#define SEED 0x2545f491u

/* ---- The reference: RFC 1071, byte by byte, no tricks ------------------------------------ */

static uint32_t ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i += 2) {
		uint32_t word = (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);

		sum += word;
		if (sum > 0xffff)
			sum -= 0xffff; /* end-around carry */
	}
	return sum;
}

static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	return (uint16_t)~ref_sum(p, len, 0);
}

/* TCP/UDP/ICMPv6 checksum over a pseudo-header (RFC 793 / 768 / 8200 8.1) and the segment. */
static uint16_t ref_l4_csum(int v6, const uint8_t *src, const uint8_t *dst, uint8_t proto,
			    const uint8_t *seg, size_t len)
{
	uint8_t ph[40] = { 0 };
	size_t alen = v6 ? 16 : 4;

	memcpy(ph, src, alen);
	memcpy(ph + alen, dst, alen);
	if (v6) {
		ph[32] = (uint8_t)(len >> 24);
		ph[33] = (uint8_t)(len >> 16);
		ph[34] = (uint8_t)(len >> 8);
		ph[35] = (uint8_t)len;
		ph[39] = proto;
	} else {
		ph[9] = proto;
		ph[10] = (uint8_t)(len >> 8);
		ph[11] = (uint8_t)len;
	}
	return (uint16_t)~ref_sum(seg, len, ref_sum(ph, v6 ? 40 : 12, 0));
}

/* ---- Small helpers ------------------------------------------------------------------------ */

static uint32_t rng_state = SEED;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void rnd_fill(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The header's fields as the packet core sees them: raw memory, network order. */
static __be16 load_be16(const uint8_t *p)
{
	__be16 v;

	memcpy(&v, p, 2);
	return v;
}

static __be32 load_be32(const uint8_t *p)
{
	__be32 v;

	memcpy(&v, p, 4);
	return v;
}

static void store_sum16(uint8_t *p, __sum16 v)
{
	memcpy(p, &v, 2);
}

static void random_ipv4_header(uint8_t *h)
{
	rnd_fill(h, 20);
	h[0] = 0x45;
	put16(h + 10, 0);
	put16(h + 10, ref_csum(h, 20));
}

/* ---- IPv4 header: incremental == recomputation -------------------------------------------- */

static void test_replace16_matches_recompute(void **state)
{
	uint8_t h[20];

	for (int n = 0; n < ROUNDS; n++) {
		int word = (int)(rnd() % 10);
		uint16_t expect;
		uint8_t to[2];

		if (word == 5)
			continue; /* the checksum itself */
		random_ipv4_header(h);
		rnd_fill(to, 2);
		store_sum16(h + 10, dt_csum_replace16(load_be16(h + 10), load_be16(h + 2 * word),
						      load_be16(to)));
		memcpy(h + 2 * word, to, 2);
		expect = get16(h + 10);
		put16(h + 10, 0);
		assert_int_equal(expect, ref_csum(h, 20));
	}
}

static void test_replace32_matches_recompute(void **state)
{
	uint8_t h[20], to[4];

	for (int n = 0; n < ROUNDS; n++) {
		int off = rnd() & 1 ? 12 : 16; /* saddr or daddr */
		uint16_t expect;

		random_ipv4_header(h);
		rnd_fill(to, 4);
		store_sum16(h + 10, dt_csum_replace32(load_be16(h + 10), load_be32(h + off),
						      load_be32(to)));
		memcpy(h + off, to, 4);
		expect = get16(h + 10);
		put16(h + 10, 0);
		assert_int_equal(expect, ref_csum(h, 20));
	}
}

static void test_ttl_matches_recompute(void **state)
{
	uint8_t h[20];

	for (int n = 0; n < ROUNDS; n++) {
		uint8_t ttl = (uint8_t)rnd();
		uint16_t expect;

		random_ipv4_header(h);
		store_sum16(h + 10, dt_csum_replace_ttl(load_be16(h + 10), h[9], h[8], ttl));
		h[8] = ttl;
		expect = get16(h + 10);
		put16(h + 10, 0);
		assert_int_equal(expect, ref_csum(h, 20));
	}
}

/* Decrementing from 1 down to 0 and from 255: the carry/borrow ends of the byte. */
static void test_ttl_edges(void **state)
{
	static const uint8_t ttls[][2] = { { 1, 0 }, { 0, 255 }, { 255, 254 }, { 64, 63 } };
	uint8_t h[20];

	for (size_t i = 0; i < sizeof(ttls) / sizeof(ttls[0]); i++) {
		for (int n = 0; n < 1000; n++) {
			random_ipv4_header(h);
			h[8] = ttls[i][0];
			put16(h + 10, 0);
			put16(h + 10, ref_csum(h, 20));
			store_sum16(h + 10,
				    dt_csum_replace_ttl(load_be16(h + 10), h[9], h[8], ttls[i][1]));
			h[8] = ttls[i][1];
			assert_int_equal(ref_sum(h, 20, 0), 0xffff); /* header verifies */
		}
	}
}

static void test_full_ipv4_header(void **state)
{
	uint8_t h[20] __attribute__((aligned(4))); /* read through struct iphdr */

	for (int n = 0; n < ROUNDS; n++) {
		uint16_t expect;
		__sum16 got;

		random_ipv4_header(h);
		expect = get16(h + 10);
		rnd_fill(h + 10, 2); /* the helper must ignore whatever is in the field */
		got = dt_csum_ipv4_header((const struct iphdr *)(const void *)h);
		store_sum16(h + 10, got);
		assert_int_equal(get16(h + 10), expect);
	}
}

/* ---- The -0 / +0 corner (RFC 1624 sections 3 and 4) ---------------------------------------- */

/*
 * RFC 1624's example: the other header words sum to 0xCD7A, m = 0x5555 -> m' = 0x3285. Then
 * HC = 0xDD2F and recomputation gives HC' = ~(0xCD7A + 0x3285) = ~0xFFFF = 0x0000; eqn. 2
 * would give 0xFFFF. The helper must give what recomputation gives.
 */
static void test_rfc1624_example(void **state)
{
	uint16_t hc = (uint16_t)~ref_sum((const uint8_t[]){ 0xcd, 0x7a, 0x55, 0x55 }, 4, 0);
	uint16_t recomputed = (uint16_t)~ref_sum((const uint8_t[]){ 0xcd, 0x7a, 0x32, 0x85 }, 4, 0);
	uint8_t out[2];

	assert_int_equal(hc, 0xdd2f);
	assert_int_equal(recomputed, 0x0000);
	store_sum16(out, dt_csum_replace16(bpf_htons(hc), bpf_htons(0x5555), bpf_htons(0x3285)));
	assert_int_equal(get16(out), recomputed);
}

/* RFC 1624 errata 4782's case: an unchanged field must leave a 0x0000 checksum at 0x0000. */
static void test_rfc1624_unchanged_field_keeps_zero(void **state)
{
	uint8_t out[2];

	store_sum16(out, dt_csum_replace16(0, bpf_htons(0x5555), bpf_htons(0x5555)));
	assert_int_equal(get16(out), 0x0000);
}

/* A real header steered into the corner: the new id makes every other word sum to 0xffff. */
static void test_header_driven_to_zero_checksum(void **state)
{
	uint8_t h[20];

	for (int n = 0; n < 2000; n++) {
		uint16_t rest, new_id;
		uint8_t to[2];

		random_ipv4_header(h);
		memcpy(to, h + 4, 2);
		put16(h + 4, 0);
		put16(h + 10, 0);
		rest = (uint16_t)ref_sum(h, 20, 0);
		memcpy(h + 4, to, 2);
		put16(h + 10, ref_csum(h, 20));
		new_id = (uint16_t)(0xffff - rest);
		put16(to, new_id);
		store_sum16(h + 10,
			    dt_csum_replace16(load_be16(h + 10), load_be16(h + 4), load_be16(to)));
		assert_int_equal(get16(h + 10), 0x0000);
	}
}

static void test_fold(void **state)
{
	assert_int_equal(dt_csum_fold(0), 0);
	assert_int_equal(dt_csum_fold(0xffff), 0xffff);
	assert_int_equal(dt_csum_fold(0x10000), 1);
	assert_int_equal(dt_csum_fold(0x1fffe), 0xffff);
	assert_int_equal(dt_csum_fold(0xffffffffu), 0xffff);
}

/* ---- L4 checksums after an address change -------------------------------------------------- */

struct l4_case {
	int v6;
	uint8_t proto;
	/* aligned: the helpers read IPv6 addresses as __be32 words, as in a real header */
	uint8_t src[16] __attribute__((aligned(4)));
	uint8_t dst[16] __attribute__((aligned(4)));
	uint8_t seg[80];
	size_t len;
	size_t csum_off;
};

static size_t l4_csum_off(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
}

/* What a sender puts in the field: UDP sends a computed zero as 0xffff (RFC 768). */
static uint16_t on_wire(uint8_t proto, uint16_t csum)
{
	return proto == IPPROTO_UDP && csum == 0 ? 0xffff : csum;
}

static void l4_case_random(struct l4_case *c, int v6, uint8_t proto)
{
	c->v6 = v6;
	c->proto = proto;
	rnd_fill(c->src, 16);
	rnd_fill(c->dst, 16);
	c->len = 20 + rnd() % 60;
	rnd_fill(c->seg, c->len);
	c->csum_off = l4_csum_off(proto);
	put16(c->seg + c->csum_off, 0);
	put16(c->seg + c->csum_off,
	      on_wire(proto, ref_l4_csum(v6, c->src, c->dst, proto, c->seg, c->len)));
}

/* Move the source or destination address to a random one and update the checksum. */
static void l4_case_change_addr(struct l4_case *c)
{
	uint8_t *addr = rnd() & 1 ? c->src : c->dst;
	uint8_t *field = c->seg + c->csum_off;
	uint8_t to[16] __attribute__((aligned(4)));
	__sum16 updated;

	rnd_fill(to, 16);
	if (c->v6)
		updated = dt_csum_l4_replace_addr6(c->proto, load_be16(field),
						   (const __be32 *)(const void *)addr,
						   (const __be32 *)(const void *)to);
	else
		updated = dt_csum_l4_replace_addr4(c->proto, load_be16(field), load_be32(addr),
						   load_be32(to));
	memcpy(addr, to, c->v6 ? 16 : 4);
	store_sum16(field, updated);
}

static void check_l4_random(int v6, uint8_t proto)
{
	struct l4_case c;

	for (int n = 0; n < ROUNDS; n++) {
		uint16_t got, expect;

		l4_case_random(&c, v6, proto);
		l4_case_change_addr(&c);
		got = get16(c.seg + c.csum_off);
		put16(c.seg + c.csum_off, 0);
		expect = on_wire(proto, ref_l4_csum(v6, c.src, c.dst, proto, c.seg, c.len));
		assert_int_equal(got, expect);
	}
}

static void test_l4_ipv4_tcp(void **state)
{
	check_l4_random(0, IPPROTO_TCP);
}

static void test_l4_ipv4_udp(void **state)
{
	check_l4_random(0, IPPROTO_UDP);
}

static void test_l4_ipv6_tcp(void **state)
{
	check_l4_random(1, IPPROTO_TCP);
}

static void test_l4_ipv6_udp(void **state)
{
	check_l4_random(1, IPPROTO_UDP);
}

static void test_l4_ipv6_icmpv6(void **state)
{
	check_l4_random(1, IPPROTO_ICMPV6);
}

/* RFC 768: on IPv4 a zero UDP checksum means "none"; an address change must not invent one. */
static void test_udp_zero_checksum_stays_zero(void **state)
{
	const __be32 from6[4] = { 1, 2, 3, 4 }, to6[4] = { 5, 6, 7, 8 };

	for (int n = 0; n < 1000; n++) {
		__be32 from = rnd(), to = rnd();

		assert_int_equal(dt_csum_l4_replace_addr4(IPPROTO_UDP, 0, from, to), 0);
	}
	assert_int_equal(dt_csum_l4_replace_addr6(IPPROTO_UDP, 0, from6, to6), 0);
}

/* A UDP update whose true result is 0x0000 must go on the wire as 0xffff, never as "none". */
static void test_udp_computed_zero_becomes_ffff(void **state)
{
	uint8_t out[2];

	/* The RFC 1624 example numbers again: the exact result is 0x0000. */
	store_sum16(out, dt_csum_l4_replace_addr4(IPPROTO_UDP, bpf_htons(0xdd2f),
						  bpf_htonl(0x55550000), bpf_htonl(0x32850000)));
	assert_int_equal(get16(out), 0xffff);
	store_sum16(out, dt_csum_l4_replace_addr4(IPPROTO_TCP, bpf_htons(0xdd2f),
						  bpf_htonl(0x55550000), bpf_htonl(0x32850000)));
	assert_int_equal(get16(out), 0x0000);
}

/* ICMPv4 has no pseudo-header, SCTP no Internet checksum: an address change leaves them alone. */
static void test_protocols_without_pseudo_header_untouched(void **state)
{
	const __be32 from6[4] = { 1, 2, 3, 4 }, to6[4] = { 5, 6, 7, 8 };

	assert_int_equal(dt_csum_l4_replace_addr4(IPPROTO_ICMP, 0x1234, 1, 2), 0x1234);
	assert_int_equal(dt_csum_l4_replace_addr4(IPPROTO_SCTP, 0x1234, 1, 2), 0x1234);
	assert_int_equal(dt_csum_l4_replace_addr6(IPPROTO_SCTP, 0x1234, from6, to6), 0x1234);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace16_matches_recompute),
		cmocka_unit_test(test_replace32_matches_recompute),
		cmocka_unit_test(test_ttl_matches_recompute),
		cmocka_unit_test(test_ttl_edges),
		cmocka_unit_test(test_full_ipv4_header),
		cmocka_unit_test(test_rfc1624_example),
		cmocka_unit_test(test_rfc1624_unchanged_field_keeps_zero),
		cmocka_unit_test(test_header_driven_to_zero_checksum),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_l4_ipv4_tcp),
		cmocka_unit_test(test_l4_ipv4_udp),
		cmocka_unit_test(test_l4_ipv6_tcp),
		cmocka_unit_test(test_l4_ipv6_udp),
		cmocka_unit_test(test_l4_ipv6_icmpv6),
		cmocka_unit_test(test_udp_zero_checksum_stays_zero),
		cmocka_unit_test(test_udp_computed_zero_becomes_ffff),
		cmocka_unit_test(test_protocols_without_pseudo_header_untouched),
	};

	printf("# test_csum: xorshift seed 0x%08x, %d rounds per random test\n", SEED, ROUNDS);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
