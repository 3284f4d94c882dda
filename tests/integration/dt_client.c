/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dt-client: the client side of the integration tests. Everything it does is bounded in count
 * and in time, and it reports what a user would have seen.
 *
 *   dt-client udp      --addr A [--port P] --rate R (--count N | --duration MS) [--timeout MS]
 *                      [--flows K] [--json FILE] [--log FILE]
 *   dt-client tcp      --addr A [--port P] --rate R (--count N | --duration MS) [--timeout MS]
 *                      [--json FILE] [--log FILE]
 *   dt-client tcp-long --addr A [--port P] --rate R (--count N | --duration MS) [--timeout MS]
 *                      [--json FILE]
 *
 * udp:      request k is sent at start + k / R on socket k % K (K flows, each its own source
 *           port) and is answered if its answer arrives within the timeout.
 * tcp:      one new connection per tick: connect, read the site's greeting, one echo, close.
 * tcp-long: one connection, one echo per tick; reports whether it survived on one site.
 *
 * A summary line goes to stdout, e.g.
 *   udp: sent=1000 answered=998 lost=2 late=0 sites=pangyo:500,ansan:498
 *        first_ns=pangyo:123,ansan:456 last_ns=...
 * and the same as one JSON object to --json FILE. --log FILE gets one line per request:
 * "SEQ SENT_NS ANSWERED_NS SITE" (ANSWERED_NS 0 and SITE "-" when lost). Times are
 * CLOCK_MONOTONIC, the clock of detourd's event log. SIGINT/SIGTERM stop sending early; the
 * requests already sent still get their timeout, and the summary is printed.
 */
#include "dt_client.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

volatile sig_atomic_t dt_client_stop;

static void on_signal(int sig)
{
	dt_client_stop = 1;
}

static int usage(FILE *f)
{
	fprintf(f, "usage: dt-client udp|tcp|tcp-long --addr ADDR [--port PORT] --rate PER_S\n"
		   "                 (--count N | --duration MS) [--timeout MS] [--flows K]\n"
		   "                 [--json FILE] [--log FILE]\n");
	return 2;
}

static int parse_mode(const char *s, enum client_mode *m)
{
	if (!strcmp(s, "udp"))
		*m = MODE_UDP;
	else if (!strcmp(s, "tcp"))
		*m = MODE_TCP;
	else if (!strcmp(s, "tcp-long"))
		*m = MODE_TCP_LONG;
	else
		return -EINVAL;
	return 0;
}

static int parse_number(const char *opt, const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *out > max || s[0] == '-') {
		fprintf(stderr, "dt-client: --%s: \"%s\" is not a number in 0..%lu\n", opt, s, max);
		return -EINVAL;
	}
	return 0;
}

static int parse_opt(struct client_opts *o, int c, const char *arg)
{
	unsigned long v;
	int err = 0;

	switch (c) {
	case 'a':
		o->addr = arg;
		return 0;
	case 'j':
		o->json_path = arg;
		return 0;
	case 'l':
		o->log_path = arg;
		return 0;
	case 'p':
		err = parse_number("port", arg, 65535, &v);
		o->port = (unsigned int)v;
		break;
	case 'r':
		err = parse_number("rate", arg, CLIENT_MAX_RATE, &v);
		o->rate = (unsigned int)v;
		break;
	case 'n':
		err = parse_number("count", arg, CLIENT_MAX_COUNT, &v);
		o->count = v;
		break;
	case 'd':
		err = parse_number("duration", arg, CLIENT_MAX_MS, &v);
		o->duration_ms = v;
		break;
	case 't':
		err = parse_number("timeout", arg, CLIENT_MAX_MS, &v);
		o->timeout_ms = v;
		break;
	case 'f':
		err = parse_number("flows", arg, CLIENT_MAX_FLOWS, &v);
		o->flows = (unsigned int)v;
		break;
	default:
		return -EINVAL;
	}
	return err;
}

/* The count a duration stands for; the result is checked against the hard limit. */
static int finish_opts(struct client_opts *o)
{
	if (!o->addr || !o->rate || !o->port || !o->timeout_ms || !o->flows)
		return -EINVAL;
	if (!o->count == !o->duration_ms) {
		fprintf(stderr, "dt-client: give exactly one of --count and --duration\n");
		return -EINVAL;
	}
	if (!o->count)
		o->count = (unsigned long)((unsigned long long)o->rate * o->duration_ms / 1000);
	if (!o->count || o->count > CLIENT_MAX_COUNT) {
		fprintf(stderr, "dt-client: %lu requests: must be 1..%u\n", o->count,
			CLIENT_MAX_COUNT);
		return -EINVAL;
	}
	return client_target__parse(o->addr, o->port, &o->target);
}

static int parse_args(int argc, char **argv, struct client_opts *o)
{
	static const struct option lo[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "flows", required_argument, NULL, 'f' },
		{ "json", required_argument, NULL, 'j' },
		{ "log", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	if (argc < 2 || parse_mode(argv[1], &o->mode))
		return -EINVAL;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1)
		if (parse_opt(o, c, optarg))
			return -EINVAL;
	if (optind != argc)
		return -EINVAL;
	return finish_opts(o);
}

int main(int argc, char **argv)
{
	struct client_opts o = {
		.port = DT_WIRE_PORT_DEFAULT,
		.timeout_ms = 200,
		.flows = 1,
	};
	static struct client_report r;
	int err;

	if (argc == 2 && !strcmp(argv[1], "--help"))
		return usage(stdout) - 2;
	if (parse_args(argc, argv, &o))
		return usage(stderr);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	r.mode = o.mode;
	if (o.mode == MODE_UDP)
		err = run_udp(&o, &r);
	else if (o.mode == MODE_TCP)
		err = run_tcp(&o, &r);
	else
		err = run_tcp_long(&o, &r);
	if (err)
		return 1;
	client_report__print(&r, stdout);
	if (o.json_path && client_report__write_json(&r, o.json_path))
		return 1;
	return 0;
}
