/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * detour-beacon's configuration: built-in defaults, then an optional ini-style file (-c), then
 * the command line on top. The file takes the long option names as keys; "target" may repeat.
 * Both places go through one key table (control/config/conf_table.h, the machinery detourd's
 * file uses) and the same value parsers, so they cannot drift apart from each other or from
 * detourd: a duration is written the same way in both programs (docs/config.md, "Durations").
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <ini.h>

#include "beacon.h"
#include "conf_table.h"

/* Where settings come from while one layer (file or command line) is applied. */
struct config_layer {
	struct conf_report report; /* first: the table's parsers report through it */
	struct beacon_config *cfg;
	const char *origin; /* "config file X" or "command line" */
	bool targets_seen; /* the first target of a layer replaces the previous layer's list */
	int sources_seen; /* power sources named in this layer: at most one */
	int err;
};

static struct config_layer *layer_of(const struct conf_report *r)
{
	return (struct config_layer *)r;
}

static void layer_report(void *user, const struct conf_key_row *key, const char *why)
{
	struct config_layer *l = user;

	dt_log_err("%s: %s: %s", l->origin, key->name, why);
}

static void layer_init(struct config_layer *l, struct beacon_config *cfg, const char *origin)
{
	*l = (struct config_layer){ .report = { layer_report, l }, .cfg = cfg, .origin = origin };
}

int parse_duration_us(const char *s, uint64_t *us)
{
	uint64_t ns;

	if (conf_duration_ns(s, false, &ns))
		return -EINVAL;
	*us = ns / CONF_NS_PER_US;
	return 0;
}

int beacon_config__set_ups(struct beacon_config *cfg, const char *spec)
{
	const char *at = strchr(spec, '@'), *port;
	size_t name_len = at ? (size_t)(at - spec) : 0;
	uint64_t v = NUT_DEFAULT_PORT;

	if (!name_len || name_len >= sizeof(cfg->ups_name) || strpbrk(spec, " \t\"\n"))
		return -EINVAL;
	if (conf_split_host_port(at + 1, cfg->ups_host, sizeof(cfg->ups_host), &port) ||
	    !cfg->ups_host[0] || (port && (conf_decimal_u64(port, &v) || !v || v > 65535)))
		return -EINVAL;
	cfg->ups_port = (uint16_t)v;
	memcpy(cfg->ups_name, spec, name_len);
	cfg->ups_name[name_len] = '\0';
	return 0;
}

static int parse_target(const struct conf_key_row *k, const char *spec, void *base,
			const struct conf_report *r)
{
	struct config_layer *l = layer_of(r);
	struct beacon_config *cfg = base;
	struct beacon_target *t;

	if (!l->targets_seen)
		cfg->n_targets = 0;
	l->targets_seen = true;
	if (cfg->n_targets == BEACON_MAX_TARGETS) {
		dt_log_err("%s: more than %d targets", l->origin, BEACON_MAX_TARGETS);
		return -E2BIG;
	}
	t = &cfg->targets[cfg->n_targets];
	if (strlen(spec) >= sizeof(t->spec) || hb_addr_parse(spec, false, &t->addr, &t->addr_len)) {
		dt_log_err("%s: bad target \"%s\": expected HOST:PORT or [V6ADDR]:PORT", l->origin,
			   spec);
		return -EINVAL;
	}
	snprintf(t->spec, sizeof(t->spec), "%s", spec);
	cfg->n_targets++;
	return 0;
}

/* ups, status-file, status-command: the row's min is the enum power_source it selects. */
static int parse_source(const struct conf_key_row *k, const char *value, void *base,
			const struct conf_report *r)
{
	struct config_layer *l = layer_of(r);
	struct beacon_config *cfg = base;
	enum power_source src = (enum power_source)k->min;

	if (++l->sources_seen > 1) {
		dt_log_err("%s: give one of ups, status-file, status-command", l->origin);
		return -EINVAL;
	}
	cfg->source = src;
	if (src == POWER_SOURCE_UPS) {
		if (beacon_config__set_ups(cfg, value)) {
			dt_log_err("%s: bad ups \"%s\": expected NAME@HOST[:PORT]", l->origin,
				   value);
			return -EINVAL;
		}
		return 0;
	}
	if (!value[0] || strlen(value) >= sizeof(cfg->status_path)) {
		dt_log_err("%s: bad status %s \"%s\"", l->origin,
			   src == POWER_SOURCE_FILE ? "file" : "command", value);
		return -EINVAL;
	}
	snprintf(cfg->status_path, sizeof(cfg->status_path), "%s", value);
	return 0;
}

#define BEACON (1u << BEACON_SECTION)
#define B(member) CONF_FIELD(struct beacon_config, member)
#define DURATION_MAX UINT64_MAX /* the field saturates; config_validate() bounds each */

