/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The decision: given a parsed packet, where does its flow go?
 *
 * This is the one copy of Detour's policy, shared by the XDP program and the DPDK engine. It reads
 * the tables through eleven functions that the including program defines before including this
 * header (BPF map lookups in ebpf/detour.bpf.c, RCU-published tables in the DPDK engine, plain
 * arrays in unit tests):
 *
 *   const struct dt_prefix_info *dt_tables_prefix(struct dt_tables *t, const struct dt_flow_key *k);
 *   __u32 dt_tables_site_state(struct dt_tables *t, __u32 site);
 *   const struct dt_failover_slots *dt_tables_failover(struct dt_tables *t, __u32 home);
 *   struct dt_flow_state *dt_tables_flow(struct dt_tables *t, const struct dt_flow_key *k);
 *   int dt_tables_flow_record(struct dt_tables *t, const struct dt_flow_key *k,
 *                             const struct dt_flow_state *v);
 *        into the new class when v->flags has DT_FLOW_F_NEW, else the established one; < 0 when
 *        refused, 1 when it evicted an established flow to make room, else 0
 *   struct dt_flow_bucket *dt_tables_flow_bucket(struct dt_tables *t);  (this CPU's, or NULL)
 *   __u32 *dt_tables_seen_slot(struct dt_tables *t, const struct dt_flow_key *k);
 *        the dt_udp_seen slot for @k (DT_SEEN_SLOTS, ABI; per engine or per worker), or NULL
 *   __u32 dt_tables_seen_now(struct dt_tables *t);     (a coarse clock, never 0 ...)
 *   __u32 dt_tables_seen_hz(struct dt_tables *t);      (... in these ticks a second)
 *   __u64 dt_tables_now(struct dt_tables *t);          (monotonic ns)
 *   __u32 dt_tables_flow_hash(struct dt_tables *t, const struct dt_flow_key *k);
 *        dt_flow_hash() of @k with the fleet-wide seed of the configuration, so that every edge
 *        decides alike; an engine that cached it with the flow may answer from the cache
 *
 * The healthy path (no prefix, or home UP) does two lookups, no writes and no hash; a non-TCP
 * packet of a stateful prefix adds its seen slot (below): one array lookup, a coarse clock and a
 * write at most once a second per slot.
 *
 * The flow table. Only what must be remembered is recorded, so that a flood of made-up flows
 * cannot flush the flows that moved:
 *   - a flow that leaves its home on a packet that starts it (a TCP SYN, any non-TCP packet) is
 *     recorded as new (DT_FLOW_F_NEW), in a class of its own that only new flows evict;
 *   - a later packet of it (not a SYN, not an ICMP error) promotes it to the established class,
 *     one token of this CPU's bucket a promotion (DT_FLOW_PROMOTE_*): a flood of one packet per
 *     made-up flow never reaches the established class, and no flood fills it faster than that;
 *   - a TCP packet of an unknown flow that is not a SYN: in DOWN it follows the hash, unrecorded
 *     (its connection died with its home); in a drain it stays home as established, recorded so
 *     (DT_FLOW_F_HOME) in the new class, never promoted;
 *   - an ICMP error is never recorded and never promotes: it may be forged, and its flow may not
 *     have started;
 *   - a non-TCP flow of a stateful prefix that goes home stamps its slot of the seen array
 *     (dt_tables_seen_slot(), at most once a second): during a drain, a non-TCP flow the table does
 *     not know whose slot was stamped within DT_SEEN_WINDOW_S is established and stays home (and
 *     stamps it again, so it stays while it keeps sending); any other is new and moves. A slot
 *     shared with another flow keeps a new flow home: the safe side for a stateful prefix;
 * refreshing last_seen is rate-limited to once per DT_FLOW_REFRESH_NS per flow.
 */
#ifndef DT_DECIDE_H
#define DT_DECIDE_H

#include "dt_compiler.h"
#include "detour_abi.h"
#include "flow_hash.h"
#include "site_state.h"
#include "tcp_seen.h"

struct dt_tables;

struct dt_decision {
	__u32 home; /* home site, DT_SITE_NONE when no prefix matched */
	__u32 target; /* site the flow goes to; == home when it stays */
	__u32 hash; /* flow hash; computed only to choose a new target, else 0 */
	int reason; /* enum dt_reason to count under */
	__u8 event; /* a flow-table event to count besides (DT_REASON_FLOW_*), or 0 */
	__u8 track; /* a TCP packet of a tcp_reset prefix going home to an UP site: record it */
};

/* The state predicates of site_state.h, for a site read through the tables. */
DT_INLINE bool dt_site_takes_new_flows(struct dt_tables *t, __u32 site)
{
	return dt_state_takes_new_flows(dt_tables_site_state(t, site));
}

DT_INLINE bool dt_site_serves_flows(struct dt_tables *t, __u32 site)
{
	return dt_state_serves_flows(dt_tables_site_state(t, site));
}

struct dt_choose {
	struct dt_tables *t;
	const struct dt_failover_slots *slots;
	__u32 slot, home;
	__u32 target; /* the answer, DT_SITE_NONE until found */
};

/*
 * dt_choose_target()'s step, candidate @i of the slot: true (stop) at the end of the list or at a
 * site that takes new flows, which is then the target.
 */
DT_INLINE bool dt_choose__candidate(struct dt_choose *c, int i)
{
	__u32 cand = c->slots->cand[c->slot][i];

	if (cand >= DT_MAX_SITES) /* DT_CANDIDATE_NONE: the end of the list */
		return true;
	if (cand == c->home || !dt_site_takes_new_flows(c->t, cand))
		return false;
	c->target = cand;
	return true;
}

/*
 * The first candidate of the flow's slot that takes new flows. The candidates were ordered by the
 * control plane (weighted rendezvous hashing over the home's whole failover list), so this is
 * weighted, identical on every edge, moves only the flows of a site that fails, and fails open
 * only when every listed site is down.
 *
 * The first DT_FAILOVER_FIRST candidates are unrolled, each its own exit, as they always were;
 * the rest (only when those are all down) is a loop the verifier bounds, whose answer is hidden
 * from it (dt_barrier_var) so that every way out of the loop is one state for the rest of the
 * program: without that, each of its 60 exits would be walked through the rest separately.
 */
DT_INLINE __u32 dt_choose_target(struct dt_tables *t, __u32 home, __u32 hash)
{
	struct dt_choose c = {
		.t = t,
		.slots = dt_tables_failover(t, home),
		.slot = hash & (DT_FAILOVER_SLOTS - 1),
		.home = home,
		.target = DT_SITE_NONE,
	};
	int i;

	if (!c.slots)
		return DT_SITE_NONE;
	DT_UNROLL
	for (i = 0; i < DT_FAILOVER_FIRST; i++)
		if (dt_choose__candidate(&c, i))
			return c.target;
	DT_NO_UNROLL
	for (i = DT_FAILOVER_FIRST; i < DT_FAILOVER_CANDIDATES; i++)
		if (dt_choose__candidate(&c, i))
			break;
	dt_barrier_var(c.target);
	return c.target;
}

DT_INLINE bool dt_packet_is_syn(const struct dt_packet *pkt)
{
	const __u8 syn = 0x02, ack = 0x10;

	return pkt->key.proto == 6 /* IPPROTO_TCP */ && (pkt->tcp_flags & (syn | ack)) == syn;
}

/* A new flow is a TCP SYN without ACK, or any non-TCP flow the table does not know. */
DT_INLINE bool dt_packet_starts_flow(const struct dt_packet *pkt)
{
	if (pkt->flags & DT_PKT_F_ICMP_ERROR)
		return false;
	return pkt->key.proto != 6 /* IPPROTO_TCP */ || dt_packet_is_syn(pkt);
}

/* A packet that shows a new flow is real: a later one of it, not a repeated SYN, not an error. */
DT_INLINE bool dt_packet_promotes(const struct dt_packet *pkt)
{
	return !(pkt->flags & DT_PKT_F_ICMP_ERROR) && !dt_packet_is_syn(pkt);
}

/* The clock is read only here and in dt_flow_record(): a cached copy that is fresh needs none. */
DT_INLINE void dt_flow_touch(struct dt_tables *t, struct dt_flow_state *flow)
{
	__u64 now;

	if (flow->flags & DT_FLOW_F_CACHED)
		return;
	now = dt_tables_now(t);
	if (now - flow->last_seen_ns < DT_FLOW_REFRESH_NS)
		return;
	flow->last_seen_ns = now; /* a racy write of a timestamp: the last writer wins, fine */
}

DT_INLINE void dt_flow_store(struct dt_tables *t, const struct dt_flow_key *k,
			     const struct dt_flow_state *v, struct dt_decision *d)
{
	int ret = dt_tables_flow_record(t, k, v);

	if (ret < 0)
		d->event = DT_REASON_FLOW_INSERT_FAILED;
	else if (ret > 0)
		d->event = DT_REASON_FLOW_EVICTED;
}

DT_INLINE void dt_flow_record(struct dt_tables *t, const struct dt_packet *pkt,
			      struct dt_decision *d, __u8 flags)
{
	struct dt_flow_state v = {
		.last_seen_ns = dt_tables_now(t),
		.home_site = (__u16)d->home,
		.target_site = (__u16)d->target,
		.flags = flags,
	};

	dt_flow_store(t, &pkt->key, &v, d);
}

/*
 * One token of this CPU's bucket. GCRA: the bucket is the time its next token is due; it holds
 * at most DT_FLOW_PROMOTE_BURST tokens, so that time is never more than BURST - 1 intervals back.
 */
DT_INLINE bool dt_flow_bucket_take(struct dt_tables *t)
{
	const __u64 span = (DT_FLOW_PROMOTE_BURST - 1) * DT_FLOW_PROMOTE_INTERVAL_NS;
	struct dt_flow_bucket *b = dt_tables_flow_bucket(t);
	__u64 now = dt_tables_now(t);

	if (!b)
		return false;
	if (b->due_ns + span < now)
		b->due_ns = now - span;
	if (b->due_ns > now)
		return false;
	b->due_ns += DT_FLOW_PROMOTE_INTERVAL_NS;
	return true;
}

/* A later packet of a new flow: it is real, move it to the established class if a token allows. */
DT_INLINE void dt_flow_promote(struct dt_tables *t, const struct dt_packet *pkt,
			       const struct dt_flow_state *flow, struct dt_decision *d)
{
	struct dt_flow_state v = *flow;

	if (!dt_flow_bucket_take(t)) {
		d->event = DT_REASON_FLOW_PROMOTE_LIMITED;
		return;
	}
	v.last_seen_ns = dt_tables_now(t);
	v.flags &= ~(DT_FLOW_F_NEW | DT_FLOW_F_CACHED);
	dt_flow_store(t, &pkt->key, &v, d);
}

/* Whether the seen slot of @pkt's flow was stamped within DT_SEEN_WINDOW_S. */
DT_INLINE bool dt_seen_recently(struct dt_tables *t, const struct dt_packet *pkt)
{
	__u32 *slot = dt_tables_seen_slot(t, &pkt->key);

	return slot && *slot &&
	       dt_tables_seen_now(t) - *slot <= DT_SEEN_WINDOW_S * dt_tables_seen_hz(t);
}

/* During a drain, a new flow: a TCP SYN, or a non-TCP flow not seen at home lately. */
DT_INLINE bool dt_drain_starts_flow(struct dt_tables *t, const struct dt_packet *pkt)
{
	if (!dt_packet_starts_flow(pkt))
		return false;
	return dt_packet_is_syn(pkt) || !dt_seen_recently(t, pkt);
}

/* A non-TCP packet that goes home: stamp its flow as seen, if a second has passed. */
DT_INLINE void dt_seen_stamp(struct dt_tables *t, const struct dt_packet *pkt)
{
	__u32 *slot, now;

	if (pkt->key.proto == 6 /* IPPROTO_TCP */ || (pkt->flags & DT_PKT_F_ICMP_ERROR))
		return;
	slot = dt_tables_seen_slot(t, &pkt->key);
	if (!slot)
		return;
	now = dt_tables_seen_now(t);
	if (now - *slot >= dt_tables_seen_hz(t))
		*slot = now; /* a racy store of a stamp: the last writer wins, fine */
}

/*
 * Send the flow to a freshly chosen target, or fail open when there is none; @record: as a new
 * flow (only a packet that starts one is worth remembering).
 */
DT_INLINE void dt_decide_move(struct dt_tables *t, const struct dt_packet *pkt,
			      struct dt_decision *d, bool record)
{
	d->hash = dt_tables_flow_hash(t, &pkt->key);
	d->target = dt_choose_target(t, d->home, d->hash);
	if (d->target == DT_SITE_NONE) {
		d->target = d->home;
		d->reason = DT_REASON_NO_HEALTHY_SITE;
		return;
	}
	d->reason = DT_REASON_NONE; /* the caller's rewrite sets the rerouted reason */
	if (record && dt_packet_starts_flow(pkt))
		dt_flow_record(t, pkt, d, DT_FLOW_F_NEW);
}

/* A flow the table knows: keep it where it went while that site still serves it. */
DT_INLINE bool dt_decide_known(struct dt_tables *t, const struct dt_packet *pkt,
			       struct dt_flow_state *flow, struct dt_decision *d)
{
	if (flow->flags & DT_FLOW_F_HOME) {
		dt_flow_touch(t, flow);
		d->reason = DT_REASON_HOME_UP;
		return true;
	}
	if (flow->home_site != d->home || !dt_site_serves_flows(t, flow->target_site))
		return false;
	d->target = flow->target_site;
	d->reason = DT_REASON_NONE;
	if ((flow->flags & DT_FLOW_F_NEW) && dt_packet_promotes(pkt))
		dt_flow_promote(t, pkt, flow, d);
	else
		dt_flow_touch(t, flow);
	return true;
}

DT_INLINE void dt_decide_down(struct dt_tables *t, const struct dt_packet *pkt, bool stateless,
			      struct dt_decision *d)
{
	struct dt_flow_state *flow = stateless ? NULL : dt_tables_flow(t, &pkt->key);

	if (!flow || (flow->flags & DT_FLOW_F_HOME)) {
		dt_decide_move(t, pkt, d, !stateless);
		return;
	}
	if (dt_decide_known(t, pkt, flow, d))
		return;
	/* its target died: moved again, and remembered so, in the class it was in (not by an error) */
	dt_decide_move(t, pkt, d, false);
	if (d->reason == DT_REASON_NONE && !(pkt->flags & DT_PKT_F_ICMP_ERROR))
		dt_flow_record(t, pkt, d, flow->flags & DT_FLOW_F_NEW);
}

DT_INLINE void dt_decide_draining(struct dt_tables *t, const struct dt_packet *pkt, bool stateless,
				  struct dt_decision *d)
{
	struct dt_flow_state *flow;

	if (stateless) {
		dt_decide_move(t, pkt, d, false);
		return;
	}
	flow = dt_tables_flow(t, &pkt->key);
	if (flow && dt_decide_known(t, pkt, flow, d)) {
		if (flow->flags & DT_FLOW_F_HOME)
			dt_seen_stamp(t, pkt);
		return;
	}
	if (dt_drain_starts_flow(t, pkt)) {
		dt_decide_move(t, pkt, d, true);
		return;
	}
	dt_seen_stamp(t, pkt);
	/*
	 * Established before the drain began (a TCP segment that is not a SYN, a non-TCP flow seen
	 * at home lately): it stays home, and the table remembers that (so that a later SYN of it
	 * stays too), in the new class: a flood of made-up ones evicts only its own kind. An ICMP
	 * error goes home too, unrecorded: its flow may not have started.
	 */
	d->reason = DT_REASON_HOME_UP;
	if (!(pkt->flags & DT_PKT_F_ICMP_ERROR))
		dt_flow_record(t, pkt, d, DT_FLOW_F_HOME | DT_FLOW_F_NEW);
}

DT_INLINE void dt_decide_recovering(struct dt_tables *t, const struct dt_packet *pkt,
				    bool stateless, struct dt_decision *d)
{
	struct dt_flow_state *flow = stateless ? NULL : dt_tables_flow(t, &pkt->key);

	if (flow && !(flow->flags & DT_FLOW_F_HOME) && dt_decide_known(t, pkt, flow, d))
		return;
	d->reason = DT_REASON_HOME_UP; /* new flows, and flows whose target died, go home */
	if (!stateless)
		dt_seen_stamp(t, pkt);
}

/*
 * Decide for one parsed packet. On return d->reason is DT_REASON_NONE when the packet must be
 * rewritten toward d->target, or the reason it passes to the kernel untouched. A fragment is
 * decided like any packet: its key is its addresses and protocol (parse.h), the same for every
 * fragment of a datagram.
 */
DT_INLINE void dt_decide(struct dt_tables *t, const struct dt_packet *pkt, struct dt_decision *d)
{
	const struct dt_prefix_info *prefix = dt_tables_prefix(t, &pkt->key);
	bool stateless;
	__u32 state;

	d->home = DT_SITE_NONE;
	d->target = DT_SITE_NONE;
	d->hash = 0;
	d->reason = DT_REASON_NO_PREFIX;
	d->event = 0;
	d->track = 0;
	if (!prefix || prefix->home_site >= DT_MAX_SITES)
		return;
	d->home = prefix->home_site;
	d->target = d->home;
	d->reason = DT_REASON_HOME_UP;
	state = dt_tables_site_state(t, d->home);
	stateless = prefix->flags & DT_PREFIX_F_STATELESS;
	if (dt_state_keeps_home(state)) {
		if (!stateless && !pkt->malformed)
			dt_seen_stamp(t, pkt); /* non-TCP only: a drain must know it existed */
		/* the engine records it (tcp_seen.h): its clients are nudged if the site dies */
		d->track = (prefix->flags & DT_PREFIX_F_TCP_RESET) && state == DT_SITE_UP &&
			   dt_tcp_seen_wants(pkt);
		return;
	}
	/*
	 * A malformed packet (dt_packet.malformed) has no flow to follow: it keeps a home that
	 * serves flows (counted under what is wrong with it when that home is not UP) and leaves a
	 * DOWN home on its addresses alone, as a packet of a stateless prefix does (no flow-table
	 * entry), rather than follow the kernel's route to the dead site.
	 */
	if (pkt->malformed && state != DT_SITE_DOWN) {
		d->reason = pkt->malformed;
		return;
	}
	/*
	 * Only a flow whose home is not UP reads the clock (to refresh or record a flow-table entry);
	 * only a new choice pays for the hash.
	 */
	stateless = stateless || pkt->malformed;
	if (state == DT_SITE_DOWN)
		dt_decide_down(t, pkt, stateless, d);
	else if (state == DT_SITE_DRAINING)
		dt_decide_draining(t, pkt, stateless, d);
	else if (state == DT_SITE_RECOVERING)
		dt_decide_recovering(t, pkt, stateless, d);
}

/*
 * Whether dt_decide() reads the flow table for a packet of @prefix: its home uses the flow table,
 * the prefix keeps flow state and the packet is not malformed. An engine that fetches flow entries ahead
 * of the decision (the DPDK burst stages) asks this, so that it fetches exactly the entries
 * dt_decide() will read. The home's state is read last, only when the rest does not answer (a
 * home out of range reads as UNKNOWN from every binding, which uses no flow table).
 */
DT_INLINE bool dt_decide_reads_flow(struct dt_tables *t, const struct dt_prefix_info *prefix,
				    const struct dt_packet *pkt)
{
	if ((prefix->flags & DT_PREFIX_F_STATELESS) || pkt->malformed)
		return false;
	return dt_state_uses_flow_table(dt_tables_site_state(t, prefix->home_site));
}

#endif /* DT_DECIDE_H */
