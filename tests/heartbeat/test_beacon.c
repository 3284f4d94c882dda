/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * detour-beacon's parts that need no network namespace: the NUT status-word mapping, the
 * status file and command, the upsd client against fake servers that answer, refuse, stay
 * silent or say ERR, the command line / config file, and the epoch file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dt_clock.h"
#include "beacon.h"

static char captured[1024];

static void capture_log(enum dt_log_level level, const char *msg)
{
	snprintf(captured, sizeof(captured), "%s", msg);
}

static void test_status_words(void **state)
{
	static const struct {
		const char *status;
		uint32_t flags;
	} cases[] = {
		{ "OL", DT_POWER_MAINS },
		{ "OL CHRG", DT_POWER_MAINS | DT_POWER_CHARGING },
		{ "OB DISCHRG", DT_POWER_ON_BATTERY },
		{ "OB LB", DT_POWER_ON_BATTERY | DT_POWER_LOW_BATTERY },
		{ "FSD OB LB",
		  DT_POWER_FORCED_SHUTDOWN | DT_POWER_ON_BATTERY | DT_POWER_LOW_BATTERY },
		{ "OL ALARM RB", DT_POWER_MAINS | DT_POWER_ALARM | DT_POWER_REPLACE_BATTERY },
		{ "OL OVER BYPASS", DT_POWER_MAINS | DT_POWER_OVERLOAD | DT_POWER_BYPASS },
		{ "OL GEN", DT_POWER_MAINS | DT_POWER_GENERATOR },
		{ "  OL\tTRIM  \n", DT_POWER_MAINS },
		{ "", DT_POWER_UNKNOWN },
		{ "WAIT", DT_POWER_UNKNOWN },
		{ "ol", DT_POWER_UNKNOWN }, /* NUT words are upper case */
		{ "LB", DT_POWER_LOW_BATTERY | DT_POWER_UNKNOWN },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t got = power_status_parse(cases[i].status);

		if (got != cases[i].flags)
			fail_msg("\"%s\": 0x%x, want 0x%x", cases[i].status, got, cases[i].flags);
	}
}

static void test_status_file(void **state)
{
	char path[] = "/tmp/hb-status-XXXXXX";
	int fd = mkstemp(path);
	uint32_t flags;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "OB LB\nOL\n", 9), 9);
	close(fd);
	assert_int_equal(power_status_file(path, &flags), 0);
	assert_int_equal(flags, DT_POWER_ON_BATTERY | DT_POWER_LOW_BATTERY);
	truncate(path, 0);
	assert_int_equal(power_status_file(path, &flags), -EINVAL);
	assert_int_equal(flags, DT_POWER_UNKNOWN);
	unlink(path);
	assert_int_equal(power_status_file(path, &flags), -ENOENT);
	assert_int_equal(flags, DT_POWER_UNKNOWN);
}

static void test_status_command(void **state)
{
	uint64_t t0;
	uint32_t flags;

	assert_int_equal(power_status_command("echo 'OL CHRG'; echo OB", 2000, &flags), 0);
	assert_int_equal(flags, DT_POWER_MAINS | DT_POWER_CHARGING);
	assert_int_equal(power_status_command("echo OL; exit 3", 2000, &flags), -ECHILD);
	assert_int_equal(flags, DT_POWER_UNKNOWN);
	assert_int_equal(power_status_command("true", 2000, &flags), -EINVAL);
	assert_int_equal(flags, DT_POWER_UNKNOWN);
	/* A command that hangs is killed at the timeout, and the answer is UNKNOWN. */
	t0 = dt_mono_ms();
	assert_int_equal(power_status_command("sleep 20", 150, &flags), -ETIMEDOUT);
	assert_int_equal(flags, DT_POWER_UNKNOWN);
	assert_true(dt_mono_ms() - t0 < 1500);
	/* Output then hang: the output does not count when the command never finishes. */
	t0 = dt_mono_ms();
	assert_int_equal(power_status_command("echo OL; exec sleep 20", 150, &flags), -ETIMEDOUT);
	assert_int_equal(flags, DT_POWER_UNKNOWN);
	assert_true(dt_mono_ms() - t0 < 1500);
}

/* ---- upsd client against fake servers ----------------------------------------------------- */

struct fake_upsd {
	int listen_fd;
	uint16_t port;
	const char *reply; /* NULL: accept, read, never answer */
	char request[128];
	pthread_t thread;
};

