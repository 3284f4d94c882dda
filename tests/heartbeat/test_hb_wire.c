/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Wire format, versions 2 and 1: round trips, every byte corrupted, wrong key, bad lengths, bad
 * magic and version, and the two test vectors printed in docs/heartbeat.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>

#include "hb_test_util.h"

#define SITE 3

/* Field by field: struct padding is not part of a heartbeat. a was decoded, b encoded. */
static void assert_msg_equal(const struct hb_msg *a, const struct hb_msg *b)
{
	assert_int_equal(a->version, b->version == HB_VERSION_1 ? HB_VERSION_1 : HB_VERSION);
	assert_int_equal(a->beacon_id, b->beacon_id);
	assert_int_equal(a->key_id, b->key_id);
	assert_int_equal(a->site_id, b->site_id);
	assert_int_equal(a->epoch, b->epoch);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->sent_ns, b->sent_ns);
	assert_int_equal(a->interval_us, b->interval_us);
	assert_int_equal(a->power_flags, b->power_flags);
}

struct wire_fixture {
	struct hb_keyring *kr;
	uint8_t key[HB_KEY_BYTES];
};

static int wire_setup(void **state)
{
	static struct wire_fixture f;

	f.kr = hb_keyring__new();
	assert_non_null(f.kr);
	hb_test_key(f.key, SITE);
	assert_int_equal(hb_keyring__set(f.kr, SITE, 0, f.key), 0);
	*state = &f;
	return 0;
}

static int wire_teardown(void **state)
{
	struct wire_fixture *f = *state;

	hb_keyring__free(f->kr);
	return 0;
}

static void test_round_trip(void **state)
{
	struct wire_fixture *f = *state;
	const struct hb_msg cases[] = {
		{ SITE, 1, 1, 0, 1000, DT_POWER_MAINS },
		{ SITE, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT32_MAX, UINT32_MAX },
		{ SITE, 0x0102030405060708ull, 0x1112131415161718ull, 0x2122232425262728ull,
		  0x31323334, DT_POWER_ON_BATTERY | DT_POWER_LOW_BATTERY | DT_POWER_UNKNOWN },
		{ SITE, 9, 8, 7, 6, 5, HB_VERSION, 7, 0 },
		{ SITE, 9, 8, 7, 6, 5, HB_VERSION, UINT16_MAX, 0 },
		{ SITE, UINT64_MAX, 3, UINT64_MAX, 1000, DT_POWER_MAINS, HB_VERSION_1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t wire[HB_WIRE_LEN];
		struct hb_msg out;
		size_t len = hb_encode(&cases[i], wire);

		assert_int_equal(len, cases[i].version == HB_VERSION_1 ? 56 : 64);
		hb_seal(wire, f->key);
		assert_int_equal(hb_verify(wire, len, f->kr, &out), 0);
		assert_msg_equal(&out, &cases[i]);
	}
}

/* The reserved word: zero when we send, covered by the MAC, not a reason to refuse. */
static void test_reserved_word(void **state)
{
	struct wire_fixture *f = *state;
	const struct hb_msg m = { .site_id = SITE, .epoch = 1, .seq = 1, .interval_us = 1 };
	uint8_t wire[HB_WIRE_LEN];
	struct hb_msg out;

	memset(wire, 0xee, sizeof(wire));
	hb_encode(&m, wire);
	assert_memory_equal(wire + HB_OFF_RESERVED, "\0\0\0\0", 4);
	wire[HB_OFF_RESERVED + 3] = 0x5a; /* a future sender's use of it, sealed */
	hb_seal(wire, f->key);
	assert_int_equal(hb_verify(wire, sizeof(wire), f->kr, &out), 0);
	assert_int_equal(out.seq, 1);
}

/* Big-endian on the wire, whatever the host: check a field's bytes directly. */
static void test_byte_order(void **state)
{
	const struct hb_msg m = { .site_id = 0x0102, .seq = 0x0a0b0c0d0e0f1011ull };
	const uint8_t seq_be[8] = { 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11 };
	uint8_t wire[HB_WIRE_LEN];

	hb_encode(&m, wire);
	assert_memory_equal(wire, "DTHB", 4);
	assert_int_equal(wire[HB_OFF_SITE], 0x01);
	assert_int_equal(wire[HB_OFF_SITE + 1], 0x02);
	assert_memory_equal(wire + HB_OFF_SEQ, seq_be, 8);
}

/* Which reason a flipped bit at offset off must produce, by the field it lands in. */
static int expected_reason(size_t off)
{
	if (off < HB_OFF_VERSION)
		return -HB_REASON_BAD_MAGIC;
	if (off < HB_OFF_SITE)
		return -HB_REASON_BAD_VERSION;
	if (off < HB_OFF_BEACON)
		return -HB_REASON_UNKNOWN_SITE; /* only site 3 has a key */
	if (off >= HB_OFF_KEY_ID && off < HB_OFF_INTERVAL)
		return -HB_REASON_UNKNOWN_KEY; /* site 3 has key id 0 only */
	return -HB_REASON_BAD_MAC; /* the beacon id and the reserved word are sealed too */
}

/* Version 1: no beacon or key id, the MAC at 40. */
static int expected_reason_v1(size_t off)
{
	if (off < HB_OFF_SITE)
		return expected_reason(off);
	if (off < HB_V1_OFF_EPOCH)
		return -HB_REASON_UNKNOWN_SITE;
	return -HB_REASON_BAD_MAC;
}

static void test_every_bit_corrupted(void **state)
{
	struct wire_fixture *f = *state;
	uint8_t good[HB_WIRE_LEN];

	hb_test_build(good, SITE, 7, 9, f->key);
	for (size_t off = 0; off < HB_WIRE_LEN; off++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t wire[HB_WIRE_LEN];
			struct hb_msg out;

			memcpy(wire, good, sizeof(wire));
			wire[off] ^= (uint8_t)(1u << bit);
			assert_int_equal(hb_verify(wire, sizeof(wire), f->kr, &out),
					 expected_reason(off));
		}
	}
}

