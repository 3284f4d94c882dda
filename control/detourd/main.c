// SPDX-License-Identifier: GPL-2.0-only
/*
 * detourd: the control daemon of an edge router.
 *
 *   detourd [-c FILE] [--log-level LEVEL] [--no-realtime]   run, XDP dataplane
 *   detourd --dataplane dpdk [OPTIONS] -- EAL_ARGS...         run as a DPDK application
 *   detourd --check -c FILE                                   validate a configuration, touch nothing
 *   detourd --detach -c FILE                                  remove the XDP program and every pin
 *
 * The event loop waits on the heartbeat sockets, the detector's deadline timer, the control
 * socket and signals. On every wake-up it first drains the heartbeat sockets (each datagram
 * carries the kernel's arrival time), then advances the state machine to now: so a late wake-up
 * can delay a detection but never cause a false one (docs/detector.md).
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dt_clock.h"
#include "ctl_proto.h"
#include "detourd.h"
#include "dt_log.h"
#include "metrics.h"
#include "dt_xdp.h" /* --detach */

/*
 * The kernel stamps a datagram a few microseconds before it is queued on the socket: one stamped
 * just before a deadline may not be readable yet when the timer fires. Deadlines are therefore
 * processed GUARD_NS late (docs/detector.md).
 */
#define GUARD_NS 50000ull
#define STARTUP_GRACE_NS 1000000000ull

struct detourd_opts {
	const char *config;
	bool check;
	bool other_host; /* --check of a file for another machine: missing interfaces only warn */
	bool detach;
	bool realtime;
	const char *dataplane; /* an engine's name, checked by parse_dataplane() */
	struct dt_dataplane_opts dp_opts; /* the engine's options and operands */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: detourd [-c FILE] [--log-level error|warn|info|debug] [--no-realtime]\n"
		"       detourd --dataplane dpdk [-c FILE] [--exception-port NAME] [--workers N]\n"
		"               [--port NAME=DEVICE]... [...] -- EAL_ARGS...\n"
		"       detourd --check [--other-host] -c FILE\n"
		"       detourd --detach -c FILE\n"
		"  -c, --config FILE   configuration (default %s)\n"
		"      --check         validate the configuration and exit (0 valid, 1 not); an\n"
		"                      interface this machine does not have is an error\n"
		"      --other-host    with --check: the file is for another machine, so a missing\n"
		"                      interface is only a warning\n"
		"      --detach        remove detour_xdp from the interfaces and every map pin\n"
		"      --no-realtime   do not ask for SCHED_FIFO and locked memory\n"
		"      --dataplane xdp|dpdk   the XDP program (default) or the DPDK engine\n"
		"      --exception-port NAME  DPDK port toward the kernel (default: the first\n"
		"                             net_tap or virtio-user port)\n"
		"      --workers N            worker lcores (default: every EAL worker lcore)\n"
		"      --port NAME=DEVICE     the DPDK port a configuration interface name means\n"
		"exit: 0 stopped by a signal, 1 failure, 2 usage, 3 EAL start-up (arguments,\n"
		"      hugepages, lcores), 4 a DPDK port that does not exist\n",
		DT_CONFIG_PATH_DEFAULT);
}

static int parse_dataplane(const char *arg, struct detourd_opts *o)
{
	const struct dt_dataplane_engine *const *e;

	if (dt_dataplane__find(arg)) {
		o->dataplane = arg;
		return 0;
	}
	fprintf(stderr, "detourd: --dataplane \"%s\": expected ", arg);
	for (e = dt_dataplane_engines; *e; e++)
		fprintf(stderr, "%s%s", e == dt_dataplane_engines ? "" : " or ", (*e)->name);
	fputc('\n', stderr);
	return -EINVAL;
}

static int parse_workers(const char *arg, struct detourd_opts *o)
{
	char *end;
	unsigned long n = strtoul(arg, &end, 10);

	if (*end || !n || n > 64) {
		fprintf(stderr, "detourd: --workers \"%s\": expected 1 .. 64\n", arg);
		return -EINVAL;
	}
	o->dp_opts.workers = (unsigned int)n;
	return 0;
}

