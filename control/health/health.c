/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The site state machine. Each site is driven by two kinds of input: heartbeats (with their
 * kernel arrival time) and deadlines that the library computes from them. A deadline is processed
 * at its own time, never at the time someone noticed it, so the outcome does not depend on how
 * late the caller's timer fired. docs/detector.md pins down every transition.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/heartbeat/power_flags.h"
#include "dataplane/core/site_state.h"
#include "damping.h"
#include "gaps.h"
#include "health.h"
#include "phi.h"

/* Durations beyond this (about 36 years) are configuration mistakes. */
#define HEALTH_MAX_NS (1ull << 60)
/*
 * A site takes at most a few deadline steps per call (RECOVERING -> DOWN is the longest chain);
 * the bound only keeps a logic error from turning into a hang.
 */
#define HEALTH_MAX_STEPS ((8 + HEALTH_MAX_BEACONS) * DT_MAX_SITES)
/*
 * Arrivals remembered per site for the blackout guard, which asks whether a site was heard in a
 * window that may lie before its newest arrivals (they can be read before another site's
 * deadline is judged).
 */
#define HEALTH_HISTORY 16
/*
 * While DOWN, a clean run is broken only by a gap of max(detect, hold-down / this): jitter a bit
 * beyond the detection time must not keep a site with fresh heartbeats DOWN for ever
 * (docs/detector.md, "Recovery on a jittery link").
 */
#define HEALTH_DOWN_GAP_DIVISOR 10

/* One beacon of a site. Its silence counts from since_ns: its last arrival, or else the site's. */
struct health_beacon {
	bool tracked; /* since_ns is set: the site has been heard since it last went silent */
	bool silent; /* beacon_silent was emitted and beacon_back not yet */
	__u64 since_ns;
	__u64 last_ns; /* last arrival; 0 if never heard */
	__u32 power_flags;
	struct gap_max gaps;
};

struct health_site {
	struct health_site_config cfg;
	bool configured;
	bool seeded; /* health__seed_site() gave it a previous daemon's state */
	bool heard;
	bool clean_run;
	bool power_unknown;
	enum dt_site_state state;
	enum health_override override;
	__u32 power_flags;
	__u64 detect_ns; /* the silence that makes it DOWN now: interval x multiplier, or adaptive */
	__u64 fixed_detect_ns; /* interval x multiplier: the adaptive detector's floor */
	double phi_z; /* adaptive: the normal quantile of phi_threshold */
	struct phi_window *phi; /* adaptive only */
	__u64 last_arrival_ns;
	__u64 clean_since_ns;
	__u64 recovering_since_ns;
	__u64 down_since_ns;
	__u64 grace_end_ns;
	__u64 restored_ns; /* when a fail override was last cleared */
	struct damping damping;
	__u64 flaps;
	__u64 stale_heartbeats;
	__u64 history[HEALTH_HISTORY]; /* the latest arrivals, a ring */
	unsigned int history_len;
	unsigned int history_next;
	bool held; /* its deadline passed during a blackout */
	__u64 held_since_ns; /* the deadline that was held */
	__u64 blackout_start_ns; /* the last arrival of any site before that deadline */
	__u64 blackout_credit_ns; /* blackout time since its last arrival: not counted */
	__u64 blackout_holds;
	struct health_beacon beacon[HEALTH_MAX_BEACONS];
	__u8 last_beacon; /* the beacon heard last */
	struct gap_max gaps; /* between arrivals of any beacon: what detection sees */
	bool too_tight; /* timers_too_tight was emitted and the gap is still in the window */
};

struct health {
	struct health_opts opts;
	__u64 now_ns;
	bool all_down;
	__u64 no_taker_since_ns; /* since when no configured site takes new flows; 0: one does */
	struct health_site sites[DT_MAX_SITES];
};

void health_site_config__init(struct health_site_config *cfg, __u16 id, const char *name)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->id = id;
	snprintf(cfg->name, sizeof(cfg->name), "%s", name ? name : "");
	cfg->interval_ns = 5000000; /* 5 ms */
	cfg->multiplier = 3;
	cfg->hold_down_ns = 1000000000; /* 1 s */
	cfg->recovery_timeout_ns = 30000000000ull; /* 30 s */
	/* RFC 2439's recommended thresholds, with times scaled to power events. */
	cfg->damping.penalty_per_flap = 1000;
	cfg->damping.suppress_threshold = 2000;
	cfg->damping.reuse_threshold = 750;
	cfg->damping.half_life_ns = 60000000000ull; /* 1 min */
	cfg->damping.max_hold_down_ns = 300000000000ull; /* 5 min */
	cfg->beacons = 1; /* beacon 0 */
	cfg->min_supplies = 1;
}

static int site_config__validate(const struct health_site_config *cfg)
{
	if (cfg->id >= DT_MAX_SITES)
		return -EINVAL;
	if (!cfg->name[0] || !memchr(cfg->name, '\0', sizeof(cfg->name)))
		return -EINVAL;
	if (!cfg->interval_ns || !cfg->multiplier ||
	    cfg->interval_ns > HEALTH_MAX_NS / cfg->multiplier)
		return -EINVAL;
	if (cfg->hold_down_ns > HEALTH_MAX_NS)
		return -EINVAL;
	if (!cfg->recovery_timeout_ns || cfg->recovery_timeout_ns > HEALTH_MAX_NS)
		return -EINVAL;
	if (!(cfg->phi_threshold == 0 || (cfg->phi_threshold > 0 && cfg->phi_threshold <= PHI_MAX)))
		return -EINVAL;
	if (!cfg->beacons || !cfg->min_supplies ||
	    cfg->min_supplies > (unsigned int)__builtin_popcount(cfg->beacons))
		return -EINVAL;
	return damping_config__validate(&cfg->damping, cfg->hold_down_ns);
}

int health__new(const struct health_opts *opts, struct health **hp)
{
	struct health *h;

	if (!opts || !hp || opts->startup_grace_ns > HEALTH_MAX_NS ||
	    opts->blackout_hold_ns > HEALTH_MAX_NS)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->opts = *opts;
	h->now_ns = opts->start_ns;
	*hp = h;
	return 0;
}

void health__free(struct health *h)
{
	int i;

	for (i = 0; h && i < DT_MAX_SITES; i++)
		free(h->sites[i].phi);
	free(h);
}

