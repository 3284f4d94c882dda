// SPDX-License-Identifier: GPL-2.0-only
/*
 * detourctl: the operator's view of detourd and its levers.
 *
 *   detourctl [-s SOCKET] [--json] COMMAND [ARGS]
 *
 * Commands live in one table (xdp-tools style): each has a do_<command>() that builds the request,
 * and a renderer for human output; --json prints the daemon's result object as it came, which is
 * the stable interface for scripts (docs/control-protocol.md).
 *
 * Exit codes: 0 done; 1 the daemon refused or failed the command (keygen: nothing was written);
 * 2 bad usage; 3 detourd is not running; 4 permission denied on the socket; 5 the daemon stopped
 * answering or answered garbage.
 */
#include <errno.h>
#include <grp.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_keygen.h"
#include "ctl_proto.h"
#include "ctl_render.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,
	EXIT_USAGE = 2,
	EXIT_NO_DAEMON = 3,
	EXIT_DENIED = 4,
	EXIT_IO = 5,
};

struct ctl_opts {
	const char *socket;
	bool json;
	int timeout_ms;
};

struct ctl_cmd {
	const char *name;
	const char *usage;
	const char *help;
	int (*run)(const struct ctl_opts *o, int argc, char **argv);
};

static const struct ctl_cmd *find_cmd(const char *name);

static int usage_error(const char *cmd, const char *fmt, const char *what)
{
	const struct ctl_cmd *c = find_cmd(cmd);

	fprintf(stderr, "detourctl %s: ", cmd);
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\nusage: detourctl %s %s\n", cmd, c ? c->usage : "");
	return EXIT_USAGE;
}

static int exit_for_client_err(int err)
{
	return err == CTL_CLIENT_NO_DAEMON ? EXIT_NO_DAEMON :
	       err == CTL_CLIENT_DENIED	   ? EXIT_DENIED :
					     EXIT_IO;
}

/*
 * Send one request and wait for its reply. On success *result is the reply's result (a new
 * reference) and the client stays connected (for --follow).
 */
static int call(const struct ctl_opts *o, struct ctl_client *c, const char *command,
		struct json_object *args, struct json_object **result)
{
	struct json_object *reply = NULL, *ok, *res, *msg;
	char err[512];
	int ret = ctl_client__connect(c, o->socket, err, sizeof(err));

	ret = ret ?: ctl_client__send(c, command, args, err, sizeof(err));
	ret = ret ?: ctl_client__recv(c, &reply, o->timeout_ms, err, sizeof(err));
	json_object_put(args);
	if (ret) {
		fprintf(stderr, "detourctl: %s\n", err);
		ctl_client__close(c);
		return exit_for_client_err(ret);
	}
	if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok)) {
		json_object_object_get_ex(reply, "error", &msg);
		fprintf(stderr, "detourctl %s: %s\n", command,
			msg ? json_object_get_string(msg) : "the daemon refused the command");
		json_object_put(reply);
		ctl_client__close(c);
		return EXIT_REFUSED;
	}
	json_object_object_get_ex(reply, "result", &res);
	*result = json_object_get(res);
	json_object_put(reply);
	return EXIT_OK;
}

static void print_json(struct json_object *o)
{
	printf("%s\n",
	       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* One request, one reply, rendered by @render unless --json. */
static int simple(const struct ctl_opts *o, const char *command, struct json_object *args,
		  void (*render)(struct json_object *result))
{
	struct json_object *result = NULL;
	struct ctl_client c;
	int ret = call(o, &c, command, args, &result);

	if (ret)
		return ret;
	if (o->json)
		print_json(result);
	else
		render(result);
	json_object_put(result);
	ctl_client__close(&c);
	return EXIT_OK;
}

static struct json_object *site_args(const char *site, bool force)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "site", json_object_new_string(site));
	if (force)
		json_object_object_add(a, "force", json_object_new_boolean(1));
	return a;
}

#define REASON_MAX 200 /* the daemon's limit too (docs/control-protocol.md) */

