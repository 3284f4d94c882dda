// SPDX-License-Identifier: GPL-2.0-only
/*
 * Human output of detourctl. Tables are described by columns (header + JSON key); a value is
 * printed as the daemon sent it, so the human and the --json views can never disagree.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl_render.h"

#define MAX_COLS 10
#define CELL 64

struct column {
	const char *header;
	const char *key;
};

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

static int64_t get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* Arrays of strings (power flags) print joined by commas. */
static void cell_text(struct json_object *row, const char *key, char *buf)
{
	struct json_object *v;
	size_t i, n;

	if (!json_object_object_get_ex(row, key, &v) || !json_object_is_type(v, json_type_array)) {
		snprintf(buf, CELL, "%s", get_str(row, key));
		return;
	}
	buf[0] = '\0';
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		size_t len = strlen(buf);

		snprintf(buf + len, CELL - len, "%s%s", i ? "," : "",
			 json_object_get_string(json_object_array_get_idx(v, i)));
	}
	if (!n)
		snprintf(buf, CELL, "-");
}

static void print_table(struct json_object *rows, const struct column *cols, unsigned int ncols)
{
	size_t width[MAX_COLS], i, n = rows ? json_object_array_length(rows) : 0;
	char buf[CELL];
	unsigned int c;

	for (c = 0; c < ncols; c++)
		width[c] = strlen(cols[c].header);
	for (i = 0; i < n; i++)
		for (c = 0; c < ncols; c++) {
			cell_text(json_object_array_get_idx(rows, i), cols[c].key, buf);
			if (strlen(buf) > width[c])
				width[c] = strlen(buf);
		}
	for (c = 0; c < ncols; c++)
		printf("%-*s%s", (int)width[c], cols[c].header, c + 1 < ncols ? "  " : "\n");
	for (i = 0; i < n; i++)
		for (c = 0; c < ncols; c++) {
			cell_text(json_object_array_get_idx(rows, i), cols[c].key, buf);
			printf("%-*s%s", (int)width[c], buf, c + 1 < ncols ? "  " : "\n");
		}
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static const struct column site_cols[] = {
	{ "SITE", "name" },
	{ "ID", "id" },
	{ "STATE", "state" },
	{ "SINCE", "since" },
	{ "LAST HEARTBEAT", "last_heartbeat" },
	{ "BEACONS", "beacons_heard" },
	{ "POWER", "power" },
	{ "OVERRIDE", "override" },
	{ "CAUSE", "cause" },
	{ "DAMPING", "damping" },
};

void render_sites(struct json_object *result)
{
	print_table(member(result, "sites"), site_cols, sizeof(site_cols) / sizeof(site_cols[0]));
}

/* A site whose heartbeat gaps come within a quarter of its detection time (docs/detector.md). */
static void warn_too_tight(struct json_object *sites)
{
	size_t i, n = sites ? json_object_array_length(sites) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(sites, i);

		if (!json_object_get_boolean(member(s, "detect_too_tight")))
			continue;
		printf("WARNING: site %s: timers too tight for this machine: a heartbeat gap of "
		       "%.3f ms against a detection time of %.3f ms; multiplier %" PRId64
		       " would hold it\n",
		       get_str(s, "name"), get_int(s, "max_gap_us") / 1000.0,
		       get_int(s, "detect_us") / 1000.0, get_int(s, "suggested_multiplier"));
	}
}

void render_status(struct json_object *result)
{
	struct json_object *d = member(result, "daemon"), *dp = member(result, "dataplane");
	struct json_object *ifs = member(dp, "interfaces");
	size_t i, n = ifs ? json_object_array_length(ifs) : 0;

	printf("detourd %s: running, pid %" PRId64 ", up %s, config %s\n", get_str(d, "version"),
	       get_int(d, "pid"), get_str(d, "uptime"), get_str(d, "config"));
	printf("dataplane: %s", get_str(dp, "mode"));
	for (i = 0; i < n; i++) {
		struct json_object *itf = json_object_array_get_idx(ifs, i);

		printf("%s %s (%s, %s)", i ? "," : ";", get_str(itf, "name"), get_str(itf, "mode"),
		       get_str(itf, "attach"));
	}
	printf("\npolicy fingerprint: %s\n", get_str(d, "policy_fingerprint"));
	if (json_object_get_boolean(member(result, "all_sites_down")))
		printf("WARNING: every site is down: the dataplane fails open (passes traffic to the "
		       "kernel)\n");
	warn_too_tight(member(result, "sites"));
	printf("\n");
	render_sites(result);
}

