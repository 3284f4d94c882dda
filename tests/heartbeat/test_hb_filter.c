/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The heartbeat sockets' kernel filter (ebpf/hb_sockfilter.bpf.c) on loopback, with real
 * datagrams: what the receiver refuses from the header alone (length, magic, version, unknown
 * site, unknown key id, a source the (site, beacon) may not send from) is dropped before it is
 * queued and counted by reason in the filter's map, never reaching user space; the rest (a good
 * heartbeat, a wrong MAC) is read and judged by the receiver. A new table is taken at once
 * (hb_filter__update()); with none, only the header checks stay in the kernel. Needs root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "dt_clock.h"
#include "hb_filter.h"
#include "hb_socket.h"
#include "hb_test_util.h"

#define SITE 7

struct filter_fixture {
	struct hb_keyring *kr;
	uint8_t key[HB_KEY_BYTES];
	struct hb_receiver rx;
	struct hb_filter *filter;
	struct hb_socket *sock;
	int tx_1, tx_2; /* sending from 127.0.0.1 and from 127.0.0.2 */
	struct sockaddr_in to;
	uint64_t seq;
};

static int bound_sender(const char *addr)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, addr, &a.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	return fd;
}

/* Beacon 0 of SITE may send from 127.0.0.2 only; beacon 1 from anywhere. */
static void set_sources(struct filter_fixture *f, const char *beacon0_from)
{
	struct hb_source src = { .beacon_id = 0, .len = 32, .net = { .family = DT_FAMILY_V4 } };

	inet_pton(AF_INET, beacon0_from, src.net.addr);
	assert_int_equal(hb_receiver__set_sources(&f->rx, SITE, &src, 1), 0);
	assert_int_equal(hb_filter__update(f->filter, &f->rx), 0);
}

static int filter_setup(void **state)
{
	struct filter_fixture *f = calloc(1, sizeof(*f));
	uint8_t key3[HB_KEY_BYTES];

	*state = f;
	if (geteuid() != 0)
		return 0; /* the test skips */
	f->kr = hb_keyring__new();
	hb_test_key(f->key, SITE);
	hb_test_key(key3, SITE + 1);
	hb_keyring__set(f->kr, SITE, 0, f->key);
	hb_keyring__set(f->kr, SITE, 3, key3);
	hb_receiver__init(&f->rx, f->kr);
	hb_receiver__set_beacons(&f->rx, SITE, 0x3);
	if (hb_filter__open(&f->filter))
		return -1;
	set_sources(f, "127.0.0.2");
	if (hb_socket__open_filtered("127.0.0.1:0", &f->rx, hb_filter__prog_fd(f->filter),
				     &f->sock))
		return -1;
	f->to = (struct sockaddr_in){ .sin_family = AF_INET,
				      .sin_port = htons(hb_socket__port(f->sock)) };
	inet_pton(AF_INET, "127.0.0.1", &f->to.sin_addr);
	f->tx_1 = bound_sender("127.0.0.1");
	f->tx_2 = bound_sender("127.0.0.2");
	return f->tx_1 < 0 || f->tx_2 < 0 ? -1 : 0;
}

static int filter_teardown(void **state)
{
	struct filter_fixture *f = *state;

	hb_socket__close(f->sock);
	hb_filter__close(f->filter);
	if (f->tx_1 > 0)
		close(f->tx_1);
	if (f->tx_2 > 0)
		close(f->tx_2);
	hb_keyring__free(f->kr);
	free(f);
	return 0;
}

static void send_from(struct filter_fixture *f, int fd, const void *buf, size_t len)
{
	assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&f->to, sizeof(f->to)),
			 (ssize_t)len);
}

/* A sealed version 2 heartbeat of (site, beacon, key id), a fresh sequence number. */
static void heartbeat(struct filter_fixture *f, uint16_t site, uint16_t beacon, uint16_t key_id,
		      uint8_t wire[HB_WIRE_LEN])
{
	struct hb_msg m = { .site_id = site,
			    .epoch = 1,
			    .seq = ++f->seq,
			    .interval_us = 5000,
			    .power_flags = DT_POWER_MAINS,
			    .beacon_id = beacon,
			    .key_id = key_id };

	hb_encode(&m, wire);
	hb_seal(wire, f->key);
}

/* Read what the kernel queued until want datagrams were read or 1 s passed; then 50 ms more. */
static unsigned int drain(struct filter_fixture *f, unsigned int want)
{
	uint64_t deadline = dt_mono_ns() + 1000000000ull, quiet = 0;
	unsigned int total = 0;

	while (dt_mono_ns() < deadline && (total < want || dt_mono_ns() < quiet)) {
		struct pollfd pfd = { .fd = hb_socket__fd(f->sock), .events = POLLIN };
		int n;

		if (total >= want && !quiet)
			quiet = dt_mono_ns() + 50000000ull;
		if (poll(&pfd, 1, 10) <= 0)
			continue;
		n = hb_socket__receive(f->sock, HB_SOCKET_BATCH, NULL, NULL);
		assert_true(n >= 0);
		total += (unsigned int)n;
	}
	return total;
}