/* The file's keys are the long option names; a command-line option is the same row. */
static const struct conf_key_row rows[] = {
	{ "site", BEACON, conf_parse_uint, B(site_id), 0, DT_MAX_SITES - 1 },
	{ "beacon-id", BEACON, conf_parse_uint, B(beacon_id), 0, HB_MAX_BEACONS - 1 },
	{ "key-file", BEACON, conf_parse_string, B(key_file) },
	{ "key-id", BEACON, conf_parse_uint, B(key_id), 0, UINT16_MAX },
	{ "epoch-file", BEACON, conf_parse_string, B(epoch_file) },
	{ "target", BEACON, parse_target, B(targets), .flags = CONF_LIST },
	{ "ups", BEACON, parse_source, B(ups_name), POWER_SOURCE_UPS },
	{ "status-file", BEACON, parse_source, B(status_path), POWER_SOURCE_FILE },
	{ "status-command", BEACON, parse_source, B(status_path), POWER_SOURCE_COMMAND },
	{ "interval", BEACON, conf_parse_duration, B(interval_us), 0, DURATION_MAX,
	  .unit = CONF_NS_PER_US },
	{ "jitter", BEACON, conf_parse_duration, B(jitter_us), 0, DURATION_MAX,
	  .unit = CONF_NS_PER_US },
	{ "poll-interval", BEACON, conf_parse_duration, B(poll_interval_ms), 0, DURATION_MAX,
	  .unit = CONF_NS_PER_MS },
	{ "poll-timeout", BEACON, conf_parse_duration, B(poll_timeout_ms), 0, DURATION_MAX,
	  .unit = CONF_NS_PER_MS },
};

const struct conf_table beacon_keys = { rows, sizeof(rows) / sizeof(rows[0]) };

/* One setting, by its long option name. */
static int config_apply(struct config_layer *l, const char *name, const char *value)
{
	const struct conf_key_row *k = conf_table__find(&beacon_keys, BEACON_SECTION, name);
	const char *near;

	if (k)
		return k->parse(k, value, l->cfg, &l->report);
	near = conf_table__suggest(&beacon_keys, BEACON_SECTION, name);
	if (near)
		dt_log_err("%s: unknown setting \"%s\" (did you mean \"%s\"?)", l->origin, name,
			   near);
	else
		dt_log_err("%s: unknown setting \"%s\"", l->origin, name);
	return -EINVAL;
}

static int config_ini_handler(void *user, const char *section, const char *name, const char *value)
{
	struct config_layer *l = user;

	if (section[0] && strcmp(section, "beacon")) {
		dt_log_err("%s: unknown section [%s]", l->origin, section);
		l->err = -EINVAL;
		return 0;
	}
	l->err = config_apply(l, name, value);
	return l->err ? 0 : 1;
}

static int config_load_file(struct beacon_config *cfg)
{
	char origin[PATH_MAX + 16];
	struct config_layer l;
	int line;

	layer_init(&l, cfg, origin);
	snprintf(origin, sizeof(origin), "config file %s", cfg->config_path);
	line = ini_parse(cfg->config_path, config_ini_handler, &l);
	if (line < 0) {
		dt_log_err("config file %s: cannot open: %s", cfg->config_path, strerror(errno));
		return -ENOENT;
	}
	if (line > 0) {
		dt_log_err("config file %s line %d: not understood", cfg->config_path, line);
		return l.err ? l.err : -EINVAL;
	}
	return 0;
}

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "site", required_argument, NULL, 's' },
	{ "beacon-id", required_argument, NULL, 'b' },
	{ "key-file", required_argument, NULL, 'k' },
	{ "key-id", required_argument, NULL, 'K' },
	{ "epoch-file", required_argument, NULL, 'e' },
	{ "interval", required_argument, NULL, 'i' },
	{ "target", required_argument, NULL, 't' },
	{ "ups", required_argument, NULL, 'u' },
	{ "status-file", required_argument, NULL, 'f' },
	{ "status-command", required_argument, NULL, 'C' },
	{ "jitter", required_argument, NULL, 'j' },
	{ "poll-interval", required_argument, NULL, 'P' },
	{ "poll-timeout", required_argument, NULL, 'T' },
	{ "foreground", no_argument, NULL, 'F' },
	{ "no-realtime", no_argument, NULL, 'R' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char short_opts[] = "c:s:b:k:K:e:i:t:u:f:C:j:P:T:FRh";

void beacon_usage(FILE *f)
{
	fprintf(f,
		"usage: detour-beacon [-c FILE] [--site ID] [--beacon-id N] [--key-file PATH]\n"
		"                     [--key-id N] [--interval DUR] [--target HOST:PORT]...\n"
		"                     [--ups NAME@HOST[:PORT] | --status-file PATH |\n"
		"                     --status-command CMD] [--jitter DUR] [--poll-interval DUR]\n"
		"                     [--poll-timeout DUR] [--epoch-file PATH] [--foreground]\n"
		"                     [--no-realtime]\n"
		"DUR is a number, up to 6 decimals, with ns, us, ms or s (bare: ms). Defaults:\n"
		"interval 5ms, jitter interval/10, poll-interval 500ms, poll-timeout 400ms, target\n"
		"port %d, ups port %d, beacon id 0 (0..%d: one id per beacon of a site), key id:\n"
		"the site's only key in the key file. Every heartbeat goes to every --target: give\n"
		"each edge twice, its management and its data-link address. --epoch-file keeps\n"
		"each run's epoch larger than the last one's when the clock steps backwards.\n",
		HB_DEFAULT_PORT, NUT_DEFAULT_PORT, HB_MAX_BEACONS - 1);
}

static const char *long_name_of(int c)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == c)
			return o->name;
	return NULL;
}