static void *fake_upsd_main(void *arg)
{
	struct fake_upsd *u = arg;
	int fd = accept(u->listen_fd, NULL, NULL);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, u->request, sizeof(u->request) - 1);
	if (n > 0 && u->reply)
		(void)!write(fd, u->reply, strlen(u->reply));
	/* Hold the connection until the client is done with it. */
	while (recv(fd, &n, 1, 0) > 0)
		;
	close(fd);
	return NULL;
}

static void fake_upsd_start(struct fake_upsd *u, const char *reply, bool serve)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t len = sizeof(sin);

	memset(u, 0, sizeof(*u));
	u->reply = reply;
	u->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(u->listen_fd >= 0);
	assert_int_equal(bind(u->listen_fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(u->listen_fd, 4), 0);
	assert_int_equal(getsockname(u->listen_fd, (struct sockaddr *)&sin, &len), 0);
	u->port = ntohs(sin.sin_port);
	if (serve)
		assert_int_equal(pthread_create(&u->thread, NULL, fake_upsd_main, u), 0);
}

static void fake_upsd_stop(struct fake_upsd *u, bool served)
{
	shutdown(u->listen_fd, SHUT_RDWR);
	if (served)
		pthread_join(u->thread, NULL);
	close(u->listen_fd);
}

static int query_fake(const char *reply, uint32_t *flags, struct fake_upsd *u)
{
	struct nut_client nc;
	int err;

	fake_upsd_start(u, reply, true);
	assert_int_equal(nut_client__init(&nc, "rack1", "127.0.0.1", u->port), 0);
	err = nut_client__query(&nc, 1000, flags);
	nut_client__close(&nc);
	fake_upsd_stop(u, true);
	return err;
}

static void test_nut_answers(void **state)
{
	struct fake_upsd u;
	uint32_t flags;

	assert_int_equal(query_fake("VAR rack1 ups.status \"OB LB\"\n", &flags, &u), 0);
	assert_string_equal(u.request, "GET VAR rack1 ups.status\n");
	assert_int_equal(flags, DT_POWER_ON_BATTERY | DT_POWER_LOW_BATTERY);
	assert_int_equal(query_fake("VAR rack1 ups.status \"OL\"\r\n", &flags, &u), 0);
	assert_int_equal(flags, DT_POWER_MAINS);
}

static void test_nut_err_and_garbage(void **state)
{
	struct fake_upsd u;
	uint32_t flags;

	assert_int_equal(query_fake("ERR UNKNOWN-UPS\n", &flags, &u), -EPROTO);
	assert_int_equal(flags, DT_POWER_UNKNOWN);
	assert_int_equal(query_fake("ERR DATA-STALE\n", &flags, &u), -EPROTO);
	assert_int_equal(flags, DT_POWER_UNKNOWN);
	assert_int_equal(query_fake("VAR other ups.status \"OL\"\n", &flags, &u), -EPROTO);
	assert_int_equal(flags, DT_POWER_UNKNOWN);
	assert_int_equal(query_fake("VAR rack1 ups.status \"OL\n", &flags, &u), -EPROTO);
	assert_int_equal(flags, DT_POWER_UNKNOWN);
}

static void test_nut_refused(void **state)
{
	struct fake_upsd u;
	struct nut_client nc;
	uint32_t flags = 0;

	fake_upsd_start(&u, NULL, false);
	close(u.listen_fd); /* nobody listens on that port any more */
	assert_int_equal(nut_client__init(&nc, "rack1", "127.0.0.1", u.port), 0);
	assert_int_equal(nut_client__query(&nc, 500, &flags), -ECONNREFUSED);
	assert_int_equal(flags, DT_POWER_UNKNOWN);
	nut_client__close(&nc);
}

/* Connected (the kernel's backlog accepts) but upsd never answers: UNKNOWN at the timeout. */
static void test_nut_silent(void **state)
{
	struct fake_upsd u;
	struct nut_client nc;
	uint32_t flags = 0;
	uint64_t t0;

	fake_upsd_start(&u, NULL, false);
	assert_int_equal(nut_client__init(&nc, "rack1", "127.0.0.1", u.port), 0);
	t0 = dt_mono_ms();
	assert_int_equal(nut_client__query(&nc, 200, &flags), -ETIMEDOUT);
	assert_int_equal(flags, DT_POWER_UNKNOWN);
	assert_true(dt_mono_ms() - t0 >= 150 && dt_mono_ms() - t0 < 1500);
	nut_client__close(&nc);
	fake_upsd_stop(&u, false);
}

