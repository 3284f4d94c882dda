/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control protocol seen from outside: a ctl_server on a temporary socket with a small
 * command table, driven by ctl_client connections in the same process. The server never blocks,
 * so the test runs it by hand (pump()) between client steps; no step waits on wall-clock time
 * except the bounded poll() that lets the kernel move bytes between the two ends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_proto.h"

#define REQUEST_LIMIT 65536 /* the server's documented per-request limit (CTL_MAX_REQUEST) */
#define MAX_CLIENTS 64
#define RECV_TIMEOUT_MS 2000

struct fixture {
	char dir[64];
	char path[96];
	struct ctl_server *server;
	int handler_calls;
	uint64_t ticket; /* of the last deferred request */
};

/* echo: hands its args back, so a round trip shows the request reached the handler intact. */
static int do_echo(void *ctx, struct json_object *args, struct json_object **result, char *err,
		   size_t err_len)
{
	struct fixture *f = ctx;

	f->handler_calls++;
	*result = json_object_new_object();
	if (args)
		json_object_object_add(*result, "args", json_object_get(args));
	return 0;
}

static int do_refuse(void *ctx, struct json_object *args, struct json_object **result, char *err,
		     size_t err_len)
{
	snprintf(err, err_len, "site \"nowhere\" is not configured");
	return -ENOENT;
}

/* events: the real daemon's subscription command is an ordinary handler plus args.follow. */
static int do_events(void *ctx, struct json_object *args, struct json_object **result, char *err,
		     size_t err_len)
{
	*result = json_object_new_object();
	json_object_object_add(*result, "events", json_object_new_array());
	return 0;
}

/* later: answered by a test's other thread, through ctl_server__post_reply(). */
static int do_later(void *ctx, struct json_object *args, struct json_object **result, char *err,
		    size_t err_len)
{
	struct fixture *f = ctx;

	f->handler_calls++;
	f->ticket = ctl_server__defer(f->server);
	return CTL_DEFERRED;
}

static const struct ctl_command commands[] = {
	{ "echo", do_echo }, /* its args back */
	{ "later", do_later }, /* answered by another thread */
	{ "refuse", do_refuse }, /* an error */
	{ "events", do_events }, /* the subscription */
	{ NULL, NULL },
};

/* Let the server handle whatever is ready: a few rounds, each waiting briefly for readiness. */
static void pump(struct fixture *f)
{
	struct pollfd p = { .fd = ctl_server__fd(f->server), .events = POLLIN };
	int round;

	for (round = 0; round < 8; round++) {
		if (poll(&p, 1, round == 0 ? 20 : 2) <= 0)
			continue;
		ctl_server__process(f->server);
	}
}

static int open_server(struct fixture *f, unsigned int mode, int gid)
{
	return ctl_server__open(&f->server, f->path, mode, gid, commands, f);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/dt-ctl-test.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/ctl.sock", f->dir);
	if (open_server(f, 0600, -1))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ctl_server__close(f->server);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void client_connect(struct fixture *f, struct ctl_client *c)
{
	char err[256];

	assert_int_equal(ctl_client__connect(c, f->path, err, sizeof(err)), 0);
	pump(f); /* the server accepts one connection per readiness event */
}

/* Send command (args may be NULL, consumed), pump the server, return the reply. */
static struct json_object *request(struct fixture *f, struct ctl_client *c, const char *command,
				   struct json_object *args)
{
	struct json_object *reply = NULL;
	char err[256];

	assert_int_equal(ctl_client__send(c, command, args, err, sizeof(err)), 0);
	json_object_put(args);
	pump(f);
	assert_int_equal(ctl_client__recv(c, &reply, RECV_TIMEOUT_MS, err, sizeof(err)), 0);
	return reply;
}

/* Raw bytes, for requests ctl_client__send() would never produce. */
static void send_raw(struct ctl_client *c, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(c->fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);

		assert_true(n > 0);
		off += (size_t)n;
	}
}

static struct json_object *recv_reply(struct fixture *f, struct ctl_client *c)
{
	struct json_object *reply = NULL;
	char err[256];

	pump(f);
	assert_int_equal(ctl_client__recv(c, &reply, RECV_TIMEOUT_MS, err, sizeof(err)), 0);
	return reply;
}

