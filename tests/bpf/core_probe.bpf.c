// SPDX-License-Identifier: GPL-2.0-only
/*
 * core_probe: the shared packet core compiled for BPF and run inside the kernel.
 *
 * It is not Detour's XDP program (that is detour.bpf.c); it exists so that a test can prove the
 * core passes the verifier and computes in the kernel exactly what it computes on the host: the
 * test runs every golden packet through it with BPF_PROG_TEST_RUN and compares the parse result
 * and the flow hash, left in global variables, with the host's.
 */
#include "dataplane/core/detour_abi.h"
#include "dataplane/core/parse.h"
#include "dataplane/core/flow_hash.h"

const volatile __u32 probe_seed = 0;

int probe_ret;
__u32 probe_hash;
struct dt_packet probe_pkt;

SEC("xdp")
int core_probe_parse(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct dt_packet pkt = {};

	probe_ret = dt_parse_packet(data, data_end, &pkt);
	probe_pkt = pkt;
	probe_hash = dt_flow_hash(&pkt.key, probe_seed);
	return XDP_PASS;
}

/* Hash an arbitrary key set by the test, so hash identity is checked beyond parsed packets. */
struct dt_flow_key probe_key_in;

SEC("xdp")
int core_probe_hash(struct xdp_md *ctx)
{
	struct dt_flow_key key = probe_key_in;

	probe_hash = dt_flow_hash(&key, probe_seed);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
