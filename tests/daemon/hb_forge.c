/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hb-forge: the attacker's side of the heartbeat protocol, for the daemon's namespace tests.
 * Every run is bounded in count and in time, and sends only to the one --target it is given.
 *
 *   hb-forge send MODE --target ADDR:PORT --site ID [--count N] [--gap-us U] [--max-ms T]
 *                 [--version 1|2] [--beacon-id N] [--key-id N]
 *       MODE: wrong-key   well-formed, fresh sequence numbers, sealed with a random key
 *             garbage     64 random bytes
 *             short       the first 20 bytes of a valid-looking heartbeat
 *             long        a heartbeat with 24 bytes of trailer
 *             bad-magic   right length, wrong magic
 *   hb-forge capture --listen ADDR:PORT --out FILE [--count N] [--max-ms T]
 *       record genuine datagrams (a beacon given this address as a second --target)
 *   hb-forge replay --in FILE --target ADDR:PORT [--count N] [--gap-us U] [--max-ms T]
 *       send recorded datagrams again, cycling through them
 *
 * Prints "sent=N" or "captured=N" on stdout; exits 0, 1 on a failure, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "dt_clock.h"
#include "hb.h"
#include "hb_socket.h"

#define FORGE_MAX_COUNT 10000000ul
#define FORGE_MAX_MS 60000ul
#define FORGE_MAX_CAPTURE 4096

struct forge_opts {
	const char *mode;
	const char *target;
	const char *listen;
	const char *file;
	unsigned long site;
	unsigned long version; /* of the datagrams forged: 2 unless told 1 */
	unsigned long beacon_id;
	unsigned long key_id;
	unsigned long count;
	unsigned long gap_us;
	unsigned long max_ms;
};

static int open_udp(const char *spec, bool passive, struct sockaddr_storage *ss, socklen_t *len)
{
	int fd;

	if (hb_addr_parse(spec, passive, ss, len))
		return -EINVAL;
	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (passive && bind(fd, (struct sockaddr *)ss, *len)) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* One forged datagram of the given mode into buf; returns its length. */
static size_t forge_one(const struct forge_opts *o, unsigned long i, uint8_t *buf, size_t cap)
{
	struct hb_msg m = {
		.site_id = (uint16_t)o->site,
		.epoch = (uint64_t)time(NULL)
			 << 20, /* newer than any real beacon's: still refused */
		.seq = i + 1,
		.sent_ns = (uint64_t)time(NULL) * 1000000000ull,
		.interval_us = 5000,
		.power_flags = DT_POWER_MAINS,
		.version = (uint16_t)o->version,
		.beacon_id = (uint16_t)o->beacon_id,
		.key_id = (uint16_t)o->key_id,
	};
	uint8_t key[HB_KEY_BYTES];
	size_t len;

	if (!strcmp(o->mode, "garbage")) {
		randombytes_buf(buf, HB_WIRE_LEN);
		return HB_WIRE_LEN;
	}
	len = hb_encode(&m, buf);
	randombytes_buf(key, sizeof(key));
	hb_seal(buf, key);
	if (!strcmp(o->mode, "short"))
		return 20;
	if (!strcmp(o->mode, "long")) {
		memset(buf + len, 0xab, cap - len);
		return cap;
	}
	if (!strcmp(o->mode, "bad-magic"))
		buf[0] ^= 0xff;
	return len;
}

static bool mode_known(const char *mode)
{
	static const char *const modes[] = { "wrong-key", "garbage", "short", "long", "bad-magic" };
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(mode, modes[i]))
			return true;
	return false;
}

/* Send count datagrams from next(), gap_us apart, stopping at max_ms whatever happens. */
static int send_loop(const struct forge_opts *o,
		     size_t (*next)(const struct forge_opts *o, unsigned long i, uint8_t *buf,
				    size_t cap, void *ctx),
		     void *ctx)
{
	unsigned long long stop = dt_mono_ms() + o->max_ms;
	struct sockaddr_storage ss;
	uint8_t buf[HB_WIRE_LEN + 24];
	unsigned long i, sent = 0;
	socklen_t len;
	int fd = open_udp(o->target, false, &ss, &len);

	if (fd < 0) {
		fprintf(stderr, "hb-forge: target %s: %s\n", o->target, strerror(-fd));
		return 1;
	}
	for (i = 0; i < o->count && dt_mono_ms() < stop; i++) {
		size_t n = next(o, i, buf, sizeof(buf), ctx);

		/* ENOBUFS/ECONNREFUSED under a flood are expected: count what left */
		if (sendto(fd, buf, n, 0, (struct sockaddr *)&ss, len) == (ssize_t)n)
			sent++;
		if (o->gap_us)
			usleep((useconds_t)o->gap_us);
	}
	close(fd);
	printf("sent=%lu\n", sent);
	return 0;
}

static size_t next_forged(const struct forge_opts *o, unsigned long i, uint8_t *buf, size_t cap,
			  void *ctx)
{
	return forge_one(o, i, buf, cap);
}