void render_site(struct json_object *result)
{
	struct json_object *s = member(result, "site");

	json_object_object_foreach(s, key, val)
	{
		if (json_object_is_type(val, json_type_object) ||
		    json_object_is_type(val, json_type_array))
			printf("%-18s %s\n", key,
			       json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
		else if (json_object_is_type(val, json_type_double)) /* the damping penalty */
			printf("%-18s %.0f\n", key, json_object_get_double(val));
		else
			printf("%-18s %s\n", key, json_object_get_string(val));
	}
}

void render_site_change(struct json_object *result)
{
	printf("site %s: %s\n", get_str(result, "site"), get_str(result, "state"));
}

void render_done(struct json_object *result)
{
	const char *msg = get_str(result, "message");

	printf("%s\n", strcmp(msg, "-") ? msg : "done");
}

void render_prefixes(struct json_object *result)
{
	static const struct column cols[] = {
		{ "PREFIX", "prefix" },
		{ "SITE", "site" },
		{ "STATELESS", "stateless" },
	};

	print_table(member(result, "prefixes"), cols, 3);
}

void render_flows(struct json_object *result)
{
	static const struct column cols[] = {
		{ "CLIENT", "client" }, { "SERVICE", "service" }, { "PROTO", "proto" },
		{ "HOME", "home" },	{ "TARGET", "target" },	  { "IDLE MS", "idle_ms" },
	};

	print_table(member(result, "flows"), cols, 6);
	printf("(%" PRId64 " flows shown of %" PRId64 " in the table)\n",
	       (int64_t)json_object_array_length(member(result, "flows")),
	       get_int(result, "total"));
}

/* Heartbeat counters that are not zero, by reason: "heartbeats: accepted 812, ...". */
static void render_heartbeat_counters(const char *label, struct json_object *hb)
{
	const char *sep = "";

	if (!hb || !json_object_is_type(hb, json_type_object))
		return;
	printf("%s:", label);
	json_object_object_foreach(hb, reason, count)
	{
		if (json_object_get_int64(count)) {
			printf("%s %s %" PRId64, sep, reason, json_object_get_int64(count));
			sep = ",";
		}
	}
	printf("%s\n", *sep ? "" : " none");
}

void render_stats(struct json_object *result)
{
	static const struct column cols[] = {
		{ "SITE", "site" },
		{ "REASON", "reason" },
		{ "PACKETS", "packets" },
		{ "BYTES", "bytes" },
	};

	struct json_object *delay = member(result, "heartbeat_delay");
	struct json_object *filter = member(result, "heartbeat_filter");

	print_table(member(result, "counters"), cols, 4);
	render_heartbeat_counters("heartbeats", member(result, "heartbeats"));
	if (filter && json_object_get_boolean(member(filter, "attached")))
		render_heartbeat_counters("of which dropped by the kernel filter",
					  member(filter, "dropped"));
	else if (filter)
		printf("heartbeat filter: not loaded (every datagram is checked in user space)\n");
	if (delay)
		printf("heartbeat delay (kernel arrival to detector): max %" PRId64 " us, %" PRId64
		       " over 1 ms\n",
		       get_int(delay, "max_us"), get_int(delay, "over_1ms"));
}

void render_event(struct json_object *e, bool json)
{
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
		return;
	}
	printf("%-10s %-10s -> %-10s %-20s", get_str(e, "site"), get_str(e, "from"),
	       get_str(e, "to"), get_str(e, "cause"));
	if (get_int(e, "detect_ms_x1000"))
		printf(" detected %.3f ms after the last heartbeat",
		       get_int(e, "detect_ms_x1000") / 1000.0);
	if (strstr(get_str(e, "cause"), "beacon_"))
		printf(" beacon %" PRId64, get_int(e, "beacon"));
	if (get_int(e, "suggested_multiplier"))
		printf(" max gap %.3f ms, multiplier %" PRId64 " would hold it",
		       get_int(e, "max_gap_us") / 1000.0, get_int(e, "suggested_multiplier"));
	if (get_int(e, "apply_us"))
		printf(", applied %" PRId64 " us later", get_int(e, "apply_us"));
	printf("\n");
}

void render_events(struct json_object *result, bool json)
{
	struct json_object *evs = member(result, "events");
	size_t i, n = evs ? json_object_array_length(evs) : 0;

	for (i = 0; i < n; i++)
		render_event(json_object_array_get_idx(evs, i), json);
}

/* One line per other home whose slots on the site would move on. */
static void render_also_moved(struct json_object *result)
{
	struct json_object *arr = member(result, "also_moved");
	size_t i, j, n = arr ? json_object_array_length(arr) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *h = json_object_array_get_idx(arr, i);
		struct json_object *to = member(h, "targets");
		size_t m = to ? json_object_array_length(to) : 0;

		printf("also moved: %s (%s) has %" PRId64 " slots on %s now:", get_str(h, "home"),
		       get_str(h, "home_state"), get_int(h, "slots"), get_str(result, "site"));
		for (j = 0; j < m; j++) {
			struct json_object *t = json_object_array_get_idx(to, j);

			printf("%s %" PRId64 " to %s (%s)", j ? "," : "", get_int(t, "slots"),
			       get_str(t, "site"), get_str(t, "state"));
		}
		if (get_int(h, "fail_open_slots"))
			printf("%s %" PRId64 " fail open", m ? "," : "",
			       get_int(h, "fail_open_slots"));
		printf("\n");
	}
}

void render_whatif(struct json_object *result)
{
	static const struct column cols[] = {
		{ "TARGET", "site" }, { "STATE", "state" },	  { "WEIGHT", "weight" },
		{ "SLOTS", "slots" }, { "SHARE %", "share_pct" },
	};

	printf("what-if %s %s (now %s): it would be %s; nothing has been changed\n",
	       get_str(result, "action"), get_str(result, "site"), get_str(result, "state"),
	       get_str(result, "would_be"));
	printf("new flows:         %s\n", get_str(result, "new_flows"));
	printf("established flows: %s\n", get_str(result, "established_flows"));
	printf("share of the %" PRId64 " failover slots (flows spread over them by hash):\n",
	       get_int(result, "slots"));
	print_table(member(result, "targets"), cols, 5);
	if (get_int(result, "fail_open_slots"))
		printf("fail open (no listed site takes new flows: passed to the kernel): %" PRId64
		       " slots, %s%%\n",
		       get_int(result, "fail_open_slots"), get_str(result, "fail_open_pct"));
	render_also_moved(result);
	if (json_object_get_boolean(member(result, "refused")))
		printf("WARNING: detourctl %s %s would be refused: %s (--force does it anyway)\n",
		       get_str(result, "action"), get_str(result, "site"),
		       get_str(result, "refusal"));
}
