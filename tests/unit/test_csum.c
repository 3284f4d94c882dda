/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * csum.h, and the TTL decrement rewrite.h builds on it, against an independent checksum written
 * here from its definition (RFC 1071: the one's complement of the one's complement sum of
 * big-endian 16-bit words, odd byte padded with zero).
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
#include "dataplane/core/rewrite.h"

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

static void store_sum16(uint8_t *p, __sum16 v)
{
	memcpy(p, &v, 2);
}

/* RFC 1624's ~m + m' for one 16-bit word, summed here rather than by the code under test. */
static uint32_t word_change(__be16 from, __be16 to)
{
	return (uint32_t)(uint16_t)~from + (uint16_t)to;
}

static void random_ipv4_header(uint8_t *h)
{
	rnd_fill(h, 20);
	h[0] = 0x45;
	put16(h + 10, 0);
	put16(h + 10, ref_csum(h, 20));
}

/* ---- IPv4 header: incremental == recomputation -------------------------------------------- */

static void test_apply_matches_recompute(void **state)
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
		store_sum16(h + 10,
			    dt_csum_apply(load_be16(h + 10),
					  word_change(load_be16(h + 2 * word), load_be16(to))));
		memcpy(h + 2 * word, to, 2);
		expect = get16(h + 10);
		put16(h + 10, 0);
		assert_int_equal(expect, ref_csum(h, 20));
	}
}

/* rewrite.h's TTL decrement applies a constant sum: it must equal recomputing the header. */
static void test_ttl_decrement_matches_recompute(void **state)
{
	uint8_t h[20] __attribute__((aligned(4))); /* written through struct iphdr */

	for (int n = 0; n < ROUNDS; n++) {
		uint16_t expect;

		random_ipv4_header(h);
		h[8] = (uint8_t)(2 + rnd() % 254); /* the caller has checked TTL > 1 */
		put16(h + 10, 0);
		put16(h + 10, ref_csum(h, 20));
		assert_int_equal(dt_ipv4_decrement_ttl((struct iphdr *)(void *)h, h + 20), 0);
		expect = get16(h + 10);
		put16(h + 10, 0);
		assert_int_equal(expect, ref_csum(h, 20));
	}
}

/* The ends of the byte a decrement may start from, the lowest (2) and the highest (255). */
static void test_ttl_decrement_edges(void **state)
{
	static const uint8_t ttls[] = { 2, 255, 64, 128 };
	uint8_t h[20] __attribute__((aligned(4)));

	for (size_t i = 0; i < sizeof(ttls) / sizeof(ttls[0]); i++) {
		for (int n = 0; n < 1000; n++) {
			random_ipv4_header(h);
			h[8] = ttls[i];
			put16(h + 10, 0);
			put16(h + 10, ref_csum(h, 20));
			assert_int_equal(dt_ipv4_decrement_ttl((struct iphdr *)(void *)h, h + 20),
					 0);
			assert_int_equal(h[8], ttls[i] - 1);
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
	store_sum16(out, dt_csum_apply(bpf_htons(hc),
				       word_change(bpf_htons(0x5555), bpf_htons(0x3285))));
	assert_int_equal(get16(out), recomputed);
}

/* RFC 1624 errata 4782's case: an unchanged field must leave a 0x0000 checksum at 0x0000. */
static void test_rfc1624_unchanged_field_keeps_zero(void **state)
{
	uint8_t out[2];

	store_sum16(out, dt_csum_apply(0, word_change(bpf_htons(0x5555), bpf_htons(0x5555))));
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
		store_sum16(h + 10, dt_csum_apply(load_be16(h + 10),
						  word_change(load_be16(h + 4), load_be16(to))));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_matches_recompute),
		cmocka_unit_test(test_ttl_decrement_matches_recompute),
		cmocka_unit_test(test_ttl_decrement_edges),
		cmocka_unit_test(test_full_ipv4_header),
		cmocka_unit_test(test_rfc1624_example),
		cmocka_unit_test(test_rfc1624_unchanged_field_keeps_zero),
		cmocka_unit_test(test_header_driven_to_zero_checksum),
		cmocka_unit_test(test_fold),
	};

	printf("# test_csum: xorshift seed 0x%08x, %d rounds per random test\n", SEED, ROUNDS);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
