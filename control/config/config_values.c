/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pass 2 helpers: one value into its parsed form, or an error naming the key, the value and the
 * form that was expected. @what is the key as the operator should read it ("interval_ms",
 * "site \"pangyo\": mtu").
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "hb.h"

/* The next whitespace-separated token: its length, 0 at the end, -1 if it does not fit. */
int cfg_token(const char **s, char *buf, size_t len)
{
	const char *t = *s;
	size_t n = 0;

	while (isspace((unsigned char)*t))
		t++;
	while (t[n] && !isspace((unsigned char)t[n]))
		n++;
	*s = t + n;
	if (n >= len) {
		snprintf(buf, len, "%.*s", (int)len - 1, t);
		return -1;
	}
	memcpy(buf, t, n);
	buf[n] = '\0';
	return (int)n;
}

/* Decimal digits only: no sign, no octal surprises, no trailing junk. */
static int parse_decimal(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return *s ? -EINVAL : 0;
}

int cfg_parse_u64(struct cfg_parser *p, const struct cfg_raw *rv, const char *what, uint64_t min,
		  uint64_t max, uint64_t *out)
{
	uint64_t v;
	int err = parse_decimal(rv->text, &v);

	if (err == -EINVAL) {
		cfg_error(p, rv->line, "%s: \"%s\" is not a whole number", what, rv->text);
		return -EINVAL;
	}
	if (err || v < min || v > max) {
		cfg_error(p, rv->line, "%s: %s is out of range (%llu .. %llu)", what, rv->text,
			  (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

const char *cfg_fmt_ms(uint64_t ns, char buf[32])
{
	unsigned long long ms = ns / 1000000, frac = ns % 1000000;
	int n = 6;

	if (!frac) {
		snprintf(buf, 32, "%llu", ms);
		return buf;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		n--;
	}
	snprintf(buf, 32, "%llu.%0*llu", ms, n, frac);
	return buf;
}

/* "12", "0.5", "2.25": milliseconds with up to 6 decimals, i.e. nanosecond resolution. */
static int ms_to_ns(const char *s, uint64_t *ns)
{
	uint64_t ms = 0, frac = 0;
	int digits = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (ms > 1000000000ull)
			return -ERANGE;
		ms = ms * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s) && digits < 6; s++, digits++)
			frac = frac * 10 + (uint64_t)(*s - '0');
		if (!digits || isdigit((unsigned char)*s))
			return -EINVAL;
		for (; digits < 6; digits++)
			frac *= 10;
	}
	*ns = ms * 1000000 + frac;
	return *s ? -EINVAL : 0;
}

int cfg_parse_ms(struct cfg_parser *p, const struct cfg_raw *rv, const char *what, uint64_t min_ns,
		 uint64_t max_ns, uint64_t *out_ns)
{
	char lo[32], hi[32];
	uint64_t ns;
	int err = ms_to_ns(rv->text, &ns);

	if (err == -EINVAL) {
		cfg_error(p, rv->line,
			  "%s: \"%s\" is not a number of milliseconds (write digits, up to 6 "
			  "decimals, and no unit)",
			  what, rv->text);
		return -EINVAL;
	}
	if (err || ns < min_ns || ns > max_ns) {
		cfg_error(p, rv->line, "%s: %s ms is out of range (%s .. %s ms)", what, rv->text,
			  cfg_fmt_ms(min_ns, lo), cfg_fmt_ms(max_ns, hi));
		return -EINVAL;
	}
	*out_ns = ns;
	return 0;
}

int cfg_parse_decimal(struct cfg_parser *p, const struct cfg_raw *rv, const char *what, double min,
		      double max, double *out)
{
	uint64_t micro;
	int err = ms_to_ns(rv->text, &micro); /* the same syntax: digits, up to 6 decimals */
	double v = (double)micro / 1e6;

	if (err == -EINVAL) {
		cfg_error(p, rv->line,
			  "%s: \"%s\" is not a number (write digits, up to 6 decimals)", what,
			  rv->text);
		return -EINVAL;
	}
	if (err || v < min || v > max) {
		cfg_error(p, rv->line, "%s: %s is out of range (%g .. %g)", what, rv->text, min,
			  max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int cfg_parse_enum(struct cfg_parser *p, const struct cfg_raw *rv, const char *what,
		   const char *const names[], unsigned int n, unsigned int *out)
{
	char list[128] = "";

	for (unsigned int i = 0; i < n; i++) {
		if (!strcmp(rv->text, names[i])) {
			*out = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? " | " : "",
			 names[i]);
	}
	cfg_error(p, rv->line, "%s: \"%s\" is not one of %s", what, rv->text, list);
	return -EINVAL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int mac_from_string(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++, s += 3) {
		int hi = hex_digit(s[0]), lo = hex_digit(s[1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Both MACs we configure are unicast: our port's and the next hop's. */
int cfg_parse_mac(struct cfg_parser *p, const struct cfg_raw *rv, const char *what, uint8_t mac[6])
{
	static const uint8_t zero[6];

	if (mac_from_string(rv->text, mac)) {
		cfg_error(p, rv->line,
			  "%s: \"%s\" is not a MAC address (expected six hex pairs like "
			  "02:00:00:00:01:01)",
			  what, rv->text);
		return -EINVAL;
	}
	if ((mac[0] & 1) || !memcmp(mac, zero, 6)) {
		cfg_error(p, rv->line, "%s: %s is not a unicast MAC address", what, rv->text);
		return -EINVAL;
	}
	return 0;
}

int cfg_parse_addr(const char *s, uint8_t *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = DT_FAMILY_V4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = DT_FAMILY_V6;
		return 0;
	}
	return -EINVAL;
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
	if (cfg_parse_addr(addr, &out->family, out->addr)) {
		cfg_error(p, line, "prefix \"%s\": \"%s\" is not an IPv4 or IPv6 address", s, addr);
		return -EINVAL;
	}
	if (parse_decimal(slash + 1, &len) || len > family_bits(out->family)) {
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

/* "ADDR", "ADDR:PORT" (IPv4), "[ADDR]", "[ADDR]:PORT", or a bare IPv6 address (no port). */
static int split_listen(const char *s, char *host, size_t host_len, const char **port)
{
	const char *colon = strchr(s, ':');
	size_t n = strlen(s);

	*port = NULL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		s++;
		n = (size_t)(close - s);
		*port = close[1] ? close + 2 : NULL;
	} else if (colon && colon == strrchr(s, ':')) {
		n = (size_t)(colon - s);
		*port = colon + 1;
	}
	if (n >= host_len)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
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
	if (strlen(s) >= sizeof(out->spec) || split_listen(s, host, sizeof(host), &port) ||
	    cfg_parse_addr(host, &out->family, out->addr)) {
		cfg_error(p, line,
			  "heartbeat_listen: \"%s\" is not ADDRESS, ADDRESS:PORT or [IPv6]:PORT "
			  "(numeric addresses only)",
			  s);
		return -EINVAL;
	}
	if (port && (parse_decimal(port, &v) || v == 0 || v > 65535)) {
		cfg_error(p, line, "heartbeat_listen: \"%s\": port must be 1 .. 65535", s);
		return -EINVAL;
	}
	strcpy(out->spec, s);
	out->port = (uint16_t)v;
	return 0;
}

/* The kernel's dev_valid_name(). */
int cfg_check_ifname(struct cfg_parser *p, unsigned int line, const char *what, const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= DT_CONFIG_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, "..") ||
	    strpbrk(s, "/: \t")) {
		cfg_error(p, line,
			  "%s: \"%s\" is not an interface name (1 .. %d characters, no '/' "
			  "or ':')",
			  what, s, DT_CONFIG_IFNAME_MAX - 1);
		return -EINVAL;
	}
	return 0;
}

/* Absolute, because a daemon's working directory is nobody's business. */
int cfg_copy_path(struct cfg_parser *p, const struct cfg_raw *rv, const char *what, char *dst,
		  size_t len)
{
	if (rv->text[0] != '/') {
		cfg_error(p, rv->line, "%s: \"%s\" is not an absolute path", what, rv->text);
		return -EINVAL;
	}
	if (strlen(rv->text) >= len) {
		cfg_error(p, rv->line, "%s: path longer than %zu characters", what, len - 1);
		return -EINVAL;
	}
	strcpy(dst, rv->text);
	return 0;
}
