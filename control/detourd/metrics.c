// SPDX-License-Identifier: GPL-2.0-only
/*
 * detourd's /metrics: the snapshot the event loop publishes, and the HTTP thread that serves it
 * (metrics.h has the picture; docs/metrics.md lists every metric).
 *
 * The snapshot is guarded by a sequence lock: the event loop (the only writer) never waits for a
 * scrape; a scrape copies the snapshot out and copies again if the loop published meanwhile.
 * libmicrohttpd runs without threads of its own (external epoll mode) on this file's one thread,
 * created SCHED_OTHER whatever the event loop runs at.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "detourd.h"
#include "dt_clock.h"
#include "dt_log.h"
#include "metrics.h"

#define METRICS_CONN_LIMIT 16
#define METRICS_CONN_TIMEOUT_S 10
#define SEQ_READ_TRIES 1000

struct detourd_metrics {
	struct dm_snapshot work; /* the event loop's, with the running totals */
	struct dm_snapshot shared; /* guarded by seq */
	struct dm_snapshot read; /* the HTTP thread's copy */
	_Atomic __u64 seq; /* odd while the loop writes shared */
	__u64 seen_seq; /* events taken from the ring so far */
	__u64 next_publish_ns;
	struct detourd *d; /* for what never changes after start: dp, recovery */
	int listen_fd;
	int stop_fd;
	struct MHD_Daemon *mhd;
	pthread_t thread;
	bool running;
};

/* ---- the event loop's side ----------------------------------------------------------------- */

static struct dm_site *site_of(struct dm_snapshot *s, __u16 id)
{
	for (unsigned int i = 0; i < s->n_sites; i++)
		if (s->site[i].id == id)
			return &s->site[i];
	return NULL;
}

/*
 * One transition into the totals. Detection runs from the last heartbeat for a timeout (the
 * failure happened after it) and from the moment the cause took effect otherwise (a heartbeat's
 * arrival, the end of a hold-down, an operator's request).
 */
static void take_event(struct dm_snapshot *s, const struct detourd_event *e)
{
	const struct health_event *ev = &e->ev;
	struct dm_site *site = site_of(s, ev->site);
	__u64 from;

	if (!site || ev->cause >= HEALTH_CAUSE_MAX || ev->to >= DT_SITE_STATE_MAX)
		return;
	if (ev->flags & HEALTH_EVENT_F_NOTICE) {
		site->notices[ev->cause]++;
		return;
	}
	site->transitions[ev->cause][ev->to]++;
	from = ev->cause == HEALTH_CAUSE_HEARTBEAT_TIMEOUT && ev->last_heartbeat_ns ?
		       ev->last_heartbeat_ns :
		       ev->deadline_ns;
	if (from && ev->detected_ns >= from)
		dm_hist_observe(&site->detect[ev->to], dm_detect_le, dm_detect_n,
				(double)(ev->detected_ns - from) / 1e9);
	if (ev->applied_ns && ev->applied_ns >= ev->detected_ns)
		dm_hist_observe(&site->apply[ev->to], dm_apply_le, dm_apply_n,
				(double)(ev->applied_ns - ev->detected_ns) / 1e9);
}

static void take_status(struct detourd *d, struct dm_snapshot *s)
{
	for (unsigned int i = 0; i < s->n_sites; i++) {
		struct dm_site *site = &s->site[i];
		struct health_site_status st;

		if (health__site_status(d->health, site->id, &st))
			continue;
		site->state = (__u8)st.state;
		site->blackout_held = st.blackout_held;
		site->blackout_holds = st.blackout_holds;
		site->suppressed = st.suppressed;
		site->flaps = st.flaps;
		site->penalty = st.penalty;
		site->heartbeats = d->site_rt[site->id].heartbeats;
		for (unsigned int b = 0; b < HEALTH_MAX_BEACONS; b++) {
			site->beacon[b].configured = st.beacons & (1u << b);
			site->beacon[b].live = st.beacons_live & (1u << b);
			site->beacon[b].last_ns = st.beacon_last_ns[b];
		}
	}
}

static size_t snapshot_bytes(const struct dm_snapshot *s)
{
	return offsetof(struct dm_snapshot, site) + s->n_sites * sizeof(s->site[0]);
}