static void test_every_bit_corrupted_v1(void **state)
{
	struct wire_fixture *f = *state;
	const struct hb_msg m = { SITE, 7, 9, 11, 5000, DT_POWER_MAINS, HB_VERSION_1 };
	uint8_t good[HB_WIRE_LEN];

	assert_int_equal(hb_encode(&m, good), HB_V1_WIRE_LEN);
	hb_seal(good, f->key);
	for (size_t off = 0; off < HB_V1_WIRE_LEN; off++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t wire[HB_WIRE_LEN];
			struct hb_msg out;

			memcpy(wire, good, sizeof(wire));
			wire[off] ^= (uint8_t)(1u << bit);
			/* One bit makes version 1 into 0, 3, 5, ...: never into version 2. */
			assert_int_equal(hb_verify(wire, HB_V1_WIRE_LEN, f->kr, &out),
					 expected_reason_v1(off));
		}
	}
}

static void test_wrong_key(void **state)
{
	struct wire_fixture *f = *state;
	uint8_t wire[HB_WIRE_LEN], other[HB_KEY_BYTES];
	struct hb_msg out;

	hb_test_key(other, SITE + 1);
	hb_test_build(wire, SITE, 1, 1, other);
	assert_int_equal(hb_verify(wire, sizeof(wire), f->kr, &out), -HB_REASON_BAD_MAC);
}

static void test_lengths(void **state)
{
	struct wire_fixture *f = *state;
	uint8_t big[2048] = { 0 };
	struct hb_msg out;

	hb_test_build(big, SITE, 1, 1, f->key);
	for (size_t len = 0; len < HB_WIRE_LEN; len++)
		assert_int_equal(hb_verify(big, len, f->kr, &out), -HB_REASON_SHORT);
	assert_int_equal(hb_verify(big, HB_WIRE_LEN, f->kr, &out), 0);
	/* A valid heartbeat with trailing bytes is still refused: the length is fixed. */
	assert_int_equal(hb_verify(big, HB_WIRE_LEN + 1, f->kr, &out), -HB_REASON_LONG);
	assert_int_equal(hb_verify(big, sizeof(big), f->kr, &out), -HB_REASON_LONG);
}

