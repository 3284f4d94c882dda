/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-site heartbeat keys, up to HB_MAX_KEYS_PER_SITE per site, each with a key id. The file
 * format is one "<site-id> [<key-id>] <64 hex digits>" per line (no key id: key id 0); '#'
 * starts a comment. The keyring lives in sodium_malloc() memory: locked (never swapped out),
 * guarded against overruns, and wiped when freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "dt_log.h"
#include "hb.h"

#define HB_KEYFILE_LINE_MAX 256

struct hb_site_keys {
	unsigned int n;
	uint16_t id[HB_MAX_KEYS_PER_SITE];
	uint8_t key[HB_MAX_KEYS_PER_SITE][HB_KEY_BYTES];
};

struct hb_keyring {
	struct hb_site_keys site[DT_MAX_SITES];
};

struct hb_keyring *hb_keyring__new(void)
{
	struct hb_keyring *kr;

	if (sodium_init() < 0)
		return NULL;
	kr = sodium_malloc(sizeof(*kr));
	if (kr)
		memset(kr, 0, sizeof(*kr));
	return kr;
}

void hb_keyring__free(struct hb_keyring *kr)
{
	sodium_free(kr);
}

/* The slot of (site, key id) in sk, or -1. */
static int keyring_slot(const struct hb_site_keys *sk, uint16_t key_id)
{
	for (unsigned int i = 0; i < sk->n; i++)
		if (sk->id[i] == key_id)
			return (int)i;
	return -1;
}

int hb_keyring__set(struct hb_keyring *kr, uint16_t site_id, uint16_t key_id,
		    const uint8_t key[HB_KEY_BYTES])
{
	struct hb_site_keys *sk;
	int slot;

	if (site_id >= DT_MAX_SITES)
		return -ERANGE;
	sk = &kr->site[site_id];
	slot = keyring_slot(sk, key_id);
	if (slot < 0) {
		if (sk->n == HB_MAX_KEYS_PER_SITE)
			return -ENOSPC;
		slot = (int)sk->n++;
		sk->id[slot] = key_id;
	}
	memcpy(sk->key[slot], key, HB_KEY_BYTES);
	return 0;
}

int hb_keyring__remove(struct hb_keyring *kr, uint16_t site_id, uint16_t key_id)
{
	struct hb_site_keys *sk;
	int slot;

	if (site_id >= DT_MAX_SITES)
		return -ENOENT;
	sk = &kr->site[site_id];
	slot = keyring_slot(sk, key_id);
	if (slot < 0)
		return -ENOENT;
	/* Keep file order: the keys after it move down one slot. */
	for (unsigned int i = (unsigned int)slot; i + 1 < sk->n; i++) {
		sk->id[i] = sk->id[i + 1];
		memcpy(sk->key[i], sk->key[i + 1], HB_KEY_BYTES);
	}
	sk->n--;
	sodium_memzero(sk->key[sk->n], HB_KEY_BYTES);
	return 0;
}

const uint8_t *hb_keyring__key(const struct hb_keyring *kr, uint16_t site_id, uint16_t key_id)
{
	int slot;

	if (!kr || site_id >= DT_MAX_SITES)
		return NULL;
	slot = keyring_slot(&kr->site[site_id], key_id);
	return slot < 0 ? NULL : kr->site[site_id].key[slot];
}

unsigned int hb_keyring__site_keys(const struct hb_keyring *kr, uint16_t site_id, uint16_t *ids,
				   unsigned int max)
{
	const struct hb_site_keys *sk;

	if (!kr || site_id >= DT_MAX_SITES)
		return 0;
	sk = &kr->site[site_id];
	for (unsigned int i = 0; i < sk->n && i < max; i++)
		ids[i] = sk->id[i];
	return sk->n;
}

unsigned int hb_keyring__count(const struct hb_keyring *kr)
{
	unsigned int n = 0;

	for (int i = 0; i < DT_MAX_SITES; i++)
		n += kr->site[i].n;
	return n;
}

