/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The Detour ABI: every layout, enum and limit that the XDP program, the DPDK engine and the
 * control plane share. This is the only definition of these anywhere; nothing else may redefine a
 * struct that lives here. Every struct has a fixed size (checked below) and explicit padding, so
 * that a BPF map written by one build is read the same way by another.
 *
 * Byte order is in the type: __be* fields are network order, everything else host order.
 */
#ifndef DETOUR_ABI_H
#define DETOUR_ABI_H

#include <linux/types.h>

/* ---- Limits ------------------------------------------------------------------------------- */

#define DT_MAX_SITES 64 /* site ids are 0 .. DT_MAX_SITES - 1 */
#define DT_SITE_NONE 0xffff /* "no site": counters row and flow-table sentinel */
#define DT_FAILOVER_SLOTS 1024 /* target slots per home site; a power of two */
#define DT_FAILOVER_CANDIDATES DT_MAX_SITES /* ranked candidates per slot: every failover site */
#define DT_FAILOVER_FIRST 4 /* of them, tried unrolled before the rest (decide.h) */
#define DT_MAX_VLAN_DEPTH 2 /* 802.1Q / 802.1ad tags parsed */
#define DT_MAX_IPV6_EXT_HDRS 6 /* extension headers walked before giving up */
#define DT_MAX_PREFIXES_DEFAULT 16384 /* per address family */
#define DT_FLOW_TABLE_DEFAULT 65536 /* entries in the LRU flow table */
#define DT_MAX_EGRESS_PORTS 64 /* devmap size */
#define DT_SITE_NAME_MAX 32 /* including the NUL */

_Static_assert((DT_FAILOVER_SLOTS & (DT_FAILOVER_SLOTS - 1)) == 0, "slots must be a power of 2");
_Static_assert(DT_MAX_SITES <= 255, "a candidate is stored in one byte");
_Static_assert(DT_FAILOVER_CANDIDATES >= DT_MAX_SITES - 1, "a slot ranks every failover site");

/* ---- Enums -------------------------------------------------------------------------------- */

/*
 * Site state as the dataplane sees it. Zero is UNKNOWN so that an array-map entry nobody wrote
 * never looks healthy and never attracts traffic.
 */
enum dt_site_state {
	DT_SITE_UNKNOWN = 0, /* not configured */
	DT_SITE_UP = 1,
	DT_SITE_DRAINING = 2, /* power warning or operator drain: new flows leave */
	DT_SITE_DOWN = 3, /* heartbeats stopped or operator fail: every flow leaves */
	DT_SITE_RECOVERING = 4, /* back, but moved flows stay away until idle */
	DT_SITE_STATE_MAX,
};

/* How traffic is delivered to a site that takes over a flow. */
enum dt_delivery {
	DT_DELIVERY_NONE = 0,
	DT_DELIVERY_ROUTE = 1, /* same anycast addresses behind a direct next hop: rewrite MACs */
	DT_DELIVERY_IPIP = 2, /* encapsulate toward the site's tunnel endpoint */
	DT_DELIVERY_MAX,
};

enum dt_family {
	DT_FAMILY_NONE = 0,
	DT_FAMILY_V4 = 4,
	DT_FAMILY_V6 = 6,
};

/* What the packet path finally did; the XDP action is derived from it. */
enum dt_verdict {
	DT_VERDICT_PASS = 0, /* handed to the kernel untouched */
	DT_VERDICT_REDIRECT = 1, /* rewritten and sent out of another port */
	DT_VERDICT_TX = 2, /* rewritten and sent back out of the port it came in on */
	DT_VERDICT_DROP = 3, /* a too-big packet not answered (too_big.h); DPDK: a failed TX */
	DT_VERDICT_MAX,
};

/*
 * Why. Every packet is counted exactly once, under one reason, at the single exit of the packet
 * path. Parsers and helpers return the negative of a reason; the exit turns it into a counter.
 * Values are stable: the control plane prints them by number.
 */
