/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The receiver's decision for one datagram: header, source address (if the (site, beacon) it
 * names has sources), key by (site, key id), MAC, fields, sender clock (optional), beacon id,
 * epoch and replay window of that (site, beacon), in that order. The source check needs no key
 * and comes before the MAC, so junk from elsewhere costs a few compares, not a BLAKE2b. Nothing
 * about a site's state changes until the MAC has been checked, so a forged datagram - a forged
 * "new epoch" included - can only be counted, never obeyed. Each beacon of a site has its own
 * epoch and window: a restarted beacon 1 starts a new epoch without touching beacon 0's.
 */
#include <errno.h>
#include <string.h>

#include "hb.h"

#define HB_MAX_INTERVAL_US 10000000u /* 10 s: anything slower is not a heartbeat */

void hb_receiver__init(struct hb_receiver *rx, const struct hb_keyring *keys)
{
	memset(rx, 0, sizeof(*rx));
	rx->keys = keys;
	for (int i = 0; i < DT_MAX_SITES; i++)
		rx->site[i].beacons = 1u << 0; /* today's configurations: one beacon, id 0 */
}

int hb_receiver__set_beacons(struct hb_receiver *rx, uint16_t site_id, uint8_t mask)
{
	if (site_id >= DT_MAX_SITES)
		return -ERANGE;
	rx->site[site_id].beacons = mask;
	return 0;
}

static bool source_valid(const struct hb_source *src)
{
	unsigned int bits = src->net.family == DT_FAMILY_V4 ? 32 : 128;

	return src->beacon_id < HB_MAX_BEACONS && src->len <= bits &&
	       (src->net.family == DT_FAMILY_V4 || src->net.family == DT_FAMILY_V6);
}

int hb_receiver__set_sources(struct hb_receiver *rx, uint16_t site_id, const struct hb_source *src,
			     unsigned int n)
{
	struct hb_site_rx *s;

	if (site_id >= DT_MAX_SITES)
		return -ERANGE;
	if (n > HB_MAX_SOURCES)
		return -E2BIG;
	for (unsigned int i = 0; i < n; i++)
		if (!source_valid(&src[i]))
			return -ERANGE;
	s = &rx->site[site_id];
	s->sourced = 0;
	for (unsigned int i = 0; i < n; i++) {
		s->source[i] = src[i];
		s->sourced |= (uint8_t)(1u << src[i].beacon_id);
	}
	s->n_sources = (uint8_t)n;
	return 0;
}

bool hb_source__match(const struct hb_source *src, const struct hb_ip *a)
{
	unsigned int full = src->len / 8, rest = src->len % 8;
	uint8_t mask = (uint8_t)(0xff00 >> rest);

	if (a->family != src->net.family || memcmp(a->addr, src->net.addr, full))
		return false;
	return !rest || !((a->addr[full] ^ src->net.addr[full]) & mask);
}

int hb_receiver__beacon_state(const struct hb_receiver *rx, uint16_t site_id, uint16_t beacon_id,
			      struct hb_beacon_state *out)
{
	const struct hb_beacon_rx *b;

	if (site_id >= DT_MAX_SITES || beacon_id >= HB_MAX_BEACONS)
		return -ERANGE;
	b = &rx->site[site_id].beacon[beacon_id];
	*out = (struct hb_beacon_state){ b->seen, b->epoch, b->window.top };
	return 0;
}

/*
 * A window that has seen every sequence up to top: the bits of top's word up to top, and every
 * other word of the ring (they stand for sequences below top's word).
 */
static void window_fill_to(struct hb_replay_window *w, uint64_t top)
{
	uint64_t block = (top / 64) & (HB_REPLAY_BLOCKS - 1);
	unsigned int bit = (unsigned int)(top % 64);

	for (unsigned int i = 0; i < HB_REPLAY_BLOCKS; i++)
		w->bitmap[i] = UINT64_MAX;
	w->bitmap[block] = bit == 63 ? UINT64_MAX : (2ull << bit) - 1;
	w->top = top;
}

