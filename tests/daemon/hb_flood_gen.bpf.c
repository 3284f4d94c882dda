// SPDX-License-Identifier: GPL-2.0-only
/*
 * The frames of tests/daemon/hb_flood.c: run by BPF_PROG_RUN in live-frames mode, it writes one
 * of the loader's two frames (Ethernet, IPv4, UDP, a heartbeat with a valid header and a wrong
 * MAC), the first for even frames, the second for odd ones, with sequence number n + 1 for frame
 * n, and sends it out of the ingress device
 * (XDP_TX), so the veth peer receives it as from a driver. The whole frame is written on every
 * run: test-run recycles its pages without restoring them.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define HB_FLOOD_LEN 106 /* Ethernet 14, IPv4 20, UDP 8, heartbeat 64 */
#define HB_FLOOD_SEQ (14 + 20 + 8 + 24) /* the heartbeat's u64 sequence, big-endian */

__u8 hb_flood_frame[2][HB_FLOOD_LEN] = {};
__u32 hb_flood_sent = 0;

SEC("xdp")
int hb_flood_gen(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u64 seq;
	int i;

	if (data + HB_FLOOD_LEN > data_end)
		return XDP_ABORTED;
	seq = (__u64)__sync_fetch_and_add(&hb_flood_sent, 1) + 1;
	if (seq & 1)
		__builtin_memcpy(data, hb_flood_frame[0], HB_FLOOD_LEN);
	else
		__builtin_memcpy(data, hb_flood_frame[1], HB_FLOOD_LEN);
#pragma unroll
	for (i = 0; i < 8; i++)
		data[HB_FLOOD_SEQ + i] = (__u8)(seq >> (56 - 8 * i));
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
