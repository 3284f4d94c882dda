/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One test configuration for every dataplane test: the sites, their delivery data, the failover
 * lists and the prefixes that tests/bpf/test_detour.c loads into the XDP program's maps and
 * tests/dpdk/ into the DPDK engine's tables, so that both dataplanes are checked, and compared,
 * on exactly the same configuration. Include test_packets.h first (it brings <arpa/inet.h>).
 */
#ifndef DT_TEST_SCENARIO_H
#define DT_TEST_SCENARIO_H

#include <string.h>

#include "dataplane/core/detour_abi.h"
#include "failover_slots.h"
#include "test_packets.h"

#define SCENARIO_SEED 0xfeedf00du

/* HOME fails over to A and B (route); the HOME_* sites to the ipip sites or the TX site. */
enum {
	HOME = 1,
	SITE_A = 2,
	SITE_B = 3,
	IPIP4 = 4, /* tunnel endpoint 198.18.200.4 */
	IPIP6 = 5, /* tunnel endpoint 2001:db8:200::5 */
	HOME_V4TUN = 6, /* fails over to IPIP4 only */
	HOME_V6TUN = 7, /* fails over to IPIP6 only */
	HOME_STATELESS = 8, /* stateless prefix, fails over to A and B */
	SITE_TX = 9, /* reached through the ingress port itself */
	HOME_TX = 10, /* fails over to SITE_TX only */
	NSITES = 11,
};

#define SCENARIO_INGRESS_IFINDEX 1 /* BPF_PROG_TEST_RUN's ingress device: lo */

/* Site @id's delivery data; its next-hop MAC ends in the id, which is how tests spot the target. */
static inline struct dt_site scenario_site(int id)
{
	struct dt_site s = { .delivery = DT_DELIVERY_ROUTE,
			     .mtu = 1500,
			     .egress_port = id,
			     .egress_ifindex = 1000 + id };
	const uint8_t src[6] = { 0x02, 0xed, 0, 0, 0xee, (uint8_t)id };
	const uint8_t dst[6] = { 0x02, 0x5e, 0, 0, 0x00, (uint8_t)id };

	memcpy(s.src_mac, src, 6);
	memcpy(s.dst_mac, dst, 6);
	if (id == IPIP4 || id == IPIP6) {
		int af = id == IPIP4 ? AF_INET : AF_INET6;

		s.delivery = DT_DELIVERY_IPIP;
		s.tunnel_family = id == IPIP4 ? DT_FAMILY_V4 : DT_FAMILY_V6;
		inet_pton(af, id == IPIP4 ? "198.18.100.1" : "2001:db8:100::1", s.tunnel_src);
		inet_pton(af, id == IPIP4 ? "198.18.200.4" : "2001:db8:200::5", s.tunnel_dst);
	} else if (id == SITE_TX) {
		s.egress_ifindex = SCENARIO_INGRESS_IFINDEX;
	}
	return s;
}

struct scenario_failover {
	__u32 home;
	struct dt_failover_entry list[2];
	unsigned int n;
};

static const struct scenario_failover scenario_failovers[] = {
	{ HOME, { { SITE_A, 1 }, { SITE_B, 1 } }, 2 },
	{ HOME_STATELESS, { { SITE_A, 1 }, { SITE_B, 1 } }, 2 },
	{ HOME_V4TUN, { { IPIP4, 1 } }, 1 },
	{ HOME_V6TUN, { { IPIP6, 1 } }, 1 },
	{ HOME_TX, { { SITE_TX, 1 } }, 1 },
};

struct scenario_prefix {
	const char *addr;
	int len;
	__u16 home;
	__u16 flags;
};

static const struct scenario_prefix scenario_prefixes[] = {
	{ "198.18.10.0", 24, HOME, 0 },
	{ "2001:db8:10::", 48, HOME, 0 },
	{ "198.18.20.0", 24, HOME_V4TUN, 0 },
	{ "2001:db8:20::", 48, HOME_V4TUN, 0 },
	{ "198.18.21.0", 24, HOME_V6TUN, 0 },
	{ "2001:db8:21::", 48, HOME_V6TUN, 0 },
	{ "198.18.30.0", 24, HOME_STATELESS, DT_PREFIX_F_STATELESS },
	{ "198.18.40.0", 24, HOME_TX, 0 },
};

#define SCENARIO_N(table) (sizeof(table) / sizeof((table)[0]))

/* A TCP packet of a client (198.19.1.2 / 2001:db8:ff::2) to a service on port 443. */
static inline struct pkt_spec scenario_tcp4(const char *dst, uint16_t sport, uint8_t flags)
{
	return (struct pkt_spec){ .family = 4,
				  .proto = 6,
				  .tcp_flags = flags,
				  .src = "198.19.1.2",
				  .dst = dst,
				  .sport = sport,
				  .dport = 443,
				  .payload = 32 };
}

static inline struct pkt_spec scenario_tcp6(const char *dst, uint16_t sport, uint8_t flags)
{
	return (struct pkt_spec){ .family = 6,
				  .proto = 6,
				  .tcp_flags = flags,
				  .src = "2001:db8:ff::2",
				  .dst = dst,
				  .sport = sport,
				  .dport = 443,
				  .payload = 32 };
}

/* The flow key the parser must produce for a packet built from @s. */
static inline struct dt_flow_key scenario_key_of(const struct pkt_spec *s)
{
	struct dt_flow_key k = { .family = (__u8)s->family, .proto = s->proto };

	inet_pton(s->family == 4 ? AF_INET : AF_INET6, s->src, k.saddr);
	inet_pton(s->family == 4 ? AF_INET : AF_INET6, s->dst, k.daddr);
	k.sport = htons(s->sport);
	k.dport = htons(s->dport);
	return k;
}

#define SCENARIO_TCP_SYN 0x02
#define SCENARIO_TCP_ACK 0x10

#endif /* DT_TEST_SCENARIO_H */
