/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer target for too_big.h. Input: CFG_BYTES (the MTU to report and to clamp to), then one
 * frame. A frame that dt_parse_packet() accepts is, on its own exactly sized heap copy with
 * headroom (ASan sees any access outside it):
 *  - answered (dt_icmp_too_big): refused with the frame untouched, or an answer of the predicted
 *    length whose IPv4 header checksum and ICMP / ICMPv6 checksum verify and whose quote is the
 *    packet's first octets;
 *  - clamped (dt_mss_clamp after the route rewrite): at most the two MSS octets and the TCP
 *    checksum change, and the one's complement sum of the segment stays what it was, so a
 *    checksum that verified still does.
 * Any violation abort()s so that libFuzzer reports it with the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/core/parse.h"
#include "dataplane/core/too_big.h"

#define CFG_BYTES 2
#define HEADROOM 66 /* >= the answer's growth (48); 2 mod 4 keeps IP headers aligned */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, what)                                            \
	do {                                                         \
		if (!(cond)) {                                       \
			fprintf(stderr, "fuzz_too_big: %s\n", what); \
			abort();                                     \
		}                                                    \
	} while (0)

/* RFC 1071 from the definition, big-endian words; folded, 0xffff read as 0. */
static uint32_t sum_be(const uint8_t *p, size_t len, uint32_t acc)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc == 0xffff ? 0 : acc;
}

static uint8_t *copy_in(const uint8_t *frame, size_t len, struct dt_host_buf *hb, struct dt_buf *b)
{
	uint8_t *mem = malloc(HEADROOM + len);

	if (!mem)
		return NULL;
	memset(mem, 0x5a, HEADROOM);
	memcpy(mem + HEADROOM, frame, len);
	*hb = (struct dt_host_buf){ mem, HEADROOM, (__u32)len, (__u32)(HEADROOM + len) };
	dt_buf_init(b, hb);
	return mem;
}

static void check_answer(const uint8_t *in, const struct dt_packet *pkt, const uint8_t *out,
			 size_t out_len)
{
	int v6 = pkt->l3_proto == ETH_P_IPV6;
	size_t l2 = pkt->l3_off, ipl = v6 ? 40 : 20, max = v6 ? 1232 : 548;
	size_t quote = pkt->l3_len < max ? pkt->l3_len : max;
	const uint8_t *ip = out + l2, *icmp = ip + ipl;
	uint32_t acc = 0;

	CHECK(out_len == l2 + ipl + 8 + quote, "answer length");
	CHECK(!memcmp(icmp + 8, in + l2, quote), "quote");
	CHECK(!memcmp(out, in + 6, 6) && !memcmp(out + 6, in, 6), "MACs not swapped");
	if (!v6) {
		CHECK(sum_be(ip, 20, 0) == 0, "IPv4 header checksum");
	} else {
		acc = sum_be(ip + 8, 32, 0) + (uint32_t)(8 + quote) + 58;
	}
	CHECK(sum_be(icmp, 8 + quote, acc) == 0, "ICMP checksum");
}

static void run_answer(const uint8_t *frame, size_t len, const struct dt_packet *pkt, __u32 mtu)
{
	struct dt_host_buf hb;
	struct dt_buf b;
	uint8_t *mem = copy_in(frame, len, &hb, &b);
	int ret;

	if (!mem)
		return;
	ret = dt_icmp_too_big(&b, pkt, mtu);
	if (ret == DT_REASON_TOO_BIG_ICMP)
		check_answer(frame, pkt, mem + hb.head, hb.len);
	else
		CHECK(ret < 0 && hb.head == HEADROOM && !memcmp(mem + HEADROOM, frame, len),
		      "refused but modified");
	free(mem);
}

/* The route rewrite, then the clamp: the TCP segment's sum is kept. */
static void run_clamp(const uint8_t *frame, size_t len, const struct dt_packet *pkt, __u16 mtu)
{
	struct dt_site site = { .delivery = DT_DELIVERY_ROUTE, .mtu = mtu };
	size_t ip_hlen = pkt->l4_off - pkt->l3_off, seg = pkt->l3_len - ip_hlen;
	struct dt_host_buf hb;
	struct dt_buf b;
	uint8_t *mem = copy_in(frame, len, &hb, &b), *before;

	if (!mem)
		return;
	if (dt_rewrite_route(&b, pkt, &site) || pkt->key.proto != IPPROTO_TCP || !pkt->l4_off) {
		free(mem);
		return;
	}
	before = malloc(seg);
	if (before) {
		const uint8_t *tcp = mem + hb.head + ETH_HLEN + ip_hlen;
		size_t changed = 0;

		memcpy(before, tcp, seg);
		dt_mss_clamp(&b, pkt, &site);
		for (size_t i = 0; i < seg; i++)
			changed += before[i] != tcp[i];
		CHECK(changed <= 4, "clamp changed more than the MSS and the checksum");
		CHECK(sum_be(before, seg, 0) == sum_be(tcp, seg, 0), "clamp broke the checksum");
		free(before);
	}
	free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dt_packet pkt;
	uint8_t *mem, *frame;
	size_t len;
	__u16 mtu;

	if (size < CFG_BYTES || size - CFG_BYTES > 0xffff)
		return 0;
	len = size - CFG_BYTES;
	mtu = (__u16)(data[0] << 8 | data[1]);
	mem = malloc(len + 2); /* 2 bytes in, as NET_IP_ALIGN */
	if (!mem)
		return 0;
	frame = mem + 2;
	memcpy(frame, data + CFG_BYTES, len);
	if (dt_parse_packet(frame, frame + len, &pkt) == 0) {
		run_answer(frame, len, &pkt, mtu);
		run_clamp(frame, len, &pkt, mtu);
	}
	free(mem);
	return 0;
}
