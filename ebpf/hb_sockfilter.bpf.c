// SPDX-License-Identifier: GPL-2.0-only
/*
 * hb_sockfilter: the socket filter (SO_ATTACH_BPF) on each of detourd's heartbeat sockets. It runs in
 * the kernel before a datagram is queued, and drops what the receiver would refuse from the
 * header alone, before any crypto (docs/heartbeat.md, "Receiver rules", steps 1 to 3): the wrong
 * length, magic or version; a source address the (site, beacon) named in the header may not send
 * from (when it has beacon_sources); a site with no key, or no key of that key id. Each drop is
 * counted by its reason in hb_filter_drops. What passes is checked again in user space, MAC and
 * all. The table (hb_filter_table, one slot holding a map of HB_FILTER_SITES entries) is
 * replaced whole by detourd, so a reload changes the filter at one instant; with the slot empty
 * only the header checks (length, magic, version) are made here.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "control/heartbeat/hb_filter_abi.h"

/* By size: the value type is only seen through the outer map, and BTF would hold it unsized. */
struct hb_filter_sites {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HB_FILTER_SITES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct hb_filter_site));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct hb_filter_sites);
} hb_filter_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HB_FILTER_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} hb_filter_drops SEC(".maps");

static __always_inline int drop(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&hb_filter_drops, &reason);

	if (n)
		*n += 1;
	return 0;
}

/* Whether the datagram's IP source lies in one of beacon's entries of s. */
static __always_inline int source_ok(struct __sk_buff *skb, const struct hb_filter_site *s,
				     __u8 beacon)
{
	__u32 a[4] = {};
	int v6 = skb->protocol == bpf_htons(ETH_P_IPV6), i, w;

	if (v6 ? bpf_skb_load_bytes_relative(skb, 8, a, 16, BPF_HDR_START_NET) :
		 bpf_skb_load_bytes_relative(skb, 12, a, 4, BPF_HDR_START_NET))
		return 1; /* cannot tell: user space will */
	for (i = 0; i < HB_FILTER_SOURCES; i++) {
		const struct hb_filter_src *e = &s->src[i];
		int match = 1;

		if (i >= s->n_sources)
			break;
		if (e->beacon_id != beacon || e->v6 != v6)
			continue;
#pragma unroll
		for (w = 0; w < 4; w++)
			if ((a[w] & e->mask[w]) != e->net[w])
				match = 0;
		if (match)
			return 1;
	}
	return 0;
}

SEC("socket")
int hb_filter(struct __sk_buff *skb)
{
	__u32 len = skb->len, zero = 0, want, site;
	__u16 version, beacon = 0, key = 0;
	const struct hb_filter_site *s;
	__u8 h[12];
	void *sites;
	int i;

	if (len < HB_FILTER_UDP_HDR + HB_FILTER_V1_LEN)
		return drop(HB_FILTER_R_SHORT);
	if (len > HB_FILTER_UDP_HDR + HB_FILTER_V2_LEN)
		return drop(HB_FILTER_R_LONG);
	if (bpf_skb_load_bytes(skb, HB_FILTER_UDP_HDR, h, sizeof(h)))
		return skb->len;
	if (((__u32)h[0] << 24 | (__u32)h[1] << 16 | (__u32)h[2] << 8 | h[3]) != HB_FILTER_MAGIC)
		return drop(HB_FILTER_R_BAD_MAGIC);
	version = (__u16)(h[4] << 8 | h[5]);
	want = version == 1 ? HB_FILTER_V1_LEN : version == 2 ? HB_FILTER_V2_LEN : 0;
	if (!want)
		return drop(HB_FILTER_R_BAD_VERSION);
	if (len - HB_FILTER_UDP_HDR != want)
		return drop(len - HB_FILTER_UDP_HDR < want ? HB_FILTER_R_SHORT : HB_FILTER_R_LONG);
	site = (__u32)(h[6] << 8 | h[7]);
	if (version == 2) {
		beacon = (__u16)(h[8] << 8 | h[9]);
		key = (__u16)(h[10] << 8 | h[11]);
	}
	sites = bpf_map_lookup_elem(&hb_filter_table, &zero);
	if (!sites)
		return skb->len; /* no table: the rest to user space */
	if (site >= HB_FILTER_SITES)
		return drop(HB_FILTER_R_UNKNOWN_SITE);
	s = bpf_map_lookup_elem(sites, &site);
	if (!s)
		return skb->len;
	if (beacon < HB_FILTER_BEACONS && (s->sourced & (1u << beacon)) &&
	    !source_ok(skb, s, (__u8)beacon))
		return drop(HB_FILTER_R_WRONG_SOURCE);
	if (!s->n_keys)
		return drop(HB_FILTER_R_UNKNOWN_SITE);
	for (i = 0; i < HB_FILTER_KEYS; i++)
		if (i < s->n_keys && s->key_id[i] == key)
			return skb->len;
	return drop(HB_FILTER_R_UNKNOWN_KEY);
}

char LICENSE[] SEC("license") = "GPL";
