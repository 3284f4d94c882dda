// SPDX-License-Identifier: GPL-2.0-only
/*
 * detourd's control commands: one handler per command in one table. Read commands build JSON
 * from the daemon's state and the dataplane's maps; write commands go through the state machine
 * (overrides) or straight to the dataplane (prefixes). docs/control-protocol.md is the contract.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dt_names.h"
#include "dt_clock.h"
#include "ctl_proto.h"
#include "detourd.h"
#include "dt_log.h"
#include "power_flags.h"

static void human_age(char *buf, size_t len, __u64 ns)
{
	if (ns < 10000000ull)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else if (ns < 60000000000ull)
		snprintf(buf, len, "%.1f s", ns / 1e9);
	else
		snprintf(buf, len, "%llu min", (unsigned long long)(ns / 60000000000ull));
}

static __u64 suppressed_left_ns(const struct health_site_status *st, __u64 now)
{
	return st->suppressed && st->suppressed_until_ns > now ? st->suppressed_until_ns - now : 0;
}

/* One phrase for the sites table: "-", "penalty 980", "suppressed, penalty 2912, 19.4 s left". */
static struct json_object *damping_json(const struct health_site_status *st, __u64 now)
{
	char buf[96], left[32];

	if (st->suppressed) {
		human_age(left, sizeof(left), suppressed_left_ns(st, now));
		snprintf(buf, sizeof(buf), "suppressed, penalty %.0f, %s left", st->penalty, left);
	} else if (st->penalty >= 1.0) {
		snprintf(buf, sizeof(buf), "penalty %.0f", st->penalty);
	} else {
		snprintf(buf, sizeof(buf), "-");
	}
	return json_object_new_string(buf);
}

static struct json_object *power_json(__u32 flags)
{
	struct json_object *arr = json_object_new_array();
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		const char *w = (flags >> bit) & 1 ? dt_power_flag_word(1u << bit) : NULL;

		if (w)
			json_object_array_add(arr, json_object_new_string(w));
	}
	return arr;
}

/* Each configured beacon: its id, whether it is heard now, its last heartbeat's age and power. */
static struct json_object *beacons_json(const struct health_site_status *st, __u64 now)
{
	struct json_object *arr = json_object_new_array();

	for (unsigned int b = 0; b < HEALTH_MAX_BEACONS; b++) {
		struct json_object *o;

		if (!(st->beacons & (1u << b)))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int((int)b));
		json_object_object_add(o, "live",
				       json_object_new_boolean(st->beacons_live & (1u << b)));
		json_object_object_add(
			o, "last_heartbeat_us_ago",
			st->beacon_last_ns[b] ?
				json_object_new_int64((now - st->beacon_last_ns[b]) / 1000) :
				NULL);
		json_object_object_add(o, "power", power_json(st->beacon_power_flags[b]));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* The beacons and the observed heartbeat gaps (docs/detector.md, "Several beacons"). */
static void site_beacons_json(struct json_object *o, const struct health_site_status *st, __u64 now)
{
	char text[32];

	json_object_object_add(o, "beacons", beacons_json(st, now));
	json_object_object_add(o, "beacons_configured",
			       json_object_new_int(__builtin_popcount(st->beacons)));
	json_object_object_add(o, "beacons_live",
			       json_object_new_int(__builtin_popcount(st->beacons_live)));
	snprintf(text, sizeof(text), "%d/%d%s", __builtin_popcount(st->beacons_live),
		 __builtin_popcount(st->beacons), st->degraded ? " degraded" : "");
	json_object_object_add(o, "beacons_heard", json_object_new_string(text));
	json_object_object_add(o, "degraded", json_object_new_boolean(st->degraded));
	json_object_object_add(o, "max_gap_us", json_object_new_int64(st->max_gap_ns / 1000));
	json_object_object_add(o, "detect_too_tight",
			       json_object_new_boolean(st->detect_too_tight));
	json_object_object_add(o, "suggested_multiplier",
			       json_object_new_int64(st->suggested_multiplier));
}

struct json_object *detourd_site_json(struct detourd *d, const struct dt_config_site *s, __u64 now)
{
	struct json_object *o = json_object_new_object();
	const struct detourd_site_rt *rt = &d->site_rt[s->id];
	struct health_site_status st = { 0 };
	char buf[32];

