// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's side of the control socket. Every socket is non-blocking and lives in a private
 * epoll set whose fd the daemon polls, so a slow or hostile client can never stall heartbeat
 * processing. Each ctl_server__process() call does a bounded amount of work: it answers at most
 * CTL_REQUESTS_PER_CALL requests, for at most CTL_BUDGET_NS, taking connections in turn; what is
 * left keeps the server's fd readable (an eventfd), so the daemon comes back to it after it has
 * read its heartbeats again. A connection with unanswered requests, or more than CTL_MAX_MSG of
 * unread replies, is not read from until that is done: a flood fills its own socket buffer, not
 * our memory or our time. Connections silent for the idle timeout are closed, and when every slot
 * is taken the longest-idle one makes room for a newcomer. Followers of events are exempt from
 * both while they read, and cut off when they do not.
 *
 * A handler may defer its reply (ctl_server__defer()): another thread does the work and posts
 * the reply (ctl_server__post_reply()) through a pipe in the same epoll set, and the next call
 * writes it out. The connection waits meanwhile: not read, not timed out, not evicted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "dt_clock.h"

#define CTL_MAX_CONNS 64
#define CTL_EVENTS_PER_CALL 16
#define CTL_MAX_REQUEST 65536 /* requests are small; replies may be up to CTL_MAX_MSG */
#define CTL_REQUESTS_PER_CALL 8 /* answered per ctl_server__process(), all clients together */
#define CTL_BUDGET_NS 200000ull /* and no more time than this (after the first) */
#define CTL_IDLE_DEFAULT_NS 30000000000ull
#define CTL_IDLE_MIN_NS 100000000ull

struct ctl_out {
	char *buf;
	size_t len, off, cap; /* unsent bytes are buf[off, len) */
};

struct ctl_conn {
	int fd;
	bool follow; /* subscribed to events */
	char *in;
	size_t in_len;
	struct ctl_out out;
	uint32_t events; /* the epoll interest set now */
	struct ctl_caller caller; /* SO_PEERCRED at accept */
	uint64_t active_ns; /* last byte read or written */
	uint64_t waiting; /* the ticket of its deferred request; 0: none */
};

/* A deferred request's reply line (newline included), from the thread that made it. */
struct ctl_posted {
	uint64_t ticket;
	char *line;
	size_t len;
};

struct ctl_server {
	int epfd;
	int listen_fd;
	int wake_fd; /* readable while requests wait: the daemon calls us again */
	int timer_fd; /* the idle sweep */
	int posted[2]; /* a pipe of struct ctl_posted pointers: replies of deferred requests */
	uint64_t last_ticket;
	uint64_t idle_ns;
	unsigned int next; /* the connection served first on the next call */
	struct ctl_conn *serving; /* whose request a handler is running: not closed under it */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct ctl_command *commands;
	void *ctx;
	struct ctl_conn *conns[CTL_MAX_CONNS];
};

/* The epoll marks of the server's own fds (a connection is its struct; NULL the listener). */
#define CTL_MARK_WAKE ((void *)1)
#define CTL_MARK_TIMER ((void *)2)
#define CTL_MARK_POSTED ((void *)3)

static int listen_unix(const char *path, unsigned int mode, int gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path); /* a stale socket from a killed daemon */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, mode) ||
	    (gid >= 0 && chown(path, (uid_t)-1, (gid_t)gid)) || listen(fd, 16)) {
		err = -errno;
		close(fd);
		unlink(path);
		return err;
	}
	return fd;
}

static int add_fd(struct ctl_server *s, int fd, void *mark)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = mark };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int arm_sweep(struct ctl_server *s)
{
	uint64_t every = s->idle_ns / 4;
	struct itimerspec its = {
		.it_interval = { (time_t)(every / 1000000000ull), (long)(every % 1000000000ull) },
	};

	its.it_value = its.it_interval;
	return timerfd_settime(s->timer_fd, 0, &its, NULL) ? -errno : 0;
}

