/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * detour-beacon's heartbeat thread: absolute deadlines on CLOCK_MONOTONIC (so a slow send or a
 * late wake-up never shifts the schedule), a little random jitter per beat (so beacons started
 * together do not stay aligned), every target per beat. SIGTERM/SIGINT stop, SIGHUP reloads.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "dt_clock.h"
#include "beacon.h"

/* What one configuration needs at run time; SIGHUP builds a new one before dropping the old. */
struct beacon_run {
	struct beacon_config cfg;
	struct hb_keyring *keys;
	uint16_t key_id; /* the key this configuration seals with */
	int fd4, fd6;
	bool failing[BEACON_MAX_TARGETS]; /* log a target's send errors once per outage */
};

struct beacon {
	struct beacon_run run;
	struct power_poller *poller;
	_Atomic uint32_t power;
	uint64_t epoch, seq;
	uint64_t base_ns, beat; /* the schedule: deadline = base + beat * interval + jitter */
	uint64_t late_beats;
};

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

static void run_free(struct beacon_run *r)
{
	if (r->fd4 >= 0)
		close(r->fd4);
	if (r->fd6 >= 0)
		close(r->fd6);
	hb_keyring__free(r->keys);
	r->fd4 = r->fd6 = -1;
	r->keys = NULL;
}

