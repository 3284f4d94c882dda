// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's side of the control socket. Every socket is non-blocking and lives in a private
 * epoll set whose fd the daemon polls, so a slow or hostile client can never stall heartbeat
 * processing: each ctl_server__process() call handles a bounded number of ready sockets and
 * reads or writes only what is there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"

#define CTL_MAX_CONNS 64
#define CTL_EVENTS_PER_CALL 16
#define CTL_MAX_REQUEST 65536 /* requests are small; replies may be up to CTL_MAX_MSG */

struct ctl_conn {
	int fd;
	bool follow; /* subscribed to events */
	char *in;
	size_t in_len;
	char *out;
	size_t out_len, out_off;
};

struct ctl_server {
	int epfd;
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct ctl_command *commands;
	void *ctx;
	struct ctl_conn *conns[CTL_MAX_CONNS];
};

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

int ctl_server__open(struct ctl_server **out, const char *path, unsigned int mode, int gid,
		     const struct ctl_command *commands, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ctl_server *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	s->commands = commands;
	s->ctx = ctx;
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->listen_fd = listen_unix(path, mode, gid);
	if (s->epfd < 0 || s->listen_fd < 0) {
		err = s->listen_fd < 0 ? s->listen_fd : -errno;
		goto fail;
	}
	ev.data.ptr = NULL; /* NULL marks the listening socket */
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listen_fd, &ev)) {
		err = -errno;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s);
	return err;
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
	free(c->out);
	free(c);
}

static void conn_accept(struct ctl_server *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ctl_conn *c;
	unsigned int i;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (i = 0; i < CTL_MAX_CONNS && s->conns[i]; i++)
		;
	c = i < CTL_MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
	if (c)
		c->in = malloc(CTL_MAX_REQUEST);
	if (!c || !c->in) {
		free(c);
		close(fd); /* too many clients: the newcomer is refused, nobody else suffers */
		return;
	}
	c->fd = fd;
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		free(c->in);
		free(c);
		return;
	}
	s->conns[i] = c;
}

/* Queue a JSON object plus newline for the client; writing happens as the socket allows. */
static void conn_queue(struct ctl_server *s, struct ctl_conn *c, struct json_object *msg)
{
	const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(text), pending = c->out_len - c->out_off;
	char *buf = malloc(pending + n + 1);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };

	if (!buf)
		return;
	if (pending)
		memcpy(buf, c->out + c->out_off, pending);
	memcpy(buf + pending, text, n);
	buf[pending + n] = '\n';
	free(c->out);
	c->out = buf;
	c->out_len = pending + n + 1;
	c->out_off = 0;
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static struct json_object *error_reply(int err, const char *msg)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", json_object_new_string(msg));
	json_object_object_add(r, "errno", json_object_new_int(-err));
	return r;
}

static struct json_object *dispatch(struct ctl_server *s, struct ctl_conn *c,
				    struct json_object *req)
{
	struct json_object *cmd, *args = NULL, *result = NULL, *reply, *follow;
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
	ret = k->handler(s->ctx, args, &result, err, sizeof(err));
	if (ret < 0) {
		json_object_put(result);
		return error_reply(ret, err[0] ? err : strerror(-ret));
	}
	if (!strcmp(k->name, "events") && args &&
	    json_object_object_get_ex(args, "follow", &follow) && json_object_get_boolean(follow))
		c->follow = true;
	reply = json_object_new_object();
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	json_object_object_add(reply, "result", result ? result : json_object_new_object());
	return reply;
}

/* Handle every complete line in the input buffer. */
static void conn_handle_lines(struct ctl_server *s, struct ctl_conn *c)
{
	char *nl;

	while ((nl = memchr(c->in, '\n', c->in_len))) {
		struct json_object *req, *reply;
		size_t line = (size_t)(nl - c->in) + 1;

		*nl = '\0';
		req = json_tokener_parse(c->in);
		reply = req && json_object_is_type(req, json_type_object) ?
				dispatch(s, c, req) :
				error_reply(-EINVAL, "request is not a JSON object");
		conn_queue(s, c, reply);
		json_object_put(reply);
		json_object_put(req);
		memmove(c->in, c->in + line, c->in_len - line);
		c->in_len -= line;
	}
}

static void conn_read(struct ctl_server *s, struct ctl_conn *c)
{
	/* A client that sends requests but never reads its replies is cut off, not buffered. */
	if (c->out_len - c->out_off > CTL_MAX_MSG) {
		conn_close(s, c);
		return;
	}
	ssize_t n = read(c->fd, c->in + c->in_len, CTL_MAX_REQUEST - 1 - c->in_len);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(s, c);
		return;
	}
	if (n < 0)
		return;
	c->in_len += (size_t)n;
	conn_handle_lines(s, c);
	if (c->in_len >= CTL_MAX_REQUEST - 1) /* a line longer than any request may be */
		conn_close(s, c);
}

static void conn_write(struct ctl_server *s, struct ctl_conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		conn_close(s, c);
		return;
	}
	if (n > 0)
		c->out_off += (size_t)n;
	if (c->out_off == c->out_len)
		epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

void ctl_server__process(struct ctl_server *s)
{
	struct epoll_event evs[CTL_EVENTS_PER_CALL];
	int i, n = epoll_wait(s->epfd, evs, CTL_EVENTS_PER_CALL, 0);

	for (i = 0; i < n; i++) {
		struct ctl_conn *c = evs[i].data.ptr;

		if (!c) {
			conn_accept(s);
			continue;
		}
		if (evs[i].events & EPOLLOUT) {
			conn_write(s, c);
			continue; /* c may be gone; read on the next call */
		}
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_read(s, c);
	}
}

void ctl_server__publish_event(struct ctl_server *s, struct json_object *event)
{
	struct json_object *msg = json_object_new_object();
	unsigned int i;

	json_object_object_add(msg, "event", json_object_get(event));
	for (i = 0; i < CTL_MAX_CONNS; i++) {
		struct ctl_conn *c = s->conns[i];

		/* a follower that does not read is cut off rather than buffered without bound */
		if (c && c->follow && c->out_len - c->out_off > CTL_MAX_MSG)
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
	close(s->listen_fd);
	close(s->epfd);
	unlink(s->path);
	free(s);
}
