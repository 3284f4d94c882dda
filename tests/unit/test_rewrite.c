/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rewrite.h, seen from outside: the bytes it leaves in a host buffer and its return codes.
 *
 *  - golden: every vector of tests/golden/rewrite_vectors.h (made by scapy) byte for byte, with
 *    struct dt_packet filled by hand and again by dt_parse_packet();
 *  - invariants: random frames (v4/v6, TCP/UDP, 0-2 VLAN tags, random TTL, TOS, DF) through both
 *    rewrites, then every IPv4 header checksum, every L4 checksum and every length is verified
 *    by a checksum written here from RFC 1071, and each field the design fixes is checked;
 *  - refusals: TTL 0/1, MTU, no headroom, a dt_packet that does not match the frame: the return
 *    code, and the buffer (headroom included) exactly as it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/core/parse.h"
#include "dataplane/core/rewrite.h"
#include "tests/golden/rewrite_vectors.h"

/* 2 mod 4, as NET_IP_ALIGN arranges: IP headers land 4-byte aligned after any number of tags. */
#define HEADROOM 66
#define HEADROOM_FILL 0xa5
#define MAX_FRAME 256
#define RANDOM_ROUNDS 5000
#define SEED 0x9e3779b9u

/* ---- Reference checksums (RFC 1071) ------------------------------------------------------- */

static uint32_t ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i += 2) {
		sum += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
		if (sum > 0xffff)
			sum -= 0xffff;
	}
	return sum;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Sum of the TCP/UDP pseudo-header (RFC 793, RFC 768, RFC 8200 8.1) of the IP header at ip. */
static uint32_t ref_pseudo_sum(const uint8_t *ip, int v6, uint8_t proto, size_t l4_len)
{
	uint8_t tail[4] = { 0, proto, (uint8_t)(l4_len >> 8), (uint8_t)l4_len };

	if (v6)
		return ref_sum(tail, 4, ref_sum(ip + 8, 32, 0));
	return ref_sum(tail, 4, ref_sum(ip + 12, 8, 0));
}

/*
 * Frames start 2 mod 4, as NET_IP_ALIGN arranges, so that IP headers are 4-byte aligned: the core
 * reads them through uapi structs.
 */
struct aligned_frame {
	uint8_t pad[2];
	uint8_t bytes[MAX_FRAME];
} __attribute__((aligned(4)));

/* ---- Host buffers -------------------------------------------------------------------------- */

struct hbuf {
	uint8_t *mem;
	size_t pre; /* bytes before base that put the frame at 2 mod 4 */
	size_t headroom;
	struct dt_host_buf hb;
	struct dt_buf b;
};

/* Exactly sized at the end, so that ASan catches a write past it; the front is checked by value. */
static void hbuf_init(struct hbuf *h, const uint8_t *frame, size_t len, size_t headroom)
{
	h->pre = (2 - headroom) & 3;
	h->mem = malloc(h->pre + headroom + len);
	assert_non_null(h->mem);
	memset(h->mem, HEADROOM_FILL, h->pre + headroom);
	memcpy(h->mem + h->pre + headroom, frame, len);
	h->headroom = headroom;
	h->hb = (struct dt_host_buf){ .base = h->mem + h->pre,
				      .head = (__u32)headroom,
				      .len = (__u32)len,
				      .cap = (__u32)(headroom + len) };
	dt_buf_init(&h->b, &h->hb);
}

static const uint8_t *hbuf_frame(const struct hbuf *h)
{
	assert_ptr_equal(h->b.data, h->hb.base + h->hb.head);
	assert_ptr_equal(h->b.data_end, h->hb.base + h->hb.head + h->hb.len);
	return h->hb.base + h->hb.head;
}

/* A refused frame: same place, same length, same bytes, and the headroom not scribbled on. */
static void hbuf_assert_untouched(const struct hbuf *h, const uint8_t *frame, size_t len)
{
	assert_int_equal(h->hb.head, h->headroom);
	assert_int_equal(h->hb.len, len);
	assert_memory_equal(h->hb.base + h->headroom, frame, len);
	for (size_t i = 0; i < h->pre + h->headroom; i++)
		assert_int_equal(h->mem[i], HEADROOM_FILL);
}

