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
#define HB_VERSION 2 /* what hb_encode() writes unless told otherwise */
#define HB_VERSION_1 1 /* still accepted: taken as beacon 0, key 0 */
#define HB_DEFAULT_PORT 7600

#define HB_OFF_MAGIC 0 /* u32 */
#define HB_OFF_VERSION 4 /* u16 */
#define HB_OFF_SITE 6 /* u16 */
#define HB_OFF_BEACON 8 /* u16, 0 .. HB_MAX_BEACONS - 1 */
#define HB_OFF_KEY_ID 10 /* u16, which of the site's keys sealed it */
#define HB_OFF_INTERVAL 12 /* u32, µs */
#define HB_OFF_EPOCH 16 /* u64 */
#define HB_OFF_SEQ 24 /* u64 */
#define HB_OFF_SENT 32 /* u64, sender CLOCK_REALTIME ns */
#define HB_OFF_POWER 40 /* u32, enum dt_power_flag bits */
#define HB_OFF_RESERVED 44 /* u32, zero on send, ignored on receipt */
#define HB_OFF_MAC 48 /* keyed BLAKE2b-128 over bytes [0, 48) */
#define HB_MAC_BYTES 16
#define HB_WIRE_LEN (HB_OFF_MAC + HB_MAC_BYTES) /* version 2, the longest: size buffers by it */
#define HB_KEY_BYTES 32

/* Version 1 (56 bytes): no beacon id, no key id, no reserved word. */
#define HB_V1_OFF_EPOCH 8
#define HB_V1_OFF_SEQ 16
#define HB_V1_OFF_SENT 24
#define HB_V1_OFF_INTERVAL 32
#define HB_V1_OFF_POWER 36
#define HB_V1_OFF_MAC 40
#define HB_V1_WIRE_LEN (HB_V1_OFF_MAC + HB_MAC_BYTES)

#define HB_MAX_BEACONS 8 /* beacon ids 0 .. 7 per site */

_Static_assert(HB_WIRE_LEN == 64, "heartbeat wire layout, version 2");
_Static_assert(HB_V1_WIRE_LEN == 56, "heartbeat wire layout, version 1");

/* A heartbeat's fields, host byte order. */
struct hb_msg {
	uint16_t site_id;
	uint64_t epoch; /* chosen at beacon start; a restarted beacon picks a larger one */
	uint64_t seq; /* per epoch, starts at 1, +1 per heartbeat */
	uint64_t sent_ns; /* sender CLOCK_REALTIME */
	uint32_t interval_us; /* the beacon's configured interval */
	uint32_t power_flags; /* enum dt_power_flag */
	uint16_t version; /* hb_encode(): 1 writes version 1, anything else version 2 */
	uint16_t beacon_id; /* version 1: always 0 */
	uint16_t key_id; /* version 1: always 0 */
};

/*
 * Why a datagram was rejected. hb_verify() and hb_receiver__process() return the negative of one
 * of these; 0 means accepted. Values are stable: counters are printed by number.
 */
enum hb_reason {
	HB_OK = 0,
	HB_REASON_SHORT = 1, /* fewer bytes than its version's length */
	HB_REASON_LONG = 2, /* more bytes than its version's length */
	HB_REASON_BAD_MAGIC = 3,
	HB_REASON_BAD_VERSION = 4,
	HB_REASON_UNKNOWN_SITE = 5, /* no key at all for this site id */
	HB_REASON_BAD_MAC = 6,
	HB_REASON_BAD_FIELD = 7, /* authentic but impossible: interval 0 */
	HB_REASON_STALE = 8, /* sender clock too far from ours (only if a skew limit is set) */
	HB_REASON_OLD_EPOCH = 9, /* older than the newest epoch seen from this (site, beacon) */
	HB_REASON_TOO_OLD = 10, /* sequence below the replay window */
	HB_REASON_REPLAY = 11, /* sequence already seen in the window */
	HB_REASON_UNKNOWN_KEY = 12, /* the site has keys, none with this key id */
	HB_REASON_UNKNOWN_BEACON = 13, /* authentic, but the beacon id is not one of the site's */
	HB_REASON_WRONG_SOURCE = 14, /* not from a source the (site, beacon) may send from */
	HB_REASON_MAX,
};

