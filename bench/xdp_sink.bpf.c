/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The receiving end of the forwarding benchmark (bench-e2e.sh forward): every frame that reaches
 * the site's veth is dropped before the site's kernel builds an skb for it, so what is measured
 * is the edge's forwarding, not the site's IP stack. The veth counts the frame in rx_packets
 * before the program runs.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_sink(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