/* Each version has its one length: a v1 datagram padded to 64, a v2 one cut to 56. */
static void test_version_lengths(void **state)
{
	struct wire_fixture *f = *state;
	struct hb_msg m = { SITE, 1, 1, 1, 1000, DT_POWER_MAINS, HB_VERSION_1 };
	uint8_t wire[HB_WIRE_LEN + 8] = { 0 };
	struct hb_msg out;

	hb_encode(&m, wire);
	hb_seal(wire, f->key);
	assert_int_equal(hb_verify(wire, HB_V1_WIRE_LEN, f->kr, &out), 0);
	assert_int_equal(hb_verify(wire, HB_V1_WIRE_LEN - 1, f->kr, &out), -HB_REASON_SHORT);
	assert_int_equal(hb_verify(wire, HB_V1_WIRE_LEN + 1, f->kr, &out), -HB_REASON_LONG);
	assert_int_equal(hb_verify(wire, HB_WIRE_LEN, f->kr, &out), -HB_REASON_LONG);
	m.version = HB_VERSION;
	hb_encode(&m, wire);
	hb_seal(wire, f->key);
	assert_int_equal(hb_verify(wire, HB_WIRE_LEN, f->kr, &out), 0);
	assert_int_equal(hb_verify(wire, HB_V1_WIRE_LEN, f->kr, &out), -HB_REASON_SHORT);
	assert_int_equal(hb_verify(wire, HB_WIRE_LEN - 1, f->kr, &out), -HB_REASON_SHORT);
	assert_int_equal(hb_verify(wire, HB_WIRE_LEN + 1, f->kr, &out), -HB_REASON_LONG);
	assert_int_equal(hb_wire_len(0), 0);
	assert_int_equal(hb_wire_len(3), 0);
}

/* A correctly sealed datagram with another magic or version: the header check catches it. */
static void test_bad_magic_and_version(void **state)
{
	struct wire_fixture *f = *state;
	uint8_t wire[HB_WIRE_LEN];
	struct hb_msg out;

	hb_test_build(wire, SITE, 1, 1, f->key);
	memcpy(wire, "DTHC", 4);
	hb_seal(wire, f->key);
	assert_int_equal(hb_verify(wire, sizeof(wire), f->kr, &out), -HB_REASON_BAD_MAGIC);
	hb_test_build(wire, SITE, 1, 1, f->key);
	wire[HB_OFF_VERSION + 1] = HB_VERSION + 1;
	hb_seal(wire, f->key);
	assert_int_equal(hb_verify(wire, sizeof(wire), f->kr, &out), -HB_REASON_BAD_VERSION);
}

static void test_site_out_of_range(void **state)
{
	struct wire_fixture *f = *state;
	uint8_t wire[HB_WIRE_LEN];
	struct hb_msg out;

	hb_test_build(wire, DT_MAX_SITES, 1, 1, f->key);
	assert_int_equal(hb_verify(wire, sizeof(wire), f->kr, &out), -HB_REASON_UNKNOWN_SITE);
	hb_test_build(wire, 0xffff, 1, 1, f->key);
	assert_int_equal(hb_verify(wire, sizeof(wire), f->kr, &out), -HB_REASON_UNKNOWN_SITE);
}

static void test_reason_names_distinct(void **state)
{
	for (int a = 0; a < HB_REASON_MAX; a++) {
		assert_non_null(hb_reason_str(a));
		assert_string_equal(hb_reason_str(a), hb_reason_str(-a));
		for (int b = a + 1; b < HB_REASON_MAX; b++)
			assert_string_not_equal(hb_reason_str(a), hb_reason_str(b));
	}
	assert_string_equal(hb_reason_str(HB_REASON_MAX), "invalid-reason");
}

