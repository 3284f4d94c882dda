/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The receiver's decision for one datagram: header, MAC, sender clock (optional), epoch, replay
 * window, in that order. Nothing about a site's state changes until the MAC has been checked, so
 * a forged datagram - a forged "new epoch" included - can only be counted, never obeyed.
 */
#include <string.h>

#include "hb.h"

#define HB_MAX_INTERVAL_US 10000000u /* 10 s: anything slower is not a heartbeat */

void hb_receiver__init(struct hb_receiver *rx, const struct hb_keyring *keys)
{
	memset(rx, 0, sizeof(*rx));
	rx->keys = keys;
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
static int receiver_check_fresh(struct hb_site_rx *s, const struct hb_msg *m)
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

int hb_receiver__process(struct hb_receiver *rx, const void *buf, size_t len,
			 uint64_t rx_realtime_ns, struct hb_msg *out)
{
	struct hb_msg m;
	int err;

	err = hb_verify(buf, len, rx->keys, &m);
	if (!err)
		err = receiver_check_fields(rx, &m, rx_realtime_ns);
	if (!err)
		err = receiver_check_fresh(&rx->site[m.site_id], &m);
	rx->counters[-err]++;
	if (!err)
		*out = m;
	return err;
}