	health__site_status(d->health, s->id, &st);
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "id", json_object_new_int(s->id));
	json_object_object_add(o, "state", json_object_new_string(dt_site_state_name(st.state)));
	json_object_object_add(o, "cause",
			       json_object_new_string(health_cause_name(rt->last_cause)));
	human_age(buf, sizeof(buf), now - (rt->last_transition_ns ?: d->start_ns));
	json_object_object_add(o, "since", json_object_new_string(buf));
	json_object_object_add(
		o, "since_ms",
		json_object_new_int64((now - (rt->last_transition_ns ?: d->start_ns)) / 1000000));
	if (st.heard) {
		human_age(buf, sizeof(buf), now - st.last_heartbeat_ns);
		strcat(buf, " ago");
		json_object_object_add(o, "last_heartbeat", json_object_new_string(buf));
		json_object_object_add(o, "last_heartbeat_us_ago",
				       json_object_new_int64((now - st.last_heartbeat_ns) / 1000));
	} else {
		json_object_object_add(o, "last_heartbeat", json_object_new_string("never"));
		json_object_object_add(o, "last_heartbeat_us_ago", NULL);
	}
	json_object_object_add(o, "power", power_json(st.power_flags));
	json_object_object_add(o, "override",
			       json_object_new_string(health_override_name(st.override)));
	json_object_object_add(o, "delivery",
			       json_object_new_string(dt_delivery_name(s->delivery)));
	json_object_object_add(o, "heartbeats", json_object_new_int64(rt->heartbeats));
	json_object_object_add(o, "penalty", json_object_new_double(st.penalty));
	json_object_object_add(o, "suppressed", json_object_new_boolean(st.suppressed));
	json_object_object_add(
		o, "suppressed_ms_left",
		st.suppressed ? json_object_new_int64(suppressed_left_ns(&st, now) / 1000000) :
				NULL);
	json_object_object_add(o, "damping", damping_json(&st, now));
	json_object_object_add(o, "flaps", json_object_new_int64(st.flaps));
	json_object_object_add(o, "detect_us", json_object_new_int64(st.detect_ns / 1000));
	json_object_object_add(o, "blackout_held", json_object_new_boolean(st.blackout_held));
	json_object_object_add(o, "blackout_holds", json_object_new_int64(st.blackout_holds));
	site_beacons_json(o, &st, now);
	return o;
}

static struct json_object *sites_json(struct detourd *d)
{
	struct json_object *arr = json_object_new_array();
	__u64 now = dt_mono_ns();
	unsigned int i;

	for (i = 0; i < d->cfg->n_sites; i++)
		json_object_array_add(arr, detourd_site_json(d, &d->cfg->sites[i], now));
	return arr;
}

/* Where the state a restart keeps is, and what this daemon took from it at start. */
static struct json_object *state_file_json(const struct detourd *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "path", json_object_new_string(d->cfg->state_file));
	json_object_object_add(o, "in_use", json_object_new_boolean(d->state.map != NULL));
	json_object_object_add(o, "restored_sites", json_object_new_int((int)d->restored_sites));
	json_object_object_add(o, "restored_beacons",
			       json_object_new_int((int)d->restored_beacons));
	return o;
}

/* The notify hook's jobs: queued, run (ok or not), killed at the timeout, dropped (ring full). */
static struct json_object *notify_json(struct detourd *d)
{
	struct json_object *o = json_object_new_object();
	const struct detourd_notify *n = &d->notify;

	json_object_object_add(
		o, "command",
		d->cfg->notify_command[0] ? json_object_new_string(d->cfg->notify_command) : NULL);
	json_object_object_add(o, "queued", json_object_new_int64((int64_t)n->queued));
	json_object_object_add(o, "started", json_object_new_int64((int64_t)n->started));
	json_object_object_add(o, "succeeded", json_object_new_int64((int64_t)n->succeeded));
	json_object_object_add(o, "failed", json_object_new_int64((int64_t)n->failed));
	json_object_object_add(o, "timed_out", json_object_new_int64((int64_t)n->timed_out));
	json_object_object_add(o, "dropped", json_object_new_int64((int64_t)n->dropped));
	return o;
}

