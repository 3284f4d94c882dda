/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dt_xdp_helper: drives the XDP loader library from test_xdp_netns.sh. Not an operator tool (that
 * is detourctl); every command is one library call, prints one result line on stdout, and exits 0
 * or 1, with the library's own error lines on stderr.
 *
 *   dt_xdp_helper [--pin-root DIR] [--flow-table N] [--seed N] [-v] COMMAND ...
 *     attach IFNAME [--generic] [--direct | --libxdp]   load (reusing pins) and attach
 *     detach IFNAME [--unpin]                           detach detour_xdp, optionally unpin
 *     query IFNAME                                      what is attached
 *     set-state SITE STATE | get-state SITE             through adopted pins
 *     foreign IFNAME                                    attach xdp_pass (not ours) natively
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/libbpf.h>

#include "dt_names.h"
#include "dt_log.h"
#include "dt_xdp.h"
#include "xdp_pass.skel.h"

struct helper_opts {
	struct dt_xdp_opts load;
	struct dt_xdp_attach_opts attach;
	bool unpin;
};

static int parse_u32(const char *s, const char *what, __u32 *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > 0xffffffffUL) {
		fprintf(stderr, "dt_xdp_helper: %s: not a number: %s\n", what, s);
		return -EINVAL;
	}
	*out = (__u32)v;
	return 0;
}

static const char *path_name(enum dt_xdp_path p)
{
	return p == DT_XDP_PATH_LIBXDP ? "libxdp" : "direct";
}

static int do_attach(struct helper_opts *o, char **argv)
{
	struct dt_xdp_attach_result r;
	struct dt_xdp *x;
	int err;

	err = dt_xdp__load(&o->load, &x);
	err = err ?: dt_xdp__attach(x, argv[0], &o->attach, &r);
	if (!err)
		printf("attached %s prog_id=%u path=%s fell_back=%d replaced=%d\n", argv[0],
		       r.prog_id, path_name(r.path), r.fell_back, r.replaced);
	dt_xdp__close(x);
	return err;
}

static int do_detach(struct helper_opts *o, char **argv)
{
	int err = dt_xdp_detach(argv[0]);

	if (!err && o->unpin)
		err = dt_xdp_unpin(o->load.pin_root);
	if (!err)
		printf("detached %s unpinned=%d\n", argv[0], o->unpin);
	return err;
}

static int do_query(struct helper_opts *o, char **argv)
{
	struct dt_xdp_status st;
	int err = dt_xdp_query(argv[0], &st);

	if (!err)
		printf("%s prog_id=%u name=%s mode=%s ours=%d\n", argv[0], st.prog_id,
		       st.prog_id ? st.prog_name : "-", dt_xdp_mode_name(st.mode), st.ours);
	return err;
}

static int do_set_state(struct helper_opts *o, char **argv)
{
	__u32 site, state;
	struct dt_xdp *x;
	int err;

	err = parse_u32(argv[0], "site", &site) ?: parse_u32(argv[1], "state", &state);
	err = err ?: dt_xdp__adopt(&o->load, &x);
	if (err)
		return err;
	err = dt_xdp__set_site_state(x, site, (enum dt_site_state)state);
	if (!err)
		printf("site %u state=%u\n", site, state);
	dt_xdp__close(x);
	return err;
}

static int do_get_state(struct helper_opts *o, char **argv)
{
	enum dt_site_state state;
	struct dt_xdp *x;
	__u32 site;
	int err;

	err = parse_u32(argv[0], "site", &site);
	err = err ?: dt_xdp__adopt(&o->load, &x);
	if (err)
		return err;
	err = dt_xdp__site_state(x, site, &state);
	if (!err)
		printf("site %u state=%u\n", site, (unsigned int)state);
	dt_xdp__close(x);
	return err;
}

/* A program that is not ours, attached the way another tool would: netlink, native mode. */
static int do_foreign(struct helper_opts *o, char **argv)
{
	unsigned int ifindex = if_nametoindex(argv[0]);
	struct xdp_pass *skel;
	int err;

	if (!ifindex)
		return -ENODEV;
	skel = xdp_pass__open_and_load();
	if (!skel)
		return -errno;
	err = bpf_xdp_attach((int)ifindex, bpf_program__fd(skel->progs.xdp_pass),
			     XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (!err)
		printf("foreign xdp_pass attached to %s\n", argv[0]);
	xdp_pass__destroy(skel);
	return err;
}

static const struct helper_cmd {
	const char *name;
	int nargs;
	int (*fn)(struct helper_opts *o, char **argv);
} helper_cmds[] = {
	{ "attach", 1, do_attach },	  { "detach", 1, do_detach },
	{ "query", 1, do_query },	  { "set-state", 2, do_set_state },
	{ "get-state", 1, do_get_state }, { "foreign", 1, do_foreign },
};

static int parse_opts(int argc, char **argv, struct helper_opts *o)
{
	static const struct option longopts[] = {
		{ "pin-root", required_argument, NULL, 'p' },
		{ "flow-table", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 's' },
		{ "generic", no_argument, NULL, 'g' },
		{ "direct", no_argument, NULL, 'd' },
		{ "libxdp", no_argument, NULL, 'l' },
		{ "unpin", no_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{},
	};
	int c, err = 0;

	while (!err && (c = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		if (c == 'p')
			o->load.pin_root = optarg;
		else if (c == 'f')
			err = parse_u32(optarg, "flow-table", &o->load.flow_table_size);
		else if (c == 's')
			err = parse_u32(optarg, "seed", &o->load.flow_hash_seed);
		else if (c == 'g')
			o->attach.mode = DT_XDP_MODE_GENERIC;
		else if (c == 'd' || c == 'l')
			o->attach.path = c == 'd' ? DT_XDP_PATH_DIRECT : DT_XDP_PATH_LIBXDP;
		else if (c == 'u')
			o->unpin = true;
		else if (c == 'v')
			dt_log_set_level(DT_LOG_DEBUG);
		else
			err = -EINVAL;
	}
	return err;
}

int main(int argc, char **argv)
{
	struct helper_opts o = {};
	size_t i;
	int err;

	dt_xdp_opts__init(&o.load);
	if (parse_opts(argc, argv, &o) || optind >= argc)
		goto usage;
	for (i = 0; i < sizeof(helper_cmds) / sizeof(helper_cmds[0]); i++) {
		const struct helper_cmd *c = &helper_cmds[i];

		if (strcmp(argv[optind], c->name))
			continue;
		if (argc - optind - 1 != c->nargs)
			goto usage;
		err = c->fn(&o, argv + optind + 1);
		if (err)
			fprintf(stderr, "dt_xdp_helper: %s: %s\n", c->name, strerror(-err));
		return err ? 1 : 0;
	}
usage:
	fprintf(stderr, "usage: dt_xdp_helper [--pin-root DIR] [--flow-table N] [--seed N] [-v] "
			"attach|detach|query|set-state|get-state|foreign ARGS\n");
	return 2;
}