int health__add_site(struct health *h, const struct health_site_config *cfg)
{
	struct health_site *s;
	__u64 grace;
	int err;

	if (!h || !cfg)
		return -EINVAL;
	err = site_config__validate(cfg);
	if (err)
		return err;
	s = &h->sites[cfg->id];
	if (s->configured)
		return -EEXIST;
	memset(s, 0, sizeof(*s));
	if (cfg->phi_threshold > 0) {
		s->phi = calloc(1, sizeof(*s->phi));
		if (!s->phi)
			return -ENOMEM;
		s->phi_z = phi_z(cfg->phi_threshold);
	}
	s->cfg = *cfg;
	s->configured = true;
	s->state = DT_SITE_UNKNOWN;
	s->detect_ns = cfg->interval_ns * cfg->multiplier;
	s->fixed_detect_ns = s->detect_ns;
	grace = h->opts.startup_grace_ns > s->detect_ns ? h->opts.startup_grace_ns : s->detect_ns;
	s->grace_end_ns = sat_add(h->now_ns, grace);
	h->all_down = false;
	return 0;
}

static struct health_site *health__site(struct health *h, __u16 id)
{
	if (!h || id >= DT_MAX_SITES || !h->sites[id].configured)
		return NULL;
	return &h->sites[id];
}

/* ---- Site facts ---------------------------------------------------------------------------- */

static bool site__warning(const struct health_site *s, __u32 power_flags)
{
	if (power_flags & DT_POWER_WARNING_MASK)
		return true;
	return s->cfg.drain_on_unknown_power && (power_flags & DT_POWER_UNKNOWN);
}

/*
 * Alive on [last arrival, last arrival + detect): a heartbeat exactly at the deadline is late. A
 * seeded site not yet heard (health__seed_site) is alive until the end of its start-up grace.
 */
static __u64 site__alive_until(const struct health_site *s)
{
	if (!s->heard)
		return s->grace_end_ns;
	return sat_add(sat_add(s->last_arrival_ns, s->detect_ns), s->blackout_credit_ns);
}

/*
 * The end of the clean run's life: a gap of detect_ns breaks it, but while DOWN only a gap of
 * max(detect_ns, hold-down / HEALTH_DOWN_GAP_DIVISOR) does.
 */
static __u64 site__run_alive_until(const struct health_site *s)
{
	__u64 tolerance = s->cfg.hold_down_ns / HEALTH_DOWN_GAP_DIVISOR;

	if (s->state != DT_SITE_DOWN || tolerance <= s->detect_ns)
		return site__alive_until(s);
	return sat_add(sat_add(s->last_arrival_ns, tolerance), s->blackout_credit_ns);
}

static bool site__has_beacon(const struct health_site *s, unsigned int b)
{
	return b < HEALTH_MAX_BEACONS && (s->cfg.beacons & (1u << b));
}

/* When beacon @b's silence reaches the detection time; HEALTH_NO_DEADLINE if not tracked. */
static __u64 beacon__silent_at(const struct health_site *s, const struct health_beacon *b)
{
	if (!b->tracked)
		return HEALTH_NO_DEADLINE;
	return sat_add(sat_add(b->since_ns, s->detect_ns), s->blackout_credit_ns);
}

static bool beacon__live(const struct health_site *s, const struct health_beacon *b, __u64 t_ns)
{
	return b->tracked && t_ns < beacon__silent_at(s, b);
}

/*
 * The next beacon_silent notice: a beacon that falls silent while the site is still heard
 * through another one. When the last one goes, the site's own deadline says it.
 */
static __u64 site__beacon_deadline(const struct health_site *s, unsigned int *which)
{
	__u64 at, best = HEALTH_NO_DEADLINE, alive = site__alive_until(s);
	unsigned int b;

	for (b = 0; b < HEALTH_MAX_BEACONS; b++) {
		if (!site__has_beacon(s, b) || s->beacon[b].silent)
			continue;
		at = beacon__silent_at(s, &s->beacon[b]);
		if (at < alive && at < best) {
			best = at;
			*which = b;
		}
	}
	return best;
}

/* While held, the site is failed when the hold runs out, unless someone is heard before. */
static __u64 site__blackout_cap(const struct health *h, const struct health_site *s)
{
	return sat_add(s->held_since_ns, h->opts.blackout_hold_ns);
}

static __u64 site__hold_down_end(const struct health_site *s)
{
	return damping__hold_down_end(&s->damping, &s->cfg.damping, s->cfg.hold_down_ns,
				      s->clean_since_ns);
}

/*
 * The last resort: while no configured site takes new flows, a DOWN site whose heartbeats are
 * arriving takes them at once, hold-down and damping waived; the alternative is the packet
 * path's fail-open to a home that may be dead. HEALTH_NO_DEADLINE when it does not apply.
 */
static __u64 site__last_resort_at(const struct health *h, const struct health_site *s)
{
	if (!h->no_taker_since_ns)
		return HEALTH_NO_DEADLINE;
	return s->clean_since_ns > h->no_taker_since_ns ? s->clean_since_ns : h->no_taker_since_ns;
}

/*
 * DOWN -> RECOVERING happens at the end of the hold-down, provided the clean run is still alive
 * then (no gap of detect_ns yet), and not before a fail override was cleared; earlier as the
 * last resort.
 */
static __u64 site__recover_deadline(const struct health *h, const struct health_site *s)
{
	__u64 at, resort;

	if (s->override == HEALTH_OVERRIDE_FAIL || !s->clean_run)
		return HEALTH_NO_DEADLINE;
	at = site__hold_down_end(s);
	if (at < s->restored_ns)
		at = s->restored_ns;
	resort = site__last_resort_at(h, s);
	if (resort < at)
		at = resort;
	/* due during a tolerated gap (only while DOWN): at the next arrival, if the run lives */
	if (at < s->last_arrival_ns)
		at = s->last_arrival_ns;
	return at < site__alive_until(s) ? at : HEALTH_NO_DEADLINE;
}

