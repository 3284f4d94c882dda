/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Anti-replay window after RFC 6479: a ring of 64-bit words indexed by sequence number, so that
 * sliding the window forward clears whole words instead of shifting a long bitmap. One word is
 * always being reused by the newest sequences, which is why the usable window is one word short
 * of the ring (HB_REPLAY_WINDOW).
 */
#include <string.h>

#include "hb.h"

#define HB_REPLAY_BITS (HB_REPLAY_BLOCKS * 64)

void hb_replay_window__reset(struct hb_replay_window *w)
{
	memset(w, 0, sizeof(*w));
}

static uint64_t replay_block(uint64_t seq)
{
	return (seq / 64) & (HB_REPLAY_BLOCKS - 1);
}

static uint64_t replay_bit(uint64_t seq)
{
	return 1ull << (seq % 64);
}

int hb_replay_window__check(const struct hb_replay_window *w, uint64_t seq)
{
	if (seq > w->top)
		return 0;
	/* Written as a difference: seq + WINDOW could wrap near UINT64_MAX. */
	if (w->top - seq >= HB_REPLAY_WINDOW)
		return -HB_REASON_TOO_OLD;
	if (w->bitmap[replay_block(seq)] & replay_bit(seq))
		return -HB_REASON_REPLAY;
	return 0;
}

void hb_replay_window__update(struct hb_replay_window *w, uint64_t seq)
{
	if (seq > w->top) {
		uint64_t old_block = w->top / 64, new_block = seq / 64;
		uint64_t diff = new_block - old_block;

		if (diff > HB_REPLAY_BLOCKS)
			diff = HB_REPLAY_BLOCKS;
		/* Words that slid out of the window now stand for new sequences: forget them. */
		for (uint64_t i = 1; i <= diff; i++)
			w->bitmap[(old_block + i) & (HB_REPLAY_BLOCKS - 1)] = 0;
		w->top = seq;
	}
	w->bitmap[replay_block(seq)] |= replay_bit(seq);
}
