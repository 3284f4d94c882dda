/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control protocol between detourctl and detourd (docs/control-protocol.md).
 *
 * A Unix stream socket; each message is one JSON object on one line, at most CTL_MAX_MSG bytes.
 *   request:  {"command": "drain", "args": {"site": "pangyo"}}
 *   response: {"ok": true, "result": {...}}
 *          or {"ok": false, "error": "site \"x\" is not configured", "errno": 2}
 * A request for "events" with {"follow": true} keeps the connection open after the response and
 * receives {"event": {...}} lines as transitions happen.
 */
#ifndef DT_CTL_PROTO_H
#define DT_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define CTL_MAX_MSG (1u << 20)
#define CTL_SOCKET_DEFAULT "/run/detour/detourd.sock"

/* ---- server side (in detourd) ---- */

/*
 * A handler fills *result (a new object it hands over) or returns -errno with a message in err;
 * or, to answer later (a long read done off the event loop), takes a ticket with
 * ctl_server__defer() and returns CTL_DEFERRED.
 */
typedef int (*ctl_handler_fn)(void *ctx, struct json_object *args, struct json_object **result,
			      char *err, size_t err_len);

#define CTL_DEFERRED 1

struct ctl_command {
	const char *name;
	ctl_handler_fn handler;
};

struct ctl_server;

/* Who sent the request a handler is running (SO_PEERCRED of its connection). */
struct ctl_caller {
	int pid;
	unsigned int uid;
	unsigned int gid;
};

int ctl_server__open(struct ctl_server **out, const char *path, unsigned int mode, int gid,
		     const struct ctl_command *commands, void *ctx);
/*
 * Close connections that read and write nothing for this long (followers of events excepted);
 * 30 s until set. -EINVAL below 100 ms.
 */
int ctl_server__set_idle_timeout(struct ctl_server *s, uint64_t idle_ns);
/* The fd to poll for readability; then call ctl_server__process(). */
int ctl_server__fd(const struct ctl_server *s);
/*
 * Serve what is ready, without blocking: at most 8 requests and 200 us per call; the fd stays
 * readable while more wait, so the caller reads its heartbeats in between.
 */
void ctl_server__process(struct ctl_server *s);
/* The caller of the request being handled: 0, or -ENOENT outside a handler. */
int ctl_server__caller(const struct ctl_server *s, struct ctl_caller *out);
/*
 * In a handler that will return CTL_DEFERRED: the ticket its reply is posted with (never 0; 0
 * outside a handler). Until the reply comes, its connection is read no further, is not closed
 * for idleness and is not closed to make room for a newcomer.
 */
uint64_t ctl_server__defer(struct ctl_server *s);
/*
 * From any thread: the reply to a deferred request, as the handler would have given it (ret 0
 * and result, which is consumed; or -errno and a message). It is serialized on the calling
 * thread and written by a later ctl_server__process(); a reply to a client that has gone is
 * dropped. 0, or -errno if it could not be queued (out of memory).
 */
int ctl_server__post_reply(struct ctl_server *s, uint64_t ticket, int ret, const char *err,
			   struct json_object *result);
/* Send one event line to every client following events. */
void ctl_server__publish_event(struct ctl_server *s, struct json_object *event);
void ctl_server__close(struct ctl_server *s);

/* ---- client side (in detourctl and tests) ---- */

enum ctl_client_err {
	CTL_CLIENT_OK = 0,
	CTL_CLIENT_NO_DAEMON = -1, /* no socket, or nobody listening */
	CTL_CLIENT_DENIED = -2, /* permission denied on the socket */
	CTL_CLIENT_IO = -3, /* the daemon went away or sent garbage */
};

struct ctl_client {
	int fd;
	char *buf;
	size_t len, cap;
};

int ctl_client__connect(struct ctl_client *c, const char *path, char *err, size_t err_len);
int ctl_client__send(struct ctl_client *c, const char *command, struct json_object *args, char *err,
		     size_t err_len);
/* Read one message; *msg is a new object. Returns 0, or a ctl_client_err with err filled. */
int ctl_client__recv(struct ctl_client *c, struct json_object **msg, int timeout_ms, char *err,
		     size_t err_len);
void ctl_client__close(struct ctl_client *c);

#endif /* DT_CTL_PROTO_H */