static __u64 site__state_deadline(const struct health *h, const struct health_site *s)
{
	__u64 alive = s->held ? site__blackout_cap(h, s) : site__alive_until(s);
	__u64 recovered;

	switch (s->state) {
	case DT_SITE_UNKNOWN:
		return s->grace_end_ns;
	case DT_SITE_UP:
	case DT_SITE_DRAINING:
		return alive;
	case DT_SITE_RECOVERING:
		/* a seeded site is not UP before it is heard */
		recovered = s->heard ? sat_add(s->recovering_since_ns, s->cfg.recovery_timeout_ns) :
				       HEALTH_NO_DEADLINE;
		return alive < recovered ? alive : recovered;
	case DT_SITE_DOWN:
		return site__recover_deadline(h, s);
	default:
		return HEALTH_NO_DEADLINE;
	}
}

static __u64 site__next_deadline(const struct health *h, const struct health_site *s)
{
	__u64 state = site__state_deadline(h, s);
	unsigned int b;
	__u64 beacon = site__beacon_deadline(s, &b);

	return beacon < state ? beacon : state;
}

/* ---- Events and transitions ---------------------------------------------------------------- */

static struct health_event event_at(enum dt_site_state to, enum health_cause cause, __u64 at_ns,
				    __u64 detected_ns)
{
	struct health_event ev = {
		.to = to,
		.cause = cause,
		.deadline_ns = at_ns,
		.detected_ns = detected_ns > at_ns ? detected_ns : at_ns,
	};

	return ev;
}

static bool health__every_site_down(const struct health *h)
{
	bool any = false;
	int i;

	for (i = 0; i < DT_MAX_SITES; i++) {
		if (!h->sites[i].configured)
			continue;
		if (h->sites[i].state != DT_SITE_DOWN)
			return false;
		any = true;
	}
	return any;
}

/*
 * New flows have nowhere to go: no configured site takes them. A lone site is never in this
 * position: its traffic has no other place to be, and its hold-down keeps its meaning.
 */
static bool health__no_site_takes_new_flows(const struct health *h)
{
	int i, configured = 0;

	for (i = 0; i < DT_MAX_SITES; i++) {
		if (!h->sites[i].configured)
			continue;
		if (dt_state_takes_new_flows(h->sites[i].state))
			return false;
		configured++;
	}
	return configured > 1;
}

static void health__emit(struct health *h, const struct health_site *s, struct health_event *ev)
{
	ev->site = s->cfg.id;
	if (ev->cause != HEALTH_CAUSE_BEACON_SILENT && ev->cause != HEALTH_CAUSE_BEACON_BACK)
		ev->beacon = s->last_beacon;
	ev->site_name = s->cfg.name;
	ev->power_flags = s->power_flags;
	ev->last_heartbeat_ns = s->heard ? s->last_arrival_ns : 0;
	if (ev->cause == HEALTH_CAUSE_BEACON_SILENT || ev->cause == HEALTH_CAUSE_BEACON_BACK)
		ev->last_heartbeat_ns = s->beacon[ev->beacon].last_ns; /* that beacon's own */
	ev->penalty = damping__penalty(&s->damping, &s->cfg.damping, ev->deadline_ns);
	if (s->power_unknown)
		ev->flags |= HEALTH_EVENT_F_POWER_UNKNOWN;
	if (h->opts.on_event)
		h->opts.on_event(ev, h->opts.ctx);
}

/* A release happens inside a transition to DOWN (health__last_resort_before_down). */
static void site__transition(struct health *h, struct health_site *s, struct health_event *ev);

static enum health_cause site__recover_cause(const struct health_site *s, __u64 at_ns)
{
	__u64 end = site__hold_down_end(s);

	if (at_ns < end || at_ns < s->restored_ns)
		return HEALTH_CAUSE_LAST_RESORT; /* before the hold-down allows it: only this does */
	if (at_ns == s->restored_ns && end < at_ns)
		return HEALTH_CAUSE_OPERATOR_RESTORE;
	return HEALTH_CAUSE_HOLD_DOWN_PASSED;
}

static void site__recover_one(struct health *h, struct health_site *s, __u64 at_ns,
			      __u64 detected_ns, enum health_cause cause)
{
	enum dt_site_state to = s->override == HEALTH_OVERRIDE_DRAIN ? DT_SITE_DRAINING :
								       DT_SITE_RECOVERING;
	struct health_event ev = event_at(to, cause, at_ns, detected_ns);

	ev.hold_down_ns = at_ns - s->clean_since_ns;
	site__transition(h, s, &ev);
}

/*
 * The clean run of @s, alive now, was alive at @at_ns too: it began by then and has not ended
 * since. A heartbeat read in the same batch may already be later than @at_ns.
 */
static bool site__run_spans(const struct health_site *s, __u64 at_ns)
{
	if (s->override == HEALTH_OVERRIDE_FAIL || !s->clean_run || s->clean_since_ns > at_ns)
		return false;
	return s->last_arrival_ns >= at_ns || at_ns < site__alive_until(s);
}

/*
 * The last resort releases every DOWN site it allows at @at_ns, all at once, so the load of the
 * dead sites spreads as the failover ranking intends. Chosen before the first moves: afterwards a
 * site takes new flows and the reason is gone.
 */
static void health__last_resort_release(struct health *h, const struct health_site *due,
					__u64 at_ns, __u64 detected_ns)
{
	bool released[DT_MAX_SITES];
	struct health_site *o;
	int i;

	for (i = 0; i < DT_MAX_SITES; i++) {
		o = &h->sites[i];
		released[i] = o == due || (o->configured && o->state == DT_SITE_DOWN &&
					   (site__recover_deadline(h, o) <= at_ns ||
					    site__run_spans(o, at_ns)));
	}
	for (i = 0; i < DT_MAX_SITES; i++) {
		if (released[i])
			site__recover_one(h, &h->sites[i], at_ns, detected_ns,
					  site__recover_cause(&h->sites[i], at_ns));
	}
}

static void site__recover(struct health *h, struct health_site *s, __u64 at_ns, __u64 detected_ns)
{
	enum health_cause cause = site__recover_cause(s, at_ns);

	if (cause == HEALTH_CAUSE_LAST_RESORT)
		health__last_resort_release(h, s, at_ns, detected_ns);
	else
		site__recover_one(h, s, at_ns, detected_ns, cause);
}

/*
 * @s, the last site that takes new flows, is about to go DOWN: the sites the last resort allows
 * are released first, at the same instant, so the dataplane - written once per event - never
 * holds every site DOWN in between and never fails open to a dead home.
 */
