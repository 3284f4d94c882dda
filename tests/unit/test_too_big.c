// SPDX-License-Identifier: GPL-2.0-only
/*
 * The helpers of dataplane/core/too_big.h on the host: the MSS clamp (the option at an even and an
 * odd offset, an MSS already small, no MSS, the end of the option list), the token bucket's
 * arithmetic, whom a too-big packet may be answered, and the answer itself byte for byte against
 * the RFCs' text (test_packets.h), with a cut quote and an odd-length one. The packet path that
 * uses them is checked by the scenario table in both engines (tests/fixtures/scenario_cases.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_packets.h" /* before the core headers: it brings <arpa/inet.h> */

#include "dataplane/core/too_big.h"

#define HEADROOM 66 /* 2 mod 4: the IP header lands 4-byte aligned */

struct frame {
	__u8 mem[HEADROOM + PKT_MAX] __attribute__((aligned(4)));
	struct dt_host_buf hb;
	struct dt_buf b;
	struct dt_packet pkt;
	unsigned int len;
};

static void frame_load(struct frame *f, const uint8_t *bytes, unsigned int len)
{
	memset(f->mem, 0, sizeof(f->mem));
	memcpy(f->mem + HEADROOM, bytes, len);
	f->len = len;
	f->hb = (struct dt_host_buf){
		.base = f->mem, .head = HEADROOM, .len = len, .cap = sizeof(f->mem)
	};
	dt_buf_init(&f->b, &f->hb);
	assert_int_equal(dt_parse_packet(f->b.data, f->b.data_end, &f->pkt), 0);
}

static void frame_build(struct frame *f, const struct pkt_spec *s)
{
	uint8_t pkt[PKT_MAX];

	frame_load(f, pkt, pkt_build(pkt, s));
}

static __u8 *at(struct frame *f, unsigned int off)
{
	return f->mem + f->hb.head + off;
}

/* ---- MSS ------------------------------------------------------------------------------------ */

/*
 * A v4 SYN whose options are @opts (@n octets, a multiple of 4), TCP checksum from its definition.
 * The TCP header is at 14 + 20.
 */
static void syn_with_options(struct frame *f, const __u8 *opts, unsigned int n)
{
	struct pkt_spec s = { .family = 4,
			      .proto = 6,
			      .tcp_flags = 0x02,
			      .src = "198.19.1.2",
			      .dst = "198.18.20.1",
			      .sport = 1000,
			      .dport = 443,
			      .df = true };
	uint8_t pkt[PKT_MAX];
	unsigned int len = pkt_build(pkt, &s);
	uint8_t *ip = pkt + 14, *tcp = ip + 20;

	memcpy(tcp + 20, opts, n);
	tcp[12] = (uint8_t)((20 + n) / 4 << 4);
	put16(ip + 2, (uint16_t)(20 + 20 + n));
	put16(ip + 10, 0);
	put16(ip + 10, fold16(sum16(ip, 20, 0)));
	put16(tcp + 16, 0);
	put16(tcp + 16, l4_checksum(4, ip, tcp, 20 + n, 6));
	frame_load(f, pkt, len + n);
}

static void assert_tcp_checksum_ok(struct frame *f)
{
	uint8_t *ip = at(f, 14), *tcp = ip + 20;
	unsigned int l4_len = get16(ip + 2) - 20;
	uint16_t got = get16(tcp + 16);

	put16(tcp + 16, 0);
	assert_int_equal(got, l4_checksum(4, ip, tcp, l4_len, 6));
	put16(tcp + 16, got);
}

/*
 * The MSS first (the usual SYN), and after one NOP, where the value sits at an odd offset and its
 * bytes fall in two checksum words.
 */
static void test_mss_lowered(void **state)
{
	static const struct {
		__u8 opts[8];
		unsigned int value_at; /* offset of the MSS value in the TCP header */
		__u16 mss;
	} cases[] = {
		{ { 2, 4, 0x05, 0xb4, 1, 1, 4, 2 },
		  22,
		  1400 }, /* MSS 1460, NOP NOP SACK-permitted */
		{ { 1, 2, 4, 0x05, 0xb4, 1, 1, 0 }, 23, 1234 },
	};
	static struct frame f;
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		syn_with_options(&f, cases[i].opts, sizeof(cases[i].opts));
		assert_int_equal(dt_mss_clamp_at(&f.b, 14 + 20, cases[i].mss), 1);
		assert_int_equal(get16(at(&f, 14 + 20 + cases[i].value_at)), cases[i].mss);
		assert_tcp_checksum_ok(&f);
	}
}

