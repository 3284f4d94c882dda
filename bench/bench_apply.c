// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-apply: what failing a site costs the control plane, with few and with many moved flows.
 *
 * Failing a site is one 4-byte write to dt_site_state (dt_xdp__set_site_state()), whatever the
 * number of flows it carried: the flow table is neither walked nor rewritten. This program shows
 * it: it loads Detour with a flow table of more than a million entries, fills it through the
 * pinned dt_flows map with 1 thousand, then 1 million, flows of the home site, and after each
 * fill times the DOWN/UP writes one by one (median and p99), the same writer detourd calls.
 *
 * With --memory it instead loads Detour at the default sizes and reports, per pinned map, the
 * memory the kernel charges for it (the memlock line of the map's fdinfo).
 *
 *   bench-apply [--quick] [--memory]      last line: one JSON object of figures
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <bpf/bpf.h>

#include "dt_clock.h"
#include "dt_log.h"
#include "dt_xdp.h"

#define HOME 1
#define TARGET 2
#define FLOW_TABLE (1u << 21) /* room for 1M moved flows without the LRU evicting any */
#define FILL_BATCH 8192

struct apply_result {
	unsigned int flows; /* entries in dt_flows while measuring */
	double median_us, p99_us;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int open_pin(const char *pin_root, const char *name)
{
	char path[256];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", pin_root, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		fprintf(stderr, "bench-apply: map %s: open pin: %s\n", path, strerror(errno));
	return fd < 0 ? -errno : fd;
}

/* Flows of HOME already moved to TARGET, keys distinct by source address and port. */
static void flow_make(unsigned int i, struct dt_flow_key *k, struct dt_flow_state *v)
{
	memset(k, 0, sizeof(*k));
	k->family = DT_FAMILY_V4;
	k->proto = 6;
	k->saddr[0] = htonl(0xc6130000u | (i >> 8)); /* 198.19.x.y */
	k->daddr[0] = htonl(0xc6120a01u); /* 198.18.10.1 */
	k->sport = htons((__u16)(1024 + (i & 0xff)));
	k->dport = htons(443);
	memset(v, 0, sizeof(*v));
	v->home_site = HOME;
	v->target_site = TARGET;
	v->last_seen_ns = 1;
}

/* Add flows [from, to) in batches; one syscall per batch keeps a million inserts in seconds. */
static int flows__fill(int fd, unsigned int from, unsigned int to)
{
	static struct dt_flow_key keys[FILL_BATCH];
	static struct dt_flow_state vals[FILL_BATCH];
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);

	while (from < to) {
		__u32 n = to - from < FILL_BATCH ? to - from : FILL_BATCH, i;

		for (i = 0; i < n; i++)
			flow_make(from + i, &keys[i], &vals[i]);
		if (bpf_map_update_batch(fd, keys, vals, &n, &opts)) {
			fprintf(stderr, "bench-apply: map dt_flows: batch update at %u: %s\n", from,
				strerror(errno));
			return -errno;
		}
		from += n;
	}
	return 0;
}

static int flow__count(const struct dt_flow_key *key, const struct dt_flow_state *val, void *ctx)
{
	++*(unsigned int *)ctx;
	return 0;
}

/* Count what is really in the table: an LRU map may evict silently on insert. */
static unsigned int flows__count(struct dt_xdp *x)
{
	unsigned int n = 0;

	return dt_xdp__for_each_flow(x, flow__count, &n) ? 0 : n;
}

/* Each sample is one DOWN or one UP write, timed alone: the cost detourd pays per transition. */
static int apply__measure(struct dt_xdp *x, unsigned int writes, struct apply_result *r)
{
	double *us = calloc(writes, sizeof(*us));
	unsigned int i;
	int err = us ? 0 : -ENOMEM;

	for (i = 0; i < writes && !err; i++) {
		double t0 = (double)dt_mono_ns();

		err = dt_xdp__set_site_state(x, HOME, i & 1 ? DT_SITE_UP : DT_SITE_DOWN);
		us[i] = ((double)dt_mono_ns() - t0) / 1e3;
	}
	if (!err) {
		qsort(us, writes, sizeof(*us), cmp_double);
		r->median_us = us[writes / 2];
		r->p99_us = us[(size_t)writes * 99 / 100];
	}
	free(us);
	return err;
}

static int bench_apply(struct dt_xdp *x, const char *pin_root, bool quick)
{
	unsigned int writes = quick ? 2000 : 20000, big = 1000000;
	struct apply_result small = { .flows = 1000 }, large = { .flows = big };
	int fd = open_pin(pin_root, "dt_flows"), err;

	if (fd < 0)
		return fd;
	err = flows__fill(fd, 0, small.flows);
	small.flows = err ? 0 : flows__count(x);
	err = err ?: apply__measure(x, writes, &small);
	err = err ?: flows__fill(fd, small.flows, big);
	large.flows = err ? 0 : flows__count(x);
	err = err ?: apply__measure(x, writes, &large);
	close(fd);
	if (err)
		return err;
	printf("site DOWN write, %u samples: %u flows median %.2f us p99 %.2f us; "
	       "%u flows median %.2f us p99 %.2f us\n",
	       writes, small.flows, small.median_us, small.p99_us, large.flows, large.median_us,
	       large.p99_us);
	printf("{\"apply_1k_flows\": %u, \"apply_1k_median_us\": %.2f, \"apply_1k_p99_us\": %.2f, "
	       "\"apply_1m_flows\": %u, \"apply_1m_median_us\": %.2f, \"apply_1m_p99_us\": %.2f, "
	       "\"apply_1m_over_1k\": %.3f}\n",
	       small.flows, small.median_us, small.p99_us, large.flows, large.median_us,
	       large.p99_us, large.median_us / small.median_us);
	return 0;
}

/* The kernel's own account of a map's memory: "memlock:\t<bytes>" in its fdinfo. */
static long long map_memlock(int fd)
{
	char path[64], line[128];
	long long bytes = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &bytes) == 1)
			break;
	if (f)
		fclose(f);
	return bytes;
}

