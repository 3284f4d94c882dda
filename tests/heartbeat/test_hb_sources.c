/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where a (site, beacon) may send from (hb_receiver__set_sources(), issue 13 and issue 15's
 * filter before crypto): a datagram from elsewhere is wrong-source, refused before its MAC is
 * checked and without touching the replay window; IPv4 and IPv6 prefixes, on and off byte
 * boundaries; a beacon without sources, and a site without any, take datagrams from anywhere.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include "hb_test_util.h"

#define SITE 5
#define OTHER_SITE 6

/* "198.18.1.2" or "2001:db8::1" as the receiver sees a sender. */
static struct hb_ip ip(const char *text)
{
	struct hb_ip a = { 0 };

	if (inet_pton(AF_INET, text, a.addr) == 1)
		a.family = DT_FAMILY_V4;
	else if (inet_pton(AF_INET6, text, a.addr) == 1)
		a.family = DT_FAMILY_V6;
	else
		fail_msg("not an address: %s", text);
	return a;
}

static struct hb_source source(uint8_t beacon, const char *text, uint8_t len)
{
	return (struct hb_source){ .beacon_id = beacon, .len = len, .net = ip(text) };
}

static int src_setup(void **state)
{
	struct hb_rx_fixture *f;

	if (hb_rx_fixture__setup(state, SITE))
		return -1;
	f = *state;
	hb_keyring__set(f->kr, OTHER_SITE, 0, f->key);
	hb_receiver__set_beacons(&f->rx, SITE, 0x3);
	return 0;
}

/* The sources of the brief's example: beacon 0 one address, beacon 1 a v4 and a v6 prefix. */
static void set_example(struct hb_rx_fixture *f)
{
	const struct hb_source v[] = {
		source(0, "198.18.1.2", 32),
		source(1, "198.18.2.0", 24),
		source(1, "2001:db8:5::", 64),
	};

	assert_int_equal(hb_receiver__set_sources(&f->rx, SITE, v, 3), 0);
}

/* A correctly sealed heartbeat of (site, beacon) from the address from (NULL: not known). */
static int feed_site(struct hb_rx_fixture *f, uint16_t site, uint16_t beacon, uint64_t seq,
		     const char *from)
{
	uint8_t wire[HB_TEST_V2_LEN];
	struct hb_msg out;
	struct hb_ip a;
	size_t len = hb_test_build_v2(wire, site, beacon, 0, 1, seq, f->key);

	if (from)
		a = ip(from);
	return hb_receiver__process_from(&f->rx, wire, len, from ? &a : NULL, 0, &out);
}

static int feed(struct hb_rx_fixture *f, uint16_t beacon, uint64_t seq, const char *from)
{
	return feed_site(f, SITE, beacon, seq, from);
}

/*
 * A genuine heartbeat from the wrong address is refused and leaves no trace: the same sequence
 * number from the right address afterwards is accepted, not a replay.
 */
static void test_wrong_source_leaves_window(void **state)
{
	struct hb_rx_fixture *f = *state;
	struct hb_beacon_state st;

	set_example(f);
	assert_int_equal(feed(f, 0, 1, "198.18.1.3"), -HB_REASON_WRONG_SOURCE);
	assert_int_equal(feed(f, 0, 1, "198.18.2.2"), -HB_REASON_WRONG_SOURCE); /* beacon 1's */
	assert_int_equal(hb_receiver__beacon_state(&f->rx, SITE, 0, &st), 0);
	assert_false(st.seen);
	assert_int_equal(feed(f, 0, 1, "198.18.1.2"), 0);
	assert_int_equal(feed(f, 0, 1, "198.18.1.2"), -HB_REASON_REPLAY);
	/* A recording of seq 2 from elsewhere first: seq 2 from the beacon is still new. */
	assert_int_equal(feed(f, 0, 2, "198.18.9.9"), -HB_REASON_WRONG_SOURCE);
	assert_int_equal(feed(f, 0, 2, "198.18.1.2"), 0);
	assert_int_equal(f->rx.counters[HB_REASON_WRONG_SOURCE], 3);
	assert_int_equal(f->rx.counters[HB_OK], 2);
	assert_int_equal(f->rx.counters[HB_REASON_REPLAY], 1);
}