static void hbuf_free(struct hbuf *h)
{
	free(h->mem);
}

/* ---- dt_packet by hand, from the frame's own fields ---------------------------------------- */

static void pkt_by_hand(const uint8_t *f, struct dt_packet *pkt)
{
	size_t type_off = 12;
	const uint8_t *ip;

	memset(pkt, 0, sizeof(*pkt));
	while (get16(f + type_off) == 0x8100 || get16(f + type_off) == 0x88a8) {
		type_off += 4;
		pkt->vlan_depth++;
	}
	pkt->l3_off = (__u16)(type_off + 2);
	pkt->l3_proto = get16(f + type_off);
	ip = f + pkt->l3_off;
	if (pkt->l3_proto == 0x0800) {
		pkt->ttl = ip[8];
		pkt->l3_len = get16(ip + 2);
	} else {
		pkt->ttl = ip[7];
		pkt->l3_len = (__u16)(40 + get16(ip + 4));
	}
}

static int run_rewrite(struct hbuf *h, const struct dt_packet *pkt, const struct dt_site *site,
		       __u32 flow_hash)
{
	if (site->delivery == DT_DELIVERY_ROUTE)
		return dt_rewrite_route(&h->b, pkt, site);
	return dt_encap_ipip(&h->b, pkt, site, flow_hash);
}

static int verify_ip(const uint8_t *ip, size_t len);

/* ---- Golden vectors ------------------------------------------------------------------------ */

static struct dt_site golden_site(const struct dt_rewrite_vector *v)
{
	struct dt_site site = {
		.delivery = v->delivery,
		.tunnel_family = v->tunnel_family,
		.mtu = DT_RV_SITE_MTU,
	};

	memcpy(site.src_mac, dt_rv_site_src_mac, 6);
	memcpy(site.dst_mac, dt_rv_site_dst_mac, 6);
	if (v->tunnel_family == DT_FAMILY_V4) {
		memcpy(site.tunnel_src, dt_rv_tun4_src, 4);
		memcpy(site.tunnel_dst, dt_rv_tun4_dst, 4);
	} else if (v->tunnel_family == DT_FAMILY_V6) {
		memcpy(site.tunnel_src, dt_rv_tun6_src, 16);
		memcpy(site.tunnel_dst, dt_rv_tun6_dst, 16);
	}
	return site;
}

static void dump(const char *what, const uint8_t *p, size_t len)
{
	printf("# %s (%zu):", what, len);
	for (size_t i = 0; i < len; i++)
		printf("%s%02x", i % 16 ? " " : "\n#   ", p[i]);
	printf("\n");
}

static void check_golden(const struct dt_rewrite_vector *v, const struct dt_packet *pkt)
{
	struct dt_site site = golden_site(v);
	struct hbuf h;
	int err;

	hbuf_init(&h, v->in, v->in_len, HEADROOM);
	err = run_rewrite(&h, pkt, &site, DT_RV_FLOW_HASH);
	if (err || h.hb.len != v->out_len || memcmp(hbuf_frame(&h), v->out, v->out_len)) {
		printf("# vector %s: rc %d\n", v->name, err);
		dump("got", hbuf_frame(&h), h.hb.len);
		dump("expected", v->out, v->out_len);
		fail_msg("vector %s differs", v->name);
	}
	assert_int_equal(verify_ip(hbuf_frame(&h) + 14, h.hb.len - 14),
			 v->delivery == DT_DELIVERY_IPIP ? 2 : 1);
	hbuf_free(&h);
}

static void test_golden_pkt_by_hand(void **state)
{
	for (size_t i = 0; i < sizeof(dt_rewrite_vectors) / sizeof(dt_rewrite_vectors[0]); i++) {
		const struct dt_rewrite_vector *v = &dt_rewrite_vectors[i];
		struct dt_packet pkt;

		pkt_by_hand(v->in, &pkt);
		check_golden(v, &pkt);
	}
}

