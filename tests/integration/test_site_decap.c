/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * site_decap.bpf.c in the kernel, under BPF_PROG_TEST_RUN: the four encapsulations that
 * detour_xdp's ipip delivery produces come out as the bare inner frame, byte for byte, with
 * the right ethertype; everything that is not a well-formed tunnel packet for one of the site's
 * endpoints comes out untouched. Packets are built by tests/fixtures/test_packets.h, independently of
 * the program and of the packet core.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "site_decap.h"
#include "site_decap.skel.h"
#include "test_packets.h"

#define ENDPOINT_V4 "198.18.13.2"
#define ENDPOINT_V6 "2001:db8:13::2"
#define EDGE_V4 "198.18.13.1"
#define EDGE_V6 "2001:db8:13::1"
#define OTHER_V4 "198.18.13.9"
#define OTHER_V6 "2001:db8:13::9"

static struct site_decap *skel;

struct frame {
	uint8_t b[PKT_MAX + 64];
	unsigned int len;
};

static void add_endpoint(int family, const char *addr)
{
	struct site_decap_endpoint k = { .family = (__u32)family };
	__u32 one = 1;

	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, addr, k.addr), 1);
	assert_int_equal(
		bpf_map_update_elem(bpf_map__fd(skel->maps.decap_endpoints), &k, &one, BPF_ANY), 0);
}

static int group_setup(void **state)
{
	skel = site_decap__open_and_load();
	if (!skel) {
		fprintf(stderr, "site_decap: open and load failed: %s\n", strerror(errno));
		return -1;
	}
	add_endpoint(4, ENDPOINT_V4);
	add_endpoint(6, ENDPOINT_V6);
	return 0;
}

static int group_teardown(void **state)
{
	site_decap__destroy(skel);
	return 0;
}

/* An inner UDP request from the client to the service, as the edge received it. */
static struct frame inner_frame(int family)
{
	struct pkt_spec s = {
		.family = family,
		.proto = 17,
		.src = family == 4 ? "198.18.1.2" : "2001:db8:1::2",
		.dst = family == 4 ? "198.18.100.1" : "2001:db8:100::1",
		.sport = 40000,
		.dport = 7000,
		.payload = 37,
	};
	struct frame f;

	f.len = pkt_build(f.b, &s);
	return f;
}

/* Outer header options for wrap(). */
struct outer {
	int family;
	const char *src, *dst;
	unsigned int v4_options; /* bytes of IPv4 options (NOPs), a multiple of 4 */
	uint8_t proto; /* 0: 4 or 41 from the inner header */
	uint16_t frag_off; /* IPv4 flags + offset, host order */
	bool bad_csum;
};

static unsigned int outer_v4(uint8_t *l3, const struct outer *o, uint8_t proto,
			     unsigned int inner_len)
{
	unsigned int hlen = 20 + o->v4_options;

	memset(l3, 0, hlen);
	l3[0] = (uint8_t)(0x40 | hlen / 4);
	put16(l3 + 2, (uint16_t)(hlen + inner_len));
	put16(l3 + 6, o->frag_off);
	l3[8] = 64;
	l3[9] = proto;
	memset(l3 + 20, 1, o->v4_options); /* NOP options */
	inet_pton(AF_INET, o->src, l3 + 12);
	inet_pton(AF_INET, o->dst, l3 + 16);
	put16(l3 + 10, (uint16_t)(fold16(sum16(l3, hlen, 0)) ^ (o->bad_csum ? 0x0101 : 0)));
	return hlen;
}

static unsigned int outer_v6(uint8_t *l3, const struct outer *o, uint8_t proto,
			     unsigned int inner_len)
{
	memset(l3, 0, 40);
	l3[0] = 0x60;
	put16(l3 + 4, (uint16_t)inner_len);
	l3[6] = proto;
	l3[7] = 64;
	inet_pton(AF_INET6, o->src, l3 + 8);
	inet_pton(AF_INET6, o->dst, l3 + 24);
	return 40;
}

/* The inner frame's IP packet behind an outer header, as detour_xdp's ipip delivery sends it. */
static struct frame wrap(const struct frame *inner, const struct outer *o)
{
	unsigned int inner_len = inner->len - 14, hlen;
	uint8_t proto = o->proto ?: (inner->b[14] >> 4 == 4 ? 4 : 41);
	struct frame f;

	memcpy(f.b, pkt_edge_mac, 6);
	memcpy(f.b + 6, pkt_client_mac, 6);
	put16(f.b + 12, o->family == 4 ? 0x0800 : 0x86dd);
	if (o->family == 4)
		hlen = outer_v4(f.b + 14, o, proto, inner_len);
	else
		hlen = outer_v6(f.b + 14, o, proto, inner_len);
	memcpy(f.b + 14 + hlen, inner->b + 14, inner_len);
	f.len = 14 + hlen + inner_len;
	return f;
}

static struct outer to_site(int family)
{
	return (struct outer){
		.family = family,
		.src = family == 4 ? EDGE_V4 : EDGE_V6,
		.dst = family == 4 ? ENDPOINT_V4 : ENDPOINT_V6,
	};
}

