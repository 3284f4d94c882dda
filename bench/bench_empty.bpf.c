// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_empty: an XDP program that does nothing but return XDP_PASS. bench/bench_xdp.c runs it
 * beside detour_xdp in the same run so that BPF_PROG_TEST_RUN's own per-call cost (timer reads,
 * the xdp_buff set-up, the dispatcher) is measured and subtracted, leaving Detour's cost alone.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bench_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
