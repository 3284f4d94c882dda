// SPDX-License-Identifier: GPL-2.0-only
/*
 * A site transition, from the state machine to the world: one O(1) dataplane write, then the
 * record — the event ring that `detourctl events` reads, one JSON line in the event log, a line
 * to every control-socket follower, an ordinary log line, and a job for the notify hook's worker
 * (notify.h), which runs it off the loop. SIGUSR1 reopens the event log (logrotate).
 *
 * The dataplane write comes first and applied_ns is taken right after it, so the event log shows
 * exactly when the packet path changed: last heartbeat, deadline, detection, application.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dt_names.h"
#include "dt_clock.h"
#include "ctl_proto.h"
#include "detourd.h"
#include "dt_log.h"

static void add_u64(struct json_object *o, const char *k, __u64 v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static struct json_object *operator_json(const struct detourd_operator *op)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "uid", json_object_new_int64(op->caller.uid));
	json_object_object_add(o, "pid", json_object_new_int64(op->caller.pid));
	if (op->reason[0])
		json_object_object_add(o, "reason", json_object_new_string(op->reason));
	return o;
}

struct json_object *detourd_event_json(const struct detourd_event *e)
{
	const struct health_event *ev = &e->ev;
	struct json_object *o = json_object_new_object();

	add_u64(o, "seq", e->seq);
	json_object_object_add(o, "site", json_object_new_string(e->site_name));
	add_u64(o, "site_id", ev->site);
	add_u64(o, "beacon", ev->beacon);
	json_object_object_add(o, "from", json_object_new_string(dt_site_state_name(ev->from)));
	json_object_object_add(o, "to", json_object_new_string(dt_site_state_name(ev->to)));
	json_object_object_add(o, "cause", json_object_new_string(health_cause_name(ev->cause)));
	add_u64(o, "last_heartbeat_ns", ev->last_heartbeat_ns);
	add_u64(o, "deadline_ns", ev->deadline_ns);
	add_u64(o, "detected_ns", ev->detected_ns);
	add_u64(o, "applied_ns", ev->applied_ns);
	/* derived, for people: how long after the last heartbeat, and how long to apply */
	if (ev->last_heartbeat_ns && ev->detected_ns >= ev->last_heartbeat_ns)
		add_u64(o, "detect_ms_x1000", (ev->detected_ns - ev->last_heartbeat_ns) / 1000);
	if (ev->applied_ns >= ev->detected_ns && ev->applied_ns)
		add_u64(o, "apply_us", (ev->applied_ns - ev->detected_ns) / 1000);
	add_u64(o, "power_flags", ev->power_flags);
	if (ev->hold_down_ns)
		add_u64(o, "hold_down_ns", ev->hold_down_ns);
	if (ev->cause == HEALTH_CAUSE_TIMERS_TOO_TIGHT) {
		add_u64(o, "max_gap_us", ev->max_gap_ns / 1000);
		add_u64(o, "suggested_multiplier", ev->suggested_multiplier);
	}
	if (e->op.active)
		json_object_object_add(o, "operator", operator_json(&e->op));
	json_object_object_add(o, "penalty", json_object_new_double(ev->penalty));
	json_object_object_add(o, "all_sites_down",
			       json_object_new_boolean(ev->flags & HEALTH_EVENT_F_ALL_SITES_DOWN));
	json_object_object_add(o, "forced",
			       json_object_new_boolean(ev->flags & HEALTH_EVENT_F_FORCED));
	json_object_object_add(o, "notice",
			       json_object_new_boolean(ev->flags & HEALTH_EVENT_F_NOTICE));
	json_object_object_add(o, "blackout",
			       json_object_new_boolean(ev->flags & HEALTH_EVENT_F_BLACKOUT));
	if (e->apply_err)
		json_object_object_add(o, "apply_error",
				       json_object_new_string(strerror(-e->apply_err)));
	return o;
}