/* The same through the real parser; its view of L2/L3 must agree with the frame's fields. */
static void test_golden_pkt_parsed(void **state)
{
	for (size_t i = 0; i < sizeof(dt_rewrite_vectors) / sizeof(dt_rewrite_vectors[0]); i++) {
		const struct dt_rewrite_vector *v = &dt_rewrite_vectors[i];
		struct aligned_frame af;
		uint8_t *frame = af.bytes;
		struct dt_packet parsed, by_hand;

		memcpy(frame, v->in, v->in_len);
		assert_int_equal(dt_parse_packet(frame, frame + v->in_len, &parsed), 0);
		pkt_by_hand(v->in, &by_hand);
		assert_int_equal(parsed.l3_off, by_hand.l3_off);
		assert_int_equal(parsed.l3_proto, by_hand.l3_proto);
		assert_int_equal(parsed.l3_len, by_hand.l3_len);
		assert_int_equal(parsed.vlan_depth, by_hand.vlan_depth);
		assert_int_equal(parsed.ttl, by_hand.ttl);
		check_golden(v, &parsed);
	}
}

/* ---- Random frames ------------------------------------------------------------------------- */

static uint32_t rng_state = SEED;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void rnd_fill(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

struct frame_spec {
	int v6;
	int vlans;
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t ttl;
	uint8_t tos; /* IPv4 TOS or IPv6 traffic class */
	int df;
	size_t payload;
};

static void random_spec(struct frame_spec *s)
{
	s->v6 = rnd() & 1;
	s->vlans = (int)(rnd() % 3);
	s->proto = rnd() & 1 ? IPPROTO_TCP : IPPROTO_UDP;
	s->ttl = (uint8_t)rnd();
	s->tos = (uint8_t)rnd();
	s->df = rnd() & 1;
	s->payload = rnd() % 100;
}

/* L4 header and payload, with a checksum a real sender would have put there. */
static size_t build_l4(uint8_t *ip, uint8_t *l4, const struct frame_spec *s)
{
	size_t hlen = s->proto == IPPROTO_TCP ? 20 : 8, len = hlen + s->payload;
	size_t csum_off = s->proto == IPPROTO_TCP ? 16 : 6;
	uint16_t csum;

	rnd_fill(l4, len);
	if (s->proto == IPPROTO_TCP)
		l4[12] = 0x50; /* data offset 5 */
	else
		put16(l4 + 4, (uint16_t)len);
	put16(l4 + csum_off, 0);
	csum = (uint16_t)~ref_sum(l4, len, ref_pseudo_sum(ip, s->v6, s->proto, len));
	put16(l4 + csum_off, s->proto == IPPROTO_UDP && csum == 0 ? 0xffff : csum);
	return len;
}

static size_t build_ip(uint8_t *ip, const struct frame_spec *s)
{
	size_t l4_len;

	if (s->v6) {
		rnd_fill(ip, 40);
		ip[0] = (uint8_t)(0x60 | s->tos >> 4);
		ip[1] = (uint8_t)(s->tos << 4 | (ip[1] & 0x0f));
		ip[6] = s->proto;
		ip[7] = s->ttl;
		l4_len = build_l4(ip, ip + 40, s);
		put16(ip + 4, (uint16_t)l4_len);
		return 40 + l4_len;
	}
	rnd_fill(ip, 20);
	ip[0] = 0x45;
	ip[1] = s->tos;
	put16(ip + 6, s->df ? 0x4000 : 0);
	ip[8] = s->ttl;
	ip[9] = s->proto;
	l4_len = build_l4(ip, ip + 20, s);
	put16(ip + 2, (uint16_t)(20 + l4_len));
	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~ref_sum(ip, 20, 0));
	return 20 + l4_len;
}

static size_t build_frame(uint8_t *f, const struct frame_spec *s)
{
	size_t off = 12;

	rnd_fill(f, 12);
	for (int i = 0; i < s->vlans; i++, off += 4) {
		put16(f + off, i == 0 && s->vlans == 2 ? 0x88a8 : 0x8100);
		put16(f + off + 2, (uint16_t)(rnd() & 0xefff));
	}
	put16(f + off, s->v6 ? 0x86dd : 0x0800);
	return off + 2 + build_ip(f + off + 2, s);
}

