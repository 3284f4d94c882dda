/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pass 2 helpers of detourd's own: where a value parser's report goes, and the values that are
 * more than one row's worth (prefixes, listen addresses). The shared parsers are conf_values.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "config_internal.h"
#include "hb.h"

static void where_report(void *user, const struct conf_key_row *key, const char *why)
{
	struct cfg_where *w = user;

	cfg_error(w->p, w->line, "%s%s: %s", w->ctx, key->name, why);
}

void cfg_where__init(struct cfg_where *w, struct cfg_parser *p, unsigned int line, const char *ctx)
{
	*w = (struct cfg_where){ { where_report, w }, p, line, ctx, 0 };
}

/* A number that is part of a larger value (a failover weight), checked as a row would be. */
int cfg_parse_u64(struct cfg_parser *p, const struct cfg_raw *rv, const char *what, uint64_t min,
		  uint64_t max, uint64_t *out)
{
	const struct conf_key_row k = { .name = what, .size = sizeof(*out), .min = min, .max = max };
	struct cfg_where w;

	cfg_where__init(&w, p, rv->line, "");
	return conf_parse_uint(&k, rv->text, out, &w.report);
}

static unsigned int family_bits(uint8_t family)
{
	return family == DT_FAMILY_V4 ? 32 : 128;
}

static bool host_bits_clear(uint8_t addr[16], unsigned int len, unsigned int bits)
{
	bool clear = true;

	for (unsigned int b = len; b < bits; b++) {
		uint8_t mask = (uint8_t)(0x80 >> (b % 8));

		clear &= !(addr[b / 8] & mask);
		addr[b / 8] &= (uint8_t)~mask;
	}
	return clear;
}

static void addr_to_string(uint8_t family, const uint8_t addr[16], char *buf, size_t len)
{
	inet_ntop(family == DT_FAMILY_V4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)len);
}

/*
 * Host bits set are an error, not silently cleared: "198.18.10.1/24" may as well have been meant
 * as "198.18.10.1/32", and only the operator knows which.
 */
int cfg_parse_prefix(struct cfg_parser *p, unsigned int line, const char *s,
		     struct dt_config_prefix *out)
{
	char addr[64], text[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	uint64_t len;

	memset(out, 0, sizeof(*out));
	out->line = line;
	if (!slash || (size_t)(slash - s) >= sizeof(addr)) {
		cfg_error(p, line, "prefix \"%s\": expected ADDRESS/LENGTH", s);
		return -EINVAL;
	}
	snprintf(addr, sizeof(addr), "%.*s", (int)(slash - s), s);
	if (conf_addr_parse(addr, &out->family, out->addr)) {
		cfg_error(p, line, "prefix \"%s\": \"%s\" is not an IPv4 or IPv6 address", s, addr);
		return -EINVAL;
	}
	if (conf_decimal_u64(slash + 1, &len) || len > family_bits(out->family)) {
		cfg_error(p, line, "prefix \"%s\": length must be 0 .. %u", s,
			  family_bits(out->family));
		return -EINVAL;
	}
	out->len = (uint8_t)len;
	if (!host_bits_clear(out->addr, out->len, family_bits(out->family))) {
		addr_to_string(out->family, out->addr, text, sizeof(text));
		cfg_error(p, line, "prefix \"%s\" has host bits set (did you mean %s/%u?)", s, text,
			  out->len);
		return -EINVAL;
	}
	return 0;
}

/* "ADDRESS[/LENGTH]"; no length: the whole address. 0, -EINVAL (address) or -ERANGE (length). */
static int net_split(const char *s, struct hb_ip *ip, uint64_t *len)
{
	const char *slash = strchr(s, '/');
	char addr[64];

	if ((slash ? (size_t)(slash - s) : strlen(s)) >= sizeof(addr))
		return -EINVAL;
	snprintf(addr, sizeof(addr), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
	if (conf_addr_parse(addr, &ip->family, ip->addr))
		return -EINVAL;
	*len = family_bits(ip->family);
	return slash && conf_decimal_u64(slash + 1, len) ? -ERANGE : 0;
}

int cfg_parse_net(const struct conf_key_row *k, const char *s, struct hb_source *out,
		  const struct conf_report *r)
{
	char text[INET6_ADDRSTRLEN];
	uint64_t len;
	int err = net_split(s, &out->net, &len);

	if (err == -EINVAL) {
		conf_report(r, k, "\"%s\" is not an IPv4 or IPv6 address or prefix", s);
		return err;
	}
	if (err || len > family_bits(out->net.family)) {
		conf_report(r, k, "\"%s\": the prefix length must be 0 .. %u", s,
			    family_bits(out->net.family));
		return -EINVAL;
	}
	out->len = (uint8_t)len;
	if (!host_bits_clear(out->net.addr, out->len, family_bits(out->net.family))) {
		addr_to_string(out->net.family, out->net.addr, text, sizeof(text));
		conf_report(r, k, "\"%s\" has host bits set (did you mean %s/%u?)", s, text,
			    out->len);
		return -EINVAL;
	}
	return 0;
}

int cfg_parse_listen(struct cfg_parser *p, unsigned int line, const char *s,
		     struct dt_config_listen *out)
{
	char host[64];
	const char *port;
	uint64_t v = HB_DEFAULT_PORT;

	memset(out, 0, sizeof(*out));
	out->line = line;
	if (strlen(s) >= sizeof(out->spec) || conf_split_host_port(s, host, sizeof(host), &port) ||
	    conf_addr_parse(host, &out->family, out->addr)) {
		cfg_error(p, line,
			  "heartbeat_listen: \"%s\" is not ADDRESS, ADDRESS:PORT or [IPv6]:PORT "
			  "(numeric addresses only)",
			  s);
		return -EINVAL;
	}
	if (port && (conf_decimal_u64(port, &v) || v == 0 || v > 65535)) {
		cfg_error(p, line, "heartbeat_listen: \"%s\": port must be 1 .. 65535", s);
		return -EINVAL;
	}
	strcpy(out->spec, s);
	out->port = (uint16_t)v;
	return 0;
}