static int maps__memlock(const char *pin_root, long long *total)
{
	DIR *dir = opendir(pin_root);
	struct dirent *de;
	int err = dir ? 0 : -errno;

	*total = 0;
	while (dir && (de = readdir(dir)) && !err) {
		int fd = de->d_name[0] == '.' ? -1 : open_pin(pin_root, de->d_name);
		long long bytes = fd < 0 ? 0 : map_memlock(fd);

		if (fd >= 0) {
			printf("%-16s %12lld bytes\n", de->d_name, bytes);
			*total += bytes;
			close(fd);
		}
		err = bytes < 0 ? -EIO : 0;
	}
	if (dir)
		closedir(dir);
	return err;
}

/* The prefix tries are not preallocated: their memory is what their entries take. */
static int prefixes__fill(struct dt_xdp *x, unsigned int n)
{
	struct dt_prefix_info info = { .home_site = HOME };
	__u8 a6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	unsigned int i;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		a6[4] = (__u8)(i >> 8);
		a6[5] = (__u8)i;
		err = dt_xdp__add_prefix_v4(x, htonl(0xc6120000u | i << 8), 24, &info) ?:
			      dt_xdp__add_prefix_v6(x, a6, 48, &info);
	}
	return err;
}

static int bench_memory(struct dt_xdp *x, const char *pin_root)
{
	long long empty = 0, full = 0;
	int err;

	printf("maps at the default sizes, prefix tries empty:\n");
	err = maps__memlock(pin_root, &empty);
	err = err ?: prefixes__fill(x, DT_MAX_PREFIXES_DEFAULT);
	if (!err)
		printf("the same with %u prefixes per family:\n", DT_MAX_PREFIXES_DEFAULT);
	err = err ?: maps__memlock(pin_root, &full);
	if (err)
		return err;
	printf("{\"map_memlock_bytes\": %lld, \"map_memlock_full_prefixes_bytes\": %lld}\n", empty,
	       full);
	return 0;
}

int main(int argc, char **argv)
{
	bool quick = false, memory = false;
	struct dt_xdp_opts o;
	struct dt_xdp *x = NULL;
	char pin_root[64];
	int i, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick") || !strcmp(argv[i], "--memory")) {
			*(argv[i][2] == 'q' ? &quick : &memory) = true;
		} else {
			fprintf(stderr, "usage: bench-apply [--quick] [--memory]\n");
			return 2;
		}
	}
	dt_log_set_level(DT_LOG_WARN);
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/detour-bench-%d", getpid());
	dt_xdp_opts__init(&o);
	o.pin_root = pin_root;
	if (!memory)
		o.flow_table_size = FLOW_TABLE;
	err = dt_xdp__load(&o, &x);
	if (!err)
		err = memory ? bench_memory(x, pin_root) : bench_apply(x, pin_root, quick);
	dt_xdp__close(x);
	dt_xdp_unpin(pin_root);
	return err ? 1 : 0;
}