/* ---- commands ----------------------------------------------------------------------------- */

static int do_status(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("status", "unexpected argument \"%s\"", argv[1]);
	return simple(o, "status", NULL, render_status);
}

static int do_sites(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("sites", "unexpected argument \"%s\"", argv[1]);
	return simple(o, "sites", NULL, render_sites);
}

static int do_site(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "show"))
		return usage_error("site", "%s", "expects: show NAME");
	return simple(o, "site", site_args(argv[2], false), render_site);
}

/* drain, undrain, fail, restore: NAME [--force] [--reason TEXT] */
static int do_override(const struct ctl_opts *o, int argc, char **argv)
{
	const char *site = NULL, *reason = NULL;
	struct json_object *a;
	bool force = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = true;
		else if (!strcmp(argv[i], "--reason") && i + 1 < argc)
			reason = argv[++i];
		else if (!site && argv[i][0] != '-')
			site = argv[i];
		else
			return usage_error(argv[0], "unexpected argument \"%s\"", argv[i]);
	}
	if (!site)
		return usage_error(argv[0], "%s", "needs a site name");
	if (reason && (!reason[0] || strlen(reason) > REASON_MAX))
		return usage_error(argv[0], "%s", "--reason takes 1..200 characters");
	a = site_args(site, force);
	if (reason)
		json_object_object_add(a, "reason", json_object_new_string(reason));
	return simple(o, argv[0], a, render_site_change);
}

static int do_prefixes(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("prefixes", "unexpected argument \"%s\"", argv[1]);
	return simple(o, "prefixes", NULL, render_prefixes);
}

static int do_prefix(const struct ctl_opts *o, int argc, char **argv)
{
	struct json_object *a;

	if (argc >= 2 && !strcmp(argv[1], "add") && (argc == 4 || argc == 5)) {
		if (argc == 5 && strcmp(argv[4], "stateless"))
			return usage_error("prefix", "unknown flag \"%s\" (only: stateless)",
					   argv[4]);
		a = json_object_new_object();
		json_object_object_add(a, "prefix", json_object_new_string(argv[2]));
		json_object_object_add(a, "site", json_object_new_string(argv[3]));
		json_object_object_add(a, "stateless", json_object_new_boolean(argc == 5));
		return simple(o, "prefix-add", a, render_done);
	}
	if (argc == 3 && !strcmp(argv[1], "del")) {
		a = json_object_new_object();
		json_object_object_add(a, "prefix", json_object_new_string(argv[2]));
		return simple(o, "prefix-del", a, render_done);
	}
	return usage_error("prefix", "%s", "expects: add PREFIX SITE [stateless] | del PREFIX");
}

static int parse_limit(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || *end || *out <= 0 || *out > 1000000 ? -EINVAL : 0;
}

static int do_flows(const struct ctl_opts *o, int argc, char **argv)
{
	struct json_object *a = json_object_new_object();
	long limit = 100;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--site") && i + 1 < argc) {
			json_object_object_add(a, "site", json_object_new_string(argv[++i]));
		} else if (!strcmp(argv[i], "--limit") && i + 1 < argc) {
			if (parse_limit(argv[++i], &limit)) {
				json_object_put(a);
				return usage_error("flows", "--limit takes 1..1000000, not \"%s\"",
						   argv[i]);
			}
		} else {
			json_object_put(a);
			return usage_error("flows", "unexpected argument \"%s\"", argv[i]);
		}
	}
	json_object_object_add(a, "limit", json_object_new_int64(limit));
	return simple(o, "flows", a, render_flows);
}

static int do_stats(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("stats", "unexpected argument \"%s\"", argv[1]);
	return simple(o, "stats", NULL, render_stats);
}