static void posted_free(struct ctl_posted *p)
{
	free(p->line);
	free(p);
}

static void server_free(struct ctl_server *s)
{
	int fds[] = { s->listen_fd, s->epfd, s->wake_fd, s->timer_fd, s->posted[0], s->posted[1] };
	struct ctl_posted *p;
	unsigned int i;

	while (s->posted[0] >= 0 && read(s->posted[0], &p, sizeof(p)) == sizeof(p))
		posted_free(p);
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(s);
}

int ctl_server__open(struct ctl_server **out, const char *path, unsigned int mode, int gid,
		     const struct ctl_command *commands, void *ctx)
{
	struct ctl_server *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	s->commands = commands;
	s->ctx = ctx;
	s->idle_ns = CTL_IDLE_DEFAULT_NS;
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (pipe2(s->posted, O_NONBLOCK | O_CLOEXEC))
		s->posted[0] = s->posted[1] = -1;
	s->listen_fd = listen_unix(path, mode, gid);
	if (s->epfd < 0 || s->wake_fd < 0 || s->timer_fd < 0 || s->posted[0] < 0 ||
	    s->listen_fd < 0) {
		err = s->listen_fd < 0 ? s->listen_fd : -errno;
		goto fail;
	}
	err = add_fd(s, s->listen_fd, NULL);
	err = err ?: add_fd(s, s->wake_fd, CTL_MARK_WAKE);
	err = err ?: add_fd(s, s->timer_fd, CTL_MARK_TIMER);
	err = err ?: add_fd(s, s->posted[0], CTL_MARK_POSTED);
	err = err ?: arm_sweep(s);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	if (s->listen_fd >= 0)
		unlink(path);
	server_free(s);
	return err;
}

int ctl_server__set_idle_timeout(struct ctl_server *s, uint64_t idle_ns)
{
	if (idle_ns < CTL_IDLE_MIN_NS)
		return -EINVAL;
	s->idle_ns = idle_ns;
	return arm_sweep(s);
}

int ctl_server__fd(const struct ctl_server *s)
{
	return s->epfd;
}

static void conn_close(struct ctl_server *s, struct ctl_conn *c)
{
	unsigned int i;

	for (i = 0; i < CTL_MAX_CONNS; i++)
		if (s->conns[i] == c)
			s->conns[i] = NULL;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out.buf);
	free(c);
}

/* A free slot, or the one of the longest-idle connection that follows no events and waits for
 * no deferred reply. */
static int free_slot(struct ctl_server *s)
{
	struct ctl_conn *oldest = NULL;
	unsigned int i;

	for (i = 0; i < CTL_MAX_CONNS; i++) {
		struct ctl_conn *c = s->conns[i];

		if (!c)
			return (int)i;
		if (!c->follow && !c->waiting && (!oldest || c->active_ns < oldest->active_ns))
			oldest = c;
	}
	if (!oldest)
		return -1; /* every slot a follower or waiting */
	for (i = 0; s->conns[i] != oldest; i++)
		;
	conn_close(s, oldest);
	return (int)i;
}

static void peer_caller(int fd, struct ctl_caller *out)
{
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t len = sizeof(cred);

	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	*out = (struct ctl_caller){ .pid = cred.pid, .uid = cred.uid, .gid = cred.gid };
}

int ctl_server__caller(const struct ctl_server *s, struct ctl_caller *out)
{
	if (!s->serving)
		return -ENOENT;
	*out = s->serving->caller;
	return 0;
}

static void conn_accept(struct ctl_server *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ctl_conn *c;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), slot;

	if (fd < 0)
		return;
	slot = free_slot(s);
	c = slot >= 0 ? calloc(1, sizeof(*c)) : NULL;
	if (c)
		c->in = malloc(CTL_MAX_REQUEST);
	if (!c || !c->in) {
		if (c)
			free(c->in);
		free(c);
		close(fd); /* no slot to be had: the newcomer is refused */
		return;
	}
	c->fd = fd;
	c->events = EPOLLIN;
	peer_caller(fd, &c->caller);
	c->active_ns = dt_mono_ns();
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		free(c->in);
		free(c);
		return;
	}
	s->conns[slot] = c;
}

