/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * detour-beacon's configuration: built-in defaults, then an optional ini-style file (-c), then
 * the command line on top. The file takes the long option names as keys; "target" may repeat.
 * The same function applies a setting from either place, so they cannot drift apart.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <ini.h>

#include "beacon.h"

/* Where settings come from while one layer (file or command line) is applied. */
struct config_layer {
	struct beacon_config *cfg;
	const char *origin; /* "config file X" or "command line" */
	bool targets_seen; /* the first target of a layer replaces the previous layer's list */
	int sources_seen; /* power sources named in this layer: at most one */
	int err;
};

int parse_duration_us(const char *s, uint64_t *us)
{
	static const struct {
		const char *suffix;
		uint64_t num, den; /* µs = value * num / den */
	} units[] = { { "ns", 1, 1000 },
		      { "us", 1, 1 },
		      { "ms", 1000, 1 },
		      { "s", 1000000, 1 },
		      { "", 1000, 1 } };
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-' || v > 3600ull * 1000000000ull)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(end, units[i].suffix)) {
			*us = v * units[i].num / units[i].den;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* "HOST", "HOST:PORT", "[V6ADDR]", "[V6ADDR]:PORT" or a bare IPv6 address. */
static int split_host_port(const char *s, char *host, size_t host_len, uint16_t *port)
{
	const char *h = s, *port_str = NULL;
	size_t n = strlen(s);

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		h = s + 1;
		n = (size_t)(close - h);
		port_str = close[1] ? close + 2 : NULL;
	} else if (strchr(s, ':') && strchr(s, ':') == strrchr(s, ':')) {
		n = (size_t)(strchr(s, ':') - s);
		port_str = s + n + 1;
	}
	if (!n || n >= host_len || (port_str && parse_port(port_str, port)))
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	return 0;
}

int beacon_config__set_ups(struct beacon_config *cfg, const char *spec)
{
	const char *at = strchr(spec, '@');
	size_t name_len = at ? (size_t)(at - spec) : 0;

	if (!name_len || name_len >= sizeof(cfg->ups_name) || strpbrk(spec, " \t\"\n"))
		return -EINVAL;
	cfg->ups_port = NUT_DEFAULT_PORT;
	if (split_host_port(at + 1, cfg->ups_host, sizeof(cfg->ups_host), &cfg->ups_port))
		return -EINVAL;
	memcpy(cfg->ups_name, spec, name_len);
	cfg->ups_name[name_len] = '\0';
	return 0;
}

static int config_add_target(struct config_layer *l, const char *spec)
{
	struct beacon_config *cfg = l->cfg;
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

static int config_set_source(struct config_layer *l, enum power_source src, const char *value)
{
	struct beacon_config *cfg = l->cfg;

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

static int config_set_duration(struct config_layer *l, const char *name, const char *value,
			       uint64_t *us)
{
	if (parse_duration_us(value, us)) {
		dt_log_err("%s: bad %s \"%s\": expected a duration like 5ms, 500us, 1s", l->origin,
			   name, value);
		return -EINVAL;
	}
	return 0;
}

static int config_set_site(struct config_layer *l, const char *value)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < 0 || v >= DT_MAX_SITES) {
		dt_log_err("%s: bad site \"%s\": expected a site id 0..%d", l->origin, value,
			   DT_MAX_SITES - 1);
		return -EINVAL;
	}
	l->cfg->site_id = (int)v;
	return 0;
}

static int config_set_path(struct config_layer *l, const char *name, const char *value, char *dst)
{
	if (!value[0] || strlen(value) >= PATH_MAX) {
		dt_log_err("%s: bad %s \"%s\"", l->origin, name, value);
		return -EINVAL;
	}
	snprintf(dst, PATH_MAX, "%s", value);
	return 0;
}

/* One setting, by its long option name. */
static int config_apply(struct config_layer *l, const char *name, const char *value)
{
	struct beacon_config *cfg = l->cfg;
	uint64_t us;
	int err;

	if (!strcmp(name, "site"))
		return config_set_site(l, value);
	if (!strcmp(name, "key-file"))
		return config_set_path(l, name, value, cfg->key_file);
	if (!strcmp(name, "target"))
		return config_add_target(l, value);
	if (!strcmp(name, "ups"))
		return config_set_source(l, POWER_SOURCE_UPS, value);
	if (!strcmp(name, "status-file"))
		return config_set_source(l, POWER_SOURCE_FILE, value);
	if (!strcmp(name, "status-command"))
		return config_set_source(l, POWER_SOURCE_COMMAND, value);
	if (strcmp(name, "interval") && strcmp(name, "jitter") && strcmp(name, "poll-interval") &&
	    strcmp(name, "poll-timeout")) {
		dt_log_err("%s: unknown setting \"%s\"", l->origin, name);
		return -EINVAL;
	}
	err = config_set_duration(l, name, value, &us);
	if (err)
		return err;
	if (!strcmp(name, "interval"))
		cfg->interval_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	else if (!strcmp(name, "jitter"))
		cfg->jitter_us = (int64_t)us;
	else if (!strcmp(name, "poll-interval"))
		cfg->poll_interval_ms = (uint32_t)(us / 1000 > UINT32_MAX ? UINT32_MAX : us / 1000);
	else
		cfg->poll_timeout_ms = (uint32_t)(us / 1000 > UINT32_MAX ? UINT32_MAX : us / 1000);
	return 0;
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
	struct config_layer l = { .cfg = cfg, .origin = origin };
	int line;

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
	{ "key-file", required_argument, NULL, 'k' },
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

static const char short_opts[] = "c:s:k:i:t:u:f:C:j:P:T:FRh";

void beacon_usage(FILE *f)
{
	fprintf(f,
		"usage: detour-beacon [-c FILE] [--site ID] [--key-file PATH] [--interval DUR]\n"
		"                     [--target HOST:PORT]... [--ups NAME@HOST[:PORT] |\n"
		"                     --status-file PATH | --status-command CMD] [--jitter DUR]\n"
		"                     [--poll-interval DUR] [--poll-timeout DUR] [--foreground]\n"
		"                     [--no-realtime]\n"
		"DUR is a number with ns, us, ms or s (bare: ms). Defaults: interval 5ms, jitter\n"
		"interval/10, poll-interval 500ms, poll-timeout 400ms, target port %d, ups port %d.\n",
		HB_DEFAULT_PORT, NUT_DEFAULT_PORT);
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
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		if (c == 'c' && config_set_path(&(struct config_layer){ .origin = "command line" },
						"config", optarg, cfg->config_path))
			return -EINVAL;
		if (c == 'h')
			return -ECANCELED;
	}
	return 0;
}

static int config_apply_argv(struct beacon_config *cfg, int argc, char **argv)
{
	struct config_layer l = { .cfg = cfg, .origin = "command line" };
	int c, err;

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
