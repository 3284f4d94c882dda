/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The failure detector and the site state machine (docs/detector.md).
 *
 * A pure library: no sockets, no threads, no clock reads. Every input carries its own time, a
 * CLOCK_MONOTONIC value in nanoseconds. The daemon loop that drives it is:
 *
 *	arm a timer at health__next_deadline(h) (absolute, TFD_TIMER_ABSTIME);
 *	wait on (timer, heartbeat socket);
 *	FIRST drain the socket: health__heartbeat(h, site, beacon, kernel_rx_time, flags) for each
 *	datagram;
 *	THEN health__advance(h, now).
 *
 * Draining first is what makes a late timer harmless: a heartbeat that arrived before a site's
 * deadline is applied before the deadline is processed, however late the process got to run.
 *
 * Not thread-safe, not reentrant: the event callback must not call back into the library.
 */
#ifndef DT_HEALTH_H
#define DT_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "dataplane/core/detour_abi.h"

#define HEALTH_NO_DEADLINE UINT64_MAX
#define HEALTH_MAX_BEACONS 8 /* beacon ids are 0 .. HEALTH_MAX_BEACONS - 1 */

/* Why a site changed state. Values are stable: logs and JSON print them by name. */
enum health_cause {
	HEALTH_CAUSE_NONE = 0,
	HEALTH_CAUSE_FIRST_HEARTBEAT = 1, /* UNKNOWN -> UP/DRAINING */
	HEALTH_CAUSE_NO_HEARTBEAT = 2, /* UNKNOWN -> DOWN: never heard within the start-up grace */
	HEALTH_CAUSE_HEARTBEAT_TIMEOUT = 3, /* no heartbeat for interval x multiplier */
	HEALTH_CAUSE_POWER_WARNING = 4,
	HEALTH_CAUSE_POWER_RESTORED = 5,
	HEALTH_CAUSE_OPERATOR_DRAIN = 6,
	HEALTH_CAUSE_OPERATOR_FAIL = 7,
	HEALTH_CAUSE_OPERATOR_RESTORE = 8,
	HEALTH_CAUSE_HOLD_DOWN_PASSED = 9,
	HEALTH_CAUSE_FLOWS_IDLE = 10,
	HEALTH_CAUSE_RECOVERY_TIMEOUT = 11,
	HEALTH_CAUSE_POWER_UNKNOWN = 12, /* notice: the UPS stopped answering */
	HEALTH_CAUSE_POWER_KNOWN = 13, /* notice: it answers again */
	HEALTH_CAUSE_BLACKOUT_HOLD = 14, /* notice: silent, but so is every other site: held */
	HEALTH_CAUSE_BLACKOUT_END =
		15, /* notice: another site was heard; the silence counts again */
	/*
	 * DOWN -> RECOVERING before its hold-down or damping allowed it: no configured site took
	 * new flows, and this one's heartbeats were arriving (docs/detector.md, "Last resort").
	 */
	HEALTH_CAUSE_LAST_RESORT = 16,
	/* notice: one beacon of a site still heard was silent for the detection time (degraded) */
	HEALTH_CAUSE_BEACON_SILENT = 17,
	HEALTH_CAUSE_BEACON_BACK = 18, /* notice: that beacon is heard again */
	/* notice: the site's largest recent heartbeat gap is within a quarter of its detection time */
	HEALTH_CAUSE_TIMERS_TOO_TIGHT = 19,
	/* UNKNOWN -> the state a previous detourd left (health__seed_site), before any heartbeat */
	HEALTH_CAUSE_STATE_RESTORED = 20,
	HEALTH_CAUSE_MAX,
};

enum health_override {
	HEALTH_OVERRIDE_NONE = 0,
	HEALTH_OVERRIDE_DRAIN = 1,
	HEALTH_OVERRIDE_FAIL = 2,
};

/* Damping in the spirit of RFC 2439: a penalty per flap that halves every half_life_ns. */
struct health_damping_config {
	__u32 penalty_per_flap; /* added on every flap (see flaps below); 0 disables damping */
	__u32 suppress_threshold; /* penalty at or above this at a flap: the site is suppressed */
	__u32 reuse_threshold; /* a suppressed site recovers only once the penalty is below this */
	__u64 half_life_ns;
	__u64 max_hold_down_ns; /* the hold-down never exceeds this, whatever the penalty */
};

