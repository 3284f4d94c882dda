/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dt-site-server: the service every test site runs, so that a client can tell which site
 * answered. UDP: each request is answered with "<site> <server-seq> <request>". TCP: the site
 * name and a newline on accept, then an echo of everything until the peer closes.
 *
 *   dt-site-server --name NAME [--port PORT] [--max-conns N] [--ready-file PATH]
 *
 * It listens on the wildcard address of both families, so it serves whatever anycast addresses
 * the namespace holds. UDP answers are sent from the address the request was sent to (IP_PKTINFO
 * / IPV6_PKTINFO): without that the kernel would pick the source by route, the site's link
 * address, and the client's connected socket would drop the answer. Stops on SIGTERM/SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dt_wire.h"

#define MAX_CONNS_LIMIT 1024
#define N_LISTEN 4 /* udp4, udp6, tcp4, tcp6 */

struct server {
	const char *name;
	unsigned int port;
	unsigned int max_conns;
	unsigned long long udp_seq;
	unsigned long long tcp_accepted;
	struct pollfd pfd[N_LISTEN + MAX_CONNS_LIMIT];
	unsigned int n_conns;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
}

static int socket_bound(int family, int type, unsigned int port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_DGRAM && family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (type == SOCK_DGRAM && family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	err = family == AF_INET ? bind(fd, (struct sockaddr *)&a4, sizeof(a4)) :
				  bind(fd, (struct sockaddr *)&a6, sizeof(a6));
	if (!err && type == SOCK_STREAM)
		err = listen(fd, 128);
	if (err) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int server__listen(struct server *s)
{
	const int fam[N_LISTEN] = { AF_INET, AF_INET6, AF_INET, AF_INET6 };
	const int type[N_LISTEN] = { SOCK_DGRAM, SOCK_DGRAM, SOCK_STREAM, SOCK_STREAM };
	int i, fd;

	for (i = 0; i < N_LISTEN; i++) {
		fd = socket_bound(fam[i], type[i], s->port);
		if (fd < 0) {
			fprintf(stderr, "site %s: %s %s port %u: %s\n", s->name,
				type[i] == SOCK_DGRAM ? "udp" : "tcp",
				fam[i] == AF_INET ? "ipv4" : "ipv6", s->port, strerror(-fd));
			return fd;
		}
		s->pfd[i] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	return 0;
}

/*
 * Answer one datagram. The pktinfo control message that came in is sent back as it is: its
 * destination address becomes the answer's source (ipi_spec_dst is what IPv4 reads on send).
 */
static void server__answer_udp(struct server *s, int fd)
{
	char req[DT_WIRE_MSG_MAX], ans[DT_WIRE_MSG_MAX + DT_WIRE_SITE_MAX + 32];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} ctl;
	struct sockaddr_storage peer;
	struct iovec iov = { .iov_base = req, .iov_len = sizeof(req) - 1 };
	struct msghdr m = { .msg_name = &peer,
			    .msg_namelen = sizeof(peer),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
	int len;

	if (n <= 0)
		return;
	req[n] = '\0';
	len = snprintf(ans, sizeof(ans), "%s %llu %s", s->name, ++s->udp_seq, req);
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(c);

			pi->ipi_spec_dst = pi->ipi_addr;
			pi->ipi_ifindex = 0; /* let the route pick the way back */
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			((struct in6_pktinfo *)CMSG_DATA(c))->ipi6_ifindex = 0;
		}
	iov.iov_base = ans;
	iov.iov_len = (size_t)len < sizeof(ans) ? (size_t)len : sizeof(ans) - 1;
	sendmsg(fd, &m, MSG_DONTWAIT);
}

static void server__accept(struct server *s, int lfd)
{
	char hello[DT_WIRE_SITE_MAX + 2];
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int len;

	if (fd < 0)
		return;
	if (s->n_conns >= s->max_conns) {
		close(fd); /* bounded: a client sees a reset, the test sees an error */
		return;
	}
	len = snprintf(hello, sizeof(hello), "%s\n", s->name);
	if (write(fd, hello, (size_t)len) != len) {
		close(fd);
		return;
	}
	s->pfd[N_LISTEN + s->n_conns++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	s->tcp_accepted++;
}

/* Echo what is readable; false when the connection is finished. */
static bool conn_echo(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	/* Test messages are small and the socket buffer is empty: a short write is a dead peer. */
	return write(fd, buf, (size_t)n) == n;
}

static void server__serve_conns(struct server *s)
{
	unsigned int i = 0;

	while (i < s->n_conns) {
		struct pollfd *p = &s->pfd[N_LISTEN + i];

		if (!p->revents || conn_echo(p->fd)) {
			i++;
			continue;
		}
		close(p->fd);
		*p = s->pfd[N_LISTEN + --s->n_conns]; /* the last one fills the hole */
	}
}

static void server__run(struct server *s)
{
	int i;

	while (!stopping) {
		if (poll(s->pfd, N_LISTEN + s->n_conns, 200) <= 0)
			continue;
		for (i = 0; i < 2; i++)
			if (s->pfd[i].revents & POLLIN)
				server__answer_udp(s, s->pfd[i].fd);
		for (i = 2; i < N_LISTEN; i++)
			if (s->pfd[i].revents & POLLIN)
				server__accept(s, s->pfd[i].fd);
		server__serve_conns(s);
	}
}

static int usage(FILE *f)
{
	fprintf(f, "usage: dt-site-server --name NAME [--port PORT] [--max-conns N] "
		   "[--ready-file PATH]\n");
	return 2;
}

static int parse_args(int argc, char **argv, struct server *s, const char **ready)
{
	static const struct option lo[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "port", required_argument, NULL, 'p' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			s->name = optarg;
			break;
		case 'p':
			s->port = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			s->max_conns = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			*ready = optarg;
			break;
		case 'h':
			exit(usage(stdout) - 2);
		default:
			return -EINVAL;
		}
	}
	if (!s->name || !s->name[0] || strlen(s->name) >= DT_WIRE_SITE_MAX ||
	    strchr(s->name, ' ') || !s->port || s->port > 65535 || !s->max_conns ||
	    s->max_conns > MAX_CONNS_LIMIT || optind != argc)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	static struct server s = { .port = DT_WIRE_PORT_DEFAULT, .max_conns = 256 };
	const char *ready = NULL;
	FILE *f;

	if (parse_args(argc, argv, &s, &ready))
		return usage(stderr);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (server__listen(&s))
		return 1;
	if (ready && (f = fopen(ready, "w"))) {
		fprintf(f, "%d\n", getpid());
		fclose(f);
	}
	server__run(&s);
	printf("site %s: stopped after %llu udp answers, %llu tcp connections\n", s.name, s.udp_seq,
	       s.tcp_accepted);
	return 0;
}
