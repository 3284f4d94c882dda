/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Build test packets byte by byte, with checksums computed from their definitions (RFC 791/793/768,
 * RFC 8200 pseudo-header), independently of the packet core that the tests examine.
 */
#ifndef DT_TEST_PACKETS_H
#define DT_TEST_PACKETS_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define PKT_MAX 1600

struct pkt_spec {
	int family; /* 4 or 6 */
	uint8_t proto; /* 6 TCP, 17 UDP, 1/58 ICMP echo */
	int vlans; /* 0, 1 or 2 */
	uint8_t tcp_flags;
	uint8_t ttl; /* 0 means 64 */
	const char *src, *dst;
	uint16_t sport, dport;
	unsigned int payload; /* bytes of payload after the L4 header */
	bool df;
};

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071, from the definition: the ones' complement of the ones' complement sum. */
static inline uint32_t sum16(const uint8_t *p, unsigned int len, uint32_t acc)
{
	unsigned int i;

	for (i = 0; i + 1 < len; i += 2)
		acc += get16(p + i);
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	return acc;
}

static inline uint16_t fold16(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* Checksum of an L4 segment with its pseudo-header; the segment's checksum field must be 0. */
static inline uint16_t l4_checksum(int family, const uint8_t *l3, const uint8_t *l4,
				   unsigned int l4_len, uint8_t proto)
{
	uint32_t acc = 0;

	if (family == 4)
		acc = sum16(l3 + 12, 8, 0);
	else
		acc = sum16(l3 + 8, 32, 0);
	acc += proto + l4_len;
	acc = sum16(l4, l4_len, acc);
	return fold16(acc);
}

static inline unsigned int l4_header_len(uint8_t proto)
{
	return proto == 6 ? 20 : 8;
}

static inline void l4_write(uint8_t *l4, const struct pkt_spec *s, unsigned int l4_len)
{
	memset(l4, 0, l4_header_len(s->proto));
	if (s->proto == 6 || s->proto == 17) {
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
	}
	if (s->proto == 6) {
		l4[12] = 5 << 4;
		l4[13] = s->tcp_flags;
		put16(l4 + 14, 65535);
	} else if (s->proto == 17) {
		put16(l4 + 4, (uint16_t)l4_len);
	} else { /* echo request, identifier in sport */
		l4[0] = s->proto == 1 ? 8 : 128;
		put16(l4 + 4, s->sport);
		put16(l4 + 6, 1);
	}
}

static inline void l4_finish(int family, uint8_t *l3, uint8_t *l4, unsigned int l4_len,
			     uint8_t proto)
{
	unsigned int off = proto == 6 ? 16 : proto == 17 ? 6 : 2;
	uint16_t c;

	if (proto == 1)
		c = fold16(sum16(l4, l4_len, 0)); /* ICMPv4 has no pseudo-header */
	else
		c = l4_checksum(family, l3, l4, l4_len, proto);
	if (proto == 17 && c == 0)
		c = 0xffff;
	put16(l4 + off, c);
}

static inline unsigned int l3_write(uint8_t *l3, const struct pkt_spec *s, unsigned int l4_len)
{
	uint8_t ttl = s->ttl ? s->ttl : 64;

	if (s->family == 4) {
		memset(l3, 0, 20);
		l3[0] = 0x45;
		put16(l3 + 2, (uint16_t)(20 + l4_len));
		put16(l3 + 4, 0x1234);
		if (s->df)
			l3[6] = 0x40;
		l3[8] = ttl;
		l3[9] = s->proto;
		inet_pton(AF_INET, s->src, l3 + 12);
		inet_pton(AF_INET, s->dst, l3 + 16);
		put16(l3 + 10, fold16(sum16(l3, 20, 0)));
		return 20;
	}
	memset(l3, 0, 40);
	l3[0] = 0x60;
	put16(l3 + 4, (uint16_t)l4_len);
	l3[6] = s->proto;
	l3[7] = ttl;
	inet_pton(AF_INET6, s->src, l3 + 8);
	inet_pton(AF_INET6, s->dst, l3 + 24);
	return 40;
}

static const uint8_t pkt_client_mac[6] = { 0x02, 0xc1, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t pkt_edge_mac[6] = { 0x02, 0xed, 0x00, 0x00, 0x00, 0x01 };

/* Ethernet (+ VLANs) + IP + L4 + payload into buf; returns the frame length. */
static inline unsigned int pkt_build(uint8_t *buf, const struct pkt_spec *s)
{
	unsigned int l2 = 14 + 4 * s->vlans, l3_len, i;
	unsigned int l4_len = l4_header_len(s->proto) + s->payload;
	uint8_t *l3 = buf + l2, *l4;

	memcpy(buf, pkt_edge_mac, 6);
	memcpy(buf + 6, pkt_client_mac, 6);
	for (i = 0; i < (unsigned int)s->vlans; i++) {
		put16(buf + 12 + 4 * i, i == 0 && s->vlans == 2 ? 0x88a8 : 0x8100);
		put16(buf + 14 + 4 * i, (uint16_t)(100 + i));
	}
	put16(buf + 12 + 4 * s->vlans, s->family == 4 ? 0x0800 : 0x86dd);
	l3_len = l3_write(l3, s, l4_len);
	l4 = l3 + l3_len;
	l4_write(l4, s, l4_len);
	for (i = 0; i < s->payload; i++)
		l4[l4_header_len(s->proto) + i] = (uint8_t)(i * 7 + 1);
	l4_finish(s->family, l3, l4, l4_len, s->proto);
	return l2 + l3_len + l4_len;
}

/*
 * An ICMP(v6) error sent by a client-side router to our service address, quoting a packet the
 * service sent to the client (the reverse of flow @s): it is about flow @s.
 */
static inline unsigned int pkt_build_icmp_error(uint8_t *buf, const struct pkt_spec *s,
						const char *reporter)
{
	struct pkt_spec quoted = *s, outer = *s;
	uint8_t inner[128];
	unsigned int inner_len, quote_len, l4_len, l3_len;
	uint8_t *l3 = buf + 14, *l4;

	quoted.vlans = 0;
	quoted.src = s->dst;
	quoted.dst = s->src;
	quoted.sport = s->dport;
	quoted.dport = s->sport;
	quoted.payload = 0;
	inner_len = pkt_build(inner, &quoted) - 14;
	quote_len = (s->family == 4 ? 20 : 40) + 8; /* IP header + first 8 bytes of L4 */
	outer.proto = s->family == 4 ? 1 : 58;
	outer.src = reporter;
	outer.vlans = 0;
	l4_len = 8 + quote_len;
	memcpy(buf, pkt_edge_mac, 6);
	memcpy(buf + 6, pkt_client_mac, 6);
	put16(buf + 12, s->family == 4 ? 0x0800 : 0x86dd);
	l3_len = l3_write(l3, &outer, l4_len);
	l4 = l3 + l3_len;
	memset(l4, 0, 8);
	l4[0] = s->family == 4 ? 3 : 1; /* destination unreachable */
	l4[1] = s->family == 4 ? 3 : 4; /* port unreachable */
	memcpy(l4 + 8, inner + 14, quote_len < inner_len ? quote_len : inner_len);
	l4_finish(s->family, l3, l4, l4_len, outer.proto);
	return 14 + l3_len + l4_len;
}

/* True when the IPv4 header at l3 has a valid header checksum. */
static inline bool ipv4_header_ok(const uint8_t *l3)
{
	return fold16(sum16(l3, (l3[0] & 0xf) * 4u, 0)) == 0;
}

#endif /* DT_TEST_PACKETS_H */