static void test_drops_by_reason(void **state)
{
	struct filter_fixture *f = *state;
	uint8_t wire[HB_WIRE_LEN], junk[80] = { 0 };
	uint64_t drops[HB_REASON_MAX];

	if (geteuid() != 0)
		skip();
	heartbeat(f, SITE, 0, 0, wire);
	send_from(f, f->tx_1, wire, sizeof(wire)); /* beacon 0 from 127.0.0.1: wrong-source */
	heartbeat(f, SITE, 1, 0, wire);
	send_from(f, f->tx_1, wire, sizeof(wire)); /* beacon 1 has no sources: accepted */
	heartbeat(f, SITE, 0, 0, wire);
	send_from(f, f->tx_2, wire, sizeof(wire)); /* beacon 0 from its address: accepted */
	heartbeat(f, SITE, 0, 0, wire);
	wire[HB_OFF_POWER] ^= 1;
	send_from(f, f->tx_2, wire, sizeof(wire)); /* passes the filter: bad-mac */
	send_from(f, f->tx_2, junk, 20); /* short */
	heartbeat(f, SITE, 0, 0, junk);
	send_from(f, f->tx_2, junk, sizeof(junk)); /* long */
	heartbeat(f, SITE, 0, 0, wire);
	wire[HB_OFF_MAGIC] ^= 0xff;
	send_from(f, f->tx_2, wire, sizeof(wire)); /* bad-magic */
	heartbeat(f, SITE, 0, 0, wire);
	wire[HB_OFF_VERSION + 1] = 9;
	send_from(f, f->tx_2, wire, sizeof(wire)); /* bad-version */
	heartbeat(f, SITE, 0, 0, wire);
	send_from(f, f->tx_2, wire, HB_V1_WIRE_LEN); /* version 2 cut to version 1's length */
	heartbeat(f, SITE + 1, 0, 0, wire);
	send_from(f, f->tx_2, wire, sizeof(wire)); /* a site with no key: unknown-site */
	heartbeat(f, 300, 0, 0, wire);
	send_from(f, f->tx_2, wire, sizeof(wire)); /* a site id past the table: unknown-site */
	heartbeat(f, SITE, 0, 5, wire);
	send_from(f, f->tx_2, wire, sizeof(wire)); /* key id 5: unknown-key */

	assert_int_equal(drain(f, 3), 3);
	assert_int_equal(f->rx.counters[HB_OK], 2);
	assert_int_equal(f->rx.counters[HB_REASON_BAD_MAC], 1);
	assert_int_equal(hb_filter__drops(f->filter, drops), 0);
	assert_int_equal(drops[HB_REASON_WRONG_SOURCE], 1);
	assert_int_equal(drops[HB_REASON_SHORT], 2);
	assert_int_equal(drops[HB_REASON_LONG], 1);
	assert_int_equal(drops[HB_REASON_BAD_MAGIC], 1);
	assert_int_equal(drops[HB_REASON_BAD_VERSION], 1);
	assert_int_equal(drops[HB_REASON_UNKNOWN_SITE], 2);
	assert_int_equal(drops[HB_REASON_UNKNOWN_KEY], 1);
	assert_int_equal(drops[HB_OK] + drops[HB_REASON_BAD_MAC], 0);
	for (int r = 1; r < HB_REASON_MAX; r++)
		if (r != HB_REASON_BAD_MAC)
			assert_int_equal(f->rx.counters[r], 0); /* none reached user space */
}

static void test_new_table_and_none(void **state)
{
	struct filter_fixture *f = *state;
	uint8_t wire[HB_WIRE_LEN], junk[20] = { 0 };
	uint64_t drops[HB_REASON_MAX];

	if (geteuid() != 0)
		skip();
	set_sources(f, "127.0.0.1"); /* a reload: beacon 0 moves to 127.0.0.1 */
	heartbeat(f, SITE, 0, 0, wire);
	send_from(f, f->tx_1, wire, sizeof(wire)); /* now allowed */
	heartbeat(f, SITE, 0, 0, wire);
	send_from(f, f->tx_2, wire, sizeof(wire)); /* no longer */
	heartbeat(f, SITE, 0, 3,
		  wire); /* key id 3 exists: passes the filter (sealed with 0's key) */
	send_from(f, f->tx_1, wire, sizeof(wire));
	assert_int_equal(drain(f, 2), 2);
	assert_int_equal(f->rx.counters[HB_OK], 1);
	assert_int_equal(f->rx.counters[HB_REASON_BAD_MAC], 1);
	assert_int_equal(hb_filter__drops(f->filter, drops), 0);
	assert_int_equal(drops[HB_REASON_WRONG_SOURCE], 1);

	/* no table: what needs one (sources, keys) goes to user space; the header checks stay */
	hb_filter__clear(f->filter);
	heartbeat(f, SITE, 0, 0, wire);
	send_from(f, f->tx_2, wire, sizeof(wire));
	heartbeat(f, SITE, 0, 5, wire);
	send_from(f, f->tx_1, wire, sizeof(wire));
	send_from(f, f->tx_1, junk, sizeof(junk));
	assert_int_equal(drain(f, 2), 2);
	assert_int_equal(f->rx.counters[HB_REASON_WRONG_SOURCE], 1);
	assert_int_equal(f->rx.counters[HB_REASON_UNKNOWN_KEY], 1);
	assert_int_equal(f->rx.counters[HB_REASON_SHORT], 0);
	assert_int_equal(hb_filter__drops(f->filter, drops), 0);
	assert_int_equal(drops[HB_REASON_WRONG_SOURCE], 1);
	assert_int_equal(drops[HB_REASON_UNKNOWN_KEY], 0);
	assert_int_equal(drops[HB_REASON_SHORT], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_drops_by_reason, filter_setup,
						filter_teardown),
		cmocka_unit_test_setup_teardown(test_new_table_and_none, filter_setup,
						filter_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
