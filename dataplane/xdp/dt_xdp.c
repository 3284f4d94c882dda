/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Load and adopt: open the detour skeleton, size its maps, load it with every map pinned by name
 * under the pin root, or open the maps already pinned there without loading anything.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dt_log.h"
#include "dt_xdp_internal.h"
#include "detour.skel.h"

/* LRU and trie sizes beyond this are a typo, not a configuration (64 Mi flows is 3.5 GiB). */
#define DT_XDP_MAX_TABLE_SIZE (1u << 26)

const char *const dt_xdp_map_names[DT_MAP_COUNT] = {
	[DT_MAP_PREFIX_V4] = "dt_prefix_v4",   [DT_MAP_PREFIX_V6] = "dt_prefix_v6",
	[DT_MAP_SITE_STATE] = "dt_site_state", [DT_MAP_SITE] = "dt_site",
	[DT_MAP_FAILOVER] = "dt_failover",     [DT_MAP_FLOWS] = "dt_flows",
	[DT_MAP_EGRESS] = "dt_egress",	       [DT_MAP_COUNTERS] = "dt_counters",
	[DT_MAP_FLOW_GEN] = "dt_flow_gen",     [DT_MAP_FLOW_NEW] = "dt_flow_new",
	[DT_MAP_TCP_SEEN] = "dt_tcp_seen",
};

void dt_xdp_opts__init(struct dt_xdp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pin_root = DT_PIN_ROOT_DEFAULT;
	o->flow_table_size = DT_FLOW_TABLE_DEFAULT;
	o->max_prefixes = DT_MAX_PREFIXES_DEFAULT;
}

/*
 * The name of the named network namespace this process is in (the one `ip netns exec NAME` put it
 * in: its /run/netns/NAME is our /proc/self/ns/net) into @name; false when it is in none.
 */
