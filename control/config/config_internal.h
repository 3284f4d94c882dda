/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the configuration parser. Parsing runs in three passes:
 *   1. lexing (config_lex.c): libinih splits the file, our line reader counts lines and tracks
 *      sections, and every value is stored raw with its line number;
 *   2. building (config_build.c): each raw value is parsed into struct dt_config;
 *   3. checking (config_check.c): rules that involve more than one value.
 * Each pass reports as many errors as it can, so one run shows the operator most of them.
 */
#ifndef DT_CONFIG_INTERNAL_H
#define DT_CONFIG_INTERNAL_H

#include "dt_config.h"

enum cfg_section {
	SEC_NONE = 0, /* before the first header */
	SEC_DETOUR,
	SEC_SITE,
	SEC_PREFIXES,
	SEC_UNKNOWN, /* already reported: its keys are skipped */
};

enum cfg_global_key {
	GK_INTERFACES,
	GK_XDP_MODE,
	GK_HEARTBEAT_LISTEN,
	GK_KEY_FILE,
	GK_INTERVAL_MS,
	GK_MULTIPLIER,
	GK_HOLD_DOWN_MS,
	GK_RECOVERY_TIMEOUT_MS,
	GK_FLOW_IDLE_MS,
	GK_FLOW_TABLE_SIZE,
	GK_HASH_SEED,
	GK_CONTROL_SOCKET,
	GK_CONTROL_GROUP,
	GK_PIN_ROOT,
	GK_EVENT_LOG,
	GK_BLACKOUT_HOLD_MS,
	GK_PHI_THRESHOLD,
	GK_MAX,
};

enum cfg_site_key {
	SK_ID,
	SK_DELIVERY,
	SK_INTERFACE,
	SK_NEXT_HOP_MAC,
	SK_SOURCE_MAC,
	SK_MTU,
	SK_TUNNEL_REMOTE,
	SK_TUNNEL_LOCAL,
	SK_FAILOVER,
	SK_INTERVAL_MS,
	SK_MULTIPLIER,
	SK_HOLD_DOWN_MS,
	SK_RECOVERY_TIMEOUT_MS,
	SK_MAX,
};

struct cfg_key_desc {
	const char *name;
	bool list; /* may continue on indented lines */
};

extern const struct cfg_key_desc cfg_global_keys[GK_MAX];
extern const struct cfg_key_desc cfg_site_keys[SK_MAX];

/* A value as written (inline comment stripped), and where. text == NULL: absent. */
struct cfg_raw {
	char *text;
	unsigned int line;
};

struct cfg_raw_site {
	char name[DT_SITE_NAME_MAX];
	unsigned int line;
	struct cfg_raw key[SK_MAX];
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
	struct cfg_raw global[GK_MAX];
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

/* config_values.c: each returns 0, or -EINVAL after reporting at @line */
int cfg_token(const char **s, char *buf, size_t len);
int cfg_parse_u64(struct cfg_parser *p, const struct cfg_raw *rv, const char *what, uint64_t min,
		  uint64_t max, uint64_t *out);
int cfg_parse_ms(struct cfg_parser *p, const struct cfg_raw *rv, const char *what, uint64_t min_ns,
		 uint64_t max_ns, uint64_t *out_ns);
int cfg_parse_decimal(struct cfg_parser *p, const struct cfg_raw *rv, const char *what, double min,
		      double max, double *out);
int cfg_parse_enum(struct cfg_parser *p, const struct cfg_raw *rv, const char *what,
		   const char *const names[], unsigned int n, unsigned int *out);
int cfg_parse_mac(struct cfg_parser *p, const struct cfg_raw *rv, const char *what, uint8_t mac[6]);
int cfg_parse_addr(const char *s, uint8_t *family, uint8_t addr[16]);
int cfg_parse_prefix(struct cfg_parser *p, unsigned int line, const char *s,
		     struct dt_config_prefix *out);
int cfg_parse_listen(struct cfg_parser *p, unsigned int line, const char *s,
		     struct dt_config_listen *out);
int cfg_check_ifname(struct cfg_parser *p, unsigned int line, const char *what, const char *s);
int cfg_copy_path(struct cfg_parser *p, const struct cfg_raw *rv, const char *what, char *dst,
		  size_t len);
const char *cfg_fmt_ms(uint64_t ns, char buf[32]);

/* config_build.c */
void cfg_build(struct cfg_parser *p);

/* config_check.c */
void cfg_check_failover(struct cfg_parser *p, unsigned int i);
void cfg_check_prefixes(struct cfg_parser *p);
void cfg_check_keys(struct cfg_parser *p);

#endif /* DT_CONFIG_INTERNAL_H */
