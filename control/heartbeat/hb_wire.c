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

void hb_encode(const struct hb_msg *m, uint8_t out[HB_WIRE_LEN])
{
	put_be32(out + HB_OFF_MAGIC, HB_MAGIC);
	put_be16(out + HB_OFF_VERSION, HB_VERSION);
	put_be16(out + HB_OFF_SITE, m->site_id);
	put_be64(out + HB_OFF_EPOCH, m->epoch);
	put_be64(out + HB_OFF_SEQ, m->seq);
	put_be64(out + HB_OFF_SENT, m->sent_ns);
	put_be32(out + HB_OFF_INTERVAL, m->interval_us);
	put_be32(out + HB_OFF_POWER, m->power_flags);
	memset(out + HB_OFF_MAC, 0, HB_MAC_BYTES);
}

static void hb_mac(uint8_t tag[HB_MAC_BYTES], const uint8_t *buf, const uint8_t *key)
{
	crypto_generichash(tag, HB_MAC_BYTES, buf, HB_OFF_MAC, key, HB_KEY_BYTES);
}

void hb_seal(uint8_t buf[HB_WIRE_LEN], const uint8_t key[HB_KEY_BYTES])
{
	hb_mac(buf + HB_OFF_MAC, buf, key);
}

int hb_decode(const void *buf, size_t len, struct hb_msg *out)
{
	const uint8_t *p = buf;

	if (len < HB_WIRE_LEN)
		return -HB_REASON_SHORT;
	if (len > HB_WIRE_LEN)
		return -HB_REASON_LONG;
	if (get_be32(p + HB_OFF_MAGIC) != HB_MAGIC)
		return -HB_REASON_BAD_MAGIC;
	if (get_be16(p + HB_OFF_VERSION) != HB_VERSION)
		return -HB_REASON_BAD_VERSION;
	out->site_id = get_be16(p + HB_OFF_SITE);
	out->epoch = get_be64(p + HB_OFF_EPOCH);
	out->seq = get_be64(p + HB_OFF_SEQ);
	out->sent_ns = get_be64(p + HB_OFF_SENT);
	out->interval_us = get_be32(p + HB_OFF_INTERVAL);
	out->power_flags = get_be32(p + HB_OFF_POWER);
	return 0;
}

int hb_verify(const void *buf, size_t len, const struct hb_keyring *kr, struct hb_msg *out)
{
	uint8_t tag[HB_MAC_BYTES];
	const uint8_t *key;
	struct hb_msg m;
	int err;

	err = hb_decode(buf, len, &m);
	if (err)
		return err;
	key = hb_keyring__key(kr, m.site_id);
	if (!key)
		return -HB_REASON_UNKNOWN_SITE;
	hb_mac(tag, buf, key);
	/* crypto_verify_16 takes the same time wherever the first differing byte is. */
	if (crypto_verify_16(tag, (const uint8_t *)buf + HB_OFF_MAC) != 0)
		return -HB_REASON_BAD_MAC;
	*out = m;
	return 0;
}