static bool named_netns(char *name, size_t len)
{
	struct stat self, ns;
	struct dirent *e;
	char path[PATH_MAX];
	bool found = false;
	DIR *dir;

	if (stat("/proc/self/ns/net", &self) || !(dir = opendir("/run/netns")))
		return false;
	while (!found && (e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", e->d_name);
		if (!stat(path, &ns) && ns.st_dev == self.st_dev && ns.st_ino == self.st_ino) {
			snprintf(name, len, "%s", e->d_name);
			found = true;
		}
	}
	closedir(dir);
	return found;
}

int dt_xdp_check_bpffs(const char *pin_root)
{
	char parent[PATH_MAX], ns[NAME_MAX + 1];
	struct statfs st;
	char *slash;

	snprintf(parent, sizeof(parent), "%s", pin_root);
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0'; /* a pin root right under "/": its parent is "/" */
	else if (slash)
		*slash = '\0';
	if (statfs(parent, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (!strncmp(parent, "/sys/", 5) && named_netns(ns, sizeof(ns)))
		dt_log_warn(
			"pin root %s: bpffs is not mounted at %s: this process is in network "
			"namespace %s, and `ip netns exec` mounts a fresh /sys for every command, "
			"so a bpffs mounted under /sys lasts only as long as that one command: "
			"mount one outside /sys first (mkdir -p /run/detour/bpffs && "
			"mount -t bpf bpf /run/detour/bpffs) and put the pin root under it "
			"(pin_root = /run/detour/bpffs/detour)",
			pin_root, parent, ns);
	else
		dt_log_warn("pin root %s: bpffs is not mounted at %s (mount -t bpf bpf %s)",
			    pin_root, parent, parent);
	return -ENOENT;
}

static int opts__validate(const struct dt_xdp_opts *o)
{
	if (!o->pin_root || o->pin_root[0] != '/' || strlen(o->pin_root) > PATH_MAX - 64) {
		dt_log_warn("pin root %s: must be an absolute path",
			    o->pin_root ? o->pin_root : "(null)");
		return -EINVAL;
	}
	if (!o->flow_table_size || o->flow_table_size > DT_XDP_MAX_TABLE_SIZE) {
		dt_log_warn("map dt_flows: flow-table size %u is out of range 1..%u",
			    o->flow_table_size, DT_XDP_MAX_TABLE_SIZE);
		return -EINVAL;
	}
	if (!o->max_prefixes || o->max_prefixes > DT_XDP_MAX_TABLE_SIZE) {
		dt_log_warn("map dt_prefix_v4/v6: %u prefixes per family is out of range 1..%u",
			    o->max_prefixes, DT_XDP_MAX_TABLE_SIZE);
		return -EINVAL;
	}
	return 0;
}

/* Validate, check bpffs, and allocate an object with no fds yet. */
static int dt_xdp__new(const struct dt_xdp_opts *opts, struct dt_xdp **out)
{
	struct dt_xdp_opts defaults;
	struct dt_xdp *x;
	int i, err;

	dt_xdp_hook_libs();
	if (!opts) {
		dt_xdp_opts__init(&defaults);
		opts = &defaults;
	}
	err = opts__validate(opts);
	err = err ?: dt_xdp_check_bpffs(opts->pin_root);
	if (err)
		return err;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->opts = *opts;
	snprintf(x->pin_root, sizeof(x->pin_root), "%s", opts->pin_root);
	x->opts.pin_root = x->pin_root;
	x->prog_fd = -1;
	for (i = 0; i < DT_MAP_COUNT; i++)
		x->map_fd[i] = -1;
	*out = x;
	return 0;
}

int dt_xdp_open_skel(const struct dt_xdp_opts *opts, struct detour **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = opts->pin_root);
	struct detour *skel;
	int err;

	skel = detour__open_opts(&oo);
	if (!skel) {
		err = -errno;
		dt_log_warn("program detour_xdp: open skeleton: %s", strerror(-err));
		return err;
	}
	skel->rodata->flow_hash_seed = opts->flow_hash_seed;
	err = bpf_map__set_max_entries(skel->maps.dt_flows, opts->flow_table_size);
	err = err ?: bpf_map__set_max_entries(skel->maps.dt_flow_new, opts->flow_table_size);
	err = err ?: bpf_map__set_max_entries(skel->maps.dt_prefix_v4, opts->max_prefixes);
	err = err ?: bpf_map__set_max_entries(skel->maps.dt_prefix_v6, opts->max_prefixes);
	if (err) {
		dt_log_warn("program detour_xdp: size maps: %s", strerror(-err));
		detour__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

static int pin_path(const char *pin_root, int id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", pin_root, dt_xdp_map_names[id]);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A pinned map libbpf would refuse to reuse: say which property differs, and the way out. */
static int map__check_compat(const struct bpf_map *map, const struct bpf_map_info *info,
			     const char *path, bool sizes)
{
	/* The kernel adds BPF_F_RDONLY_PROG to every devmap: not a difference we asked for. */
	__u32 kernel_flags = info->type == BPF_MAP_TYPE_DEVMAP ? BPF_F_RDONLY_PROG : 0;
	const struct {
		const char *what;
		__u32 pinned, wanted;
	} f[] = {
		{ "type", info->type, bpf_map__type(map) },
		{ "key size", info->key_size, bpf_map__key_size(map) },
		{ "value size", info->value_size, bpf_map__value_size(map) },
		{ "max_entries", sizes ? info->max_entries : 0,
		  sizes ? bpf_map__max_entries(map) : 0 },
		{ "map flags", info->map_flags & ~kernel_flags, bpf_map__map_flags(map) },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].pinned == f[i].wanted)
			continue;
		dt_log_warn(
			"map %s: pinned at %s has %s %u but this configuration wants %u; restore the "
			"old setting, or drop the pinned state (flows, counters) with 'detach --unpin'",
			bpf_map__name(map), path, f[i].what, f[i].pinned, f[i].wanted);
		return -EINVAL;
	}
	return 0;
}

/* Open the pin of one map: fd >= 0, or -ENOENT when absent (not logged), or another -errno. */
static int map__open_pin(const char *name, const char *path, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);
	int fd, err;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len)) {
		err = -errno;
		dt_log_warn("map %s: read info of pin %s: %s", name, path, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

/*
 * libbpf 1.1 cannot reuse a pinned devmap: the kernel adds BPF_F_RDONLY_PROG to its flags and
 * libbpf's compatibility check then sees a mismatch (fixed in later libbpf). Having checked the pin
 * ourselves, hand libbpf its fd and take the pin path away so that libbpf does not check again.
 */
static int map__reuse_devmap(struct bpf_map *map, int fd)
{
	int err = bpf_map__set_pin_path(map, NULL);

	err = err ?: bpf_map__reuse_fd(map, fd);
	if (err)
		dt_log_warn("map %s: reuse pinned devmap: %s", bpf_map__name(map), strerror(-err));
	return err;
}

/* One map: absent pin is fine (libbpf creates and pins it), else it must be compatible. */
static int map__check_pin(struct bpf_map *map, const char *path)
{
	struct bpf_map_info info;
	int fd, err;

	fd = map__open_pin(bpf_map__name(map), path, &info);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0) {
		dt_log_warn("map %s: open pin %s: %s", bpf_map__name(map), path, strerror(-fd));
		return fd;
	}
	err = map__check_compat(map, &info, path, true);
	if (!err && info.type == BPF_MAP_TYPE_DEVMAP)
		err = map__reuse_devmap(map, fd);
	close(fd);
	if (!err)
		dt_log_debug("map %s: reusing the pin at %s", bpf_map__name(map), path);
	return err;
}

/*
 * libbpf would also refuse an incompatible pin, but only with "parameter mismatch"; checking first
 * lets the error say which map, which property, and what to do.
 */
int dt_xdp_check_pins(struct detour *skel, const char *pin_root)
{
	char path[PATH_MAX];
	int i, err = 0;

	for (i = 0; !err && i < DT_MAP_COUNT; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(skel->obj, dt_xdp_map_names[i]);

		err = pin_path(pin_root, i, path, sizeof(path));
		err = err ?: map__check_pin(map, path);
	}
	return err;
}

static void prog__report_loaded(struct dt_xdp *x)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(x->prog_fd, &info, &len))
		return;
	x->prog_id = info.id;
	dt_log_info(
		"program detour_xdp: loaded, id %u, %u instructions verified, maps pinned under %s",
		info.id, info.verified_insns, x->pin_root);
}

