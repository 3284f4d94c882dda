// SPDX-License-Identifier: GPL-2.0-only
/*
 * The flood of tests/integration/dt_flood.c: run by BPF_PROG_RUN in live-frames mode, it turns
 * frame n into the SYN (n even) or the ACK (n odd) of made-up flow n / 2, from a source in
 * 198.19.0.0/16 and a source port both derived from the flow by a mixing hash, and sends it out
 * of the ingress device (XDP_TX), so the veth peer receives it as from a driver. The headers are
 * written again on every run: test-run recycles its pages without restoring them.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define FLOOD_HDR_LEN 54 /* Ethernet, IPv4 without options, TCP without options */
#define FLOOD_IP 14
#define FLOOD_TCP (14 + 20)

__u8 flood_hdr[FLOOD_HDR_LEN] = {}; /* the loader writes a SYN of flow 0 here */
__u32 flood_seq = 0;
__u32 flood_seed = 0;

static __always_inline __u32 mix(__u32 x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	return x ^ (x >> 16);
}

static __always_inline __u16 ip_checksum(const __u8 *ip)
{
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < 20; i += 2)
		sum += (__u32)ip[i] << 8 | ip[i + 1];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int flood_gen(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u32 n, h;
	__u16 csum;

	if (data + FLOOD_HDR_LEN > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(data, flood_hdr, FLOOD_HDR_LEN);
	n = __sync_fetch_and_add(&flood_seq, 1);
	h = mix((n >> 1) ^ flood_seed);
	data[FLOOD_IP + 14] = (__u8)(h >> 8); /* saddr 198.19.x.y */
	data[FLOOD_IP + 15] = (__u8)h;
	data[FLOOD_IP + 4] = (__u8)(n >> 8); /* IP id */
	data[FLOOD_IP + 5] = (__u8)n;
	data[FLOOD_IP + 10] = 0;
	data[FLOOD_IP + 11] = 0;
	csum = ip_checksum(data + FLOOD_IP);
	data[FLOOD_IP + 10] = (__u8)(csum >> 8);
	data[FLOOD_IP + 11] = (__u8)csum;
	data[FLOOD_TCP] = (__u8)(0x04 | (h >> 30)); /* source port 1024 .. 2047 */
	data[FLOOD_TCP + 1] = (__u8)(h >> 16);
	data[FLOOD_TCP + 13] = n & 1 ? 0x10 : 0x02; /* ACK after SYN */
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
