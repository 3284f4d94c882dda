/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * detourctl keygen: new heartbeat keys, written the way detourd and detour-beacon accept a key
 * file (a regular file owned by root, mode 0600; hb_keyring.c). The keys come from getrandom(),
 * live in one buffer that is wiped before returning, and reach the disk only through a file that
 * was created 0600 (mkstemp), so there is no moment at which another user could read them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_keygen.h"

#define LINE_MAX_LEN 96 /* "63 65535 " + 64 hex digits + "\n" */
#define HEADER                                                                        \
	"# Detour heartbeat keys (docs/heartbeat.md), written by detourctl keygen.\n" \
	"# <site-id> <key-id> <key, 64 hex digits>. Secret: root only, mode 0600.\n"

static int fail(char *err, size_t len, int e, const char *fmt, const char *a, const char *b)
{
	snprintf(err, len, fmt, a, b ? b : strerror(e));
	return -e;
}

static int fill_random(uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = getrandom(buf, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The whole file into @text; its length. */
static size_t format_keys(const struct ctl_keygen *k, const uint8_t *keys, char *text, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t off = (size_t)snprintf(text, len, "%s", HEADER);

	for (unsigned int i = 0; i < k->n_sites; i++) {
		off += (size_t)snprintf(text + off, len - off, "%u %u ", k->sites[i], k->key_id);
		for (unsigned int b = 0; b < HB_KEY_BYTES; b++) {
			text[off++] = hex[keys[i * HB_KEY_BYTES + b] >> 4];
			text[off++] = hex[keys[i * HB_KEY_BYTES + b] & 15];
		}
		text[off++] = '\n';
	}
	return off;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* An existing path: refused without force, and always when it is not a regular file. */
static int check_target(const struct ctl_keygen *k, char *err, size_t err_len)
{
	struct stat st;

	if (lstat(k->path, &st)) {
		if (errno == ENOENT)
			return 0;
		return fail(err, err_len, errno, "%s: %s", k->path, NULL);
	}
	if (!S_ISREG(st.st_mode))
		return fail(err, err_len, EEXIST, "%s exists and is not a regular file%s", k->path,
			    "; not replacing it");
	if (!k->force)
		return fail(err, err_len, EEXIST, "%s exists%s", k->path,
			    "; not replacing it (--force replaces it, and its keys are lost)");
	return 0;
}

/* Move the written temporary file into place: atomically, never over a file without force. */
static int install(const struct ctl_keygen *k, const char *tmp, char *err, size_t err_len)
{
	int ret = k->force ? rename(tmp, k->path) :
			     renameat2(AT_FDCWD, tmp, AT_FDCWD, k->path, RENAME_NOREPLACE);

	if (ret && !k->force && errno == EINVAL) /* a file system without RENAME_NOREPLACE */
		ret = link(tmp, k->path) ?: unlink(tmp);
	if (!ret)
		return 0;
	if (errno == EEXIST)
		return fail(err, err_len, EEXIST, "%s exists%s", k->path,
			    "; not replacing it (--force replaces it, and its keys are lost)");
	return fail(err, err_len, errno, "%s: cannot put the new file in place: %s", k->path, NULL);
}

/* The new file's directory entry on disk too. */
static void sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int ctl_keygen__write(const struct ctl_keygen *k, char *err, size_t err_len)
{
	uint8_t keys[DT_MAX_SITES * HB_KEY_BYTES];
	char text[sizeof(HEADER) + DT_MAX_SITES * LINE_MAX_LEN];
	char tmp[PATH_MAX];
	size_t len;
	int fd, ret;

	ret = check_target(k, err, err_len);
	if (ret)
		return ret;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", k->path) >= sizeof(tmp))
		return fail(err, err_len, ENAMETOOLONG, "%s: %s", k->path, NULL);
	ret = fill_random(keys, (size_t)k->n_sites * HB_KEY_BYTES);
	if (ret)
		return fail(err, err_len, -ret, "getrandom: %s%s", "", NULL);
	len = format_keys(k, keys, text, sizeof(text));
	explicit_bzero(keys, sizeof(keys));

	fd = mkstemp(tmp); /* O_EXCL, mode 0600 whatever the umask */
	if (fd < 0) {
		explicit_bzero(text, sizeof(text));
		return fail(err, err_len, errno, "%s: cannot create a file beside it: %s", k->path,
			    NULL);
	}
	ret = fchmod(fd, 0600) ? -errno : 0;
	/* the group before the read bit, so that no other group can read it for a moment */
	if (!ret && k->group >= 0)
		ret = fchown(fd, (uid_t)-1, (gid_t)k->group) || fchmod(fd, 0640) ? -errno : 0;
	ret = ret ?: write_all(fd, text, len);
	ret = ret ?: (fsync(fd) ? -errno : 0);
	explicit_bzero(text, sizeof(text));
	if (close(fd) && !ret)
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return fail(err, err_len, -ret, "%s: cannot write it: %s", k->path, NULL);
	}
	ret = install(k, tmp, err, err_len);
	if (ret) {
		unlink(tmp);
		return ret;
	}
	sync_dir(k->path);
	return 0;
}
