// SPDX-License-Identifier: GPL-2.0-only
/*
 * detourd's state file (state_file.h). Only the event loop writes it, and only one detourd at a
 * time has it (flock), so a record's generation count guards against nothing but a torn write:
 * a crash between the two increments leaves it odd, and that record is not trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dt_config.h"
#include "dt_log.h"
#include "state_file.h"

#define STATE_FILE_SIZE sizeof(struct state_file_layout)

static void read_boot_id(char out[STATE_FILE_BOOT_ID_LEN])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	memset(out, 0, STATE_FILE_BOOT_ID_LEN);
	if (!f)
		return;
	if (!fgets(out, STATE_FILE_BOOT_ID_LEN, f))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* The directory, as systemd's StateDirectory= would make it; an existing one is left as it is. */
static void make_parent(const char *path)
{
	char dir[DT_CONFIG_PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0700) && errno != EEXIST)
		dt_log_warn("state file %s: creating its directory: %s", path, strerror(errno));
}

/* Why the file's contents are not a state file of ours, or NULL if they are. */
static const char *layout_problem(const struct state_file_layout *l, off_t size)
{
	if (size != (off_t)STATE_FILE_SIZE)
		return "its size is not that of a version 1 state file";
	if (memcmp(l->magic, STATE_FILE_MAGIC, sizeof(STATE_FILE_MAGIC)))
		return "it does not start with the state file's magic";
	if (l->version != STATE_FILE_VERSION || l->size != STATE_FILE_SIZE)
		return "it is of another version";
	return NULL;
}

static int map_file(struct state_file *sf, const char *path)
{
	void *m = mmap(NULL, STATE_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, sf->fd, 0);

	if (m == MAP_FAILED) {
		dt_log_err("state file %s: mmap: %s", path, strerror(errno));
		return -errno;
	}
	sf->map = m;
	return 0;
}