const char *hb_reason_str(int reason);

/*
 * Encode m as version 2 (or version 1 if m->version is 1: for tests and hb-forge). The MAC bytes
 * are zeroed until hb_seal(). Returns the datagram's length: HB_WIRE_LEN or HB_V1_WIRE_LEN.
 */
size_t hb_encode(const struct hb_msg *m, uint8_t out[HB_WIRE_LEN]);
/* The MAC of an encoded heartbeat into its MAC bytes; the version field says where they are. */
void hb_seal(uint8_t buf[HB_WIRE_LEN], const uint8_t key[HB_KEY_BYTES]);
/* The length a datagram of this version has, or 0 for a version we do not know. */
size_t hb_wire_len(uint16_t version);
/* The header checks that need no key: length, magic, version; then the fields. 0 or -reason. */
int hb_decode(const void *buf, size_t len, struct hb_msg *out);

/* ---- Keys --------------------------------------------------------------------------------- */

struct hb_keyring;

#define HB_MAX_KEYS_PER_SITE 4 /* enough for a rotation: old and new, with room to spare */

/*
 * Load "<site-id> <64 hex digits>" (key id 0) and "<site-id> <key-id> <64 hex digits>" lines. The
 * file must be a regular file owned by root with no group or other permission bits; anything
 * else is refused with a message naming the file and its mode. A (site, key id) given twice, or
 * more than HB_MAX_KEYS_PER_SITE keys for a site, is an error naming FILE:LINE. Returns 0 or
 * -errno (-EPERM insecure, -EINVAL parse error, ...).
 */
int hb_keyring__load(const char *path, struct hb_keyring **out);
/*
 * hb_keyring__load(), but the file may also be readable (only) by group group (mode 0640, that
 * group; detourd's `user`): the daemon re-reads it on SIGHUP after giving up root. group -1:
 * hb_keyring__load(). An unreadable file is named with the uid that tried.
 */
int hb_keyring__load_group(const char *path, long group, struct hb_keyring **out);
struct hb_keyring *hb_keyring__new(void);
/* Add, or replace, the key (site, key id). 0, -ERANGE (site) or -ENOSPC (site's keys full). */
int hb_keyring__set(struct hb_keyring *kr, uint16_t site_id, uint16_t key_id,
		    const uint8_t key[HB_KEY_BYTES]);
/* Forget the key (site, key id), wiping it. 0 or -ENOENT. */
int hb_keyring__remove(struct hb_keyring *kr, uint16_t site_id, uint16_t key_id);
/* The key (site, key id), or NULL. */
const uint8_t *hb_keyring__key(const struct hb_keyring *kr, uint16_t site_id, uint16_t key_id);
/*
 * How many keys a site has (0: none, the site is unknown); the first max of their key ids, in
 * file order, into ids (NULL with max 0 to count only).
 */
unsigned int hb_keyring__site_keys(const struct hb_keyring *kr, uint16_t site_id, uint16_t *ids,
				   unsigned int max);
/* Keys in all, every site's. */
unsigned int hb_keyring__count(const struct hb_keyring *kr);
void hb_keyring__free(struct hb_keyring *kr);

/* Header checks, the key by (site, key id), then the MAC in constant time. 0 or -reason. */
int hb_verify(const void *buf, size_t len, const struct hb_keyring *kr, struct hb_msg *out);
/* The key and MAC checks of hb_verify() for a datagram hb_decode() accepted as m. */
int hb_verify_decoded(const void *buf, const struct hb_keyring *kr, const struct hb_msg *m);

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

/* ---- Sources: where a (site, beacon) may send from ---------------------------------------- */

#define HB_MAX_SOURCES 16 /* source entries per site, all its beacons' together */

/* An address: family DT_FAMILY_V4 or DT_FAMILY_V6, network order, IPv4 in the first 4 bytes. */
struct hb_ip {
	uint8_t family; /* DT_FAMILY_NONE: not known */
	uint8_t addr[16];
};

