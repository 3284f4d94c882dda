// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdp_pass: the smallest XDP program there is. The loader uses it to probe whether the kernel
 * accepts freplace (BPF_PROG_TYPE_EXT) programs, which libxdp's multi-program dispatcher needs;
 * the namespace tests attach it as a "foreign" program that Detour must refuse to replace.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Global, with BTF: an freplace program names the function it replaces by its BTF name. */
SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
