/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dt_parse_packet() on the host:
 *  - every golden packet parses to exactly the result the table states;
 *  - every golden packet cut at every length gives a negative reason (or, past the end of the IP
 *    packet, the full result), from a heap buffer of exactly that length so that ASan reports
 *    any read past the end;
 *  - random byte flips never crash and never yield a result that points outside the frame;
 *  - the protocol corners that matter to the rest of Detour: an ICMP error keys to the flow it
 *    is about, echo request and reply key alike, *pkt is fully overwritten.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/core/parse.h"
#include "golden_packets.h"

#define FLIP_ROUNDS 3000 /* mutated copies of each golden packet */

/*
 * Parses len bytes copied to the very end of a heap block, so an overread is an ASan report.
 * The frame starts NET_IP_ALIGN (2) octets into the block, as drivers place it, so that the IP
 * header and those after it are 4-aligned and the uapi structs' loads are aligned for UBSan.
 */
#define FRAME_ALIGN 2

static int parse_copy(const __u8 *bytes, __u32 len, struct dt_packet *pkt)
{
	__u8 *block = malloc(FRAME_ALIGN + len), *frame = block + FRAME_ALIGN;
	int ret;

	assert_non_null(block);
	if (len)
		memcpy(frame, bytes, len);
	ret = dt_parse_packet(frame, frame + len, pkt);
	free(block);
	return ret;
}

static const struct dt_golden_packet *golden(const char *name)
{
	unsigned int i;

	for (i = 0; i < dt_golden_packet_count; i++)
		if (!strcmp(dt_golden_packets[i].name, name))
			return &dt_golden_packets[i];
	fail_msg("no golden packet named %s", name);
	return NULL;
}

#define EXPECT_FIELD(name, got, exp, field)                                     \
	do {                                                                    \
		if ((got)->field != (exp)->field)                               \
			fail_msg("%s: " #field " is %llu, expected %llu", name, \
				 (unsigned long long)(got)->field,              \
				 (unsigned long long)(exp)->field);             \
	} while (0)

static void expect_key(const char *name, const struct dt_flow_key *got,
		       const struct dt_flow_key *exp)
{
	int i;

	for (i = 0; i < 4; i++) {
		EXPECT_FIELD(name, got, exp, saddr[i]);
		EXPECT_FIELD(name, got, exp, daddr[i]);
	}
	EXPECT_FIELD(name, got, exp, sport);
	EXPECT_FIELD(name, got, exp, dport);
	EXPECT_FIELD(name, got, exp, proto);
	EXPECT_FIELD(name, got, exp, family);
	EXPECT_FIELD(name, got, exp, pad[0]);
	EXPECT_FIELD(name, got, exp, pad[1]);
}

static void expect_packet(const char *name, const struct dt_packet *got,
			  const struct dt_packet *exp)
{
	expect_key(name, &got->key, &exp->key);
	EXPECT_FIELD(name, got, exp, l3_off);
	EXPECT_FIELD(name, got, exp, l4_off);
	EXPECT_FIELD(name, got, exp, l3_proto);
	EXPECT_FIELD(name, got, exp, l3_len);
	EXPECT_FIELD(name, got, exp, vlan_depth);
	EXPECT_FIELD(name, got, exp, frag);
	EXPECT_FIELD(name, got, exp, ttl);
	EXPECT_FIELD(name, got, exp, tcp_flags);
	EXPECT_FIELD(name, got, exp, icmp_type);
	EXPECT_FIELD(name, got, exp, icmp_code);
	EXPECT_FIELD(name, got, exp, flags);
	EXPECT_FIELD(name, got, exp, malformed);
	/* Field by field names the culprit; the whole struct catches anything added later. */
	assert_memory_equal(got, exp, sizeof(*got));
}

static void test_golden_packets_parse_exactly(void **state)
{
	struct dt_packet pkt;
	unsigned int i;
	int ret;

	assert_true(dt_golden_packet_count >= 40);
	for (i = 0; i < dt_golden_packet_count; i++) {
		const struct dt_golden_packet *g = &dt_golden_packets[i];

		ret = parse_copy(g->bytes, g->len, &pkt);
		if (ret != g->expect_ret)
			fail_msg("%s: returned %d, expected %d", g->name, ret, g->expect_ret);
		if (ret == 0)
			expect_packet(g->name, &pkt, &g->expect);
	}
}

