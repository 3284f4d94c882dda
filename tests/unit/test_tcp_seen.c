// SPDX-License-Identifier: GPL-2.0-only
/*
 * dataplane/core/tcp_seen.h on the host: which packets rewrite a slot of the record of TCP
 * flows (another flow, another SYN/RST state, the first FIN, a refresh due) and what a write keeps (the
 * key, the client's sequence and acknowledgment numbers as on the wire, the home, the clocks).
 * tests/bpf/test_detour.c proves the same through the XDP program.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <endian.h>
#include <string.h>

#include "dataplane/core/tcp_seen.h"

#define REFRESH 3 /* ticks */

static struct dt_packet tcp_packet(__u16 sport, __u8 flags)
{
	struct dt_packet p = { 0 };

	p.key.family = DT_FAMILY_V4;
	p.key.proto = 6;
	p.key.saddr[0] = htobe32(0xc6130001);
	p.key.daddr[0] = htobe32(0xc6126401);
	p.key.sport = htobe16(sport);
	p.key.dport = htobe16(80);
	p.l4_off = 34;
	p.tcp_flags = flags;
	return p;
}

/* The first 12 octets of a TCP header: ports, sequence 0x01020304, acknowledgment 0x0a0b0c0d. */
static const __u8 th[12] = { 0x9c, 0x40, 0, 80, 1, 2, 3, 4, 10, 11, 12, 13 };

static void test_write_keeps_the_segment(void **state)
{
	struct dt_packet p = tcp_packet(40000, DT_TCP_F_ACK);
	struct dt_tcp_seen s;

	memset(&s, 0xff, sizeof(s));
	dt_tcp_seen_write(&s, &p, th, 7, 123456789ull, 55);
	assert_memory_equal(&s.key, &p.key, sizeof(p.key));
	assert_int_equal(be32toh(s.seq), 0x01020304);
	assert_int_equal(be32toh(s.ack), 0x0a0b0c0d);
	assert_int_equal(s.home_site, 7);
	assert_int_equal(s.seen_ns, 123456789ull);
	assert_int_equal(s.tick, 55);
	assert_int_equal(s.tcp_flags, DT_TCP_F_ACK);
	assert_int_equal(s.pad, 0);
}

static void test_due_for_another_flow_or_an_empty_slot(void **state)
{
	struct dt_packet p = tcp_packet(40000, DT_TCP_F_ACK), q = tcp_packet(40001, DT_TCP_F_ACK);
	struct dt_tcp_seen s = { 0 };

	assert_true(dt_tcp_seen_due(&s, &p, 0, REFRESH)); /* empty: family 0 matches no key */
	dt_tcp_seen_write(&s, &p, th, 1, 1, 100);
	assert_false(dt_tcp_seen_due(&s, &p, 100, REFRESH));
	assert_true(dt_tcp_seen_due(&s, &q, 100, REFRESH));
	q = p;
	q.key.daddr[0] ^= htobe32(1);
	assert_true(dt_tcp_seen_due(&s, &q, 100, REFRESH));
}

static void test_due_after_the_refresh_and_across_the_wrap(void **state)
{
	struct dt_packet p = tcp_packet(40000, DT_TCP_F_ACK);
	struct dt_tcp_seen s = { 0 };

	dt_tcp_seen_write(&s, &p, th, 1, 1, 0xfffffffeu);
	assert_false(dt_tcp_seen_due(&s, &p, 0xffffffffu, REFRESH));
	assert_false(dt_tcp_seen_due(&s, &p, 0, REFRESH));
	assert_true(dt_tcp_seen_due(&s, &p, 1, REFRESH)); /* 3 ticks later, across the wrap */
}