int hb_receiver__restore(struct hb_receiver *rx, uint16_t site_id, uint16_t beacon_id,
			 uint64_t epoch, uint64_t top)
{
	struct hb_beacon_rx *b;

	if (site_id >= DT_MAX_SITES || beacon_id >= HB_MAX_BEACONS)
		return -ERANGE;
	b = &rx->site[site_id].beacon[beacon_id];
	b->seen = true;
	b->epoch = epoch;
	window_fill_to(&b->window, top);
	return 0;
}

static int receiver_check_fields(const struct hb_receiver *rx, const struct hb_msg *m,
				 uint64_t rx_realtime_ns)
{
	uint64_t skew;

	if (m->interval_us == 0 || m->interval_us > HB_MAX_INTERVAL_US)
		return -HB_REASON_BAD_FIELD;
	if (!rx->max_skew_ns)
		return 0;
	skew = m->sent_ns > rx_realtime_ns ? m->sent_ns - rx_realtime_ns :
					     rx_realtime_ns - m->sent_ns;
	return skew > rx->max_skew_ns ? -HB_REASON_STALE : 0;
}

/* Epoch, then window. A newer epoch (authentic, so really a restarted beacon) starts afresh. */
static int receiver_check_fresh(struct hb_beacon_rx *s, const struct hb_msg *m)
{
	int err;

	if (!s->seen || m->epoch > s->epoch) {
		s->seen = true;
		s->epoch = m->epoch;
		hb_replay_window__reset(&s->window);
		hb_replay_window__update(&s->window, m->seq);
		return 0;
	}
	if (m->epoch < s->epoch)
		return -HB_REASON_OLD_EPOCH;
	err = hb_replay_window__check(&s->window, m->seq);
	if (!err)
		hb_replay_window__update(&s->window, m->seq);
	return err;
}

/*
 * From the header alone: a (site, beacon) with sources takes datagrams from them only. Ids out
 * of range pass here and are refused later (unknown-site, unknown-beacon).
 */
static int receiver_check_source(const struct hb_receiver *rx, const struct hb_msg *m,
				 const struct hb_ip *src)
{
	const struct hb_site_rx *s;

	if (m->site_id >= DT_MAX_SITES || m->beacon_id >= HB_MAX_BEACONS)
		return 0;
	s = &rx->site[m->site_id];
	if (!(s->sourced & (1u << m->beacon_id)))
		return 0;
	for (unsigned int i = 0; src && i < s->n_sources; i++)
		if (s->source[i].beacon_id == m->beacon_id && hb_source__match(&s->source[i], src))
			return 0;
	return -HB_REASON_WRONG_SOURCE;
}

static int receiver_check_beacon(const struct hb_receiver *rx, const struct hb_msg *m)
{
	if (m->beacon_id >= HB_MAX_BEACONS ||
	    !(rx->site[m->site_id].beacons & (1u << m->beacon_id)))
		return -HB_REASON_UNKNOWN_BEACON;
	return 0;
}

int hb_receiver__process_from(struct hb_receiver *rx, const void *buf, size_t len,
			      const struct hb_ip *src, uint64_t rx_realtime_ns, struct hb_msg *out)
{
	struct hb_msg m;
	int err;

	err = hb_decode(buf, len, &m);
	err = err ?: receiver_check_source(rx, &m, src);
	err = err ?: hb_verify_decoded(buf, rx->keys, &m);
	err = err ?: receiver_check_fields(rx, &m, rx_realtime_ns);
	err = err ?: receiver_check_beacon(rx, &m);
	err = err ?: receiver_check_fresh(&rx->site[m.site_id].beacon[m.beacon_id], &m);
	rx->counters[-err]++;
	if (!err)
		*out = m;
	return err;
}

int hb_receiver__process(struct hb_receiver *rx, const void *buf, size_t len,
			 uint64_t rx_realtime_ns, struct hb_msg *out)
{
	return hb_receiver__process_from(rx, buf, len, NULL, rx_realtime_ns, out);
}
