/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The key tables themselves: detourd's (control/config/config_keys.c) and detour-beacon's
 * (control/beacon/beacon_config.c). Every row must be usable (a parser, a unique name, bounds
 * that hold its default); every detourd key has a reload case below, and a reload that changes
 * it is allowed or refused exactly as its row says; the beacon reads durations with the same
 * parser as detourd.
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
#include <unistd.h>

#include "beacon.h"
#include "config_internal.h"

/* ---- integrity ------------------------------------------------------------------------------ */

static void fail_report(void *user, const struct conf_key_row *key, const char *why)
{
	print_message("default of %s: %s\n", key->name, why);
	*(int *)user += 1;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && !strcmp(s + n - m, tail);
}

static void check_row(const struct conf_key_row *k, size_t struct_size)
{
	print_message("row %s\n", k->name);
	assert_non_null(k->name);
	assert_true(k->name[0]);
	assert_non_null(k->parse);
	assert_true(k->sections);
	assert_true(k->size > 0);
	assert_true(k->offset + k->size <= struct_size);
	assert_true(k->min <= k->max || !k->max);
	if (k->parse == conf_parse_enum)
		assert_non_null(k->arg);
	if (k->parse == conf_parse_duration) {
		assert_true(k->unit > 0);
		/* The unit is in the name exactly when the value may not carry one. */
		assert_int_equal(!!(k->flags & CONF_BARE_MS), ends_with(k->name, "_ms"));
	}
}

/* Rows of one section of @t: checked, unique by name, defaults within their bounds. */
static void check_section(const struct conf_table *t, unsigned int section, size_t struct_size)
{
	void *scratch = calloc(1, struct_size);
	int failures = 0;
	struct conf_report r = { fail_report, &failures };

	assert_non_null(scratch);
	for (size_t i = 0; i < t->n; i++) {
		if (!(t->rows[i].sections & (1u << section)))
			continue;
		check_row(&t->rows[i], struct_size);
		assert_ptr_equal(conf_table__find(t, section, t->rows[i].name), &t->rows[i]);
	}
	assert_int_equal(conf_table__defaults(t, section, scratch, &r), 0);
	assert_int_equal(failures, 0);
	free(scratch);
}

static void test_detourd_table(void **state)
{
	assert_true(cfg_keys.n <= CFG_MAX_KEYS);
	for (size_t i = 0; i < cfg_keys.n; i++)
		assert_true(cfg_keys.rows[i].sections & ((1u << SEC_DETOUR) | (1u << SEC_SITE)));
	check_section(&cfg_keys, SEC_DETOUR, sizeof(struct dt_config));
	check_section(&cfg_keys, SEC_SITE, sizeof(struct dt_config_site));
}

static void test_beacon_table(void **state)
{
	check_section(&beacon_keys, BEACON_SECTION, sizeof(struct beacon_config));
	for (size_t i = 0; i < beacon_keys.n; i++)
		assert_false(beacon_keys.rows[i].flags & CONF_RESTART); /* SIGHUP swaps it whole */
}

/* The defaults of the table are the ones docs/config.md lists. */
static void test_defaults(void **state)
{
	struct dt_config *c = calloc(1, sizeof(*c));
	int failures = 0;
	struct conf_report r = { fail_report, &failures };

	assert_int_equal(conf_table__defaults(&cfg_keys, SEC_DETOUR, c, &r), 0);
	assert_int_equal(c->interval_ns, 5000000);
	assert_int_equal(c->multiplier, 3);
	assert_int_equal(c->hold_down_ns, 1000000000ull);
	assert_int_equal(c->recovery_timeout_ns, 30000000000ull);
	assert_int_equal(c->flow_idle_ns, 10000000000ull);
	assert_int_equal(c->flow_table_size, DT_FLOW_TABLE_DEFAULT);
	assert_string_equal(c->pin_root, DT_PIN_ROOT_DEFAULT);
	assert_string_equal(c->event_log, "-");
	assert_string_equal(c->key_file, "/etc/detour/detour.keys");
	assert_string_equal(c->notify_command, "");
	assert_int_equal(c->notify_timeout_ns, 5000000000ull);
	free(c);
}

static void test_suggestions(void **state)
{
	assert_string_equal(conf_table__suggest(&cfg_keys, SEC_DETOUR, "intervall_ms"),
			    "interval_ms");
	assert_string_equal(conf_table__suggest(&cfg_keys, SEC_SITE, "next_hop_mak"),
			    "next_hop_mac");
	/* Only keys of the section the line is in. */
	assert_null(conf_table__suggest(&cfg_keys, SEC_DETOUR, "mtu"));
	assert_null(conf_table__suggest(&cfg_keys, SEC_SITE, "flow_idle"));
	assert_string_equal(conf_table__suggest(&beacon_keys, BEACON_SECTION, "intervall"),
			    "interval");
	assert_null(conf_table__suggest(&beacon_keys, BEACON_SECTION, "colour"));
}

