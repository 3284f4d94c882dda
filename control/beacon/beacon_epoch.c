// SPDX-License-Identifier: GPL-2.0-only
/*
 * The beacon's epoch file: the epoch of the last run, so that the next run's epoch is larger
 * even when the realtime clock stepped backwards in between (docs/heartbeat.md, "Epoch").
 * The file holds one decimal number and a newline; it is replaced by rename, so a crash leaves
 * either the old number or the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beacon.h"

/* The last epoch in path into *last (0 when there is no file yet). 0 or -errno, logged. */
static int epoch_read(const char *path, uint64_t *last)
{
	char buf[32], *end;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*last = 0;
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		dt_log_err("epoch-file %s: cannot open: %s", path, strerror(errno));
		return -errno;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		dt_log_err("epoch-file %s: cannot read: %s", path, strerror(errno));
		return -EIO;
	}
	buf[n] = '\0';
	errno = 0;
	*last = strtoull(buf, &end, 10);
	if (end == buf || buf[0] < '0' || buf[0] > '9' || errno || (*end && strcmp(end, "\n"))) {
		dt_log_err(
			"epoch-file %s: not an epoch (one decimal number of nanoseconds): \"%.*s\"",
			path, (int)strcspn(buf, "\n"), buf);
		return -EINVAL;
	}
	return 0;
}

/* Make the file's replacement durable: the directory entry too. */
static void epoch_sync_dir(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int epoch_write(const char *path, uint64_t epoch)
{
	char tmp[PATH_MAX + 8];
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dprintf(fd, "%llu\n", (unsigned long long)epoch) < 0 || fsync(fd))
		err = -errno;
	if (fd >= 0 && close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		dt_log_err("epoch-file %s: cannot write: %s", path, strerror(-err));
		unlink(tmp);
		return err;
	}
	epoch_sync_dir(path);
	return 0;
}

int beacon_epoch__next(const char *path, uint64_t now_ns, uint64_t *epoch)
{
	uint64_t last;
	int err;

	*epoch = now_ns;
	if (!path[0])
		return 0;
	err = epoch_read(path, &last);
	if (err)
		return err;
	if (last >= now_ns) {
		*epoch = last + 1;
		dt_log_warn("epoch-file %s: the clock (%llu ns) is not past the last run's epoch "
			    "(%llu): epoch %llu",
			    path, (unsigned long long)now_ns, (unsigned long long)last,
			    (unsigned long long)*epoch);
	}
	return epoch_write(path, *epoch);
}
