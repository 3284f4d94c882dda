// SPDX-License-Identifier: GPL-2.0-only
/*
 * hb-flood: heartbeats with a valid header and a wrong MAC, as fast as this machine makes
 * frames, for tests/daemon/test-daemon-flood.sh.
 *
 *   hb-flood IFNAME DST_MAC SRC_MAC SRC_IP PORT COUNT DST_IP/SITE [DST_IP/SITE]
 *
 * hb_flood_gen.bpf.c runs through BPF_PROG_RUN in live-frames mode (as tests/integration/dt_flood
 * does): COUNT frames from SRC_MAC and SRC_IP to DST_MAC, each a version 2 heartbeat (beacon 0,
 * key 0, fresh sequence numbers) sealed with a random key, to DST_IP:PORT naming site SITE; with
 * two targets, frames alternate between them. Sent out of IFNAME as xdp_frames: the veth peer
 * receives them as from a driver. The UDP checksum
 * is 0 (none, allowed for IPv4). Bounded by COUNT; a signal stops it early. The last line is
 * one JSON object: frames sent, the rate.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sodium.h>

#include "dt_clock.h"
#include "hb.h"
#include "hb_flood_gen.skel.h"

struct hb_flood_frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	uint8_t hb[HB_WIRE_LEN];
} __attribute__((packed));

_Static_assert(sizeof(struct hb_flood_frame) == 106, "the generator's frame length");

static int parse_mac(const char *s, unsigned char *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6 ?
		       0 :
		       -EINVAL;
}

static uint16_t ip_checksum(const void *hdr)
{
	const uint8_t *p = hdr;
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* The frame for target "DST_IP/SITE". */
static int frame_init(struct hb_flood_frame *f, char **argv, const char *target)
{
	const char *slash = strchr(target, '/');
	char dst_text[INET_ADDRSTRLEN] = "";
	uint8_t key[HB_KEY_BYTES];
	struct in_addr src, dst;
	struct hb_msg m = {
		.site_id = (uint16_t)(slash ? atoi(slash + 1) : 0),
		.epoch = (uint64_t)time(NULL) << 20,
		.seq = 1,
		.sent_ns = (uint64_t)time(NULL) * 1000000000ull,
		.interval_us = 5000,
		.power_flags = DT_POWER_MAINS,
	};

	memset(f, 0, sizeof(*f));
	if (slash && (size_t)(slash - target) < sizeof(dst_text))
		memcpy(dst_text, target, (size_t)(slash - target));
	if (!slash || parse_mac(argv[2], f->eth.h_dest) || parse_mac(argv[3], f->eth.h_source) ||
	    inet_pton(AF_INET, argv[4], &src) != 1 || inet_pton(AF_INET, dst_text, &dst) != 1 ||
	    sodium_init() < 0)
		return -EINVAL;
	f->eth.h_proto = htons(ETH_P_IP);
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.tot_len = htons(sizeof(f->ip) + sizeof(f->udp) + sizeof(f->hb));
	f->ip.ttl = 64;
	f->ip.protocol = IPPROTO_UDP;
	f->ip.saddr = src.s_addr;
	f->ip.daddr = dst.s_addr;
	f->ip.check = ip_checksum(&f->ip);
	f->udp.source = htons(40000);
	f->udp.dest = htons((uint16_t)atoi(argv[5]));
	f->udp.len = htons(sizeof(f->udp) + sizeof(f->hb));
	hb_encode(&m, f->hb);
	randombytes_buf(key, sizeof(key));
	hb_seal(f->hb, key); /* a key detourd does not have: bad-mac, after a BLAKE2b */
	return 0;
}

static int flood_run(struct hb_flood_gen *skel, int ifindex, struct hb_flood_frame *f, __u32 frames)
{
	struct xdp_md ctx_in = { .data_end = sizeof(*f), .ingress_ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f, .data_size_in = sizeof(*f),
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in), .repeat = frames,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);

	return bpf_prog_test_run_opts(bpf_program__fd(skel->progs.hb_flood_gen), &opts) ? -errno :
											  0;
}

/* Only so that a signal interrupts the run (EINTR) instead of ending the process unreported. */
static void on_signal(int sig)
{
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct hb_flood_frame frame[2];
	struct hb_flood_gen *skel;
	unsigned long count;
	__u64 start, elapsed;
	__u32 sent;
	int ifindex, err, n = argc - 7;

	if (n < 1 || n > 2) {
		fprintf(stderr, "usage: hb-flood IFNAME DST_MAC SRC_MAC SRC_IP PORT COUNT "
				"DST_IP/SITE [DST_IP/SITE]\n");
		return 2;
	}
	count = strtoul(argv[6], NULL, 10);
	ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex || !count || count > (1ul << 30) || frame_init(&frame[0], argv, argv[7]) ||
	    frame_init(&frame[1], argv, argv[n == 2 ? 8 : 7])) {
		fprintf(stderr, "hb-flood: bad arguments\n");
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	skel = hb_flood_gen__open_and_load();
	if (!skel) {
		fprintf(stderr, "hb-flood: load: %s\n", strerror(errno));
		return 1;
	}
	_Static_assert(sizeof(skel->bss->hb_flood_frame) == sizeof(frame), "two frames");
	memcpy(skel->bss->hb_flood_frame, frame, sizeof(frame));
	start = dt_mono_ns();
	err = flood_run(skel, ifindex, &frame[0], (__u32)count);
	elapsed = dt_mono_ns() - start;
	sent = skel->bss->hb_flood_sent;
	hb_flood_gen__destroy(skel);
	if (err && err != -EINTR) {
		fprintf(stderr, "hb-flood: run: %s\n", strerror(-err));
		return 1;
	}
	printf("{\"flood_frames\": %u, \"flood_kpps\": %llu}\n", sent,
	       (unsigned long long)(elapsed ? (__u64)sent * 1000000ull / elapsed : 0));
	return 0;
}
