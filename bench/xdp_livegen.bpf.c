/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The packet generator of bench-e2e.sh forward (bench/xdp-livegen.c): run by BPF_PROG_RUN in
 * live-frames mode, it turns each frame into a frame of one of 64 flows and sends it (XDP_TX
 * from test-run: out of the ingress device, as an xdp_frame, so the veth peer gets the frame the
 * way a driver would hand it over, without an skb).
 *
 * The headers are written again on every run: test-run recycles its pages without restoring
 * their bytes, and whoever received the frame before (the edge's TTL decrement and MAC rewrite,
 * in Detour or in the kernel) left its changes there.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define LIVEGEN_HDR_LEN 42 /* Ethernet, IPv4 without options, UDP: the frame is ours */
#define LIVEGEN_UDP_SPORT_OFF (14 + 20)
#define LIVEGEN_FLOWS 64

/* Filled in by the loader before the program is loaded. Not const: a const array with a zero
 * initialiser would let the compiler copy zeros instead of reading it. */
__u8 livegen_hdr[LIVEGEN_HDR_LEN] = {};
__u32 livegen_seq = 0;

SEC("xdp")
int xdp_livegen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *sport = data + LIVEGEN_UDP_SPORT_OFF;

	if (data + LIVEGEN_HDR_LEN > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(data, livegen_hdr, LIVEGEN_HDR_LEN);
	/* The low byte of the source port picks the flow; the UDP checksum is 0 (none, IPv4). */
	sport[1] = (__u8)(__sync_fetch_and_add(&livegen_seq, 1) % LIVEGEN_FLOWS);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
