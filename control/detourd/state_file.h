/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a restart of detourd must not forget (docs/detector.md, "Restart"): each site's state,
 * override and damping, and each (site, beacon)'s newest epoch and sequence. One file, mapped
 * shared: every write is a store into the page cache, so a SIGKILL loses nothing and an accepted
 * heartbeat costs no system call. Records are written under a generation count (odd while being
 * written); a record found odd was torn by a crash and is not used.
 */
#ifndef DT_DETOURD_STATE_FILE_H
#define DT_DETOURD_STATE_FILE_H

#include <stdbool.h>
#include <linux/types.h>

#include "dataplane/core/detour_abi.h"
#include "hb.h"
#include "health.h"

#define STATE_FILE_MAGIC "detour-state\n"
#define STATE_FILE_VERSION 1
#define STATE_FILE_BOOT_ID_LEN 40 /* /proc/sys/kernel/random/boot_id, NUL-terminated */

struct state_beacon_record {
	__u32 gen;
	__u32 seen;
	__u64 epoch;
	__u64 top;
};

struct state_site_record {
	__u32 gen;
	__u32 valid; /* the seed fields below were written */
	char name[DT_SITE_NAME_MAX];
	__u32 state;
	__u32 override;
	__u64 since_ns;
	__u64 flaps;
	double penalty;
	__u64 penalty_ns;
	__u64 reuse_ns;
	struct state_beacon_record beacon[HB_MAX_BEACONS];
};

struct state_file_layout {
	char magic[16];
	__u32 version;
	__u32 size; /* sizeof(struct state_file_layout) */
	char boot_id[STATE_FILE_BOOT_ID_LEN]; /* the boot whose monotonic clock the times are on */
	struct state_site_record site[DT_MAX_SITES];
};

struct state_file {
	int fd;
	struct state_file_layout *map;
	bool same_boot; /* the saved times are on this boot's clock */
	char boot_id[STATE_FILE_BOOT_ID_LEN];
};

/*
 * Open (create, with its directory) and lock @path, and map it. A file that is not a state file
 * of this version is renamed to PATH.bad and a new one started (logged). -EBUSY if another
 * process holds it; other -errno with the reason logged. On error @sf is left closed.
 */
int state_file__open(struct state_file *sf, const char *path);
void state_file__close(struct state_file *sf);

/*
 * The saved seed of site @id named @name: true if there is one whose name matches. From another
 * boot only the override survives (with the state it implies), and no times.
 */
bool state_file__site(const struct state_file *sf, __u16 id, const char *name,
		      struct health_seed *out);
void state_file__put_site(struct state_file *sf, __u16 id, const char *name,
			  const struct health_seed *seed);

/* The saved replay state of (site @id named @name, beacon @b); false if none. */
bool state_file__beacon(const struct state_file *sf, __u16 id, const char *name, unsigned int b,
			struct hb_beacon_state *out);
/* Save it when it moved (a new epoch, or a higher sequence): two stores, no system call. */
void state_file__put_beacon(struct state_file *sf, __u16 id, const char *name, unsigned int b,
			    const struct hb_beacon_state *st);

#endif /* DT_DETOURD_STATE_FILE_H */
