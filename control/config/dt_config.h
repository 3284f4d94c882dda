/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * detourd's configuration file: an INI file (parsed by libinih) describing the edge router, its
 * sites and the prefixes they are home to. docs/config.md is the operator's reference.
 *
 * dt_config__load() reads and validates a file without touching the system beyond reading the
 * file, the key file and the group database. Every problem found becomes one line of
 * "FILE:LINE: what is wrong" in a struct dt_config_error; nothing is printed.
 *
 * The parsed form is canonical so that two configurations are easy to compare (SIGHUP reload):
 * sites are sorted by id, prefixes by family, address and length; times are nanoseconds,
 * addresses and MACs are bytes in network order.
 */
#ifndef DT_CONFIG_H
#define DT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "dataplane/core/detour_abi.h"
#include "failover_slots.h"
#include "hb.h"

#define DT_CONFIG_PATH_DEFAULT "/etc/detour/detour.conf"
#define DT_STATE_FILE_DEFAULT "/var/lib/detour/detourd.state"

#define DT_CONFIG_MAX_INTERFACES 16 /* client-facing ports XDP is attached to */
#define DT_CONFIG_MAX_LISTEN 8 /* heartbeat listen addresses */
#define DT_CONFIG_MAX_BEACONS 8 /* beacon ids 0 .. 7 per site (HB_MAX_BEACONS) */
#define DT_CONFIG_IFNAME_MAX 16 /* IFNAMSIZ, including the NUL */
#define DT_CONFIG_PATH_MAX 256 /* including the NUL */
#define DT_CONFIG_SOCKET_PATH_MAX 108 /* sun_path, including the NUL */
#define DT_CONFIG_GROUP_MAX 33 /* including the NUL */
#define DT_CONFIG_LISTEN_SPEC_MAX 64 /* "[v6addr]:port" as written, including the NUL */
#define DT_CONFIG_NOTIFY_WORDS_MAX 16 /* notify_command: the program and its arguments */

/* Same values as enum dt_xdp_mode in dataplane/xdp/dt_xdp.h, which needs libbpf to include. */
enum dt_config_xdp_mode {
	DT_CONFIG_XDP_NATIVE = 0,
	DT_CONFIG_XDP_GENERIC = 1,
};

/* A heartbeat listen address. addr is the unspecified address for "any". */
struct dt_config_listen {
	char spec[DT_CONFIG_LISTEN_SPEC_MAX]; /* as written: hb_socket__open() takes it */
	uint8_t family; /* enum dt_family */
	uint16_t port; /* host order */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
	unsigned int line;
};

struct dt_config_site {
	char name[DT_SITE_NAME_MAX];
	uint16_t id; /* < DT_MAX_SITES */
	uint8_t delivery; /* enum dt_delivery */
	uint8_t tunnel_family; /* enum dt_family of the outer header; DT_FAMILY_NONE for route */
	uint8_t tunnel_local_family; /* the same for tunnel_local, which the parser checks */
	uint16_t mtu;
	bool has_source_mac; /* false: the daemon uses the egress interface's own MAC */
	char interface[DT_CONFIG_IFNAME_MAX]; /* egress port toward the site */
	uint8_t next_hop_mac[6];
	uint8_t source_mac[6];
	uint8_t tunnel_local[16]; /* ipip only; network order, IPv4 in the first 4 bytes */
	uint8_t tunnel_remote[16];
	/* In the order written; dt_failover_slots__compute() takes it as is. */
	struct dt_failover_entry failover[DT_MAX_SITES - 1];
	unsigned int n_failover;
	/* Detector timers: the site's own override, or the [detour] value. */
	uint64_t interval_ns;
	uint32_t multiplier;
	uint64_t hold_down_ns;
	uint64_t recovery_timeout_ns;
	uint8_t beacons; /* the site's beacon ids, one bit each (ids 0 .. 7); default beacon 0 */
	uint8_t min_supplies; /* drain when fewer live beacons report mains: 1 .. beacons */
	/* beacon_sources in the order written; a beacon with none may send from anywhere. */
	struct hb_source sources[HB_MAX_SOURCES];
	unsigned int n_sources;
	unsigned int line; /* of the [site NAME] header */
};

/* Flap damping of the detector (docs/detector.md); penalty_per_flap 0 turns it off. */
struct dt_config_damping {
	uint32_t penalty_per_flap;
	uint32_t suppress_threshold;
	uint32_t reuse_threshold;
	uint64_t half_life_ns;
	uint64_t max_hold_down_ns;
};

struct dt_config_prefix {
	uint8_t family; /* enum dt_family */
	uint8_t len; /* prefix length in bits */
	uint16_t home_site; /* site id */
	uint16_t flags; /* DT_PREFIX_F_* */
	uint8_t addr[16]; /* network order, host bits zero; IPv4 in the first 4 bytes */
	unsigned int line;
};

