// SPDX-License-Identifier: GPL-2.0-only
/*
 * site_decap: the tunnel end of an `ipip` site, as a tc ingress program.
 *
 * A TEST STAND-IN for the kernel's ipip / sit / ip6tnl devices, for kernels built without them
 * (this VM's has none). scripts/lib/topology.sh uses the kernel's devices wherever
 * `ip link add type ipip` succeeds, and this program only where it fails:
 *
 *   tc qdisc add dev s0 clsact
 *   tc filter add dev s0 ingress bpf da obj site_decap.bpf.o sec tc
 *   bpftool map update id <decap_endpoints> key <struct site_decap_endpoint> value 1 0 0 0
 *
 * It strips one outer IPv4 header (protocol 4 or 41) or IPv6 header (next header 4 or 41) whose
 * destination is one of the site's endpoints and returns TC_ACT_OK: the kernel then delivers the
 * inner packet as if it had arrived bare. Anything else passes untouched, so the kernel does what
 * it would have done without this program (for a tunnel packet: drop it, no tunnel device).
 *
 * Like a tunnel device it checks the outer header first, because tc ingress runs before ip_rcv
 * and nobody else has yet: IPv4 version, header length, total length and header checksum; no
 * fragments (a device reassembles them first; here they are left to the kernel, which drops
 * them); and an inner header of the version the protocol number announces. Not done, as a stand-in
 * need not: VLAN tags, IPv6 extension headers in the outer header, ECN/DSCP propagation,
 * filtering on the outer source.
 */
#include <stddef.h>
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "site_decap.h"

#define IPV4_HDR_MIN 20
#define IPV4_HDR_MAX 60
#define IPV6_HDR_LEN 40
#define IPV4_MF_OR_OFFSET 0x3fff /* "more fragments" and the fragment offset */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SITE_DECAP_MAX_ENDPOINTS);
	__type(key, struct site_decap_endpoint);
	__type(value, __u32);
} decap_endpoints SEC(".maps");

/* What one packet needs stripped, once the outer header has been accepted. */
struct decap_plan {
	__u32 outer_len;
	__u16 outer_proto; /* ETH_P_IP or ETH_P_IPV6, host order */
	__u16 inner_proto;
};

static __always_inline int inner_proto_of(__u8 ipproto, __u16 *inner)
{
	if (ipproto == IPPROTO_IPIP)
		*inner = ETH_P_IP;
	else if (ipproto == IPPROTO_IPV6)
		*inner = ETH_P_IPV6;
	else
		return -1;
	return 0;
}

/* The inner header must be there in full and be of the version the protocol number said. */
static __always_inline int inner_check(struct __sk_buff *skb, const struct decap_plan *p)
{
	__u32 min = p->inner_proto == ETH_P_IP ? IPV4_HDR_MIN : IPV6_HDR_LEN;
	__u8 first;

	if (skb->len < ETH_HLEN + p->outer_len + min)
		return -1;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + p->outer_len, &first, 1))
		return -1;
	return (first >> 4) == (p->inner_proto == ETH_P_IP ? 4 : 6) ? 0 : -1;
}

/*
 * The header is copied to the stack first: the verifier cannot bound a packet pointer plus a
 * variable IHL, but it bounds a length in [20, 60] for the copy and for bpf_csum_diff.
 */