/* ---- configuration ------------------------------------------------------------------------ */

static int load_args(struct beacon_config *cfg, const char *const *args, int n)
{
	char *argv[32];

	argv[0] = "detour-beacon";
	for (int i = 0; i < n; i++)
		argv[i + 1] = (char *)args[i];
	argv[n + 1] = NULL;
	return beacon_config__load(cfg, n + 1, argv);
}

#define LOAD(cfg, ...)                                       \
	load_args(cfg, (const char *const[]){ __VA_ARGS__ }, \
		  sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

static void test_durations(void **state)
{
	uint64_t us;

	assert_int_equal(parse_duration_us("5ms", &us), 0);
	assert_int_equal(us, 5000);
	assert_int_equal(parse_duration_us("1500us", &us), 0);
	assert_int_equal(us, 1500);
	assert_int_equal(parse_duration_us("2s", &us), 0);
	assert_int_equal(us, 2000000);
	assert_int_equal(parse_duration_us("3", &us), 0);
	assert_int_equal(us, 3000);
	assert_int_equal(parse_duration_us("2000ns", &us), 0);
	assert_int_equal(us, 2);
	assert_int_equal(parse_duration_us("5 ms", &us), -EINVAL);
	assert_int_equal(parse_duration_us("-5ms", &us), -EINVAL);
	assert_int_equal(parse_duration_us("ms", &us), -EINVAL);
	assert_int_equal(parse_duration_us("5h", &us), -EINVAL);
}

static void test_command_line(void **state)
{
	struct beacon_config cfg;

	assert_int_equal(LOAD(&cfg, "--site", "4", "--key-file", "/k", "--target",
			      "198.18.0.1:7600", "-t", "[2001:db8::2]:9", "--ups",
			      "rack1@198.18.0.9", "--interval", "1ms"),
			 0);
	assert_int_equal(cfg.site_id, 4);
	assert_int_equal(cfg.n_targets, 2);
	assert_int_equal(cfg.targets[0].addr.ss_family, AF_INET);
	assert_int_equal(cfg.targets[1].addr.ss_family, AF_INET6);
	assert_int_equal(cfg.source, POWER_SOURCE_UPS);
	assert_string_equal(cfg.ups_name, "rack1");
	assert_string_equal(cfg.ups_host, "198.18.0.9");
	assert_int_equal(cfg.ups_port, NUT_DEFAULT_PORT);
	assert_int_equal(cfg.interval_us, 1000);
	assert_int_equal(cfg.jitter_us, 100); /* default: a tenth of the interval */
	assert_int_equal(LOAD(&cfg, "-s", "1", "-k", "/k", "-t", "198.18.0.1", "-u",
			      "u@[2001:db8::9]:3500"),
			 0);
	assert_string_equal(cfg.ups_host, "2001:db8::9");
	assert_int_equal(cfg.ups_port, 3500);
	assert_int_equal(cfg.interval_us, BEACON_INTERVAL_DEFAULT_US);
}

static void test_bad_arguments(void **state)
{
	struct beacon_config cfg;

	assert_int_equal(LOAD(&cfg, "-k", "/k", "-t", "198.18.0.1"), -EINVAL); /* no site */
	assert_int_equal(LOAD(&cfg, "-s", "1", "-k", "/k"), -EINVAL); /* no target */
	assert_int_equal(LOAD(&cfg, "-s", "1", "-k", "/k", "-t", "198.18.0.1:99999"), -EINVAL);
	assert_int_equal(LOAD(&cfg, "-s", "1", "-k", "/k", "-t", "[2001:db8::1"), -EINVAL);
	assert_int_equal(LOAD(&cfg, "-s", "1", "-k", "/k", "-t", "198.18.0.1", "-i", "500us"),
			 -EINVAL);
	assert_int_equal(LOAD(&cfg, "-s", "1", "-k", "/k", "-t", "198.18.0.1", "-j", "3ms"),
			 -EINVAL);
	assert_int_equal(LOAD(&cfg, "-s", "1", "-k", "/k", "-t", "198.18.0.1", "-u", "noat"),
			 -EINVAL);
	assert_int_equal(LOAD(&cfg, "-s", "1", "-k", "/k", "-t", "198.18.0.1", "-u", "a@h", "-f",
			      "/x"),
			 -EINVAL);
	assert_int_equal(LOAD(&cfg, "-s", "1", "-k", "/k", "-t", "198.18.0.1", "stray"), -EINVAL);
	assert_int_equal(LOAD(&cfg, "--bogus"), -EINVAL);
	assert_int_equal(LOAD(&cfg, "--help"), -ECANCELED);
}

static void test_config_file(void **state)
{
	char path[] = "/tmp/hb-beacon-conf-XXXXXX";
	struct beacon_config cfg;
	int fd = mkstemp(path);
	const char text[] = "# site 2\n[beacon]\nsite = 2\nkey-file = /etc/detour/keys\n"
			    "target = 198.18.0.1:7600\ntarget = 198.18.0.2:7600\n"
			    "interval = 2ms\nstatus-file = /run/power\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	assert_int_equal(LOAD(&cfg, "-c", path), 0);
	assert_int_equal(cfg.site_id, 2);
	assert_int_equal(cfg.n_targets, 2);
	assert_int_equal(cfg.interval_us, 2000);
	assert_int_equal(cfg.source, POWER_SOURCE_FILE);
	assert_string_equal(cfg.status_path, "/run/power");
	/* The command line wins, and its targets replace the file's rather than adding to them. */
	assert_int_equal(LOAD(&cfg, "-c", path, "-s", "3", "-t", "198.18.0.3", "--status-command",
			      "upsc x"),
			 0);
	assert_int_equal(cfg.site_id, 3);
	assert_int_equal(cfg.n_targets, 1);
	assert_int_equal(cfg.source, POWER_SOURCE_COMMAND);
	unlink(path);
	assert_int_equal(LOAD(&cfg, "-c", path), -ENOENT);
}

/* --beacon-id and --key-id, on the command line and in the file; their defaults and bounds. */
static void test_beacon_and_key_ids(void **state)
{
	char path[] = "/tmp/hb-beacon-ids-XXXXXX";
	const char text[] = "[beacon]\nsite = 2\nbeacon-id = 3\nkey-id = 65535\n"
			    "key-file = /k\ntarget = 198.18.0.1\n";
	struct beacon_config cfg;
	int fd = mkstemp(path);

	assert_int_equal(LOAD(&cfg, "-s", "1", "-k", "/k", "-t", "198.18.0.1"), 0);
	assert_int_equal(cfg.beacon_id, 0);
	assert_int_equal(cfg.key_id, -1);
	assert_int_equal(LOAD(&cfg, "-s", "1", "-k", "/k", "-t", "198.18.0.1", "--beacon-id", "7",
			      "--key-id", "12"),
			 0);
	assert_int_equal(cfg.beacon_id, 7);
	assert_int_equal(cfg.key_id, 12);
	assert_int_equal(LOAD(&cfg, "-s", "1", "-k", "/k", "-t", "198.18.0.1", "--beacon-id", "8"),
			 -EINVAL);
	assert_int_equal(LOAD(&cfg, "-s", "1", "-k", "/k", "-t", "198.18.0.1", "--key-id", "65536"),
			 -EINVAL);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	assert_int_equal(LOAD(&cfg, "-c", path), 0);
	assert_int_equal(cfg.beacon_id, 3);
	assert_int_equal(cfg.key_id, 65535);
	assert_int_equal(LOAD(&cfg, "-c", path, "--beacon-id", "1"), 0);
	assert_int_equal(cfg.beacon_id, 1);
	unlink(path);
}

/* Which key the beacon seals with: the one asked for, or the site's only one; else refused. */
static void test_pick_key(void **state)
{
	struct beacon_config cfg = { .site_id = 4, .key_id = -1, .key_file = "/etc/keys" };
	struct hb_keyring *kr = hb_keyring__new();
	uint8_t key[HB_KEY_BYTES] = { 1 };
	uint16_t id = 0;

	dt_log_set_sink(capture_log);
	assert_int_equal(beacon_pick_key(&cfg, kr, &id), -ENOKEY);
	assert_non_null(strstr(captured, "no key for site 4"));
	hb_keyring__set(kr, 4, 9, key);
	hb_keyring__set(kr, 5, 0, key);
	assert_int_equal(beacon_pick_key(&cfg, kr, &id), 0);
	assert_int_equal(id, 9);
	hb_keyring__set(kr, 4, 10, key);
	captured[0] = '\0';
	assert_int_equal(beacon_pick_key(&cfg, kr, &id), -ENOKEY);
	assert_non_null(strstr(captured, "/etc/keys"));
	assert_non_null(strstr(captured, "--key-id"));
	cfg.key_id = 10;
	assert_int_equal(beacon_pick_key(&cfg, kr, &id), 0);
	assert_int_equal(id, 10);
	cfg.key_id = 0;
	captured[0] = '\0';
	assert_int_equal(beacon_pick_key(&cfg, kr, &id), -ENOKEY);
	assert_non_null(strstr(captured, "no key with key id 0 for site 4"));
	dt_log_set_sink(NULL);
	hb_keyring__free(kr);
}

static void epoch_file_path(char *path, size_t len)
{
	char dir[] = "/tmp/dt-epoch-XXXXXX";

	assert_non_null(mkdtemp(dir));
	snprintf(path, len, "%s/epoch", dir);
}

static void epoch_file_put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void epoch_file_get(const char *path, char *text, size_t len)
{
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	text[0] = '\0';
	assert_non_null(fgets(text, (int)len, f));
	fclose(f);
}

static void epoch_file_remove(const char *path)
{
	char dir[PATH_MAX];

	unlink(path);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(rmdir(dir), 0); /* nothing else left behind (no .tmp) */
}

/* No file: the clock, written down. An older epoch in it: the clock. A newer one (the clock
 * stepped back): one more than it. */
static void test_epoch_file(void **state)
{
	char path[PATH_MAX], text[64];
	uint64_t epoch;

	assert_int_equal(beacon_epoch__next("", 5000, &epoch), 0);
	assert_true(epoch == 5000);
	epoch_file_path(path, sizeof(path));
	assert_int_equal(beacon_epoch__next(path, 5000, &epoch), 0);
	assert_true(epoch == 5000);
	epoch_file_get(path, text, sizeof(text));
	assert_string_equal(text, "5000\n");
	assert_int_equal(beacon_epoch__next(path, 9000, &epoch), 0);
	assert_true(epoch == 9000);
	assert_int_equal(beacon_epoch__next(path, 7000, &epoch), 0); /* stepped back by 2 us */
	assert_true(epoch == 9001);
	assert_int_equal(beacon_epoch__next(path, 9001, &epoch), 0); /* the same instant */
	assert_true(epoch == 9002);
	epoch_file_get(path, text, sizeof(text));
	assert_string_equal(text, "9002\n");
	epoch_file_put(path, "1764814000000000000"); /* no newline is fine */
	assert_int_equal(beacon_epoch__next(path, 1000, &epoch), 0);
	assert_true(epoch == 1764814000000000001ull);
	epoch_file_remove(path);
}

/* A file that holds no epoch is refused with its name and content, and left as it was. */
static void test_epoch_file_bad(void **state)
{
	static const char *const bad[] = {
		"", "abc\n", "12x\n", "-5\n", " 7\n", "7\n8\n", "99999999999999999999999\n"
	};
	char path[PATH_MAX], text[64];
	uint64_t epoch;

	epoch_file_path(path, sizeof(path));
	dt_log_set_sink(capture_log);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		epoch_file_put(path, bad[i]);
		captured[0] = '\0';
		assert_int_equal(beacon_epoch__next(path, 5000, &epoch), -EINVAL);
		assert_non_null(strstr(captured, path));
		assert_non_null(strstr(captured, "not an epoch"));
		if (bad[i][0]) {
			epoch_file_get(path, text, sizeof(text));
			assert_memory_equal(text, bad[i], strcspn(bad[i], "\n"));
		}
	}
	epoch_file_remove(path);
	/* a directory that does not exist: cannot write, named */
	captured[0] = '\0';
	assert_int_equal(beacon_epoch__next("/nonexistent-dir/epoch", 5000, &epoch), -ENOENT);
	assert_non_null(strstr(captured, "epoch-file /nonexistent-dir/epoch: cannot write"));
	dt_log_set_sink(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_words),
		cmocka_unit_test(test_status_file),
		cmocka_unit_test(test_status_command),
		cmocka_unit_test(test_nut_answers),
		cmocka_unit_test(test_nut_err_and_garbage),
		cmocka_unit_test(test_nut_refused),
		cmocka_unit_test(test_nut_silent),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_command_line),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_beacon_and_key_ids),
		cmocka_unit_test(test_pick_key),
		cmocka_unit_test(test_epoch_file),
		cmocka_unit_test(test_epoch_file_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
