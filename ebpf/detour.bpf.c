// SPDX-License-Identifier: GPL-2.0-only
/*
 * detour: the XDP program on an edge router's client-facing ports.
 *
 * Per packet: parse (dataplane/core/parse.h) -> look the destination up in the prefix tries to
 * find the flow's home site -> decide (dataplane/core/decide.h) -> either XDP_PASS untouched, or
 * rewrite for the target site's delivery mode (dataplane/core/deliver.h) and XDP_TX / redirect;
 * a packet too big for the target's path is answered with ICMP by XDP_TX, or dropped.
 * Every packet is counted once, under its home site and one reason, at the single exit.
 *
 * This file only binds the shared core to BPF maps; the policy itself lives in dataplane/core/.
 */
#include "dataplane/core/detour_abi.h"
#include "dataplane/core/parse.h"
#include "dataplane/core/flow_hash.h"
#include "dataplane/core/rewrite.h"

/* Fleet-wide flow-hash seed from the configuration: every edge must use the same one. */
const volatile __u32 flow_hash_seed = 0;

/* ---- Maps: layouts from detour_abi.h, pinned by name under the loader's bpffs root ---------- */

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct dt_lpm_v4_key);
	__type(value, struct dt_prefix_info);
	__uint(max_entries, DT_MAX_PREFIXES_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dt_prefix_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct dt_lpm_v6_key);
	__type(value, struct dt_prefix_info);
	__uint(max_entries, DT_MAX_PREFIXES_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dt_prefix_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct dt_site_state_val);
	__uint(max_entries, DT_MAX_SITES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dt_site_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct dt_site);
	__uint(max_entries, DT_MAX_SITES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dt_site SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct dt_failover_slots);
	__uint(max_entries, DT_MAX_SITES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dt_failover SEC(".maps");

/* The two classes of the flow table (decide.h, "The flow table"): one layout, one size. */
#define DT_FLOW_CLASS_MAP(name)                             \
	struct {                                            \
		__uint(type, BPF_MAP_TYPE_LRU_HASH);        \
		__type(key, struct dt_flow_key);            \
		__type(value, struct dt_flow_state);        \
		__uint(max_entries, DT_FLOW_TABLE_DEFAULT); \
		__uint(pinning, LIBBPF_PIN_BY_NAME);        \
	} name SEC(".maps")

DT_FLOW_CLASS_MAP(dt_flows); /* established flows that left home */
DT_FLOW_CLASS_MAP(dt_flow_new); /* new flows until promoted: a flood of made-up ones churns this */

/*
 * Non-TCP flows seen at home, for a drain (decide.h): stamps in jiffies, shared by every CPU (a
 * slot is written at most once a second, so its cache line is read-shared, not bounced).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, DT_SEEN_SLOTS);
} dt_udp_seen SEC(".maps");

/* This CPU's token bucket for promotions into dt_flows. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct dt_flow_bucket);
	__uint(max_entries, 1);
} dt_flow_bucket SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct dt_flow_gen);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE); /* user space bumps it with one atomic add */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dt_flow_gen SEC(".maps");

/*
 * The per-CPU cache of recent flows in front of dt_flows: a direct-mapped copy of entries this
 * CPU read, 72 bytes a slot. Private to the program (not pinned, nobody else reads it).
 */
#define DT_FLOW_CACHE_BITS 10
#define DT_FLOW_CACHE_KEY_WORDS (sizeof(struct dt_flow_key) / sizeof(__u64))

/* A key read as words: the may_alias tells the compiler the parser's field stores reach it. */
typedef __u64 __attribute__((may_alias)) dt_key_word;

struct dt_flow_cache_slot {
	/*
	 * struct dt_flow_key, compared as words. Its last word holds the family, never 0 in a parsed
	 * key: an empty slot, or one whose last word was cleared, matches nothing.
	 */
	__u64 key[DT_FLOW_CACHE_KEY_WORDS];
	struct dt_flow_state flow; /* the entry as dt_flows held it, flags | DT_FLOW_F_CACHED */
	__u32 gen; /* dt_flow_gen when copied */
	__u32 until; /* low 32 bits of jiffies until which the entry needs no last_seen refresh */
	__u32 hash; /* dt_flow_hash() of the key: an IPv6 outer header's flow label needs it */
	__u32 pad;
};

_Static_assert(sizeof(struct dt_flow_key) % sizeof(__u64) == 0, "the key is whole u64 words");
_Static_assert(__builtin_offsetof(struct dt_flow_cache_slot, hash) == 64,
	       "what the hit path reads fits one cache line");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct dt_flow_cache_slot);
	__uint(max_entries, 1u << DT_FLOW_CACHE_BITS);
} dt_flow_cache SEC(".maps");