static bool has_request(const struct ctl_conn *c)
{
	return memchr(c->in, '\n', c->in_len) != NULL;
}

static size_t unsent(const struct ctl_conn *c)
{
	return c->out.len - c->out.off;
}

/*
 * Read when it has nothing left to answer (nor a deferred reply to wait for) and its replies are
 * being read; write what waits.
 */
static void conn_interest(struct ctl_server *s, struct ctl_conn *c)
{
	uint32_t want = (!c->waiting && !has_request(c) && unsent(c) <= CTL_MAX_MSG ? EPOLLIN : 0) |
			(unsent(c) ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = want, .data.ptr = c };

	if (want != c->events && !epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev))
		c->events = want;
}

/* Append, growing by doubling and reusing the sent front: each byte is copied O(1) times. */
static int out_append(struct ctl_out *o, const char *text, size_t n)
{
	size_t need = o->len - o->off + n, cap;
	char *buf;

	if (o->off && o->len + n > o->cap) {
		memmove(o->buf, o->buf + o->off, o->len - o->off);
		o->len -= o->off;
		o->off = 0;
	}
	if (o->len + n > o->cap) {
		for (cap = o->cap ? o->cap : 4096; cap < need; cap *= 2)
			;
		buf = realloc(o->buf, cap);
		if (!buf)
			return -ENOMEM;
		o->buf = buf;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, text, n);
	o->len += n;
	return 0;
}

/* Queue a JSON object plus newline for the client; writing happens as the socket allows. */
static void conn_queue(struct ctl_server *s, struct ctl_conn *c, struct json_object *msg)
{
	const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);

	if (!out_append(&c->out, text, strlen(text)))
		out_append(&c->out, "\n", 1);
	conn_interest(s, c);
}

static struct json_object *error_reply(int err, const char *msg)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", json_object_new_string(msg));
	json_object_object_add(r, "errno", json_object_new_int(-err));
	return r;
}

/* What a handler's answer is on the wire. result is consumed. */
static struct json_object *handler_reply(int ret, const char *err, struct json_object *result)
{
	struct json_object *reply;

	if (ret < 0) {
		json_object_put(result);
		return error_reply(ret, err && err[0] ? err : strerror(-ret));
	}
	reply = json_object_new_object();
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	json_object_object_add(reply, "result", result ? result : json_object_new_object());
	return reply;
}

/* The reply to a request, or NULL when its handler deferred it. */
static struct json_object *dispatch(struct ctl_server *s, struct ctl_conn *c,
				    struct json_object *req)
{
	struct json_object *cmd, *args = NULL, *result = NULL, *follow;
	const struct ctl_command *k;
	char err[256] = "";
	int ret;

	if (!json_object_object_get_ex(req, "command", &cmd) ||
	    !json_object_is_type(cmd, json_type_string))
		return error_reply(-EINVAL, "request has no \"command\" string");
	json_object_object_get_ex(req, "args", &args);
	for (k = s->commands; k->name && strcmp(k->name, json_object_get_string(cmd)); k++)
		;
	if (!k->name) {
		snprintf(err, sizeof(err), "unknown command \"%s\"", json_object_get_string(cmd));
		return error_reply(-EOPNOTSUPP, err);
	}
	s->serving = c;
	ret = k->handler(s->ctx, args, &result, err, sizeof(err));
	s->serving = NULL;
	if (ret == CTL_DEFERRED && c->waiting) {
		json_object_put(result);
		return NULL;
	}
	c->waiting = 0; /* a handler that took a ticket and then failed */
	if (ret > 0) /* CTL_DEFERRED without a ticket: a handler's bug */
		ret = -EIO;
	if (!ret && !strcmp(k->name, "events") && args &&
	    json_object_object_get_ex(args, "follow", &follow) && json_object_get_boolean(follow))
		c->follow = true;
	return handler_reply(ret, err, result);
}

