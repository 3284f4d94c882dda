/* SPDX-License-Identifier: GPL-2.0-only */
/* dt-client: clock, target address, and the report (summary line and JSON). */
#include "dt_client.h"

#include <arpa/inet.h>
#include <string.h>
#include <time.h>

void sleep_until_ns(uint64_t t)
{
	while (dt_mono_sleep_until(t) == EINTR && !dt_client_stop)
		;
}

int client_target__parse(const char *addr, unsigned int port, struct client_target *t)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&t->sa;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&t->sa;

	memset(t, 0, sizeof(*t));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = t->family = AF_INET;
		a4->sin_port = htons(port);
		t->len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = t->family = AF_INET6;
		a6->sin6_port = htons(port);
		t->len = sizeof(*a6);
		return 0;
	}
	fprintf(stderr, "dt-client: --addr %s: not a numeric IPv4 or IPv6 address\n", addr);
	return -EINVAL;
}

/* Names come from the network: only what a site name may hold is believed. */
static bool valid_site_name(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n >= DT_WIRE_SITE_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!(s[i] == '-' || s[i] == '_' || (s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

/* Count one answer from @name at @now; returns the site's row. */
int client_report__site(struct client_report *r, const char *name, uint64_t now)
{
	unsigned int i;
	struct client_site *s;

	if (!valid_site_name(name))
		name = "other";
	for (i = 0; i < r->n_sites; i++)
		if (!strcmp(r->sites[i].name, name))
			break;
	if (i == r->n_sites) {
		if (r->n_sites < CLIENT_MAX_SITES)
			snprintf(r->sites[r->n_sites++].name, DT_WIRE_SITE_MAX, "%s", name);
		else
			i = CLIENT_MAX_SITES;
	}
	s = &r->sites[i];
	if (!s->name[0])
		snprintf(s->name, sizeof(s->name), "other");
	if (!s->answers++)
		s->first_ns = now;
	s->last_ns = now;
	r->answered++;
	return (int)i;
}

void client_report__lost(struct client_report *r, uint64_t sent_ns)
{
	if (!r->first_lost_ns)
		r->first_lost_ns = sent_ns;
	r->last_lost_ns = sent_ns;
}

static const char *mode_name(enum client_mode m)
{
	return m == MODE_UDP ? "udp" : m == MODE_TCP ? "tcp" : "tcp-long";
}

static unsigned int n_rows(const struct client_report *r)
{
	return r->n_sites + (r->sites[CLIENT_MAX_SITES].answers ? 1 : 0);
}

static const struct client_site *row(const struct client_report *r, unsigned int i)
{
	return i < r->n_sites ? &r->sites[i] : &r->sites[CLIENT_MAX_SITES];
}

static void print_sites(const struct client_report *r, FILE *f, const char *what)
{
	unsigned int i;

	fprintf(f, " %s=", what);
	for (i = 0; i < n_rows(r); i++) {
		const struct client_site *s = row(r, i);
		unsigned long long v = !strcmp(what, "sites")	 ? s->answers :
				       !strcmp(what, "first_ns") ? s->first_ns :
								   s->last_ns;

		fprintf(f, "%s%s:%llu", i ? "," : "", s->name, v);
	}
	if (!n_rows(r))
		fprintf(f, "-");
}

void client_report__print(const struct client_report *r, FILE *f)
{
	fprintf(f, "%s: sent=%lu answered=%lu lost=%lu late=%lu", mode_name(r->mode), r->sent,
		r->answered, r->sent - r->answered, r->late);
	print_sites(r, f, "sites");
	print_sites(r, f, "first_ns");
	print_sites(r, f, "last_ns");
	fprintf(f, " first_lost_ns=%llu last_lost_ns=%llu start_ns=%llu end_ns=%llu",
		(unsigned long long)r->first_lost_ns, (unsigned long long)r->last_lost_ns,
		(unsigned long long)r->start_ns, (unsigned long long)r->end_ns);
	if (r->mode == MODE_TCP_LONG)
		fprintf(f, " stayed=%s", r->long_stayed ? "yes" : "no");
	if (r->error[0])
		fprintf(f, " error=\"%s\"", r->error);
	fprintf(f, "\n");
}

int client_report__write_json(const struct client_report *r, const char *path)
{
	FILE *f = fopen(path, "w");
	unsigned int i;

	if (!f) {
		fprintf(stderr, "dt-client: --json %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "{\"mode\":\"%s\",\"sent\":%lu,\"answered\":%lu,\"lost\":%lu,\"late\":%lu,",
		mode_name(r->mode), r->sent, r->answered, r->sent - r->answered, r->late);
	fprintf(f,
		"\"start_ns\":%llu,\"end_ns\":%llu,\"first_lost_ns\":%llu,\"last_lost_ns\":%llu,",
		(unsigned long long)r->start_ns, (unsigned long long)r->end_ns,
		(unsigned long long)r->first_lost_ns, (unsigned long long)r->last_lost_ns);
	if (r->mode == MODE_TCP_LONG)
		fprintf(f, "\"stayed\":%s,", r->long_stayed ? "true" : "false");
	fprintf(f, "\"sites\":{");
	for (i = 0; i < n_rows(r); i++) {
		const struct client_site *s = row(r, i);

		fprintf(f, "%s\"%s\":{\"answers\":%lu,\"first_ns\":%llu,\"last_ns\":%llu}",
			i ? "," : "", s->name, s->answers, (unsigned long long)s->first_ns,
			(unsigned long long)s->last_ns);
	}
	fprintf(f, "}}\n");
	return fclose(f) ? -errno : 0;
}
