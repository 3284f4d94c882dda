/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * detourd's /metrics page (control/detourd/metrics_page.c) from a snapshot and a dataplane of the
 * test's own: the values land in the right families and labels (states, beacon ages, transitions,
 * histograms, packets by verdict, dataplane events apart from packets, evictions), and the whole
 * page obeys the exposition format's structure: each family's HELP and TYPE exactly once and
 * before its samples, every sample of the family just announced, every histogram's buckets
 * cumulative and ending in le="+Inf" equal to its _count. With an argument FILE it only writes
 * the page there, for tests/daemon/test-metrics-promtool.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/dataplane.h"
#include "metrics.h"

#define S 1000000000ull

/* The test's dataplane: site 1 rerouted 7 packets (700 bytes), clamped 3 MSS, evicted 2 flows. */
static int fake_read_counter(void *dp, __u32 site, __u32 reason, struct dt_counter *sum)
{
	(void)dp;
	memset(sum, 0, sizeof(*sum));
	if (site == 1 && reason == DT_REASON_REROUTED_ROUTE)
		*sum = (struct dt_counter){ 7, 700 };
	else if (site == 1 && reason == DT_REASON_MSS_CLAMPED)
		*sum = (struct dt_counter){ 3, 0 };
	else if (site == 2 && reason == DT_REASON_FLOW_EVICTED)
		*sum = (struct dt_counter){ 2, 0 };
	else if (site == DT_SITE_NONE && reason == DT_REASON_NO_PREFIX)
		*sum = (struct dt_counter){ 11, 1100 };
	return 0;
}

static const struct dt_dataplane_ops fake_ops = { .mode = "fake",
						  .read_counter = fake_read_counter };
static const struct dt_dataplane fake_dp = { .ops = &fake_ops };

static struct dm_snapshot *snapshot(void)
{
	struct dm_snapshot *s = calloc(1, sizeof(*s));
	struct dm_site *a = &s->site[0], *b = &s->site[1];

	s->published_ns = 99 * S;
	s->hb[HB_OK] = 1000;
	s->hb[HB_REASON_BAD_MAC] = 4;
	s->flow_table_size = 4096;
	strcpy(s->fingerprint, "00112233445566778899aabbccddeeff");
	s->n_sites = 2;
	strcpy(a->name, "pangyo");
	a->id = 1;
	a->state = DT_SITE_DOWN;
	a->heartbeats = 600;
	a->blackout_holds = 1;
	a->beacon[0] = (struct dm_beacon){ true, false, 100 * S - 250000000ull };
	a->beacon[1] = (struct dm_beacon){ true, false, 0 }; /* never heard */
	a->transitions[HEALTH_CAUSE_HEARTBEAT_TIMEOUT][DT_SITE_DOWN] = 1;
	a->transitions[HEALTH_CAUSE_FIRST_HEARTBEAT][DT_SITE_UP] = 1;
	a->notices[HEALTH_CAUSE_BLACKOUT_HOLD] = 1;
	dm_hist_observe(&a->detect[DT_SITE_DOWN], dm_detect_le, dm_detect_n, 0.0231);
	dm_hist_observe(&a->apply[DT_SITE_DOWN], dm_apply_le, dm_apply_n, 0.00003);
	dm_hist_observe(&a->detect[DT_SITE_UP], dm_detect_le, dm_detect_n, 42); /* above all */
	strcpy(b->name, "ansan");
	b->id = 2;
	b->state = DT_SITE_UP;
	b->beacon[0] = (struct dm_beacon){ true, true, 100 * S - 5000000ull };
	return s;
}

static char *render(void)
{
	struct dm_snapshot *s = snapshot();
	struct dm_live live = { .dp = &fake_dp,
				.version = "9.9.9",
				.dataplane = "fake",
				.flows_established = 5,
				.flows_new = 6,
				.flows_counted_ns = 99 * S + 500000000ull };
	char *page = NULL;
	size_t len = 0;

	assert_int_equal(dm_render(s, &live, 100 * S, &page, &len), 0);
	assert_int_equal(strlen(page), len);
	free(s);
	return page;
}

static void has_line(const char *page, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strstr(page, want))
		fail_msg("no line \"%s\" in the page:\n%s", line, page);
}