static void health__last_resort_before_down(struct health *h, struct health_site *s, __u64 at_ns,
					    __u64 detected_ns)
{
	enum dt_site_state was = s->state;
	bool nowhere;

	if (!dt_state_takes_new_flows(was) || h->no_taker_since_ns)
		return;
	s->state = DT_SITE_DOWN;
	nowhere = health__no_site_takes_new_flows(h);
	s->state = was;
	if (!nowhere)
		return;
	h->no_taker_since_ns = at_ns; /* as it will be; a release resets it */
	health__last_resort_release(h, NULL, at_ns, detected_ns);
}

static void site__transition(struct health *h, struct health_site *s, struct health_event *ev)
{
	if (ev->to == DT_SITE_DOWN)
		health__last_resort_before_down(h, s, ev->deadline_ns, ev->detected_ns);
	ev->from = s->state;
	s->state = ev->to;
	if (ev->to == DT_SITE_RECOVERING)
		s->recovering_since_ns = ev->deadline_ns;
	if (ev->to == DT_SITE_DOWN) {
		s->down_since_ns = ev->deadline_ns;
		s->held = false;
		s->blackout_credit_ns = 0;
	}
	h->all_down = health__every_site_down(h);
	if (!health__no_site_takes_new_flows(h))
		h->no_taker_since_ns = 0;
	else if (!h->no_taker_since_ns)
		h->no_taker_since_ns = ev->deadline_ns;
	if (h->all_down && ev->to == DT_SITE_DOWN)
		ev->flags |= HEALTH_EVENT_F_ALL_SITES_DOWN;
	health__emit(h, s, ev);
}

/* Heartbeats stopped: the only transition that counts as a flap. */
static void site__lose(struct health *h, struct health_site *s, __u64 at_ns, __u64 detected_ns)
{
	struct health_event ev =
		event_at(DT_SITE_DOWN, HEALTH_CAUSE_HEARTBEAT_TIMEOUT, at_ns, detected_ns);

	if (s->held)
		ev.flags |= HEALTH_EVENT_F_BLACKOUT;
	s->clean_run = false;
	s->flaps++;
	damping__flap(&s->damping, &s->cfg.damping, at_ns);
	site__transition(h, s, &ev);
}

/* ---- The blackout guard -------------------------------------------------------------------- */

static void site__remember_arrival(struct health_site *s, __u64 arrival_ns)
{
	s->history[s->history_next] = arrival_ns;
	s->history_next = (s->history_next + 1) % HEALTH_HISTORY;
	if (s->history_len < HEALTH_HISTORY)
		s->history_len++;
}

/*
 * The newest arrival of @s at or before @t_ns into @at: false when the ring no longer reaches
 * back that far (every remembered arrival is later and older ones were forgotten).
 */
static bool site__arrival_before(const struct health_site *s, __u64 t_ns, __u64 *at)
{
	unsigned int i;

	*at = 0;
	for (i = 0; i < s->history_len; i++) {
		if (s->history[i] <= t_ns && s->history[i] > *at)
			*at = s->history[i];
	}
	return *at || s->history_len < HEALTH_HISTORY;
}

/*
 * A blackout at @t_ns, for @s whose deadline it is: every other site that should be sending has
 * been silent for at least 1.5 of its own intervals too. One site's power cut leaves the others
 * talking; all of them silent at once is far more likely the edge (its CPU, its management
 * network) than as many cuts. @start gets the last time any of them was heard.
 */
static bool health__blackout(const struct health *h, const struct health_site *s, __u64 t_ns,
			     __u64 *start)
{
	bool witness = false;
	__u64 last;
	int i;

	*start = s->last_arrival_ns;
	for (i = 0; h->opts.blackout_hold_ns && i < DT_MAX_SITES; i++) {
		const struct health_site *o = &h->sites[i];
		__u64 quiet = o->cfg.interval_ns + o->cfg.interval_ns / 2;

		if (o == s || !o->configured || !o->heard || !dt_state_serves_flows(o->state))
			continue;
		if (!site__arrival_before(o, t_ns, &last) || sat_add(last, quiet) > t_ns)
			return false;
		witness = true;
		if (last > *start)
			*start = last;
	}
	return witness;
}

static void site__notice(struct health *h, struct health_site *s, enum health_cause cause,
			 __u64 at_ns, __u64 detected_ns)
{
	struct health_event ev = event_at(s->state, cause, at_ns, detected_ns);

	ev.from = s->state;
	ev.flags = HEALTH_EVENT_F_NOTICE;
	health__emit(h, s, &ev);
}

/* The deadline at @at_ns fell in a blackout: hold the site instead of failing it. */
static bool site__hold(struct health *h, struct health_site *s, __u64 at_ns, __u64 detected_ns)
{
	__u64 start;

	if (s->held || !health__blackout(h, s, at_ns, &start))
		return false;
	s->held = true;
	s->held_since_ns = at_ns;
	s->blackout_start_ns = start;
	s->blackout_holds++;
	site__notice(h, s, HEALTH_CAUSE_BLACKOUT_HOLD, at_ns, detected_ns);
	return true;
}

/* A site was heard at @at_ns: the blackout is over and its length is not held against @s. */
static void site__release(struct health *h, struct health_site *s, __u64 at_ns, __u64 detected_ns)
{
	s->held = false;
	s->blackout_credit_ns += at_ns - s->blackout_start_ns;
	site__notice(h, s, HEALTH_CAUSE_BLACKOUT_END, at_ns, detected_ns);
}

static void site__beacon_silent(struct health *h, struct health_site *s, unsigned int b,
				__u64 at_ns, __u64 detected_ns);