struct capture {
	uint8_t dgram[FORGE_MAX_CAPTURE][HB_WIRE_LEN];
	unsigned long n;
};

static size_t next_replayed(const struct forge_opts *o, unsigned long i, uint8_t *buf, size_t cap,
			    void *ctx)
{
	const struct capture *c = ctx;

	memcpy(buf, c->dgram[i % c->n], HB_WIRE_LEN);
	return HB_WIRE_LEN;
}

static int do_capture(const struct forge_opts *o, struct capture *c)
{
	unsigned long long stop = dt_mono_ms() + o->max_ms, now;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = open_udp(o->listen, true, &ss, &len);
	FILE *out;

	if (fd < 0) {
		fprintf(stderr, "hb-forge: listen %s: %s\n", o->listen, strerror(-fd));
		return 1;
	}
	while (c->n < o->count && c->n < FORGE_MAX_CAPTURE && (now = dt_mono_ms()) < stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, (int)(stop - now)) > 0 &&
		    recv(fd, c->dgram[c->n], HB_WIRE_LEN, 0) == HB_WIRE_LEN)
			c->n++;
	}
	close(fd);
	out = fopen(o->file, "we");
	if (!out || fwrite(c->dgram, HB_WIRE_LEN, c->n, out) != c->n || fclose(out)) {
		fprintf(stderr, "hb-forge: %s: %s\n", o->file, strerror(errno));
		return 1;
	}
	printf("captured=%lu\n", c->n);
	return c->n ? 0 : 1;
}

static int do_replay(const struct forge_opts *o, struct capture *c)
{
	FILE *in = fopen(o->file, "re");

	if (!in) {
		fprintf(stderr, "hb-forge: %s: %s\n", o->file, strerror(errno));
		return 1;
	}
	c->n = fread(c->dgram, HB_WIRE_LEN, FORGE_MAX_CAPTURE, in);
	fclose(in);
	if (!c->n) {
		fprintf(stderr, "hb-forge: %s: no datagram recorded\n", o->file);
		return 1;
	}
	return send_loop(o, next_replayed, c);
}

static int parse_ul(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || *out > max ? -EINVAL : 0;
}

static int parse_args(int argc, char **argv, struct forge_opts *o)
{
	static const struct option lo[] = {
		{ "target", required_argument, NULL, 't' },
		{ "listen", required_argument, NULL, 'l' },
		{ "out", required_argument, NULL, 'o' },
		{ "in", required_argument, NULL, 'i' },
		{ "site", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "gap-us", required_argument, NULL, 'g' },
		{ "max-ms", required_argument, NULL, 'm' },
		{ "version", required_argument, NULL, 'v' },
		{ "beacon-id", required_argument, NULL, 'b' },
		{ "key-id", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	int c, err = 0;

	while (!err && (c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 't')
			o->target = optarg;
		else if (c == 'l')
			o->listen = optarg;
		else if (c == 'o' || c == 'i')
			o->file = optarg;
		else if (c == 's')
			err = parse_ul(optarg, DT_MAX_SITES - 1, &o->site);
		else if (c == 'n')
			err = parse_ul(optarg, FORGE_MAX_COUNT, &o->count);
		else if (c == 'g')
			err = parse_ul(optarg, 1000000, &o->gap_us);
		else if (c == 'm')
			err = parse_ul(optarg, FORGE_MAX_MS, &o->max_ms);
		else if (c == 'v')
			err = parse_ul(optarg, HB_VERSION, &o->version) ?:
									  (o->version ? 0 : -EINVAL);
		else if (c == 'b')
			err = parse_ul(optarg, UINT16_MAX, &o->beacon_id);
		else if (c == 'k')
			err = parse_ul(optarg, UINT16_MAX, &o->key_id);
		else
			err = -EINVAL;
	}
	return err;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: hb-forge send wrong-key|garbage|short|long|bad-magic "
		"--target ADDR:PORT --site ID [--count N] [--gap-us U] [--max-ms T]\n"
		"                     [--version 1|2] [--beacon-id N] [--key-id N]\n"
		"       hb-forge capture --listen ADDR:PORT --out FILE [--count N] "
		"[--max-ms T]\n"
		"       hb-forge replay --in FILE --target ADDR:PORT [--count N] [--gap-us U] "
		"[--max-ms T]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct forge_opts o = { .count = 100, .max_ms = 5000, .version = HB_VERSION };
	static struct capture cap;
	const char *cmd = argc > 1 ? argv[1] : "";

	if (sodium_init() < 0)
		return 1;
	if (!strcmp(cmd, "send") && argc > 2) {
		o.mode = argv[2];
		if (!mode_known(o.mode) || parse_args(argc - 2, argv + 2, &o) || !o.target)
			return usage();
		return send_loop(&o, next_forged, NULL);
	}
	if (parse_args(argc - 1, argv + 1, &o))
		return usage();
	if (!strcmp(cmd, "capture") && o.listen && o.file)
		return do_capture(&o, &cap);
	if (!strcmp(cmd, "replay") && o.target && o.file)
		return do_replay(&o, &cap);
	return usage();
}