static void test_values(void **state)
{
	char *page = render();

	has_line(page, "detour_build_info{version=\"9.9.9\",dataplane=\"fake\","
		       "policy_fingerprint=\"00112233445566778899aabbccddeeff\"} 1");
	has_line(page, "detour_site_state{site=\"pangyo\",state=\"down\"} 1");
	has_line(page, "detour_site_state{site=\"pangyo\",state=\"up\"} 0");
	has_line(page, "detour_site_state{site=\"ansan\",state=\"up\"} 1");
	has_line(page,
		 "detour_beacon_last_heartbeat_age_seconds{site=\"pangyo\",beacon=\"0\"} 0.25");
	has_line(page,
		 "detour_beacon_last_heartbeat_age_seconds{site=\"ansan\",beacon=\"0\"} 0.005");
	assert_null(strstr(page, "age_seconds{site=\"pangyo\",beacon=\"1\"}")); /* never heard */
	has_line(page, "detour_beacon_up{site=\"pangyo\",beacon=\"1\"} 0");
	has_line(page, "detour_heartbeats_accepted_total 1000");
	has_line(page, "detour_heartbeats_refused_total{reason=\"bad-mac\"} 4");
	has_line(page, "detour_heartbeats_refused_total{reason=\"replay\"} 0");
	has_line(page, "detour_site_heartbeats_total{site=\"pangyo\"} 600");
	has_line(page, "detour_site_transitions_total{site=\"pangyo\",to=\"down\","
		       "cause=\"heartbeat_timeout\"} 1");
	has_line(page, "detour_site_notices_total{site=\"pangyo\",cause=\"blackout_hold\"} 1");
	has_line(page, "detour_site_blackout_holds_total{site=\"pangyo\"} 1");
	/* 0.0231 s: above 0.016, within 0.032 */
	has_line(page, "detour_transition_detection_seconds_bucket{site=\"pangyo\",to=\"down\","
		       "le=\"0.016\"} 0");
	has_line(page, "detour_transition_detection_seconds_bucket{site=\"pangyo\",to=\"down\","
		       "le=\"0.032\"} 1");
	has_line(page, "detour_transition_detection_seconds_bucket{site=\"pangyo\",to=\"down\","
		       "le=\"8.192\"} 1");
	has_line(page, "detour_transition_detection_seconds_count{site=\"pangyo\",to=\"down\"} 1");
	has_line(page,
		 "detour_transition_detection_seconds_sum{site=\"pangyo\",to=\"down\"} 0.0231");
	/* 42 s: in no bucket but +Inf */
	has_line(page, "detour_transition_detection_seconds_bucket{site=\"pangyo\",to=\"up\","
		       "le=\"8.192\"} 0");
	has_line(page, "detour_transition_detection_seconds_bucket{site=\"pangyo\",to=\"up\","
		       "le=\"+Inf\"} 1");
	has_line(page, "detour_transition_apply_seconds_bucket{site=\"pangyo\",to=\"down\","
		       "le=\"5e-05\"} 1");
	has_line(page, "detour_packets_total{site=\"pangyo\",reason=\"rerouted_route\","
		       "verdict=\"rerouted\"} 7");
	has_line(page, "detour_bytes_total{site=\"pangyo\",reason=\"rerouted_route\","
		       "verdict=\"rerouted\"} 700");
	has_line(page,
		 "detour_packets_total{site=\"none\",reason=\"no_prefix\",verdict=\"passed\"} 11");
	/* an MSS clamp is an event beside the packet's own reason, not a packet */
	assert_null(strstr(page, "detour_packets_total{site=\"pangyo\",reason=\"mss_clamped\""));
	has_line(page, "detour_dataplane_events_total{site=\"pangyo\",event=\"mss_clamped\"} 3");
	has_line(page, "detour_flow_table_evictions_total 2");
	has_line(page, "detour_flow_table_entries{class=\"established\"} 5");
	has_line(page, "detour_flow_table_entries{class=\"new\"} 6");
	has_line(page, "detour_flow_table_count_age_seconds 0.5");
	has_line(page, "detour_flow_table_size 4096");
	has_line(page, "detour_metrics_snapshot_age_seconds 1");
	free(page);
}

/* The name of a sample line: up to '{' or ' '. */
static void sample_name(const char *line, char *out, size_t len)
{
	size_t n = strcspn(line, "{ ");

	snprintf(out, len, "%.*s", (int)n, line);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* The structure of the whole page, line by line. */
static void test_structure(void **state)
{
	char *page = render(), *save = NULL, *line;
	char seen[64][96], family[96] = "", type[16] = "", name[128], base[128];
	unsigned int n_seen = 0, families = 0, i;
	bool help_pending = false;
	unsigned long long last_bucket = 0, inf = 0;
	bool in_hist = false;

	assert_true(page[strlen(page) - 1] == '\n');
	for (line = strtok_r(page, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%95s", family);
			for (i = 0; i < n_seen; i++)
				if (!strcmp(seen[i], family))
					fail_msg("family %s announced twice", family);
			assert_true(n_seen < 64);
			strcpy(seen[n_seen++], family);
			help_pending = true;
			families++;
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			char tname[96];

			assert_true(help_pending); /* TYPE right after its HELP */
			assert_int_equal(sscanf(line + 7, "%95s %15s", tname, type), 2);
			assert_string_equal(tname, family);
			if (!strcmp(type, "counter"))
				assert_true(ends_with(family, "_total"));
			help_pending = false;
			continue;
		}
		assert_false(help_pending);
		assert_true(line[0] != '#');
		sample_name(line, name, sizeof(name));
		if (strcmp(type, "histogram")) {
			assert_string_equal(name, family);
			continue;
		}
		/* histogram: _bucket... (cumulative), le="+Inf", _sum, _count == +Inf */
		snprintf(base, sizeof(base), "%s_bucket", family);
		if (!strcmp(name, base)) {
			unsigned long long v = strtoull(strrchr(line, ' ') + 1, NULL, 10);

			if (in_hist)
				assert_true(v >= last_bucket);
			in_hist = true;
			last_bucket = v;
			if (strstr(line, "le=\"+Inf\"")) {
				inf = v;
				in_hist = false;
			}
		} else if (ends_with(name, "_sum")) {
			snprintf(base, sizeof(base), "%s_sum", family);
			assert_string_equal(name, base);
		} else {
			snprintf(base, sizeof(base), "%s_count", family);
			assert_string_equal(name, base);
			assert_int_equal(strtoull(strrchr(line, ' ') + 1, NULL, 10), inf);
		}
	}
	print_message("%u families\n", families);
	assert_true(families >= 20);
	free(page);
}

/* test_metrics_page FILE: write the page to FILE, for promtool (test-metrics-promtool.sh). */
static int write_page(const char *path)
{
	char *page = render();
	FILE *f = fopen(path, "w");
	int ok = f && fputs(page, f) >= 0;

	if (f)
		ok = !fclose(f) && ok;
	free(page);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_structure),
	};

	if (argc > 1)
		return write_page(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