enum dt_reason {
	DT_REASON_NONE = 0,
	/* passed, nothing for Detour to do */
	DT_REASON_NOT_IP = 1, /* ARP, LLDP, anything not IPv4/IPv6 */
	DT_REASON_NO_PREFIX = 2, /* destination in no configured prefix */
	DT_REASON_HOME_UP = 3, /* home site healthy (or flow stays home) */
	DT_REASON_FRAGMENT = 4, /* unused: fragments are decided on their addresses */
	/* passed because something is wrong with the packet */
	DT_REASON_TRUNCATED = 5, /* a header runs past the end of the packet */
	DT_REASON_BAD_HEADER = 6, /* version, IHL, length fields impossible */
	DT_REASON_EXT_HDR_LIMIT = 7, /* more IPv6 extension headers than we walk */
	DT_REASON_VLAN_LIMIT = 8, /* more VLAN tags than we parse */
	/* passed so that the kernel can answer with the right ICMP */
	DT_REASON_TTL_EXPIRED = 9,
	DT_REASON_MTU_EXCEEDED = 10, /* rewrite.h's refusal; deliver.h answers it (too_big_*) */
	/* rerouted */
	DT_REASON_REROUTED_ROUTE = 11,
	DT_REASON_REROUTED_IPIP = 12,
	/* could not reroute: failed open */
	DT_REASON_NO_HEALTHY_SITE = 13,
	DT_REASON_FLOW_INSERT_FAILED = 14, /* an event counted besides the packet's reason */
	DT_REASON_NO_SITE_CONFIG = 15, /* target site has no delivery data */
	DT_REASON_ADJUST_FAILED = 16, /* bpf_xdp_adjust_head / mbuf prepend refused */
	/* too big for the target's path MTU after delivery (too_big.h) */
	DT_REASON_MSS_CLAMPED = 17, /* an event counted besides the packet's: a SYN's MSS cut */
	DT_REASON_TOO_BIG_ICMP = 18, /* answered: ICMP frag needed / ICMPv6 too big, sent back */
	DT_REASON_TOO_BIG_RATE_LIMITED = 19, /* its answer suppressed by the rate limit: dropped */
	DT_REASON_TOO_BIG_DROPPED = 20, /* may not be answered (IPv4 without DF...): dropped */
	/* events counted besides the packet's reason, under its home (decide.h, "The flow table") */
	DT_REASON_FLOW_PROMOTE_LIMITED = 21, /* a promotion found the token bucket empty */
	DT_REASON_FLOW_EVICTED = 22, /* an established flow was evicted to make room (DPDK) */
	DT_REASON_MAX,
};

/* ---- Flow key ----------------------------------------------------------------------------- */

/*
 * A flow, as the parser extracts it. IPv4 addresses live in addr[0] with addr[1..3] zero, so one
 * layout serves both families and a hash over the whole struct is well defined. For ICMP echo the
 * identifier stands in both ports; for other ICMP, for every fragment (first included: all
 * fragments of a datagram must key alike) and for a malformed packet (dt_packet.malformed) the
 * ports are zero.
 */
struct dt_flow_key {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 proto; /* IPPROTO_* */
	__u8 family; /* enum dt_family */
	__u8 pad[2]; /* always zero: it is hashed and used as a map key */
};

/*
 * What the parser hands back besides the key: where the headers are and what the rewrite needs.
 * It is part of the ABI because the in-kernel tests read it back out of a map.
 */
enum dt_frag {
	DT_FRAG_NONE = 0,
	DT_FRAG_FIRST = 1, /* offset 0, more fragments: has the L4 header, not read */
	DT_FRAG_LATER = 2, /* offset > 0: no L4 header */
};

#define DT_PKT_F_ICMP_ERROR (1u << 0) /* key is the flow the ICMP error is about (reversed inner) */
#define DT_PKT_F_IPV4_OPTIONS (1u << 1)
#define DT_PKT_F_IPV6_EXT (1u << 2) /* at least one extension header was walked */

struct dt_packet {
	struct dt_flow_key key;
	__u16 l3_off; /* frame start to the IPv4/IPv6 header */
	__u16 l4_off; /* frame start to the TCP/UDP/ICMP header; 0 if none (later fragment) */
	__u16 l3_proto; /* ETH_P_IP or ETH_P_IPV6, host order */
	__u16 l3_len; /* IPv4 total length or IPv6 40 + payload length, from the header */
	__u8 vlan_depth;
	__u8 frag; /* enum dt_frag */
	__u8 ttl; /* TTL or hop limit */
	__u8 tcp_flags; /* byte 13 of the TCP header, 0 for other protocols */
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 flags; /* DT_PKT_F_* */
	/*
	 * 0, or the enum dt_reason the headers after the IP header failed with (truncated or bad
	 * TCP/UDP/ICMP header or ICMP quote, IPv6 walk past the packet or over its limit): the
	 * key then holds only what was read before (addresses, protocol), and no ports.
	 */
	__u8 malformed;
};

/* ---- Maps: the layouts of every key and value ----------------------------------------------- */

/* dt_prefix_v4 / dt_prefix_v6 (LPM tries): destination prefix -> home site. */
struct dt_lpm_v4_key {
	__u32 prefixlen;
	__be32 addr;
};

struct dt_lpm_v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

#define DT_PREFIX_F_STATELESS (1u << 0) /* flows may all move at once on drain */
#define DT_PREFIX_F_TCP_RESET (1u << 1) /* TCP flows recorded (dt_tcp_seen), nudged at DOWN */