/* Process one deadline of @s, due at @at_ns, that the caller noticed at @detected_ns. */
static void site__fire(struct health *h, struct health_site *s, __u64 at_ns, __u64 detected_ns)
{
	struct health_event ev;
	unsigned int b;

	if (site__beacon_deadline(s, &b) == at_ns && at_ns <= site__state_deadline(h, s)) {
		site__beacon_silent(h, s, b, at_ns, detected_ns);
	} else if (s->state == DT_SITE_UNKNOWN) {
		ev = event_at(DT_SITE_DOWN, HEALTH_CAUSE_NO_HEARTBEAT, at_ns, detected_ns);
		site__transition(h, s, &ev);
	} else if (s->state == DT_SITE_DOWN) {
		site__recover(h, s, at_ns, detected_ns);
	} else if (!s->heard) { /* seeded, and silent for the start-up grace */
		ev = event_at(DT_SITE_DOWN, HEALTH_CAUSE_NO_HEARTBEAT, at_ns, detected_ns);
		site__transition(h, s, &ev);
	} else if (at_ns >= (s->held ? site__blackout_cap(h, s) : site__alive_until(s))) {
		/* when both are due at once, lost heartbeats win over the recovery timeout */
		if (!site__hold(h, s, at_ns, detected_ns))
			site__lose(h, s, at_ns, detected_ns);
	} else {
		ev = event_at(DT_SITE_UP, HEALTH_CAUSE_RECOVERY_TIMEOUT, at_ns, detected_ns);
		site__transition(h, s, &ev);
	}
}

/* ---- Time ---------------------------------------------------------------------------------- */

static int health__step_site(struct health *h, struct health_site *s, __u64 to_ns,
			     __u64 detected_ns)
{
	__u64 at;
	int i;

	for (i = 0; i < HEALTH_MAX_STEPS; i++) {
		at = site__next_deadline(h, s);
		if (at == HEALTH_NO_DEADLINE || at > to_ns)
			return 0;
		site__fire(h, s, at, detected_ns);
	}
	return -ELOOP;
}

static struct health_site *health__earliest(struct health *h, __u64 *at_ns)
{
	struct health_site *earliest = NULL;
	__u64 at, best = HEALTH_NO_DEADLINE;
	int i;

	for (i = 0; i < DT_MAX_SITES; i++) {
		if (!h->sites[i].configured)
			continue;
		at = site__next_deadline(h, &h->sites[i]);
		if (at < best) {
			best = at;
			earliest = &h->sites[i];
		}
	}
	*at_ns = best;
	return earliest;
}

/* Deadlines of all sites are processed in time order, so events come out in time order too. */
int health__advance(struct health *h, __u64 now_ns)
{
	struct health_site *s;
	__u64 at;
	int i;

	if (!h || now_ns < h->now_ns)
		return -EINVAL;
	h->now_ns = now_ns;
	for (i = 0; i < HEALTH_MAX_STEPS; i++) {
		s = health__earliest(h, &at);
		if (!s || at > now_ns)
			return 0;
		site__fire(h, s, at, now_ns);
	}
	return -ELOOP;
}

__u64 health__next_deadline(const struct health *h)
{
	__u64 at, best = HEALTH_NO_DEADLINE;
	int i;

	for (i = 0; h && i < DT_MAX_SITES; i++) {
		if (!h->sites[i].configured)
			continue;
		at = site__next_deadline(h, &h->sites[i]);
		if (at < best)
			best = at;
	}
	return best;
}

__u64 health__now(const struct health *h)
{
	return h ? h->now_ns : 0;
}

/* ---- Heartbeats ---------------------------------------------------------------------------- */

/*
 * Called before last_arrival_ns moves: a gap of detect_ns or more starts a new run. A DOWN site
 * whose heartbeats came back and stopped again has flapped although its state did not change:
 * like a withdrawal of a suppressed route in RFC 2439, the bounce adds to the penalty.
 */
static void site__track_clean_run(struct health_site *s, __u64 arrival_ns, bool warning)
{
	bool gap = s->heard && !s->held && arrival_ns >= site__run_alive_until(s);

	if (gap && s->state == DT_SITE_DOWN && s->override != HEALTH_OVERRIDE_FAIL &&
	    s->last_arrival_ns >= s->down_since_ns) {
		s->flaps++;
		damping__flap(&s->damping, &s->cfg.damping, site__run_alive_until(s));
	}
	if (warning) {
		s->clean_run = false;
		return;
	}
	if (!s->clean_run || !s->heard || gap) {
		s->clean_run = true;
		s->clean_since_ns = arrival_ns;
	}
}

static void site__apply_power(struct health *h, struct health_site *s, bool warning, __u64 at_ns,
			      __u64 detected_ns)
{
	struct health_event ev;

	switch (s->state) {
	case DT_SITE_UNKNOWN:
		ev = event_at(s->override == HEALTH_OVERRIDE_DRAIN || warning ? DT_SITE_DRAINING :
										DT_SITE_UP,
			      HEALTH_CAUSE_FIRST_HEARTBEAT, at_ns, detected_ns);
		break;
	case DT_SITE_UP:
	case DT_SITE_RECOVERING:
		if (!warning)
			return;
		ev = event_at(DT_SITE_DRAINING, HEALTH_CAUSE_POWER_WARNING, at_ns, detected_ns);
		break;
	case DT_SITE_DRAINING:
		if (warning || s->override != HEALTH_OVERRIDE_NONE)
			return;
		/* Flows moved during the drain return only when idle: sticky failback. */
		ev = event_at(DT_SITE_RECOVERING, HEALTH_CAUSE_POWER_RESTORED, at_ns, detected_ns);
		break;
	default:
		return; /* DOWN leaves only through the hold-down */
	}
	site__transition(h, s, &ev);
}

/* Beacon @b of @s is configured, was heard and is still live at @t_ns: its power report counts. */
static bool site__beacon_counts(const struct health_site *s, unsigned int b, __u64 t_ns)
{
	return site__has_beacon(s, b) && s->beacon[b].last_ns &&
	       beacon__live(s, &s->beacon[b], t_ns);
}

/*
 * NUT's MINSUPPLIES: the site warns when fewer than min_supplies of its live beacons report mains
 * without a warning. A silent beacon counts neither for nor against: the requirement is capped at
 * the number of live beacons, so a monitor nobody hears is not a power loss.
 */
static bool site__power_warning(const struct health_site *s, __u64 t_ns)
{
	unsigned int b, live = 0, mains = 0;

	for (b = 0; b < HEALTH_MAX_BEACONS; b++) {
		if (!site__beacon_counts(s, b, t_ns))
			continue;
		live++;
		if (!site__warning(s, s->beacon[b].power_flags))
			mains++;
	}
	return mains < (live < s->cfg.min_supplies ? live : s->cfg.min_supplies);
}