static int run_open_sockets(struct beacon_run *r)
{
	for (unsigned int i = 0; i < r->cfg.n_targets; i++) {
		int family = r->cfg.targets[i].addr.ss_family;
		int *fd = family == AF_INET6 ? &r->fd6 : &r->fd4;

		if (*fd >= 0)
			continue;
		*fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (*fd < 0) {
			dt_log_err("target %s: socket: %s", r->cfg.targets[i].spec,
				   strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Config, key and sockets for argv; nothing of the running beacon is touched. */
static int run_prepare(struct beacon_run *r, int argc, char **argv)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->fd4 = r->fd6 = -1;
	err = beacon_config__load(&r->cfg, argc, argv);
	if (!err)
		err = hb_keyring__load(r->cfg.key_file, &r->keys);
	if (!err)
		err = beacon_pick_key(&r->cfg, r->keys, &r->key_id);
	if (!err)
		err = run_open_sockets(r);
	if (err)
		run_free(r);
	return err;
}

static void beacon_send_one(struct beacon *b, const uint8_t *wire, unsigned int i)
{
	struct beacon_run *r = &b->run;
	const struct beacon_target *t = &r->cfg.targets[i];
	int fd = t->addr.ss_family == AF_INET6 ? r->fd6 : r->fd4;
	ssize_t n = sendto(fd, wire, HB_WIRE_LEN, MSG_DONTWAIT, (const struct sockaddr *)&t->addr,
			   t->addr_len);

	if (n != HB_WIRE_LEN && !r->failing[i])
		dt_log_warn("target %s: send failed: %s", t->spec, strerror(errno));
	else if (n == HB_WIRE_LEN && r->failing[i])
		dt_log_info("target %s: sending again", t->spec);
	r->failing[i] = n != HB_WIRE_LEN;
}

static void beacon_beat(struct beacon *b)
{
	struct beacon_run *r = &b->run;
	struct hb_msg m = {
		.site_id = (uint16_t)r->cfg.site_id,
		.epoch = b->epoch,
		.seq = ++b->seq,
		.sent_ns = dt_clock_ns(CLOCK_REALTIME),
		.interval_us = r->cfg.interval_us,
		.power_flags = atomic_load_explicit(&b->power, memory_order_relaxed),
		.beacon_id = (uint16_t)r->cfg.beacon_id,
		.key_id = r->key_id,
	};
	uint8_t wire[HB_WIRE_LEN];

	hb_encode(&m, wire);
	hb_seal(wire, hb_keyring__key(r->keys, m.site_id, m.key_id));
	for (unsigned int i = 0; i < r->cfg.n_targets; i++)
		beacon_send_one(b, wire, i);
}

/* Sleep until the next beat's deadline; skip beats a stall made us miss rather than burst. */
static void beacon_wait_next(struct beacon *b)
{
	uint64_t interval_ns = (uint64_t)b->run.cfg.interval_us * 1000;
	uint64_t jitter_ns =
		(uint64_t)randombytes_uniform((uint32_t)b->run.cfg.jitter_us + 1) * 1000;
	uint64_t now = dt_mono_ns(), deadline;

	b->beat++;
	if (b->base_ns + b->beat * interval_ns + interval_ns < now) {
		uint64_t due = (now - b->base_ns) / interval_ns + 1;

		b->late_beats += due - b->beat;
		b->beat = due;
	}
	deadline = b->base_ns + b->beat * interval_ns + jitter_ns;
	dt_mono_sleep_until(deadline); /* EINTR: a signal to handle */
}

static void beacon_reload(struct beacon *b, int argc, char **argv)
{
	struct beacon_run next;
	struct power_poller *poller;
	int err;

	dt_log_info("SIGHUP: reloading the configuration");
	err = run_prepare(&next, argc, argv);
	if (!err)
		err = power_poller__start(&next.cfg, &b->power, &poller);
	if (err) {
		run_free(&next); /* idempotent: run_prepare cleans up after itself too */
		dt_log_err("SIGHUP: keeping the old configuration (%s)", strerror(-err));
		return;
	}
	power_poller__stop(b->poller);
	run_free(&b->run);
	b->run = next;
	b->poller = poller;
	b->base_ns = dt_mono_ns();
	b->beat = 0;
	dt_log_info("site %d: configuration reloaded, %u targets every %u us", next.cfg.site_id,
		    next.cfg.n_targets, next.cfg.interval_us);
}

static int install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: clock_nanosleep must return so the loop sees the request at once. */
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL) ||
	    sigaction(SIGHUP, &sa, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/*
 * The first heartbeat should carry a real power reading, not "unknown": wait for the power
 * thread's first answer, at most one poll timeout (it gives up by then and says UNKNOWN itself).
 */
static void beacon_await_first_reading(struct beacon *b)
{
	uint64_t until = dt_mono_ns() + (uint64_t)(b->run.cfg.poll_timeout_ms + 100) * 1000000ull;
	const struct timespec step = { .tv_nsec = 1000000 };
	uint32_t zero = 0;

	while (!atomic_load(&b->power) && dt_mono_ns() < until)
		nanosleep(&step, NULL);
	atomic_compare_exchange_strong(&b->power, &zero, (uint32_t)DT_POWER_UNKNOWN);
}

/*
 * A beacon that cannot run for interval x multiplier looks exactly like a dead site, so the
 * heartbeat thread asks for real-time priority, as detourd does; refused, it says so and goes on.
 */
static void beacon_go_realtime(struct beacon *b)
{
	struct sched_param sp = { .sched_priority = 20 };

	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		dt_log_warn("site %d: SCHED_FIFO refused (%s): heartbeats may be late under load",
			    b->run.cfg.site_id, strerror(errno));
}

static int beacon_start(struct beacon *b, int argc, char **argv)
{
	int err;

	err = run_prepare(&b->run, argc, argv);
	if (err)
		return err;
	/* Later than any epoch a previous run used: the clock's, or the epoch file's last + 1. */
	err = beacon_epoch__next(b->run.cfg.epoch_file, dt_clock_ns(CLOCK_REALTIME), &b->epoch);
	if (err)
		return err;
	dt_log_init("detour-beacon", b->run.cfg.foreground ? 0 : DT_LOG_SYSLOG);
	if (!b->run.cfg.foreground && daemon(0, 0) < 0) {
		dt_log_err("daemon: %s", strerror(errno));
		return -errno;
	}
	atomic_init(&b->power, 0); /* 0: no reading yet (a reading always has a source bit) */
	err = power_poller__start(&b->run.cfg, &b->power, &b->poller);
	if (err) {
		dt_log_err("site %d: cannot start the power thread: %s", b->run.cfg.site_id,
			   strerror(-err));
		return err;
	}
	beacon_await_first_reading(b);
	if (b->run.cfg.realtime)
		beacon_go_realtime(b); /* this thread only: the power thread stays ordinary */
	b->base_ns = dt_mono_ns();
	dt_log_info(
		"site %d beacon %d: epoch %llu, key id %u, %u targets every %u us (jitter %lld us)",
		b->run.cfg.site_id, b->run.cfg.beacon_id, (unsigned long long)b->epoch,
		b->run.key_id, b->run.cfg.n_targets, b->run.cfg.interval_us,
		(long long)b->run.cfg.jitter_us);
	return 0;
}

int main(int argc, char **argv)
{
	static struct beacon b;
	int err;

	dt_log_init("detour-beacon", 0);
	err = install_signals();
	if (!err)
		err = beacon_start(&b, argc, argv);
	if (err == -ECANCELED) {
		beacon_usage(stdout);
		return 0;
	}
	if (err) {
		if (err == -EINVAL)
			beacon_usage(stderr);
		return 1;
	}
	while (!stop_requested) {
		beacon_beat(&b);
		beacon_wait_next(&b);
		if (reload_requested) {
			reload_requested = 0;
			beacon_reload(&b, argc, argv);
		}
	}
	dt_log_info("site %d: stopping after %llu heartbeats (%llu beats skipped late)",
		    b.run.cfg.site_id, (unsigned long long)b.seq, (unsigned long long)b.late_beats);
	power_poller__stop(b.poller);
	run_free(&b.run);
	return 0;
}
