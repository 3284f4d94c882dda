// SPDX-License-Identifier: GPL-2.0-only
/*
 * The worker's flow table (dataplane/dpdk/dt_flow_table.h) on its own: bad input, insert,
 * overwrite, keys whose signatures collide (the caller passes the signature, so a collision is
 * made, not hoped for), probe runs that wrap from the last slot to the first, deletions inside a
 * run, a full table making room, and walks: a walker beside a writer that records and deletes
 * never sees a torn slot. Every expectation is derived from the keys the test made.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_launch.h>

#include "dt_flow_table.h"
#include "dpdk_fixture.h"

#define RACE_WRITES 1000000 /* records and deletions by the writer thread */
#define RACE_KEYS 64

static struct dt_flow_key key_make(__u32 n)
{
	struct dt_flow_key k = { .proto = 6, .family = DT_FAMILY_V4 };

	k.saddr[0] = 0xc6120000u | (n >> 16); /* 198.18.x.x, network order does not matter here */
	k.daddr[0] = 0xc6130000u | (n & 0xffff);
	k.sport = (__be16)n;
	k.dport = (__be16)(n * 7u);
	return k;
}

/* A value that says which key it belongs to: a torn copy shows as a mismatch. */
static struct dt_flow_state val_make(__u32 n, __u64 seen)
{
	struct dt_flow_state v = { .last_seen_ns = seen,
				   .home_site = (__u16)n,
				   .target_site = (__u16)~n,
				   .flags = (__u8)(n >> 16) };

	return v;
}

/* The key is the one key_make() gives for its port, and the value is that key's. */
static bool val_matches(const struct dt_flow_key *k, const struct dt_flow_state *v)
{
	__u32 n = (__u16)k->sport;
	struct dt_flow_key whole = key_make(n);

	return !memcmp(k, &whole, sizeof(whole)) && v->home_site == (__u16)n &&
	       v->target_site == (__u16)~n;
}

static struct dt_flow_table *table_new(__u32 entries)
{
	struct dt_flow_table *t = NULL;

	assert_int_equal(dt_flow_table__create(&t, entries, SOCKET_ID_ANY), 0);
	assert_non_null(t);
	return t;
}

static void expect_found(struct dt_flow_table *t, __u32 n, __u32 sig)
{
	struct dt_flow_key k = key_make(n);
	struct dt_flow_state *v = dt_flow_table__lookup(t, &k, sig);

	assert_non_null(v);
	assert_true(val_matches(&k, v));
}

static void expect_missing(struct dt_flow_table *t, __u32 n, __u32 sig)
{
	struct dt_flow_key k = key_make(n);

	assert_null(dt_flow_table__lookup(t, &k, sig));
}

static int record_flags(struct dt_flow_table *t, __u32 n, __u32 sig, __u64 seen, __u8 flags)
{
	struct dt_flow_key k = key_make(n);
	struct dt_flow_state v = val_make(n, seen);

	v.flags = flags;
	return dt_flow_table__record(t, &k, sig, &v);
}

static void record(struct dt_flow_table *t, __u32 n, __u32 sig, __u64 seen)
{
	assert_int_equal(record_flags(t, n, sig, seen, 0), 0);
}

static void test_bad_input(void **state)
{
	struct dt_flow_table *t = NULL;
	struct dt_flow_key k = key_make(1);
	struct dt_flow_state v = val_make(1, 0);

	(void)state;
	assert_int_equal(dt_flow_table__create(NULL, 16, SOCKET_ID_ANY), -EINVAL);
	assert_int_equal(dt_flow_table__create(&t, 0, SOCKET_ID_ANY), -EINVAL);
	assert_int_equal(dt_flow_table__create(&t, DT_FLOW_TABLE_MAX_ENTRIES + 1, SOCKET_ID_ANY),
			 -EINVAL);
	assert_null(t);
	dt_flow_table__free(NULL);
	t = table_new(16);
	assert_int_equal(dt_flow_table__record(NULL, &k, 1, &v), -EINVAL);
	assert_int_equal(dt_flow_table__record(t, NULL, 1, &v), -EINVAL);
	assert_int_equal(dt_flow_table__record(t, &k, 1, NULL), -EINVAL);
	assert_int_equal(dt_flow_table__delete(NULL, &k, 1), -EINVAL);
	assert_int_equal(dt_flow_table__delete(t, NULL, 1), -EINVAL);
	assert_int_equal(dt_flow_table__delete(t, &k, 1), -ENOENT);
	assert_int_equal(dt_flow_table__walk(NULL, NULL, NULL), -EINVAL);
	assert_int_equal(dt_flow_table__walk(t, NULL, NULL), -EINVAL);
	assert_int_equal(t->count, 0);
	dt_flow_table__free(t);
}