/* Some live beacon's UPS does not answer. */
static bool site__power_unknown(const struct health_site *s, __u64 t_ns)
{
	unsigned int b;

	for (b = 0; b < HEALTH_MAX_BEACONS; b++) {
		if (site__beacon_counts(s, b, t_ns) &&
		    (s->beacon[b].power_flags & DT_POWER_UNKNOWN))
			return true;
	}
	return false;
}

/* Without drain_on_unknown_power an unknown UPS is not a transition, but it must be seen. */
static void site__note_power_unknown(struct health *h, struct health_site *s, bool unknown,
				     __u64 at_ns, __u64 detected_ns)
{
	if (unknown == s->power_unknown)
		return;
	s->power_unknown = unknown;
	site__notice(h, s, unknown ? HEALTH_CAUSE_POWER_UNKNOWN : HEALTH_CAUSE_POWER_KNOWN, at_ns,
		     detected_ns);
}

/*
 * Adaptive detection learns from the gaps of a live site only: not from a gap that made it DOWN,
 * nor from one that a blackout stretched (the edge's silence, not the site's).
 */
static void site__learn_gap(struct health_site *s, const struct health_beacon *b, __u64 arrival_ns)
{
	__u64 silence, cap;

	/* each beacon's own gaps: a second beacon must not halve what the site tolerates */
	if (!s->phi || !s->heard || !dt_state_serves_flows(s->state) || s->held ||
	    s->blackout_credit_ns || arrival_ns >= site__alive_until(s) || !b->last_ns ||
	    arrival_ns - b->last_ns >= s->detect_ns)
		return;
	phi_window__add(s->phi, arrival_ns - b->last_ns);
	silence = phi_window__silence_ns(s->phi, s->phi_z, s->cfg.interval_ns / 5);
	cap = s->cfg.interval_ns * HEALTH_PHI_MAX_MULTIPLIER;
	if (silence < s->fixed_detect_ns)
		silence = s->fixed_detect_ns;
	s->detect_ns = silence < cap ? silence : cap;
}

static void site__take_arrival(struct health *h, struct health_site *s, unsigned int b,
			       __u64 arrival_ns, __u64 detected_ns)
{
	if (s->held)
		site__release(h, s, arrival_ns, detected_ns);
	s->blackout_credit_ns = 0;
	s->heard = true;
	if (arrival_ns >= s->last_arrival_ns) {
		s->last_arrival_ns = arrival_ns;
		s->last_beacon = (__u8)b;
	}
	site__remember_arrival(s, arrival_ns);
}

/*
 * @heard was heard at @at_ns, so the edge hears again: every site held in a blackout, or whose
 * deadline passed in one and is not judged yet, gets the blackout's length back. A hold that ran
 * out before @at_ns fails its site first.
 */
static int health__blackout_ends(struct health *h, const struct health_site *heard, __u64 at_ns,
				 __u64 detected_ns)
{
	int i, err;

	for (i = 0; h->opts.blackout_hold_ns && i < DT_MAX_SITES; i++) {
		struct health_site *s = &h->sites[i];

		if (s == heard || !s->configured || !s->heard || !dt_state_serves_flows(s->state))
			continue;
		if (!s->held && site__alive_until(s) <= at_ns)
			site__hold(h, s, site__alive_until(s), detected_ns);
		if (!s->held)
			continue;
		err = health__step_site(h, s, at_ns, detected_ns);
		if (err)
			return err;
		if (s->held)
			site__release(h, s, at_ns, detected_ns);
	}
	return 0;
}

/* ---- Beacons and gaps ---------------------------------------------------------------------- */

static void beacon__notice(struct health *h, struct health_site *s, unsigned int b,
			   enum health_cause cause, __u64 at_ns, __u64 detected_ns)
{
	struct health_event ev = event_at(s->state, cause, at_ns, detected_ns);

	ev.from = s->state;
	ev.flags = HEALTH_EVENT_F_NOTICE;
	ev.beacon = (__u8)b;
	health__emit(h, s, &ev);
}

/* Its power report no longer counts: the site's power may change with it. */
static void site__beacon_silent(struct health *h, struct health_site *s, unsigned int b,
				__u64 at_ns, __u64 detected_ns)
{
	s->beacon[b].silent = true;
	beacon__notice(h, s, b, HEALTH_CAUSE_BEACON_SILENT, at_ns, detected_ns);
	site__apply_power(h, s, site__power_warning(s, at_ns), at_ns, detected_ns);
	site__note_power_unknown(h, s, site__power_unknown(s, at_ns), at_ns, detected_ns);
}

/*
 * The first arrival after the whole site was silent (or ever): every configured beacon's silence
 * counts from here, and none is "silent" any more: the site's own transition said it.
 */
static void site__track_beacons(struct health_site *s, __u64 arrival_ns)
{
	unsigned int b;

	if (s->heard && arrival_ns < site__alive_until(s))
		return;
	for (b = 0; b < HEALTH_MAX_BEACONS; b++) {
		s->beacon[b].tracked = site__has_beacon(s, b);
		s->beacon[b].silent = false;
		s->beacon[b].since_ns = arrival_ns;
	}
}

/*
 * Gaps a blackout stretched are the edge's silence; a gap of the hold-down or more (and at least
 * the detection time) is an outage, not jitter: neither tells what the timers must hold.
 */
static bool site__observes_gap(const struct health_site *s, __u64 gap_ns)
{
	__u64 outage = s->cfg.hold_down_ns > s->detect_ns ? s->cfg.hold_down_ns : s->detect_ns;

	return !s->held && !s->blackout_credit_ns && gap_ns < outage;
}

static bool site__too_tight(const struct health_site *s, __u64 now_ns)
{
	__u64 gap = gap_max__get(&s->gaps, now_ns);

	return gap && gap + gap / 4 >= s->detect_ns &&
	       gap_max__count(&s->gaps, now_ns) >= GAP_MIN_SAMPLES;
}