/* One address or prefix beacon beacon_id of a site may send from (host bits zero). */
struct hb_source {
	uint8_t beacon_id;
	uint8_t len; /* prefix length; 32 or 128: one address */
	struct hb_ip net;
};

/* Whether a is inside src's prefix (same family, the first src->len bits equal). */
bool hb_source__match(const struct hb_source *src, const struct hb_ip *a);

/* ---- Receiver state: keys, newest epoch and window per (site, beacon), counters ------------ */

struct hb_beacon_rx {
	bool seen;
	uint64_t epoch;
	struct hb_replay_window window;
};

struct hb_site_rx {
	uint8_t beacons; /* bit b: beacon id b is one of this site's (after init: beacon 0) */
	uint8_t sourced; /* bit b: beacon b has sources; it may send from those only */
	uint8_t n_sources;
	struct hb_source source[HB_MAX_SOURCES];
	struct hb_beacon_rx beacon[HB_MAX_BEACONS];
};

_Static_assert(HB_MAX_BEACONS <= 8, "the beacon mask is one byte");

/* What survives a detourd restart, per (site, beacon): hb_receiver__beacon_state(), restore(). */
struct hb_beacon_state {
	bool seen;
	uint64_t epoch; /* newest epoch accepted */
	uint64_t top; /* highest sequence accepted in it */
};

struct hb_receiver {
	const struct hb_keyring *keys; /* not owned */
	uint64_t max_skew_ns; /* 0: do not compare the sender's clock with ours */
	struct hb_site_rx site[DT_MAX_SITES];
	uint64_t counters[HB_REASON_MAX]; /* [HB_OK] counts accepted heartbeats */
};

/* No keys but these, nothing seen; every site accepts beacon 0 only (hb_receiver__set_beacons). */
void hb_receiver__init(struct hb_receiver *rx, const struct hb_keyring *keys);
/*
 * Verify one datagram from src and, if it may come from there and is authentic and fresh,
 * record it. rx_realtime_ns is the CLOCK_REALTIME at which it arrived (for the optional skew
 * check). src NULL: not known, refused as WRONG_SOURCE by a (site, beacon) that has sources.
 * Counts every outcome. Returns 0 (out filled) or -reason.
 */
int hb_receiver__process_from(struct hb_receiver *rx, const void *buf, size_t len,
			      const struct hb_ip *src, uint64_t rx_realtime_ns, struct hb_msg *out);
/* hb_receiver__process_from() with no source: for sites whose beacons have no sources. */
int hb_receiver__process(struct hb_receiver *rx, const void *buf, size_t len,
			 uint64_t rx_realtime_ns, struct hb_msg *out);
/* Which beacon ids a site accepts (bit b: beacon b). 0 or -ERANGE. */
int hb_receiver__set_beacons(struct hb_receiver *rx, uint16_t site_id, uint8_t mask);
/*
 * Where a site's beacons may send from, replacing what it had: a beacon with entries here may
 * send from those only, one without from anywhere (n 0: every beacon, as after init). Replay
 * state is kept. 0, -ERANGE (the site, or an entry's beacon id, family or length) or -E2BIG
 * (more than HB_MAX_SOURCES); refused, the site's list is unchanged.
 */
int hb_receiver__set_sources(struct hb_receiver *rx, uint16_t site_id, const struct hb_source *src,
			     unsigned int n);
/* A (site, beacon)'s replay state, to be saved. 0 or -ERANGE. */
int hb_receiver__beacon_state(const struct hb_receiver *rx, uint16_t site_id, uint16_t beacon_id,
			      struct hb_beacon_state *out);
/*
 * Seed a (site, beacon) from a saved state: afterwards an older epoch is OLD_EPOCH, a sequence
 * up to top in the same epoch is refused (TOO_OLD or REPLAY), a newer epoch starts afresh.
 * 0 or -ERANGE.
 */
int hb_receiver__restore(struct hb_receiver *rx, uint16_t site_id, uint16_t beacon_id,
			 uint64_t epoch, uint64_t top);

#endif /* DT_HB_H */