static void random_site(struct dt_site *site, int ipip)
{
	memset(site, 0, sizeof(*site));
	site->delivery = ipip ? DT_DELIVERY_IPIP : DT_DELIVERY_ROUTE;
	site->tunnel_family = ipip ? (rnd() & 1 ? DT_FAMILY_V4 : DT_FAMILY_V6) : DT_FAMILY_NONE;
	site->mtu = rnd() & 1 ? 0 : 1500;
	rnd_fill(site->src_mac, 6);
	rnd_fill(site->dst_mac, 6);
	rnd_fill((uint8_t *)site->tunnel_src, sizeof(site->tunnel_src));
	rnd_fill((uint8_t *)site->tunnel_dst, sizeof(site->tunnel_dst));
}

/* ---- Independent verification of a rewritten frame ----------------------------------------- */

static void verify_l4(const uint8_t *ip, int v6, uint8_t proto, const uint8_t *l4, size_t len)
{
	size_t csum_off = proto == IPPROTO_TCP ? 16 : 6;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return;
	if (proto == IPPROTO_UDP && !v6 && get16(l4 + csum_off) == 0)
		return; /* no checksum */
	assert_int_equal(ref_sum(l4, len, ref_pseudo_sum(ip, v6, proto, len)), 0xffff);
}

/*
 * An IP packet of exactly len bytes: header checksum, lengths, L4 checksum; an encapsulated one
 * is verified the same way, one level down. Returns the depth of IP headers found.
 */
static int verify_ip(const uint8_t *ip, size_t len)
{
	int v6 = ip[0] >> 4 == 6;
	size_t hlen = v6 ? 40 : (size_t)(ip[0] & 0x0f) * 4;
	uint8_t proto = v6 ? ip[6] : ip[9];

	assert_true(len >= hlen);
	if (v6) {
		assert_int_equal(40 + get16(ip + 4), len);
	} else {
		assert_int_equal(ip[0] >> 4, 4);
		assert_int_equal(get16(ip + 2), len);
		assert_int_equal(ref_sum(ip, hlen, 0), 0xffff);
	}
	if (proto == IPPROTO_IPIP || proto == IPPROTO_IPV6) {
		assert_int_equal(ip[hlen] >> 4, proto == IPPROTO_IPIP ? 4 : 6);
		return 1 + verify_ip(ip + hlen, len - hlen);
	}
	verify_l4(ip, v6, proto, ip + hlen, len - hlen);
	return 1;
}

/* Traffic class of the IP header at ip, by its own layout. */
static uint8_t ip_tos(const uint8_t *ip)
{
	return ip[0] >> 4 == 6 ? (uint8_t)(ip[0] << 4 | ip[1] >> 4) : ip[1];
}

static void verify_inner(const uint8_t *inner, const uint8_t *orig_ip, size_t ip_len)
{
	int v6 = orig_ip[0] >> 4 == 6;
	size_t ttl_off = v6 ? 7 : 8;

	assert_int_equal(inner[ttl_off], orig_ip[ttl_off] - 1);
	for (size_t i = 0; i < ip_len; i++)
		if (i != ttl_off && (v6 || (i != 10 && i != 11)))
			assert_int_equal(inner[i], orig_ip[i]);
}

static void verify_outer_v4(const uint8_t *outer, const struct dt_site *site, const uint8_t *orig)
{
	int df_expected = orig[0] >> 4 == 6 || (get16(orig + 6) & 0x4000);

	assert_int_equal(outer[0], 0x45);
	assert_int_equal(outer[1], ip_tos(orig));
	assert_int_equal(get16(outer + 4), 0); /* id */
	assert_int_equal(get16(outer + 6), df_expected ? 0x4000 : 0);
	assert_int_equal(outer[8], 64);
	assert_int_equal(outer[9], orig[0] >> 4 == 6 ? 41 : 4);
	assert_memory_equal(outer + 12, site->tunnel_src, 4);
	assert_memory_equal(outer + 16, site->tunnel_dst, 4);
}