int detourd_open_event_log(struct detourd *d, const char *path)
{
	if (!strcmp(path, "-")) {
		d->event_log = stdout;
		return 0;
	}
	d->event_log = fopen(path, "ae");
	if (!d->event_log) {
		dt_log_err("event log %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * SIGUSR1, after logrotate moved the file away: the next line goes to a new file at the
 * configured path. If that cannot be opened the old stream is kept, so no event is lost.
 */
void detourd_reopen_event_log(struct detourd *d)
{
	const char *path = d->cfg->event_log;
	FILE *f;

	if (d->event_log == stdout)
		return;
	f = fopen(path, "ae");
	if (!f) {
		dt_log_err("event log %s: cannot reopen (%s): still writing to the old file", path,
			   strerror(errno));
		return;
	}
	if (d->event_log)
		fclose(d->event_log);
	d->event_log = f;
	dt_log_info("event log %s reopened", path);
}

/* The hook's job for a transition; the worker renders its environment. */
static void notify_transition(struct detourd *d, const struct detourd_event *e)
{
	const struct health_event *ev = &e->ev;
	struct detourd_notify_job j;
	__u64 since = dt_mono_ns() - ev->detected_ns;

	if (!d->cfg->notify_command[0] || (ev->flags & HEALTH_EVENT_F_NOTICE) || ev->from == ev->to)
		return;
	memset(&j, 0, sizeof(j));
	snprintf(j.command, sizeof(j.command), "%s", d->cfg->notify_command);
	j.timeout_ns = d->cfg->notify_timeout_ns;
	snprintf(j.site, sizeof(j.site), "%s", e->site_name);
	j.site_id = ev->site;
	snprintf(j.old_state, sizeof(j.old_state), "%s", dt_site_state_name(ev->from));
	snprintf(j.new_state, sizeof(j.new_state), "%s", dt_site_state_name(ev->to));
	snprintf(j.cause, sizeof(j.cause), "%s", health_cause_name(ev->cause));
	j.seq = e->seq;
	j.detected_ns = ev->detected_ns;
	j.time = dt_ns_timespec(dt_clock_ns(CLOCK_REALTIME) - since);
	j.by_operator = e->op.active;
	j.uid = e->op.caller.uid;
	snprintf(j.reason, sizeof(j.reason), "%s", e->op.reason);
	if (!detourd_notify__push(&d->notify, &j))
		dt_log_warn("notify: %u hooks queued or running: the one for site %s (%s -> %s) is "
			    "dropped",
			    DETOURD_NOTIFY_QUEUE, j.site, j.old_state, j.new_state);
}

/* What a notice's log line says after its cause. */
static void notice_detail(const struct health_event *ev, char *buf, size_t len)
{
	buf[0] = 0;
	if (ev->cause == HEALTH_CAUSE_BLACKOUT_HOLD)
		snprintf(buf, len, ": silent, but so is every other site; held, not failed");
	else if (ev->cause == HEALTH_CAUSE_BEACON_SILENT)
		snprintf(buf, len, ": beacon %u silent, the site is degraded, not failed",
			 ev->beacon);
	else if (ev->cause == HEALTH_CAUSE_BEACON_BACK)
		snprintf(buf, len, ": beacon %u heard again", ev->beacon);
	else if (ev->cause == HEALTH_CAUSE_TIMERS_TOO_TIGHT)
		snprintf(buf, len,
			 ": a heartbeat gap of %.3f ms is within a quarter of the detection time; "
			 "multiplier %u would hold it",
			 (double)ev->max_gap_ns / 1e6, ev->suggested_multiplier);
}

static void log_transition(const struct detourd_event *e)
{
	const struct health_event *ev = &e->ev;
	char detail[160];

	if (ev->flags & HEALTH_EVENT_F_NOTICE) {
		notice_detail(ev, detail, sizeof(detail));
		dt_log_warn("site %s: %s%s", e->site_name, health_cause_name(ev->cause), detail);
		return;
	}
	dt_log(ev->to == DT_SITE_DOWN ? DT_LOG_WARN : DT_LOG_INFO, "site %s: %s -> %s (%s)%s%s",
	       e->site_name, dt_site_state_name(ev->from), dt_site_state_name(ev->to),
	       health_cause_name(ev->cause), e->op.active ? " by an operator" : "",
	       e->apply_err ? ", DATAPLANE UPDATE FAILED" : "");
	if (ev->flags & HEALTH_EVENT_F_ALL_SITES_DOWN)
		dt_log_err(
			"every site is down: the dataplane fails open, traffic goes to the kernel");
}

void detourd_on_health_event(const struct health_event *ev, void *ctx)
{
	struct detourd *d = ctx;
	struct detourd_event *e = &d->events[d->event_seq % DETOURD_EVENT_RING];
	struct json_object *j;

	memset(e, 0, sizeof(*e));
	e->seq = d->event_seq++;
	e->ev = *ev;
	snprintf(e->site_name, sizeof(e->site_name), "%s", ev->site_name ? ev->site_name : "?");
	e->ev.site_name = e->site_name;
	e->op = d->op;
	if (!(ev->flags & HEALTH_EVENT_F_NOTICE) && ev->from != ev->to) {
		e->apply_err = d->dp.ops->set_site_state(d->dp.impl, ev->site, ev->to);
		e->ev.applied_ns = dt_mono_ns();
		if (!e->apply_err) /* once the packet path reroutes the clients' answers */
			detourd_nudge__transition(&d->nudge, ev->site, ev->to);
	}
	if (ev->site < DT_MAX_SITES && !(ev->flags & HEALTH_EVENT_F_NOTICE)) {
		d->site_rt[ev->site].last_transition_ns = ev->detected_ns;
		d->site_rt[ev->site].last_cause = ev->cause;
	}
	log_transition(e);
	j = detourd_event_json(e);
	if (d->event_log) {
		fprintf(d->event_log, "%s\n",
			json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		fflush(d->event_log);
	}
	if (d->ctl)
		ctl_server__publish_event(d->ctl, j);
	json_object_put(j);
	notify_transition(d, e);
}
