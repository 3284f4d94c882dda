/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer target for rewrite.h. Input: CFG_BYTES of site configuration, then one frame. A frame
 * that dt_parse_packet() accepts goes through dt_rewrite_route() and dt_encap_ipip(), each on its
 * own exactly sized heap copy with headroom, so ASan sees any access outside the frame. Then:
 *  - refused (non-zero): the buffer is exactly as it was (bytes, head and headroom);
 *  - refused as TRUNCATED: the parser accepted what the rewrite calls inconsistent - a bug in
 *    one of them;
 *  - done: the output parses again, its length is what the mode predicts, the outer IPv4 header
 *    checksum verifies, and the inner one verifies if it did before (the input is not required
 *    to carry a valid checksum).
 * Any violation abort()s so that libFuzzer reports it with the input.
 *
 * Build by hand: clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *   -idirafter /usr/include/x86_64-linux-gnu tests/fuzz/fuzz_rewrite.c -o /tmp/fuzz_rewrite
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/core/parse.h"
#include "dataplane/core/rewrite.h"

#define CFG_BYTES 4
#define HEADROOM 66 /* >= the largest growth (40); 2 mod 4 keeps IP headers aligned */
#define HEADROOM_FILL 0x5a

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, what)                                                           \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz_rewrite: %s: %s\n", mode_name, what); \
			abort();                                                    \
		}                                                                   \
	} while (0)

/* Site from the configuration bytes: outer family, MTU (0 = unchecked) and the flow hash. */
static void site_from(const uint8_t *cfg, struct dt_site *site, __u32 *flow_hash)
{
	static const __u8 t6s[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 1 };
	static const __u8 t6d[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 2 };
	static const __u8 t4s[16] = { 198, 18, 0, 1 }, t4d[16] = { 198, 19, 0, 1 };

	memset(site, 0, sizeof(*site));
	site->tunnel_family = cfg[0] & 1 ? DT_FAMILY_V6 : DT_FAMILY_V4;
	site->mtu = cfg[0] & 2 ? (__u16)(cfg[1] << 8 | cfg[2]) : 0;
	memcpy(site->src_mac, "\x02\x00\x5e\x20\x00\x01", 6);
	memcpy(site->dst_mac, "\x02\x00\x5e\x20\x00\x02", 6);
	memcpy(site->tunnel_src, site->tunnel_family == DT_FAMILY_V6 ? t6s : t4s, 16);
	memcpy(site->tunnel_dst, site->tunnel_family == DT_FAMILY_V6 ? t6d : t4d, 16);
	*flow_hash = (__u32)cfg[0] << 24 | (__u32)cfg[1] << 16 | (__u32)cfg[2] << 8 | cfg[3];
}

/* RFC 1071 over an IPv4 header of ihl words, byte by byte: 0xffff when it verifies. */
static int ipv4_header_verifies(const uint8_t *ip, size_t avail)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
	uint32_t sum = 0;

	if (hlen < 20 || hlen > avail)
		return 0;
	for (size_t i = 0; i < hlen; i += 2) {
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum == 0xffff;
}

struct run {
	const char *mode_name;
	const uint8_t *frame;
	size_t len;
	const struct dt_packet *pkt;
	int inner_csum_ok; /* the input's IPv4 header verified */
};

/* Output of a successful rewrite: parses, has the predicted size, checksums verify. */
static void check_output(const struct run *r, const uint8_t *out, size_t out_len, size_t outer)
{
	const char *mode_name = r->mode_name;
	struct dt_packet again;
	const uint8_t *inner = out + ETH_HLEN + outer;

	CHECK(out_len == r->len - r->pkt->l3_off + ETH_HLEN + outer, "unexpected output length");
	CHECK(dt_parse_packet((void *)out, (void *)(out + out_len), &again) == 0,
	      "output does not parse");
	if (outer == DT_IPV4_HLEN)
		CHECK(ipv4_header_verifies(out + ETH_HLEN, out_len - ETH_HLEN),
		      "outer IPv4 checksum");
	if (r->pkt->l3_proto == ETH_P_IP && r->inner_csum_ok)
		CHECK(ipv4_header_verifies(inner, out_len - ETH_HLEN - outer),
		      "inner IPv4 checksum");
}

static void run_one(const struct run *r, const struct dt_site *site, int ipip, __u32 flow_hash)
{
	const char *mode_name = r->mode_name;
	uint8_t *mem = malloc(HEADROOM + r->len);
	struct dt_host_buf hb = { mem, HEADROOM, (__u32)r->len, (__u32)(HEADROOM + r->len) };
	struct dt_buf b;
	size_t outer = 0;
	int err;

	if (!mem)
		return;
	memset(mem, HEADROOM_FILL, HEADROOM);
	memcpy(mem + HEADROOM, r->frame, r->len);
	dt_buf_init(&b, &hb);
	if (ipip) {
		err = dt_encap_ipip(&b, r->pkt, site, flow_hash);
		outer = site->tunnel_family == DT_FAMILY_V6 ? DT_IPV6_HLEN : DT_IPV4_HLEN;
	} else {
		err = dt_rewrite_route(&b, r->pkt, site);
	}
	if (err) {
		CHECK(err != -DT_REASON_TRUNCATED, "parser accepted what the rewrite refuses");
		CHECK(hb.head == HEADROOM && hb.len == r->len, "refused but moved");
		CHECK(!memcmp(mem + HEADROOM, r->frame, r->len), "refused but modified");
		for (size_t i = 0; i < HEADROOM; i++)
			CHECK(mem[i] == HEADROOM_FILL, "refused but wrote the headroom");
	} else {
		CHECK(b.data == mem + hb.head && b.data_end == mem + hb.head + hb.len,
		      "stale dt_buf");
		check_output(r, mem + hb.head, hb.len, outer);
	}
	free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dt_packet pkt;
	struct dt_site site;
	__u32 flow_hash;
	uint8_t *mem, *frame;
	size_t len;

	if (size < CFG_BYTES || size - CFG_BYTES > 0xffff)
		return 0;
	len = size - CFG_BYTES;
	/* 2 bytes in, as NET_IP_ALIGN: the core reads IP headers through 4-aligned uapi structs. */
	mem = malloc(len + 2);
	if (!mem)
		return 0;
	frame = mem + 2;
	memcpy(frame, data + CFG_BYTES, len);
	if (dt_parse_packet(frame, frame + len, &pkt) == 0) {
		struct run r = { "route", frame, len, &pkt, 0 };

		if (pkt.l3_proto == ETH_P_IP)
			r.inner_csum_ok =
				ipv4_header_verifies(frame + pkt.l3_off, len - pkt.l3_off);
		site_from(data, &site, &flow_hash);
		site.delivery = DT_DELIVERY_ROUTE;
		run_one(&r, &site, 0, flow_hash);
		r.mode_name = "ipip";
		site.delivery = DT_DELIVERY_IPIP;
		run_one(&r, &site, 1, flow_hash);
	}
	free(mem);
	return 0;
}