static void test_record_overwrite(void **state)
{
	struct dt_flow_table *t = table_new(16);
	struct dt_flow_key k = key_make(5);
	struct dt_flow_state v = val_make(5, 100), *got;

	(void)state;
	expect_missing(t, 5, 77);
	record(t, 5, 77, 100);
	got = dt_flow_table__lookup(t, &k, 77);
	assert_non_null(got);
	assert_memory_equal(got, &v, sizeof(v));
	v.last_seen_ns = 200;
	v.flags = DT_FLOW_F_HOME;
	assert_int_equal(dt_flow_table__record(t, &k, 77, &v), 0);
	assert_int_equal(t->count, 1);
	assert_memory_equal(dt_flow_table__lookup(t, &k, 77), &v, sizeof(v));
	/* the same key under another signature is another place: the caller's hash decides */
	expect_missing(t, 5, 78);
	dt_flow_table__free(t);
}

/* Keys differing only in the last octet compared: the vector compare must see it. */
static void test_key_compare_every_octet(void **state)
{
	struct dt_flow_table *t = table_new(64);
	struct dt_flow_key base = key_make(9), k;
	struct dt_flow_state v = val_make(9, 1);
	unsigned int octet;

	(void)state;
	assert_int_equal(dt_flow_table__record(t, &base, 3, &v), 0);
	for (octet = 0; octet < sizeof(k); octet++) {
		k = base;
		((__u8 *)&k)[octet] ^= 0x01;
		assert_null(dt_flow_table__lookup(t, &k, 3));
	}
	assert_non_null(dt_flow_table__lookup(t, &base, 3));
	dt_flow_table__free(t);
}

struct walk_tally {
	unsigned int visits, torn, stop_after;
	__u8 seen[1024];
};

static int walk_count(const struct dt_flow_key *k, const struct dt_flow_state *v, void *ctx)
{
	struct walk_tally *w = ctx;

	w->visits++;
	if (!val_matches(k, v))
		w->torn++;
	else if ((__u16)k->sport < sizeof(w->seen))
		w->seen[(__u16)k->sport]++;
	return w->stop_after && w->visits == w->stop_after ? 42 : 0;
}

/* A quiet walk visits exactly the flows the table holds, each once, none torn. */
static void expect_walk(struct dt_flow_table *t, unsigned int flows)
{
	struct walk_tally w = { 0 };
	unsigned int n;

	assert_int_equal(dt_flow_table__walk(t, walk_count, &w), 0);
	assert_int_equal(w.visits, flows);
	assert_int_equal(w.torn, 0);
	for (n = 0; n < sizeof(w.seen); n++)
		assert_true(w.seen[n] <= 1);
}

/* Eight keys on one signature: one probe run; deleting from its middle keeps the rest reachable. */
static void test_collisions_and_delete(void **state)
{
	struct dt_flow_table *t = table_new(32);
	__u32 n, sig = 10;

	(void)state;
	for (n = 0; n < 8; n++)
		record(t, n, sig, n);
	/* a key of the next signature lands after the run and must move back when the run shrinks */
	record(t, 100, sig + 1, 0);
	for (n = 0; n < 8; n++)
		expect_found(t, n, sig);
	for (n = 1; n < 8; n += 2) {
		struct dt_flow_key k = key_make(n);

		assert_int_equal(dt_flow_table__delete(t, &k, sig), 0);
		assert_int_equal(dt_flow_table__delete(t, &k, sig), -ENOENT);
	}
	for (n = 0; n < 8; n++) {
		if (n & 1)
			expect_missing(t, n, sig);
		else
			expect_found(t, n, sig);
	}
	expect_found(t, 100, sig + 1);
	assert_int_equal(t->count, 5);
	expect_walk(t, 5);
	dt_flow_table__free(t);
}

