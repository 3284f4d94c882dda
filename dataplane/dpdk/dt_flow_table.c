// SPDX-License-Identifier: GPL-2.0-only
/*
 * The writer's changes to a flow table and the walkers' reads (the layout and the rules are in
 * dt_flow_table.h). Every change of a slot is bracketed by its sequence counter: odd, release
 * fence, the stores, then even again with a release store; a walker copies a slot between two
 * reads of the counter and retries when they differ or are odd.
 */
#include <errno.h>

#include <rte_malloc.h>
#include <rte_pause.h>

#include "dt_flow_table.h"

#define EVICT_SAMPLES 8 /* sampled LRU, like the XDP program's LRU hash makes room */

int dt_flow_table__create(struct dt_flow_table **t, __u32 entries, int socket)
{
	struct dt_flow_table *ft;
	__u32 slots;

	if (!t || !entries || entries > DT_FLOW_TABLE_MAX_ENTRIES)
		return -EINVAL;
	slots = rte_align32pow2(entries * 2);
	ft = rte_zmalloc_socket("dt_flow_table", sizeof(*ft), RTE_CACHE_LINE_SIZE, socket);
	if (!ft)
		return -ENOMEM;
	ft->slots = rte_zmalloc_socket("dt_flow_slots", (size_t)slots * sizeof(*ft->slots),
				       RTE_CACHE_LINE_SIZE, socket);
	ft->used = rte_zmalloc_socket("dt_flow_used", RTE_ALIGN_CEIL(slots, 64) / 8,
				      RTE_CACHE_LINE_SIZE, socket);
	if (!ft->slots || !ft->used) {
		dt_flow_table__free(ft);
		return -ENOMEM;
	}
	ft->mask = slots - 1;
	ft->max_entries = entries;
	*t = ft;
	return 0;
}

void dt_flow_table__free(struct dt_flow_table *t)
{
	if (!t)
		return;
	rte_free(t->slots);
	rte_free(t->used);
	rte_free(t);
}

static inline void slot_write_begin(struct dt_flow_slot *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE); /* the odd count is seen before any new octet */
}

