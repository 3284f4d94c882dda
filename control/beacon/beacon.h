/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * detour-beacon: sends a site's heartbeats, carrying its power state, to every edge router.
 * Two threads: the heartbeat thread keeps an absolute schedule and only reads the latest power
 * flags from an atomic; the power thread asks the UPS (upsd), a status file or a command, each
 * with its own interval and timeout, so a slow UPS can never delay a heartbeat.
 */
#ifndef DT_BEACON_H
#define DT_BEACON_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "conf_table.h"
#include "dt_log.h"
#include "hb.h"
#include "hb_socket.h"

#define BEACON_MAX_TARGETS 16
#define BEACON_INTERVAL_DEFAULT_US 5000u
#define BEACON_INTERVAL_MIN_US 1000u
#define BEACON_POLL_DEFAULT_MS 500u
#define BEACON_POLL_TIMEOUT_DEFAULT_MS 400u
#define NUT_DEFAULT_PORT 3493

enum power_source {
	POWER_SOURCE_NONE = 0, /* no power reading: every heartbeat says UNKNOWN */
	POWER_SOURCE_UPS,
	POWER_SOURCE_FILE,
	POWER_SOURCE_COMMAND,
};

struct beacon_target {
	char spec[272];
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

struct beacon_config {
	char config_path[PATH_MAX];
	int site_id; /* -1 until set */
	int beacon_id; /* which of the site's beacons this is, 0 .. HB_MAX_BEACONS - 1 */
	int key_id; /* -1: the site's only key in the key file */
	char key_file[PATH_MAX];
	char epoch_file[PATH_MAX]; /* "": the epoch is the realtime clock alone */
	uint32_t interval_us;
	int64_t jitter_us; /* -1: a tenth of the interval */
	struct beacon_target targets[BEACON_MAX_TARGETS];
	unsigned int n_targets;
	enum power_source source;
	char ups_name[64];
	char ups_host[256];
	uint16_t ups_port;
	char status_path[PATH_MAX]; /* file or command, per source */
	uint32_t poll_interval_ms;
	uint32_t poll_timeout_ms;
	bool foreground;
	bool realtime; /* the heartbeat thread asks for SCHED_FIFO (--no-realtime: it does not) */
};

/*
 * This run's epoch: now_ns (CLOCK_REALTIME), or one more than the last run's when path names an
 * epoch file whose epoch is not older; the file is then replaced with the new epoch (path "":
 * now_ns, no file). 0 or -errno, logged with the file's name; the file is left as it was.
 */
int beacon_epoch__next(const char *path, uint64_t now_ns, uint64_t *epoch);

/* The file's one section, [beacon] or none, and its keys: the long option names. */
#define BEACON_SECTION 0
extern const struct conf_table beacon_keys;

/* Defaults, then -c FILE, then the other command-line options over it. 0 or -errno (logged). */
int beacon_config__load(struct beacon_config *cfg, int argc, char **argv);
/* A duration "5ms", "500us", "1s", "2000ns", "1.5ms"; a bare number is milliseconds. */
int parse_duration_us(const char *s, uint64_t *us);
/* "NAME@HOST[:PORT]" into the config's UPS fields. */
int beacon_config__set_ups(struct beacon_config *cfg, const char *spec);
void beacon_usage(FILE *f);
/*
 * The key id to seal with: cfg's key id if that key is in kr, else the site's only key. Refused,
 * with a message naming the key file, when the key is missing or the choice is ambiguous: 0 or
 * -ENOKEY.
 */
int beacon_pick_key(const struct beacon_config *cfg, const struct hb_keyring *kr, uint16_t *key_id);

/* ---- Power readings ----------------------------------------------------------------------- */

/* NUT ups.status words ("OL CHRG", "OB LB") to dt_power_flag bits; docs/heartbeat.md. */
uint32_t power_status_parse(const char *status);

struct nut_client {
	int fd;
	char ups[64];
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

int nut_client__init(struct nut_client *nc, const char *ups, const char *host, uint16_t port);
/*
 * Ask upsd for ups.status, within timeout_ms in all (connect included). On any failure -
 * refused, timeout, ERR, garbage - *flags is DT_POWER_UNKNOWN and -errno is returned; the
 * connection is kept between calls while it works.
 */
int nut_client__query(struct nut_client *nc, uint32_t timeout_ms, uint32_t *flags);
void nut_client__close(struct nut_client *nc);

/* First line of a status file. DT_POWER_UNKNOWN if it cannot be read. */
int power_status_file(const char *path, uint32_t *flags);
/* Run "sh -c cmd", wait at most timeout_ms, parse its first output line. Killed on timeout. */
int power_status_command(const char *cmd, uint32_t timeout_ms, uint32_t *flags);

struct power_poller {
	struct beacon_config cfg; /* its own copy: SIGHUP swaps pollers, not fields */
	_Atomic uint32_t *flags;
	struct nut_client nut;
	int stop_fd; /* eventfd: wakes the thread to stop */
	pthread_t thread;
};

/* The thread holds a pointer to its poller, so pollers live on the heap and never move. */
int power_poller__start(const struct beacon_config *cfg, _Atomic uint32_t *flags,
			struct power_poller **out);
/* Stop the thread, wait for it, free the poller. NULL is fine. */
void power_poller__stop(struct power_poller *p);

#endif /* DT_BEACON_H */