/* ---- the reload rule, key by key ------------------------------------------------------------ */

/* One key of the test configuration: its value, and another that a reload would bring. */
struct reload_case {
	enum cfg_section section;
	const char *site; /* in which [site NAME]; NULL for [detour] */
	const char *name, *value, *changed;
};

static const struct reload_case reload_cases[] = {
	{ SEC_DETOUR, NULL, "interfaces", "edge0", "edge0 edge1" },
	{ SEC_DETOUR, NULL, "xdp_mode", "native", "generic" },
	{ SEC_DETOUR, NULL, "heartbeat_listen", "198.18.0.1", "198.18.0.2" },
	{ SEC_DETOUR, NULL, "metrics_listen", "127.0.0.1:9473", "[2001:db8::1]:9473" },
	{ SEC_DETOUR, NULL, "key_file", "/etc/detour/detour.keys", "/etc/detour/new.keys" },
	{ SEC_DETOUR, NULL, "interval_ms", "5", "6" },
	{ SEC_DETOUR, NULL, "multiplier", "3", "4" },
	{ SEC_DETOUR, NULL, "hold_down_ms", "1000", "2000" },
	{ SEC_DETOUR, NULL, "recovery_timeout_ms", "30000", "40000" },
	{ SEC_DETOUR, NULL, "flow_idle_ms", "10000", "20000" },
	{ SEC_DETOUR, NULL, "flow_table_size", "65536", "131072" },
	{ SEC_DETOUR, NULL, "hash_seed", "0x5eed", "7" },
	{ SEC_DETOUR, NULL, "control_socket", "/run/detour/detourd.sock", "/run/detour/b.sock" },
	{ SEC_DETOUR, NULL, "control_group", "", "root" },
	{ SEC_DETOUR, NULL, "user", "", "nobody" },
	{ SEC_DETOUR, NULL, "control_idle_ms", "30000", "1000" },
	{ SEC_DETOUR, NULL, "pin_root", "/sys/fs/bpf/detour", "/sys/fs/bpf/detour2" },
	{ SEC_DETOUR, NULL, "event_log", "-", "/var/log/detour/events.jsonl" },
	{ SEC_DETOUR, NULL, "state_file", "/var/lib/detour/detourd.state", "/var/lib/detour/b" },
	{ SEC_DETOUR, NULL, "notify_command", "/etc/detour/notify", "/usr/bin/logger -t detour" },
	{ SEC_DETOUR, NULL, "notify_timeout_ms", "5000", "250" },
	{ SEC_DETOUR, NULL, "blackout_hold_ms", "1000", "250" },
	{ SEC_DETOUR, NULL, "phi_threshold", "0", "8" },
	{ SEC_DETOUR, NULL, "max_skew_ms", "0", "500" },
	{ SEC_DETOUR, NULL, "damping_penalty", "1000", "0" },
	{ SEC_DETOUR, NULL, "damping_suppress", "2000", "3000" },
	{ SEC_DETOUR, NULL, "damping_reuse", "750", "500" },
	{ SEC_DETOUR, NULL, "damping_half_life_ms", "60000", "30000" },
	{ SEC_DETOUR, NULL, "damping_max_hold_down_ms", "300000", "600000" },
	{ SEC_SITE, "a", "id", "1", "5" },
	{ SEC_SITE, "b", "delivery", "route",
	  "ipip\ntunnel_remote = 198.18.203.1\ntunnel_local = 198.18.100.1" },
	{ SEC_SITE, "a", "tunnel_remote", "198.18.202.1", "198.18.202.2" },
	{ SEC_SITE, "a", "tunnel_local", "198.18.100.1", "198.18.100.2" },
	{ SEC_SITE, "a", "interface", "eth1", "eth2" },
	{ SEC_SITE, "a", "next_hop_mac", "02:00:00:00:00:01", "02:00:00:00:00:09" },
	{ SEC_SITE, "a", "source_mac", "02:00:00:00:01:01", "02:00:00:00:01:02" },
	{ SEC_SITE, "a", "mtu", "1500", "9000" },
	{ SEC_SITE, "a", "failover", "b", "b:2" },
	{ SEC_SITE, "a", "beacons", "0 1", "0 1 2" },
	{ SEC_SITE, "a", "min_supplies", "1", "2" },
	{ SEC_SITE, "a", "beacon_sources", "0 198.18.1.2, 1 2001:db8:5::/64", "1 198.18.2.0/24" },
	{ SEC_SITE, "a", "interval_ms", "2.5", "3" },
	{ SEC_SITE, "a", "multiplier", "3", "4" },
	{ SEC_SITE, "a", "hold_down_ms", "500", "600" },
	{ SEC_SITE, "a", "recovery_timeout_ms", "30000", "31000" },
};