static void test_mss_left_alone(void **state)
{
	static struct frame f;
	const __u8 small[] = { 2, 4, 0x02, 0x18, 1, 1, 1, 0 }; /* MSS 536 */
	const __u8 none[] = { 1, 1, 4, 2, 1, 3, 3, 7 }; /* NOP NOP SACK-permitted NOP WS */
	const __u8 after_end[] = { 0, 0, 0, 0, 2, 4, 0x05, 0xb4 }; /* EOL, then an MSS */

	syn_with_options(&f, small, sizeof(small));
	assert_int_equal(dt_mss_clamp_at(&f.b, 14 + 20, 1400), 0);
	assert_int_equal(get16(at(&f, 14 + 20 + 22)), 536);
	syn_with_options(&f, none, sizeof(none));
	assert_int_equal(dt_mss_clamp_at(&f.b, 14 + 20, 1400), 0);
	syn_with_options(&f, after_end, sizeof(after_end));
	assert_int_equal(dt_mss_clamp_at(&f.b, 14 + 20, 1400), 0);
	assert_int_equal(get16(at(&f, 14 + 20 + 26)), 1460);
}

/* mtu - outer - fixed IP - fixed TCP, per delivery mode and family; no limit, no clamp. */
static void test_mss_max(void **state)
{
	struct dt_site route = { .delivery = DT_DELIVERY_ROUTE, .mtu = 1500 };
	struct dt_site v4 = { .delivery = DT_DELIVERY_IPIP,
			      .tunnel_family = DT_FAMILY_V4,
			      .mtu = 1500 };
	struct dt_site v6 = { .delivery = DT_DELIVERY_IPIP,
			      .tunnel_family = DT_FAMILY_V6,
			      .mtu = 1500 };
	struct dt_packet p4 = { .l3_proto = ETH_P_IP }, p6 = { .l3_proto = ETH_P_IPV6 };

	assert_int_equal(dt_mss_max(&p4, &route), 1460);
	assert_int_equal(dt_mss_max(&p6, &route), 1440);
	assert_int_equal(dt_mss_max(&p4, &v4), 1440);
	assert_int_equal(dt_mss_max(&p6, &v4), 1420);
	assert_int_equal(dt_mss_max(&p4, &v6), 1420);
	assert_int_equal(dt_mss_max(&p6, &v6), 1400);
	route.mtu = 0;
	assert_int_equal(dt_mss_max(&p4, &route), 0);
}

/* ---- The bucket ----------------------------------------------------------------------------- */

static void test_bucket(void **state)
{
	struct dt_icmp_bucket bk = { 0 };
	__u64 now = 7000000000ull;
	int i;

	for (i = 0; i < DT_ICMP_BURST; i++) /* starts full */
		assert_true(dt_icmp_bucket_take(&bk, now));
	assert_false(dt_icmp_bucket_take(&bk, now));
	assert_false(dt_icmp_bucket_take(&bk, now + DT_ICMP_TOKEN_NS - 1));
	assert_true(dt_icmp_bucket_take(&bk, now + DT_ICMP_TOKEN_NS)); /* one token a ms */
	assert_false(dt_icmp_bucket_take(&bk, now + DT_ICMP_TOKEN_NS));
	now += 3 * DT_ICMP_TOKEN_NS + DT_ICMP_TOKEN_NS / 2;
	for (i = 0; i < 2; i++)
		assert_true(dt_icmp_bucket_take(&bk, now));
	assert_false(dt_icmp_bucket_take(&bk, now));
	/* the half token left over is kept */
	assert_true(dt_icmp_bucket_take(&bk, now + DT_ICMP_TOKEN_NS / 2));
	now += 1000 * DT_ICMP_TOKEN_NS; /* a long rest refills to the burst, no more */
	for (i = 0; i < DT_ICMP_BURST; i++)
		assert_true(dt_icmp_bucket_take(&bk, now));
	assert_false(dt_icmp_bucket_take(&bk, now));
}