/* what-if fail|drain NAME: where the site's traffic would go; nothing is changed. */
static int do_whatif(const struct ctl_opts *o, int argc, char **argv)
{
	struct json_object *a;

	if (argc < 2)
		return usage_error("what-if", "%s",
				   "needs an action (fail or drain) and a site name");
	if (strcmp(argv[1], "fail") && strcmp(argv[1], "drain"))
		return usage_error("what-if", "unknown action \"%s\" (fail or drain)", argv[1]);
	if (argc < 3)
		return usage_error("what-if", "%s", "needs a site name");
	if (argc > 3)
		return usage_error("what-if", "unexpected argument \"%s\"", argv[3]);
	a = json_object_new_object();
	json_object_object_add(a, "action", json_object_new_string(argv[1]));
	json_object_object_add(a, "site", json_object_new_string(argv[2]));
	return simple(o, "what-if", a, render_whatif);
}

/* events [--follow]: the log so far, then (with --follow) every new event as it happens. */
static int do_events(const struct ctl_opts *o, int argc, char **argv)
{
	struct json_object *a = json_object_new_object(), *result = NULL, *msg, *ev;
	bool follow = argc == 2 && !strcmp(argv[1], "--follow");
	struct ctl_client c;
	char err[256];
	int ret;

	if (argc > 2 || (argc == 2 && !follow)) {
		json_object_put(a);
		return usage_error("events", "unexpected argument \"%s\"", argv[1]);
	}
	json_object_object_add(a, "follow", json_object_new_boolean(follow));
	ret = call(o, &c, "events", a, &result);
	if (ret)
		return ret;
	render_events(result, o->json);
	json_object_put(result);
	while (follow && !(ret = ctl_client__recv(&c, &msg, -1, err, sizeof(err)))) {
		if (json_object_object_get_ex(msg, "event", &ev))
			render_event(ev, o->json);
		json_object_put(msg);
		fflush(stdout);
	}
	ctl_client__close(&c);
	return follow ? EXIT_IO : EXIT_OK; /* following ends only when the daemon goes away */
}

/* A decimal in 0 .. max, nothing else. */
static int parse_id(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || s[0] == '-' || s[0] == '+' || *out > max ? -EINVAL : 0;
}

/* keygen [--force] [--key-id N] [--group NAME] FILE SITE-ID...: a key file; no daemon involved. */
static int do_keygen(const struct ctl_opts *o, int argc, char **argv)
{
	struct ctl_keygen k = { .group = -1 };
	const char *group = NULL;
	bool seen[DT_MAX_SITES] = { false };
	unsigned long v;
	char err[PATH_MAX + 200];
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--force")) {
			k.force = true;
		} else if (!strcmp(argv[i], "--key-id") && i + 1 < argc) {
			if (parse_id(argv[++i], UINT16_MAX, &v))
				return usage_error("keygen", "--key-id takes 0..65535, not \"%s\"",
						   argv[i]);
			k.key_id = (uint16_t)v;
		} else if (!strcmp(argv[i], "--group") && i + 1 < argc) {
			struct group *gr = getgrnam(argv[++i]);

			if (!gr)
				return usage_error("keygen",
						   "--group: no group \"%s\" on this system",
						   argv[i]);
			group = argv[i];
			k.group = gr->gr_gid;
		} else {
			return usage_error("keygen", "unexpected option \"%s\"", argv[i]);
		}
	}
	if (i >= argc)
		return usage_error("keygen", "%s", "needs the key file to write");
	k.path = argv[i++];
	if (i >= argc)
		return usage_error("keygen", "%s", "needs at least one site id (0..63)");
	for (; i < argc; i++) {
		if (parse_id(argv[i], DT_MAX_SITES - 1, &v))
			return usage_error("keygen", "site id \"%s\" is not 0..63", argv[i]);
		if (seen[v])
			return usage_error("keygen", "site id %s is given twice", argv[i]);
		seen[v] = true;
		k.sites[k.n_sites++] = (uint16_t)v;
	}
	if (ctl_keygen__write(&k, err, sizeof(err))) {
		fprintf(stderr, "detourctl keygen: %s\n", err);
		return EXIT_REFUSED;
	}
	if (group)
		printf("%s: %u key%s with key id %u, mode 0640, group %s\n", k.path, k.n_sites,
		       k.n_sites == 1 ? "" : "s", k.key_id, group);
	else
		printf("%s: %u key%s with key id %u, mode 0600\n", k.path, k.n_sites,
		       k.n_sites == 1 ? "" : "s", k.key_id);
	if (geteuid() != 0)
		fprintf(stderr,
			"detourctl keygen: warning: %s belongs to uid %u; detourd and detour-beacon "
			"accept only a key file owned by root (chown root %s)\n",
			k.path, (unsigned int)geteuid(), k.path);
	return EXIT_OK;
}