static inline void slot_write_end(struct dt_flow_slot *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

/* Only the writer changes the bitmap; walkers read its words while it does. */
static void table_mark(struct dt_flow_table *t, const struct dt_flow_slot *s, bool used)
{
	__u32 i = (__u32)(s - t->slots);
	__u64 word = t->used[i / 64], bit = 1ull << (i % 64);

	__atomic_store_n(&t->used[i / 64], used ? word | bit : word & ~bit, __ATOMIC_RELEASE);
}

static void slot_fill(struct dt_flow_table *t, struct dt_flow_slot *s, const struct dt_flow_key *k,
		      __u32 tag, const struct dt_flow_state *v)
{
	slot_write_begin(s);
	s->key = *k;
	s->tag = tag;
	s->val = *v;
	slot_write_end(s);
	table_mark(t, s, true);
}

static void slot_clear(struct dt_flow_table *t, struct dt_flow_slot *s)
{
	table_mark(t, s, false);
	slot_write_begin(s);
	s->tag = 0;
	memset(&s->key, 0, sizeof(s->key));
	memset(&s->val, 0, sizeof(s->val));
	slot_write_end(s);
}

/* Whether @home, the first slot of an entry found at @pos, lies cyclically in (hole, pos]. */
static inline bool slot_home_between(__u32 hole, __u32 home, __u32 pos)
{
	if (hole <= pos)
		return hole < home && home <= pos;
	return hole < home || home <= pos;
}

/*
 * Empty slot @hole and shift back each later entry of the run that may live there (its home is
 * not in (hole, pos]): every entry stays reachable from its home without crossing an empty slot.
 */
static void table_remove_at(struct dt_flow_table *t, __u32 hole)
{
	__u32 pos = hole;

	for (;;) {
		struct dt_flow_slot *s;

		pos = (pos + 1) & t->mask;
		s = &t->slots[pos];
		if (!s->tag)
			break;
		if (slot_home_between(hole, s->tag & t->mask, pos))
			continue;
		slot_fill(t, &t->slots[hole], &s->key, s->tag, &s->val);
		__atomic_store_n(&t->shifts, t->shifts + 1, __ATOMIC_RELEASE);
		hole = pos;
	}
	slot_clear(t, &t->slots[hole]);
	t->count--;
}

struct evict_pick {
	__u64 oldest;
	__u32 slot;
	bool found;
};

static void evict_consider(struct evict_pick *p, const struct dt_flow_slot *s, __u32 slot)
{
	if (!p->found || s->val.last_seen_ns < p->oldest) {
		p->oldest = s->val.last_seen_ns;
		p->slot = slot;
		p->found = true;
	}
}

/*
 * Room for one more flow: of EVICT_SAMPLES occupied slots from a rotating cursor, the oldest new
 * flow leaves; else, for an established flow only, the oldest established one (returns 1).
 */
static int table_make_room(struct dt_flow_table *t, bool is_new)
{
	struct evict_pick fresh = { 0 }, est = { 0 };
	__u32 tries, found = 0;

	/* At least half the slots are taken when this runs: the tries find the samples. */
	for (tries = 0; tries <= t->mask && found < EVICT_SAMPLES; tries++) {
		__u32 i = t->evict_cursor++ & t->mask;
		struct dt_flow_slot *s = &t->slots[i];

		if (!s->tag)
			continue;
		found++;
		evict_consider(s->val.flags & DT_FLOW_F_NEW ? &fresh : &est, s, i);
	}
	if (fresh.found) {
		table_remove_at(t, fresh.slot);
		return 0;
	}
	if (is_new || !est.found)
		return -ENOSPC;
	table_remove_at(t, est.slot);
	return 1;
}

int dt_flow_table__record(struct dt_flow_table *t, const struct dt_flow_key *k, __u32 sig,
			  const struct dt_flow_state *v)
{
	__u32 want = dt_flow_table_tag(sig), i;
	struct dt_flow_state *known;
	int ret = 0;

	if (!t || !k || !v)
		return -EINVAL;
	known = dt_flow_table__lookup(t, k, sig);
	if (known) {
		slot_fill(t, container_of(known, struct dt_flow_slot, val), k, want, v);
		return 0;
	}
	if (t->count >= t->max_entries)
		ret = table_make_room(t, v->flags & DT_FLOW_F_NEW);
	if (ret < 0)
		return ret;
	for (i = sig;; i++) {
		struct dt_flow_slot *s = &t->slots[i & t->mask];

		if (!s->tag) {
			slot_fill(t, s, k, want, v);
			t->count++;
			return ret;
		}
	}
}

int dt_flow_table__delete(struct dt_flow_table *t, const struct dt_flow_key *k, __u32 sig)
{
	struct dt_flow_state *known;

	if (!t || !k)
		return -EINVAL;
	known = dt_flow_table__lookup(t, k, sig);
	if (!known)
		return -ENOENT;
	table_remove_at(t, (__u32)(container_of(known, struct dt_flow_slot, val) - t->slots));
	return 0;
}

/* A consistent copy of one slot, taken while the writer may change it. */
static void slot_read(const struct dt_flow_slot *s, struct dt_flow_slot *copy)
{
	__u32 seq;

	for (;;) {
		seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		if (seq & 1) {
			rte_pause();
			continue;
		}
		copy->tag = s->tag;
		copy->key = s->key;
		copy->val = s->val;
		__atomic_thread_fence(__ATOMIC_ACQUIRE); /* the copy is done before the re-read */
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq)
			return;
	}
}

/*
 * Only the slots the bitmap says are taken are read: a walk of a mostly empty table costs a scan
 * of its bitmap, not of its slots (8 MiB at the default size). The walk must be short: the
 * recovery scanner compares the values' last_seen with a time it read before the walk.
 */
int dt_flow_table__walk(const struct dt_flow_table *t, dt_flow_visit_fn fn, void *ctx)
{
	struct dt_flow_slot copy;
	__u32 w, shifts, words = (t ? t->mask / 64 : 0) + 1;
	int ret;

	if (!t || !fn)
		return -EINVAL;
	shifts = __atomic_load_n(&t->shifts, __ATOMIC_ACQUIRE);
	for (w = 0; w < words; w++) {
		__u64 bits = __atomic_load_n(&t->used[w], __ATOMIC_ACQUIRE);

		while (bits) {
			slot_read(&t->slots[w * 64 + (__u32)__builtin_ctzll(bits)], &copy);
			bits &= bits - 1;
			if (!copy.tag)
				continue; /* emptied since the bitmap was read */
			ret = fn(&copy.key, &copy.val, ctx);
			if (ret)
				return ret;
		}
	}
	return __atomic_load_n(&t->shifts, __ATOMIC_ACQUIRE) == shifts ? 0 : -EAGAIN;
}