uint64_t ctl_server__defer(struct ctl_server *s)
{
	if (!s->serving)
		return 0;
	s->serving->waiting = ++s->last_ticket;
	return s->serving->waiting;
}

int ctl_server__post_reply(struct ctl_server *s, uint64_t ticket, int ret, const char *err,
			   struct json_object *result)
{
	struct json_object *reply = handler_reply(ret, err, result);
	struct ctl_posted *p = calloc(1, sizeof(*p));
	size_t len = 0;
	const char *text = json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN, &len);

	if (p && text)
		p->line = malloc(len + 1);
	if (!p || !p->line) {
		free(p);
		json_object_put(reply);
		return -ENOMEM;
	}
	memcpy(p->line, text, len);
	p->line[len] = '\n';
	p->len = len + 1;
	p->ticket = ticket;
	json_object_put(reply);
	/* a pointer is written whole (PIPE_BUF); one per waiting connection at most is in flight */
	if (write(s->posted[1], &p, sizeof(p)) != sizeof(p)) {
		ret = errno ? -errno : -EIO;
		posted_free(p);
		return ret;
	}
	return 0;
}

/* Answer the first complete line of the input buffer. */
static void conn_answer_one(struct ctl_server *s, struct ctl_conn *c)
{
	char *nl = memchr(c->in, '\n', c->in_len);
	struct json_object *req, *reply;
	size_t line;

	if (!nl)
		return;
	line = (size_t)(nl - c->in) + 1;
	*nl = '\0';
	req = json_tokener_parse(c->in);
	reply = req && json_object_is_type(req, json_type_object) ?
			dispatch(s, c, req) :
			error_reply(-EINVAL, "request is not a JSON object");
	memmove(c->in, c->in + line, c->in_len - line);
	c->in_len -= line;
	if (reply)
		conn_queue(s, c, reply);
	json_object_put(reply);
	json_object_put(req);
}

static void conn_read(struct ctl_server *s, struct ctl_conn *c)
{
	ssize_t n = read(c->fd, c->in + c->in_len, CTL_MAX_REQUEST - 1 - c->in_len);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(s, c);
		return;
	}
	if (n < 0)
		return;
	c->in_len += (size_t)n;
	c->active_ns = dt_mono_ns();
	if (!has_request(c) && c->in_len >= CTL_MAX_REQUEST - 1) { /* longer than any request */
		conn_close(s, c);
		return;
	}
	conn_interest(s, c);
}

static void conn_write(struct ctl_server *s, struct ctl_conn *c)
{
	ssize_t n = send(c->fd, c->out.buf + c->out.off, unsent(c), MSG_NOSIGNAL);

	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		conn_close(s, c);
		return;
	}
	if (n > 0) {
		c->out.off += (size_t)n;
		c->active_ns = dt_mono_ns();
	}
	if (!unsent(c))
		c->out.off = c->out.len = 0;
	conn_interest(s, c);
}

static bool conn_servable(const struct ctl_conn *c)
{
	return c && !c->waiting && has_request(c) && unsent(c) <= CTL_MAX_MSG;
}

/* Requests of every connection in turn, one each per round, within the call's budget. */
static bool serve_requests(struct ctl_server *s)
{
	uint64_t start = dt_mono_ns();
	unsigned int done = 0, i, idle_rounds = 0;

	while (done < CTL_REQUESTS_PER_CALL && idle_rounds < CTL_MAX_CONNS &&
	       (!done || dt_mono_ns() - start < CTL_BUDGET_NS)) {
		i = s->next;
		s->next = (s->next + 1) % CTL_MAX_CONNS;
		if (!conn_servable(s->conns[i])) {
			idle_rounds++;
			continue;
		}
		idle_rounds = 0;
		conn_answer_one(s, s->conns[i]);
		if (s->conns[i])
			conn_interest(s, s->conns[i]);
		done++;
	}
	for (i = 0; i < CTL_MAX_CONNS; i++)
		if (conn_servable(s->conns[i]))
			return true;
	return false;
}