static void verify_outer_v6(const uint8_t *outer, const struct dt_site *site, const uint8_t *orig,
			    uint32_t flow_hash)
{
	uint32_t word0 = (uint32_t)outer[0] << 24 | outer[1] << 16 | outer[2] << 8 | outer[3];

	assert_int_equal(word0 >> 28, 6);
	assert_int_equal((word0 >> 20) & 0xff, ip_tos(orig));
	assert_int_equal(word0 & 0xfffff, flow_hash & 0xfffff);
	assert_int_equal(outer[6], orig[0] >> 4 == 6 ? 41 : 4);
	assert_int_equal(outer[7], 64);
	assert_memory_equal(outer + 8, site->tunnel_src, 16);
	assert_memory_equal(outer + 24, site->tunnel_dst, 16);
}

static void verify_rewritten(const uint8_t *out, size_t out_len, const uint8_t *orig_ip,
			     size_t ip_len, const struct dt_site *site, uint32_t flow_hash)
{
	int ipip = site->delivery == DT_DELIVERY_IPIP;
	size_t outer_len = !ipip ? 0 : site->tunnel_family == DT_FAMILY_V4 ? 20 : 40;
	const uint8_t *l3 = out + 14;

	assert_int_equal(out_len, 14 + outer_len + ip_len);
	assert_memory_equal(out, site->dst_mac, 6);
	assert_memory_equal(out + 6, site->src_mac, 6);
	assert_int_equal(get16(out + 12), (l3[0] >> 4) == 6 ? 0x86dd : 0x0800);
	assert_int_equal(verify_ip(l3, out_len - 14), ipip ? 2 : 1);
	verify_inner(l3 + outer_len, orig_ip, ip_len);
	if (ipip && outer_len == 20)
		verify_outer_v4(l3, site, orig_ip);
	else if (ipip)
		verify_outer_v6(l3, site, orig_ip, flow_hash);
}

static void check_random_frame(int ipip)
{
	struct aligned_frame af;
	uint8_t *frame = af.bytes;
	struct frame_spec spec;
	struct dt_packet pkt;
	struct dt_site site;
	uint32_t flow_hash = rnd();
	struct hbuf h;
	size_t len;
	int err;

	random_spec(&spec);
	random_site(&site, ipip);
	len = build_frame(frame, &spec);
	assert_int_equal(dt_parse_packet(frame, frame + len, &pkt), 0);
	hbuf_init(&h, frame, len, HEADROOM);
	err = run_rewrite(&h, &pkt, &site, flow_hash);
	if (spec.ttl <= 1) {
		assert_int_equal(err, -DT_REASON_TTL_EXPIRED);
		hbuf_assert_untouched(&h, frame, len);
	} else {
		assert_int_equal(err, 0);
		verify_rewritten(hbuf_frame(&h), h.hb.len, frame + pkt.l3_off, pkt.l3_len, &site,
				 flow_hash);
	}
	hbuf_free(&h);
}

static void test_random_route(void **state)
{
	for (int n = 0; n < RANDOM_ROUNDS; n++)
		check_random_frame(0);
}

static void test_random_ipip(void **state)
{
	for (int n = 0; n < RANDOM_ROUNDS; n++)
		check_random_frame(1);
}

/* ---- Refusals leave the frame as it came ---------------------------------------------------- */

/* Each (delivery, outer family) the helpers know. */
static const struct {
	__u8 delivery, family;
} modes[] = {
	{ DT_DELIVERY_ROUTE, DT_FAMILY_NONE },
	{ DT_DELIVERY_IPIP, DT_FAMILY_V4 },
	{ DT_DELIVERY_IPIP, DT_FAMILY_V6 },
};

#define N_MODES (sizeof(modes) / sizeof(modes[0]))

static size_t frame_for(uint8_t *frame, int v6, int vlans, uint8_t ttl)
{
	struct frame_spec spec = { .v6 = v6,
				   .vlans = vlans,
				   .proto = IPPROTO_UDP,
				   .ttl = ttl,
				   .tos = 0x10,
				   .df = 1,
				   .payload = 40 };

	return build_frame(frame, &spec);
}