#define N_CASES (sizeof(reload_cases) / sizeof(reload_cases[0]))

static const char site_b[] = "[site b]\nid = 2\ndelivery = %s\ninterface = eth1\n"
			     "next_hop_mac = 02:00:00:00:00:02\n";

/* The configuration with every key set, case @changed (or none, if N_CASES) changed. */
static void write_config(char *buf, size_t len, size_t changed)
{
	const char *section_of[] = {
		[SEC_DETOUR] = "[detour]\n", [SEC_SITE] = "[site a]\ndelivery = ipip\n"
	};
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++) {
		n += (size_t)snprintf(buf + n, len - n, "%s",
				      section_of[pass ? SEC_SITE : SEC_DETOUR]);
		for (size_t i = 0; i < N_CASES; i++) {
			const struct reload_case *c = &reload_cases[i];
			const char *v = i == changed ? c->changed : c->value;

			if ((c->section == SEC_SITE) != pass || (c->site && strcmp(c->site, "a")))
				continue;
			n += (size_t)snprintf(buf + n, len - n, "%s = %s\n", c->name, v);
		}
	}
	n += (size_t)snprintf(buf + n, len - n, site_b,
			      changed < N_CASES && !strcmp(reload_cases[changed].name, "delivery") ?
				      reload_cases[changed].changed :
				      "route");
	assert_true(n < len);
}

static struct dt_config *parse(const char *text)
{
	struct dt_config_error err;
	struct dt_config *c = NULL;

	if (dt_config__parse_string(text, "t.conf", DT_CONFIG_F_SKIP_KEYS, &c, &err)) {
		print_message("%s", text);
		dt_config_error__print(&err, stdout);
		fail();
	}
	return c;
}

static const struct reload_case *case_of(const struct conf_key_row *k)
{
	for (size_t i = 0; i < N_CASES; i++)
		if (k->sections & (1u << reload_cases[i].section) &&
		    !strcmp(k->name, reload_cases[i].name))
			return &reload_cases[i];
	return NULL;
}

/* A key added to the table without a reload case here fails: the rule must be tested. */
static void test_every_key_has_a_reload_case(void **state)
{
	for (size_t i = 0; i < cfg_keys.n; i++) {
		print_message("key %s\n", cfg_keys.rows[i].name);
		assert_non_null(case_of(&cfg_keys.rows[i]));
	}
}

static void test_reload_rule_per_key(void **state)
{
	char text[4096];
	struct dt_config *old, *new;

	write_config(text, sizeof(text), N_CASES);
	old = parse(text);
	assert_null(dt_config__reload_blocker(old, old));
	for (size_t i = 0; i < N_CASES; i++) {
		const struct reload_case *c = &reload_cases[i];
		const struct conf_key_row *k = conf_table__find(&cfg_keys, c->section, c->name);
		const char *blocker;

		assert_non_null(k);
		write_config(text, sizeof(text), i);
		new = parse(text);
		blocker = dt_config__reload_blocker(old, new);
		print_message("%s %s: %s\n", c->site ? c->site : "[detour]", c->name,
			      blocker ? blocker : "reloadable");
		if (k->flags & CONF_RESTART)
			assert_string_equal(blocker, conf_key__label(k));
		else
			assert_null(blocker);
		dt_config__free(new);
	}
	dt_config__free(old);
}

/* The keys a reload used to report as applied while nothing applied them. */
static void test_reload_names_restart_only_keys(void **state)
{
	static const char *const names[] = { "flow_idle_ms", "event_log", "control_group" };
	char text[4096];
	struct dt_config *old, *new;

	write_config(text, sizeof(text), N_CASES);
	old = parse(text);
	for (size_t n = 0; n < 3; n++) {
		for (size_t i = 0; i < N_CASES; i++) {
			if (strcmp(reload_cases[i].name, names[n]))
				continue;
			write_config(text, sizeof(text), i);
			new = parse(text);
			assert_string_equal(dt_config__reload_blocker(old, new), names[n]);
			dt_config__free(new);
		}
	}
	dt_config__free(old);
}

