// SPDX-License-Identifier: GPL-2.0-only
/*
 * dt-flood: a flood of made-up TCP connections toward one address, as fast as this machine makes
 * frames, for tests/integration/test-flood-drain.sh (and scripts/bench.sh flood through it).
 *
 *   dt-flood IFNAME DST_MAC SRC_MAC DST_IP DPORT FLOWS
 *
 * flood_gen.bpf.c runs through BPF_PROG_RUN in live-frames mode (as bench/xdp-livegen does):
 * 2 x FLOWS frames, for each made-up flow a SYN and then an ACK of the same 5-tuple (what a real
 * handshake shows the edge), from a source in 198.19.0.0/16 and a port both derived from the flow,
 * sent out of IFNAME as xdp_frames: the veth peer receives them as from a driver. Bounded by
 * FLOWS; a signal stops it early (the kernel checks between frames). The TCP checksum is 0:
 * whoever receives one drops it (the edge's XDP program does not look). The last line is one
 * JSON object: frames sent, the rate.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dt_clock.h"
#include "flood_gen.skel.h"

struct flood_frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
	unsigned char pad[6]; /* to the 60-octet Ethernet minimum */
} __attribute__((packed));

_Static_assert(sizeof(struct flood_frame) == 60, "a minimum-size frame");

static int parse_mac(const char *s, unsigned char *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6 ?
		       0 :
		       -EINVAL;
}

/* The SYN of flow 0; the program varies source, port, id, checksum and flags per frame. */
static int frame_init(struct flood_frame *f, char **argv)
{
	struct in_addr dst;

	memset(f, 0, sizeof(*f));
	if (parse_mac(argv[2], f->eth.h_dest) || parse_mac(argv[3], f->eth.h_source) ||
	    inet_pton(AF_INET, argv[4], &dst) != 1)
		return -EINVAL;
	f->eth.h_proto = htons(ETH_P_IP);
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.tot_len = htons(sizeof(f->ip) + sizeof(f->tcp));
	f->ip.ttl = 64;
	f->ip.protocol = IPPROTO_TCP;
	f->ip.saddr = htonl(0xc6130000u); /* 198.19.0.0 */
	f->ip.daddr = dst.s_addr;
	f->tcp.dest = htons((unsigned short)atoi(argv[5]));
	f->tcp.seq = htonl(1);
	f->tcp.doff = 5;
	f->tcp.window = htons(64240);
	return 0;
}

static int flood_run(struct flood_gen *skel, int ifindex, struct flood_frame *f, __u32 frames)
{
	struct xdp_md ctx_in = { .data_end = sizeof(*f), .ingress_ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f, .data_size_in = sizeof(*f),
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in), .repeat = frames,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);

	return bpf_prog_test_run_opts(bpf_program__fd(skel->progs.flood_gen), &opts) ? -errno : 0;
}

/* Only so that a signal interrupts the run (EINTR) instead of ending the process unreported. */
static void on_signal(int sig)
{
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct flood_frame frame;
	struct flood_gen *skel;
	unsigned long flows;
	__u64 start, elapsed;
	__u32 sent;
	int ifindex, err;

	if (argc != 7) {
		fprintf(stderr, "usage: dt-flood IFNAME DST_MAC SRC_MAC DST_IP DPORT FLOWS\n");
		return 2;
	}
	flows = strtoul(argv[6], NULL, 10);
	ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex || !flows || flows > (1ul << 30) || frame_init(&frame, argv)) {
		fprintf(stderr, "dt-flood: bad arguments\n");
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	skel = flood_gen__open_and_load();
	if (!skel) {
		fprintf(stderr, "dt-flood: load: %s\n", strerror(errno));
		return 1;
	}
	memcpy(skel->bss->flood_hdr, &frame, sizeof(skel->bss->flood_hdr));
	skel->bss->flood_seed = (__u32)dt_mono_ns();
	start = dt_mono_ns();
	err = flood_run(skel, ifindex, &frame, (__u32)(2 * flows));
	elapsed = dt_mono_ns() - start;
	sent = skel->bss->flood_seq;
	flood_gen__destroy(skel);
	if (err && err != -EINTR) {
		fprintf(stderr, "dt-flood: run: %s\n", strerror(-err));
		return 1;
	}
	printf("{\"flood_frames\": %u, \"flood_kpps\": %llu}\n", sent,
	       (unsigned long long)(elapsed ? (__u64)sent * 1000000ull / elapsed : 0));
	return 0;
}