/* The source check needs no key: a bad MAC from the wrong address is wrong-source, not bad-mac. */
static void test_source_before_mac(void **state)
{
	struct hb_rx_fixture *f = *state;
	uint8_t wire[HB_TEST_V2_LEN], wrong[HB_KEY_BYTES];
	struct hb_ip from = ip("198.18.7.7"), good = ip("198.18.1.2");
	struct hb_msg out;

	set_example(f);
	hb_test_key(wrong, 77);
	hb_test_build_v2(wire, SITE, 0, 0, 1, 1, wrong);
	assert_int_equal(hb_receiver__process_from(&f->rx, wire, sizeof(wire), &from, 0, &out),
			 -HB_REASON_WRONG_SOURCE);
	assert_int_equal(f->rx.counters[HB_REASON_BAD_MAC], 0);
	/* From the right address the same bytes reach the MAC check, and fail it. */
	assert_int_equal(hb_receiver__process_from(&f->rx, wire, sizeof(wire), &good, 0, &out),
			 -HB_REASON_BAD_MAC);
	/* The header comes first still: junk from the wrong address is what it is. */
	wire[0] ^= 1;
	assert_int_equal(hb_receiver__process_from(&f->rx, wire, sizeof(wire), &from, 0, &out),
			 -HB_REASON_BAD_MAGIC);
	assert_string_equal(hb_reason_str(HB_REASON_WRONG_SOURCE), "wrong-source");
	assert_int_equal(HB_REASON_WRONG_SOURCE, 14); /* stable: counters are printed by number */
}

static void test_v4_prefixes(void **state)
{
	struct hb_rx_fixture *f = *state;
	const struct hb_source v[] = { source(1, "198.18.2.0", 24), source(1, "198.18.4.8", 29) };
	uint64_t seq = 1;

	assert_int_equal(hb_receiver__set_sources(&f->rx, SITE, v, 2), 0);
	assert_int_equal(feed(f, 1, seq++, "198.18.2.0"), 0);
	assert_int_equal(feed(f, 1, seq++, "198.18.2.255"), 0);
	assert_int_equal(feed(f, 1, seq++, "198.18.3.0"), -HB_REASON_WRONG_SOURCE);
	assert_int_equal(feed(f, 1, seq++, "198.18.1.255"), -HB_REASON_WRONG_SOURCE);
	/* /29, off a byte boundary: .8 .. .15 */
	assert_int_equal(feed(f, 1, seq++, "198.18.4.8"), 0);
	assert_int_equal(feed(f, 1, seq++, "198.18.4.15"), 0);
	assert_int_equal(feed(f, 1, seq++, "198.18.4.7"), -HB_REASON_WRONG_SOURCE);
	assert_int_equal(feed(f, 1, seq++, "198.18.4.16"), -HB_REASON_WRONG_SOURCE);
	/* An IPv6 address whose first bytes spell 198.18.2.x is not in a v4 prefix. */
	assert_int_equal(feed(f, 1, seq++, "c612:200::1"), -HB_REASON_WRONG_SOURCE);
	assert_int_equal(f->rx.counters[HB_OK], 4);
}

static void test_v6_prefixes(void **state)
{
	struct hb_rx_fixture *f = *state;
	const struct hb_source v[] = { source(1, "2001:db8:5::", 64), source(1, "2001:db8:6::", 61),
				       source(1, "2001:db8:7::9", 128) };
	uint64_t seq = 1;

	assert_int_equal(hb_receiver__set_sources(&f->rx, SITE, v, 3), 0);
	assert_int_equal(feed(f, 1, seq++, "2001:db8:5::1"), 0);
	assert_int_equal(feed(f, 1, seq++, "2001:db8:5:0:ffff:ffff:ffff:ffff"), 0);
	assert_int_equal(feed(f, 1, seq++, "2001:db8:5:1::1"), -HB_REASON_WRONG_SOURCE);
	/* /61: the fourth group 0 .. 7 */
	assert_int_equal(feed(f, 1, seq++, "2001:db8:6:7::1"), 0);
	assert_int_equal(feed(f, 1, seq++, "2001:db8:6:8::1"), -HB_REASON_WRONG_SOURCE);
	assert_int_equal(feed(f, 1, seq++, "2001:db8:7::9"), 0);
	assert_int_equal(feed(f, 1, seq++, "2001:db8:7::8"), -HB_REASON_WRONG_SOURCE);
	assert_int_equal(feed(f, 1, seq++, "198.18.2.2"), -HB_REASON_WRONG_SOURCE);
	assert_int_equal(f->rx.counters[HB_OK], 4);
}

