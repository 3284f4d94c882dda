/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the configuration parser. Parsing runs in three passes:
 *   1. lexing (config_lex.c): libinih splits the file, our line reader counts lines and tracks
 *      sections, and every value is stored raw with its line number;
 *   2. building (config_build.c): each raw value goes through its row's parser in the key table
 *      (config_keys.c) into struct dt_config, then the rules that tie keys together;
 *   3. checking (config_check.c): prefixes and the key file, which involve every site.
 * Each pass reports as many errors as it can, so one run shows the operator most of them.
 */
#ifndef DT_CONFIG_INTERNAL_H
#define DT_CONFIG_INTERNAL_H

#include "conf_table.h"
#include "dt_config.h"

enum cfg_section {
	SEC_NONE = 0, /* before the first header */
	SEC_DETOUR,
	SEC_SITE,
	SEC_PREFIXES,
	SEC_UNKNOWN, /* already reported: its keys are skipped */
};

/*
 * The key table (config_keys.c): one row per key of [detour] and [site NAME]; a row's sections
 * are bits (1u << enum cfg_section). Raw values are kept in arrays indexed by row.
 */
#define CFG_MAX_KEYS 48
extern const struct conf_table cfg_keys;

/* Row flag: the value names other sites, so it is read once every site is. */
#define CFG_REFERS (1u << 8)

/* The row index of @name in @section, for the rules that read one key's raw value. */
unsigned int cfg_key(enum cfg_section section, const char *name);

/* A value as written (inline comment stripped), and where. text == NULL: absent. */
struct cfg_raw {
	char *text;
	unsigned int line;
};

struct cfg_raw_site {
	char name[DT_SITE_NAME_MAX];
	unsigned int line;
	struct cfg_raw key[CFG_MAX_KEYS];
	bool id_valid; /* set by the build pass */
};

struct cfg_msg {
	unsigned int line;
	unsigned int seq; /* keeps messages of one line in the order found */
	char text[DT_CONFIG_ERROR_MAX];
};

#define CFG_MAX_KEPT_ERRORS 1000 /* beyond this, errors are only counted */
#define CFG_MAX_PREFIX_LINES (2 * DT_MAX_PREFIXES_DEFAULT)

struct cfg_parser {
	const char *source;
	unsigned int flags;
	/* the line reader */
	const char *pos, *end;
	unsigned int lineno;
	bool at_start; /* a UTF-8 byte-order mark is allowed here */
	/* what inih does with the line being handled, mirrored */
	enum cfg_section section;
	bool key_seen; /* inih's prev_name: an indented line continues the last key */
	bool continuation;
	struct cfg_raw *last_raw; /* the value a continuation appends to */
	const char *last_key;
	bool last_list;
	unsigned int detour_line, prefixes_line; /* section headers, 0 if absent */
	/* raw values */
	struct cfg_raw global[CFG_MAX_KEYS];
	struct cfg_raw_site *site; /* DT_MAX_SITES of them */
	unsigned int n_sites;
	struct cfg_raw *prefix;
	unsigned int n_prefixes, cap_prefixes;
	/* errors */
	struct cfg_msg *msg;
	unsigned int n_msgs, n_errors;
	bool oom;
	/* the result being built */
	struct dt_config *cfg;
};

/* config_error.c */
void cfg_error(struct cfg_parser *p, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cfg_errors__export(struct cfg_parser *p, struct dt_config_error *err);

/* config_lex.c */
int cfg_lex(struct cfg_parser *p, const char *text, size_t len);
void cfg_parser__release(struct cfg_parser *p);

/*
 * A value parser's report, as "FILE:LINE: CTX KEY: why": CTX is "" in [detour] and
 * "site \"NAME\": " in a site. The daemon's own parsers find the parser in it.
 */
struct cfg_where {
	struct conf_report report; /* first: a parser gets &where->report */
	struct cfg_parser *p;
	unsigned int line;
	const char *ctx;
	unsigned int site; /* in a site section: its index */
};

void cfg_where__init(struct cfg_where *w, struct cfg_parser *p, unsigned int line, const char *ctx);
static inline struct cfg_where *cfg_where_of(const struct conf_report *r)
{
	return (struct cfg_where *)r;
}

/* config_values.c: each returns 0, or -EINVAL after reporting at @line */
int cfg_parse_u64(struct cfg_parser *p, const struct cfg_raw *rv, const char *what, uint64_t min,
		  uint64_t max, uint64_t *out);
int cfg_parse_prefix(struct cfg_parser *p, unsigned int line, const char *s,
		     struct dt_config_prefix *out);
int cfg_parse_listen(struct cfg_parser *p, unsigned int line, const char *s,
		     struct dt_config_listen *out);
/* "ADDRESS" or "ADDRESS/LENGTH", host bits zero, into out's net and len; reported as key k. */
int cfg_parse_net(const struct conf_key_row *k, const char *s, struct hb_source *out,
		  const struct conf_report *r);

/* config_build.c */
void cfg_build(struct cfg_parser *p);

/* config_check.c */
conf_parse_fn cfg_parse_failover;
void cfg_check_prefixes(struct cfg_parser *p);
void cfg_check_keys(struct cfg_parser *p);

/* Prefix helpers of config_check.c, shared with the control socket's checks (dt_config.c). */
bool cfg_prefix_contains(const struct dt_config_prefix *outer,
			 const struct dt_config_prefix *inner);
const char *cfg_prefix_str(const struct dt_config_prefix *x, char *buf, size_t len);

#endif /* DT_CONFIG_INTERNAL_H */