/*
 * Checked on the open descriptor, so the file cannot be swapped between check and read. group:
 * a group that may read it too (mode 0640, that group), or -1 for none (mode 0600 or stricter).
 */
static int keyfile_check_secure(int fd, const char *path, long group)
{
	mode_t allowed;

	struct stat st;

	if (fstat(fd, &st) < 0) {
		dt_log_err("key file %s: fstat: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		dt_log_err("key file %s: not a regular file", path);
		return -EINVAL;
	}
	allowed = group >= 0 && st.st_gid == (gid_t)group ? S_IRGRP : 0;
	if (st.st_mode & (S_IRWXG | S_IRWXO) & ~allowed) {
		if (group >= 0)
			dt_log_err(
				"key file %s: mode %04o (group %u) gives more than read access to "
				"group %ld, or any to others; refusing it (chgrp %ld %s; chmod 640 %s)",
				path, (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_gid,
				group, group, path, path);
		else
			dt_log_err("key file %s: mode %04o gives access to group or others; "
				   "refusing it (chmod 600 %s)",
				   path, (unsigned int)(st.st_mode & 07777), path);
		return -EPERM;
	}
	if (st.st_uid != 0) {
		dt_log_err("key file %s: owned by uid %u, must be owned by root", path,
			   (unsigned int)st.st_uid);
		return -EPERM;
	}
	return 0;
}

static int keyfile_parse_site(const char *tok, uint16_t *site_id)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(tok, &end, 10);
	if (errno || end == tok || *end || tok[0] == '-' || v >= DT_MAX_SITES)
		return -EINVAL;
	*site_id = (uint16_t)v;
	return 0;
}

static int keyfile_parse_key(const char *tok, uint8_t key[HB_KEY_BYTES])
{
	size_t bin_len = 0;
	const char *end;

	if (strlen(tok) != 2 * HB_KEY_BYTES)
		return -EINVAL;
	if (sodium_hex2bin(key, HB_KEY_BYTES, tok, strlen(tok), NULL, &bin_len, &end) != 0 ||
	    bin_len != HB_KEY_BYTES || *end)
		return -EINVAL;
	return 0;
}

static int keyfile_parse_key_id(const char *tok, uint16_t *key_id)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(tok, &end, 10);
	if (errno || end == tok || *end || tok[0] == '-' || v > UINT16_MAX)
		return -EINVAL;
	*key_id = (uint16_t)v;
	return 0;
}

/* "<site> <key>" or "<site> <key-id> <key>": at most three tokens, NULL for one not given. */
static int keyfile_tokens(char *line, char *tok[3])
{
	char *save, *extra;

	tok[0] = strtok_r(line, " \t\r\n", &save);
	if (!tok[0])
		return 0;
	tok[1] = strtok_r(NULL, " \t\r\n", &save);
	tok[2] = strtok_r(NULL, " \t\r\n", &save);
	extra = tok[2] ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	if (!tok[1] || extra)
		return -EINVAL;
	if (!tok[2]) { /* two tokens: no key id, the key is the second */
		tok[2] = tok[1];
		tok[1] = NULL;
	}
	return 1;
}

/* Store a parsed key, refusing a second (site, key id) or a site's fifth key. */
static int keyfile_store(struct hb_keyring *kr, uint16_t site_id, uint16_t key_id,
			 const uint8_t key[HB_KEY_BYTES], const char *path, unsigned int lineno)
{
	if (hb_keyring__key(kr, site_id, key_id)) {
		dt_log_err("%s:%u: site %u has a key with key id %u already", path, lineno, site_id,
			   key_id);
		return -EINVAL;
	}
	if (hb_keyring__set(kr, site_id, key_id, key)) {
		dt_log_err("%s:%u: site %u has %d keys already, the most a site may have", path,
			   lineno, site_id, HB_MAX_KEYS_PER_SITE);
		return -EINVAL;
	}
	return 0;
}

