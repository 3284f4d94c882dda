/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * detourctl keygen: a heartbeat key file (docs/heartbeat.md, "Keys and the key file") with a new
 * random key from getrandom() for each site named.
 */
#ifndef DT_CTL_KEYGEN_H
#define DT_CTL_KEYGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hb.h"

struct ctl_keygen {
	const char *path;
	uint16_t key_id;
	bool force; /* replace an existing file */
	long group; /* a group that may read it (mode 0640, root:group), or -1: mode 0600 */
	unsigned int n_sites;
	uint16_t sites[DT_MAX_SITES];
};

/*
 * Write k->path: one "<site-id> <key-id> <64 hex digits>" line per site under a comment, mode
 * 0600, owned by the caller (with k->group >= 0: mode 0640, that group, for a detourd that runs
 * as a user of that group, docs/config.md "user"). It is written under a temporary name in the same directory, synced
 * and renamed into place, so no reader sees half a file; an existing path is replaced only with
 * k->force, and never when it is not a regular file. 0, or -errno with a message naming the path
 * in @err.
 */
int ctl_keygen__write(const struct ctl_keygen *k, char *err, size_t err_len);

#endif /* DT_CTL_KEYGEN_H */
