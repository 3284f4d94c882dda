/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Heartbeat encoding, sealing and verification. The MAC is keyed BLAKE2b with a 16-byte output
 * (libsodium crypto_generichash); docs/heartbeat.md says why this one and not HMAC or Poly1305.
 */
#include <endian.h>
#include <string.h>

#include <sodium.h>

#include "hb.h"

static const char *const hb_reason_names[HB_REASON_MAX] = {
	[HB_OK] = "accepted",
	[HB_REASON_SHORT] = "short",
	[HB_REASON_LONG] = "oversized",
	[HB_REASON_BAD_MAGIC] = "bad-magic",
	[HB_REASON_BAD_VERSION] = "bad-version",
	[HB_REASON_UNKNOWN_SITE] = "unknown-site",
	[HB_REASON_BAD_MAC] = "bad-mac",
	[HB_REASON_BAD_FIELD] = "bad-field",
	[HB_REASON_STALE] = "stale",
	[HB_REASON_OLD_EPOCH] = "old-epoch",
	[HB_REASON_TOO_OLD] = "too-old",
	[HB_REASON_REPLAY] = "replay",
	[HB_REASON_UNKNOWN_KEY] = "unknown-key",
	[HB_REASON_UNKNOWN_BEACON] = "unknown-beacon",
	[HB_REASON_WRONG_SOURCE] = "wrong-source",
};

const char *hb_reason_str(int reason)
{
	if (reason < 0)
		reason = -reason;
	if (reason >= HB_REASON_MAX)
		return "invalid-reason";
	return hb_reason_names[reason];
}

/* Byte-wise stores and loads: the buffer is a datagram with no alignment promise. */
static void put_be16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, sizeof(v));
}

static void put_be32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

static void put_be64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

static uint16_t get_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

static uint32_t get_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

/* Where the fields both versions carry sit; version 2 adds beacon id, key id and reserved. */
struct hb_layout {
	size_t epoch, seq, sent, interval, power, mac;
};

static const struct hb_layout layout_v1 = {
	.epoch = HB_V1_OFF_EPOCH,
	.seq = HB_V1_OFF_SEQ,
	.sent = HB_V1_OFF_SENT,
	.interval = HB_V1_OFF_INTERVAL,
	.power = HB_V1_OFF_POWER,
	.mac = HB_V1_OFF_MAC,
};

static const struct hb_layout layout_v2 = {
	.epoch = HB_OFF_EPOCH,
	.seq = HB_OFF_SEQ,
	.sent = HB_OFF_SENT,
	.interval = HB_OFF_INTERVAL,
	.power = HB_OFF_POWER,
	.mac = HB_OFF_MAC,
};

static const struct hb_layout *layout_of(uint16_t version)
{
	return version == HB_VERSION_1 ? &layout_v1 : &layout_v2;
}

size_t hb_wire_len(uint16_t version)
{
	if (version != HB_VERSION_1 && version != HB_VERSION)
		return 0;
	return layout_of(version)->mac + HB_MAC_BYTES;
}

size_t hb_encode(const struct hb_msg *m, uint8_t out[HB_WIRE_LEN])
{
	uint16_t version = m->version == HB_VERSION_1 ? HB_VERSION_1 : HB_VERSION;
	const struct hb_layout *l = layout_of(version);

	memset(out, 0, HB_WIRE_LEN); /* the MAC until hb_seal(), and v2's reserved word */
	put_be32(out + HB_OFF_MAGIC, HB_MAGIC);
	put_be16(out + HB_OFF_VERSION, version);
	put_be16(out + HB_OFF_SITE, m->site_id);
	if (version == HB_VERSION) {
		put_be16(out + HB_OFF_BEACON, m->beacon_id);
		put_be16(out + HB_OFF_KEY_ID, m->key_id);
	}
	put_be64(out + l->epoch, m->epoch);
	put_be64(out + l->seq, m->seq);
	put_be64(out + l->sent, m->sent_ns);
	put_be32(out + l->interval, m->interval_us);
	put_be32(out + l->power, m->power_flags);
	return hb_wire_len(version);
}

static void hb_mac(uint8_t tag[HB_MAC_BYTES], const uint8_t *buf, size_t covered,
		   const uint8_t *key)
{
	crypto_generichash(tag, HB_MAC_BYTES, buf, covered, key, HB_KEY_BYTES);
}

void hb_seal(uint8_t buf[HB_WIRE_LEN], const uint8_t key[HB_KEY_BYTES])
{
	size_t off = layout_of(get_be16(buf + HB_OFF_VERSION))->mac;

	hb_mac(buf + off, buf, off, key);
}

/* A v1 datagram is beacon 0, key 0. v2's reserved word is not read (the MAC still covers it). */
static void decode_fields(const uint8_t *p, struct hb_msg *out)
{
	const struct hb_layout *l = layout_of(out->version);
	bool v2 = out->version == HB_VERSION;

	out->beacon_id = v2 ? get_be16(p + HB_OFF_BEACON) : 0;
	out->key_id = v2 ? get_be16(p + HB_OFF_KEY_ID) : 0;
	out->epoch = get_be64(p + l->epoch);
	out->seq = get_be64(p + l->seq);
	out->sent_ns = get_be64(p + l->sent);
	out->interval_us = get_be32(p + l->interval);
	out->power_flags = get_be32(p + l->power);
}

int hb_decode(const void *buf, size_t len, struct hb_msg *out)
{
	const uint8_t *p = buf;
	size_t want;

	if (len < HB_V1_WIRE_LEN)
		return -HB_REASON_SHORT;
	if (len > HB_WIRE_LEN)
		return -HB_REASON_LONG;
	if (get_be32(p + HB_OFF_MAGIC) != HB_MAGIC)
		return -HB_REASON_BAD_MAGIC;
	out->version = get_be16(p + HB_OFF_VERSION);
	want = hb_wire_len(out->version);
	if (!want)
		return -HB_REASON_BAD_VERSION;
	if (len != want)
		return len < want ? -HB_REASON_SHORT : -HB_REASON_LONG;
	out->site_id = get_be16(p + HB_OFF_SITE);
	decode_fields(p, out);
	return 0;
}

int hb_verify_decoded(const void *buf, const struct hb_keyring *kr, const struct hb_msg *m)
{
	uint8_t tag[HB_MAC_BYTES];
	const uint8_t *key;
	size_t off;

	key = hb_keyring__key(kr, m->site_id, m->key_id);
	if (!key)
		return hb_keyring__site_keys(kr, m->site_id, NULL, 0) ? -HB_REASON_UNKNOWN_KEY :
									-HB_REASON_UNKNOWN_SITE;
	off = layout_of(m->version)->mac;
	hb_mac(tag, buf, off, key);
	/* crypto_verify_16 takes the same time wherever the first differing byte is. */
	if (crypto_verify_16(tag, (const uint8_t *)buf + off) != 0)
		return -HB_REASON_BAD_MAC;
	return 0;
}

int hb_verify(const void *buf, size_t len, const struct hb_keyring *kr, struct hb_msg *out)
{
	struct hb_msg m;
	int err;

	err = hb_decode(buf, len, &m);
	err = err ?: hb_verify_decoded(buf, kr, &m);
	if (!err)
		*out = m;
	return err;
}
