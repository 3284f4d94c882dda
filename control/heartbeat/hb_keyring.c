/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-site heartbeat keys. The file format is one "<site-id> <64 hex digits>" per line; '#'
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

struct hb_keyring {
	bool present[DT_MAX_SITES];
	uint8_t key[DT_MAX_SITES][HB_KEY_BYTES];
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

int hb_keyring__set(struct hb_keyring *kr, uint16_t site_id, const uint8_t key[HB_KEY_BYTES])
{
	if (site_id >= DT_MAX_SITES)
		return -ERANGE;
	memcpy(kr->key[site_id], key, HB_KEY_BYTES);
	kr->present[site_id] = true;
	return 0;
}

const uint8_t *hb_keyring__key(const struct hb_keyring *kr, uint16_t site_id)
{
	if (!kr || site_id >= DT_MAX_SITES || !kr->present[site_id])
		return NULL;
	return kr->key[site_id];
}

unsigned int hb_keyring__count(const struct hb_keyring *kr)
{
	unsigned int n = 0;

	for (int i = 0; i < DT_MAX_SITES; i++)
		n += kr->present[i];
	return n;
}

/* Checked on the open descriptor, so the file cannot be swapped between check and read. */
static int keyfile_check_secure(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		dt_log_err("key file %s: fstat: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		dt_log_err("key file %s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		dt_log_err(
			"key file %s: mode %04o gives access to group or others; refusing it (chmod 600 %s)",
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

/* One line, already stripped of its comment. Empty lines are fine. */
static int keyfile_parse_line(struct hb_keyring *kr, char *line, const char *path,
			      unsigned int lineno)
{
	char *save, *site_tok, *key_tok;
	uint8_t key[HB_KEY_BYTES];
	uint16_t site_id;
	int err;

	site_tok = strtok_r(line, " \t\r\n", &save);
	if (!site_tok)
		return 0;
	key_tok = strtok_r(NULL, " \t\r\n", &save);
	if (!key_tok || strtok_r(NULL, " \t\r\n", &save)) {
		dt_log_err("key file %s line %u: expected \"<site-id> <hex-key>\"", path, lineno);
		return -EINVAL;
	}
	if (keyfile_parse_site(site_tok, &site_id)) {
		dt_log_err("key file %s line %u: site id \"%s\" is not 0..%d", path, lineno,
			   site_tok, DT_MAX_SITES - 1);
		return -EINVAL;
	}
	err = keyfile_parse_key(key_tok, key);
	if (!err && hb_keyring__key(kr, site_id))
		err = -EEXIST;
	if (!err)
		hb_keyring__set(kr, site_id, key);
	sodium_memzero(key, sizeof(key));
	if (err == -EEXIST)
		dt_log_err("key file %s line %u: site %u has a key already", path, lineno, site_id);
	else if (err)
		dt_log_err("key file %s line %u: key must be %d hex digits", path, lineno,
			   2 * HB_KEY_BYTES);
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
			dt_log_err("key file %s line %u: longer than %d bytes", path, lineno,
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

static int keyring_load_fd(int fd, const char *path, struct hb_keyring *kr)
{
	FILE *f;
	int err;

	err = keyfile_check_secure(fd, path);
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
	struct hb_keyring *kr;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		dt_log_err("key file %s: %s", path, strerror(errno));
		return err;
	}
	kr = hb_keyring__new();
	if (!kr) {
		close(fd);
		return -ENOMEM;
	}
	err = keyring_load_fd(fd, path, kr); /* always closes fd */
	if (err) {
		hb_keyring__free(kr);
		return err;
	}
	*out = kr;
	return 0;
}
