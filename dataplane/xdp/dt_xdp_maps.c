/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The map writers the daemon drives. Each is one syscall on a pinned map, so each works the same
 * on a freshly loaded object and on an adopted one, and each is O(1) whatever the traffic.
 * Arguments are checked before the syscall: a bad site id is -EINVAL with a line saying so, never
 * an out-of-bounds write the kernel would refuse less clearly.
 */
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dt_log.h"
#include "dt_xdp_internal.h"

static int map__update(struct dt_xdp *x, int id, const void *key, const void *val)
{
	int err = bpf_map_update_elem(x->map_fd[id], key, val, BPF_ANY);

	if (err)
		dt_log_warn("map %s: update: %s", dt_xdp_map_names[id], strerror(-err));
	return err;
}

int dt_xdp_map_flow_gen(struct dt_xdp *x)
{
	void *p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
		       x->map_fd[DT_MAP_FLOW_GEN], 0);

	if (p == MAP_FAILED) {
		dt_log_warn("map %s: mmap: %s", dt_xdp_map_names[DT_MAP_FLOW_GEN], strerror(errno));
		return -errno;
	}
	x->flow_gen = p;
	return 0;
}

/*
 * After a write that can change the decision for a flow the table knows: the XDP program's
 * per-CPU cached copies of dt_flows entries made before it are no longer trusted. One atomic add
 * on the mapped value, whoever bumps (detourd's event loop and its flow scanner, another process).
 */
static void flow_gen__bump(struct dt_xdp *x)
{
	__atomic_add_fetch(&x->flow_gen->gen, 1, __ATOMIC_SEQ_CST);
}

static int check_site(const char *what, __u32 site)
{
	if (site < DT_MAX_SITES)
		return 0;
	dt_log_warn("%s %u: site ids are 0..%u", what, site, DT_MAX_SITES - 1);
	return -EINVAL;
}

int dt_xdp__set_site_state(struct dt_xdp *x, __u32 site, enum dt_site_state state)
{
	struct dt_site_state_val v = { .state = state };
	int err = check_site("site", site);

	if (!err && (unsigned int)state >= DT_SITE_STATE_MAX) {
		dt_log_warn("site %u: state %u is not a site state", site, (unsigned int)state);
		err = -EINVAL;
	}
	/* The state first: a packet that still sees the old generation decides on the new state. */
	err = err ?: map__update(x, DT_MAP_SITE_STATE, &site, &v);
	if (!err)
		flow_gen__bump(x);
	return err;
}

int dt_xdp__site_state(struct dt_xdp *x, __u32 site, enum dt_site_state *state)
{
	struct dt_site_state_val v;
	int err = check_site("site", site);

	if (err)
		return err;
	if (bpf_map_lookup_elem(x->map_fd[DT_MAP_SITE_STATE], &site, &v)) {
		err = -errno;
		dt_log_warn("map dt_site_state: read site %u: %s", site, strerror(-err));
		return err;
	}
	*state = (enum dt_site_state)v.state;
	return 0;
}

int dt_xdp__set_site(struct dt_xdp *x, __u32 site, const struct dt_site *cfg)
{
	int err = check_site("site", site);

	if (!err && (cfg->delivery >= DT_DELIVERY_MAX || cfg->egress_port >= DT_MAX_EGRESS_PORTS)) {
		dt_log_warn("site %u: delivery %u / egress port %u out of range", site,
			    cfg->delivery, cfg->egress_port);
		err = -EINVAL;
	}
	return err ?: map__update(x, DT_MAP_SITE, &site, cfg);
}

int dt_xdp__set_failover(struct dt_xdp *x, __u32 home, const struct dt_failover_slots *slots)
{
	int err = check_site("home site", home);
	unsigned int s, c;

	for (s = 0; !err && s < DT_FAILOVER_SLOTS; s++) {
		for (c = 0; c < DT_FAILOVER_CANDIDATES; c++) {
			__u8 cand = slots->cand[s][c];

			if (cand == DT_CANDIDATE_NONE || cand < DT_MAX_SITES)
				continue;
			dt_log_warn("home site %u: slot %u candidate %u is site %u, not a site id",
				    home, s, c, cand);
			err = -EINVAL;
			break;
		}
	}
	return err ?: map__update(x, DT_MAP_FAILOVER, &home, slots);
}

static int check_prefix(const struct dt_prefix_info *info, __u32 prefixlen, __u32 max_len)
{
	if (prefixlen > max_len) {
		dt_log_warn("prefix: length /%u is longer than /%u", prefixlen, max_len);
		return -EINVAL;
	}
	return info ? check_site("prefix home site", info->home_site) : 0;
}

