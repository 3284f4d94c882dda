/* SPDX-License-Identifier: GPL-2.0-only */
/* Socket addresses from "HOST:PORT" strings, shared by the receiver and the beacon. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt_log.h"
#include "hb_socket.h"

static bool port_valid(const char *port)
{
	char *end;
	unsigned long v = strtoul(port, &end, 10);

	return port[0] >= '0' && port[0] <= '9' && !*end && v <= 65535;
}

/* Split spec into host and port; a bare IPv6 address (several colons, no brackets) has no port. */
static int addr_split(const char *spec, char *host, size_t host_len, char *port, size_t port_len)
{
	const char *colon = strrchr(spec, ':');
	const char *h = spec;
	size_t n;

	snprintf(port, port_len, "%d", HB_DEFAULT_PORT);
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		h = spec + 1;
		n = (size_t)(close - h);
		colon = close[1] == ':' ? close + 1 : NULL;
	} else if (colon && strchr(spec, ':') != colon) {
		n = strlen(spec);
		colon = NULL;
	} else {
		n = colon ? (size_t)(colon - spec) : strlen(spec);
	}
	if (n >= host_len || (colon && (!colon[1] || strlen(colon + 1) >= port_len)))
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	if (colon)
		snprintf(port, port_len, "%s", colon + 1);
	return port_valid(port) ? 0 : -EINVAL;
}

int hb_addr_parse(const char *spec, bool passive, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV };
	char host[256], port[16];
	struct addrinfo *ai;
	int err;

	if (addr_split(spec, host, sizeof(host), port, sizeof(port))) {
		dt_log_err("address \"%s\": expected HOST:PORT or [V6ADDR]:PORT", spec);
		return -EINVAL;
	}
	if (passive)
		hints.ai_flags |= AI_PASSIVE;
	err = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (err) {
		dt_log_err("address \"%s\": %s", spec, gai_strerror(err));
		return -EINVAL;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}
