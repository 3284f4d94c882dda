// SPDX-License-Identifier: GPL-2.0-only
/* The client's side of the control socket: connect, send one request, read replies and events. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"

int ctl_client__connect(struct ctl_client *c, const char *path, char *err, size_t err_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, err_len, "socket path too long: %s", path);
		return CTL_CLIENT_NO_DAEMON;
	}
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		if (e == EACCES || e == EPERM) {
			snprintf(
				err, err_len,
				"permission denied on %s: run as root or as a member of the socket's group",
				path);
			return CTL_CLIENT_DENIED;
		}
		snprintf(err, err_len, "detourd is not running (cannot connect to %s: %s)", path,
			 strerror(e));
		return CTL_CLIENT_NO_DAEMON;
	}
	return 0;
}

int ctl_client__send(struct ctl_client *c, const char *command, struct json_object *args, char *err,
		     size_t err_len)
{
	struct json_object *req = json_object_new_object();
	const char *text;
	size_t len, off = 0;
	int ret = 0;

	json_object_object_add(req, "command", json_object_new_string(command));
	if (args)
		json_object_object_add(req, "args", json_object_get(args));
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	while (off <= len && !ret) {
		ssize_t n = off < len ? send(c->fd, text + off, len - off, MSG_NOSIGNAL) :
					send(c->fd, "\n", 1, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, err_len, "sending to detourd failed: %s", strerror(errno));
			ret = CTL_CLIENT_IO;
		}
		off += n > 0 ? (size_t)n : 0;
	}
	json_object_put(req);
	return ret;
}

/* Take one line out of the buffer if there is a complete one. */
static struct json_object *take_line(struct ctl_client *c, bool *bad)
{
	char *nl = c->buf ? memchr(c->buf, '\n', c->len) : NULL;
	struct json_object *msg;
	size_t line;

	if (!nl)
		return NULL;
	*nl = '\0';
	line = (size_t)(nl - c->buf) + 1;
	msg = json_tokener_parse(c->buf);
	memmove(c->buf, c->buf + line, c->len - line);
	c->len -= line;
	*bad = !msg || !json_object_is_type(msg, json_type_object);
	return msg;
}

int ctl_client__recv(struct ctl_client *c, struct json_object **msg, int timeout_ms, char *err,
		     size_t err_len)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	bool bad = false;

	for (;;) {
		ssize_t n;

		*msg = take_line(c, &bad);
		if (bad) {
			json_object_put(*msg);
			snprintf(err, err_len, "detourd sent a reply that is not a JSON object");
			return CTL_CLIENT_IO;
		}
		if (*msg)
			return 0;
		if (c->cap - c->len < 4096) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *buf = cap <= 4 * CTL_MAX_MSG ? realloc(c->buf, cap) : NULL;

			if (!buf) {
				snprintf(err, err_len, "reply from detourd is too large");
				return CTL_CLIENT_IO;
			}
			c->buf = buf;
			c->cap = cap;
		}
		if (poll(&pfd, 1, timeout_ms) == 0) {
			snprintf(err, err_len, "detourd did not answer within %d ms", timeout_ms);
			return CTL_CLIENT_IO;
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, err_len, "detourd closed the connection");
			return CTL_CLIENT_IO;
		}
		c->len += (size_t)n;
	}
}

void ctl_client__close(struct ctl_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	c->buf = NULL;
	c->fd = -1;
}