/*
 * Clear host bits. The trie itself compares only prefixlen bits, but it stores the key as given:
 * without this a listing of the prefixes would show 198.18.0.77/24 for 198.18.0.0/24.
 */
static void mask_bytes(__u8 *addr, size_t len, __u32 prefixlen)
{
	size_t i;

	for (i = 0; i < len; i++) {
		__u32 bits = prefixlen > i * 8 ? prefixlen - i * 8 : 0;

		addr[i] &= bits >= 8 ? 0xff : (__u8)(0xff00 >> bits);
	}
}

static int prefix__write(struct dt_xdp *x, int id, const void *key,
			 const struct dt_prefix_info *info)
{
	int err;

	if (info)
		return map__update(x, id, key, info);
	err = bpf_map_delete_elem(x->map_fd[id], key);
	if (err)
		dt_log_warn("map %s: delete prefix: %s", dt_xdp_map_names[id], strerror(-err));
	return err;
}

static int prefix_v4(struct dt_xdp *x, __be32 addr, __u32 prefixlen,
		     const struct dt_prefix_info *info)
{
	struct dt_lpm_v4_key key = { .prefixlen = prefixlen, .addr = addr };
	int err = check_prefix(info, prefixlen, 32);

	if (err)
		return err;
	mask_bytes((__u8 *)&key.addr, sizeof(key.addr), prefixlen);
	return prefix__write(x, DT_MAP_PREFIX_V4, &key, info);
}

static int prefix_v6(struct dt_xdp *x, const __u8 addr[16], __u32 prefixlen,
		     const struct dt_prefix_info *info)
{
	struct dt_lpm_v6_key key = { .prefixlen = prefixlen };
	int err = check_prefix(info, prefixlen, 128);

	if (err)
		return err;
	memcpy(key.addr, addr, sizeof(key.addr));
	mask_bytes(key.addr, sizeof(key.addr), prefixlen);
	return prefix__write(x, DT_MAP_PREFIX_V6, &key, info);
}

int dt_xdp__add_prefix_v4(struct dt_xdp *x, __be32 addr, __u32 prefixlen,
			  const struct dt_prefix_info *info)
{
	return info ? prefix_v4(x, addr, prefixlen, info) : -EINVAL;
}

int dt_xdp__del_prefix_v4(struct dt_xdp *x, __be32 addr, __u32 prefixlen)
{
	return prefix_v4(x, addr, prefixlen, NULL);
}

int dt_xdp__add_prefix_v6(struct dt_xdp *x, const __u8 addr[16], __u32 prefixlen,
			  const struct dt_prefix_info *info)
{
	return info ? prefix_v6(x, addr, prefixlen, info) : -EINVAL;
}

int dt_xdp__del_prefix_v6(struct dt_xdp *x, const __u8 addr[16], __u32 prefixlen)
{
	return prefix_v6(x, addr, prefixlen, NULL);
}

int dt_xdp__set_egress(struct dt_xdp *x, __u32 port, const char *ifname)
{
	__u32 ifindex;

	if (port >= DT_MAX_EGRESS_PORTS) {
		dt_log_warn("egress port %u: ports are 0..%u", port, DT_MAX_EGRESS_PORTS - 1);
		return -EINVAL;
	}
	ifindex = ifname ? if_nametoindex(ifname) : 0;
	if (!ifindex) {
		dt_log_warn("interface %s: no such interface", ifname ? ifname : "(null)");
		return -ENODEV;
	}
	return map__update(x, DT_MAP_EGRESS, &port, &ifindex);
}

int dt_xdp__read_counter(struct dt_xdp *x, __u32 site, __u32 reason, struct dt_counter *sum)
{
	__u32 idx = dt_counter_index(site, reason);
	struct dt_counter *per_cpu;
	int ncpu, i, err = 0;

	if (reason >= DT_REASON_MAX) {
		dt_log_warn("counters: reason %u is not a reason", reason);
		return -EINVAL;
	}
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu ?: -EINVAL;
	per_cpu = calloc((size_t)ncpu, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(x->map_fd[DT_MAP_COUNTERS], &idx, per_cpu)) {
		err = -errno;
		dt_log_warn("map dt_counters: read row %u: %s", idx, strerror(-err));
	}
	for (i = 0; !err && i < ncpu; i++) {
		sum->packets += per_cpu[i].packets;
		sum->bytes += per_cpu[i].bytes;
	}
	free(per_cpu);
	return err;
}