struct dt_config {
	char source[DT_CONFIG_PATH_MAX]; /* file name used in messages */
	char interfaces[DT_CONFIG_MAX_INTERFACES][DT_CONFIG_IFNAME_MAX];
	unsigned int n_interfaces;
	enum dt_config_xdp_mode xdp_mode;
	struct dt_config_listen listen[DT_CONFIG_MAX_LISTEN];
	unsigned int n_listen;
	/* Where /metrics is served (docs/metrics.md); family DT_FAMILY_NONE (0): not served. */
	struct dt_config_listen metrics_listen;
	char key_file[DT_CONFIG_PATH_MAX];
	uint64_t interval_ns;
	uint32_t multiplier;
	uint64_t hold_down_ns;
	uint64_t recovery_timeout_ns;
	uint64_t flow_idle_ns; /* a moved flow idle this long no longer pins a recovering site */
	uint64_t blackout_hold_ns; /* the detector's blackout guard; 0: off (docs/detector.md) */
	double phi_threshold; /* adaptive detection (phi-accrual); 0: interval x multiplier */
	uint64_t max_skew_ns; /* refuse heartbeats whose clock is this far from ours; 0: off */
	struct dt_config_damping damping;
	uint32_t flow_table_size;
	uint64_t hash_seed; /* the failover-slot seed: the same on every edge */
	char control_socket[DT_CONFIG_SOCKET_PATH_MAX];
	char control_group[DT_CONFIG_GROUP_MAX]; /* empty: root only */
	gid_t control_gid; /* valid if control_group is set */
	char user[DT_CONFIG_GROUP_MAX]; /* run as this user after start-up; empty: stay root */
	uid_t user_uid; /* valid if user is set */
	gid_t user_gid; /* its primary group */
	uint64_t control_idle_ns; /* idle control connections are closed after this */
	char pin_root[DT_CONFIG_PATH_MAX];
	char event_log[DT_CONFIG_PATH_MAX]; /* "-" for stdout */
	char state_file[DT_CONFIG_PATH_MAX];
	char notify_command[DT_CONFIG_PATH_MAX]; /* run on every transition; empty: none */
	uint64_t notify_timeout_ns; /* a hook still running after this is killed */
	struct dt_config_site sites[DT_MAX_SITES]; /* sorted by id */
	unsigned int n_sites;
	struct dt_config_prefix *prefixes; /* sorted by family, address, length */
	unsigned int n_prefixes;
};

/* ---- Errors --------------------------------------------------------------------------------- */

#define DT_CONFIG_MAX_ERRORS 20
#define DT_CONFIG_ERROR_MAX 320

struct dt_config_error_item {
	unsigned int line; /* 0: about the file as a whole */
	char msg[DT_CONFIG_ERROR_MAX]; /* "FILE:LINE: what is wrong", no newline */
};

struct dt_config_error {
	unsigned int count; /* items filled, at most DT_CONFIG_MAX_ERRORS, sorted by line */
	unsigned int total; /* errors found; more than count when some were left out */
	struct dt_config_error_item item[DT_CONFIG_MAX_ERRORS];
};

/* One line per error, and a last line saying how many were left out, if any. */
void dt_config_error__print(const struct dt_config_error *err, FILE *f);

/* ---- Loading -------------------------------------------------------------------------------- */

/* dt_config__parse_string() flags */
#define DT_CONFIG_F_SKIP_KEYS (1u << 0) /* do not open the key file (tests, offline checks) */

/*
 * Read, parse and validate @path. On success *out is a new configuration (dt_config__free() it)
 * and 0 is returned. Otherwise *out is untouched, @err (may be NULL) holds the messages and the
 * return is -EINVAL (the file is wrong), -errno (it could not be read) or -ENOMEM.
 */
int dt_config__load(const char *path, struct dt_config **out, struct dt_config_error *err);

/* The same for a configuration held in memory; @source names it in messages. */
int dt_config__parse_string(const char *text, const char *source, unsigned int flags,
			    struct dt_config **out, struct dt_config_error *err);

void dt_config__free(struct dt_config *cfg);

/*
 * Whether a running detourd may take @new in place of @old on SIGHUP: NULL if it may, else the
 * first restart-only key (docs/config.md, "Reloading") that differs, as a reload refusal names
 * it: "the set of sites", "a site's detector timers", or the key ("flow_idle_ms").
 */
const char *dt_config__reload_blocker(const struct dt_config *old, const struct dt_config *new);

/*
 * The policy fingerprint (config_fingerprint.c, docs/metrics.md): 32 hex digits of a hash of the
 * hash seed, the sites' ids and failover lists and the prefixes, equal on every edge whose
 * traffic decisions are the same.
 */
#define DT_POLICY_FINGERPRINT_LEN 32
void dt_config__policy_fingerprint(const struct dt_config *cfg,
				   char out[DT_POLICY_FINGERPRINT_LEN + 1]);

/* Lookups; NULL when there is no such site. */
const struct dt_config_site *dt_config__site_by_id(const struct dt_config *cfg, uint16_t id);
const struct dt_config_site *dt_config__site_by_name(const struct dt_config *cfg, const char *name);

/*
 * The prefix table stays sorted by family, address and length (the order dt_config__load()
 * gives), so lookups are binary searches and two tables compare by a merge.
 */
int dt_config_prefix__cmp(const void *a, const void *b);
/* The entry with the same family, address and length as @p; NULL if none. */
struct dt_config_prefix *dt_config__find_prefix(const struct dt_config *cfg,
						const struct dt_config_prefix *p);
/*
 * Whether @p may be added as the file's rules say: -EEXIST when it overlaps a prefix of another
 * home, -ENOSPC past the per-family limit, with a message in @err; 0 (also to re-home @p itself).
 */
int dt_config__check_new_prefix(const struct dt_config *cfg, const struct dt_config_prefix *p,
				char *err, size_t len);
/* Add @p, or replace the entry for the same prefix; 0 or -ENOMEM. */
int dt_config__put_prefix(struct dt_config *cfg, const struct dt_config_prefix *p);
/* Remove the entry for @p's prefix; 0 or -ENOENT. */
int dt_config__remove_prefix(struct dt_config *cfg, const struct dt_config_prefix *p);

#endif /* DT_CONFIG_H */
