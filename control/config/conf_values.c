/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Value parsers shared by detourd and detour-beacon: one value into the field a row names, or a
 * report saying what was written and what form was expected. The syntax under them (tokens,
 * numbers, durations, addresses) is here too, for values that are parts of larger ones.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf_table.h"

#define FAMILY_V4 4 /* enum dt_family, which this library does not include */
#define FAMILY_V6 6

static void *field(const struct conf_key_row *k, void *base)
{
	return (char *)base + k->offset;
}

/* Through the field's own type, so that a row may land in an integer of any width. */
static void store_uint(const struct conf_key_row *k, void *base, uint64_t v)
{
	void *f = field(k, base);

	switch (k->size) {
	case 1:
		*(uint8_t *)f = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)f = (uint16_t)v;
		break;
	case 4:
		*(uint32_t *)f = (uint32_t)(v > UINT32_MAX ? UINT32_MAX : v);
		break;
	default:
		*(uint64_t *)f = v;
	}
}

int conf_token(const char **s, char *buf, size_t len)
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

int conf_decimal_u64(const char *s, uint64_t *out)
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

int conf_parse_uint(const struct conf_key_row *k, const char *text, void *base,
		    const struct conf_report *r)
{
	uint64_t v;
	int err = conf_decimal_u64(text, &v);

	if (err == -EINVAL) {
		conf_report(r, k, "\"%s\" is not a whole number", text);
		return -EINVAL;
	}
	if (err || v < k->min || v > k->max) {
		conf_report(r, k, "%s is out of range (%llu .. %llu)", text,
			    (unsigned long long)k->min, (unsigned long long)k->max);
		return -EINVAL;
	}
	store_uint(k, base, v);
	return 0;
}

/* "12", "0.5", "2.25": a whole part and up to 6 decimals, as millionths. *rest: what follows. */
static int parse_micro(const char *s, uint64_t *whole, uint64_t *micro, const char **rest)
{
	uint64_t w = 0, frac = 0;
	int digits = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (w > 1000000000000ull)
			return -ERANGE;
		w = w * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s) && digits < 6; s++, digits++)
			frac = frac * 10 + (uint64_t)(*s - '0');
		if (!digits || isdigit((unsigned char)*s))
			return -EINVAL;
		for (; digits < 6; digits++)
			frac *= 10;
	}
	*whole = w;
	*micro = frac;
	*rest = s;
	return 0;
}

static const struct {
	const char *suffix;
	uint64_t ns;
} duration_units[] = {
	{ "ns", 1 },
	{ "us", CONF_NS_PER_US },
	{ "ms", CONF_NS_PER_MS },
	{ "s", 1000000000ull },
};

static int unit_ns(const char *suffix, bool bare_ms, uint64_t *ns)
{
	*ns = CONF_NS_PER_MS;
	if (!*suffix)
		return 0;
	for (size_t i = 0; !bare_ms && i < sizeof(duration_units) / sizeof(duration_units[0]);
	     i++) {
		if (!strcmp(suffix, duration_units[i].suffix)) {
			*ns = duration_units[i].ns;
			return 0;
		}
	}
	return -EINVAL;
}

int conf_duration_ns(const char *s, bool bare_ms, uint64_t *ns)
{
	uint64_t whole, micro, unit;
	const char *rest;
	int err = parse_micro(s, &whole, &micro, &rest);

	if (err)
		return err;
	if (unit_ns(rest, bare_ms, &unit))
		return -EINVAL;
	if (whole > (UINT64_MAX - unit) / unit)
		return -ERANGE;
	*ns = whole * unit + micro * unit / 1000000;
	return 0;
}