/* Called before the arrival is taken: gaps of the beacon and of the site, and the warning. */
static void site__observe_gaps(struct health *h, struct health_site *s, unsigned int b,
			       __u64 arrival_ns, __u64 detected_ns)
{
	struct health_beacon *hb = &s->beacon[b];

	if (hb->last_ns && site__observes_gap(s, arrival_ns - hb->last_ns))
		gap_max__add(&hb->gaps, arrival_ns, arrival_ns - hb->last_ns);
	if (s->heard && arrival_ns > s->last_arrival_ns &&
	    site__observes_gap(s, arrival_ns - s->last_arrival_ns))
		gap_max__add(&s->gaps, arrival_ns, arrival_ns - s->last_arrival_ns);
	if (!site__too_tight(s, arrival_ns)) {
		s->too_tight = false;
	} else if (!s->too_tight) {
		struct health_event ev =
			event_at(s->state, HEALTH_CAUSE_TIMERS_TOO_TIGHT, arrival_ns, detected_ns);

		s->too_tight = true;
		ev.from = s->state;
		ev.flags = HEALTH_EVENT_F_NOTICE;
		ev.max_gap_ns = gap_max__get(&s->gaps, arrival_ns);
		ev.suggested_multiplier =
			gap__suggested_multiplier(ev.max_gap_ns, s->cfg.interval_ns);
		health__emit(h, s, &ev);
	}
}

/* Beacon @b was heard at @arrival_ns (not older than its previous heartbeat). */
static void site__take_beacon(struct health *h, struct health_site *s, unsigned int b,
			      __u64 arrival_ns, __u32 power_flags, __u64 detected_ns)
{
	struct health_beacon *hb = &s->beacon[b];
	bool back;

	site__track_beacons(s, arrival_ns);
	back = hb->silent;
	hb->tracked = true;
	hb->silent = false;
	hb->since_ns = arrival_ns;
	hb->last_ns = arrival_ns;
	hb->power_flags = power_flags;
	if (back)
		beacon__notice(h, s, b, HEALTH_CAUSE_BEACON_BACK, arrival_ns, detected_ns);
}

int health__heartbeat(struct health *h, __u16 site, __u8 beacon, __u64 arrival_ns,
		      __u32 power_flags)
{
	struct health_site *s = health__site(h, site);
	__u64 detected_ns;
	bool warning;
	int err;

	if (!s)
		return -ENOENT;
	if (!site__has_beacon(s, beacon))
		return -EINVAL;
	/* Reordered on the way: older than what we hold, so its power flags are stale too. */
	if (s->beacon[beacon].last_ns && arrival_ns < s->beacon[beacon].last_ns) {
		s->stale_heartbeats++;
		return 0;
	}
	/* Deadlines that passed before it arrived happened: a late read must not hide them. */
	detected_ns = arrival_ns > h->now_ns ? arrival_ns : h->now_ns;
	err = health__step_site(h, s, arrival_ns, detected_ns);
	if (err)
		return err;
	site__observe_gaps(h, s, beacon, arrival_ns, detected_ns);
	site__learn_gap(s, &s->beacon[beacon], arrival_ns);
	site__take_beacon(h, s, beacon, arrival_ns, power_flags, detected_ns);
	warning = site__power_warning(s, arrival_ns);
	site__track_clean_run(s, arrival_ns, warning);
	site__take_arrival(h, s, beacon, arrival_ns, detected_ns);
	err = health__blackout_ends(h, s, arrival_ns, detected_ns);
	if (err)
		return err;
	s->power_flags = power_flags;
	site__apply_power(h, s, warning, arrival_ns, detected_ns);
	site__note_power_unknown(h, s, site__power_unknown(s, arrival_ns), arrival_ns, detected_ns);
	return 0;
}

/* ---- Operator requests and dataplane hints ------------------------------------------------- */

static bool health__other_site(const struct health *h, const struct health_site *s,
			       bool (*pred)(__u32 state))
{
	int i;

	for (i = 0; i < DT_MAX_SITES; i++) {
		if (h->sites[i].configured && &h->sites[i] != s && pred(h->sites[i].state))
			return true;
	}
	return false;
}

/* A drain or fail must not take away the last site that takes new flows (or, for fail, any). */
static bool health__refuses(const struct health *h, const struct health_site *s, bool fail)
{
	if (dt_state_takes_new_flows(s->state) &&
	    !health__other_site(h, s, dt_state_takes_new_flows))
		return true;
	return fail && dt_state_serves_flows(s->state) &&
	       !health__other_site(h, s, dt_state_serves_flows);
}

static int health__operator_site(struct health *h, __u16 site, __u64 now_ns, __u32 flags,
				 struct health_site **sp)
{
	if (flags & ~HEALTH_F_FORCE)
		return -EINVAL;
	*sp = health__site(h, site);
	if (!*sp)
		return -ENOENT;
	return health__advance(h, now_ns);
}

/*
 * drain and fail: set the override, refused (-EBUSY) when it would leave no site up unless forced,
 * and move the site now unless it is already where the override puts it.
 */
static int health__override(struct health *h, __u16 site, __u64 now_ns, __u32 flags,
			    enum health_override override)
{
	bool fail = override == HEALTH_OVERRIDE_FAIL;
	struct health_event ev;
	struct health_site *s;
	bool refused;
	int err;

	err = health__operator_site(h, site, now_ns, flags, &s);
	if (err)
		return err;
	refused = health__refuses(h, s, fail);
	if (refused && !(flags & HEALTH_F_FORCE))
		return -EBUSY;
	s->override = override;
	if (fail ? s->state == DT_SITE_DOWN : !dt_state_takes_new_flows(s->state))
		return 0;
	ev = event_at(fail ? DT_SITE_DOWN : DT_SITE_DRAINING,
		      fail ? HEALTH_CAUSE_OPERATOR_FAIL : HEALTH_CAUSE_OPERATOR_DRAIN, now_ns,
		      now_ns);
	ev.flags = refused ? HEALTH_EVENT_F_FORCED : 0;
	site__transition(h, s, &ev);
	return 0;
}

int health__drain(struct health *h, __u16 site, __u64 now_ns, __u32 flags)
{
	return health__override(h, site, now_ns, flags, HEALTH_OVERRIDE_DRAIN);
}

int health__fail(struct health *h, __u16 site, __u64 now_ns, __u32 flags)
{
	return health__override(h, site, now_ns, flags, HEALTH_OVERRIDE_FAIL);
}

