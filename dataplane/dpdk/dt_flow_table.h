/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A worker's flow table: struct dt_flow_key -> struct dt_flow_state, open addressing with linear
 * probing over 64-octet slots that each hold a key, its value, its signature and a sequence
 * counter: a lookup that hits touches one cache line, and compares the 40-octet key with three
 * 16-octet vector compares after a 32-bit tag has matched.
 *
 * One writer (the worker that owns the table; RSS keeps a flow on one worker), so the writer's
 * own lookups take no lock and no barrier. Readers on other threads (the control plane listing
 * flows, the idle scanner) only walk the table, with dt_flow_table__walk(): each slot is copied
 * under its sequence counter (a seqlock per slot), so a walker never sees half a key or a key
 * with another flow's value, and the slots are never freed under it (the array has a fixed size;
 * it is freed only after the workers stopped). A bitmap of taken slots lets a walk skip empty
 * ones 64 at a time: a walk takes microseconds, not the milliseconds a scan of every slot would
 * (8 MiB at the default size), which matters to the recovery scanner, which compares last_seen
 * with a time it read before the walk. As with rte_hash's iterator (it walks buckets, and cuckoo
 * displacement moves keys between them), a flow moved by a deletion while the walk passes may be
 * missed or seen twice by that walk: the walk then says so (-EAGAIN), from a count of such moves.
 *
 * The table holds at most @entries flows in a power-of-two array of at least twice as many
 * slots: probe runs stay short (expected < 2.5 probes for a miss at half load) and a probe always
 * ends at an empty slot. A deletion shifts the following entries of its run back (no tombstones),
 * so lookups stop at the first empty slot however many flows came and went.
 */
#ifndef DT_FLOW_TABLE_H
#define DT_FLOW_TABLE_H

#include <stdbool.h>
#include <string.h>
#include <rte_common.h>
#include <rte_memory.h> /* SOCKET_ID_ANY */
#include <rte_prefetch.h>
#if defined(RTE_ARCH_X86_64)
#include <emmintrin.h>
#endif

#include "dataplane/core/detour_abi.h"
#include "dataplane/dataplane.h" /* dt_flow_visit_fn */

#define DT_FLOW_TABLE_MAX_ENTRIES (1u << 26) /* 8 GiB of slots: a configuration error beyond */
#define DT_FLOW_TAG_USED 0x80000000u /* in a slot's tag: occupied; the low 31 bits: signature */

struct dt_flow_slot {
	struct dt_flow_key key;
	__u32 tag; /* 0: empty; else DT_FLOW_TAG_USED | the key's signature */
	__u32 seq; /* odd while the writer changes the slot: walkers retry */
	struct dt_flow_state val;
} __rte_aligned(64);

_Static_assert(sizeof(struct dt_flow_slot) == 64, "a flow slot is one cache line");

struct dt_flow_table {
	struct dt_flow_slot *slots;
	__u64 *used; /* a bit per slot, set while it holds a flow: a walk skips empty slots by 64 */
	__u32 mask; /* slots - 1 */
	__u32 max_entries;
	__u32 count;
	__u32 evict_cursor;
	__u32 shifts; /* entries moved back by deletions: a walk that saw it change may miss one */
};

/* -EINVAL for no table or entries outside 1 .. DT_FLOW_TABLE_MAX_ENTRIES, -ENOMEM. */
int dt_flow_table__create(struct dt_flow_table **t, __u32 entries, int socket);
void dt_flow_table__free(struct dt_flow_table *t);
/*
 * Insert or overwrite. A full table makes room first: the oldest of a few sampled new flows
 * (DT_FLOW_F_NEW) leaves; if none was sampled, a new flow is refused (-ENOSPC) and an
 * established one evicts the oldest sampled established flow, and 1 is returned.
 */
int dt_flow_table__record(struct dt_flow_table *t, const struct dt_flow_key *k, __u32 sig,
			  const struct dt_flow_state *v);
/* 0, or -ENOENT when the key is not there. */
int dt_flow_table__delete(struct dt_flow_table *t, const struct dt_flow_key *k, __u32 sig);
/*
 * From any thread, beside the writer; a visitor's non-zero return stops the walk and is returned.
 * -EAGAIN: a deletion moved flows while the walk passed, so it may have missed some.
 */
int dt_flow_table__walk(const struct dt_flow_table *t, dt_flow_visit_fn fn, void *ctx);

static inline __u32 dt_flow_table_tag(__u32 sig)
{
	return DT_FLOW_TAG_USED | sig;
}

static inline bool dt_flow_key_equal(const struct dt_flow_key *a, const struct dt_flow_key *b)
{
#if defined(RTE_ARCH_X86_64)
	/* 0..15, 16..31 and 24..39: three unaligned loads per key, overlapping by 8 octets */
	const char *pa = (const char *)a, *pb = (const char *)b;
	__m128i d0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)pa),
				   _mm_loadu_si128((const __m128i *)pb));
	__m128i d1 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(pa + 16)),
				   _mm_loadu_si128((const __m128i *)(pb + 16)));
	__m128i d2 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(pa + 24)),
				   _mm_loadu_si128((const __m128i *)(pb + 24)));
	__m128i d = _mm_or_si128(_mm_or_si128(d0, d1), d2);

	return _mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())) == 0xffff;
#else
	return !memcmp(a, b, sizeof(*a));
#endif
}

_Static_assert(sizeof(struct dt_flow_key) == 40, "dt_flow_key_equal() compares 40 octets");

static inline void dt_flow_table__prefetch(const struct dt_flow_table *t, __u32 sig)
{
	rte_prefetch0(&t->slots[sig & t->mask]);
}

/* The writer's lookup (no seqlock: nothing else writes); the value may be updated in place. */
static inline struct dt_flow_state *dt_flow_table__lookup(struct dt_flow_table *t,
							  const struct dt_flow_key *k, __u32 sig)
{
	__u32 want = dt_flow_table_tag(sig), i = sig;

	for (;; i++) {
		struct dt_flow_slot *s = &t->slots[i & t->mask];

		if (s->tag == want && dt_flow_key_equal(&s->key, k))
			return &s->val;
		if (!s->tag)
			return NULL;
	}
}

#endif /* DT_FLOW_TABLE_H */
