/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Attach, query, detach and unpin.
 *
 * Attaching prefers libxdp's multi-program dispatcher, which lets Detour share an interface with
 * other XDP programs. The dispatcher needs the kernel to accept freplace (BPF_PROG_TYPE_EXT)
 * programs; some kernels refuse them (lockdown, or a distribution policy). libxdp would then
 * quietly attach the program alone; we probe for freplace first instead, so that the fallback is
 * ours, logged, and refusable: DT_XDP_PATH_LIBXDP fails rather than falling back.
 *
 * The direct path is one program through netlink, bpf_xdp_attach(), with
 * XDP_FLAGS_UPDATE_IF_NOEXIST so that a program we do not own is never replaced, and
 * XDP_FLAGS_REPLACE with the old program's fd when an older detour_xdp is swapped for a new one:
 * the swap is atomic, no packet misses XDP.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "dt_names.h"
#include "dt_log.h"
#include "dt_xdp_internal.h"
#include "detour.skel.h"
#include "xdp_pass.skel.h"

static __u32 mode_flags(enum dt_xdp_mode mode)
{
	return mode == DT_XDP_MODE_GENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

static int ifindex_of(const char *ifname, int *ifindex)
{
	unsigned int idx;

	if (!ifname || !ifname[0] || strlen(ifname) >= IF_NAMESIZE) {
		dt_log_warn("interface %s: not a valid interface name", ifname ? ifname : "(null)");
		return -EINVAL;
	}
	idx = if_nametoindex(ifname);
	if (!idx) {
		dt_log_warn("interface %s: no such interface", ifname);
		return -ENODEV;
	}
	*ifindex = (int)idx;
	return 0;
}

static int prog_name_by_id(__u32 id, char name[BPF_OBJ_NAME_LEN])
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd, err = 0;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	else
		memcpy(name, info.name, BPF_OBJ_NAME_LEN);
	close(fd);
	return err;
}

/* Is detour_xdp one of the programs behind libxdp's dispatcher on ifindex? */
static bool dispatcher_holds_detour(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;
	bool found = false;

	if (libxdp_get_error(mp))
		return false;
	while (!found && (p = xdp_multiprog__next_prog(p, mp)))
		found = !strcmp(xdp_program__name(p), DT_XDP_PROG_NAME);
	xdp_multiprog__close(mp);
	return found;
}

static int query_ifindex(const char *ifname, int ifindex, struct dt_xdp_status *st)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err;

	memset(st, 0, sizeof(*st));
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err) {
		dt_log_warn("interface %s: query XDP: %s", ifname, strerror(-err));
		return err;
	}
	st->prog_id = q.drv_prog_id ?: q.skb_prog_id;
	st->mode = q.drv_prog_id ? DT_XDP_MODE_NATIVE : DT_XDP_MODE_GENERIC;
	if (!st->prog_id)
		return 0;
	err = prog_name_by_id(st->prog_id, st->prog_name);
	if (err == -ENOENT) /* detached under our feet: report what is there now, nothing */
		return query_ifindex(ifname, ifindex, st);
	st->dispatcher = !strcmp(st->prog_name, DT_XDP_DISPATCHER_NAME);
	st->ours = !strcmp(st->prog_name, DT_XDP_PROG_NAME) ||
		   (st->dispatcher && dispatcher_holds_detour(ifindex));
	return 0;
}

int dt_xdp_query(const char *ifname, struct dt_xdp_status *st)
{
	int ifindex, err;

	err = ifindex_of(ifname, &ifindex);
	return err ?: query_ifindex(ifname, ifindex, st);
}

static int report_foreign(const char *ifname, const struct dt_xdp_status *st)
{
	dt_log_warn(
		"interface %s: another XDP program is attached: %s (id %u, %s mode); Detour never "
		"replaces it, detach it first",
		ifname, st->prog_name, st->prog_id, dt_xdp_mode_name(st->mode));
	return -EEXIST;
}

static int report_attach_error(const char *ifname, int ifindex, enum dt_xdp_mode mode, int err)
{
	struct dt_xdp_status st;

	if (err == -EOPNOTSUPP) {
		dt_log_warn("interface %s: XDP is not supported in %s mode on this device%s",
			    ifname, dt_xdp_mode_name(mode),
			    mode == DT_XDP_MODE_NATIVE ? " (try generic mode)" : "");
	} else if ((err == -EEXIST || err == -EBUSY) && !query_ifindex(ifname, ifindex, &st) &&
		   st.prog_id) {
		report_foreign(ifname, &st); /* appeared between our query and our attach */
		err = -EEXIST;
	} else {
		dt_log_warn("interface %s: attach in %s mode: %s", ifname, dt_xdp_mode_name(mode),
			    strerror(-err));
	}
	return err;
}