/* ---- Whom to answer ------------------------------------------------------------------------- */

static void test_answerable(void **state)
{
	static struct frame f;
	struct pkt_spec s = { .family = 4,
			      .proto = 17,
			      .src = "198.19.1.2",
			      .dst = "198.18.20.1",
			      .sport = 1,
			      .dport = 2,
			      .payload = 100 };
	uint8_t pkt[PKT_MAX];

	frame_build(&f, &s);
	assert_false(dt_too_big_answerable(&f.b, &f.pkt)); /* no DF */
	s.df = true;
	frame_build(&f, &s);
	assert_true(dt_too_big_answerable(&f.b, &f.pkt));
	s.src = "224.0.0.5";
	frame_build(&f, &s);
	assert_false(dt_too_big_answerable(&f.b, &f.pkt));
	s = (struct pkt_spec){ .family = 6,
			       .proto = 17,
			       .src = "2001:db8:ff::2",
			       .dst = "2001:db8:20::1",
			       .sport = 1,
			       .dport = 2 };
	frame_build(&f, &s);
	assert_true(dt_too_big_answerable(&f.b, &f.pkt));
	s.src = "ff02::1";
	frame_build(&f, &s);
	assert_false(dt_too_big_answerable(&f.b, &f.pkt));
	s.src = "::";
	frame_build(&f, &s);
	assert_false(dt_too_big_answerable(&f.b, &f.pkt));
	s.src = "2001:db8:ff::2"; /* an ICMP error is never answered with one */
	frame_load(&f, pkt, pkt_build_icmp_error(pkt, &s, "2001:db8:ff::9"));
	assert_false(dt_too_big_answerable(&f.b, &f.pkt));
}

/* ---- The answer ----------------------------------------------------------------------------- */

static void expect_answer(const struct pkt_spec *s, __u32 mtu)
{
	static struct frame f;
	static uint8_t in[PKT_MAX], want[PKT_MAX];
	unsigned int in_len = pkt_build(in, s), n;

	frame_load(&f, in, in_len);
	assert_int_equal(dt_icmp_too_big(&f.b, &f.pkt, mtu), DT_REASON_TOO_BIG_ICMP);
	n = pkt_build_too_big_answer(want, in, in_len, s->vlans, mtu);
	assert_int_equal(f.hb.len, n);
	assert_memory_equal(at(&f, 0), want, n);
}

/* A cut quote at each VLAN depth, an odd-length one, and an MTU that needs all 32 bits. */
static void test_answers(void **state)
{
	static const struct {
		struct pkt_spec s;
		__u32 mtu;
	} cases[] = {
		{ { .family = 4,
		    .proto = 6,
		    .tcp_flags = 0x10,
		    .src = "198.19.1.2",
		    .dst = "198.18.20.1",
		    .sport = 1000,
		    .dport = 443,
		    .df = true,
		    .payload = 1460,
		    .vlans = 1 },
		  1480 }, /* quote cut to 548: a 576-octet datagram */
		{ { .family = 4,
		    .proto = 17,
		    .src = "198.19.1.2",
		    .dst = "198.18.20.1",
		    .sport = 1000,
		    .dport = 53,
		    .df = true,
		    .payload = 545 - 28 },
		  1000 }, /* the whole packet, odd length */
		{ { .family = 6,
		    .proto = 6,
		    .tcp_flags = 0x10,
		    .src = "2001:db8:ff::2",
		    .dst = "2001:db8:21::1",
		    .sport = 1000,
		    .dport = 443,
		    .payload = 1440,
		    .vlans = 2 },
		  1460 }, /* quote cut to 1232: a 1280-octet packet */
		{ { .family = 6,
		    .proto = 17,
		    .src = "2001:db8:ff::2",
		    .dst = "2001:db8:21::1",
		    .sport = 1000,
		    .dport = 53,
		    .payload = 701 },
		  0x10000 + 1280 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_answer(&cases[i].s, cases[i].mtu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mss_lowered), cmocka_unit_test(test_mss_left_alone),
		cmocka_unit_test(test_mss_max),	    cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_answerable),  cmocka_unit_test(test_answers),
	};

	return cmocka_run_group_tests_name("too_big", tests, NULL, NULL);
}