/* A run that starts on the last slot continues on the first; deleting across the seam. */
static void test_wrap_around(void **state)
{
	struct dt_flow_table *t = table_new(16);
	__u32 last = t->mask, n;
	struct dt_flow_key k;

	(void)state;
	for (n = 0; n < 6; n++)
		record(t, n, last, n);
	record(t, 50, 0, 0); /* home slot 0 is taken by the wrapped run: it goes after it */
	record(t, 51, last - 1, 0);
	for (n = 0; n < 6; n++)
		expect_found(t, n, last);
	expect_found(t, 50, 0);
	expect_found(t, 51, last - 1);
	k = key_make(0);
	assert_int_equal(dt_flow_table__delete(t, &k, last), 0);
	k = key_make(3);
	assert_int_equal(dt_flow_table__delete(t, &k, last), 0);
	expect_missing(t, 0, last);
	expect_missing(t, 3, last);
	for (n = 1; n < 6; n++)
		if (n != 3)
			expect_found(t, n, last);
	expect_found(t, 50, 0);
	expect_found(t, 51, last - 1);
	assert_int_equal(t->count, 6);
	expect_walk(t, 6);
	dt_flow_table__free(t);
}

/* Full of new flows: every new one still goes in, the count stays at the limit, the newest stay. */
static void test_full_table_makes_room(void **state)
{
	const __u32 entries = 64, extra = 40;
	struct dt_flow_table *t = table_new(entries);
	struct walk_tally w = { 0 };
	__u32 n, evicted = 0;

	(void)state;
	for (n = 0; n < entries + extra; n++)
		assert_int_equal(record_flags(t, n, n * 2654435761u, 1000 + n, DT_FLOW_F_NEW), 0);
	assert_int_equal(t->count, entries);
	expect_found(t, entries + extra - 1, (entries + extra - 1) * 2654435761u);
	assert_int_equal(dt_flow_table__walk(t, walk_count, &w), 0);
	assert_int_equal(w.visits, entries);
	assert_int_equal(w.torn, 0);
	for (n = 0; n < entries + extra; n++) {
		assert_true(w.seen[n] <= 1);
		evicted += !w.seen[n];
	}
	assert_int_equal(evicted, extra);
	dt_flow_table__free(t);
}

/*
 * A flood of new flows, older and newer than the established ones, never evicts an established
 * flow; an established flow finds room among the new ones.
 */
static void test_new_flows_never_evict_established(void **state)
{
	const __u32 entries = 64, established = 48, flood = 5000;
	struct dt_flow_table *t = table_new(entries);
	__u32 n;

	(void)state;
	for (n = 0; n < established; n++)
		record(t, n, n * 2654435761u, 1000 + n);
	for (n = established; n < established + flood; n++) {
		int ret =
			record_flags(t, n, n * 2654435761u, n & 1 ? 1 : 1000000 + n, DT_FLOW_F_NEW);

		assert_true(ret == 0 || ret == -ENOSPC);
	}
	for (n = 0; n < established; n++)
		expect_found(t, n, n * 2654435761u);
	assert_int_equal(t->count, entries);
	n = established + flood;
	assert_int_equal(record_flags(t, n, n * 2654435761u, 5, 0), 0);
	expect_found(t, n, n * 2654435761u);
	dt_flow_table__free(t);
}

/* Full of established flows: a new flow is refused; an established one evicts one (returns 1). */
static void test_full_of_established(void **state)
{
	const __u32 entries = 32;
	struct dt_flow_table *t = table_new(entries);
	__u32 n;

	(void)state;
	for (n = 0; n < entries; n++)
		record(t, n, n * 2654435761u, 1000 + n);
	n = entries;
	assert_int_equal(record_flags(t, n, n * 2654435761u, 9999, DT_FLOW_F_NEW), -ENOSPC);
	expect_missing(t, n, n * 2654435761u);
	assert_int_equal(record_flags(t, n, n * 2654435761u, 9999, 0), 1);
	expect_found(t, n, n * 2654435761u);
	assert_int_equal(t->count, entries);
	dt_flow_table__free(t);
}