struct health_site_config {
	__u16 id; /* 0 .. DT_MAX_SITES - 1 */
	char name[DT_SITE_NAME_MAX];
	__u64 interval_ns; /* the beacon's heartbeat interval */
	__u32 multiplier; /* heartbeats missed before DOWN */
	__u64 hold_down_ns; /* clean heartbeats needed before DOWN -> RECOVERING */
	__u64 recovery_timeout_ns; /* RECOVERING -> UP at the latest after this */
	struct health_damping_config damping;
	bool drain_on_unknown_power; /* treat DT_POWER_UNKNOWN as a warning */
	/*
	 * 0: DOWN after interval x multiplier. Else adaptive (phi-accrual, docs/detector.md): DOWN
	 * once P(a gap this long | alive) < 10^-phi_threshold under a normal fit of the last
	 * PHI_WINDOW gaps (deviation at least interval / 5), never before interval x multiplier
	 * and always by interval x HEALTH_PHI_MAX_MULTIPLIER.
	 */
	double phi_threshold;
	/*
	 * The site's beacons, a bitmask of ids 0 .. HEALTH_MAX_BEACONS - 1 (default: beacon 0). The
	 * site is alive while any of them is heard; a silent one of a live site is only a notice.
	 */
	__u8 beacons;
	/*
	 * The site warns (drains) when fewer than min(min_supplies, its live beacons) of its live
	 * beacons report mains without a warning: NUT's MINSUPPLIES. 1 .. beacons configured.
	 */
	__u8 min_supplies;
};

#define HEALTH_PHI_MAX_MULTIPLIER 100

/* Events carry one of these when something beyond from/to is worth a log line. */
#define HEALTH_EVENT_F_ALL_SITES_DOWN (1u << 0) /* after this event no configured site is up */
#define HEALTH_EVENT_F_FORCED (1u << 1) /* an operator forced an otherwise refused change */
#define HEALTH_EVENT_F_NOTICE (1u << 2) /* not a transition: from == to */
#define HEALTH_EVENT_F_POWER_UNKNOWN (1u << 3) /* the site's power state is unknown */
#define HEALTH_EVENT_F_BLACKOUT (1u << 4) /* DOWN after a blackout hold ran out */

struct health_event {
	__u16 site;
	/* beacon_silent/back: that beacon; anything else: the beacon heard last (0 if none) */
	__u8 beacon;
	const char *site_name; /* valid during the callback */
	enum dt_site_state from;
	enum dt_site_state to;
	enum health_cause cause;
	__u32 flags; /* HEALTH_EVENT_F_* */
	__u32 power_flags; /* from the site's last heartbeat (of any beacon) */
	__u64 last_heartbeat_ns; /* arrival of the last accepted heartbeat; 0 if never heard */
	/*
	 * When the cause took effect: for a timeout, the deadline itself (last heartbeat +
	 * interval x multiplier, or the hold-down/recovery end); for a heartbeat, its arrival;
	 * for an operator request, its time.
	 */
	__u64 deadline_ns;
	__u64 detected_ns; /* the library time at which it was noticed (>= deadline_ns) */
	__u64 applied_ns; /* 0 here: the daemon fills it when the dataplane has it */
	__u64 hold_down_ns; /* DOWN -> RECOVERING/DRAINING: the hold-down that was applied */
	double penalty; /* damping penalty at deadline_ns */
	/* timers_too_tight: the largest recent gap and the multiplier that would have held it */
	__u64 max_gap_ns;
	__u32 suggested_multiplier;
};

typedef void (*health_event_fn)(const struct health_event *ev, void *ctx);

struct health_opts {
	__u64 start_ns; /* library time starts here */
	/*
	 * A configured site never heard from goes DOWN after max(startup_grace_ns, its detection
	 * time) from when it was added: beacons get a chance before a fresh daemon fails anything.
	 */
	__u64 startup_grace_ns;
	/*
	 * The blackout guard (docs/detector.md): a site whose deadline passes while every other
	 * site that should be sending is silent too is held, not failed, for at most this long;
	 * the time until another site is heard again does not count against it. 0: no guard.
	 */
	__u64 blackout_hold_ns;
	health_event_fn on_event;
	void *ctx;
};