static int parse_port(char *arg, struct detourd_opts *o)
{
	struct dt_dataplane_opts *dp = &o->dp_opts;
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg || !eq[1] || dp->n_maps == DT_DATAPLANE_MAX_PORT_MAPS) {
		fprintf(stderr, "detourd: --port \"%s\": expected NAME=DEVICE (at most %d)\n", arg,
			DT_DATAPLANE_MAX_PORT_MAPS);
		return -EINVAL;
	}
	*eq = '\0';
	dp->map_name[dp->n_maps] = arg;
	dp->map_dev[dp->n_maps++] = eq + 1;
	return 0;
}

/*
 * The operands (what follows `--`, the EAL's in DPDK mode) are the engine's, to check and to use.
 * getopt_long() stops at `--` and leaves optind after it; they become a command line of their own,
 * whose program name replaces the slot before them (`--` itself, or an option already parsed).
 */
static int take_operands(int argc, char **argv, struct detourd_opts *o)
{
	struct dt_dataplane_opts *dp = &o->dp_opts;

	dp->after_dashdash = optind > 1 && !strcmp(argv[optind - 1], "--");
	argv[optind - 1] = argv[0];
	dp->argv = &argv[optind - 1];
	dp->argc = argc - optind + 1;
	return dt_dataplane__find(o->dataplane)->check_opts(dp);
}