/* Ticks per second, for the jiffies deadline of a cached entry; 0 if unknown: no caching. */
extern unsigned int CONFIG_HZ __kconfig __weak;

/*
 * TCP flows of tcp_reset prefixes seen going home (dataplane/core/tcp_seen.h): per CPU, so a
 * slot is only ever written by its own CPU; pinned, read by detourd when a site goes DOWN.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct dt_tcp_seen);
	__uint(max_entries, DT_TCP_SEEN_SLOTS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dt_tcp_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, DT_MAX_EGRESS_PORTS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dt_egress SEC(".maps");

/* This CPU's token bucket for too-big answers (too_big.h); private, like the flow cache. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct dt_icmp_bucket);
	__uint(max_entries, 1);
} dt_icmp_bucket SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct dt_counter);
	__uint(max_entries, DT_COUNTER_ENTRIES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dt_counters SEC(".maps");

/* ---- The tables decide.h and deliver.h read, bound to the maps above ---------------------- */

struct dt_tables {
	__u64 now; /* bpf_ktime_get_coarse_ns(), read once per packet and only when needed */
	struct dt_flow_cache_slot *slot; /* the packet's cache slot, once dt_tables_flow() ran */
	struct dt_flow_state *entry; /* the dt_flows entry read (not the cached copy), if any */
	__u32 gen; /* dt_flow_gen, read before the flow table */
	__u32 hash; /* the flow hash, when the cache had it; else 0 */
	bool recorded; /* dt_flows was written for this packet: its copy is stale */
	bool found_new; /* dt_tables_flow() found the flow in dt_flow_new */
};

static __always_inline const struct dt_prefix_info *dt_tables_prefix(struct dt_tables *t,
								     const struct dt_flow_key *k)
{
	struct dt_lpm_v6_key k6 = { .prefixlen = 128 };
	struct dt_lpm_v4_key k4 = { .prefixlen = 32 };

	if (k->family == DT_FAMILY_V4) {
		k4.addr = k->daddr[0];
		return bpf_map_lookup_elem(&dt_prefix_v4, &k4);
	}
	__builtin_memcpy(k6.addr, k->daddr, sizeof(k6.addr));
	return bpf_map_lookup_elem(&dt_prefix_v6, &k6);
}

static __always_inline __u32 dt_tables_site_state(struct dt_tables *t, __u32 site)
{
	struct dt_site_state_val *v = bpf_map_lookup_elem(&dt_site_state, &site);

	return v ? v->state : DT_SITE_UNKNOWN;
}

static __always_inline const struct dt_failover_slots *dt_tables_failover(struct dt_tables *t,
									  __u32 home)
{
	return bpf_map_lookup_elem(&dt_failover, &home);
}

/* Multiplicative hashing of the folded key: cheap, and only picks a slot (the key is compared). */
static __always_inline struct dt_flow_cache_slot *dt_flow_cache__slot(const dt_key_word *w)
{
	__u64 x = w[0] ^ w[1] ^ w[2] ^ w[3] ^ w[4];
	__u32 idx = ((__u32)x ^ (__u32)(x >> 32)) * 0x9e3779b1u >> (32 - DT_FLOW_CACHE_BITS);

	return bpf_map_lookup_elem(&dt_flow_cache, &idx);
}

static __always_inline bool dt_flow_cache__holds(const struct dt_flow_cache_slot *s,
						 const dt_key_word *w, __u32 gen)
{
	return !((s->key[0] ^ w[0]) | (s->key[1] ^ w[1]) | (s->key[2] ^ w[2]) | (s->key[3] ^ w[3]) |
		 (s->key[4] ^ w[4])) &&
	       s->gen == gen && (__s32)(s->until - (__u32)bpf_jiffies64()) > 0;
}

/*
 * A cached copy is the dt_flows entry as it is now, provided that (1) nothing the control plane
 * writes changed since it was made (dt_flow_gen), (2) no packet of this CPU wrote the entry since
 * (dt_tables_flow_record() empties the slot) and (3) the entry's last_seen needs no refresh yet
 * (until): so decide.h decides on it exactly as on the entry. Another CPU writes an entry only
 * when the first two change (a new flow, or a target that stopped serving: a state write), or
 * after the LRU evicted it: then this CPU keeps the flow where it was for at most one refresh
 * period, which an eviction already allows.
 */