static bool reply_ok(struct json_object *reply)
{
	struct json_object *ok;

	return json_object_object_get_ex(reply, "ok", &ok) &&
	       json_object_is_type(ok, json_type_boolean) && json_object_get_boolean(ok);
}

static int reply_errno(struct json_object *reply)
{
	struct json_object *e;

	assert_true(json_object_object_get_ex(reply, "errno", &e));
	return json_object_get_int(e);
}

static const char *reply_error(struct json_object *reply)
{
	struct json_object *e;

	assert_true(json_object_object_get_ex(reply, "error", &e));
	return json_object_get_string(e);
}

/* The echo of args.tag in a reply, or NULL. */
static const char *echoed_tag(struct json_object *reply)
{
	struct json_object *result, *args, *tag;

	if (!json_object_object_get_ex(reply, "result", &result) ||
	    !json_object_object_get_ex(result, "args", &args) ||
	    !json_object_object_get_ex(args, "tag", &tag))
		return NULL;
	return json_object_get_string(tag);
}

static struct json_object *tag_args(const char *tag)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "tag", json_object_new_string(tag));
	return a;
}

/* The client is served: an echo with this tag comes back with it. */
static void assert_served(struct fixture *f, struct ctl_client *c, const char *tag)
{
	struct json_object *reply = request(f, c, "echo", tag_args(tag));

	assert_true(reply_ok(reply));
	assert_string_equal(echoed_tag(reply), tag);
	json_object_put(reply);
}

/* The server dropped this connection: the next read sees the end of the stream. */
static void assert_cut_off(struct fixture *f, struct ctl_client *c)
{
	struct json_object *reply = NULL;
	char err[256];

	pump(f);
	assert_int_equal(ctl_client__recv(c, &reply, RECV_TIMEOUT_MS, err, sizeof(err)),
			 CTL_CLIENT_IO);
	assert_non_null(strstr(err, "closed the connection"));
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct ctl_client c;

	client_connect(f, &c);
	assert_served(f, &c, "pangyo \"quoted\" \xea\xb0\x80");
	assert_served(f, &c, "second request on the same connection");
	assert_int_equal(f->handler_calls, 2);
	ctl_client__close(&c);
}

static void test_two_requests_in_one_write(void **state)
{
	static const char two[] = "{\"command\":\"echo\",\"args\":{\"tag\":\"a\"}}\n"
				  "{\"command\":\"echo\",\"args\":{\"tag\":\"b\"}}\n";
	struct fixture *f = *state;
	struct json_object *r1, *r2;
	struct ctl_client c;

	client_connect(f, &c);
	send_raw(&c, two, strlen(two));
	r1 = recv_reply(f, &c);
	r2 = recv_reply(f, &c);
	assert_string_equal(echoed_tag(r1), "a");
	assert_string_equal(echoed_tag(r2), "b");
	json_object_put(r1);
	json_object_put(r2);
	ctl_client__close(&c);
}

static void test_request_split_across_writes(void **state)
{
	static const char part1[] = "{\"command\":\"ec",
			  part2[] = "ho\",\"args\":{\"tag\":\"x\"}}\n";
	struct fixture *f = *state;
	struct json_object *reply;
	struct ctl_client c;

	client_connect(f, &c);
	send_raw(&c, part1, strlen(part1));
	pump(f);
	assert_int_equal(f->handler_calls, 0); /* half a line is not a request */
	send_raw(&c, part2, strlen(part2));
	reply = recv_reply(f, &c);
	assert_string_equal(echoed_tag(reply), "x");
	json_object_put(reply);
	ctl_client__close(&c);
}

static void test_unknown_command(void **state)
{
	struct fixture *f = *state;
	struct json_object *reply;
	struct ctl_client c;

	client_connect(f, &c);
	reply = request(f, &c, "reboot", NULL);
	assert_false(reply_ok(reply));
	assert_int_equal(reply_errno(reply), EOPNOTSUPP);
	assert_non_null(strstr(reply_error(reply), "unknown command \"reboot\""));
	json_object_put(reply);
	assert_served(f, &c, "still usable");
	ctl_client__close(&c);
}