static int parse_args(int argc, char **argv, struct detourd_opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "other-host", no_argument, NULL, 'O' },
		{ "detach", no_argument, NULL, 'd' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "no-realtime", no_argument, NULL, 'r' },
		{ "dataplane", required_argument, NULL, 'D' },
		{ "exception-port", required_argument, NULL, 'E' },
		{ "workers", required_argument, NULL, 'W' },
		{ "port", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum dt_log_level lvl;
	int c;

	o->config = DT_CONFIG_PATH_DEFAULT;
	o->realtime = true;
	o->dataplane = DT_DATAPLANE_DEFAULT;
	/* "+": stop at the first non-option, so that nothing after `--` is permuted */
	while ((c = getopt_long(argc, argv, "+c:h", lo, NULL)) != -1) {
		switch (c) {
		case 'D':
			if (parse_dataplane(optarg, o))
				return -EINVAL;
			break;
		case 'E':
			o->dp_opts.exception_port = optarg;
			break;
		case 'W':
			if (parse_workers(optarg, o))
				return -EINVAL;
			break;
		case 'P':
			if (parse_port(optarg, o))
				return -EINVAL;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'k':
			o->check = true;
			break;
		case 'O':
			o->other_host = true;
			break;
		case 'd':
			o->detach = true;
			break;
		case 'r':
			o->realtime = false;
			break;
		case 'l':
			if (dt_log_parse_level(optarg, &lvl)) {
				fprintf(stderr, "detourd: unknown log level \"%s\"\n", optarg);
				return -EINVAL;
			}
			dt_log_set_level(lvl);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	return take_operands(argc, argv, o);
}

static int load_config(const char *path, struct dt_config **cfg)
{
	struct dt_config_error err;
	int ret = dt_config__load(path, cfg, &err);

	if (ret == -EINVAL)
		dt_config_error__print(&err, stderr);
	else if (ret)
		fprintf(stderr, "detourd: %s: %s\n", path, strerror(-ret));
	return ret;
}

/* One interface the file names: 1 if this machine lacks it (and that counts as an error). */
static int check_interface(const char *path, const char *where, const char *name, bool warn_only)
{
	if (if_nametoindex(name))
		return 0;
	fprintf(stderr, "%s: %s: %s \"%s\" does not exist on this machine%s\n", path,
		warn_only ? "warning" : "error", where, name,
		warn_only ? "" : " (--other-host if the file is for another one)");
	return !warn_only;
}

/* The kernel's interfaces the file names; a DPDK port is the EAL's, not a netdev: not checked. */
static int check_interfaces(const char *path, const struct dt_config *cfg,
			    const struct detourd_opts *o)
{
	char where[DT_SITE_NAME_MAX + 32];
	unsigned int i;
	int missing = 0;

	if (strcmp(o->dataplane, "xdp"))
		return 0;
	for (i = 0; i < cfg->n_interfaces; i++)
		missing += check_interface(path, "[detour]: interfaces:", cfg->interfaces[i],
					   o->other_host);
	for (i = 0; i < cfg->n_sites; i++) {
		snprintf(where, sizeof(where), "site \"%s\": interface", cfg->sites[i].name);
		missing += check_interface(path, where, cfg->sites[i].interface, o->other_host);
	}
	return missing;
}

/* notify_command's program: 1 if this machine cannot run it (and that counts as an error). */
static int check_notify_command(const char *path, const struct dt_config *cfg, bool warn_only)
{
	int len = (int)strcspn(cfg->notify_command, " \t");

	if (!cfg->notify_command[0] || !access(strndupa(cfg->notify_command, len), X_OK))
		return 0;
	fprintf(stderr, "%s: %s: notify_command: \"%.*s\": %s\n", path,
		warn_only ? "warning" : "error", len, cfg->notify_command, strerror(errno));
	return !warn_only;
}

static int do_check(const char *path, const struct detourd_opts *o)
{
	struct dt_config *cfg;

	if (load_config(path, &cfg))
		return 1;
	if (check_interfaces(path, cfg, o) + check_notify_command(path, cfg, o->other_host)) {
		dt_config__free(cfg);
		return 1;
	}
	printf("%s: valid: %u sites, %u prefixes, %u interfaces\n", path, cfg->n_sites,
	       cfg->n_prefixes, cfg->n_interfaces);
	dt_config__free(cfg);
	return 0;
}

static int do_detach(const char *path)
{
	struct dt_config *cfg;
	unsigned int i;
	int ret, status = 0;

	if (load_config(path, &cfg))
		return 1;
	for (i = 0; i < cfg->n_interfaces; i++) {
		ret = dt_xdp_detach(cfg->interfaces[i]);
		if (ret && ret != -ENOENT)
			status = 1;
		printf("interface %s: %s\n", cfg->interfaces[i],
		       !ret	      ? "detached" :
		       ret == -ENOENT ? "nothing attached" :
					strerror(-ret));
	}
	ret = dt_xdp_unpin(cfg->pin_root);
	printf("pins under %s: %s\n", cfg->pin_root,
	       ret && ret != -ENOENT ? strerror(-ret) : "removed");
	dt_config__free(cfg);
	return status || (ret && ret != -ENOENT);
}

/* ---- start-up ----------------------------------------------------------------------------- */

static int epoll_add(struct detourd *d, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int open_heartbeat_sockets(struct detourd *d)
{
	unsigned int i;
	int err;

	hb_receiver__init(&d->rx, d->keys);
	d->rx.max_skew_ns = d->cfg->max_skew_ns;
	/* before the sources: setting them fills the filter's table (detourd_set_sources) */
	if ((err = hb_filter__open(&d->hb_filter))) {
		d->hb_filter = NULL;
		dt_log_warn("heartbeat filter not loaded (%s): junk is refused in user space only",
			    strerror(-err));
	}
	for (i = 0; i < d->cfg->n_sites; i++) {
		const struct dt_config_site *s = &d->cfg->sites[i];

		if ((err = hb_receiver__set_beacons(&d->rx, s->id, s->beacons))) {
			dt_log_err("site %s: beacons: %s", s->name, strerror(-err));
			return err;
		}
	}
	if ((err = detourd_set_sources(d, d->cfg)))
		return err;
	detourd_state_restore_replay(d);
	for (i = 0; i < d->cfg->n_listen; i++) {
		err = hb_socket__open_filtered(d->cfg->listen[i].spec, &d->rx,
					       d->hb_filter ? hb_filter__prog_fd(d->hb_filter) : -1,
					       &d->hb[i]);
		if (err) {
			dt_log_err("heartbeat_listen %s: %s", d->cfg->listen[i].spec,
				   strerror(-err));
			return err;
		}
		d->n_hb = i + 1;
		if ((err = epoll_add(d, hb_socket__fd(d->hb[i]))))
			return err;
	}
	return 0;
}

static int open_control_socket(struct detourd *d)
{
	char dir[DT_CONFIG_SOCKET_PATH_MAX];
	int gid = d->cfg->control_group[0] ? (int)d->cfg->control_gid : -1;
	int err;

	snprintf(dir, sizeof(dir), "%s", d->cfg->control_socket);
	mkdir(dirname(dir), 0755);
	err = ctl_server__open(&d->ctl, d->cfg->control_socket, gid >= 0 ? 0660 : 0600, gid,
			       detourd_commands, d);
	if (err) {
		dt_log_err("control socket %s: %s", d->cfg->control_socket, strerror(-err));
		return err;
	}
	err = ctl_server__set_idle_timeout(d->ctl, d->cfg->control_idle_ns);
	return err ?: epoll_add(d, ctl_server__fd(d->ctl));
}

static int open_signals(struct detourd *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return d->sigfd < 0 ? -errno : epoll_add(d, d->sigfd);
}

static int open_health(struct detourd *d)
{
	struct health_opts ho = {
		.start_ns = dt_mono_ns(),
		.startup_grace_ns = STARTUP_GRACE_NS,
		.blackout_hold_ns = d->cfg->blackout_hold_ns,
		.on_event = detourd_on_health_event,
		.ctx = d,
	};
	int err = health__new(&ho, &d->health);

	err = err ?: detourd_add_health_sites(d, d->cfg);
	err = err ?: deadline_timer__open(&d->timer);
	return err ?: epoll_add(d, deadline_timer__fd(&d->timer));
}

/* ASan maps terabytes of shadow memory: locking it is neither possible nor useful. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED_BUILD 1
#endif
#endif
#ifndef SANITIZED_BUILD
#define SANITIZED_BUILD 0
#endif

/*
 * SCHED_FIFO so that timers fire on time under load, and locked memory so that no page fault
 * stalls the loop. Locking future allocations (MCL_FUTURE) is only safe when the locked-memory
 * limit can be lifted: with a finite limit (no CAP_SYS_RESOURCE, as in some containers) every
 * allocation beyond it would fail, so then only what is mapped now is locked.
 */
static void go_realtime(bool lock_memory)
{
	struct sched_param sp = { .sched_priority = 10 };
	struct rlimit lim = { RLIM_INFINITY, RLIM_INFINITY };
	int flags = MCL_CURRENT | MCL_FUTURE;

	if (setrlimit(RLIMIT_MEMLOCK, &lim) && !getrlimit(RLIMIT_MEMLOCK, &lim) &&
	    lim.rlim_cur != RLIM_INFINITY) {
		flags = MCL_CURRENT;
		dt_log_info("locked-memory limit is %llu KiB and cannot be lifted (%s): locking "
			    "current memory only",
			    (unsigned long long)lim.rlim_cur / 1024, strerror(errno));
	}
	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		dt_log_warn("SCHED_FIFO refused (%s): detection may be late under load",
			    strerror(errno));
	if (lock_memory && !SANITIZED_BUILD && mlockall(flags))
		dt_log_warn("mlockall refused: %s", strerror(errno));
	prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
}

static int open_dataplane(struct detourd *d, const struct detourd_opts *o)
{
	return dt_dataplane__open(o->dataplane, d->cfg, &o->dp_opts, &d->dp, &d->exit_code);
}

/* Once the tables are filled: no first packet sees an empty table. */
static int launch_dataplane(struct detourd *d)
{
	int err = d->dp.ops->launch(d->dp.impl);

	if (err)
		dt_log_err("%s: launching the dataplane failed: %s", d->dp.ops->mode,
			   strerror(-err));
	return err;
}

static int start(struct detourd *d, const struct detourd_opts *o)
{
	int err;

	d->config_path = o->config;
	d->start_ns = dt_mono_ns();
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->state.fd = -1;
	detourd_service__init(&d->service);
	if (d->epfd < 0 || load_config(o->config, &d->cfg))
		return -EINVAL;
	/* before the dataplane: a second detourd on the same state must not touch it */
	if ((err = detourd_state_open(d)))
		return err;
	err = detourd_open_event_log(d, d->cfg->event_log);
	err = err ?: detourd_load_keys(d->cfg, &d->keys);
	err = err ?: open_dataplane(d, o);
	err = err ?: detourd_apply_config(d, d->cfg);
	err = err ?: launch_dataplane(d);
	/* before the first transition: its hook waits for the worker, started below */
	err = err ?: detourd_notify__init(&d->notify);
	err = err ?: open_health(d);
	if (!err)
		detourd_state_seed(d);
	err = err ?: open_heartbeat_sockets(d);
	err = err ?: open_control_socket(d);
	err = err ?: open_signals(d);
	if (err)
		return err;
	if (o->realtime)
		go_realtime(d->dp.ops->lock_memory);
	/* raw sockets need CAP_NET_RAW, dropped next */
	detourd_nudge__open(&d->nudge, &d->dp);
	if ((err = detourd_metrics__open(d))) /* a port below 1024 needs what is dropped next */
		return err;
	/*
	 * Before the scanner starts, and in the EAL's threads too (privs.c): a thread keeps the
	 * capabilities it was created with.
	 */
	err = detourd_drop_privileges(d->cfg);
	/* the notify worker then drops every capability itself */
	err = err ?: detourd_notify__start(&d->notify);
	err = err ?: detourd_recovery__start(&d->recovery, &d->dp, d->cfg->flow_idle_ns);
	err = err ?: epoll_add(d, d->recovery.pipe[0]);
	err = err ?: detourd_metrics__start(d);
	err = err ?: detourd_nudge__start(&d->nudge);
	if (err)
		return err;
	dt_log_info("running: %u sites, %u prefixes, %u interfaces, dataplane %s", d->cfg->n_sites,
		    d->cfg->n_prefixes, d->cfg->n_interfaces, d->dp.ops->mode);
	return 0;
}

/* ---- the loop ----------------------------------------------------------------------------- */

static void on_heartbeat(const struct hb_heartbeat *hb, void *ctx)
{
	struct detourd *d = ctx;
	const unsigned int max = sizeof(d->drained) / sizeof(d->drained[0]);

	detourd_state_note_heartbeat(d, hb->site_id, hb->beacon_id);
	if (d->n_drained < max)
		d->drained[d->n_drained++] = (struct detourd_arrival){
			.arrival_ns = hb->arrival_ns,
			.power_flags = hb->power_flags,
			.site = hb->site_id,
			.beacon = (__u8)hb->beacon_id,
		};
}

static int arrival_cmp(const void *a, const void *b)
{
	const struct detourd_arrival *x = a, *y = b;

	return (x->arrival_ns > y->arrival_ns) - (x->arrival_ns < y->arrival_ns);
}

/*
 * The detector judges one site's silence by the other sites' arrivals (the blackout guard), so
 * it gets them in arrival order across sockets, not socket by socket.
 */
static void feed_heartbeats(struct detourd *d)
{
	unsigned int i;

	qsort(d->drained, d->n_drained, sizeof(d->drained[0]), arrival_cmp);
	for (i = 0; i < d->n_drained; i++) {
		const struct detourd_arrival *a = &d->drained[i];

		__u64 delay;

		if (health__heartbeat(d->health, a->site, a->beacon, a->arrival_ns, a->power_flags))
			continue; /* a key for a site this configuration does not have */
		if (a->site < DT_MAX_SITES)
			d->site_rt[a->site].heartbeats++;
		delay = dt_mono_ns() - a->arrival_ns; /* arrival is never after now (hb_socket.c) */
		if (delay > d->hb_delay_max_ns)
			d->hb_delay_max_ns = delay;
		d->hb_delay_over_1ms += delay > 1000000;
	}
	d->n_drained = 0;
}

static void drain_heartbeats(struct detourd *d)
{
	unsigned int i, read;

	for (i = 0; i < d->n_hb; i++)
		for (read = 0; read < DETOURD_HB_PER_WAKEUP;) {
			int n = hb_socket__receive(d->hb[i], HB_SOCKET_BATCH, on_heartbeat, d);

			if (n <= 0)
				break;
			read += (unsigned int)n;
			if (n < HB_SOCKET_BATCH)
				break;
		}
	feed_heartbeats(d);
}

/*
 * Read every pending heartbeat, then advance the detector to now - GUARD_NS (never backwards).
 * The one way its clock moves forward: the loop, operator commands and the recovery scanner's
 * report all come through here, so no deadline is processed before the heartbeats that could
 * hold it. Returns the detector's time, for the caller's own request.
 */
__u64 detourd_catch_up(struct detourd *d)
{
	__u64 now, t;

	drain_heartbeats(d);
	now = dt_mono_ns();
	t = now > GUARD_NS ? now - GUARD_NS : 0;
	if (t < health__now(d->health))
		t = health__now(d->health);
	health__advance(d->health, t);
	return t;
}

/* now: the detector's time, from detourd_catch_up() */
static void update_recovery(struct detourd *d, __u64 now, bool scanner_ready)
{
	__u64 idle = scanner_ready ? detourd_recovery__take_idle(&d->recovery) : 0;
	__u64 recovering = 0, up = 0;
	unsigned int i;

	for (i = 0; i < d->cfg->n_sites; i++) {
		__u16 id = d->cfg->sites[i].id;
		struct health_site_status st;

		if (idle & (1ull << id))
			health__flows_idle(d->health, id, now);
		if (health__site_status(d->health, id, &st))
			continue;
		if (st.state == DT_SITE_RECOVERING)
			recovering |= 1ull << id;
		else if (st.state == DT_SITE_UP)
			up |= 1ull << id;
	}
	detourd_recovery__set_sites(&d->recovery, recovering, up);
}

static void handle_signals(struct detourd *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			detourd_service__reloading(&d->service);
			detourd_service__reloaded(&d->service, detourd_reload(d));
		} else if (si.ssi_signo == SIGUSR1) {
			detourd_reopen_event_log(d);
		} else {
			dt_log_info("signal %u: stopping; %s", si.ssi_signo, d->dp.ops->on_stop);
			detourd_service__stopping(&d->service);
			d->stop = true;
		}
	}
}

static bool fd_ready(const struct epoll_event *evs, int n, int fd)
{
	int i;

	for (i = 0; i < n; i++)
		if (evs[i].data.fd == fd)
			return true;
	return false;
}

static void run(struct detourd *d)
{
	struct epoll_event evs[16];

	while (!d->stop) {
		/* with a watchdog, woken often enough to ping it however quiet the sockets are */
		int n = epoll_wait(d->epfd, evs, 16, detourd_service__wait_ms(&d->service));
		__u64 now, next;

		/* heartbeats first, whatever woke us: their arrival times decide deadlines */
		now = detourd_catch_up(d);
		update_recovery(d, now, fd_ready(evs, n, d->recovery.pipe[0]));
		next = health__next_deadline(d->health);
		deadline_timer__arm(&d->timer, next == HEALTH_NO_DEADLINE ? next : next + GUARD_NS);
		if (fd_ready(evs, n, ctl_server__fd(d->ctl)))
			ctl_server__process(d->ctl);
		if (fd_ready(evs, n, d->sigfd))
			handle_signals(d);
		detourd_metrics__publish(d, dt_mono_ns());
		detourd_state_save(d);
		detourd_service__loop_turned(&d->service);
	}
}

static void stop(struct detourd *d, bool failed)
{
	unsigned int i;

	detourd_metrics__stop(d); /* before the dataplane it reads closes */
	detourd_recovery__stop(&d->recovery);
	detourd_notify__stop(&d->notify);
	detourd_nudge__stop(&d->nudge);
	ctl_server__close(d->ctl);
	for (i = 0; i < d->n_hb; i++)
		hb_socket__close(d->hb[i]);
	hb_filter__close(d->hb_filter);
	if (d->health)
		health__free(d->health);
	if (d->dp.ops && failed && d->dp.ops->abandon)
		d->dp.ops->abandon(d->dp.impl);
	else if (d->dp.ops)
		d->dp.ops->close(d->dp.impl);
	hb_keyring__free(d->keys);
	state_file__close(&d->state);
	if (d->event_log && d->event_log != stdout)
		fclose(d->event_log);
	dt_config__free(d->cfg);
}

int main(int argc, char **argv)
{
	static struct detourd d; /* large (event ring): not on the stack */
	struct detourd_opts o = { 0 };
	int err;

	dt_log_init("detourd", DT_LOG_TAG_LEVEL);
	if (parse_args(argc, argv, &o))
		return 2;
	if (o.check)
		return do_check(o.config, &o);
	if (o.detach)
		return do_detach(o.config);
	err = start(&d, &o);
	if (!err) {
		char status[96];

		snprintf(status, sizeof(status), "running: %u sites, dataplane %s", d.cfg->n_sites,
			 d.dp.ops->mode);
		detourd_service__ready(&d.service, status);
		run(&d);
	}
	stop(&d, err != 0);
	return err ? (d.exit_code ?: 1) : 0;
}