/* A visitor that deletes the first key of a run while the walk passes it: entries shift. */
static int walk_delete_run_head(const struct dt_flow_key *k, const struct dt_flow_state *v,
				void *ctx)
{
	struct dt_flow_table *t = ctx;
	struct dt_flow_key head = key_make(0);

	if (!memcmp(k, &head, sizeof(head)))
		assert_int_equal(dt_flow_table__delete(t, &head, 5), 0);
	return 0;
}

/* A walk during which a deletion moved entries back may have missed one: it says so. */
static void test_walk_that_saw_entries_move_is_partial(void **state)
{
	struct dt_flow_table *t = table_new(32);
	__u32 n;

	(void)state;
	for (n = 0; n < 4; n++)
		record(t, n, 5, n); /* one run of four from slot 5 */
	assert_int_equal(dt_flow_table__walk(t, walk_delete_run_head, t), -EAGAIN);
	assert_int_equal(dt_flow_table__walk(t, walk_delete_run_head, t), 0);
	dt_flow_table__free(t);
}

static void test_walk_stops(void **state)
{
	struct dt_flow_table *t = table_new(32);
	struct walk_tally w = { .stop_after = 3 };
	__u32 n;

	(void)state;
	for (n = 0; n < 10; n++)
		record(t, n, n, n);
	assert_int_equal(dt_flow_table__walk(t, walk_count, &w), 42);
	assert_int_equal(w.visits, 3);
	dt_flow_table__free(t);
}

struct race {
	struct dt_flow_table *t;
	__u32 keys, sigs;
	bool done;
};

/*
 * The owner, on a worker lcore (another CPU than the walker's): records and deletes keys. With
 * @keys keys on @sigs signatures, runs shift constantly; with one signature and a one-entry
 * table, the same slot is filled with one key, emptied, filled with another, as fast as it goes.
 */
static int race_writer(void *arg)
{
	struct race *r = arg;
	__u32 i;

	for (i = 0; i < RACE_WRITES; i++) {
		__u32 n = (i / 2 * 37u) % r->keys;
		struct dt_flow_key k = key_make(n);
		struct dt_flow_state v = val_make(n, i);

		if (i & 1)
			dt_flow_table__delete(r->t, &k, n % r->sigs);
		else
			dt_flow_table__record(r->t, &k, n % r->sigs, &v);
	}
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	return 0;
}

static void walk_beside_writer(__u32 entries, __u32 keys, __u32 sigs)
{
	struct race r = { .t = table_new(entries), .keys = keys, .sigs = sigs };
	struct walk_tally w = { 0 };
	unsigned int walks = 0;

	assert_int_equal(rte_eal_remote_launch(race_writer, &r, 1), 0);
	while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE) || walks < 10) {
		assert_int_equal(dt_flow_table__walk(r.t, walk_count, &w), 0);
		walks++;
	}
	assert_int_equal(rte_eal_wait_lcore(1), 0);
	print_message("%u walks, %u entries seen beside the writer\n", walks, w.visits);
	assert_int_equal(w.torn, 0);
	assert_true(walks >= 10);
	dt_flow_table__free(r.t);
}

static void test_walk_beside_writer(void **state)
{
	(void)state;
	walk_beside_writer(RACE_KEYS, RACE_KEYS, 5);
}

static void test_walk_hot_slot(void **state)
{
	(void)state;
	walk_beside_writer(1, 7, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_record_overwrite),
		cmocka_unit_test(test_key_compare_every_octet),
		cmocka_unit_test(test_collisions_and_delete),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_full_table_makes_room),
		cmocka_unit_test(test_new_flows_never_evict_established),
		cmocka_unit_test(test_full_of_established),
		cmocka_unit_test(test_walk_that_saw_entries_move_is_partial),
		cmocka_unit_test(test_walk_stops),
		cmocka_unit_test(test_walk_beside_writer),
		cmocka_unit_test(test_walk_hot_slot),
	};
	int err = fix_eal_init("flowtable", "0,1");

	if (err) {
		fprintf(stderr, "test_dpdk_flow_table: EAL: %s\n", strerror(-err));
		return 1;
	}
	err = cmocka_run_group_tests(tests, NULL, NULL);
	rte_eal_cleanup();
	return err;
}