static void test_handler_refusal_carries_errno_and_message(void **state)
{
	struct fixture *f = *state;
	struct json_object *reply;
	struct ctl_client c;

	client_connect(f, &c);
	reply = request(f, &c, "refuse", NULL);
	assert_false(reply_ok(reply));
	assert_int_equal(reply_errno(reply), ENOENT);
	assert_string_equal(reply_error(reply), "site \"nowhere\" is not configured");
	json_object_put(reply);
	ctl_client__close(&c);
}

static void expect_einval(struct fixture *f, const char *line, const char *message)
{
	struct json_object *reply;
	struct ctl_client c;

	client_connect(f, &c);
	send_raw(&c, line, strlen(line));
	reply = recv_reply(f, &c);
	assert_false(reply_ok(reply));
	assert_int_equal(reply_errno(reply), EINVAL);
	assert_non_null(strstr(reply_error(reply), message));
	json_object_put(reply);
	assert_served(f, &c, "the connection survives a bad request");
	ctl_client__close(&c);
}

static void test_request_not_json(void **state)
{
	struct fixture *f = *state;

	expect_einval(f, "status please\n", "not a JSON object");
	expect_einval(f, "[\"status\"]\n", "not a JSON object");
	expect_einval(f, "\"status\"\n", "not a JSON object");
	expect_einval(f, "{\"command\": \n", "not a JSON object");
	assert_int_equal(f->handler_calls, 4); /* only the survival checks reached a handler */
}

static void test_request_without_command(void **state)
{
	struct fixture *f = *state;

	expect_einval(f, "{\"args\":{\"site\":\"pangyo\"}}\n", "no \"command\" string");
	expect_einval(f, "{\"command\":42}\n", "no \"command\" string");
	expect_einval(f, "{}\n", "no \"command\" string");
}

