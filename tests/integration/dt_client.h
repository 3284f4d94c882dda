/* SPDX-License-Identifier: GPL-2.0-only */
/* dt-client's parts: options, the report it fills, and one runner per mode. */
#ifndef DT_CLIENT_H
#define DT_CLIENT_H

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dt_clock.h"
#include "dt_wire.h"

#define CLIENT_MAX_RATE 20000 /* per second */
#define CLIENT_MAX_COUNT 1000000
#define CLIENT_MAX_MS 600000 /* ten minutes: --duration and --timeout */
#define CLIENT_MAX_FLOWS 256
#define CLIENT_MAX_SITES 16 /* distinct site names remembered; more are counted as "other" */

enum client_mode { MODE_UDP, MODE_TCP, MODE_TCP_LONG };

struct client_target {
	struct sockaddr_storage sa;
	socklen_t len;
	int family;
};

struct client_opts {
	enum client_mode mode;
	const char *addr;
	unsigned int port;
	unsigned int rate;
	unsigned long count;
	unsigned long duration_ms;
	unsigned long timeout_ms;
	unsigned int flows;
	const char *json_path;
	const char *log_path;
	struct client_target target;
};

struct client_site {
	char name[DT_WIRE_SITE_MAX];
	unsigned long answers;
	uint64_t first_ns;
	uint64_t last_ns;
};

struct client_report {
	enum client_mode mode;
	unsigned long sent; /* requests, connections, or messages on the long connection */
	unsigned long answered;
	unsigned long late; /* answered after the timeout: counted as lost too */
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t first_lost_ns; /* send time of the first / last unanswered request, 0 if none */
	uint64_t last_lost_ns;
	unsigned int n_sites;
	struct client_site sites[CLIENT_MAX_SITES + 1]; /* the last row is "other" */
	bool long_stayed; /* tcp-long: every message echoed by the site that greeted us */
	char error[128]; /* tcp modes: the first failure, for the log */
};

extern volatile sig_atomic_t dt_client_stop;

void sleep_until_ns(uint64_t t);
int client_target__parse(const char *addr, unsigned int port, struct client_target *t);
int client_report__site(struct client_report *r, const char *name, uint64_t now);
void client_report__lost(struct client_report *r, uint64_t sent_ns);
void client_report__print(const struct client_report *r, FILE *f);
int client_report__write_json(const struct client_report *r, const char *path);

int run_udp(const struct client_opts *o, struct client_report *r);
int run_tcp(const struct client_opts *o, struct client_report *r);
int run_tcp_long(const struct client_opts *o, struct client_report *r);

#endif /* DT_CLIENT_H */
