/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Wire format: round trips, every byte corrupted, wrong key, bad lengths, bad magic and version,
 * and the test vector printed in docs/heartbeat.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>

#include "hb_test_util.h"

#define SITE 3

/* Field by field: struct padding is not part of a heartbeat. */
static void assert_msg_equal(const struct hb_msg *a, const struct hb_msg *b)
{
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
	assert_int_equal(hb_keyring__set(f.kr, SITE, f.key), 0);
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
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t wire[HB_WIRE_LEN];
		struct hb_msg out;

		hb_encode(&cases[i], wire);
		hb_seal(wire, f->key);
		assert_int_equal(hb_verify(wire, sizeof(wire), f->kr, &out), 0);
		assert_msg_equal(&out, &cases[i]);
	}
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
	if (off < HB_OFF_EPOCH)
		return -HB_REASON_UNKNOWN_SITE; /* only site 3 has a key */
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
 * docs/heartbeat.md, "Test vector": the same key, fields and bytes. The MAC is recomputed here
 * with libsodium directly, not through hb_seal(), so the doc, the encoder and the primitive must
 * all agree.
 */
#define VECTOR_HEX                                         \
	"44544842000100030123456789abcdef000000000000002a" \
	"17979cfe362a001500001388000002018da59eb228ef028b7c087b73c2d2c1e0"

static void test_doc_vector(void **state)
{
	const struct hb_msg m = {
		.site_id = 3,
		.epoch = 0x0123456789abcdefull,
		.seq = 42,
		.sent_ns = 1700000000000000021ull,
		.interval_us = 5000,
		.power_flags = DT_POWER_MAINS | DT_POWER_CHARGING,
	};
	uint8_t key[HB_KEY_BYTES], wire[HB_WIRE_LEN], expect[HB_WIRE_LEN], tag[HB_MAC_BYTES];
	struct hb_keyring *kr = hb_keyring__new();
	struct hb_msg out;

	for (int i = 0; i < HB_KEY_BYTES; i++)
		key[i] = (uint8_t)i;
	assert_int_equal(sodium_hex2bin(expect, sizeof(expect), VECTOR_HEX, strlen(VECTOR_HEX),
					NULL, NULL, NULL),
			 0);
	hb_encode(&m, wire);
	hb_seal(wire, key);
	assert_memory_equal(wire, expect, HB_WIRE_LEN);
	crypto_generichash(tag, sizeof(tag), expect, HB_OFF_MAC, key, sizeof(key));
	assert_memory_equal(tag, expect + HB_OFF_MAC, HB_MAC_BYTES);
	hb_keyring__set(kr, 3, key);
	assert_int_equal(hb_verify(expect, sizeof(expect), kr, &out), 0);
	assert_msg_equal(&out, &m);
	hb_keyring__free(kr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_every_bit_corrupted),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_bad_magic_and_version),
		cmocka_unit_test(test_site_out_of_range),
		cmocka_unit_test(test_reason_names_distinct),
		cmocka_unit_test(test_doc_vector),
	};

	return cmocka_run_group_tests(tests, wire_setup, wire_teardown);
}
