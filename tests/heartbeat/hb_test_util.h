/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers shared by the heartbeat tests: a captured log and a sealed heartbeat builder. */
#ifndef HB_TEST_UTIL_H
#define HB_TEST_UTIL_H

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dt_log.h"
#include "hb.h"

static char hb_test_log[4096];

static inline void hb_test_capture(enum dt_log_level level, const char *msg)
{
	size_t used = strlen(hb_test_log);

	snprintf(hb_test_log + used, sizeof(hb_test_log) - used, "%s\n", msg);
}

static inline void hb_test_log_reset(void)
{
	hb_test_log[0] = '\0';
	dt_log_set_sink(hb_test_capture);
}

static inline void hb_test_key(uint8_t key[HB_KEY_BYTES], uint8_t seed)
{
	for (int i = 0; i < HB_KEY_BYTES; i++)
		key[i] = (uint8_t)(seed * 31 + i);
}

static inline void hb_test_build(uint8_t wire[HB_WIRE_LEN], uint16_t site, uint64_t epoch,
				 uint64_t seq, const uint8_t key[HB_KEY_BYTES])
{
	struct hb_msg m = {
		.site_id = site,
		.epoch = epoch,
		.seq = seq,
		.sent_ns = 1700000000000000000ull + seq,
		.interval_us = 5000,
		.power_flags = DT_POWER_MAINS,
	};

	hb_encode(&m, wire);
	hb_seal(wire, key);
}

/* The receiver tests' fixture: a receiver whose keyring holds one site's key (key id 0). */
struct hb_rx_fixture {
	struct hb_keyring *kr;
	uint8_t key[HB_KEY_BYTES];
	struct hb_receiver rx;
};

/* For a cmocka setup: *state is the fixture of site, or NULL (then the setup fails). */
static inline int hb_rx_fixture__setup(void **state, uint16_t site)
{
	struct hb_rx_fixture *f = calloc(1, sizeof(*f));

	*state = f;
	if (!f)
		return -1;
	f->kr = hb_keyring__new();
	hb_test_key(f->key, (uint8_t)site);
	if (!f->kr || hb_keyring__set(f->kr, site, 0, f->key))
		return -1;
	hb_receiver__init(&f->rx, f->kr);
	return 0;
}

static inline int hb_rx_fixture__teardown(void **state)
{
	struct hb_rx_fixture *f = *state;

	if (f)
		hb_keyring__free(f->kr);
	free(f);
	return 0;
}

/*
 * A version 2 datagram built byte by byte from docs/heartbeat.md and sealed with libsodium
 * directly, not through hb_encode()/hb_seal(): the receiver tests then check the spec, not the
 * encoder against itself. Returns its length (64).
 */
#define HB_TEST_V2_LEN 64
#define HB_TEST_V2_MAC_OFF 48

static inline void hb_test_put(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline size_t hb_test_build_v2(uint8_t wire[HB_TEST_V2_LEN], uint16_t site, uint16_t beacon,
				      uint16_t key_id, uint64_t epoch, uint64_t seq,
				      const uint8_t key[HB_KEY_BYTES])
{
	memset(wire, 0, HB_TEST_V2_LEN);
	hb_test_put(wire + 0, HB_MAGIC, 4);
	hb_test_put(wire + 4, 2, 2);
	hb_test_put(wire + 6, site, 2);
	hb_test_put(wire + 8, beacon, 2);
	hb_test_put(wire + 10, key_id, 2);
	hb_test_put(wire + 12, 5000, 4);
	hb_test_put(wire + 16, epoch, 8);
	hb_test_put(wire + 24, seq, 8);
	hb_test_put(wire + 32, 1700000000000000000ull + seq, 8);
	hb_test_put(wire + 40, DT_POWER_MAINS, 4);
	crypto_generichash(wire + HB_TEST_V2_MAC_OFF, 16, wire, HB_TEST_V2_MAC_OFF, key,
			   HB_KEY_BYTES);
	return HB_TEST_V2_LEN;
}

#endif /* HB_TEST_UTIL_H */
