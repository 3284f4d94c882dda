// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_probe: one XDP program per building block of detour_xdp's rerouted path, each doing that
 * one thing and returning XDP_PASS. bench-xdp times them like the scenarios (minus the empty
 * program), so a missed per-packet target can be broken down into what each step costs without
 * hardware counters, which the benchmark machine (a VM) does not expose to perf.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "dataplane/core/detour_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct dt_flow_key);
	__type(value, struct dt_flow_state);
	__uint(max_entries, DT_FLOW_TABLE_DEFAULT);
} probe_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct dt_lpm_v4_key);
	__type(value, struct dt_prefix_info);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} probe_prefix SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, DT_MAX_EGRESS_PORTS);
} probe_egress SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct dt_counter);
	__uint(max_entries, DT_COUNTER_ENTRIES);
} probe_counters SEC(".maps");

/* A per-CPU direct-mapped cache slot of a moved flow: the candidate in front of probe_flows. */
struct probe_cache_slot {
	struct dt_flow_key key;
	__u64 filled;
	__u32 gen;
	__u16 target;
	__u16 home;
	__u64 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct probe_cache_slot);
	__uint(max_entries, 256);
} probe_cache SEC(".maps");

/* The key user space stores: a moved TCP flow, as the scenarios' flow is. */
const volatile struct dt_flow_key probe_key = {};
const volatile __be32 probe_daddr = 0;

SEC("xdp")
int probe_ktime(struct xdp_md *ctx)
{
	return bpf_ktime_get_ns() ? XDP_PASS : XDP_DROP;
}

/* The clock detour.bpf.c refreshes last_seen with: a 100 ms refresh needs no ns clock. */
SEC("xdp")
int probe_ktime_coarse(struct xdp_md *ctx)
{
	return bpf_ktime_get_coarse_ns() ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int probe_jiffies(struct xdp_md *ctx)
{
	return bpf_jiffies64() ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int probe_cache_lookup(struct xdp_md *ctx)
{
	union {
		struct dt_flow_key k;
		__u64 w[5];
	} u;
	struct probe_cache_slot *s;
	const __u64 *w;
	__u32 idx;

	__builtin_memcpy(&u.k, (const void *)&probe_key, sizeof(u.k));
#define k u.k
	idx = (k.saddr[0] ^ k.daddr[0] ^ k.saddr[3] ^ k.daddr[3] ^
	       ((__u32)k.sport << 16 | k.dport)) *
		      0x9e3779b1u >>
	      24;
	s = bpf_map_lookup_elem(&probe_cache, &idx);
	if (!s)
		return XDP_DROP;
	w = (const __u64 *)&s->key;
	if ((w[0] ^ u.w[0]) | (w[1] ^ u.w[1]) | (w[2] ^ u.w[2]) | (w[3] ^ u.w[3]) | (w[4] ^ u.w[4]))
		__builtin_memcpy(&s->key, &k, sizeof(k)); /* the first run fills, the rest hit */
#undef k
	return XDP_PASS;
}

SEC("xdp")
int probe_flow_lookup(struct xdp_md *ctx)
{
	struct dt_flow_key k;

	__builtin_memcpy(&k, (const void *)&probe_key, sizeof(k));
	return bpf_map_lookup_elem(&probe_flows, &k) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int probe_lpm_lookup(struct xdp_md *ctx)
{
	struct dt_lpm_v4_key k = { .prefixlen = 32, .addr = probe_daddr };

	return bpf_map_lookup_elem(&probe_prefix, &k) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int probe_counter(struct xdp_md *ctx)
{
	__u32 idx = dt_counter_index(1, DT_REASON_REROUTED_ROUTE);
	struct dt_counter *c = bpf_map_lookup_elem(&probe_counters, &idx);

	if (c) {
		c->packets++;
		c->bytes += 100;
	}
	return XDP_PASS;
}

SEC("xdp")
int probe_redirect(struct xdp_md *ctx)
{
	__u32 port = 2;

	if (!bpf_map_lookup_elem(&probe_egress, &port))
		return XDP_DROP;
	return bpf_redirect_map(&probe_egress, port, XDP_DROP) == XDP_REDIRECT ? XDP_PASS :
										 XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