/* One line, already stripped of its comment. Empty lines are fine. */
static int keyfile_parse_line(struct hb_keyring *kr, char *line, const char *path,
			      unsigned int lineno)
{
	uint8_t key[HB_KEY_BYTES];
	uint16_t site_id, key_id = 0;
	char *tok[3];
	int err;

	err = keyfile_tokens(line, tok);
	if (err <= 0) {
		if (err)
			dt_log_err("%s:%u: expected \"<site-id> [<key-id>] <hex-key>\"", path,
				   lineno);
		return err;
	}
	if (keyfile_parse_site(tok[0], &site_id)) {
		dt_log_err("%s:%u: site id \"%s\" is not 0..%d", path, lineno, tok[0],
			   DT_MAX_SITES - 1);
		return -EINVAL;
	}
	if (tok[1] && keyfile_parse_key_id(tok[1], &key_id)) {
		dt_log_err("%s:%u: key id \"%s\" is not 0..%u", path, lineno, tok[1], UINT16_MAX);
		return -EINVAL;
	}
	err = keyfile_parse_key(tok[2], key);
	if (err)
		dt_log_err("%s:%u: key must be %d hex digits", path, lineno, 2 * HB_KEY_BYTES);
	else
		err = keyfile_store(kr, site_id, key_id, key, path, lineno);
	sodium_memzero(key, sizeof(key));
	return err ? -EINVAL : 0;
}

static int keyfile_parse(struct hb_keyring *kr, FILE *f, const char *path)
{
	char line[HB_KEYFILE_LINE_MAX];
	unsigned int lineno = 0;
	int err = 0;

	while (!err && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		char *hash;

		lineno++;
		if (len == sizeof(line) - 1 && line[len - 1] != '\n' && !feof(f)) {
			dt_log_err("%s:%u: longer than %d bytes", path, lineno,
				   HB_KEYFILE_LINE_MAX - 2);
			err = -EINVAL;
			break;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		err = keyfile_parse_line(kr, line, path, lineno);
	}
	sodium_memzero(line, sizeof(line));
	if (!err && ferror(f))
		err = -EIO;
	return err;
}

static int keyring_load_fd(int fd, const char *path, long group, struct hb_keyring *kr)
{
	FILE *f;
	int err;

	err = keyfile_check_secure(fd, path, group);
	if (err) {
		close(fd);
		return err;
	}
	f = fdopen(fd, "r");
	if (!f) {
		err = -errno;
		close(fd);
		return err;
	}
	/* Unbuffered: stdio must not keep a copy of the keys in a heap buffer. */
	setvbuf(f, NULL, _IONBF, 0);
	err = keyfile_parse(kr, f, path);
	fclose(f);
	if (!err && hb_keyring__count(kr) == 0) {
		dt_log_err("key file %s: no keys", path);
		err = -ENOENT;
	}
	return err;
}

int hb_keyring__load(const char *path, struct hb_keyring **out)
{
	return hb_keyring__load_group(path, -1, out);
}

int hb_keyring__load_group(const char *path, long group, struct hb_keyring **out)
{
	struct hb_keyring *kr;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -EACCES && group >= 0)
			dt_log_err("key file %s: %s to uid %u: make it readable by group %ld "
				   "(chgrp %ld %s; chmod 640 %s)",
				   path, strerror(-err), (unsigned int)geteuid(), group, group,
				   path, path);
		else if (err == -EACCES)
			dt_log_err("key file %s: %s to uid %u", path, strerror(-err),
				   (unsigned int)geteuid());
		else
			dt_log_err("key file %s: %s", path, strerror(errno));
		return err;
	}
	kr = hb_keyring__new();
	if (!kr) {
		close(fd);
		return -ENOMEM;
	}
	err = keyring_load_fd(fd, path, group, kr); /* always closes fd */
	if (err) {
		hb_keyring__free(kr);
		return err;
	}
	*out = kr;
	return 0;
}