struct health_site_status {
	enum dt_site_state state;
	enum health_override override;
	__u32 power_flags;
	bool heard;
	bool clean_run; /* heartbeats without warning and without a gap since clean_since_ns */
	__u64 last_heartbeat_ns;
	__u64 clean_since_ns;
	__u64 next_deadline_ns;
	double penalty; /* at the library's current time */
	bool suppressed; /* damping holds it DOWN beyond its hold-down until suppressed_until_ns */
	__u64 suppressed_until_ns; /* when the penalty reaches the reuse threshold; 0 if not */
	__u64 flaps; /* heartbeat-driven DOWNs, and bounces (back, then gone) while DOWN */
	__u64 stale_heartbeats; /* arrivals older than the newest one: ignored */
	__u64 detect_ns; /* the silence that makes it DOWN now (adaptive: changes per heartbeat) */
	bool blackout_held; /* its deadline passed during a blackout: held, not failed */
	__u64 blackout_holds; /* deadlines held by the blackout guard */
	__u8 beacons; /* configured, a bitmask of beacon ids */
	__u8 beacons_live; /* of those, heard within the detection time now */
	bool degraded; /* the site is heard, but not every configured beacon is */
	__u64 beacon_last_ns[HEALTH_MAX_BEACONS]; /* each beacon's last arrival; 0 if never heard */
	__u32 beacon_power_flags[HEALTH_MAX_BEACONS]; /* from each beacon's last heartbeat */
	__u64 beacon_max_gap_ns[HEALTH_MAX_BEACONS]; /* each beacon's largest recent gap */
	__u64 max_gap_ns; /* the site's largest recent gap between arrivals of any beacon */
	bool detect_too_tight; /* max_gap_ns x 5/4 reaches detect_ns */
	__u32 suggested_multiplier; /* smallest m with interval x m > max_gap_ns x 5/4 */
};

/*
 * What a restarted daemon needs to go on where the last one stopped (docs/detector.md, "Restart"):
 * the state, the override, when the state began, and the damping. Times are CLOCK_MONOTONIC, so
 * a seed is only good within one boot; the override is good across boots.
 */
struct health_seed {
	enum dt_site_state state;
	enum health_override override;
	__u64 since_ns; /* DOWN: when it went down; RECOVERING: when it began; else 0 */
	__u64 flaps;
	double penalty; /* the damping penalty as of penalty_ns, not decayed */
	__u64 penalty_ns;
	__u64 reuse_ns; /* suppressed until then; 0 if not */
};

/* Operator requests: refuse (-EBUSY) to leave no site up unless this is given. */
#define HEALTH_F_FORCE (1u << 0)

struct health;

void health_site_config__init(struct health_site_config *cfg, __u16 id, const char *name);

int health__new(const struct health_opts *opts, struct health **hp);
void health__free(struct health *h);
int health__add_site(struct health *h, const struct health_site_config *cfg);

/*
 * Heartbeats of different sites must be given in arrival order (the daemon sorts what one
 * wake-up drained): the blackout guard judges one site's silence by the others' arrivals.
 */
/* -ENOENT: no such site; -EINVAL: @beacon is not one of the site's. */
int health__heartbeat(struct health *h, __u16 site, __u8 beacon, __u64 arrival_ns,
		      __u32 power_flags);
int health__advance(struct health *h, __u64 now_ns);
__u64 health__next_deadline(const struct health *h);

int health__drain(struct health *h, __u16 site, __u64 now_ns, __u32 flags);
int health__fail(struct health *h, __u16 site, __u64 now_ns, __u32 flags);
/* Clears an override and the site's damping penalty: a suppressed site recovers as if unpunished. */
int health__restore(struct health *h, __u16 site, __u64 now_ns);
int health__flows_idle(struct health *h, __u16 site, __u64 now_ns);
int health__set_blackout_hold(struct health *h, __u64 hold_ns);

int health__site_status(const struct health *h, __u16 site, struct health_site_status *st);
/* The site's seed, to be saved. 0, -EINVAL or -ENOENT. */
int health__site_seed(const struct health *h, __u16 site, struct health_seed *seed);
/*
 * Start a site not yet heard from where a previous daemon left it, at the library's current time:
 * a transition UNKNOWN -> seed->state (cause state_restored) unless that is UNKNOWN. A DOWN site
 * then needs its hold-down of fresh heartbeats, a RECOVERING one keeps its moved flows, and a
 * site that serves flows goes DOWN (no_heartbeat) if it is not heard within the start-up grace.
 * Times later than now are taken as now. -EBUSY once the site was heard or seeded; -EINVAL for
 * a state, override or penalty that cannot be, or an override its state contradicts.
 */
int health__seed_site(struct health *h, __u16 site, const struct health_seed *seed);
bool health__all_sites_down(const struct health *h);
__u64 health__now(const struct health *h);

const char *health_cause_name(enum health_cause cause);
const char *health_override_name(enum health_override override);

#endif /* DT_HEALTH_H */
