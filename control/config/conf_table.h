/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Configuration keys as rows of a table, in the style of systemd's conf-parser: each row names a
 * key, the sections it may appear in, the parser that reads its value, the bounds, where the
 * value lands (an offset into the program's configuration struct), its default, and whether a
 * running program may take a new value on reload. Lookup, "did you mean" suggestions, defaults
 * and the reload rule are all derived from the table, so a key is one row plus its consumer.
 *
 * This part knows nothing of detourd or the beacon: both link it (library conf, libc only).
 */
#ifndef DT_CONF_TABLE_H
#define DT_CONF_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_NS_PER_MS 1000000ull
#define CONF_NS_PER_US 1000ull
#define CONF_WHY_MAX 256

/* Row flags. */
#define CONF_LIST (1u << 0) /* whitespace-separated; may continue on indented lines */
#define CONF_REQUIRED (1u << 1) /* a section without it is an error */
#define CONF_RESTART (1u << 2) /* a reload that changes it is refused */
#define CONF_BARE_MS (1u << 3) /* a duration whose unit is in the key's name: no suffix */

struct conf_key_row;

/* Where a parser reports what is wrong with a value. @why has no location and no key name. */
struct conf_report {
	void (*fn)(void *user, const struct conf_key_row *key, const char *why);
	void *user;
};

typedef int conf_parse_fn(const struct conf_key_row *key, const char *text, void *base,
			  const struct conf_report *r);
/* Whether two configurations hold the same value for @key; NULL in a row: compare the bytes. */
typedef bool conf_same_fn(const struct conf_key_row *key, const void *a, const void *b);

struct conf_key_row {
	const char *name;
	unsigned int sections; /* bit mask of the program's own section numbers */
	conf_parse_fn *parse;
	size_t offset, size; /* of the field the value lands in */
	uint64_t min, max; /* integers: the value; durations: nanoseconds */
	uint64_t unit; /* durations: nanoseconds per unit of the field (1: the field holds ns) */
	const char *def; /* parsed before the file's value; NULL: zero or set by the program */
	unsigned int flags; /* CONF_* */
	const char *label; /* how a reload refusal names it; NULL: by its name */
	const void *arg; /* parser-specific: enum names */
	conf_same_fn *same;
};

/* A field's span, for a row: CONF_FIELD(struct dt_config, pin_root). */
#define CONF_FIELD(type, member) \
	.offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

struct conf_table {
	const struct conf_key_row *rows;
	size_t n;
};

void conf_report(const struct conf_report *r, const struct conf_key_row *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The row for @name in @section; NULL if there is none. */
const struct conf_key_row *conf_table__find(const struct conf_table *t, unsigned int section,
					    const char *name);
/* The key of @section that @name is most likely a misspelling of; NULL if none is close. */
const char *conf_table__suggest(const struct conf_table *t, unsigned int section, const char *name);
/* Parse every default of @section into @base. 0, or the first parser's error. */
int conf_table__defaults(const struct conf_table *t, unsigned int section, void *base,
			 const struct conf_report *r);
/* The first restart-only key of @section whose value differs between @a and @b; NULL if none. */
const struct conf_key_row *conf_table__first_restart(const struct conf_table *t,
						     unsigned int section, const void *a,
						     const void *b);
/* How a reload refusal names @key. */
const char *conf_key__label(const struct conf_key_row *key);

/* ---- Value parsers: conf_parse_fn for a row, each reporting through @r -------------------- */

conf_parse_fn conf_parse_uint; /* decimal, min .. max, stored in a field of 1, 2, 4 or 8 bytes */
conf_parse_fn conf_parse_duration; /* see conf_duration_ns(); stored as ns / unit */
conf_parse_fn conf_parse_decimal; /* up to 6 decimals, min .. max, a double */
conf_parse_fn conf_parse_enum; /* one of arg's names for min .. max, an unsigned int */
conf_parse_fn conf_parse_mac; /* a unicast MAC, 6 bytes */
conf_parse_fn conf_parse_path; /* absolute, shorter than the field */
conf_parse_fn conf_parse_path_or_dash; /* the same, or "-" */
conf_parse_fn conf_parse_string; /* not empty, shorter than the field */
conf_parse_fn conf_parse_ifname; /* the kernel's dev_valid_name() */

/* ---- The syntax under the parsers --------------------------------------------------------- */

/* The next whitespace-separated token: its length, 0 at the end, -1 if it does not fit. */
int conf_token(const char **s, char *buf, size_t len);
/* Decimal digits only: no sign, no octal surprises, no trailing junk. 0, -EINVAL or -ERANGE. */
int conf_decimal_u64(const char *s, uint64_t *out);
/*
 * A duration: a number of up to 6 decimals, then a unit (ns, us, ms or s) or none, meaning
 * milliseconds: "5", "2.5", "5ms", "500us", "1s", "1.5ms". With @bare_ms the unit must be
 * absent (the key's name carries it, e.g. interval_ms). 0, -EINVAL or -ERANGE.
 */
int conf_duration_ns(const char *s, bool bare_ms, uint64_t *ns);
/* Nanoseconds as milliseconds with only the decimals needed: "2.5". */
const char *conf_fmt_ms(uint64_t ns, char buf[32]);
/* A numeric IPv4 or IPv6 address into 16 bytes; family is DT_FAMILY_V4 or _V6 (4 or 6). */
int conf_addr_parse(const char *s, uint8_t *family, uint8_t addr[16]);
/* "HOST", "HOST:PORT", "[V6ADDR]", "[V6ADDR]:PORT" or a bare IPv6 address; *port if given. */
int conf_split_host_port(const char *s, char *host, size_t host_len, const char **port);

#endif /* DT_CONF_TABLE_H */
