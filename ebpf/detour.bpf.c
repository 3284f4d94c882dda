// SPDX-License-Identifier: GPL-2.0-only
/*
 * detour: the XDP program on an edge router's client-facing ports.
 *
 * Per packet: parse (dataplane/core/parse.h) -> look the destination up in the prefix tries to
 * find the flow's home site -> decide (dataplane/core/decide.h) -> either XDP_PASS untouched, or
 * rewrite for the target site's delivery mode (dataplane/core/rewrite.h) and XDP_TX / redirect.
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

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct dt_flow_key);
	__type(value, struct dt_flow_state);
	__uint(max_entries, DT_FLOW_TABLE_DEFAULT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dt_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, DT_MAX_EGRESS_PORTS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dt_egress SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct dt_counter);
	__uint(max_entries, DT_COUNTER_ENTRIES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dt_counters SEC(".maps");

/* ---- The tables decide.h reads, bound to the maps above ----------------------------------- */

struct dt_tables {
	__u64 now; /* bpf_ktime_get_ns(), read once per packet and only when needed */
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

static __always_inline struct dt_flow_state *dt_tables_flow(struct dt_tables *t,
							    const struct dt_flow_key *k)
{
	return bpf_map_lookup_elem(&dt_flows, k);
}

static __always_inline int dt_tables_flow_record(struct dt_tables *t, const struct dt_flow_key *k,
						 const struct dt_flow_state *v)
{
	return bpf_map_update_elem(&dt_flows, k, v, BPF_ANY);
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

#include "dataplane/core/decide.h"

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

/* Rewrite toward the target site and pick the XDP action that sends it there. */
static __always_inline int deliver(struct xdp_md *ctx, struct dt_buf *b,
				   const struct dt_packet *pkt, const struct dt_decision *d,
				   __u32 bytes)
{
	__u32 target = d->target;
	const struct dt_site *site = bpf_map_lookup_elem(&dt_site, &target);
	__u32 port;
	int err;

	if (!site || site->delivery == DT_DELIVERY_NONE)
		return finish(d->home, DT_REASON_NO_SITE_CONFIG, bytes, XDP_PASS);
	port = site->egress_port;
	/* Check the port before the rewrite: a failed redirect must not leak a rewritten packet. */
	if (site->egress_ifindex != ctx->ingress_ifindex && !bpf_map_lookup_elem(&dt_egress, &port))
		return finish(d->home, DT_REASON_NO_SITE_CONFIG, bytes, XDP_PASS);

	if (site->delivery == DT_DELIVERY_ROUTE)
		err = dt_rewrite_route(b, pkt, site);
	else /* only an IPv6 outer header uses the hash (flow label); a known flow has none yet */
		err = dt_encap_ipip(b, pkt, site,
				    d->hash || site->tunnel_family != DT_FAMILY_V6 ?
					    d->hash :
					    dt_flow_hash(&pkt->key, flow_hash_seed));
	if (err < 0)
		return finish(d->home, -err, bytes, XDP_PASS);

	count(d->home,
	      site->delivery == DT_DELIVERY_ROUTE ? DT_REASON_REROUTED_ROUTE :
						    DT_REASON_REROUTED_IPIP,
	      bytes);
	if (site->egress_ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect_map(&dt_egress, port, XDP_DROP);
}

SEC("xdp")
int detour_xdp(struct xdp_md *ctx)
{
	__u32 bytes = ctx->data_end - ctx->data;
	struct dt_tables tables = { 0 };
	struct dt_decision d;
	struct dt_packet pkt;
	struct dt_buf b;
	int ret;

	dt_buf_init(&b, ctx);
	ret = dt_parse_packet(b.data, b.data_end, &pkt);
	if (ret < 0)
		return finish(DT_SITE_NONE, -ret, bytes, XDP_PASS);

	dt_decide(&tables, &pkt, flow_hash_seed, &d);
	if (d.record_failed)
		count(d.home, DT_REASON_FLOW_INSERT_FAILED, 0);
	if (d.reason != DT_REASON_NONE)
		return finish(d.home, d.reason, bytes, XDP_PASS);
	return deliver(ctx, &b, &pkt, &d, bytes);
}

char LICENSE[] SEC("license") = "GPL";