static int attach_direct(struct dt_xdp *x, const char *ifname, int ifindex,
			 const struct dt_xdp_attach_opts *o, struct dt_xdp_attach_result *r)
{
	__u32 flags = mode_flags(o->mode) | XDP_FLAGS_UPDATE_IF_NOEXIST;
	int err;

	err = bpf_xdp_attach(ifindex, x->prog_fd, flags, NULL);
	if (err)
		return report_attach_error(ifname, ifindex, o->mode, err);
	r->path = DT_XDP_PATH_DIRECT;
	r->prog_id = x->prog_id;
	dt_log_info("interface %s: detour_xdp (id %u) attached in %s mode through netlink", ifname,
		    x->prog_id, dt_xdp_mode_name(o->mode));
	return 0;
}

static int replace_direct(struct dt_xdp *x, const char *ifname, int ifindex,
			  const struct dt_xdp_status *st, struct dt_xdp_attach_result *r)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
	int old_fd, err;

	old_fd = bpf_prog_get_fd_by_id(st->prog_id);
	if (old_fd < 0) {
		err = -errno;
		dt_log_warn("interface %s: open attached detour_xdp (id %u): %s", ifname,
			    st->prog_id, strerror(-err));
		return err;
	}
	/* REPLACE with the old fd: the kernel swaps only if that program is still the one there. */
	ao.old_prog_fd = old_fd;
	err = bpf_xdp_attach(ifindex, x->prog_fd, mode_flags(st->mode) | XDP_FLAGS_REPLACE, &ao);
	close(old_fd);
	if (err)
		return report_attach_error(ifname, ifindex, st->mode, err);
	r->path = DT_XDP_PATH_DIRECT;
	r->prog_id = x->prog_id;
	r->replaced = true;
	dt_log_info("interface %s: detour_xdp id %u replaced atomically by id %u (%s mode)", ifname,
		    st->prog_id, x->prog_id, dt_xdp_mode_name(st->mode));
	return 0;
}

/* Load xdp_pass, then an freplace copy of it targeting the first: what the dispatcher needs. */
static int probe_freplace(void)
{
	struct xdp_pass *target, *ext = NULL;
	struct bpf_link *link = NULL;
	int tfd, err;

	target = xdp_pass__open_and_load();
	if (!target)
		return -errno;
	tfd = bpf_program__fd(target->progs.xdp_pass);
	ext = xdp_pass__open();
	err = ext ? 0 : -errno;
	if (!err) {
		bpf_program__set_type(ext->progs.xdp_pass, BPF_PROG_TYPE_EXT);
		bpf_program__set_expected_attach_type(ext->progs.xdp_pass, 0);
		err = bpf_program__set_attach_target(ext->progs.xdp_pass, tfd, "xdp_pass");
	}
	err = err ?: xdp_pass__load(ext);
	if (!err) {
		link = bpf_program__attach_freplace(ext->progs.xdp_pass, tfd, "xdp_pass");
		err = link ? 0 : -errno;
	}
	bpf_link__destroy(link);
	xdp_pass__destroy(ext);
	xdp_pass__destroy(target);
	return err;
}

static int freplace_supported(struct dt_xdp *x)
{
	if (!x->freplace_probe) {
		dt_xdp_quiet_libs(true); /* the probe's failure is an answer, not an error */
		x->freplace_probe = probe_freplace() ?: 1;
		dt_xdp_quiet_libs(false);
	}
	return x->freplace_probe < 0 ? x->freplace_probe : 0;
}

/* libxdp fell back to a lone program by itself: only DT_XDP_PATH_LIBXDP objects to that. */
static int check_dispatcher(const char *ifname, int ifindex, struct xdp_program *xp,
			    const struct dt_xdp_attach_opts *o, struct dt_xdp_attach_result *r)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	bool legacy = !libxdp_get_error(mp) && xdp_multiprog__is_legacy(mp);

	xdp_multiprog__close(mp);
	if (!legacy)
		return 0;
	if (o->path == DT_XDP_PATH_LIBXDP) {
		xdp_program__detach(xp, ifindex, (enum xdp_attach_mode)0, 0);
		dt_log_warn(
			"interface %s: libxdp attached detour_xdp without its dispatcher; detached "
			"again, as libxdp-only was requested",
			ifname);
		return -EOPNOTSUPP;
	}
	r->fell_back = true;
	dt_log_info(
		"interface %s: libxdp attached detour_xdp without its dispatcher (single program)",
		ifname);
	return 0;
}