/* First pass: only -c and -h, so the file can be read before the options that override it. */
static int config_scan_argv(struct beacon_config *cfg, int argc, char **argv)
{
	static const struct conf_key_row config_row = { "config", BEACON, conf_parse_string,
							B(config_path) };
	struct config_layer l;
	int c;

	layer_init(&l, cfg, "command line");
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		if (c == 'c' && config_row.parse(&config_row, optarg, cfg, &l.report))
			return -EINVAL;
		if (c == 'h')
			return -ECANCELED;
	}
	return 0;
}

static int config_apply_argv(struct beacon_config *cfg, int argc, char **argv)
{
	struct config_layer l;
	int c, err;

	layer_init(&l, cfg, "command line");
	optind = 0;
	opterr = 1;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return -EINVAL;
		if (c == 'c')
			continue;
		if (c == 'F' || c == 'R') {
			cfg->foreground |= c == 'F';
			cfg->realtime &= c != 'R';
			continue;
		}
		err = config_apply(&l, long_name_of(c), optarg);
		if (err)
			return err;
	}
	if (optind < argc) {
		dt_log_err("command line: unexpected argument \"%s\"", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int config_validate(struct beacon_config *cfg)
{
	if (cfg->site_id < 0 || !cfg->key_file[0] || !cfg->n_targets) {
		dt_log_err("need a site, a key file and at least one target (see --help)");
		return -EINVAL;
	}
	if (cfg->interval_us < BEACON_INTERVAL_MIN_US || cfg->interval_us > 10000000u) {
		dt_log_err("interval %u us: must be between 1ms and 10s", cfg->interval_us);
		return -EINVAL;
	}
	if (cfg->jitter_us < 0)
		cfg->jitter_us = cfg->interval_us / 10;
	if (cfg->jitter_us >= cfg->interval_us / 2) {
		dt_log_err("jitter %lld us: must be less than half the interval (%u us)",
			   (long long)cfg->jitter_us, cfg->interval_us);
		return -EINVAL;
	}
	if (!cfg->poll_interval_ms || !cfg->poll_timeout_ms ||
	    cfg->poll_timeout_ms > cfg->poll_interval_ms) {
		dt_log_err("poll-timeout %u ms must be > 0 and at most poll-interval %u ms",
			   cfg->poll_timeout_ms, cfg->poll_interval_ms);
		return -EINVAL;
	}
	return 0;
}

int beacon_config__load(struct beacon_config *cfg, int argc, char **argv)
{
	int err;

	*cfg = (struct beacon_config){
		.site_id = -1,
		.key_id = -1,
		.interval_us = BEACON_INTERVAL_DEFAULT_US,
		.jitter_us = -1,
		.poll_interval_ms = BEACON_POLL_DEFAULT_MS,
		.poll_timeout_ms = BEACON_POLL_TIMEOUT_DEFAULT_MS,
		.realtime = true,
	};
	err = config_scan_argv(cfg, argc, argv);
	if (!err && cfg->config_path[0])
		err = config_load_file(cfg);
	if (!err)
		err = config_apply_argv(cfg, argc, argv);
	if (!err)
		err = config_validate(cfg);
	return err;
}

int beacon_pick_key(const struct beacon_config *cfg, const struct hb_keyring *kr, uint16_t *key_id)
{
	uint16_t site = (uint16_t)cfg->site_id, ids[HB_MAX_KEYS_PER_SITE];
	unsigned int n = hb_keyring__site_keys(kr, site, ids, HB_MAX_KEYS_PER_SITE);

	if (cfg->key_id >= 0) {
		*key_id = (uint16_t)cfg->key_id;
		if (hb_keyring__key(kr, site, *key_id))
			return 0;
		dt_log_err("key file %s: no key with key id %d for site %d", cfg->key_file,
			   cfg->key_id, cfg->site_id);
		return -ENOKEY;
	}
	if (n == 1) {
		*key_id = ids[0];
		return 0;
	}
	if (!n)
		dt_log_err("key file %s: no key for site %d", cfg->key_file, cfg->site_id);
	else
		dt_log_err("key file %s: site %d has %u keys; say which to seal with (--key-id)",
			   cfg->key_file, cfg->site_id, n);
	return -ENOKEY;
}
