/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers shared by the heartbeat tests: a captured log and a sealed heartbeat builder. */
#ifndef HB_TEST_UTIL_H
#define HB_TEST_UTIL_H

#include <stdio.h>
#include <string.h>

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

#endif /* HB_TEST_UTIL_H */