static enum xdp_attach_mode libxdp_mode(enum dt_xdp_mode mode)
{
	return mode == DT_XDP_MODE_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE;
}

/*
 * libxdp loads the program itself, as an extension of its dispatcher, so it gets a fresh unloaded
 * copy of the skeleton. The copy's maps are the pinned ones: it shares all state with x.
 */
static int attach_libxdp(struct dt_xdp *x, const char *ifname, int ifindex,
			 const struct dt_xdp_attach_opts *o, struct dt_xdp_attach_result *r)
{
	struct xdp_program *xp = NULL;
	struct detour *skel;
	int err;

	err = dt_xdp_open_skel(&x->opts, &skel);
	if (err)
		return err;
	err = dt_xdp_check_pins(skel, x->pin_root);
	if (err) {
		detour__destroy(skel);
		return err;
	}
	xp = xdp_program__from_bpf_obj(skel->obj, NULL);
	err = (int)libxdp_get_error(xp);
	err = err ?: xdp_program__attach(xp, ifindex, libxdp_mode(o->mode), 0);
	if (err)
		dt_log_warn("interface %s: libxdp attach in %s mode: %s", ifname,
			    dt_xdp_mode_name(o->mode), strerror(-err));
	err = err ?: check_dispatcher(ifname, ifindex, xp, o, r);
	if (!err) {
		r->path = DT_XDP_PATH_LIBXDP;
		r->prog_id = xdp_program__id(xp);
		dt_log_info("interface %s: detour_xdp (id %u) attached through libxdp in %s mode",
			    ifname, r->prog_id, dt_xdp_mode_name(o->mode));
	}
	if (!libxdp_get_error(xp))
		xdp_program__close(xp);
	detour__destroy(skel); /* libxdp pinned its links: the attachment outlives these fds */
	return err;
}

static int attach_fresh(struct dt_xdp *x, const char *ifname, int ifindex,
			const struct dt_xdp_attach_opts *o, struct dt_xdp_attach_result *r)
{
	int err;

	if (o->path == DT_XDP_PATH_DIRECT)
		return attach_direct(x, ifname, ifindex, o, r);
	err = freplace_supported(x);
	if (!err)
		return attach_libxdp(x, ifname, ifindex, o, r);
	if (o->path == DT_XDP_PATH_LIBXDP) {
		dt_log_warn(
			"interface %s: libxdp dispatcher unavailable: the kernel refused an freplace "
			"program (%s); attach without libxdp-only to use the direct path",
			ifname, strerror(-err));
		return -EOPNOTSUPP;
	}
	dt_log_info("interface %s: libxdp dispatcher unavailable (kernel refused freplace: %s); "
		    "falling back to direct attach",
		    ifname, strerror(-err));
	r->fell_back = true;
	return attach_direct(x, ifname, ifindex, o, r);
}

/* Something is attached already: keep it, replace it, join its dispatcher, or refuse. */
static int attach_over(struct dt_xdp *x, const char *ifname, int ifindex,
		       const struct dt_xdp_attach_opts *o, const struct dt_xdp_status *st,
		       struct dt_xdp_attach_result *r)
{
	if (st->prog_id == x->prog_id && st->mode == o->mode) {
		dt_log_info("interface %s: detour_xdp (id %u) is already attached, kept", ifname,
			    st->prog_id);
		r->prog_id = st->prog_id;
		r->path = DT_XDP_PATH_DIRECT;
		return 0;
	}
	if (st->dispatcher && !st->ours && st->mode == o->mode && o->path != DT_XDP_PATH_DIRECT)
		return attach_libxdp(x, ifname, ifindex, o,
				     r); /* join the programs already there */
	if (!st->ours)
		return report_foreign(ifname, st);
	if (st->dispatcher || st->mode != o->mode) {
		dt_log_warn("interface %s: detour_xdp is attached %s in %s mode; detach it before "
			    "attaching %s in %s mode",
			    ifname, st->dispatcher ? "through libxdp" : "directly",
			    dt_xdp_mode_name(st->mode),
			    o->path == DT_XDP_PATH_LIBXDP ? "through libxdp" : "again",
			    dt_xdp_mode_name(o->mode));
		return -EEXIST;
	}
	return replace_direct(x, ifname, ifindex, st, r);
}

