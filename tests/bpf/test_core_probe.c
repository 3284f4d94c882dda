// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shared packet core inside the kernel: load core_probe.bpf.o (which must pass the verifier),
 * run every golden packet through it with BPF_PROG_TEST_RUN, and require the same parse result
 * the golden table states and the same flow hash the host computes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "golden_packets.h"
#include "dataplane/core/flow_hash.h"
#include "core_probe.skel.h"

#define PROBE_SEED 0x5eed1234u
#define PROBE_SENTINEL 0x7eadbeef
#define XDP_MIN_TEST_LEN 14 /* BPF_PROG_TEST_RUN refuses XDP input shorter than ETH_HLEN */

static int probe_setup(void **state)
{
	struct core_probe *skel = core_probe__open();
	int err;

	if (!skel) {
		fprintf(stderr, "core_probe: open failed: %s\n", strerror(errno));
		return -1;
	}
	skel->rodata->probe_seed = PROBE_SEED;
	err = core_probe__load(skel);
	if (err) {
		fprintf(stderr, "core_probe: load (verifier) failed: %s\n", strerror(-err));
		core_probe__destroy(skel);
		return -1;
	}
	*state = skel;
	return 0;
}

static int probe_teardown(void **state)
{
	core_probe__destroy(*state);
	return 0;
}

static __u32 probe_run(const struct bpf_program *prog, const __u8 *bytes, __u32 len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = bytes, .data_size_in = len, .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);

	if (err)
		fail_msg("BPF_PROG_TEST_RUN failed: %s", strerror(-err));
	return opts.retval;
}

static void print_key(const char *what, const struct dt_flow_key *k)
{
	const __u8 *b = (const __u8 *)k;
	unsigned int i;

	fprintf(stderr, "  %s:", what);
	for (i = 0; i < sizeof(*k); i++)
		fprintf(stderr, " %02x", b[i]);
	fprintf(stderr, "\n");
}

static void check_golden(struct core_probe *skel, const struct dt_golden_packet *g)
{
	struct dt_packet *got = &skel->bss->probe_pkt;

	skel->bss->probe_ret = PROBE_SENTINEL;
	memset(got, 0xa5, sizeof(*got));
	assert_int_equal(probe_run(skel->progs.core_probe_parse, g->bytes, g->len), XDP_PASS);

	if (skel->bss->probe_ret != g->expect_ret)
		fail_msg("%s: kernel parse returned %d, golden says %d", g->name,
			 skel->bss->probe_ret, g->expect_ret);
	if (g->expect_ret == 0 && memcmp(got, &g->expect, sizeof(*got))) {
		print_key("kernel", &got->key);
		print_key("golden", &g->expect.key);
		fail_msg("%s: kernel parse result differs from the golden packet's", g->name);
	}
	/* The same key must hash the same in the kernel and on the host, whatever the parse said. */
	assert_int_equal(skel->bss->probe_hash, dt_flow_hash(&got->key, PROBE_SEED));
}

static void test_golden_packets_in_kernel(void **state)
{
	struct core_probe *skel = *state;
	unsigned int i, ran = 0;

	for (i = 0; i < dt_golden_packet_count; i++) {
		if (dt_golden_packets[i].len < XDP_MIN_TEST_LEN)
			continue; /* shorter than an Ethernet header: host tests cover these */
		check_golden(skel, &dt_golden_packets[i]);
		ran++;
	}
	printf("# ran %u of %u golden packets in the kernel\n", ran, dt_golden_packet_count);
	assert_true(ran >= dt_golden_packet_count / 2);
}

/* Random keys, including non-zero pad bytes: the hash must match bit for bit. */
static void test_flow_hash_identical_in_kernel(void **state)
{
	static const __u8 frame[64] = { [12] = 0x08, [13] = 0x00 };
	struct core_probe *skel = *state;
	unsigned int i, j;

	srandom(42);
	for (i = 0; i < 5000; i++) {
		__u8 *k = (__u8 *)&skel->bss->probe_key_in;

		for (j = 0; j < sizeof(struct dt_flow_key); j++)
			k[j] = (__u8)random();
		skel->bss->probe_hash = 0;
		probe_run(skel->progs.core_probe_hash, frame, sizeof(frame));
		assert_int_equal(skel->bss->probe_hash,
				 dt_flow_hash(&skel->bss->probe_key_in, PROBE_SEED));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_packets_in_kernel),
		cmocka_unit_test(test_flow_hash_identical_in_kernel),
	};

	return cmocka_run_group_tests_name("core_probe", tests, probe_setup, probe_teardown);
}
