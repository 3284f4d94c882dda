/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Detour heartbeat protocol: wire format, sealing and verification, per-site keys, the replay
 * window and the receiver state that ties them together. docs/heartbeat.md is the specification;
 * this header is the one implementation of it. No sockets here: hb_socket.h adds those.
 */
#ifndef DT_HB_H
#define DT_HB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/core/detour_abi.h"
#include "power_flags.h"

/* ---- Wire format (all integers big-endian) ------------------------------------------------ */

#define HB_MAGIC 0x44544842u /* "DTHB" */
#define HB_VERSION 1
#define HB_DEFAULT_PORT 7600

#define HB_OFF_MAGIC 0 /* u32 */
#define HB_OFF_VERSION 4 /* u16 */
#define HB_OFF_SITE 6 /* u16 */
#define HB_OFF_EPOCH 8 /* u64 */
#define HB_OFF_SEQ 16 /* u64 */
#define HB_OFF_SENT 24 /* u64, sender CLOCK_REALTIME ns */
#define HB_OFF_INTERVAL 32 /* u32, µs */
#define HB_OFF_POWER 36 /* u32, enum dt_power_flag bits */
#define HB_OFF_MAC 40 /* keyed BLAKE2b-128 over bytes [0, 40) */
#define HB_MAC_BYTES 16
#define HB_WIRE_LEN (HB_OFF_MAC + HB_MAC_BYTES)
#define HB_KEY_BYTES 32

_Static_assert(HB_WIRE_LEN == 56, "heartbeat wire layout");

/* A heartbeat's fields, host byte order. */
struct hb_msg {
	uint16_t site_id;
	uint64_t epoch; /* chosen at beacon start; a restarted beacon picks a larger one */
	uint64_t seq; /* per epoch, starts at 1, +1 per heartbeat */
	uint64_t sent_ns; /* sender CLOCK_REALTIME */
	uint32_t interval_us; /* the beacon's configured interval */
	uint32_t power_flags; /* enum dt_power_flag */
};

/*
 * Why a datagram was rejected. hb_verify() and hb_receiver__process() return the negative of one
 * of these; 0 means accepted. Values are stable: counters are printed by number.
 */
enum hb_reason {
	HB_OK = 0,
	HB_REASON_SHORT = 1, /* fewer than HB_WIRE_LEN bytes */
	HB_REASON_LONG = 2, /* more than HB_WIRE_LEN bytes */
	HB_REASON_BAD_MAGIC = 3,
	HB_REASON_BAD_VERSION = 4,
	HB_REASON_UNKNOWN_SITE = 5, /* no key for this site id */
	HB_REASON_BAD_MAC = 6,
	HB_REASON_BAD_FIELD = 7, /* authentic but impossible: interval 0 */
	HB_REASON_STALE = 8, /* sender clock too far from ours (only if a skew limit is set) */
	HB_REASON_OLD_EPOCH = 9, /* older than the newest epoch seen from this site */
	HB_REASON_TOO_OLD = 10, /* sequence below the replay window */
	HB_REASON_REPLAY = 11, /* sequence already seen in the window */
	HB_REASON_MAX,
};

const char *hb_reason_str(int reason);

/* Fill out[0 .. HB_OFF_MAC) from m; the MAC bytes are zeroed until hb_seal(). */
void hb_encode(const struct hb_msg *m, uint8_t out[HB_WIRE_LEN]);
/* Compute the MAC of an encoded heartbeat into buf[HB_OFF_MAC ..]. */
void hb_seal(uint8_t buf[HB_WIRE_LEN], const uint8_t key[HB_KEY_BYTES]);
/* Parse the header checks that need no key: length, magic, version. 0 or -reason. */
int hb_decode(const void *buf, size_t len, struct hb_msg *out);

/* ---- Keys --------------------------------------------------------------------------------- */

struct hb_keyring;

/*
 * Load "<site-id> <64 hex digits>" lines. The file must be a regular file owned by root with no
 * group or other permission bits; anything else is refused with a message naming the file and
 * its mode. Returns 0 or -errno (-EPERM insecure, -EINVAL parse error, ...).
 */
int hb_keyring__load(const char *path, struct hb_keyring **out);
struct hb_keyring *hb_keyring__new(void);
int hb_keyring__set(struct hb_keyring *kr, uint16_t site_id, const uint8_t key[HB_KEY_BYTES]);
/* The key of a site, or NULL. */
const uint8_t *hb_keyring__key(const struct hb_keyring *kr, uint16_t site_id);
unsigned int hb_keyring__count(const struct hb_keyring *kr);
void hb_keyring__free(struct hb_keyring *kr);

/* Header checks, then the MAC in constant time. 0 (out filled) or -reason. */
int hb_verify(const void *buf, size_t len, const struct hb_keyring *kr, struct hb_msg *out);

/* ---- Replay window (RFC 6479) ------------------------------------------------------------- */

#define HB_REPLAY_BLOCKS 32 /* 64-bit words in the ring; a power of two */
#define HB_REPLAY_WINDOW ((HB_REPLAY_BLOCKS - 1) * 64) /* sequences behind the newest accepted */

_Static_assert((HB_REPLAY_BLOCKS & (HB_REPLAY_BLOCKS - 1)) == 0, "replay blocks: power of 2");
_Static_assert(HB_REPLAY_WINDOW >= 1024, "replay window of at least 1024");

struct hb_replay_window {
	uint64_t top; /* highest sequence accepted */
	uint64_t bitmap[HB_REPLAY_BLOCKS];
};

void hb_replay_window__reset(struct hb_replay_window *w);
/* 0 if seq may be accepted, -HB_REASON_TOO_OLD or -HB_REASON_REPLAY. Does not record it. */
int hb_replay_window__check(const struct hb_replay_window *w, uint64_t seq);
/* Record an accepted seq (after check() said 0 and the MAC was good). */
void hb_replay_window__update(struct hb_replay_window *w, uint64_t seq);

/* ---- Receiver state: keys, newest epoch and window per site, counters ----------------------- */

struct hb_site_rx {
	bool seen;
	uint64_t epoch;
	struct hb_replay_window window;
};

struct hb_receiver {
	const struct hb_keyring *keys; /* not owned */
	uint64_t max_skew_ns; /* 0: do not compare the sender's clock with ours */
	struct hb_site_rx site[DT_MAX_SITES];
	uint64_t counters[HB_REASON_MAX]; /* [HB_OK] counts accepted heartbeats */
};

void hb_receiver__init(struct hb_receiver *rx, const struct hb_keyring *keys);
/*
 * Verify one datagram and, if it is authentic and fresh, record it. rx_realtime_ns is the
 * CLOCK_REALTIME at which it arrived (for the optional skew check). Counts every outcome.
 * Returns 0 (out filled) or -reason.
 */
int hb_receiver__process(struct hb_receiver *rx, const void *buf, size_t len,
			 uint64_t rx_realtime_ns, struct hb_msg *out);

#endif /* DT_HB_H */