int dt_xdp__attach(struct dt_xdp *x, const char *ifname, const struct dt_xdp_attach_opts *opts,
		   struct dt_xdp_attach_result *res)
{
	struct dt_xdp_attach_opts defaults = { .mode = DT_XDP_MODE_NATIVE };
	struct dt_xdp_attach_result r = {};
	struct dt_xdp_status st;
	int ifindex, err;

	if (!x || x->prog_fd < 0) {
		dt_log_warn("interface %s: attach: no program loaded (an adopted object has none)",
			    ifname ? ifname : "(null)");
		return -EINVAL;
	}
	opts = opts ?: &defaults;
	err = ifindex_of(ifname, &ifindex);
	err = err ?: query_ifindex(ifname, ifindex, &st);
	if (err)
		return err;
	if (st.prog_id)
		err = attach_over(x, ifname, ifindex, opts, &st, &r);
	else
		err = attach_fresh(x, ifname, ifindex, opts, &r);
	if (!err)
		dt_xdp_check_veth_csum(ifname, ifindex);
	if (!err && res)
		*res = r;
	return err;
}

static int detach_libxdp(const char *ifname, int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;
	int err = -ENOENT;

	if (libxdp_get_error(mp))
		return (int)libxdp_get_error(mp);
	while (err == -ENOENT && (p = xdp_multiprog__next_prog(p, mp)))
		if (!strcmp(xdp_program__name(p), DT_XDP_PROG_NAME))
			err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
	xdp_multiprog__close(mp);
	if (err)
		dt_log_warn("interface %s: detach detour_xdp from libxdp's dispatcher: %s", ifname,
			    strerror(-err));
	return err;
}

static int detach_direct(const char *ifname, int ifindex, const struct dt_xdp_status *st)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
	int err;

	ao.old_prog_fd = bpf_prog_get_fd_by_id(st->prog_id);
	if (ao.old_prog_fd < 0)
		return -errno;
	/* REPLACE: remove detour_xdp only, not whatever someone attached since our query. */
	err = bpf_xdp_detach(ifindex, mode_flags(st->mode) | XDP_FLAGS_REPLACE, &ao);
	close(ao.old_prog_fd);
	if (err)
		dt_log_warn("interface %s: detach detour_xdp (id %u): %s", ifname, st->prog_id,
			    strerror(-err));
	return err;
}

int dt_xdp_detach(const char *ifname)
{
	struct dt_xdp_status st;
	int ifindex, err;

	dt_xdp_hook_libs();
	err = ifindex_of(ifname, &ifindex);
	err = err ?: query_ifindex(ifname, ifindex, &st);
	if (err)
		return err;
	if (!st.prog_id) {
		dt_log_warn("interface %s: no XDP program attached", ifname);
		return -ENOENT;
	}
	if (!st.ours) {
		dt_log_warn("interface %s: %s (id %u) is attached, not detour_xdp: left alone",
			    ifname, st.prog_name, st.prog_id);
		return -EEXIST;
	}
	err = st.dispatcher ? detach_libxdp(ifname, ifindex) : detach_direct(ifname, ifindex, &st);
	if (!err)
		dt_log_info("interface %s: detour_xdp detached (%s mode)", ifname,
			    dt_xdp_mode_name(st.mode));
	return err;
}

int dt_xdp_unpin(const char *pin_root)
{
	char path[PATH_MAX];
	int i, err = 0;

	if (!pin_root || pin_root[0] != '/')
		return -EINVAL;
	err = dt_xdp_check_bpffs(pin_root);
	for (i = 0; !err && i < DT_MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_root, dt_xdp_map_names[i]);
		if (unlink(path) && errno != ENOENT) {
			err = -errno;
			dt_log_warn("map %s: unpin %s: %s", dt_xdp_map_names[i], path,
				    strerror(-err));
		}
	}
	if (!err && rmdir(pin_root) && errno != ENOENT) {
		err = -errno;
		dt_log_warn("pin root %s: remove: %s", pin_root, strerror(-err));
	}
	if (!err)
		dt_log_info("pin root %s: every Detour map unpinned", pin_root);
	return err;
}