static void sweep_idle(struct ctl_server *s)
{
	uint64_t now = dt_mono_ns(), ticks;
	unsigned int i;

	if (read(s->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	for (i = 0; i < CTL_MAX_CONNS; i++) {
		struct ctl_conn *c = s->conns[i];

		if (c && !c->follow && !c->waiting && now - c->active_ns > s->idle_ns)
			conn_close(s, c);
	}
}

/* Keep the server's fd readable while requests wait, and only then. */
static void set_wake(struct ctl_server *s, bool pending)
{
	uint64_t v = 1;

	if (!pending) {
		if (read(s->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return;
	} else if (write(s->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
		return;
	}
}

static struct ctl_conn *conn_waiting_for(struct ctl_server *s, uint64_t ticket)
{
	unsigned int i;

	for (i = 0; i < CTL_MAX_CONNS; i++)
		if (s->conns[i] && s->conns[i]->waiting == ticket)
			return s->conns[i];
	return NULL;
}

/* A posted reply to its connection: the line itself becomes the output if none is pending. */
static size_t deliver_posted(struct ctl_server *s, struct ctl_posted *p)
{
	struct ctl_conn *c = conn_waiting_for(s, p->ticket);
	size_t copied = 0;

	if (!c)
		return 0; /* the client went away meanwhile */
	c->waiting = 0;
	c->active_ns = dt_mono_ns();
	if (!unsent(c)) {
		free(c->out.buf);
		c->out = (struct ctl_out){ .buf = p->line, .len = p->len, .cap = p->len };
		p->line = NULL;
	} else if (!out_append(&c->out, p->line, p->len)) {
		copied = p->len;
	}
	conn_interest(s, c);
	return copied;
}

/* Posted replies, copying at most about one message's worth per call; the rest stay readable. */
static void take_posted(struct ctl_server *s)
{
	struct ctl_posted *p;
	size_t copied = 0;

	while (copied < CTL_MAX_MSG && read(s->posted[0], &p, sizeof(p)) == sizeof(p)) {
		copied += deliver_posted(s, p);
		posted_free(p);
	}
}

static void handle_ready(struct ctl_server *s, const struct epoll_event *e)
{
	struct ctl_conn *c = e->data.ptr;

	if (!c)
		conn_accept(s);
	else if (c == CTL_MARK_TIMER)
		sweep_idle(s);
	else if (c == CTL_MARK_WAKE)
		return;
	else if (c == CTL_MARK_POSTED)
		take_posted(s);
	else if (e->events & EPOLLOUT)
		conn_write(s, c); /* c may be gone; read on the next call */
	else if (e->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(s, c);
}

void ctl_server__process(struct ctl_server *s)
{
	struct epoll_event evs[CTL_EVENTS_PER_CALL];
	int i, n = epoll_wait(s->epfd, evs, CTL_EVENTS_PER_CALL, 0);

	for (i = 0; i < n; i++)
		handle_ready(s, &evs[i]);
	set_wake(s, serve_requests(s));
}

void ctl_server__publish_event(struct ctl_server *s, struct json_object *event)
{
	struct json_object *msg = json_object_new_object();
	unsigned int i;

	json_object_object_add(msg, "event", json_object_get(event));
	for (i = 0; i < CTL_MAX_CONNS; i++) {
		struct ctl_conn *c = s->conns[i];

		/* a follower that does not read is cut off rather than buffered without bound */
		if (c && c->follow && unsent(c) > CTL_MAX_MSG && c != s->serving)
			conn_close(s, c);
		else if (c && c->follow)
			conn_queue(s, c, msg);
	}
	json_object_put(msg);
}

void ctl_server__close(struct ctl_server *s)
{
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < CTL_MAX_CONNS; i++)
		if (s->conns[i])
			conn_close(s, s->conns[i]);
	unlink(s->path);
	server_free(s);
}