struct dt_prefix_info {
	__u16 home_site;
	__u16 flags; /* DT_PREFIX_F_* */
};

/*
 * dt_site_state (array, key = site id): the one value the control plane writes to fail, drain
 * or restore a site. Kept apart from dt_site so that failing a site is a single 4-byte write.
 */
struct dt_site_state_val {
	__u32 state; /* enum dt_site_state */
};

/* dt_site (array, key = site id): how to deliver a flow to this site when it takes one over. */
struct dt_site {
	__u8 delivery; /* enum dt_delivery */
	__u8 tunnel_family; /* enum dt_family of the outer header, ipip only */
	__u16 mtu; /* egress MTU toward the site's next hop */
	__u32 egress_port; /* key into dt_egress (devmap) */
	__u32 egress_ifindex; /* same port, for XDP_TX detection */
	__u8 src_mac[6]; /* our MAC on the egress port */
	__u8 dst_mac[6]; /* the next hop's MAC */
	__be32 tunnel_src[4]; /* outer source (v4 in [0]) */
	__be32 tunnel_dst[4]; /* the site's tunnel endpoint (v4 in [0]) */
};

/*
 * dt_failover (array, key = home site id): for each of DT_FAILOVER_SLOTS hash slots, the ordered
 * candidate target sites. Computed by the control plane from the home site's weighted failover
 * list by weighted rendezvous hashing, independently of which sites are healthy: the packet path
 * takes the first candidate that is UP. So failing a site never rewrites this table, and when a
 * second site fails only the slots whose first healthy candidate it was move. A slot ranks every
 * site of the list (at most DT_MAX_SITES - 1, the rest DT_CANDIDATE_NONE), so a flow fails open
 * only when every listed site is down; a slot is one 64-octet cache line.
 */
#define DT_CANDIDATE_NONE 0xff

struct dt_failover_slots {
	__u8 cand[DT_FAILOVER_SLOTS][DT_FAILOVER_CANDIDATES];
};

/*
 * dt_flows (LRU hash, key = struct dt_flow_key): established flows that left home. dt_flow_new
 * (LRU hash, same layout): new flows, recorded by their first packet with DT_FLOW_F_NEW, until a
 * later packet promotes them into dt_flows (decide.h, "The flow table"). The DPDK engine keeps
 * both classes in one table, by the flag, and evicts a new flow before an established one.
 */
#define DT_FLOW_F_HOME (1u << 0) /* recorded during a drain as established: stays home */
/*
 * Never stored in dt_flows: marks a dataplane's private copy of an entry (the XDP program's per-CPU
 * cache of recent flows) whose last_seen_ns is known to need no refresh yet, so reading the clock
 * for it would be wasted.
 */
#define DT_FLOW_F_CACHED (1u << 1)
#define DT_FLOW_F_NEW (1u << 2) /* not yet promoted: in dt_flow_new, evicted first */

struct dt_flow_state {
	__u64 last_seen_ns; /* bpf_ktime_get_ns(); refreshed at most every DT_FLOW_REFRESH_NS */
	__u16 home_site;
	__u16 target_site;
	__u8 flags; /* DT_FLOW_F_* */
	__u8 pad[3];
};

#define DT_FLOW_REFRESH_NS 100000000ull /* 100 ms: bounds flow-table writes per flow */

/*
 * Promotions of new flows into the established class, per CPU (XDP) or worker (DPDK): a token
 * bucket of DT_FLOW_PROMOTE_BURST tokens refilled at one per DT_FLOW_PROMOTE_INTERVAL_NS (2 000
 * a second). A flow refused a token stays new and asks again with its next packet. So made-up
 * flows that complete handshakes take DT_FLOW_TABLE_DEFAULT / (2 000 x CPUs) seconds (16 s on 2
 * CPUs) to fill the established class, before which they evict no established flow.
 */
#define DT_FLOW_PROMOTE_INTERVAL_NS 500000ull
#define DT_FLOW_PROMOTE_BURST 2000ull

/*
 * Non-TCP flows seen at home (dt_udp_seen; XDP: one array, DPDK: one per worker): an array of
 * DT_SEEN_SLOTS stamps of the engine's coarse clock, indexed by a fold of the flow key. A drain
 * keeps home a non-TCP flow of a stateful prefix whose slot was stamped within DT_SEEN_WINDOW_S
 * (decide.h); a slot is re-stamped at most once a second. 0: never stamped.
 */
#define DT_SEEN_SLOTS 65536
#define DT_SEEN_WINDOW_S 60