/* Moving heartbeat_listen to another line changes nothing a reload cares about. */
static void test_reload_ignores_lines(void **state)
{
	char text[4096], moved[4200];
	struct dt_config *old, *new;

	write_config(text, sizeof(text), N_CASES);
	old = parse(text);
	snprintf(moved, sizeof(moved), "; a comment moves every line down\n%s", text);
	new = parse(moved);
	assert_null(dt_config__reload_blocker(old, new));
	dt_config__free(new);
	dt_config__free(old);
}

/* ---- one duration syntax in both programs ------------------------------------------------- */

static void test_duration_forms(void **state)
{
	uint64_t bare, unit;

	/* What detourd's *_ms keys take means the same to the beacon. */
	assert_int_equal(conf_duration_ns("2.5", true, &bare), 0);
	assert_int_equal(conf_duration_ns("2.5", false, &unit), 0);
	assert_int_equal(bare, 2500000);
	assert_int_equal(unit, bare);
	assert_int_equal(conf_duration_ns("2.5ms", false, &unit), 0);
	assert_int_equal(unit, 2500000);
	assert_int_equal(conf_duration_ns("0.000001", true, &bare), 0);
	assert_int_equal(bare, 1);
	/* In a key named *_ms the unit is the name's: a suffix is refused. */
	assert_int_equal(conf_duration_ns("5ms", true, &bare), -EINVAL);
	assert_int_equal(conf_duration_ns("1.5s", false, &unit), 0);
	assert_int_equal(unit, 1500000000ull);
	assert_int_equal(conf_duration_ns("1.2345678", false, &unit), -EINVAL);
	assert_int_equal(conf_duration_ns("5.ms", false, &unit), -EINVAL);
	assert_int_equal(conf_duration_ns("99999999999999999999s", false, &unit), -ERANGE);
}

/* detour-beacon -c PATH, then up to two more options with their values. */
static int load(struct beacon_config *cfg, char *path, char *opt1, char *v1, char *opt2, char *v2)
{
	char *argv[] = { "detour-beacon", "-c", path, opt1, v1, opt2, v2, NULL };
	int argc = 3;

	while (argc < 7 && argv[argc])
		argc++;
	return beacon_config__load(cfg, argc, argv);
}

static void test_beacon_durations(void **state)
{
	char path[] = "/tmp/conf-table-beacon-XXXXXX";
	const char text[] = "[beacon]\nsite = 7\nkey-file = /k\ntarget = 198.18.0.1\n"
			    "interval = 2.5\njitter = 100us\npoll-interval = 1s\n"
			    "poll-timeout = 250000us\n";
	struct beacon_config cfg;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	assert_int_equal(load(&cfg, path, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(cfg.site_id, 7);
	assert_int_equal(cfg.interval_us, 2500);
	assert_int_equal(cfg.jitter_us, 100);
	assert_int_equal(cfg.poll_interval_ms, 1000);
	assert_int_equal(cfg.poll_timeout_ms, 250);
	/* The command line, through the same rows. */
	assert_int_equal(load(&cfg, path, "--interval", "1.5ms", "-j", "0.2"), 0);
	assert_int_equal(cfg.interval_us, 1500);
	assert_int_equal(cfg.jitter_us, 200);
	assert_int_equal(load(&cfg, path, "--interval", "5 ms", NULL, NULL), -EINVAL);
	assert_int_equal(load(&cfg, path, "--site", "64", NULL, NULL), -EINVAL);
	assert_int_equal(load(&cfg, path, "--site", "+1", NULL, NULL), -EINVAL);
	unlink(path);
}

static void test_beacon_unknown_key(void **state)
{
	char path[] = "/tmp/conf-table-beacon-XXXXXX";
	const char text[] = "site = 1\nkey-file = /k\ntarget = 198.18.0.1\nintervall = 5ms\n";
	struct beacon_config cfg;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	assert_int_equal(load(&cfg, path, NULL, NULL, NULL, NULL), -EINVAL);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detourd_table),
		cmocka_unit_test(test_beacon_table),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_suggestions),
		cmocka_unit_test(test_every_key_has_a_reload_case),
		cmocka_unit_test(test_reload_rule_per_key),
		cmocka_unit_test(test_reload_names_restart_only_keys),
		cmocka_unit_test(test_reload_ignores_lines),
		cmocka_unit_test(test_duration_forms),
		cmocka_unit_test(test_beacon_durations),
		cmocka_unit_test(test_beacon_unknown_key),
	};

	dt_log_init("detour-beacon", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