/*
 * docs/heartbeat.md, "Test vectors": the same key, fields and bytes. The MAC is recomputed here
 * with libsodium directly, not through hb_seal(), so the doc, the encoder and the primitive must
 * all agree. Version 1 first.
 */
#define VECTOR_HEX                                         \
	"44544842000100030123456789abcdef000000000000002a" \
	"17979cfe362a001500001388000002018da59eb228ef028b7c087b73c2d2c1e0"

/*
 * One vector: hb_encode() + hb_seal() give the doc's bytes, libsodium alone gives the same MAC
 * over [0, mac_off), and the datagram verifies with the key filed under m's key id.
 */
static void check_vector(const char *hex, const struct hb_msg *m, size_t len, size_t mac_off)
{
	uint8_t key[HB_KEY_BYTES], wire[HB_WIRE_LEN], expect[HB_WIRE_LEN], tag[HB_MAC_BYTES];
	struct hb_keyring *kr = hb_keyring__new();
	struct hb_msg out;
	size_t bin_len = 0;

	for (int i = 0; i < HB_KEY_BYTES; i++)
		key[i] = (uint8_t)i;
	assert_int_equal(sodium_hex2bin(expect, sizeof(expect), hex, strlen(hex), NULL, &bin_len,
					NULL),
			 0);
	assert_int_equal(bin_len, len);
	assert_int_equal(hb_encode(m, wire), len);
	hb_seal(wire, key);
	assert_memory_equal(wire, expect, len);
	crypto_generichash(tag, sizeof(tag), expect, mac_off, key, sizeof(key));
	assert_memory_equal(tag, expect + mac_off, HB_MAC_BYTES);
	/* Filed under another key id than the one that sealed it, the same key does not verify. */
	hb_keyring__set(kr, m->site_id, m->key_id + 1, key);
	assert_int_equal(hb_verify(expect, len, kr, &out), -HB_REASON_UNKNOWN_KEY);
	hb_keyring__set(kr, m->site_id, m->key_id, key);
	assert_int_equal(hb_verify(expect, len, kr, &out), 0);
	assert_msg_equal(&out, m);
	hb_keyring__free(kr);
}

static void test_doc_vector(void **state)
{
	const struct hb_msg m = {
		.site_id = 3,
		.epoch = 0x0123456789abcdefull,
		.seq = 42,
		.sent_ns = 1700000000000000021ull,
		.interval_us = 5000,
		.power_flags = DT_POWER_MAINS | DT_POWER_CHARGING,
		.version = HB_VERSION_1, /* and so taken as beacon 0, key 0 */
	};

	check_vector(VECTOR_HEX, &m, HB_V1_WIRE_LEN, 40);
}

/* The version 2 vector: site 3, beacon 1, key id 7; the MAC covers bytes [0, 48). */
#define VECTOR_V2_HEX                                                      \
	"445448420002000300010007000013880123456789abcdef000000000000002a" \
	"17979cfe362a00150000020100000000aeaf8711868d3071706c765e1b9836ed"

static void test_doc_vector_v2(void **state)
{
	const struct hb_msg m = {
		.site_id = 3,
		.beacon_id = 1,
		.key_id = 7,
		.epoch = 0x0123456789abcdefull,
		.seq = 42,
		.sent_ns = 1700000000000000021ull,
		.interval_us = 5000,
		.power_flags = DT_POWER_MAINS | DT_POWER_CHARGING,
	};

	check_vector(VECTOR_V2_HEX, &m, HB_WIRE_LEN, 48);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_reserved_word),
		cmocka_unit_test(test_every_bit_corrupted),
		cmocka_unit_test(test_every_bit_corrupted_v1),
		cmocka_unit_test(test_version_lengths),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_bad_magic_and_version),
		cmocka_unit_test(test_site_out_of_range),
		cmocka_unit_test(test_reason_names_distinct),
		cmocka_unit_test(test_doc_vector),
		cmocka_unit_test(test_doc_vector_v2),
	};

	return cmocka_run_group_tests(tests, wire_setup, wire_teardown);
}