/* The result must never point outside the frame it came from. */
static void expect_within_frame(const struct dt_packet *pkt, __u32 len)
{
	const struct dt_flow_key *key = &pkt->key;

	assert_true(pkt->l3_off >= ETH_HLEN && pkt->l3_off <= len);
	assert_true(pkt->l3_off + pkt->l3_len <= len);
	/* An unknown protocol may carry an empty payload: its l4_off is then the packet's end. */
	assert_true(pkt->l4_off == 0 || pkt->l4_off <= pkt->l3_off + pkt->l3_len);
	assert_true(pkt->l4_off == 0 || pkt->l4_off > pkt->l3_off);
	if (pkt->l4_off && (key->proto == IPPROTO_TCP || key->proto == IPPROTO_UDP) &&
	    !(pkt->flags & DT_PKT_F_ICMP_ERROR) && !pkt->malformed)
		assert_true(pkt->l4_off + sizeof(struct udphdr) <= pkt->l3_off + pkt->l3_len);
	assert_true(pkt->vlan_depth <= DT_MAX_VLAN_DEPTH);
	assert_true(key->family == DT_FAMILY_V4 || key->family == DT_FAMILY_V6);
	assert_int_equal(key->pad[0] | key->pad[1], 0);
	assert_true(pkt->malformed < DT_REASON_MAX);
	if (key->family == DT_FAMILY_V4)
		assert_int_equal(key->saddr[1] | key->saddr[2] | key->saddr[3] | key->daddr[1] |
					 key->daddr[2] | key->daddr[3],
				 0);
	if (pkt->frag != DT_FRAG_NONE)
		assert_int_equal(pkt->l4_off | key->sport | key->dport | pkt->tcp_flags, 0);
	if (pkt->malformed)
		assert_int_equal(key->sport | key->dport | pkt->tcp_flags, 0);
}

static void test_golden_packets_truncated_everywhere(void **state)
{
	unsigned int i, cuts = 0;
	struct dt_packet pkt;
	__u32 cut, ip_end;
	int ret;

	for (i = 0; i < dt_golden_packet_count; i++) {
		const struct dt_golden_packet *g = &dt_golden_packets[i];

		/* Only Ethernet padding may be cut off and still leave the same valid packet. */
		ip_end = g->expect_ret ? g->len + 1 : g->expect.l3_off + g->expect.l3_len;
		for (cut = 0; cut < g->len; cut++, cuts++) {
			ret = parse_copy(g->bytes, cut, &pkt);
			if (cut >= ip_end) {
				assert_int_equal(ret, 0);
				expect_packet(g->name, &pkt, &g->expect);
			} else if (ret >= 0) {
				fail_msg("%s cut to %u octets: returned %d", g->name, cut, ret);
			}
		}
	}
	print_message("truncated the golden packets at %u lengths\n", cuts);
}

