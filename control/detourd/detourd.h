/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * detourd's state, kept in one struct passed down (no file-scope globals but the signal flag).
 *
 *   config ─▶ apply.c ─▶ dataplane (XDP maps or DPDK tables)
 *   heartbeat sockets ─▶ health (detector + state machine) ─▶ events.c ─▶ dataplane, event log,
 *                                                                       control-socket followers
 *   control socket ─▶ ctl_handlers.c ─▶ health overrides, prefixes, reads
 */
#ifndef DT_DETOURD_H
#define DT_DETOURD_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#include "ctl_proto.h"
#include "dataplane/dataplane.h"
#include "deadline_timer.h"
#include "dt_config.h"
#include "hb.h"
#include "hb_filter.h"
#include "hb_socket.h"
#include "health.h"
#include "notify.h"
#include "recovery.h"
#include "service.h"
#include "state_file.h"
#include "tcp_nudge.h"

#define DETOURD_VERSION "0.1.0"
#define DETOURD_EVENT_RING 512 /* transitions kept for `detourctl events` */
#define DETOURD_HB_PER_WAKEUP 1024 /* most datagrams read per socket per wake-up */

struct ctl_server;
struct detourd_metrics;

#define DETOURD_REASON_MAX 200 /* of an operator's --reason */

/* Who asked for an operator action, and why (SO_PEERCRED and the request's "reason"). */
struct detourd_operator {
	bool active; /* a control request is being served */
	struct ctl_caller caller;
	char reason[DETOURD_REASON_MAX + 1]; /* "" if none was given */
};

/* One transition as recorded: the library's event plus what the daemon added. */
struct detourd_event {
	__u64 seq;
	struct health_event ev; /* site_name points into the config: copied below */
	char site_name[DT_SITE_NAME_MAX];
	int apply_err; /* 0, or the -errno of a failed dataplane write */
	struct detourd_operator op; /* op.active: an operator's request made it */
};

/* An accepted heartbeat of this wake-up, held until all sockets are drained and sorted. */
struct detourd_arrival {
	__u64 arrival_ns;
	__u32 power_flags;
	__u16 site;
	__u8 beacon;
};

struct detourd_site_rt {
	__u64 heartbeats; /* accepted */
	__u64 last_transition_ns;
	enum health_cause last_cause;
};

struct detourd {
	const char *config_path;
	struct dt_config *cfg;
	struct dt_dataplane dp;
	struct health *health;
	struct hb_keyring *keys;
	struct hb_receiver rx;
	struct hb_filter *hb_filter; /* the sockets' kernel filter; NULL: user space checks all */
	struct hb_socket *hb[DT_CONFIG_MAX_LISTEN];
	unsigned int n_hb;
	struct deadline_timer timer;
	struct ctl_server *ctl;
	int epfd;
	int sigfd;
	FILE *event_log;
	__u64 start_ns;
	__u64 event_seq;
	struct detourd_event events[DETOURD_EVENT_RING];
	struct detourd_site_rt site_rt[DT_MAX_SITES];
	struct detourd_arrival drained[DETOURD_HB_PER_WAKEUP * DT_CONFIG_MAX_LISTEN];
	unsigned int n_drained;
	/* kernel arrival -> health__heartbeat() applied, per accepted heartbeat (`stats`) */
	__u64 hb_delay_max_ns;
	__u64 hb_delay_over_1ms; /* how many took longer than 1 ms */
	struct detourd_recovery recovery;
	struct detourd_notify notify; /* the notify hook's worker */
	struct detourd_service service; /* systemd: readiness and the watchdog */
	struct detourd_nudge nudge; /* tcp_reset: TCP clients of a site that went DOWN */
	struct detourd_operator op; /* while a drain, fail, restore or undrain is served */
	struct state_file state; /* state.map NULL: running without one */
	struct health_seed saved_seed[DT_MAX_SITES]; /* what the state file holds */
	unsigned int restored_sites;
	unsigned int restored_beacons;
	struct detourd_metrics *metrics; /* NULL: metrics_listen is not set */
	/* Bumped wherever the policy (seed, sites, failover, prefixes) may change. */
	__u64 policy_gen;
	__u64 fingerprint_gen; /* policy_gen + 1 when policy_fingerprint was computed */
	char policy_fingerprint[DT_POLICY_FINGERPRINT_LEN + 1];
	bool stop;
	int exit_code; /* of a failed start-up, when more precise than 1 */
};

/* main.c: drain the heartbeat sockets, advance the detector with the guard; its time */
__u64 detourd_catch_up(struct detourd *d);

/* apply.c: configuration to dataplane */
int detourd_apply_config(struct detourd *d, const struct dt_config *cfg);
int detourd_reload(struct detourd *d);
int detourd_add_health_sites(struct detourd *d, const struct dt_config *cfg);
int detourd_set_sources(struct detourd *d, const struct dt_config *cfg);
/* The running policy's fingerprint (dt_config__policy_fingerprint), computed again on change. */
const char *detourd_policy_fingerprint(struct detourd *d);
void detourd_heartbeat_counters(const struct detourd *d, uint64_t total[HB_REASON_MAX],
				uint64_t kernel[HB_REASON_MAX]);

/* privs.c: what detourd keeps after start-up, in every thread; the key file as that user */
int detourd_drop_privileges(const struct dt_config *cfg);
int detourd_load_keys(const struct dt_config *cfg, struct hb_keyring **out);

/* restart.c: the state file */
int detourd_state_open(struct detourd *d);
void detourd_state_seed(struct detourd *d);
void detourd_state_restore_replay(struct detourd *d);
void detourd_state_note_heartbeat(struct detourd *d, __u16 site, __u16 beacon);
void detourd_state_save(struct detourd *d);

/* events.c */
void detourd_on_health_event(const struct health_event *ev, void *ctx);
struct json_object *detourd_event_json(const struct detourd_event *e);
int detourd_open_event_log(struct detourd *d, const char *path);
void detourd_reopen_event_log(struct detourd *d);

/* ctl_handlers.c (sites, overrides) and ctl_tables.c (prefixes, flows, counters, events, what-if) */
struct json_object;
extern const struct ctl_command detourd_commands[];
#define DETOURD_CTL_HANDLER(name)                                                          \
	int name(void *ctx, struct json_object *args, struct json_object **res, char *err, \
		 size_t len)
DETOURD_CTL_HANDLER(detourd_ctl_prefixes);
DETOURD_CTL_HANDLER(detourd_ctl_prefix_add);
DETOURD_CTL_HANDLER(detourd_ctl_prefix_del);
DETOURD_CTL_HANDLER(detourd_ctl_flows);
DETOURD_CTL_HANDLER(detourd_ctl_stats);
DETOURD_CTL_HANDLER(detourd_ctl_events);
DETOURD_CTL_HANDLER(detourd_ctl_whatif);
struct json_object *detourd_site_json(struct detourd *d, const struct dt_config_site *s, __u64 now);

#endif /* DT_DETOURD_H */
