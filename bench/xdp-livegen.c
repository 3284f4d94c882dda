/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xdp-livegen: a fast UDP generator for the forwarding benchmark (bench-e2e.sh forward).
 *
 *   xdp-livegen OBJ IFNAME DST_MAC SRC_MAC SRC_IP DST_IP COUNT
 *
 * Runs xdp_livegen (OBJ) through BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: COUNT 60-byte
 * IPv4/UDP frames to DST_IP port 9, 64 source ports, sent out of IFNAME as xdp_frames. A veth
 * peer then receives them as it would from a driver: no skb and no copy on the way in, which
 * is what a NIC gives XDP. dpdk-testpmd (af_xdp, copy mode) and trafgen reach a veth as skbs,
 * which veth copies again for XDP, and that copy is then what is measured. Stops early on a
 * signal (the kernel checks between frames).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define LIVEGEN_FRAME_LEN 60

struct livegen_frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	unsigned char payload[LIVEGEN_FRAME_LEN - 42];
} __attribute__((packed));

static int parse_mac(const char *s, unsigned char *mac)
{
	int n = sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		       &mac[4], &mac[5]);

	return n == 6 ? 0 : -EINVAL;
}

static __u16 ip_checksum(const void *hdr, size_t len)
{
	const __u16 *w = hdr;
	__u32 sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static int frame__build(struct livegen_frame *f, char **argv)
{
	memset(f, 0, sizeof(*f));
	if (parse_mac(argv[0], f->eth.h_dest) || parse_mac(argv[1], f->eth.h_source) ||
	    inet_pton(AF_INET, argv[2], &f->ip.saddr) != 1 ||
	    inet_pton(AF_INET, argv[3], &f->ip.daddr) != 1)
		return -EINVAL;
	f->eth.h_proto = htons(ETH_P_IP);
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.tot_len = htons(LIVEGEN_FRAME_LEN - sizeof(f->eth));
	f->ip.ttl = 64;
	f->ip.protocol = IPPROTO_UDP;
	f->ip.check = ip_checksum(&f->ip, sizeof(f->ip));
	f->udp.source = htons(40000);
	f->udp.dest = htons(9);
	f->udp.len = htons(LIVEGEN_FRAME_LEN - sizeof(f->eth) - sizeof(f->ip));
	return 0;
}

/* The headers go into the program's .bss (livegen_hdr comes first there): it writes them into
 * every frame it sends. */
static int livegen__set_headers(struct bpf_object *obj, const struct livegen_frame *f)
{
	const size_t hdr_len = offsetof(struct livegen_frame, payload);
	struct bpf_map *map = NULL;
	unsigned char bss[256];
	const char *name;
	const void *init;
	size_t size;

	while ((map = bpf_object__next_map(obj, map))) {
		name = bpf_map__name(map);
		if (strlen(name) >= 4 && !strcmp(name + strlen(name) - 4, ".bss"))
			break;
	}
	init = map ? bpf_map__initial_value(map, &size) : NULL;
	if (!init || size < hdr_len || size > sizeof(bss))
		return -ENOENT;
	memcpy(bss, init, size);
	memcpy(bss, f, hdr_len);
	return bpf_map__set_initial_value(map, bss, size);
}

static int livegen__run(int prog_fd, int ifindex, struct livegen_frame *f, __u32 count)
{
	struct xdp_md ctx_in = { .data_end = sizeof(*f), .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f, .data_size_in = sizeof(*f),
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in), .repeat = count,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);

	return bpf_prog_test_run_opts(prog_fd, &opts) ? -errno : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: xdp-livegen OBJ IFNAME DST_MAC SRC_MAC SRC_IP DST_IP COUNT\n");
}

static int livegen__open(const char *path, const struct livegen_frame *f, struct bpf_object **objp)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	int err = (int)libbpf_get_error(obj);

	if (err) {
		fprintf(stderr, "xdp-livegen: %s: open: %s\n", path, strerror(-err));
		return err;
	}
	err = livegen__set_headers(obj, f) ?: bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "xdp-livegen: %s: load: %s\n", path, strerror(-err));
		bpf_object__close(obj);
		return err;
	}
	*objp = obj;
	return 0;
}

int main(int argc, char **argv)
{
	struct livegen_frame frame;
	struct bpf_program *prog;
	struct bpf_object *obj;
	unsigned long count;
	char *end;
	int ifindex, err;

	if (argc != 8) {
		usage();
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[2]);
	count = strtoul(argv[7], &end, 10);
	if (!ifindex || frame__build(&frame, argv + 3) || *end || !count || count > UINT32_MAX) {
		fprintf(stderr, "xdp-livegen: bad interface %s, address or count\n", argv[2]);
		usage();
		return 2;
	}
	if (livegen__open(argv[1], &frame, &obj))
		return 1;
	prog = bpf_object__find_program_by_name(obj, "xdp_livegen");
	err = prog ? livegen__run(bpf_program__fd(prog), ifindex, &frame, (__u32)count) : -ENOENT;
	if (err && err != -EINTR)
		fprintf(stderr, "xdp-livegen: %s: test run: %s\n", argv[2], strerror(-err));
	bpf_object__close(obj);
	return err && err != -EINTR ? 1 : 0;
}
