/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The decision: given a parsed packet, where does its flow go?
 *
 * This is the one copy of Detour's policy, shared by the XDP program and the DPDK engine. It reads
 * the tables through seven functions that the including program defines before including this
 * header (BPF map lookups in ebpf/detour.bpf.c, RCU-published tables in the DPDK engine, plain
 * arrays in unit tests):
 *
 *   const struct dt_prefix_info *dt_tables_prefix(struct dt_tables *t, const struct dt_flow_key *k);
 *   __u32 dt_tables_site_state(struct dt_tables *t, __u32 site);
 *   const struct dt_failover_slots *dt_tables_failover(struct dt_tables *t, __u32 home);
 *   struct dt_flow_state *dt_tables_flow(struct dt_tables *t, const struct dt_flow_key *k);
 *   int dt_tables_flow_record(struct dt_tables *t, const struct dt_flow_key *k,
 *                             const struct dt_flow_state *v);
 *   __u64 dt_tables_now(struct dt_tables *t);          (monotonic ns)
 *   __u32 dt_tables_flow_hash(struct dt_tables *t, const struct dt_flow_key *k);
 *        dt_flow_hash() of @k with the fleet-wide seed of the configuration, so that every edge
 *        decides alike; an engine that cached it with the flow may answer from the cache
 *
 * The healthy path (no prefix, or home UP) does two lookups, no writes and no hash. The flow
 * table is written only when a flow leaves its home, and while its home drains; refreshing
 * last_seen is rate-limited to once per DT_FLOW_REFRESH_NS per flow.
 */
#ifndef DT_DECIDE_H
#define DT_DECIDE_H

#include "dt_compiler.h"
#include "detour_abi.h"
#include "flow_hash.h"
#include "site_state.h"

struct dt_tables;

struct dt_decision {
	__u32 home; /* home site, DT_SITE_NONE when no prefix matched */
	__u32 target; /* site the flow goes to; == home when it stays */
	__u32 hash; /* flow hash; computed only to choose a new target, else 0 */
	int reason; /* enum dt_reason to count under */
	bool record_failed; /* the flow table refused an insert: counted on its own */
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

/* A new flow is a TCP SYN without ACK, or any non-TCP flow the table does not know. */
DT_INLINE bool dt_packet_starts_flow(const struct dt_packet *pkt)
{
	const __u8 syn = 0x02, ack = 0x10;

	if (pkt->key.proto != 6 /* IPPROTO_TCP */)
		return true;
	return (pkt->tcp_flags & (syn | ack)) == syn;
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

DT_INLINE void dt_flow_record(struct dt_tables *t, const struct dt_packet *pkt,
			      struct dt_decision *d, __u8 flags)
{
	struct dt_flow_state v = {
		.last_seen_ns = dt_tables_now(t),
		.home_site = (__u16)d->home,
		.target_site = (__u16)d->target,
		.flags = flags,
	};

	if (dt_tables_flow_record(t, &pkt->key, &v))
		d->record_failed = true;
}

/* Send the flow to a freshly chosen target, or fail open when there is none. */
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
	if (record)
		dt_flow_record(t, pkt, d, 0);
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
	dt_flow_touch(t, flow);
	d->target = flow->target_site;
	d->reason = DT_REASON_NONE;
	return true;
}

DT_INLINE void dt_decide_down(struct dt_tables *t, const struct dt_packet *pkt, bool stateless,
			      struct dt_decision *d)
{
	struct dt_flow_state *flow = stateless ? NULL : dt_tables_flow(t, &pkt->key);

	if (flow && !(flow->flags & DT_FLOW_F_HOME) && dt_decide_known(t, pkt, flow, d))
		return;
	dt_decide_move(t, pkt, d, !stateless);
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
	if (flow && dt_decide_known(t, pkt, flow, d))
		return;
	if (dt_packet_starts_flow(pkt)) {
		dt_decide_move(t, pkt, d, true);
		return;
	}
	/* Established before the drain began: it stays home, and the table remembers that. */
	d->reason = DT_REASON_HOME_UP;
	dt_flow_record(t, pkt, d, DT_FLOW_F_HOME);
}

DT_INLINE void dt_decide_recovering(struct dt_tables *t, const struct dt_packet *pkt,
				    bool stateless, struct dt_decision *d)
{
	struct dt_flow_state *flow = stateless ? NULL : dt_tables_flow(t, &pkt->key);

	if (flow && !(flow->flags & DT_FLOW_F_HOME) && dt_decide_known(t, pkt, flow, d))
		return;
	d->reason = DT_REASON_HOME_UP; /* new flows, and flows whose target died, go home */
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
	d->record_failed = false;
	if (!prefix || prefix->home_site >= DT_MAX_SITES)
		return;
	d->home = prefix->home_site;
	d->target = d->home;
	d->reason = DT_REASON_HOME_UP;
	state = dt_tables_site_state(t, d->home);
	if (dt_state_keeps_home(state))
		return;
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
	stateless = (prefix->flags & DT_PREFIX_F_STATELESS) || pkt->malformed;
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