/* The handshake's ACK after the SYN, the first FIN, a RST: each is written at once. */
static void test_due_when_syn_fin_or_rst_changes(void **state)
{
	struct dt_packet p = tcp_packet(40000, DT_TCP_F_SYN);
	struct dt_tcp_seen s = { 0 };

	dt_tcp_seen_write(&s, &p, th, 1, 1, 100);
	p = tcp_packet(40000, DT_TCP_F_ACK);
	assert_true(dt_tcp_seen_due(&s, &p, 100, REFRESH));
	dt_tcp_seen_write(&s, &p, th, 1, 1, 100);
	assert_int_equal(s.tcp_flags, DT_TCP_F_ACK);
	/* ACK | PSH after ACK: the same state, not due */
	p.tcp_flags |= 0x08;
	assert_false(dt_tcp_seen_due(&s, &p, 100, REFRESH));
	p = tcp_packet(40000, DT_TCP_F_ACK | DT_TCP_F_FIN);
	assert_true(dt_tcp_seen_due(&s, &p, 100, REFRESH));
	dt_tcp_seen_write(&s, &p, th, 1, 1, 100);
	p = tcp_packet(40000, DT_TCP_F_RST);
	assert_true(dt_tcp_seen_due(&s, &p, 100, REFRESH));
}

/* A FIN stays with its flow (the last ACK after it is no new state) until the flow's next SYN. */
static void test_fin_stays_until_the_next_syn(void **state)
{
	struct dt_packet p = tcp_packet(40000, DT_TCP_F_ACK | DT_TCP_F_FIN);
	struct dt_tcp_seen s = { 0 };

	dt_tcp_seen_write(&s, &p, th, 1, 1, 100);
	p = tcp_packet(40000, DT_TCP_F_ACK);
	assert_false(dt_tcp_seen_due(&s, &p, 100, REFRESH));
	assert_true(dt_tcp_seen_due(&s, &p, 100 + REFRESH, REFRESH));
	dt_tcp_seen_write(&s, &p, th, 1, 1, 100 + REFRESH);
	assert_int_equal(s.tcp_flags, DT_TCP_F_ACK | DT_TCP_F_FIN);
	p = tcp_packet(40000, DT_TCP_F_SYN); /* the port used again */
	assert_true(dt_tcp_seen_due(&s, &p, 100 + REFRESH, REFRESH));
	dt_tcp_seen_write(&s, &p, th, 1, 1, 100 + REFRESH);
	assert_int_equal(s.tcp_flags, DT_TCP_F_SYN);
	p = tcp_packet(40001, DT_TCP_F_ACK); /* another flow takes the slot: no FIN of its own */
	dt_tcp_seen_write(&s, &p, th, 1, 1, 100 + REFRESH);
	assert_int_equal(s.tcp_flags, DT_TCP_F_ACK);
}

static void test_wants_whole_tcp_only(void **state)
{
	struct dt_packet p = tcp_packet(40000, DT_TCP_F_ACK), q;

	assert_true(dt_tcp_seen_wants(&p));
	q = p;
	q.key.proto = 17;
	assert_false(dt_tcp_seen_wants(&q));
	q = p;
	q.flags = DT_PKT_F_ICMP_ERROR;
	assert_false(dt_tcp_seen_wants(&q));
	q = p;
	q.frag = DT_FRAG_LATER;
	assert_false(dt_tcp_seen_wants(&q));
	q = p;
	q.malformed = DT_REASON_TRUNCATED;
	assert_false(dt_tcp_seen_wants(&q));
}

/* The slot is the fold's top bits: in range, and the same for the same key. */
static void test_index_in_range(void **state)
{
	unsigned int i, used = 0;
	static bool hit[DT_TCP_SEEN_SLOTS];

	for (i = 0; i < 4 * DT_TCP_SEEN_SLOTS; i++) {
		struct dt_packet p = tcp_packet((__u16)(1024 + i), DT_TCP_F_ACK);
		__u32 idx = dt_tcp_seen_index(&p.key);

		assert_true(idx < DT_TCP_SEEN_SLOTS);
		assert_int_equal(idx, dt_tcp_seen_index(&p.key));
		used += !hit[idx];
		hit[idx] = true;
	}
	/* 4 keys a slot on average: a fair spread leaves few slots (about 2 %) unused */
	assert_true(used > DT_TCP_SEEN_SLOTS * 9 / 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_keeps_the_segment),
		cmocka_unit_test(test_due_for_another_flow_or_an_empty_slot),
		cmocka_unit_test(test_due_after_the_refresh_and_across_the_wrap),
		cmocka_unit_test(test_due_when_syn_fin_or_rst_changes),
		cmocka_unit_test(test_fin_stays_until_the_next_syn),
		cmocka_unit_test(test_wants_whole_tcp_only),
		cmocka_unit_test(test_index_in_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