/* xorshift32: a fixed seed makes every run flip the same bytes. */
static __u32 next_random(__u32 *state)
{
	__u32 x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

static void test_golden_packets_random_flips(void **state)
{
	__u32 rng = 0x2545f491, runs = 0, valid = 0;
	__u8 frame[2048];
	struct dt_packet pkt;
	unsigned int i, round, n;

	for (i = 0; i < dt_golden_packet_count; i++) {
		const struct dt_golden_packet *g = &dt_golden_packets[i];

		assert_true(g->len <= sizeof(frame));
		for (round = 0; round < FLIP_ROUNDS; round++, runs++) {
			memcpy(frame, g->bytes, g->len);
			for (n = 1 + next_random(&rng) % 4; n; n--)
				frame[next_random(&rng) % g->len] ^= 1 + next_random(&rng) % 255;
			int ret = parse_copy(frame, g->len, &pkt);

			assert_true(ret <= 0 && ret > -DT_REASON_MAX);
			if (ret == 0) {
				expect_within_frame(&pkt, g->len);
				valid++;
			}
		}
	}
	print_message("%u mutated frames, %u still parsed as IP\n", runs, valid);
}

static void test_every_valid_golden_packet_stays_within_frame(void **state)
{
	struct dt_packet pkt;
	unsigned int i;

	for (i = 0; i < dt_golden_packet_count; i++) {
		const struct dt_golden_packet *g = &dt_golden_packets[i];

		if (parse_copy(g->bytes, g->len, &pkt) == 0)
			expect_within_frame(&pkt, g->len);
	}
}

static void test_empty_frame_is_truncated(void **state)
{
	struct dt_packet pkt;

	assert_int_equal(parse_copy(NULL, 0, &pkt), -DT_REASON_TRUNCATED);
}

/* Whatever *pkt held before, the result depends on the frame only: pads and spare words zero. */
static void test_result_overwrites_stale_packet(void **state)
{
	const struct dt_golden_packet *g = golden("ipv4-tcp-syn");
	struct dt_packet pkt;

	memset(&pkt, 0xa5, sizeof(pkt));
	assert_int_equal(parse_copy(g->bytes, g->len, &pkt), 0);
	expect_packet(g->name, &pkt, &g->expect);
}

/* An ICMP error must land on the site its flow went to: it keys exactly as the flow does. */
static void expect_error_keys_as_flow(const char *error_name, const char *flow_name, __u32 ports_at,
				      __u16 client_port, __u16 service_port)
{
	const struct dt_golden_packet *err = golden(error_name), *flow = golden(flow_name);
	struct dt_packet err_pkt, flow_pkt;
	__u8 frame[256];
	__be16 sport = bpf_htons(client_port), dport = bpf_htons(service_port);

	/* The client's own packet of the flow the error quotes: same addresses, these ports. */
	memcpy(frame, flow->bytes, flow->len);
	memcpy(frame + ports_at, &sport, sizeof(sport));
	memcpy(frame + ports_at + 2, &dport, sizeof(dport));
	assert_int_equal(parse_copy(frame, flow->len, &flow_pkt), 0);
	assert_int_equal(parse_copy(err->bytes, err->len, &err_pkt), 0);
	assert_true(err_pkt.flags & DT_PKT_F_ICMP_ERROR);
	assert_memory_equal(&err_pkt.key, &flow_pkt.key, sizeof(err_pkt.key));
}

static void test_icmp_error_keys_as_its_flow(void **state)
{
	expect_error_keys_as_flow("ipv4-icmp-frag-needed-tcp", "ipv4-tcp-syn", 34, 51000, 443);
	expect_error_keys_as_flow("ipv4-icmp-time-exceeded-udp", "ipv4-udp-padded", 34, 53000, 53);
	expect_error_keys_as_flow("ipv6-icmp6-unreach-tcp", "ipv6-tcp-syn", 54, 51000, 443);
	expect_error_keys_as_flow("ipv6-icmp6-packet-too-big-udp", "ipv6-udp", 54, 53000, 53);
}

/* Echo request and reply carry the identifier in both ports: the reversed key of each other. */
static void expect_echo_keys_mirror(const char *request_name, const char *reply_name)
{
	const struct dt_golden_packet *req = golden(request_name), *rep = golden(reply_name);
	struct dt_packet a, b;

	assert_int_equal(parse_copy(req->bytes, req->len, &a), 0);
	assert_int_equal(parse_copy(rep->bytes, rep->len, &b), 0);
	assert_memory_equal(a.key.saddr, b.key.daddr, sizeof(a.key.saddr));
	assert_memory_equal(a.key.daddr, b.key.saddr, sizeof(a.key.daddr));
	assert_int_equal(a.key.sport, a.key.dport);
	assert_int_equal(a.key.sport, b.key.dport);
	assert_int_not_equal(a.key.sport, 0);
}

static void test_echo_request_and_reply_mirror(void **state)
{
	expect_echo_keys_mirror("ipv4-icmp-echo-request", "ipv4-icmp-echo-reply");
	expect_echo_keys_mirror("ipv6-icmp6-echo-request", "ipv6-icmp6-echo-reply");
}

/* A header that lies in the Ethernet padding, past the IP length, is not part of the packet. */
static void test_tcp_header_in_padding_is_truncated(void **state)
{
	const struct dt_golden_packet *g = golden("ipv4-tcp-syn");
	__u8 frame[64];
	struct dt_packet pkt;

	memcpy(frame, g->bytes, g->len);
	frame[ETH_HLEN + 3] = 20; /* tot_len: the IPv4 header alone */
	assert_int_equal(parse_copy(frame, g->len, &pkt), 0);
	assert_int_equal(pkt.malformed, DT_REASON_TRUNCATED);
	assert_int_equal(pkt.key.sport | pkt.key.dport | pkt.tcp_flags, 0);
	frame[ETH_HLEN + 3] = 19; /* shorter than the header */
	assert_int_equal(parse_copy(frame, g->len, &pkt), -DT_REASON_BAD_HEADER);
}

/* Every protocol the table promises is there, so a regenerated table cannot silently drop one. */
static void test_golden_table_covers_every_reason(void **state)
{
	static const int reasons[] = { 0, -DT_REASON_NOT_IP, -DT_REASON_TRUNCATED,
				       -DT_REASON_BAD_HEADER, -DT_REASON_VLAN_LIMIT };
	static const int malformed[] = { DT_REASON_TRUNCATED, DT_REASON_BAD_HEADER,
					 DT_REASON_EXT_HDR_LIMIT };
	unsigned int i, r, seen;

	for (r = 0; r < sizeof(reasons) / sizeof(reasons[0]); r++) {
		for (i = 0, seen = 0; i < dt_golden_packet_count; i++)
			seen += dt_golden_packets[i].expect_ret == reasons[r];
		if (!seen)
			fail_msg("no golden packet returns %d", reasons[r]);
	}
	for (r = 0; r < sizeof(malformed) / sizeof(malformed[0]); r++) {
		for (i = 0, seen = 0; i < dt_golden_packet_count; i++)
			seen += !dt_golden_packets[i].expect_ret &&
				dt_golden_packets[i].expect.malformed == malformed[r];
		if (!seen)
			fail_msg("no golden packet is malformed with %d", malformed[r]);
	}
}

/* Every fragment of a datagram keys alike, first included: they must all reach one site. */
static void expect_fragments_key_alike(const char *first_name, const char *later_name)
{
	const struct dt_golden_packet *first = golden(first_name), *later = golden(later_name);
	struct dt_packet a, b;

	assert_int_equal(parse_copy(first->bytes, first->len, &a), 0);
	assert_int_equal(parse_copy(later->bytes, later->len, &b), 0);
	assert_int_equal(a.frag, DT_FRAG_FIRST);
	assert_int_equal(b.frag, DT_FRAG_LATER);
	assert_memory_equal(&a.key, &b.key, sizeof(a.key));
	assert_int_equal(a.tcp_flags | b.tcp_flags | a.malformed | b.malformed, 0);
}

static void test_fragments_of_a_datagram_key_alike(void **state)
{
	expect_fragments_key_alike("ipv4-frag-first-udp", "ipv4-frag-later-udp");
	expect_fragments_key_alike("ipv6-frag-first-udp", "ipv6-frag-later-udp");
}

/* Past the IP header nothing fails the parse: the addresses are known, the packet is marked. */
static void test_malformed_after_ip_keeps_addresses(void **state)
{
	static const char *const names[] = { "ipv4-tcp-past-tot-len", "ipv4-tcp-bad-doff",
					     "ipv4-icmp-unreach-quote-short",
					     "ipv6-icmp6-param-problem-quote-short",
					     "ipv6-ext-7-headers" };
	struct dt_packet pkt;
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct dt_golden_packet *g = golden(names[i]);

		assert_int_equal(parse_copy(g->bytes, g->len, &pkt), 0);
		assert_int_not_equal(pkt.malformed, 0);
		assert_int_equal(pkt.key.sport | pkt.key.dport, 0);
		assert_memory_equal(pkt.key.daddr,
				    g->bytes + pkt.l3_off + (pkt.key.family == 4 ? 16 : 24),
				    pkt.key.family == 4 ? 4 : 16);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_packets_parse_exactly),
		cmocka_unit_test(test_golden_packets_truncated_everywhere),
		cmocka_unit_test(test_golden_packets_random_flips),
		cmocka_unit_test(test_every_valid_golden_packet_stays_within_frame),
		cmocka_unit_test(test_empty_frame_is_truncated),
		cmocka_unit_test(test_result_overwrites_stale_packet),
		cmocka_unit_test(test_icmp_error_keys_as_its_flow),
		cmocka_unit_test(test_echo_request_and_reply_mirror),
		cmocka_unit_test(test_fragments_of_a_datagram_key_alike),
		cmocka_unit_test(test_malformed_after_ip_keeps_addresses),
		cmocka_unit_test(test_tcp_header_in_padding_is_truncated),
		cmocka_unit_test(test_golden_table_covers_every_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
