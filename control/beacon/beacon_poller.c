/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The power thread: reads the configured power source every poll interval, each read bounded
 * by the poll timeout, and publishes the flags through one atomic word. The heartbeat thread
 * never waits for it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "beacon.h"
#include "dt_clock.h"

/* A status file is re-read only when it changed (or vanished): stat is cheap, reads are not. */
struct file_watch {
	bool valid;
	struct stat st;
	uint32_t flags;
};

static bool file_changed(const struct stat *a, const struct stat *b)
{
	return a->st_ino != b->st_ino || a->st_dev != b->st_dev || a->st_size != b->st_size ||
	       a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

static uint32_t poller_read_file(struct power_poller *p, struct file_watch *w)
{
	struct stat st;
	int err;

	if (stat(p->cfg.status_path, &st) < 0) {
		w->valid = false;
		return DT_POWER_UNKNOWN;
	}
	if (w->valid && !file_changed(&st, &w->st))
		return w->flags;
	err = power_status_file(p->cfg.status_path, &w->flags);
	w->valid = !err;
	w->st = st;
	return w->flags;
}

static uint32_t poller_read(struct power_poller *p, struct file_watch *w)
{
	uint32_t flags = DT_POWER_UNKNOWN;

	switch (p->cfg.source) {
	case POWER_SOURCE_UPS:
		nut_client__query(&p->nut, p->cfg.poll_timeout_ms, &flags);
		break;
	case POWER_SOURCE_FILE:
		flags = poller_read_file(p, w);
		break;
	case POWER_SOURCE_COMMAND:
		power_status_command(p->cfg.status_path, p->cfg.poll_timeout_ms, &flags);
		break;
	case POWER_SOURCE_NONE:
		break;
	}
	return flags;
}

static void *poller_main(void *arg)
{
	struct power_poller *p = arg;
	struct file_watch watch = { 0 };
	uint32_t last = 0;

	for (;;) {
		struct pollfd pfd = { .fd = p->stop_fd, .events = POLLIN };
		uint64_t t0_ms = dt_mono_ms();
		uint32_t flags;
		int64_t spent_ms;

		flags = poller_read(p, &watch);
		atomic_store_explicit(p->flags, flags, memory_order_relaxed);
		if (flags != last)
			dt_log_info("site %d: power flags 0x%08x (was 0x%08x)", p->cfg.site_id,
				    flags, last);
		last = flags;
		spent_ms = (int64_t)(dt_mono_ms() - t0_ms);
		if (poll(&pfd, 1,
			 (int)(spent_ms >= p->cfg.poll_interval_ms ?
				       0 :
				       p->cfg.poll_interval_ms - spent_ms)) > 0)
			break;
	}
	nut_client__close(&p->nut);
	return NULL;
}

int power_poller__start(const struct beacon_config *cfg, _Atomic uint32_t *flags,
			struct power_poller **out)
{
	struct power_poller *p = calloc(1, sizeof(*p));
	sigset_t all, old;
	int err = 0;

	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	p->flags = flags;
	p->nut.fd = -1;
	p->stop_fd = -1;
	if (cfg->source == POWER_SOURCE_UPS)
		err = nut_client__init(&p->nut, cfg->ups_name, cfg->ups_host, cfg->ups_port);
	if (!err) {
		p->stop_fd = eventfd(0, EFD_CLOEXEC);
		err = p->stop_fd < 0 ? -errno : 0;
	}
	if (!err) {
		/* Signals belong to the heartbeat thread: the poller starts with all blocked. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		err = -pthread_create(&p->thread, NULL, poller_main, p);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (err) {
		if (p->stop_fd >= 0)
			close(p->stop_fd);
		free(p);
		return err;
	}
	*out = p;
	return 0;
}

void power_poller__stop(struct power_poller *p)
{
	uint64_t one = 1;

	if (!p)
		return;
	if (write(p->stop_fd, &one, sizeof(one)) != sizeof(one))
		dt_log_err("site %d: cannot wake the power thread: %s", p->cfg.site_id,
			   strerror(errno));
	pthread_join(p->thread, NULL);
	close(p->stop_fd);
	free(p);
}