static void test_overlong_line_cut_off_others_served(void **state)
{
	struct fixture *f = *state;
	struct ctl_client hog, other;
	size_t len = REQUEST_LIMIT + 4096;
	char *junk = malloc(len);
	size_t off = 0;

	assert_non_null(junk);
	memset(junk, 'x', len); /* no newline anywhere: one line longer than any request */
	client_connect(f, &hog);
	client_connect(f, &other);
	while (off < len) { /* the server must read while we write, or send() blocks */
		ssize_t n = send(hog.fd, junk + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			break; /* the server already hung up on us: that is the point */
		pump(f);
	}
	free(junk);
	assert_cut_off(f, &hog);
	assert_int_equal(f->handler_calls, 0);
	assert_served(f, &other, "unharmed");
	ctl_client__close(&hog);
	ctl_client__close(&other);
}

static void test_line_just_under_limit_is_served(void **state)
{
	struct fixture *f = *state;
	const size_t pad = REQUEST_LIMIT - 200;
	struct json_object *args = json_object_new_object(), *reply;
	struct ctl_client c;
	char *filler = malloc(pad + 1);

	assert_non_null(filler);
	memset(filler, 'y', pad);
	filler[pad] = '\0';
	json_object_object_add(args, "filler", json_object_new_string(filler));
	json_object_object_add(args, "tag", json_object_new_string("big"));
	free(filler);
	client_connect(f, &c);
	reply = request(f, &c, "echo", args);
	assert_true(reply_ok(reply));
	assert_string_equal(echoed_tag(reply), "big");
	json_object_put(reply);
	ctl_client__close(&c);
}

static void test_silent_client_does_not_block_others(void **state)
{
	struct fixture *f = *state;
	struct ctl_client silent, partial, other;

	client_connect(f, &silent);
	client_connect(f, &partial);
	send_raw(&partial, "{\"command\":\"echo\"", 17); /* and never the rest */
	client_connect(f, &other);
	assert_served(f, &other, "first");
	assert_served(f, &other, "second");
	ctl_client__close(&silent);
	ctl_client__close(&partial);
	ctl_client__close(&other);
}

/* Every slot taken: the newcomer is served, and the longest-idle connection made room. */
static void test_65th_client_evicts_longest_idle(void **state)
{
	struct fixture *f = *state;
	struct ctl_client c[MAX_CLIENTS + 1];
	char tag[32];
	int i;

	for (i = 0; i < MAX_CLIENTS; i++)
		client_connect(f, &c[i]);
	assert_served(f, &c[0], "the first, active again"); /* c[1] is now the longest idle */
	client_connect(f, &c[MAX_CLIENTS]);
	assert_served(f, &c[MAX_CLIENTS], "the newcomer");
	assert_cut_off(f, &c[1]);
	for (i = 0; i < MAX_CLIENTS; i += 21) {
		if (i == 1)
			continue;
		snprintf(tag, sizeof(tag), "client %d", i);
		assert_served(f, &c[i], tag);
	}
	for (i = 0; i <= MAX_CLIENTS; i++)
		ctl_client__close(&c[i]);
}

/* A hundred requests in one write are answered eight per call, and another client's in between;
 * the server's fd stays readable until all are done, then goes quiet. */
static void test_flood_bounded_per_call(void **state)
{
	struct fixture *f = *state;
	struct pollfd p = { .fd = ctl_server__fd(f->server), .events = POLLIN };
	const char line[] = "{\"command\":\"echo\"}\n";
	struct ctl_client flooder, other;
	struct json_object *args;
	char buf[100 * sizeof(line)];
	int i, calls = 0;

	client_connect(f, &flooder);
	client_connect(f, &other);
	for (i = 0; i < 100; i++)
		memcpy(buf + i * (sizeof(line) - 1), line, sizeof(line) - 1);
	send_raw(&flooder, buf, 100 * (sizeof(line) - 1));
	args = tag_args("between");
	assert_int_equal(ctl_client__send(&other, "echo", args, buf, 64), 0);
	json_object_put(args);
	assert_int_equal(poll(&p, 1, 1000), 1);
	ctl_server__process(f->server);
	assert_true(f->handler_calls >= 1 && f->handler_calls <= 8);
	while (f->handler_calls < 101 && calls < 100 && poll(&p, 1, 1000) == 1) {
		ctl_server__process(f->server);
		calls++;
	}
	assert_int_equal(f->handler_calls, 101);
	assert_true(calls >= 12); /* 101 requests, at most 8 a call */
	for (i = 0; i < 4 && poll(&p, 1, 0) == 1; i++)
		ctl_server__process(f->server); /* the last replies go out */
	assert_int_equal(poll(&p, 1, 0), 0); /* nothing left: the fd is quiet */
	ctl_client__close(&flooder);
	ctl_client__close(&other);
}

/* A client that writes 2000 requests without a pause and reads no reply is not answered all at
 * once (the old server read and answered everything it could): it soon cannot write more, and
 * another client is served meanwhile. */
static void test_client_not_reading_is_not_read(void **state)
{
	struct fixture *f = *state;
	const char line[] = "{\"command\":\"echo\"}\n";
	struct ctl_client greedy, other;
	int i, calls;

	client_connect(f, &greedy);
	client_connect(f, &other);
	for (i = 0; i < 2000; i++) {
		if (send(greedy.fd, line, sizeof(line) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			break;
		if (i % 100 == 0)
			pump(f);
	}
	pump(f);
	calls = f->handler_calls;
	assert_true(calls < 2000);
	assert_served(f, &other, "served all the same");
	ctl_client__close(&greedy);
	ctl_client__close(&other);
}

static void test_idle_connection_times_out(void **state)
{
	struct fixture *f = *state;
	struct ctl_client idle, busy;
	int i;

	assert_int_equal(ctl_server__set_idle_timeout(f->server, 1000000), -EINVAL);
	assert_int_equal(ctl_server__set_idle_timeout(f->server, 100000000), 0); /* 100 ms */
	client_connect(f, &idle);
	client_connect(f, &busy);
	for (i = 0; i < 8; i++) { /* 8 x 40 ms: busy keeps talking, idle says nothing */
		assert_served(f, &busy, "busy");
		usleep(40000);
	}
	assert_cut_off(f, &idle);
	assert_served(f, &busy, "still here");
	ctl_client__close(&idle);
	ctl_client__close(&busy);
}

static void test_event_reaches_followers_only(void **state)
{
	struct fixture *f = *state;
	struct json_object *args = json_object_new_object(), *reply, *ev, *event, *site;
	struct ctl_client follower, bystander;

	json_object_object_add(args, "follow", json_object_new_boolean(1));
	client_connect(f, &follower);
	client_connect(f, &bystander);
	reply = request(f, &follower, "events", args);
	assert_true(reply_ok(reply));
	json_object_put(reply);
	reply = request(f, &bystander, "events", NULL);
	json_object_put(reply);

	ev = json_object_new_object();
	json_object_object_add(ev, "site", json_object_new_string("pangyo"));
	json_object_object_add(ev, "to", json_object_new_string("DOWN"));
	ctl_server__publish_event(f->server, ev);
	json_object_put(ev);

	reply = recv_reply(f, &follower);
	assert_true(json_object_object_get_ex(reply, "event", &event));
	assert_true(json_object_object_get_ex(event, "site", &site));
	assert_string_equal(json_object_get_string(site), "pangyo");
	json_object_put(reply);
	/* The bystander's next message is the reply to its next request, not the event. */
	assert_served(f, &bystander, "no event in between");
	ctl_client__close(&follower);
	ctl_client__close(&bystander);
}

/* Another thread posts a deferred reply, as the recovery scanner does. */
struct poster {
	struct fixture *f;
	uint64_t ticket;
	int ret;
	const char *tag; /* the reply's result: the tag as an echo would give it */
	int posted;
};

static void *post_main(void *arg)
{
	struct poster *p = arg;
	struct json_object *result = NULL;

	if (!p->ret) {
		result = json_object_new_object();
		json_object_object_add(result, "args", tag_args(p->tag));
	}
	p->posted = ctl_server__post_reply(p->f->server, p->ticket, p->ret, "the walk was refused",
					   result);
	return NULL;
}

static void post_from_thread(struct fixture *f, uint64_t ticket, int ret, const char *tag)
{
	struct poster p = { .f = f, .ticket = ticket, .ret = ret, .tag = tag };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, post_main, &p), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(p.posted, 0);
}

/* Nothing comes back on this connection for now. */
static void assert_no_reply(struct fixture *f, struct ctl_client *c)
{
	struct json_object *reply = NULL;
	char err[256];

	pump(f);
	assert_int_equal(ctl_client__recv(c, &reply, 50, err, sizeof(err)), CTL_CLIENT_IO);
	assert_non_null(strstr(err, "did not answer"));
}

/*
 * A deferred request is answered when its reply is posted from another thread, not before; its
 * connection's next request waits behind it (in order), while other clients are served.
 */
static void test_deferred_reply_posted_later(void **state)
{
	struct fixture *f = *state;
	struct json_object *reply, *args = tag_args("after");
	struct ctl_client c, other;
	char err[256];

	client_connect(f, &c);
	client_connect(f, &other);
	assert_int_equal(ctl_client__send(&c, "later", NULL, err, sizeof(err)), 0);
	assert_int_equal(ctl_client__send(&c, "echo", args, err, sizeof(err)), 0);
	json_object_put(args);
	assert_no_reply(f, &c);
	assert_int_equal(f->handler_calls, 1); /* the echo behind it is not served yet */
	assert_true(f->ticket != 0);
	assert_served(f, &other, "served meanwhile");
	post_from_thread(f, f->ticket, 0, "late");
	reply = recv_reply(f, &c);
	assert_true(reply_ok(reply));
	assert_string_equal(echoed_tag(reply), "late");
	json_object_put(reply);
	reply = recv_reply(f, &c);
	assert_string_equal(echoed_tag(reply), "after");
	json_object_put(reply);
	ctl_client__close(&c);
	ctl_client__close(&other);
}

static void test_deferred_error_reply(void **state)
{
	struct fixture *f = *state;
	struct ctl_client c;
	struct json_object *reply;
	char err[256];

	client_connect(f, &c);
	assert_int_equal(ctl_client__send(&c, "later", NULL, err, sizeof(err)), 0);
	assert_no_reply(f, &c);
	post_from_thread(f, f->ticket, -EBUSY, NULL);
	reply = recv_reply(f, &c);
	assert_false(reply_ok(reply));
	assert_int_equal(reply_errno(reply), EBUSY);
	assert_string_equal(reply_error(reply), "the walk was refused");
	json_object_put(reply);
	ctl_client__close(&c);
}

/* A client that waits for a deferred reply is not idle: the daemon owes it an answer. */
static void test_deferred_waiter_not_timed_out(void **state)
{
	struct fixture *f = *state;
	struct ctl_client c;
	struct json_object *reply;
	char err[256];
	int i;

	assert_int_equal(ctl_server__set_idle_timeout(f->server, 100000000), 0); /* 100 ms */
	client_connect(f, &c);
	assert_int_equal(ctl_client__send(&c, "later", NULL, err, sizeof(err)), 0);
	for (i = 0; i < 6; i++) { /* 6 x 50 ms, three idle timeouts */
		pump(f);
		usleep(50000);
	}
	post_from_thread(f, f->ticket, 0, "still waited for");
	reply = recv_reply(f, &c);
	assert_string_equal(echoed_tag(reply), "still waited for");
	json_object_put(reply);
	ctl_client__close(&c);
}

/* A reply for a client that has gone is dropped; nobody else gets it. */
static void test_deferred_reply_to_gone_client_dropped(void **state)
{
	struct fixture *f = *state;
	struct ctl_client gone, next;
	uint64_t ticket;
	char err[256];

	client_connect(f, &gone);
	assert_int_equal(ctl_client__send(&gone, "later", NULL, err, sizeof(err)), 0);
	pump(f);
	ticket = f->ticket;
	ctl_client__close(&gone);
	pump(f);
	client_connect(f, &next);
	post_from_thread(f, ticket, 0, "for the one who left");
	assert_served(f, &next, "its own reply, not the other's");
	ctl_client__close(&next);
}

static void test_socket_mode_0600(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_socket_mode_0660_with_group(void **state)
{
	struct fixture *f = *state;
	gid_t gid = geteuid() == 0 ? 65534 : getegid(); /* root may give it to any group */
	struct ctl_client c;
	struct stat st;

	ctl_server__close(f->server);
	assert_int_equal(open_server(f, 0660, (int)gid), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, gid);
	client_connect(f, &c);
	assert_served(f, &c, "the reopened server answers");
	ctl_client__close(&c);
}

static void test_stale_socket_replaced_and_removed_on_close(void **state)
{
	struct fixture *f = *state;
	struct ctl_client c;
	char err[256];

	/* A daemon killed with -9 leaves its socket file behind; the next one must bind anyway. */
	ctl_server__close(f->server);
	assert_int_equal(access(f->path, F_OK), -1);
	assert_int_equal(ctl_client__connect(&c, f->path, err, sizeof(err)), CTL_CLIENT_NO_DAEMON);
	assert_non_null(strstr(err, "detourd is not running"));
	assert_int_equal(mknod(f->path, S_IFSOCK | 0600, 0), 0);
	assert_int_equal(open_server(f, 0600, -1), 0);
	client_connect(f, &c);
	assert_served(f, &c, "over the stale file");
	ctl_client__close(&c);
}

static void test_socket_path_too_long(void **state)
{
	struct fixture *f = *state;
	struct ctl_server *s = NULL;
	struct ctl_client c;
	char path[200], err[256];

	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(ctl_server__open(&s, path, 0600, -1, commands, f), -ENAMETOOLONG);
	assert_int_equal(ctl_client__connect(&c, path, err, sizeof(err)), CTL_CLIENT_NO_DAEMON);
	assert_non_null(strstr(err, "too long"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_round_trip),
		T(test_two_requests_in_one_write),
		T(test_request_split_across_writes),
		T(test_unknown_command),
		T(test_handler_refusal_carries_errno_and_message),
		T(test_request_not_json),
		T(test_request_without_command),
		T(test_overlong_line_cut_off_others_served),
		T(test_line_just_under_limit_is_served),
		T(test_silent_client_does_not_block_others),
		T(test_65th_client_evicts_longest_idle),
		T(test_flood_bounded_per_call),
		T(test_client_not_reading_is_not_read),
		T(test_idle_connection_times_out),
		T(test_event_reaches_followers_only),
		T(test_deferred_reply_posted_later),
		T(test_deferred_error_reply),
		T(test_deferred_waiter_not_timed_out),
		T(test_deferred_reply_to_gone_client_dropped),
		T(test_socket_mode_0600),
		T(test_socket_mode_0660_with_group),
		T(test_stale_socket_replaced_and_removed_on_close),
		T(test_socket_path_too_long),
#undef T
	};

	return cmocka_run_group_tests_name("ctl_proto", tests, NULL, NULL);
}