/* No sources: from anywhere, unknown sender included. That is every site after init. */
static void test_no_list_any_source(void **state)
{
	struct hb_rx_fixture *f = *state;
	const struct hb_source only_1[] = { source(1, "198.18.2.0", 24) };

	assert_int_equal(feed(f, 0, 1, "198.18.200.1"), 0);
	assert_int_equal(feed(f, 1, 1, "2001:db8:99::1"), 0);
	assert_int_equal(feed(f, 0, 2, NULL), 0);
	/* Beacon 1 has sources; beacon 0, without, still takes anything, as does another site. */
	assert_int_equal(hb_receiver__set_sources(&f->rx, SITE, only_1, 1), 0);
	assert_int_equal(feed(f, 0, 3, "198.18.200.1"), 0);
	assert_int_equal(feed(f, 1, 2, "198.18.200.1"), -HB_REASON_WRONG_SOURCE);
	assert_int_equal(feed(f, 1, 2, NULL), -HB_REASON_WRONG_SOURCE); /* unknown: not listed */
	assert_int_equal(feed_site(f, OTHER_SITE, 0, 1, "198.18.200.1"), 0);
	/* Cleared: from anywhere again, the window kept (seq 1 of beacon 1 is still a replay). */
	assert_int_equal(hb_receiver__set_sources(&f->rx, SITE, NULL, 0), 0);
	assert_int_equal(feed(f, 1, 2, "198.18.200.1"), 0);
	assert_int_equal(feed(f, 1, 1, "198.18.2.1"), -HB_REASON_REPLAY);
	assert_int_equal(f->rx.counters[HB_REASON_WRONG_SOURCE], 2);
}

/* A swap (SIGHUP) replaces the site's list whole and keeps its replay state. */
static void test_replace_keeps_window(void **state)
{
	struct hb_rx_fixture *f = *state;
	const struct hb_source moved[] = { source(0, "198.18.1.9", 32) };

	set_example(f);
	assert_int_equal(feed(f, 0, 1, "198.18.1.2"), 0);
	assert_int_equal(hb_receiver__set_sources(&f->rx, SITE, moved, 1), 0);
	assert_int_equal(feed(f, 0, 2, "198.18.1.2"), -HB_REASON_WRONG_SOURCE);
	assert_int_equal(feed(f, 0, 1, "198.18.1.9"), -HB_REASON_REPLAY);
	assert_int_equal(feed(f, 0, 2, "198.18.1.9"), 0);
	/* Beacon 1 lost its sources with the swap: any address. */
	assert_int_equal(feed(f, 1, 1, "198.18.77.1"), 0);
}

static void test_set_sources_refusals(void **state)
{
	struct hb_rx_fixture *f = *state;
	struct hb_source v[HB_MAX_SOURCES + 1];

	for (unsigned int i = 0; i <= HB_MAX_SOURCES; i++)
		v[i] = source(0, "198.18.1.2", 32);
	assert_int_equal(hb_receiver__set_sources(&f->rx, SITE, v, HB_MAX_SOURCES), 0);
	assert_int_equal(hb_receiver__set_sources(&f->rx, SITE, v, HB_MAX_SOURCES + 1), -E2BIG);
	assert_int_equal(hb_receiver__set_sources(&f->rx, DT_MAX_SITES, v, 1), -ERANGE);
	v[0] = source(HB_MAX_BEACONS, "198.18.1.2", 32);
	assert_int_equal(hb_receiver__set_sources(&f->rx, SITE, v, 1), -ERANGE);
	v[0] = source(0, "198.18.1.2", 33);
	assert_int_equal(hb_receiver__set_sources(&f->rx, SITE, v, 1), -ERANGE);
	v[0] = source(0, "2001:db8::", 129);
	assert_int_equal(hb_receiver__set_sources(&f->rx, SITE, v, 1), -ERANGE);
	v[0] = (struct hb_source){ .beacon_id = 0, .len = 0 }; /* no family */
	assert_int_equal(hb_receiver__set_sources(&f->rx, SITE, v, 1), -ERANGE);
	/* A refused list changes nothing: the full one set first still holds. */
	assert_int_equal(feed(f, 0, 1, "198.18.1.3"), -HB_REASON_WRONG_SOURCE);
	assert_int_equal(feed(f, 0, 1, "198.18.1.2"), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, src_setup, hb_rx_fixture__teardown)
	const struct CMUnitTest tests[] = {
		T(test_wrong_source_leaves_window),
		T(test_source_before_mac),
		T(test_v4_prefixes),
		T(test_v6_prefixes),
		T(test_no_list_any_source),
		T(test_replace_keeps_window),
		T(test_set_sources_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