void detourd_metrics__publish(struct detourd *d, __u64 now)
{
	struct detourd_metrics *m = d->metrics;
	__u64 first;

	if (!m || (d->event_seq == m->seen_seq && now < m->next_publish_ns))
		return;
	first = d->event_seq > DETOURD_EVENT_RING ? d->event_seq - DETOURD_EVENT_RING : 0;
	if (m->seen_seq < first) {
		m->work.events_missed += first - m->seen_seq;
		m->seen_seq = first;
	}
	for (; m->seen_seq < d->event_seq; m->seen_seq++)
		take_event(&m->work, &d->events[m->seen_seq % DETOURD_EVENT_RING]);
	take_status(d, &m->work);
	memcpy(m->work.hb, d->rx.counters, sizeof(m->work.hb));
	memcpy(m->work.fingerprint, detourd_policy_fingerprint(d), sizeof(m->work.fingerprint));
	m->work.published_ns = now;
	m->next_publish_ns = now + DETOURD_METRICS_PUBLISH_NS;

	atomic_fetch_add_explicit(&m->seq, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(&m->shared, &m->work, snapshot_bytes(&m->work));
	atomic_fetch_add_explicit(&m->seq, 1, memory_order_release);
}

/* The HTTP thread's copy of the snapshot; false if the loop kept publishing (it never does). */
static bool read_snapshot(struct detourd_metrics *m)
{
	for (unsigned int i = 0; i < SEQ_READ_TRIES; i++) {
		__u64 s1 = atomic_load_explicit(&m->seq, memory_order_acquire);

		if (!(s1 & 1)) {
			m->read.n_sites = m->shared.n_sites;
			if (m->read.n_sites <= DT_MAX_SITES)
				memcpy(&m->read, &m->shared, snapshot_bytes(&m->read));
			atomic_thread_fence(memory_order_acquire);
			if (atomic_load_explicit(&m->seq, memory_order_relaxed) == s1)
				return true;
		}
		sched_yield();
	}
	return false;
}

/* ---- the HTTP thread ----------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
			     char *body, size_t len, bool must_free)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result serve_metrics(struct detourd_metrics *m, struct MHD_Connection *c)
{
	static char busy[] = "detourd: the snapshot is being rewritten; try again\n";
	static char failed[] = "detourd: the metrics page could not be written\n";
	struct detourd *d = m->d;
	struct dm_live live = {
		.dp = &d->dp,
		.version = DETOURD_VERSION,
		.dataplane = d->dp.ops->mode,
		.flows_established = atomic_load(&d->recovery.flows_established),
		.flows_new = atomic_load(&d->recovery.flows_new),
		.flows_counted_ns = atomic_load(&d->recovery.flows_counted_ns),
		.partial_walks = atomic_load(&d->recovery.partial_walks),
	};
	char *page;
	size_t len;
	int err;

	if (!read_snapshot(m))
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", busy, strlen(busy),
			     false);
	err = dm_render(&m->read, &live, dt_mono_ns(), &page, &len);
	if (err) {
		dt_log_err("metrics: writing the page: %s", strerror(-err));
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", failed,
			     strlen(failed), false);
	}
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", page, len, true);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **req)
{
	static char index_page[] = "detourd: Prometheus metrics at /metrics\n";
	static char not_found[] = "not found: the metrics are at /metrics\n";
	static char not_allowed[] = "only GET and HEAD\n";

	(void)version;
	(void)upload;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		*upload_len = 0; /* a body is not read: the connection is closed after the reply */
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed,
			     strlen(not_allowed), false);
	}
	(void)req;
	if (!strcmp(url, "/metrics"))
		return serve_metrics(cls, c);
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/plain", index_page, strlen(index_page), false);
	return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found, strlen(not_found), false);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	dt_log_warn("metrics: %s", msg);
}

/*
 * The thread serves HTTP from the network: it keeps CAP_BPF (reading the counter maps may need
 * it) and gives up the CAP_NET_ADMIN the daemon kept for the event loop.
 */