static __always_inline struct dt_flow_state *dt_tables_flow(struct dt_tables *t,
							    const struct dt_flow_key *k)
{
	const dt_key_word *w = (const dt_key_word *)k; /* the caller keeps it 8-byte aligned */
	__u32 zero = 0;
	struct dt_flow_gen *g = bpf_map_lookup_elem(&dt_flow_gen, &zero);
	struct dt_flow_state *fresh;

	t->gen = g ? g->gen : 0;
	t->slot = dt_flow_cache__slot(w);
	if (t->slot && dt_flow_cache__holds(t->slot, w, t->gen)) {
		t->hash = t->slot->hash;
		return &t->slot->flow;
	}
	t->entry = bpf_map_lookup_elem(&dt_flows, k);
	if (t->entry)
		return t->entry;
	fresh = bpf_map_lookup_elem(&dt_flow_new, k); /* a new flow: never cached */
	t->found_new = fresh != NULL;
	return fresh;
}

static __always_inline int dt_tables_flow_record(struct dt_tables *t, const struct dt_flow_key *k,
						 const struct dt_flow_state *v)
{
	t->recorded = true;
	if (t->slot)
		t->slot->key[DT_FLOW_CACHE_KEY_WORDS - 1] = 0;
	if (v->flags & DT_FLOW_F_NEW)
		return bpf_map_update_elem(&dt_flow_new, k, v, BPF_ANY);
	if (t->found_new) /* promoted: a flow lives in one class */
		bpf_map_delete_elem(&dt_flow_new, k);
	return bpf_map_update_elem(&dt_flows, k, v, BPF_ANY);
}

static __always_inline struct dt_flow_bucket *dt_tables_flow_bucket(struct dt_tables *t)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&dt_flow_bucket, &zero);
}

/*
 * After the decision: copy the entry it read (touched, if a refresh was due) into the packet's
 * slot, valid until its last_seen would need the next refresh, counted in whole ticks and one
 * short, so that the flow table's last_seen is never older than without the cache.
 */
static __always_inline void dt_flow_cache__fill(struct dt_tables *t, const struct dt_flow_key *k)
{
	struct dt_flow_cache_slot *s = t->slot;
	struct dt_flow_state *e = t->entry;
	__u64 age, ticks;

	if (!s || !e || t->recorded || !t->now || !CONFIG_HZ)
		return;
	age = t->now - e->last_seen_ns;
	if (age >= DT_FLOW_REFRESH_NS)
		return;
	ticks = (DT_FLOW_REFRESH_NS - age) * CONFIG_HZ / 1000000000ull;
	if (ticks < 2)
		return;
	__builtin_memcpy(s->key, k, sizeof(s->key));
	s->flow = *e;
	s->flow.flags |= DT_FLOW_F_CACHED;
	s->until = (__u32)bpf_jiffies64() + (__u32)ticks - 1;
	s->hash = dt_flow_hash(k, flow_hash_seed);
	s->gen = t->gen;
}

static __always_inline __u32 *dt_tables_seen_slot(struct dt_tables *t, const struct dt_flow_key *k)
{
	__u32 idx = dt_seen_index(k);

	return bpf_map_lookup_elem(&dt_udp_seen, &idx);
}

/* jiffies: an inlined load, where the coarse clock is a helper call. */
static __always_inline __u32 dt_tables_seen_now(struct dt_tables *t)
{
	return (__u32)bpf_jiffies64() ?: 1;
}

static __always_inline __u32 dt_tables_seen_hz(struct dt_tables *t)
{
	return CONFIG_HZ;
}

/*
 * The coarse clock (CLOCK_MONOTONIC at tick resolution) costs a quarter of bpf_ktime_get_ns()
 * and is plenty for last_seen, which is refreshed at most every 100 ms and compared with idle
 * times of a second or more.
 */
static __always_inline __u64 dt_tables_now(struct dt_tables *t)
{
	if (!t->now)
		t->now = bpf_ktime_get_coarse_ns();
	return t->now;
}

static __always_inline const struct dt_site *dt_tables_site(struct dt_tables *t, __u32 site)
{
	return bpf_map_lookup_elem(&dt_site, &site);
}

/*
 * The XDP action that sends the packet out of the site's egress port, picked before the rewrite:
 * a missing port must not leak a rewritten packet. bpf_redirect_map() only records the target (it
 * acts when the program returns XDP_REDIRECT, not when a failed rewrite returns XDP_PASS), and
 * its miss action saves a separate devmap lookup.
 */
static __always_inline bool dt_tables_egress(struct dt_tables *t, const struct dt_buf *b,
					     const struct dt_site *site, __u32 *action)
{
	if (site->egress_ifindex == b->ctx->ingress_ifindex)
		*action = XDP_TX;
	else
		*action = bpf_redirect_map(&dt_egress, site->egress_port, XDP_PASS);
	return *action != XDP_PASS;
}

