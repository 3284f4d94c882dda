/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The receiver socket on loopback: real datagrams in, accepted heartbeats and per-reason counts
 * out, batches bounded, and arrival_ns being the kernel's receive time (not the read time).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "dt_clock.h"
#include "hb_socket.h"
#include "hb_test_util.h"

#define SITE 7

struct sock_fixture {
	struct hb_keyring *kr;
	uint8_t key[HB_KEY_BYTES];
	struct hb_receiver rx;
	struct hb_socket *sock;
	int tx;
	struct sockaddr_storage to;
	socklen_t to_len;
	struct hb_heartbeat got[64];
	unsigned int n_got;
};

static int open_fixture(void **state, const char *bind_spec, const char *to_host)
{
	struct sock_fixture *f = calloc(1, sizeof(*f));
	char to_spec[64];

	f->kr = hb_keyring__new();
	hb_test_key(f->key, SITE);
	hb_keyring__set(f->kr, SITE, 0, f->key);
	hb_receiver__init(&f->rx, f->kr);
	*state = f;
	if (hb_socket__open(bind_spec, &f->rx, &f->sock))
		return -1;
	snprintf(to_spec, sizeof(to_spec), "%s:%u", to_host, hb_socket__port(f->sock));
	if (hb_addr_parse(to_spec, false, &f->to, &f->to_len))
		return -1;
	f->tx = socket(f->to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return f->tx < 0 ? -1 : 0;
}

static int v4_setup(void **state)
{
	return open_fixture(state, "127.0.0.1:0", "127.0.0.1");
}

static int v6_setup(void **state)
{
	return open_fixture(state, "[::1]:0", "[::1]");
}

/* A dual-stack socket: an IPv4 sender arrives as ::ffff:127.0.0.1 (net.ipv6.bindv6only = 0). */
static int dual_setup(void **state)
{
	return open_fixture(state, "[::]:0", "127.0.0.1");
}

static int sock_teardown(void **state)
{
	struct sock_fixture *f = *state;

	hb_socket__close(f->sock);
	if (f->tx > 0)
		close(f->tx);
	hb_keyring__free(f->kr);
	free(f);
	return 0;
}

static void on_accept(const struct hb_heartbeat *hb, void *ctx)
{
	struct sock_fixture *f = ctx;

	if (f->n_got < sizeof(f->got) / sizeof(f->got[0]))
		f->got[f->n_got++] = *hb;
}

static void send_raw(struct sock_fixture *f, const void *buf, size_t len)
{
	assert_int_equal(sendto(f->tx, buf, len, 0, (struct sockaddr *)&f->to, f->to_len),
			 (ssize_t)len);
}

static void send_hb(struct sock_fixture *f, uint64_t seq, uint32_t flags)
{
	struct hb_msg m = { SITE, 1, seq, 0, 5000, flags };
	uint8_t wire[HB_WIRE_LEN];

	hb_encode(&m, wire);
	hb_seal(wire, f->key);
	send_raw(f, wire, sizeof(wire));
}

/* Read until want datagrams were taken or 2 s passed: loopback delivers at once. */
static unsigned int drain(struct sock_fixture *f, unsigned int want)
{
	uint64_t deadline = dt_mono_ns() + 2000000000ull;
	unsigned int total = 0;

	while (total < want && dt_mono_ns() < deadline) {
		struct pollfd pfd = { .fd = hb_socket__fd(f->sock), .events = POLLIN };
		int n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = hb_socket__receive(f->sock, HB_SOCKET_BATCH, on_accept, f);
		assert_true(n >= 0);
		total += (unsigned int)n;
	}
	return total;
}

static void exchange_and_count(void **state)
{
	struct sock_fixture *f = *state;
	uint8_t junk[200] = { 0 }, wire[HB_WIRE_LEN];

	send_hb(f, 1, DT_POWER_MAINS);
	send_hb(f, 2, DT_POWER_ON_BATTERY);
	send_hb(f, 2, DT_POWER_ON_BATTERY); /* replay */
	send_raw(f, junk, 10); /* short */
	hb_test_build(junk, SITE, 1, 3, f->key);
	send_raw(f, junk, sizeof(junk)); /* oversized: a valid heartbeat plus trailing bytes */
	hb_test_build(wire, SITE, 1, 4, f->key);
	wire[HB_OFF_POWER] ^= 0x80; /* bad MAC */
	send_raw(f, wire, sizeof(wire));
	send_hb(f, 5, DT_POWER_MAINS | DT_POWER_CHARGING);
	assert_int_equal(drain(f, 7), 7);
	assert_int_equal(f->n_got, 3);
	assert_int_equal(f->got[0].seq, 1);
	assert_int_equal(f->got[1].power_flags, DT_POWER_ON_BATTERY);
	assert_int_equal(f->got[2].seq, 5);
	assert_int_equal(f->got[2].site_id, SITE);
	assert_int_equal(f->got[2].interval_us, 5000);
	assert_int_equal(f->rx.counters[HB_OK], 3);
	assert_int_equal(f->rx.counters[HB_REASON_REPLAY], 1);
	assert_int_equal(f->rx.counters[HB_REASON_SHORT], 1);
	assert_int_equal(f->rx.counters[HB_REASON_LONG], 1);
	assert_int_equal(f->rx.counters[HB_REASON_BAD_MAC], 1);
}

static void test_v4_exchange(void **state)
{
	exchange_and_count(state);
}

static void test_v6_exchange(void **state)
{
	exchange_and_count(state);
}

/* Beacon 0 of SITE may send from "ADDR/LEN" only. */
static void only_from(struct sock_fixture *f, int family, const char *addr, uint8_t len)
{
	struct hb_source src = { .beacon_id = 0, .len = len };

	src.net.family = family == AF_INET ? DT_FAMILY_V4 : DT_FAMILY_V6;
	assert_int_equal(inet_pton(family, addr, src.net.addr), 1);
	assert_int_equal(hb_receiver__set_sources(&f->rx, SITE, &src, 1), 0);
}

/*
 * The socket hands the receiver each datagram's real source: from loopback, a list without it
 * refuses a genuine heartbeat as wrong-source, one with it accepts the same heartbeat after.
 */
static void source_checked(struct sock_fixture *f, int family, const char *other, uint8_t olen,
			   const char *loopback, uint8_t llen)
{
	only_from(f, family, other, olen);
	send_hb(f, 1, DT_POWER_MAINS);
	assert_int_equal(drain(f, 1), 1);
	assert_int_equal(f->n_got, 0);
	assert_int_equal(f->rx.counters[HB_REASON_WRONG_SOURCE], 1);
	only_from(f, family, loopback, llen);
	send_hb(f, 1, DT_POWER_MAINS);
	assert_int_equal(drain(f, 1), 1);
	assert_int_equal(f->n_got, 1);
	assert_int_equal(f->rx.counters[HB_OK], 1);
}

static void test_v4_source(void **state)
{
	source_checked(*state, AF_INET, "198.18.0.0", 15, "127.0.0.0", 8);
}

static void test_v6_source(void **state)
{
	source_checked(*state, AF_INET6, "2001:db8::", 32, "::1", 128);
}

/* Through a dual-stack socket an IPv4 sender is its IPv4 address, not ::ffff:a.b.c.d. */
static void test_v4_mapped_source(void **state)
{
	source_checked(*state, AF_INET, "198.18.0.1", 32, "127.0.0.1", 32);
}

/* More datagrams queued than a batch: one call never takes more than it was allowed. */
static void test_bounded_batch(void **state)
{
	struct sock_fixture *f = *state;
	int n;

	for (uint64_t s = 1; s <= 40; s++)
		send_hb(f, s, DT_POWER_MAINS);
	n = hb_socket__receive(f->sock, 1000, on_accept, f);
	assert_int_equal(n, HB_SOCKET_BATCH);
	n = hb_socket__receive(f->sock, 5, on_accept, f);
	assert_int_equal(n, 5);
	assert_int_equal(drain(f, 3), 3);
	assert_int_equal(hb_socket__receive(f->sock, 10, on_accept, f), 0); /* empty: no block */
	assert_int_equal(f->n_got, 40);
}

/*
 * The heartbeat waits 30 ms in the socket before we read it. Its arrival time must still be
 * when it was sent (the kernel's stamp), inside [sent, read - 25 ms]. A real sleep is the point:
 * the clock under test is the kernel's, which cannot be injected.
 *
 * The first wait is for the kernel: enabling SO_TIMESTAMPNS turns on RX stamping through a
 * deferred work item (net_enable_timestamp), and a datagram that arrives before it ran carries
 * no stamp - the kernel then stamps it when it is read. A long-lived daemon socket only meets
 * this in its first moments; the test must not.
 */
static void test_arrival_is_kernel_time(void **state)
{
	struct sock_fixture *f = *state;
	const struct timespec settle = { .tv_nsec = 50000000 }, wait = { .tv_nsec = 30000000 };
	uint64_t before, read_at;

	nanosleep(&settle, NULL);
	before = dt_mono_ns();
	send_hb(f, 1, DT_POWER_MAINS);
	nanosleep(&wait, NULL);
	read_at = dt_mono_ns();
	assert_int_equal(drain(f, 1), 1);
	assert_int_equal(f->n_got, 1);
	assert_true(f->got[0].arrival_ns >= before);
	assert_true(f->got[0].arrival_ns <= read_at - 25000000ull);
	assert_true(f->got[0].arrival_ns <= dt_mono_ns());
}

static void test_bad_bind_address(void **state)
{
	struct hb_receiver rx;
	struct hb_socket *s = NULL;

	hb_receiver__init(&rx, NULL);
	hb_test_log_reset();
	assert_int_equal(hb_socket__open("not an address:x", &rx, &s), -EINVAL);
	assert_non_null(strstr(hb_test_log, "not an address:x"));
	assert_int_equal(hb_socket__open("127.0.0.1:99999", &rx, &s), -EINVAL);
	assert_int_equal(hb_socket__open("[::1:7600", &rx, &s), -EINVAL);
	assert_null(s);
	dt_log_set_sink(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v4_exchange, v4_setup, sock_teardown),
		cmocka_unit_test_setup_teardown(test_v6_exchange, v6_setup, sock_teardown),
		cmocka_unit_test_setup_teardown(test_bounded_batch, v4_setup, sock_teardown),
		cmocka_unit_test_setup_teardown(test_arrival_is_kernel_time, v4_setup,
						sock_teardown),
		cmocka_unit_test_setup_teardown(test_v4_source, v4_setup, sock_teardown),
		cmocka_unit_test_setup_teardown(test_v6_source, v6_setup, sock_teardown),
		cmocka_unit_test_setup_teardown(test_v4_mapped_source, dual_setup, sock_teardown),
		cmocka_unit_test(test_bad_bind_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