static struct dt_site site_for(size_t mode, __u16 mtu)
{
	struct dt_site site;

	random_site(&site, modes[mode].delivery == DT_DELIVERY_IPIP);
	site.tunnel_family = modes[mode].family;
	site.mtu = mtu;
	return site;
}

/* Run one rewrite that must be refused with reason; the buffer must come back untouched. */
static void expect_refused(const uint8_t *frame, size_t len, const struct dt_packet *pkt,
			   const struct dt_site *site, size_t headroom, int reason)
{
	struct hbuf h;

	hbuf_init(&h, frame, len, headroom);
	assert_int_equal(run_rewrite(&h, pkt, site, 0x12345), -reason);
	hbuf_assert_untouched(&h, frame, len);
	hbuf_free(&h);
}

static void test_ttl_expired(void **state)
{
	static const uint8_t ttls[] = { 0, 1 };
	uint8_t frame[MAX_FRAME];
	struct dt_packet pkt;

	for (size_t m = 0; m < N_MODES; m++)
		for (int v6 = 0; v6 < 2; v6++)
			for (size_t t = 0; t < sizeof(ttls); t++) {
				struct dt_site site = site_for(m, 1500);
				size_t len = frame_for(frame, v6, 1, ttls[t]);

				pkt_by_hand(frame, &pkt);
				expect_refused(frame, len, &pkt, &site, HEADROOM,
					       DT_REASON_TTL_EXPIRED);
			}
}

/* An MTU exactly the resulting IP size passes; one byte less is refused. */
static void test_mtu(void **state)
{
	uint8_t frame[MAX_FRAME];
	struct dt_packet pkt;

	for (size_t m = 0; m < N_MODES; m++)
		for (int v6 = 0; v6 < 2; v6++) {
			size_t len = frame_for(frame, v6, 2, 64);
			struct dt_site site;
			struct hbuf h;
			__u16 need;

			pkt_by_hand(frame, &pkt);
			need = (__u16)(pkt.l3_len + (m == 0 ? 0 : m == 1 ? 20 : 40));
			site = site_for(m, (__u16)(need - 1));
			expect_refused(frame, len, &pkt, &site, HEADROOM, DT_REASON_MTU_EXCEEDED);
			site.mtu = need;
			hbuf_init(&h, frame, len, HEADROOM);
			assert_int_equal(run_rewrite(&h, &pkt, &site, 0), 0);
			hbuf_free(&h);
		}
}

/* ipip needs outer - (L2 - 14) bytes in front; one fewer and the adjust fails, cleanly. */
static void test_headroom_too_small(void **state)
{
	uint8_t frame[MAX_FRAME];
	struct dt_packet pkt;

	for (size_t m = 1; m < N_MODES; m++)
		for (int vlans = 0; vlans <= 2; vlans++) {
			size_t len = frame_for(frame, vlans & 1, vlans, 64);
			size_t growth = (m == 1 ? 20 : 40) - 4 * (size_t)vlans;
			struct dt_site site = site_for(m, 0);
			struct hbuf h;

			pkt_by_hand(frame, &pkt);
			expect_refused(frame, len, &pkt, &site, 0, DT_REASON_ADJUST_FAILED);
			expect_refused(frame, len, &pkt, &site, growth - 1,
				       DT_REASON_ADJUST_FAILED);
			hbuf_init(&h, frame, len, growth);
			assert_int_equal(run_rewrite(&h, &pkt, &site, 0), 0);
			assert_int_equal(h.hb.head, 0);
			hbuf_free(&h);
		}
}