static int dt_xdp__load_skel(struct dt_xdp *x)
{
	int i, err;

	err = detour__load(x->skel);
	if (err) {
		/* libbpf has already printed the verifier log or the failing map through our sink. */
		dt_log_warn("program detour_xdp: load: %s%s", strerror(-err),
			    err == -EACCES || err == -EINVAL ?
				    " (a verifier rejection prints the verifier log above)" :
				    "");
		return err;
	}
	for (i = 0; i < DT_MAP_COUNT; i++)
		x->map_fd[i] = bpf_object__find_map_fd_by_name(x->skel->obj, dt_xdp_map_names[i]);
	x->prog_fd = bpf_program__fd(x->skel->progs.detour_xdp);
	x->flow_max_entries = bpf_map__max_entries(x->skel->maps.dt_flows);
	prog__report_loaded(x);
	return dt_xdp_map_flow_gen(x);
}

int dt_xdp__load(const struct dt_xdp_opts *opts, struct dt_xdp **out)
{
	struct dt_xdp *x;
	int err;

	*out = NULL;
	err = dt_xdp__new(opts, &x);
	if (err)
		return err;
	err = dt_xdp_open_skel(&x->opts, &x->skel);
	err = err ?: dt_xdp_check_pins(x->skel, x->pin_root);
	err = err ?: dt_xdp__load_skel(x);
	if (err) {
		dt_xdp__close(x);
		return err;
	}
	*out = x;
	return 0;
}

/* Open one pinned map for adoption, checking it has the layout this build expects. */
static int dt_xdp__adopt_map(struct dt_xdp *x, int id)
{
	const char *name = dt_xdp_map_names[id];
	struct bpf_map *map = bpf_object__find_map_by_name(x->skel->obj, name);
	struct bpf_map_info info;
	char path[PATH_MAX];
	int fd, err;

	err = pin_path(x->pin_root, id, path, sizeof(path));
	if (err)
		return err;
	fd = map__open_pin(name, path, &info);
	if (fd == -ENOENT)
		dt_log_warn("map %s: not pinned at %s: nothing to adopt, load the program first",
			    name, path);
	else if (fd < 0)
		dt_log_warn("map %s: open pin %s: %s", name, path, strerror(-fd));
	if (fd < 0)
		return fd;
	x->map_fd[id] = fd;
	if (id == DT_MAP_FLOWS)
		x->flow_max_entries = info.max_entries;
	/* Sizes are whatever the running program was loaded with; the layouts must match ours. */
	return map__check_compat(map, &info, path, false);
}

int dt_xdp__adopt(const struct dt_xdp_opts *opts, struct dt_xdp **out)
{
	struct dt_xdp *x;
	int i, err;

	*out = NULL;
	err = dt_xdp__new(opts, &x);
	if (err)
		return err;
	x->adopted = true;
	/* The skeleton is opened, never loaded: it knows each map's expected layout. */
	err = dt_xdp_open_skel(&x->opts, &x->skel);
	for (i = 0; !err && i < DT_MAP_COUNT; i++)
		err = dt_xdp__adopt_map(x, i);
	err = err ?: dt_xdp_map_flow_gen(x);
	if (err) {
		dt_xdp__close(x);
		return err;
	}
	dt_log_info("pin root %s: adopted %d pinned maps", x->pin_root, DT_MAP_COUNT);
	*out = x;
	return 0;
}

void dt_xdp__close(struct dt_xdp *x)
{
	int i;

	if (!x)
		return;
	if (x->flow_gen)
		munmap(x->flow_gen, (size_t)sysconf(_SC_PAGESIZE));
	for (i = 0; x->adopted && i < DT_MAP_COUNT; i++)
		if (x->map_fd[i] >= 0)
			close(x->map_fd[i]);
	/* Only fds are released: pins and netlink attachments stay, by design. */
	detour__destroy(x->skel);
	free(x);
}

__u32 dt_xdp__prog_id(const struct dt_xdp *x)
{
	return x ? x->prog_id : 0;
}