const char *conf_fmt_ms(uint64_t ns, char buf[32])
{
	unsigned long long ms = ns / CONF_NS_PER_MS, frac = ns % CONF_NS_PER_MS;
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

static void report_bad_duration(const struct conf_key_row *k, const char *text,
				const struct conf_report *r)
{
	if (k->flags & CONF_BARE_MS)
		conf_report(r, k,
			    "\"%s\" is not a number of milliseconds (write digits, up to 6 "
			    "decimals, and no unit)",
			    text);
	else
		conf_report(r, k,
			    "\"%s\" is not a duration (a number with ns, us, ms or s; bare: ms)",
			    text);
}

int conf_parse_duration(const struct conf_key_row *k, const char *text, void *base,
			const struct conf_report *r)
{
	bool bare = k->flags & CONF_BARE_MS;
	char lo[32], hi[32];
	uint64_t ns;
	int err = conf_duration_ns(text, bare, &ns);

	if (err == -EINVAL) {
		report_bad_duration(k, text, r);
		return -EINVAL;
	}
	if (err || ns < k->min || ns > k->max) {
		conf_report(r, k, "%s%s is out of range (%s .. %s ms)", text, bare ? " ms" : "",
			    conf_fmt_ms(k->min, lo), conf_fmt_ms(k->max, hi));
		return -EINVAL;
	}
	store_uint(k, base, ns / (k->unit ? k->unit : 1));
	return 0;
}

int conf_parse_decimal(const struct conf_key_row *k, const char *text, void *base,
		       const struct conf_report *r)
{
	uint64_t whole, micro;
	const char *rest;
	int err = parse_micro(text, &whole, &micro, &rest);
	double v = (double)whole + (double)micro / 1e6;

	if (err == -EINVAL || (!err && *rest)) {
		conf_report(r, k, "\"%s\" is not a number (write digits, up to 6 decimals)", text);
		return -EINVAL;
	}
	if (err || v < (double)k->min || v > (double)k->max) {
		conf_report(r, k, "%s is out of range (%g .. %g)", text, (double)k->min,
			    (double)k->max);
		return -EINVAL;
	}
	*(double *)field(k, base) = v;
	return 0;
}

/*
 * arg names the values min .. max in order (common/dt_names.h's tables, offset to min); the value
 * stored is min + the name's index, so an enum need not start at 0.
 */
int conf_parse_enum(const struct conf_key_row *k, const char *text, void *base,
		    const struct conf_report *r)
{
	const char *const *names = k->arg;
	char list[128] = "";

	for (unsigned int i = 0; i <= k->max - k->min; i++) {
		if (!strcmp(text, names[i])) {
			store_uint(k, base, k->min + i);
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? " | " : "",
			 names[i]);
	}
	conf_report(r, k, "\"%s\" is not one of %s", text, list);
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

/* Every MAC we configure is unicast: our port's and the next hop's. */
int conf_parse_mac(const struct conf_key_row *k, const char *text, void *base,
		   const struct conf_report *r)
{
	static const uint8_t zero[6];
	uint8_t mac[6];

	if (mac_from_string(text, mac)) {
		conf_report(r, k,
			    "\"%s\" is not a MAC address (expected six hex pairs like "
			    "02:00:00:00:01:01)",
			    text);
		return -EINVAL;
	}
	if ((mac[0] & 1) || !memcmp(mac, zero, 6)) {
		conf_report(r, k, "%s is not a unicast MAC address", text);
		return -EINVAL;
	}
	memcpy(field(k, base), mac, 6);
	return 0;
}

/* Absolute, because a daemon's working directory is nobody's business. */
int conf_parse_path(const struct conf_key_row *k, const char *text, void *base,
		    const struct conf_report *r)
{
	if (text[0] != '/') {
		conf_report(r, k, "\"%s\" is not an absolute path", text);
		return -EINVAL;
	}
	if (strlen(text) >= k->size) {
		conf_report(r, k, "path longer than %zu characters", k->size - 1);
		return -EINVAL;
	}
	strcpy(field(k, base), text);
	return 0;
}

int conf_parse_string(const struct conf_key_row *k, const char *text, void *base,
		      const struct conf_report *r)
{
	if (!text[0] || strlen(text) >= k->size) {
		conf_report(r, k, "\"%s\" is empty or longer than %zu characters", text,
			    k->size - 1);
		return -EINVAL;
	}
	strcpy(field(k, base), text);
	return 0;
}

int conf_parse_path_or_dash(const struct conf_key_row *k, const char *text, void *base,
			    const struct conf_report *r)
{
	if (strcmp(text, "-"))
		return conf_parse_path(k, text, base, r);
	strcpy(field(k, base), text);
	return 0;
}

int conf_parse_ifname(const struct conf_key_row *k, const char *text, void *base,
		      const struct conf_report *r)
{
	size_t n = strlen(text);

	if (!n || n >= k->size || !strcmp(text, ".") || !strcmp(text, "..") ||
	    strpbrk(text, "/: \t")) {
		conf_report(r, k,
			    "\"%s\" is not an interface name (1 .. %zu characters, no '/' or ':')",
			    text, k->size - 1);
		return -EINVAL;
	}
	strcpy(field(k, base), text);
	return 0;
}

int conf_addr_parse(const char *s, uint8_t *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = FAMILY_V4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = FAMILY_V6;
		return 0;
	}
	return -EINVAL;
}

int conf_split_host_port(const char *s, char *host, size_t host_len, const char **port)
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