static int do_status(void *ctx, struct json_object *args, struct json_object **res, char *err,
		     size_t len)
{
	struct detourd *d = ctx;
	struct json_object *daemon = json_object_new_object(), *dp = json_object_new_object();
	char up[32];

	human_age(up, sizeof(up), dt_mono_ns() - d->start_ns);
	json_object_object_add(daemon, "version", json_object_new_string(DETOURD_VERSION));
	json_object_object_add(daemon, "pid", json_object_new_int(getpid()));
	json_object_object_add(daemon, "uptime", json_object_new_string(up));
	json_object_object_add(daemon, "config", json_object_new_string(d->config_path));
	json_object_object_add(daemon, "policy_fingerprint",
			       json_object_new_string(detourd_policy_fingerprint(d)));
	json_object_object_add(daemon, "metrics_listen",
			       d->cfg->metrics_listen.family ?
				       json_object_new_string(d->cfg->metrics_listen.spec) :
				       NULL);
	json_object_object_add(daemon, "state_file", state_file_json(d));
	json_object_object_add(daemon, "notify", notify_json(d));
	json_object_object_add(dp, "mode", json_object_new_string(d->dp.ops->mode));
	json_object_object_add(dp, "interfaces", d->dp.ops->describe(d->dp.impl));
	json_object_object_add(dp, "partial_flow_walks",
			       json_object_new_int64((int64_t)atomic_load(&d->recovery.partial_walks)));
	*res = json_object_new_object();
	json_object_object_add(*res, "daemon", daemon);
	json_object_object_add(*res, "dataplane", dp);
	json_object_object_add(*res, "all_sites_down",
			       json_object_new_boolean(health__all_sites_down(d->health)));
	json_object_object_add(*res, "sites", sites_json(d));
	return 0;
}

static int do_sites(void *ctx, struct json_object *args, struct json_object **res, char *err,
		    size_t len)
{
	*res = json_object_new_object();
	json_object_object_add(*res, "sites", sites_json(ctx));
	return 0;
}

/* The site named in args.site, or -ENOENT with a message. */
static const struct dt_config_site *arg_site(struct detourd *d, struct json_object *args, char *err,
					     size_t len)
{
	struct json_object *v;
	const struct dt_config_site *s;

	if (!args || !json_object_object_get_ex(args, "site", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		snprintf(err, len, "a site name is required");
		return NULL;
	}
	s = dt_config__site_by_name(d->cfg, json_object_get_string(v));
	if (!s)
		snprintf(err, len, "site \"%s\" is not configured", json_object_get_string(v));
	return s;
}

static int do_site(void *ctx, struct json_object *args, struct json_object **res, char *err,
		   size_t len)
{
	struct detourd *d = ctx;
	const struct dt_config_site *s = arg_site(d, args, err, len);
	struct json_object *o, *fo;
	unsigned int i;

	if (!s)
		return -ENOENT;
	o = detourd_site_json(d, s, dt_mono_ns());
	fo = json_object_new_array();
	for (i = 0; i < s->n_failover; i++) {
		const struct dt_config_site *t = dt_config__site_by_id(d->cfg, s->failover[i].site);
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "site", json_object_new_string(t ? t->name : "?"));
		json_object_object_add(e, "weight", json_object_new_int64(s->failover[i].weight));
		json_object_array_add(fo, e);
	}
	json_object_object_add(o, "failover", fo);
	json_object_object_add(o, "interface", json_object_new_string(s->interface));
	json_object_object_add(o, "mtu", json_object_new_int(s->mtu));
	*res = json_object_new_object();
	json_object_object_add(*res, "site", o);
	return 0;
}

static bool arg_bool(struct json_object *args, const char *key)
{
	struct json_object *v;

	return args && json_object_object_get_ex(args, key, &v) && json_object_get_boolean(v);
}

static int override_reply(struct detourd *d, const struct dt_config_site *s, int ret,
			  struct json_object **res, char *err, size_t len, const char *verb)
{
	struct health_site_status st;

	if (ret == -EBUSY) {
		snprintf(err, len,
			 "refusing to %s site \"%s\": no other site would be left to "
			 "carry traffic (use --force)",
			 verb, s->name);
		return ret;
	}
	if (ret) {
		snprintf(err, len, "%s site \"%s\": %s", verb, s->name, strerror(-ret));
		return ret;
	}
	health__site_status(d->health, s->id, &st);
	*res = json_object_new_object();
	json_object_object_add(*res, "site", json_object_new_string(s->name));
	json_object_object_add(*res, "state", json_object_new_string(dt_site_state_name(st.state)));
	json_object_object_add(*res, "override",
			       json_object_new_string(health_override_name(st.override)));
	return 0;
}