/*
 * One map's walk. The LRU evicts while we walk, and a cursor that was deleted restarts the walk
 * from the first key: a restart misses nothing that stayed in the map (it walks it all again),
 * but under churn it may restart again and again, so the walk has a budget of steps, and a walk
 * whose budget ran out is not complete (-EAGAIN): it may have missed flows.
 */
static int flow_walk__map(int fd, __u64 budget, dt_flow_visit_fn fn, void *ctx)
{
	struct dt_flow_key key, next;
	struct dt_flow_state val;
	const void *cursor = NULL;
	int ret;

	for (;;) {
		if (!budget--)
			return -EAGAIN;
		ret = bpf_map_get_next_key(fd, cursor, &next);
		if (ret)
			break;
		if (!bpf_map_lookup_elem(fd, &next, &val)) {
			ret = fn(&next, &val, ctx);
			if (ret)
				return ret;
		}
		key = next;
		cursor = &key;
	}
	if (ret == -ENOENT)
		return 0;
	dt_log_warn("map dt_flows: walk: %s", strerror(-ret));
	return ret;
}

/* Established flows, then new ones: a flow promoted while the walk passes may be seen twice. */
int dt_xdp__for_each_flow(struct dt_xdp *x, dt_flow_visit_fn fn, void *ctx)
{
	__u64 budget = 2ull * x->flow_max_entries + 1;
	int ret, ret_new;

	ret = flow_walk__map(x->map_fd[DT_MAP_FLOWS], budget, fn, ctx);
	if (ret && ret != -EAGAIN)
		return ret;
	ret_new = flow_walk__map(x->map_fd[DT_MAP_FLOW_NEW], budget, fn, ctx);
	return ret_new ?: ret;
}

/* From both classes; 0 also when the LRU evicted it first. */
int dt_xdp__delete_flow(struct dt_xdp *x, const struct dt_flow_key *key)
{
	int ret = bpf_map_delete_elem(x->map_fd[DT_MAP_FLOWS], key);
	int ret_new = bpf_map_delete_elem(x->map_fd[DT_MAP_FLOW_NEW], key);

	if (ret == -ENOENT)
		ret = ret_new;
	if (ret == -ENOENT)
		return 0;
	if (!ret)
		flow_gen__bump(x);
	return ret;
}

/* Slot by slot, where the kernel has no batch lookup for per-CPU arrays. */
static int tcp_seen__lookup_each(int fd, __u32 *keys, struct dt_tcp_seen *vals, __u32 n, int ncpus)
{
	__u32 i;

	for (i = 0; i < n; i++) {
		keys[i] = i;
		if (bpf_map_lookup_elem(fd, &keys[i], &vals[(size_t)i * (size_t)ncpus]))
			return -errno;
	}
	return 0;
}

int dt_xdp__for_each_tcp_seen(struct dt_xdp *x, dt_tcp_seen_visit_fn fn, void *ctx)
{
	int fd = x->map_fd[DT_MAP_TCP_SEEN], ncpus = libbpf_num_possible_cpus(), ret = 0;
	__u32 n = DT_TCP_SEEN_SLOTS, i, out_batch;
	struct dt_tcp_seen *vals;
	__u32 *keys;
	int c;

	if (fd < 0 || ncpus <= 0)
		return fd < 0 ? -ENOENT : ncpus;
	keys = calloc(n, sizeof(*keys));
	vals = calloc((size_t)n * (size_t)ncpus, sizeof(*vals)); /* 64 octets: no per-CPU padding */
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	ret = bpf_map_lookup_batch(fd, NULL, &out_batch, keys, vals, &n, NULL);
	if (ret == -ENOENT) /* the whole array in one batch */
		ret = 0;
	if (ret) {
		n = DT_TCP_SEEN_SLOTS;
		ret = tcp_seen__lookup_each(fd, keys, vals, n, ncpus);
	}
	if (ret) {
		dt_log_warn("map %s: read: %s", dt_xdp_map_names[DT_MAP_TCP_SEEN], strerror(-ret));
		goto out;
	}
	for (i = 0; i < n && !ret; i++)
		for (c = 0; c < ncpus && !ret; c++) {
			const struct dt_tcp_seen *s = &vals[(size_t)i * (size_t)ncpus + (size_t)c];

			if (s->key.family)
				ret = fn(keys[i], s, ctx);
		}
out:
	free(keys);
	free(vals);
	return ret;
}