/* A dt_packet that does not describe the frame is refused before anything moves. */
static void test_packet_mismatch(void **state)
{
	uint8_t frame[MAX_FRAME];
	struct dt_packet good, bad;

	for (size_t m = 0; m < N_MODES; m++)
		for (int v6 = 0; v6 < 2; v6++) {
			size_t len = frame_for(frame, v6, 1, 64);
			struct dt_site site = site_for(m, 0);

			pkt_by_hand(frame, &good);
			bad = good, bad.l3_len = (__u16)(len - good.l3_off + 1); /* past the end */
			expect_refused(frame, len, &bad, &site, HEADROOM, DT_REASON_TRUNCATED);
			bad = good, bad.l3_len = (__u16)(good.l3_len - 1); /* header disagrees */
			expect_refused(frame, len, &bad, &site, HEADROOM, DT_REASON_TRUNCATED);
			bad = good, bad.l3_off = (__u16)(good.l3_off + 4);
			expect_refused(frame, len, &bad, &site, HEADROOM, DT_REASON_TRUNCATED);
			bad = good, bad.vlan_depth = 3, bad.l3_off = 26;
			expect_refused(frame, len, &bad, &site, HEADROOM, DT_REASON_TRUNCATED);
			bad = good, bad.l3_proto = v6 ? 0x0800 : 0x86dd; /* wrong version */
			expect_refused(frame, len, &bad, &site, HEADROOM, DT_REASON_TRUNCATED);
			bad = good, bad.ttl = 65; /* not what the header says */
			expect_refused(frame, len, &bad, &site, HEADROOM, DT_REASON_TRUNCATED);
			bad = good, bad.l3_proto = 0x0806;
			expect_refused(frame, len, &bad, &site, HEADROOM, DT_REASON_NOT_IP);
		}
}

/* A frame cut inside its own IP header, with a dt_packet that believes it is whole. */
static void test_truncated_frame(void **state)
{
	uint8_t frame[MAX_FRAME];
	struct dt_packet pkt;

	for (size_t m = 0; m < N_MODES; m++)
		for (int v6 = 0; v6 < 2; v6++) {
			size_t len = frame_for(frame, v6, 0, 64);
			struct dt_site site = site_for(m, 0);

			pkt_by_hand(frame, &pkt);
			for (size_t cut = 0; cut < len; cut += 7)
				expect_refused(frame, cut, &pkt, &site, HEADROOM,
					       DT_REASON_TRUNCATED);
		}
}

static void test_unknown_tunnel_family(void **state)
{
	uint8_t frame[MAX_FRAME];
	size_t len = frame_for(frame, 0, 0, 64);
	struct dt_site site = site_for(1, 0);
	struct dt_packet pkt;

	site.tunnel_family = DT_FAMILY_NONE;
	pkt_by_hand(frame, &pkt);
	expect_refused(frame, len, &pkt, &site, HEADROOM, DT_REASON_NO_SITE_CONFIG);
}

/* RFC 6438: the flow label is the low 20 bits of the hash, whatever the upper bits hold. */
static void test_flow_label(void **state)
{
	static const uint32_t hashes[] = { 0, 1, 0xfffff, 0x100000, 0xffffffffu, 0xabc12345u };
	uint8_t frame[MAX_FRAME];
	size_t len = frame_for(frame, 1, 0, 64);
	struct dt_site site = site_for(2, 0);
	struct dt_packet pkt;

	pkt_by_hand(frame, &pkt);
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
		struct hbuf h;
		const uint8_t *out;

		hbuf_init(&h, frame, len, HEADROOM);
		assert_int_equal(dt_encap_ipip(&h.b, &pkt, &site, hashes[i]), 0);
		out = hbuf_frame(&h) + 14;
		assert_int_equal((uint32_t)(out[1] & 0x0f) << 16 | get16(out + 2),
				 hashes[i] & 0xfffff);
		hbuf_free(&h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_pkt_by_hand),
		cmocka_unit_test(test_golden_pkt_parsed),
		cmocka_unit_test(test_random_route),
		cmocka_unit_test(test_random_ipip),
		cmocka_unit_test(test_ttl_expired),
		cmocka_unit_test(test_mtu),
		cmocka_unit_test(test_headroom_too_small),
		cmocka_unit_test(test_packet_mismatch),
		cmocka_unit_test(test_truncated_frame),
		cmocka_unit_test(test_unknown_tunnel_family),
		cmocka_unit_test(test_flow_label),
	};

	printf("# test_rewrite: xorshift seed 0x%08x\n", SEED);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