static int open_locked(const char *path)
{
	int fd, err;

	make_parent(path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = -errno;
		dt_log_err("state file %s: %s", path, strerror(errno));
		return err;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		dt_log_err("state file %s: %s", path,
			   err == -EBUSY ? "another detourd has it (locked)" : strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

/* A file of another kind is kept aside, never overwritten: it may be someone's data. */
static int set_aside(struct state_file *sf, const char *path, const char *why)
{
	char bad[DT_CONFIG_PATH_MAX + 8];

	snprintf(bad, sizeof(bad), "%s.bad", path);
	dt_log_warn("state file %s: not used, %s; kept as %s, starting without saved state", path,
		    why, bad);
	if (rename(path, bad)) {
		dt_log_err("state file %s: renaming it to %s: %s", path, bad, strerror(errno));
		return -errno;
	}
	close(sf->fd);
	sf->fd = open_locked(path);
	return sf->fd < 0 ? sf->fd : 0;
}

static int init_layout(struct state_file *sf, const char *path)
{
	if (ftruncate(sf->fd, STATE_FILE_SIZE)) {
		dt_log_err("state file %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int check_contents(struct state_file *sf, const char *path)
{
	struct state_file_layout head;
	struct stat st;
	ssize_t n;

	if (fstat(sf->fd, &st))
		return -errno;
	if (st.st_size == 0)
		return init_layout(sf, path);
	n = pread(sf->fd, &head, sizeof(head), 0);
	if (n < 0)
		return -errno;
	if (n == (ssize_t)sizeof(head) && !layout_problem(&head, st.st_size))
		return 0;
	if (set_aside(sf, path,
		      n == (ssize_t)sizeof(head) ? layout_problem(&head, st.st_size) :
						   "it is shorter than a state file"))
		return -EIO;
	return init_layout(sf, path);
}

int state_file__open(struct state_file *sf, const char *path)
{
	int err;

	memset(sf, 0, sizeof(*sf));
	read_boot_id(sf->boot_id);
	sf->fd = open_locked(path);
	if (sf->fd < 0) {
		err = sf->fd;
		sf->fd = -1;
		return err;
	}
	err = check_contents(sf, path);
	err = err ?: map_file(sf, path);
	if (err) {
		state_file__close(sf);
		return err;
	}
	if (!sf->map->magic[0]) { /* new */
		memcpy(sf->map->magic, STATE_FILE_MAGIC, sizeof(STATE_FILE_MAGIC));
		sf->map->version = STATE_FILE_VERSION;
		sf->map->size = STATE_FILE_SIZE;
	}
	sf->same_boot = sf->boot_id[0] && !strcmp(sf->boot_id, sf->map->boot_id);
	memcpy(sf->map->boot_id, sf->boot_id, sizeof(sf->boot_id));
	return 0;
}

void state_file__close(struct state_file *sf)
{
	if (sf->map) {
		msync(sf->map, STATE_FILE_SIZE, MS_SYNC);
		munmap(sf->map, STATE_FILE_SIZE);
	}
	if (sf->fd >= 0)
		close(sf->fd);
	sf->map = NULL;
	sf->fd = -1;
}

/* ---- records ----------------------------------------------------------------------------- */

static void record_begin(__u32 *gen)
{
	__atomic_store_n(gen, *gen | 1, __ATOMIC_RELAXED);
	atomic_thread_fence(memory_order_release);
}

static void record_end(__u32 *gen)
{
	atomic_thread_fence(memory_order_release);
	__atomic_store_n(gen, *gen + 1, __ATOMIC_RELAXED);
}

static bool record_whole(__u32 gen)
{
	return !(gen & 1);
}

static const struct state_site_record *site_record(const struct state_file *sf, __u16 id,
						   const char *name)
{
	const struct state_site_record *r;

	if (!sf->map || id >= DT_MAX_SITES)
		return NULL;
	r = &sf->map->site[id];
	if (!record_whole(r->gen) || strncmp(r->name, name, sizeof(r->name)))
		return NULL;
	return r;
}

/* The record of site @id, for @name: a record of another site that had this id is forgotten. */
static struct state_site_record *site_record_for(struct state_file *sf, __u16 id, const char *name)
{
	struct state_site_record *r;

	if (!sf->map || id >= DT_MAX_SITES)
		return NULL;
	r = &sf->map->site[id];
	if (!strncmp(r->name, name, sizeof(r->name)) && record_whole(r->gen))
		return r;
	record_begin(&r->gen);
	memset((char *)r + sizeof(r->gen), 0, sizeof(*r) - sizeof(r->gen));
	snprintf(r->name, sizeof(r->name), "%s", name);
	record_end(&r->gen);
	return r;
}

bool state_file__site(const struct state_file *sf, __u16 id, const char *name,
		      struct health_seed *out)
{
	const struct state_site_record *r = site_record(sf, id, name);

	if (!r || !r->valid)
		return false;
	*out = (struct health_seed){ .override = (enum health_override)r->override };
	if (!sf->same_boot) {
		out->state = r->override == HEALTH_OVERRIDE_FAIL ? DT_SITE_DOWN : DT_SITE_UNKNOWN;
		return r->override != HEALTH_OVERRIDE_NONE;
	}
	out->state = (enum dt_site_state)r->state;
	out->since_ns = r->since_ns;
	out->flaps = r->flaps;
	out->penalty = r->penalty;
	out->penalty_ns = r->penalty_ns;
	out->reuse_ns = r->reuse_ns;
	return true;
}

void state_file__put_site(struct state_file *sf, __u16 id, const char *name,
			  const struct health_seed *seed)
{
	struct state_site_record *r = site_record_for(sf, id, name);

	if (!r)
		return;
	record_begin(&r->gen);
	r->valid = 1;
	r->state = seed->state;
	r->override = seed->override;
	r->since_ns = seed->since_ns;
	r->flaps = seed->flaps;
	r->penalty = seed->penalty;
	r->penalty_ns = seed->penalty_ns;
	r->reuse_ns = seed->reuse_ns;
	record_end(&r->gen);
}

bool state_file__beacon(const struct state_file *sf, __u16 id, const char *name, unsigned int b,
			struct hb_beacon_state *out)
{
	const struct state_site_record *r = site_record(sf, id, name);
	const struct state_beacon_record *br;

	if (!r || b >= HB_MAX_BEACONS)
		return false;
	br = &r->beacon[b];
	if (!record_whole(br->gen) || !br->seen)
		return false;
	*out = (struct hb_beacon_state){ .seen = true, .epoch = br->epoch, .top = br->top };
	return true;
}

void state_file__put_beacon(struct state_file *sf, __u16 id, const char *name, unsigned int b,
			    const struct hb_beacon_state *st)
{
	struct state_site_record *r = site_record_for(sf, id, name);
	struct state_beacon_record *br;

	if (!r || b >= HB_MAX_BEACONS || !st->seen)
		return;
	br = &r->beacon[b];
	if (br->seen && br->epoch == st->epoch && br->top >= st->top)
		return;
	record_begin(&br->gen);
	br->seen = 1;
	br->epoch = st->epoch;
	br->top = st->top;
	record_end(&br->gen);
}