/* The request's optional "reason": 1..DETOURD_REASON_MAX printable characters (UTF-8 allowed). */
static int arg_reason(struct json_object *args, char *out, char *err, size_t len)
{
	struct json_object *v;
	const unsigned char *r;
	size_t n;

	out[0] = '\0';
	if (!args || !json_object_object_get_ex(args, "reason", &v))
		return 0;
	r = (const unsigned char *)json_object_get_string(v);
	n = json_object_is_type(v, json_type_string) ? strlen((const char *)r) : 0;
	if (!n || n > DETOURD_REASON_MAX) {
		snprintf(err, len, "\"reason\" must be a string of 1..%d characters",
			 DETOURD_REASON_MAX);
		return -EINVAL;
	}
	for (; *r; r++)
		if (*r < 0x20 || *r == 0x7f) {
			snprintf(err, len, "\"reason\" has a control character (0x%02x)", *r);
			return -EINVAL;
		}
	memcpy(out, json_object_get_string(v), n + 1);
	return 0;
}

/* Every operator action is logged with who asked, whether it changed anything or not. */
static void log_operator(const struct detourd *d, const char *verb, const char *site, int ret)
{
	const struct detourd_operator *op = &d->op;

	dt_log(ret ? DT_LOG_WARN : DT_LOG_INFO, "operator uid %u pid %d: %s %s: %s%s%s%s",
	       op->caller.uid, op->caller.pid, verb, site, ret ? "refused, " : "done",
	       ret ? strerror(-ret) : "", op->reason[0] ? "; reason: " : "", op->reason);
}

/* drain, fail, restore, undrain: one site, one override request to the state machine. */
enum override_op { OVERRIDE_DRAIN, OVERRIDE_FAIL, OVERRIDE_RESTORE, OVERRIDE_UNDRAIN };

static int do_override(void *ctx, struct json_object *args, struct json_object **res, char *err,
		       size_t len, enum override_op op)
{
	static const char *const verbs[] = { "drain", "fail", "restore", "undrain" };
	struct detourd *d = ctx;
	const struct dt_config_site *s = arg_site(d, args, err, len);
	__u32 flags = arg_bool(args, "force") ? HEALTH_F_FORCE : 0;
	__u64 now;
	int ret;

	if (!s)
		return -ENOENT;
	if ((ret = arg_reason(args, d->op.reason, err, len)))
		return ret;
	/* heartbeats and deadlines up to now first, as the loop does; what they cause is not ours */
	now = detourd_catch_up(d);
	d->op.active = !ctl_server__caller(d->ctl, &d->op.caller);
	if (op == OVERRIDE_DRAIN)
		ret = health__drain(d->health, s->id, now, flags);
	else if (op == OVERRIDE_FAIL)
		ret = health__fail(d->health, s->id, now, flags);
	else
		ret = health__restore(d->health, s->id, now);
	log_operator(d, verbs[op], s->name, ret);
	d->op.active = false;
	return override_reply(d, s, ret, res, err, len, verbs[op]);
}

static int do_drain(void *ctx, struct json_object *args, struct json_object **res, char *err,
		    size_t len)
{
	return do_override(ctx, args, res, err, len, OVERRIDE_DRAIN);
}

static int do_fail(void *ctx, struct json_object *args, struct json_object **res, char *err,
		   size_t len)
{
	return do_override(ctx, args, res, err, len, OVERRIDE_FAIL);
}

static int do_restore(void *ctx, struct json_object *args, struct json_object **res, char *err,
		      size_t len)
{
	return do_override(ctx, args, res, err, len, OVERRIDE_RESTORE);
}

/* undrain: only an operator drain can be undone this way; a failed site needs restore. */
static int do_undrain(void *ctx, struct json_object *args, struct json_object **res, char *err,
		      size_t len)
{
	struct detourd *d = ctx;
	const struct dt_config_site *s = arg_site(d, args, err, len);
	struct health_site_status st;

	if (!s)
		return -ENOENT;
	health__site_status(d->health, s->id, &st);
	if (st.override != HEALTH_OVERRIDE_DRAIN) {
		snprintf(err, len, "site \"%s\" is not drained by an operator (override: %s)",
			 s->name, health_override_name(st.override));
		return -EINVAL;
	}
	return do_override(ctx, args, res, err, len, OVERRIDE_UNDRAIN);
}

const struct ctl_command detourd_commands[] = {
	{ "status", do_status },
	{ "sites", do_sites },
	{ "site", do_site },
	{ "drain", do_drain },
	{ "undrain", do_undrain },
	{ "fail", do_fail },
	{ "restore", do_restore },
	{ "prefixes", detourd_ctl_prefixes },
	{ "prefix-add", detourd_ctl_prefix_add },
	{ "prefix-del", detourd_ctl_prefix_del },
	{ "flows", detourd_ctl_flows },
	{ "stats", detourd_ctl_stats },
	{ "events", detourd_ctl_events },
	{ "what-if", detourd_ctl_whatif },
	{ NULL, NULL },
};