static __always_inline bool ipv4_csum_ok(struct __sk_buff *skb, __u32 hlen)
{
	__u8 hdr[IPV4_HDR_MAX] = {};
	__s64 sum;

	if (hlen < IPV4_HDR_MIN || hlen > IPV4_HDR_MAX)
		return false;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, hdr, hlen))
		return false;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)hdr, hlen, 0);
	if (sum < 0)
		return false;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static __always_inline int plan_ipv4(struct __sk_buff *skb, struct decap_plan *p)
{
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *iph = (void *)(long)skb->data + ETH_HLEN;
	struct site_decap_endpoint k = { .family = 4 };

	if ((void *)(iph + 1) > data_end)
		return -1;
	if (iph->version != 4 || iph->ihl < 5 || (iph->frag_off & bpf_htons(IPV4_MF_OR_OFFSET)))
		return -1;
	if (inner_proto_of(iph->protocol, &p->inner_proto))
		return -1;
	p->outer_len = iph->ihl * 4;
	p->outer_proto = ETH_P_IP;
	/* Ethernet may pad a short frame, never truncate one: the IPv4 length must fit. */
	if (bpf_ntohs(iph->tot_len) < p->outer_len || bpf_ntohs(iph->tot_len) > skb->len - ETH_HLEN)
		return -1;
	k.addr[0] = iph->daddr;
	if (!bpf_map_lookup_elem(&decap_endpoints, &k))
		return -1;
	if (!ipv4_csum_ok(skb, p->outer_len))
		return -1;
	return inner_check(skb, p);
}

static __always_inline int plan_ipv6(struct __sk_buff *skb, struct decap_plan *p)
{
	void *data_end = (void *)(long)skb->data_end;
	struct ipv6hdr *ip6h = (void *)(long)skb->data + ETH_HLEN;
	struct site_decap_endpoint k = { .family = 6 };

	if ((void *)(ip6h + 1) > data_end)
		return -1;
	if (ip6h->version != 6 || inner_proto_of(ip6h->nexthdr, &p->inner_proto))
		return -1;
	if (IPV6_HDR_LEN + bpf_ntohs(ip6h->payload_len) > skb->len - ETH_HLEN)
		return -1;
	__builtin_memcpy(k.addr, &ip6h->daddr, sizeof(k.addr));
	if (!bpf_map_lookup_elem(&decap_endpoints, &k))
		return -1;
	p->outer_len = IPV6_HDR_LEN;
	p->outer_proto = ETH_P_IPV6;
	return inner_check(skb, p);
}

/*
 * bpf_skb_adjust_room() removes the outer header but keeps skb->protocol, which the kernel
 * dispatches on after tc. bpf_skb_change_proto() sets it, but it is NAT64's helper: it also
 * inserts (4 to 6) or removes (6 to 4) the 20 bytes between the two base headers right after
 * the MAC header, so the strip that follows is that much longer or shorter.
 */
static __always_inline int decap(struct __sk_buff *skb, const struct decap_plan *p)
{
	__be16 ethertype = bpf_htons(p->inner_proto);
	__s32 strip = (__s32)p->outer_len;

	if (p->inner_proto != p->outer_proto) {
		if (bpf_skb_change_proto(skb, ethertype, 0))
			return -1;
		strip += p->inner_proto == ETH_P_IPV6 ? IPV6_HDR_LEN - IPV4_HDR_MIN :
							IPV4_HDR_MIN - IPV6_HDR_LEN;
		/* The frame's own type field, for whoever captures it after us. */
		if (bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto), &ethertype,
					sizeof(ethertype), 0))
			return -1;
	}
	return bpf_skb_adjust_room(skb, -strip, BPF_ADJ_ROOM_MAC, 0);
}

SEC("tc")
int site_decap(struct __sk_buff *skb)
{
	struct decap_plan plan = {};
	int err = -1;

	/*
	 * Direct access needs the headers in the linear part. A frame too short for this fails
	 * the pull and then the bounds checks below: it was no tunnel packet anyway.
	 */
	bpf_skb_pull_data(skb, ETH_HLEN + IPV6_HDR_LEN);
	if (skb->protocol == bpf_htons(ETH_P_IP))
		err = plan_ipv4(skb, &plan);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		err = plan_ipv6(skb, &plan);
	if (err)
		return TC_ACT_OK; /* not a tunnel packet for us: untouched */
	/* A failed helper may leave the frame half rewritten: nothing sane can receive it. */
	return decap(skb, &plan) ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
