// SPDX-License-Identifier: GPL-2.0-only
/*
 * The segments detourd sends a recorded TCP client of a site that went DOWN
 * (control/detourd/tcp_nudge.c, docs/tcp-recovery.md), byte for byte: from the service to the
 * client (addresses and ports swapped), IPv4 with DF and a good header checksum, IPv6, a good TCP
 * checksum over the pseudo-header; a client in SYN_SENT gets one RST|ACK acknowledging its SYN,
 * an established one a RST at its acknowledgment number and an ACK 2^30 behind it; nothing else.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "tcp_nudge.h"

static struct dt_tcp_seen record(int family, __u8 flags, __u32 seq, __u32 ack)
{
	struct dt_tcp_seen s = { 0 };

	s.key.family = (__u8)family;
	s.key.proto = 6;
	if (family == DT_FAMILY_V4) {
		inet_pton(AF_INET, "198.18.1.2", s.key.saddr);
		inet_pton(AF_INET, "198.18.100.1", s.key.daddr);
	} else {
		inet_pton(AF_INET6, "2001:db8:1::2", s.key.saddr);
		inet_pton(AF_INET6, "2001:db8:100::1", s.key.daddr);
	}
	s.key.sport = htons(40000);
	s.key.dport = htons(80);
	s.seq = htonl(seq);
	s.ack = htonl(ack);
	s.tcp_flags = flags;
	s.home_site = 1;
	return s;
}

/* RFC 1071, written again here: the one's complement sum of 16-bit words. */
static unsigned int sum16(const __u8 *p, size_t len, unsigned int sum)
{
	for (size_t i = 0; i < len; i += 2)
		sum += (unsigned int)(p[i] << 8) + (i + 1 < len ? p[i + 1] : 0);
	return sum;
}

static unsigned int fold(unsigned int sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static __u32 be32_at(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/* Check the IP and TCP headers of @pkt for @s; return the TCP header. */
static const __u8 *check_packet(const struct dt_tcp_seen *s, const __u8 *pkt, size_t len)
{
	bool v6 = s->key.family == DT_FAMILY_V6;
	size_t ip = v6 ? 40 : 20, alen = v6 ? 16 : 4;
	const __u8 *src = pkt + (v6 ? 8 : 12), *th = pkt + ip;

	assert_int_equal(len, ip + 20);
	if (v6) {
		assert_int_equal(pkt[0], 0x60);
		assert_int_equal(pkt[4] << 8 | pkt[5], 20);
		assert_int_equal(pkt[6], 6);
		assert_int_equal(pkt[7], 64);
	} else {
		assert_int_equal(pkt[0], 0x45);
		assert_int_equal(pkt[2] << 8 | pkt[3], 40);
		assert_int_equal(pkt[6], 0x40); /* DF */
		assert_int_equal(pkt[8], 64);
		assert_int_equal(pkt[9], 6);
		assert_int_equal(fold(sum16(pkt, 20, 0)), 0xffff);
	}
	assert_memory_equal(src, s->key.daddr, alen); /* from the service */
	assert_memory_equal(src + alen, s->key.saddr, alen); /* to the client */
	assert_memory_equal(th, &s->key.dport, 2);
	assert_memory_equal(th + 2, &s->key.sport, 2);
	assert_int_equal(th[12], 0x50);
	/* the pseudo-header: both addresses, protocol 6, TCP length 20 */
	assert_int_equal(fold(sum16(th, 20, sum16(src, 2 * alen, 6 + 20))), 0xffff);
	return th;
}

static void test_syn_sent_gets_one_rst_ack_of_its_syn(void **state)
{
	int fam[] = { DT_FAMILY_V4, DT_FAMILY_V6 };

	for (unsigned int f = 0; f < 2; f++) {
		struct dt_tcp_seen s = record(fam[f], 0x02, 0xfffffffeu, 0);
		__u8 pkt[DETOURD_NUDGE_PKT_MAX];
		size_t len = detourd_nudge__build(&s, 0, pkt, sizeof(pkt));
		const __u8 *th = check_packet(&s, pkt, len);

		assert_int_equal(th[13], 0x14); /* RST | ACK */
		assert_int_equal(be32_at(th + 4), 0);
		assert_int_equal(be32_at(th + 8), 0xffffffffu); /* the SYN's sequence + 1 */
		assert_int_equal(detourd_nudge__build(&s, 1, pkt, sizeof(pkt)), 0);
	}
}

static void test_established_gets_a_rst_and_an_ack_behind_its_window(void **state)
{
	int fam[] = { DT_FAMILY_V4, DT_FAMILY_V6 };

	for (unsigned int f = 0; f < 2; f++) {
		struct dt_tcp_seen s = record(fam[f], 0x18, 0x11223344u, 0x10000000u);
		__u8 pkt[DETOURD_NUDGE_PKT_MAX];
		size_t len = detourd_nudge__build(&s, 0, pkt, sizeof(pkt));
		const __u8 *th = check_packet(&s, pkt, len);

		assert_int_equal(th[13], 0x04); /* RST */
		assert_int_equal(be32_at(th + 4),
				 0x10000000u); /* the client's rcv_nxt, if current */
		len = detourd_nudge__build(&s, 1, pkt, sizeof(pkt));
		th = check_packet(&s, pkt, len);
		assert_int_equal(th[13], 0x10); /* ACK */
		assert_int_equal(be32_at(th + 4), 0xd0000000u); /* 2^30 behind, modulo 2^32 */
		assert_int_equal(be32_at(th + 8), 0x11223344u);
		assert_int_equal(detourd_nudge__build(&s, 2, pkt, sizeof(pkt)), 0);
	}
}

/* A segment without ACK that is no SYN has no acknowledgment number to reset at: the ACK only. */
static void test_no_ack_number_no_rst(void **state)
{
	struct dt_tcp_seen s = record(DT_FAMILY_V4, 0x01, 5, 0);
	__u8 pkt[DETOURD_NUDGE_PKT_MAX];

	assert_int_equal(detourd_nudge__build(&s, 0, pkt, sizeof(pkt)), 0);
	assert_int_equal(check_packet(&s, pkt, detourd_nudge__build(&s, 1, pkt, sizeof(pkt)))[13],
			 0x10);
}

static void test_refuses_what_is_no_tcp_record(void **state)
{
	struct dt_tcp_seen s = record(DT_FAMILY_V4, 0x10, 1, 1);
	__u8 pkt[DETOURD_NUDGE_PKT_MAX];

	assert_int_equal(detourd_nudge__build(&s, 0, pkt, 39), 0); /* too small a buffer */
	s.key.proto = 17;
	assert_int_equal(detourd_nudge__build(&s, 0, pkt, sizeof(pkt)), 0);
	s.key.proto = 6;
	s.key.family = 0;
	assert_int_equal(detourd_nudge__build(&s, 0, pkt, sizeof(pkt)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_sent_gets_one_rst_ack_of_its_syn),
		cmocka_unit_test(test_established_gets_a_rst_and_an_ack_behind_its_window),
		cmocka_unit_test(test_no_ack_number_no_rst),
		cmocka_unit_test(test_refuses_what_is_no_tcp_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