static __always_inline struct dt_icmp_bucket *dt_tables_icmp_bucket(struct dt_tables *t)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&dt_icmp_bucket, &zero);
}

/*
 * The fleet-wide seeded flow hash. The cache copied it with the entry: a cached flow moved again,
 * or sent into an IPv6 tunnel (the flow label), does not recompute it.
 */
static __always_inline __u32 dt_tables_flow_hash(struct dt_tables *t, const struct dt_flow_key *k)
{
	return t->hash ?: dt_flow_hash(k, flow_hash_seed);
}

#include "dataplane/core/decide.h"
#include "dataplane/core/deliver.h"

/*
 * A TCP packet of a tcp_reset prefix going home to an UP site: keep it in this CPU's slot of its
 * flow (tcp_seen.h), if the slot holds another flow, another SYN/FIN/RST state, or is due a
 * refresh. Called only on the way out of the healthy path.
 */
static __always_inline void dt_tcp_seen__record(const struct dt_buf *b, const struct dt_packet *pkt,
						__u32 home)
{
	__u32 idx = dt_tcp_seen_index(&pkt->key), off = pkt->l4_off;
	struct dt_tcp_seen *s = bpf_map_lookup_elem(&dt_tcp_seen, &idx);
	__u32 tick = (__u32)bpf_jiffies64();
	__u32 refresh = CONFIG_HZ * DT_TCP_SEEN_REFRESH_MS / 1000;
	const __u8 *th;

	/* bounded for the verifier: a packet pointer's offset must stay below 64 KiB with the 12 */
	if (!s || off > 4096)
		return;
	th = (const __u8 *)b->data + off;
	if ((const void *)(th + 12) > b->data_end)
		return;
	if (dt_tcp_seen_due(s, pkt, tick, refresh ?: 1))
		dt_tcp_seen_write(s, pkt, th, home, bpf_ktime_get_coarse_ns(), tick);
}

/* ---- The single exit ------------------------------------------------------------------------ */

static __always_inline int count(__u32 site, __u32 reason, __u32 bytes)
{
	__u32 idx = dt_counter_index(site, reason);
	struct dt_counter *c = bpf_map_lookup_elem(&dt_counters, &idx);

	if (c) {
		c->packets++; /* per-CPU: no atomics needed */
		c->bytes += bytes;
	}
	return 0;
}

static __always_inline int finish(__u32 site, int reason, __u32 bytes, int action)
{
	count(site, reason, bytes);
	return action;
}

/* A delivered packet leaves by the site's egress, or as a too-big answer by XDP_TX, or not. */
static __always_inline int delivered(__u32 site, int reason, __u32 bytes, __u32 egress)
{
	enum dt_verdict v = dt_deliver_verdict(reason);

	if (v == DT_VERDICT_TX)
		egress = XDP_TX;
	else if (v == DT_VERDICT_DROP)
		egress = XDP_DROP;
	return finish(site, reason, bytes, egress);
}

SEC("xdp")
int detour_xdp(struct xdp_md *ctx)
{
	__u32 bytes = ctx->data_end - ctx->data;
	struct dt_tables tables = { 0 };
	struct dt_decision d;
	struct dt_packet pkt __attribute__((aligned(8))); /* the cache reads its key as u64 words */
	const struct dt_site *site;
	bool clamped = false;
	struct dt_buf b;
	__u32 action;
	int ret;

	dt_buf_init(&b, ctx);
	ret = dt_parse_packet(b.data, b.data_end, &pkt);
	if (ret < 0)
		return finish(DT_SITE_NONE, -ret, bytes, XDP_PASS);

	dt_decide(&tables, &pkt, &d);
	dt_flow_cache__fill(&tables, &pkt.key);
	if (d.event)
		count(d.home, d.event, 0);
	if (d.reason != DT_REASON_NONE) {
		if (d.track)
			dt_tcp_seen__record(&b, &pkt, d.home);
		return finish(d.home, d.reason, bytes, XDP_PASS);
	}
	/* no_site_config exits on its own, before the rewrite's refusals: fewer spills on the way */
	site = dt_deliver_site(&tables, &b, d.target, &action);
	if (!site)
		return finish(d.home, DT_REASON_NO_SITE_CONFIG, bytes, XDP_PASS);
	ret = dt_deliver_rewrite(&tables, &b, &pkt, site, d.hash, &clamped);
	if (ret < 0)
		return finish(d.home, -ret, bytes, XDP_PASS);
	if (clamped)
		count(d.home, DT_REASON_MSS_CLAMPED, 0);
	return delivered(d.home, ret, bytes, action);
}

char LICENSE[] SEC("license") = "GPL";