/*
 * dt_tcp_seen (XDP: per-CPU array, DT_TCP_SEEN_SLOTS entries, pinned): TCP flows of prefixes with
 * DT_PREFIX_F_TCP_RESET seen going home to an UP site, one slot per fold of the key
 * (dataplane/core/tcp_seen.h); detourd reads it when a site goes DOWN and makes those clients
 * reconnect (docs/tcp-recovery.md). A slot is rewritten at most every DT_TCP_SEEN_REFRESH_MS
 * for one flow (and at once for another flow, or a SYN, FIN or RST). key.family 0: empty.
 */
#define DT_TCP_SEEN_BITS 12
#define DT_TCP_SEEN_SLOTS (1u << DT_TCP_SEEN_BITS)
#define DT_TCP_SEEN_REFRESH_MS 10

struct dt_tcp_seen {
	struct dt_flow_key key;
	__u64 seen_ns; /* CLOCK_MONOTONIC (coarse) when written */
	__be32 seq; /* the client's segment: its sequence number ... */
	__be32 ack; /* ... and acknowledgment number, as on the wire */
	__u32 tick; /* the engine's coarse tick when written (XDP: jiffies), for the refresh */
	__u16 home_site;
	__u8 tcp_flags; /* byte 13 of the TCP header */
	__u8 pad;
};

/* The bucket as one word: the time its next token is due (GCRA); per CPU, so no atomics. */
struct dt_flow_bucket {
	__u64 due_ns;
};

/*
 * dt_flow_gen (array, one entry): the generation of everything a flow-table entry's decision
 * depends on besides the packet. The control plane increments it after every site-state write and
 * every flow it deletes; the XDP program trusts a cached copy of a dt_flows entry only if it was
 * made at the current generation.
 */
struct dt_flow_gen {
	__u32 gen;
	__u32 pad;
};

/* dt_counters (per-CPU array, key = dt_counter_index()): one row per site plus one for none. */
struct dt_counter {
	__u64 packets;
	__u64 bytes;
};

#define DT_COUNTER_ROWS (DT_MAX_SITES + 1)
#define DT_COUNTER_ENTRIES (DT_COUNTER_ROWS * DT_REASON_MAX)

static inline __u32 dt_counter_index(__u32 site, __u32 reason)
{
	__u32 row = site < DT_MAX_SITES ? site : DT_MAX_SITES;

	return row * DT_REASON_MAX + (reason < DT_REASON_MAX ? reason : DT_REASON_NONE);
}

/* Names under the bpffs root (default /sys/fs/bpf/detour) where every map is pinned. */
#define DT_PIN_ROOT_DEFAULT "/sys/fs/bpf/detour"

/*
 * dt_icmp_bucket (per-CPU array, one entry; DPDK: one per worker): the token bucket that limits
 * the too-big answers the dataplane sends, DT_ICMP_RATE a second with bursts of DT_ICMP_BURST
 * (Linux's icmp_msgs_per_sec and icmp_msgs_burst defaults), per CPU.
 */
#define DT_ICMP_RATE 1000
#define DT_ICMP_BURST 50

struct dt_icmp_bucket {
	__u64 last_ns; /* when tokens were last added */
	__u32 tokens;
	__u32 pad;
};

/* ---- Size checks: a layout change must be deliberate ---------------------------------------- */

_Static_assert(sizeof(struct dt_flow_key) == 40, "dt_flow_key layout");
_Static_assert(sizeof(struct dt_packet) == 56, "dt_packet layout");
_Static_assert(sizeof(struct dt_lpm_v4_key) == 8, "dt_lpm_v4_key layout");
_Static_assert(sizeof(struct dt_lpm_v6_key) == 20, "dt_lpm_v6_key layout");
_Static_assert(sizeof(struct dt_prefix_info) == 4, "dt_prefix_info layout");
_Static_assert(sizeof(struct dt_site_state_val) == 4, "dt_site_state_val layout");
_Static_assert(sizeof(struct dt_site) == 56, "dt_site layout");
_Static_assert(sizeof(struct dt_failover_slots) == DT_FAILOVER_SLOTS * DT_FAILOVER_CANDIDATES,
	       "dt_failover_slots layout");
_Static_assert(sizeof(struct dt_flow_state) == 16, "dt_flow_state layout");
_Static_assert(sizeof(struct dt_flow_gen) == 8, "dt_flow_gen layout");
_Static_assert(sizeof(struct dt_flow_bucket) == 8, "dt_flow_bucket layout");
_Static_assert(sizeof(struct dt_tcp_seen) == 64, "dt_tcp_seen layout: one cache line");
_Static_assert(sizeof(struct dt_counter) == 16, "dt_counter layout");
_Static_assert(sizeof(struct dt_icmp_bucket) == 16, "dt_icmp_bucket layout");

#endif /* DETOUR_ABI_H */
