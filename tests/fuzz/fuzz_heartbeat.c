/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer target for the heartbeat receiver. Two halves of every input:
 *  - as a datagram off the wire: it must be refused (no input can carry a valid MAC without the
 *    key), with a reason, and must never change what the receiver accepts from the real beacon;
 *  - as the fields of a heartbeat the real beacon seals: it must be accepted once, decode to the
 *    same fields, and be refused as a replay the second time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_key[HB_KEY_BYTES] = { 0x5e, 0xed, 0x01 };
static const uint8_t fuzz_key3[HB_KEY_BYTES] = { 0x5e, 0xed, 0x03 }; /* site 7's key id 3 */
static struct hb_keyring *keys;

static void check_forged(struct hb_receiver *rx, const uint8_t *data, size_t size)
{
	struct hb_msg out;
	uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan sees any overread */

	if (!copy)
		return;
	memcpy(copy, data, size);
	if (hb_receiver__process(rx, copy, size, 0, &out) >= 0)
		abort(); /* a datagram without the key was accepted */
	free(copy);
}

static void check_sealed(struct hb_receiver *rx, const uint8_t *data, size_t size)
{
	struct hb_msg m = { 0 }, out;
	uint8_t wire[HB_WIRE_LEN];
	size_t len;

	if (size < 41)
		return;
	/* Byte 40: the version (bit 7), beacon id (bits 0-2) and which of the two keys (bit 3). */
	m.version = data[40] & 0x80 ? HB_VERSION_1 : HB_VERSION;
	m.beacon_id = m.version == HB_VERSION_1 ? 0 : data[40] & 7;
	m.key_id = m.version == HB_VERSION_1 ? 0 : (data[40] & 8 ? 3 : 0);
	memcpy(&m.epoch, data, 8);
	memcpy(&m.seq, data + 8, 8);
	memcpy(&m.sent_ns, data + 16, 8);
	memcpy(&m.interval_us, data + 24, 4);
	memcpy(&m.power_flags, data + 28, 4);
	m.site_id = 7;
	m.epoch |= 1;
	m.seq = (m.seq | 1) & ((1ull << 62) - 1);
	m.interval_us = m.interval_us % 10000000 + 1;
	len = hb_encode(&m, wire);
	hb_seal(wire, m.key_id ? fuzz_key3 : fuzz_key);
	if (hb_receiver__process(rx, wire, len, 0, &out))
		abort();
	if (out.site_id != m.site_id || out.epoch != m.epoch || out.seq != m.seq ||
	    out.power_flags != m.power_flags || out.interval_us != m.interval_us ||
	    out.beacon_id != m.beacon_id || out.key_id != m.key_id || out.version != m.version)
		abort();
	if (hb_receiver__process(rx, wire, len, 0, &out) != -HB_REASON_REPLAY)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hb_receiver rx;

	if (!keys) {
		keys = hb_keyring__new();
		if (!keys || hb_keyring__set(keys, 7, 0, fuzz_key) ||
		    hb_keyring__set(keys, 7, 3, fuzz_key3))
			abort();
	}
	hb_receiver__init(&rx, keys);
	hb_receiver__set_beacons(&rx, 7, 0xff);
	check_forged(&rx, data, size);
	check_sealed(&rx, data, size);
	return 0;
}