static struct frame run(const struct frame *in, __u32 *action)
{
	struct frame out = { .len = 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->b, .data_size_in = in->len,
		    .data_out = out.b, .data_size_out = sizeof(out.b), .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.site_decap), &opts);

	if (err)
		fail_msg("BPF_PROG_TEST_RUN (%u bytes): %s", in->len, strerror(-err));
	*action = opts.retval;
	out.len = opts.data_size_out;
	return out;
}

/* The frame that leaves the program is exactly the inner frame, ethertype included. */
static void assert_decapsulated(int outer_family, int inner_family, unsigned int v4_options)
{
	struct frame inner = inner_frame(inner_family), in, out;
	struct outer o = to_site(outer_family);
	__u32 action;

	o.v4_options = v4_options;
	in = wrap(&inner, &o);
	out = run(&in, &action);
	assert_int_equal(action, TC_ACT_OK);
	assert_int_equal(out.len, inner.len);
	assert_memory_equal(out.b, inner.b, inner.len);
}

/* The frame leaves exactly as it came, with TC_ACT_OK: the kernel decides. */
static void assert_untouched(const struct frame *in)
{
	__u32 action;
	struct frame out = run(in, &action);

	assert_int_equal(action, TC_ACT_OK);
	assert_int_equal(out.len, in->len);
	assert_memory_equal(out.b, in->b, in->len);
}

static void test_4in4(void **state)
{
	assert_decapsulated(4, 4, 0);
}

static void test_6in4(void **state)
{
	assert_decapsulated(4, 6, 0);
}

static void test_4in6(void **state)
{
	assert_decapsulated(6, 4, 0);
}

static void test_6in6(void **state)
{
	assert_decapsulated(6, 6, 0);
}

/* A tunnel device accepts an outer IPv4 header with options, and so must its stand-in. */
static void test_outer_ipv4_options(void **state)
{
	assert_decapsulated(4, 4, 8);
	assert_decapsulated(4, 6, 40);
}

static void test_not_our_endpoint(void **state)
{
	int fam;

	for (fam = 4; fam <= 6; fam += 2) {
		struct frame inner = inner_frame(4), in;
		struct outer o = to_site(fam);

		o.dst = fam == 4 ? OTHER_V4 : OTHER_V6;
		in = wrap(&inner, &o);
		assert_untouched(&in);
	}
}

static void test_plain_packets_untouched(void **state)
{
	struct frame v4 = inner_frame(4), v6 = inner_frame(6), arp = { .len = 60 };

	assert_untouched(&v4);
	assert_untouched(&v6);
	memcpy(arp.b, pkt_edge_mac, 6);
	put16(arp.b + 12, 0x0806);
	assert_untouched(&arp);
}

static void test_bad_outer_checksum(void **state)
{
	struct frame inner = inner_frame(4), in;
	struct outer o = to_site(4);

	o.bad_csum = true;
	in = wrap(&inner, &o);
	assert_untouched(&in);
}

/* A fragment of a tunnel packet has no whole inner packet behind it. */
static void test_outer_fragments(void **state)
{
	static const uint16_t frag_offs[] = { 0x2000 /* MF */, 0x0003 /* offset 24 */ };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct frame inner = inner_frame(4), in;
		struct outer o = to_site(4);

		o.frag_off = frag_offs[i];
		in = wrap(&inner, &o);
		assert_untouched(&in);
	}
}

/* Protocol 41 promises IPv6 inside, 4 promises IPv4; other protocols are not tunnels. */
static void test_inner_version_mismatch(void **state)
{
	static const uint8_t protos[] = { 41, 4, 17, 47 };
	unsigned int i;

	for (i = 0; i < 4; i++) {
		struct frame inner = inner_frame(i == 1 ? 6 : 4), in;
		struct outer o = to_site(i & 1 ? 6 : 4);

		o.proto = protos[i];
		in = wrap(&inner, &o);
		assert_untouched(&in);
	}
}

/* Cut short anywhere, by the wire or by a lying length field: never decapsulated, no crash. */
static void test_truncated(void **state)
{
	struct frame inner = inner_frame(6), full, in;
	struct outer o = to_site(4);
	unsigned int cut;

	full = wrap(&inner, &o);
	/*
	 * BPF_PROG_TEST_RUN refuses an IPv4 frame shorter than Ethernet + 20 bytes (-EINVAL), so
	 * the cuts start after the outer header: inside the inner header and its payload.
	 */
	for (cut = 14 + 20; cut < full.len; cut++) {
		in = full;
		in.len = cut;
		assert_untouched(&in);
	}
	in = full;
	put16(in.b + 16, (uint16_t)(full.len - 14 + 1)); /* total length past the frame's end */
	put16(in.b + 24, 0);
	put16(in.b + 24, fold16(sum16(in.b + 14, 20, 0)));
	assert_untouched(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_4in4),
		cmocka_unit_test(test_6in4),
		cmocka_unit_test(test_4in6),
		cmocka_unit_test(test_6in6),
		cmocka_unit_test(test_outer_ipv4_options),
		cmocka_unit_test(test_not_our_endpoint),
		cmocka_unit_test(test_plain_packets_untouched),
		cmocka_unit_test(test_bad_outer_checksum),
		cmocka_unit_test(test_outer_fragments),
		cmocka_unit_test(test_inner_version_mismatch),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