static const struct ctl_cmd commands[] = {
	{ "status", "", "daemon, dataplane, interfaces and one line per site", do_status },
	{ "sites", "", "one line per site", do_sites },
	{ "site", "show NAME", "everything about one site", do_site },
	{ "drain", "NAME [--force] [--reason TEXT]",
	  "move new flows away from a site; established flows stay", do_override },
	{ "undrain", "NAME [--reason TEXT]", "end an operator drain", do_override },
	{ "fail", "NAME [--force] [--reason TEXT]",
	  "treat a site as down whatever its heartbeats say", do_override },
	{ "restore", "NAME [--reason TEXT]", "clear the operator's override of a site",
	  do_override },
	{ "prefixes", "", "destination prefixes and their home sites", do_prefixes },
	{ "prefix", "add PREFIX SITE [stateless] | del PREFIX", "change the prefix table",
	  do_prefix },
	{ "flows", "[--site NAME] [--limit N]", "flows moved off their home and where they went",
	  do_flows },
	{ "stats", "", "per-site and per-reason packet counters, summed over CPUs", do_stats },
	{ "events", "[--follow]", "site transitions with their timings", do_events },
	{ "keygen", "[--force] [--key-id N] [--group NAME] FILE SITE-ID...",
	  "write a new heartbeat key file (no daemon needed)", do_keygen },
	{ "what-if", "fail|drain NAME", "where a site's traffic would go; changes nothing",
	  do_whatif },
	{ NULL, NULL, NULL, NULL },
};

static const struct ctl_cmd *find_cmd(const char *name)
{
	const struct ctl_cmd *c;

	for (c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void usage(FILE *f)
{
	const struct ctl_cmd *c;

	fprintf(f,
		"usage: detourctl [-s SOCKET] [--json] [-t MS] COMMAND [ARGS]\n\n"
		"  -s, --socket PATH   control socket (default %s)\n"
		"  -j, --json          print the daemon's JSON result\n"
		"  -t, --timeout MS    how long to wait for the daemon (default 5000)\n\n"
		"commands:\n",
		CTL_SOCKET_DEFAULT);
	for (c = commands; c->name; c++)
		fprintf(f, "  %-8s %-40s %s\n", c->name, c->usage, c->help);
	fprintf(f, "\nexit codes: 0 ok, 1 refused by detourd (keygen: nothing written), 2 usage,\n"
		   "3 detourd not running, 4 permission denied, 5 no or bad answer\n");
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_opts o = { .socket = CTL_SOCKET_DEFAULT, .timeout_ms = 5000 };
	const struct ctl_cmd *cmd;
	long t;
	int opt;

	while ((opt = getopt_long(argc, argv, "+s:jt:h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			o.socket = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 't':
			if (parse_limit(optarg, &t))
				return fprintf(stderr, "detourctl: bad --timeout \"%s\"\n", optarg),
				       EXIT_USAGE;
			o.timeout_ms = (int)t;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = find_cmd(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "detourctl: unknown command \"%s\" (try --help)\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (optind + 1 < argc && !strcmp(argv[optind + 1], "--help")) {
		printf("usage: detourctl %s %s\n  %s\n", cmd->name, cmd->usage, cmd->help);
		return EXIT_OK;
	}
	return cmd->run(&o, argc - optind, argv + optind);
}