static void keep_only_cap_bpf(void)
{
	cap_t caps = cap_get_proc();
	const cap_value_t bpf = CAP_BPF;
	cap_flag_value_t had = CAP_CLEAR;

	if (!caps)
		return;
	cap_get_flag(caps, CAP_BPF, CAP_PERMITTED, &had);
	cap_clear(caps);
	if (had == CAP_SET) {
		cap_set_flag(caps, CAP_PERMITTED, 1, &bpf, CAP_SET);
		cap_set_flag(caps, CAP_EFFECTIVE, 1, &bpf, CAP_SET);
	}
	if (cap_set_proc(caps))
		dt_log_warn("metrics: could not drop capabilities: %s", strerror(errno));
	cap_free(caps);
}

static void *http_main(void *arg)
{
	struct detourd_metrics *m = arg;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	struct pollfd pfd[2] = {
		{ .fd = info ? info->epoll_fd : -1, .events = POLLIN },
		{ .fd = m->stop_fd, .events = POLLIN },
	};

	keep_only_cap_bpf();
	for (;;) {
		MHD_UNSIGNED_LONG_LONG to = 1000;
		int timeout = MHD_get_timeout(m->mhd, &to) == MHD_YES && to < 1000 ? (int)to : 1000;

		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		MHD_run(m->mhd);
	}
	return NULL;
}

static int bind_listen(const struct dt_config_listen *l)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int one = 1, fd;

	if (l->family == DT_FAMILY_V4) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(l->port);
		memcpy(&a->sin_addr, l->addr, 4);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(l->port);
		memcpy(&a->sin6_addr, l->addr, 16);
		sl = sizeof(*a);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 16)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int detourd_metrics__open(struct detourd *d)
{
	const struct dt_config_listen *l = &d->cfg->metrics_listen;
	struct detourd_metrics *m;
	unsigned int i;
	int fd;

	if (l->family == DT_FAMILY_NONE)
		return 0;
	fd = bind_listen(l);
	if (fd < 0) {
		dt_log_err("metrics_listen %s: %s", l->spec, strerror(-fd));
		return fd;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		close(fd);
		return -ENOMEM;
	}
	m->d = d;
	m->listen_fd = fd;
	m->stop_fd = -1;
	m->work.flow_table_size = d->cfg->flow_table_size;
	m->work.n_sites = d->cfg->n_sites;
	for (i = 0; i < d->cfg->n_sites; i++) {
		m->work.site[i].id = d->cfg->sites[i].id;
		snprintf(m->work.site[i].name, sizeof(m->work.site[i].name), "%s",
			 d->cfg->sites[i].name);
	}
	d->metrics = m;
	return 0;
}

/* SCHED_OTHER whatever the caller runs at (recovery.c starts the scanner the same way). */
int detourd_metrics__start(struct detourd *d)
{
	struct detourd_metrics *m = d->metrics;
	int err;

	if (!m)
		return 0;
	detourd_metrics__publish(d, dt_mono_ns()); /* a scrape never sees an empty snapshot */
	m->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->stop_fd < 0)
		return -errno;
	m->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, m,
				  MHD_OPTION_LISTEN_SOCKET, m->listen_fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONN_LIMIT,
				  MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned int)METRICS_CONN_TIMEOUT_S, MHD_OPTION_EXTERNAL_LOGGER,
				  mhd_log, NULL, MHD_OPTION_END);
	if (!m->mhd) {
		dt_log_err("metrics_listen %s: libmicrohttpd did not start",
			   d->cfg->metrics_listen.spec);
		return -EIO;
	}
	m->listen_fd = -1; /* libmicrohttpd's now: MHD_stop_daemon() closes it */
	err = detourd_start_ordinary_thread(&m->thread, http_main, m);
	if (err) {
		dt_log_err("metrics: thread: %s", strerror(err));
		return -err;
	}
	pthread_setname_np(m->thread, "dt-metrics");
	m->running = true;
	dt_log_info("metrics: serving http://%s/metrics", d->cfg->metrics_listen.spec);
	return 0;
}

void detourd_metrics__stop(struct detourd *d)
{
	struct detourd_metrics *m = d->metrics;
	__u64 one = 1;

	if (!m)
		return;
	if (m->running) {
		if (write(m->stop_fd, &one, sizeof(one)) < 0)
			dt_log_warn("metrics: stopping the thread: %s", strerror(errno));
		pthread_join(m->thread, NULL);
	}
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	if (m->stop_fd >= 0)
		close(m->stop_fd);
	free(m);
	d->metrics = NULL;
}