/* Clears the override; the heartbeat-driven machine then decides, at once if it can. */
int health__restore(struct health *h, __u16 site, __u64 now_ns)
{
	enum health_override was;
	struct health_event ev;
	struct health_site *s;
	int err;

	err = health__operator_site(h, site, now_ns, 0, &s);
	if (err)
		return err;
	was = s->override;
	s->override = HEALTH_OVERRIDE_NONE;
	s->damping = (struct damping){ 0 };
	if (was == HEALTH_OVERRIDE_FAIL || s->state == DT_SITE_DOWN) {
		s->restored_ns = now_ns;
		return health__step_site(h, s, now_ns, now_ns);
	}
	if (s->state != DT_SITE_DRAINING || site__power_warning(s, now_ns))
		return 0;
	ev = event_at(DT_SITE_RECOVERING, HEALTH_CAUSE_OPERATOR_RESTORE, now_ns, now_ns);
	site__transition(h, s, &ev);
	return 0;
}

int health__flows_idle(struct health *h, __u16 site, __u64 now_ns)
{
	struct health_event ev;
	struct health_site *s;
	int err;

	err = health__operator_site(h, site, now_ns, 0, &s);
	if (err)
		return err;
	if (s->state != DT_SITE_RECOVERING || !s->heard)
		return 0;
	ev = event_at(DT_SITE_UP, HEALTH_CAUSE_FLOWS_IDLE, now_ns, now_ns);
	site__transition(h, s, &ev);
	return 0;
}

int health__set_blackout_hold(struct health *h, __u64 hold_ns)
{
	if (!h || hold_ns > HEALTH_MAX_NS)
		return -EINVAL;
	h->opts.blackout_hold_ns = hold_ns;
	return 0;
}

/* ---- Restart ------------------------------------------------------------------------------- */

static bool seed__valid(const struct health_seed *seed)
{
	switch (seed->override) {
	case HEALTH_OVERRIDE_NONE:
		break;
	case HEALTH_OVERRIDE_DRAIN:
		if (dt_state_takes_new_flows(seed->state))
			return false;
		break;
	case HEALTH_OVERRIDE_FAIL:
		if (seed->state != DT_SITE_DOWN)
			return false;
		break;
	default:
		return false;
	}
	return seed->state <= DT_SITE_RECOVERING && isfinite(seed->penalty) && seed->penalty >= 0;
}

static __u64 seed__time(__u64 t_ns, __u64 now_ns)
{
	return t_ns < now_ns ? t_ns : now_ns;
}

int health__seed_site(struct health *h, __u16 site, const struct health_seed *seed)
{
	struct health_site *s = health__site(h, site);
	struct health_event ev;

	if (!s || !seed)
		return !s ? -ENOENT : -EINVAL;
	if (!seed__valid(seed))
		return -EINVAL;
	if (s->heard || s->seeded)
		return -EBUSY;
	s->seeded = true;
	s->override = seed->override;
	s->flaps = seed->flaps;
	damping__restore(&s->damping, &s->cfg.damping, seed->penalty, seed->penalty_ns,
			 seed->reuse_ns, h->now_ns);
	if (seed->state == DT_SITE_UNKNOWN)
		return 0;
	/* the event's deadline is when the state began (DOWN, RECOVERING), else now */
	ev = event_at(seed->state, HEALTH_CAUSE_STATE_RESTORED,
		      seed->since_ns ? seed__time(seed->since_ns, h->now_ns) : h->now_ns,
		      h->now_ns);
	site__transition(h, s, &ev);
	return 0;
}

int health__site_seed(const struct health *h, __u16 site, struct health_seed *seed)
{
	const struct health_site *s;

	if (!h || !seed || site >= DT_MAX_SITES || !h->sites[site].configured)
		return !h || !seed ? -EINVAL : -ENOENT;
	s = &h->sites[site];
	*seed = (struct health_seed){
		.state = s->state,
		.override = s->override,
		.since_ns = s->state == DT_SITE_DOWN	   ? s->down_since_ns :
			    s->state == DT_SITE_RECOVERING ? s->recovering_since_ns :
							     0,
		.flaps = s->flaps,
		.penalty = s->damping.penalty,
		.penalty_ns = s->damping.penalty_ns,
		.reuse_ns = s->damping.reuse_ns,
	};
	return 0;
}

/* ---- Queries ------------------------------------------------------------------------------- */

static void site__beacon_status(const struct health *h, const struct health_site *s,
				struct health_site_status *st)
{
	unsigned int b;

	st->beacons = s->cfg.beacons;
	for (b = 0; b < HEALTH_MAX_BEACONS; b++) {
		if (!site__has_beacon(s, b))
			continue;
		if (beacon__live(s, &s->beacon[b], h->now_ns))
			st->beacons_live |= (__u8)(1u << b);
		st->beacon_last_ns[b] = s->beacon[b].last_ns;
		st->beacon_power_flags[b] = s->beacon[b].power_flags;
		st->beacon_max_gap_ns[b] = gap_max__get(&s->beacon[b].gaps, h->now_ns);
	}
	st->degraded = st->beacons_live && st->beacons_live != st->beacons;
	st->max_gap_ns = gap_max__get(&s->gaps, h->now_ns);
	st->detect_too_tight = site__too_tight(s, h->now_ns);
	st->suggested_multiplier = gap__suggested_multiplier(st->max_gap_ns, s->cfg.interval_ns);
}

int health__site_status(const struct health *h, __u16 site, struct health_site_status *st)
{
	const struct health_site *s;

	if (!h || !st || site >= DT_MAX_SITES || !h->sites[site].configured)
		return !h || !st ? -EINVAL : -ENOENT;
	s = &h->sites[site];
	memset(st, 0, sizeof(*st));
	st->state = s->state;
	st->override = s->override;
	st->power_flags = s->power_flags;
	st->heard = s->heard;
	st->clean_run = s->clean_run;
	st->last_heartbeat_ns = s->heard ? s->last_arrival_ns : 0;
	st->clean_since_ns = s->clean_since_ns;
	st->next_deadline_ns = site__next_deadline(h, s);
	st->penalty = damping__penalty(&s->damping, &s->cfg.damping, h->now_ns);
	st->suppressed = s->damping.reuse_ns > h->now_ns;
	st->suppressed_until_ns = st->suppressed ? s->damping.reuse_ns : 0;
	st->flaps = s->flaps;
	st->stale_heartbeats = s->stale_heartbeats;
	st->detect_ns = s->detect_ns;
	st->blackout_held = s->held;
	st->blackout_holds = s->blackout_holds;
	site__beacon_status(h, s, st);
	return 0;
}

bool health__all_sites_down(const struct health *h)
{
	return h && h->all_down;
}
