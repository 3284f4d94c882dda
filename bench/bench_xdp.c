// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-xdp: what ebpf/detour.bpf.c costs per packet, in the kernel, through BPF_PROG_TEST_RUN.
 *
 * Each call runs one packet once (repeat = 1): a larger repeat would re-run the program on the
 * buffer it already rewrote (a second encapsulation, a second TTL decrement), which measures
 * something no real packet does. The kernel's duration_ns for one run still contains the test
 * harness itself (two ktime_get_ns() reads, the XDP dispatcher), so an empty XDP program
 * (bench/bench_empty.bpf.c) is measured in the same rounds, interleaved, and its median is
 * subtracted. Every scenario is checked first for the verdict and output length it must give, so
 * a misconfigured run cannot report a fast path that is not the one it claims.
 *
 * The two tcp_track scenarios are home UP for a prefix flagged tcp_reset (dt_tcp_seen,
 * dataplane/core/tcp_seen.h), checked to have written the flow's record: "track" a stream of one
 * flow (its slot is rewritten at most every 10 ms, so nearly every packet only reads and compares
 * it), "track_write" every packet writing it (the slot is emptied before each run, outside the
 * timed part: the first packet of a flow, or a flow sending less often than every 10 ms).
 *
 *   bench-xdp [--quick]        last line: one JSON object of figures
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dt_clock.h"
#include "dataplane/core/detour_abi.h"
#include "dataplane/core/tcp_seen.h"
#include "failover_slots.h"
#include "test_packets.h"
#include "bench_empty.skel.h"
#include "bench_probe.skel.h"
#include "detour.skel.h"

#define SEED 0x5eed0001u

/* Route home 1 fails over to 2; ipip homes 3 and 5 fail over to tunnel sites 4 (v4) and 6 (v6). */
enum { HOME = 1, SITE_A = 2, HOME_T4 = 3, TUN4 = 4, HOME_T6 = 5, TUN6 = 6, NSITES = 7 };

enum scenario_kind { NOT_OURS, HOME_UP, ROUTE, IPIP, TRACK, TRACK_WRITE, EMPTY, KINDS };

static const char *const kind_names[KINDS] = {
	"not_ours", "home_up", "route", "ipip", "home_up_tcp_track", "home_up_tcp_track_write",
	"empty"
};

struct scenario {
	enum scenario_kind kind;
	int family;
	__u32 down; /* the site set DOWN while this scenario runs; 0: none */
	__u8 pkt[PKT_MAX];
	unsigned int len;
	__u8 syn[PKT_MAX]; /* the flow's first packet: it moves the flow before the ACKs are timed */
	unsigned int syn_len;
	struct dt_flow_key key; /* the flow's key, as the parser makes it: its dt_tcp_seen slot */
	__u32 *samples;
	double median_ns, p99_ns;
};

struct bench {
	struct detour *skel;
	struct bench_empty *empty;
	char pin_root[64];
	unsigned int rounds, per_round;
	struct scenario sc[2 * KINDS];
	double syscall_ns; /* wall-clock cost of one test-run syscall of the empty program */
	struct dt_tcp_seen *seen; /* one dt_tcp_seen value per possible CPU: read back, emptied */
	int ncpus, cpu;
};

static int map_put(struct bpf_map *map, const void *key, const void *val)
{
	int err = bpf_map__update_elem(map, key, bpf_map__key_size(map), val,
				       bpf_map__value_size(map), BPF_ANY);

	if (err)
		fprintf(stderr, "bench-xdp: map %s: update: %s\n", bpf_map__name(map),
			strerror(-err));
	return err;
}

static struct dt_site site_of(__u32 id)
{
	struct dt_site s = { .delivery = DT_DELIVERY_ROUTE, .mtu = 1500, .egress_port = id };

	s.egress_ifindex = 1000 + id; /* not the ingress port: the redirect path is taken */
	memcpy(s.src_mac, (__u8[6]){ 0x02, 0xed, 0, 0, 0xee, (__u8)id }, 6);
	memcpy(s.dst_mac, (__u8[6]){ 0x02, 0x5e, 0, 0, 0x00, (__u8)id }, 6);
	if (id == TUN4 || id == TUN6) {
		int af = id == TUN4 ? AF_INET : AF_INET6;

		s.delivery = DT_DELIVERY_IPIP;
		s.tunnel_family = id == TUN4 ? DT_FAMILY_V4 : DT_FAMILY_V6;
		inet_pton(af, id == TUN4 ? "198.18.100.1" : "2001:db8:100::1", s.tunnel_src);
		inet_pton(af, id == TUN4 ? "198.18.200.4" : "2001:db8:200::6", s.tunnel_dst);
	}
	return s;
}

static int failover_put(struct bench *b, __u32 home, __u32 target)
{
	static struct dt_failover_slots slots;
	const struct dt_failover_entry list[] = { { target, 1 } };
	int err = dt_failover_slots__compute(&slots, home, list, 1, SEED);

	return err ?: map_put(b->skel->maps.dt_failover, &home, &slots);
}

static int prefix_put(struct bench *b, const char *addr, __u32 plen, __u16 home, __u16 flags)
{
	struct dt_prefix_info info = { .home_site = home, .flags = flags };
	struct dt_lpm_v6_key k6 = { .prefixlen = plen };
	struct dt_lpm_v4_key k4 = { .prefixlen = plen };

	if (strchr(addr, ':')) {
		inet_pton(AF_INET6, addr, k6.addr);
		return map_put(b->skel->maps.dt_prefix_v6, &k6, &info);
	}
	inet_pton(AF_INET, addr, &k4.addr);
	return map_put(b->skel->maps.dt_prefix_v4, &k4, &info);
}

static int configure(struct bench *b)
{
	__u32 id, lo = 1; /* the devmap needs a real device; test runs never transmit */
	int err = 0;

	for (id = 1; id < NSITES && !err; id++) {
		struct dt_site s = site_of(id);

		err = map_put(b->skel->maps.dt_site, &id, &s) ?:
			      map_put(b->skel->maps.dt_egress, &id, &lo);
	}
	err = err ?: failover_put(b, HOME, SITE_A);
	err = err ?: failover_put(b, HOME_T4, TUN4);
	err = err ?: failover_put(b, HOME_T6, TUN6);
	err = err ?: prefix_put(b, "198.18.10.0", 24, HOME, 0);
	err = err ?: prefix_put(b, "2001:db8:10::", 48, HOME, 0);
	err = err ?: prefix_put(b, "198.18.20.0", 24, HOME_T4, 0);
	err = err ?: prefix_put(b, "2001:db8:20::", 48, HOME_T6, 0);
	/* the same home, its TCP flows recorded (the tcp_track scenarios) */
	err = err ?: prefix_put(b, "198.18.30.0", 24, HOME, DT_PREFIX_F_TCP_RESET);
	err = err ?: prefix_put(b, "2001:db8:30::", 48, HOME, DT_PREFIX_F_TCP_RESET);
	return err;
}

static int set_states(struct bench *b, __u32 down)
{
	__u32 id;
	int err = 0;

	for (id = 1; id < NSITES && !err; id++) {
		struct dt_site_state_val v = { .state = id == down ? DT_SITE_DOWN : DT_SITE_UP };

		err = map_put(b->skel->maps.dt_site_state, &id, &v);
	}
	return err;
}

/* An established TCP flow (ACK): the common packet, and the one a moved flow keeps sending. */
static void scenario_init(struct scenario *s, enum scenario_kind kind, int family)
{
	static const char *const dst4[KINDS] = { "198.18.99.1", "198.18.10.1", "198.18.10.1",
						 "198.18.20.1", "198.18.30.1", "198.18.30.1",
						 "198.18.10.1" };
	static const char *const dst6[KINDS] = { "2001:db8:99::1", "2001:db8:10::1",
						 "2001:db8:10::1", "2001:db8:20::1",
						 "2001:db8:30::1", "2001:db8:30::1",
						 "2001:db8:10::1" };
	struct pkt_spec spec = { .family = family,
				 .proto = 6,
				 .tcp_flags = 0x10,
				 .src = family == 4 ? "198.19.1.2" : "2001:db8:ff::2",
				 .dst = family == 4 ? dst4[kind] : dst6[kind],
				 .sport = 40000,
				 .dport = 443,
				 .payload = 32 };

	s->kind = kind;
	s->family = family;
	s->down = kind == ROUTE ? HOME : kind == IPIP ? (family == 4 ? HOME_T4 : HOME_T6) : 0;
	s->len = pkt_build(s->pkt, &spec);
	spec.tcp_flags = 0x02;
	s->syn_len = pkt_build(s->syn, &spec);
	memset(&s->key, 0, sizeof(s->key));
	s->key.family = family == 4 ? DT_FAMILY_V4 : DT_FAMILY_V6;
	s->key.proto = 6;
	s->key.sport = htons(spec.sport);
	s->key.dport = htons(spec.dport);
	inet_pton(family == 4 ? AF_INET : AF_INET6, spec.src, s->key.saddr);
	inet_pton(family == 4 ? AF_INET : AF_INET6, spec.dst, s->key.daddr);
}

static bool scenario_tracked(const struct scenario *s)
{
	return s->kind == TRACK || s->kind == TRACK_WRITE;
}

/* The scenario's flow's dt_tcp_seen slot, every CPU's copy, into b->seen. */
static int seen_read(const struct bench *b, const struct scenario *s)
{
	__u32 idx = dt_tcp_seen_index(&s->key);
	int fd = bpf_map__fd(b->skel->maps.dt_tcp_seen);

	return bpf_map_lookup_elem(fd, &idx, b->seen) ? -errno : 0;
}

/* Empty the slot (every CPU's copy): the next packet of the flow writes it, as a first one. */
static int seen_clear(const struct bench *b, const struct scenario *s)
{
	__u32 idx = dt_tcp_seen_index(&s->key);
	int fd = bpf_map__fd(b->skel->maps.dt_tcp_seen);

	memset(b->seen, 0, sizeof(*b->seen) * b->ncpus);
	return bpf_map_update_elem(fd, &idx, b->seen, BPF_ANY) ? -errno : 0;
}

static int scenario_fd(const struct bench *b, const struct scenario *s)
{
	return s->kind == EMPTY ? bpf_program__fd(b->empty->progs.bench_empty) :
				  bpf_program__fd(b->skel->progs.detour_xdp);
}

static int run_once(const struct bench *b, const struct scenario *s, __u32 *duration, __u32 *retval,
		    void *out, __u32 *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = s->pkt, .data_size_in = s->len,
		    .data_out = out, .data_size_out = out ? *out_len : 0, .repeat = 1);
	int err = bpf_prog_test_run_opts(scenario_fd(b, s), &opts);

	if (err)
		return -errno;
	*duration = opts.duration;
	*retval = opts.retval;
	if (out_len)
		*out_len = opts.data_size_out;
	return 0;
}

/* The verdict and the length change that prove the scenario takes the path it is named after. */
static int scenario__check(const struct bench *b, const struct scenario *s)
{
	static const int grow[KINDS] = { 0, 0, 0, 1, 0, 0, 0 };
	__u8 out[PKT_MAX + 128];
	__u32 dur, action = 0, out_len = sizeof(out), want_len;
	__u32 want_action = s->kind == ROUTE || s->kind == IPIP ? XDP_REDIRECT : XDP_PASS;
	struct scenario syn = *s;
	int err;

	/* a moved flow is established by its SYN and promoted by its first ACK (decide.h) */
	memcpy(syn.pkt, s->syn, s->syn_len);
	syn.len = s->syn_len;
	err = run_once(b, &syn, &dur, &action, NULL, NULL)	?:
		      run_once(b, s, &dur, &action, NULL, NULL) ?:
		      run_once(b, s, &dur, &action, out, &out_len);

	want_len = s->len + (grow[s->kind] ? (s->family == 4 ? 20 : 40) : 0);
	if (!err && scenario_tracked(s)) {
		const struct dt_tcp_seen *mine = &b->seen[b->cpu];

		err = seen_clear(b, s);
		err = err ?: run_once(b, s, &dur, &action, NULL, NULL);
		err = err ?: seen_read(b, s);
		if (!err && (!dt_tcp_seen_same_key(mine, &s->key) || mine->home_site != HOME ||
			     mine->tcp_flags != 0x10)) {
			fprintf(stderr,
				"bench-xdp: %s v%d: the flow's dt_tcp_seen slot was not "
				"written (home %u, flags 0x%x)\n",
				kind_names[s->kind], s->family, mine->home_site, mine->tcp_flags);
			return -EPROTO;
		}
	}
	if (err)
		fprintf(stderr, "bench-xdp: %s v%d: test run: %s\n", kind_names[s->kind], s->family,
			strerror(-err));
	else if (action != want_action || out_len != want_len)
		fprintf(stderr, "bench-xdp: %s v%d: action %u, %u bytes; expected %u, %u bytes\n",
			kind_names[s->kind], s->family, action, out_len, want_action, want_len);
	else
		return 0;
	return err ?: -EPROTO;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int scenario__round(struct bench *b, struct scenario *s, unsigned int round)
{
	__u32 *dst = s->samples + (size_t)round * b->per_round, action;
	double t0 = (double)dt_mono_ns();
	unsigned int i;
	int err = set_states(b, s->down);

	for (i = 0; i < b->per_round && !err; i++) {
		if (s->kind == TRACK_WRITE)
			err = seen_clear(b, s);
		err = err ?: run_once(b, s, &dst[i], &action, NULL, NULL);
	}
	if (!err && s->kind == EMPTY && s->family == 4)
		b->syscall_ns += ((double)dt_mono_ns() - t0) / b->per_round / b->rounds;
	return err;
}

/* Rounds interleave every scenario, so a frequency change or a noisy neighbour hits all alike. */
static int bench__measure(struct bench *b)
{
	size_t n = (size_t)b->rounds * b->per_round;
	unsigned int r, i;
	int err = 0;

	for (i = 0; i < 2 * KINDS && !err; i++) {
		err = set_states(b, b->sc[i].down) ?: scenario__check(b, &b->sc[i]);
		b->sc[i].samples = calloc(n, sizeof(__u32));
		if (!err && !b->sc[i].samples)
			err = -ENOMEM;
	}
	for (r = 0; r < b->rounds && !err; r++)
		for (i = 0; i < 2 * KINDS && !err; i++)
			err = scenario__round(b, &b->sc[i], r);
	for (i = 0; i < 2 * KINDS && !err; i++) {
		qsort(b->sc[i].samples, n, sizeof(__u32), cmp_u32);
		b->sc[i].median_ns = b->sc[i].samples[n / 2];
		b->sc[i].p99_ns = b->sc[i].samples[n * 99 / 100];
	}
	return err;
}

/* Median duration of one program over the same number of runs as a scenario. */
static int median_of(const struct bench *b, int fd, const struct scenario *s, double *median)
{
	size_t n = (size_t)b->rounds * b->per_round, i;
	__u32 *d = calloc(n, sizeof(*d));
	int err = d ? 0 : -ENOMEM;

	for (i = 0; i < n && !err; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = s->pkt, .data_size_in = s->len,
			    .repeat = 1);

		err = bpf_prog_test_run_opts(fd, &opts) ? -errno : 0;
		d[i] = opts.duration;
	}
	if (!err) {
		qsort(d, n, sizeof(*d), cmp_u32);
		*median = d[n / 2];
	}
	free(d);
	return err;
}

static int probes__fill(struct bench_probe *p)
{
	struct dt_flow_key k = { .family = DT_FAMILY_V4, .proto = 6 };
	struct dt_flow_state v = { .home_site = HOME, .target_site = SITE_A };
	struct dt_lpm_v4_key pk = { .prefixlen = 24 };
	struct dt_prefix_info info = { .home_site = HOME };
	__u32 port = 2, lo = 1;

	inet_pton(AF_INET, "198.19.1.2", k.saddr);
	inet_pton(AF_INET, "198.18.10.1", k.daddr);
	inet_pton(AF_INET, "198.18.10.0", &pk.addr);
	k.sport = htons(40000);
	k.dport = htons(443);
	return map_put(p->maps.probe_flows, &k, &v)		 ?:
		       map_put(p->maps.probe_prefix, &pk, &info) ?:
		       map_put(p->maps.probe_egress, &port, &lo);
}

/* What each building block of the rerouted path costs alone, the empty program subtracted. */
static int bench__probes(struct bench *b)
{
	struct bench_probe *p = bench_probe__open();
	struct bpf_program *prog;
	double empty, cost;
	int err = p ? 0 : -errno;

	if (!err) {
		inet_pton(AF_INET, "198.19.1.2", (void *)p->rodata->probe_key.saddr);
		inet_pton(AF_INET, "198.18.10.1", (void *)p->rodata->probe_key.daddr);
		inet_pton(AF_INET, "198.18.10.1", (void *)&p->rodata->probe_daddr);
		p->rodata->probe_key.sport = htons(40000);
		p->rodata->probe_key.dport = htons(443);
		p->rodata->probe_key.proto = 6;
		p->rodata->probe_key.family = DT_FAMILY_V4;
		err = bench_probe__load(p) ?: probes__fill(p);
	}
	bpf_object__for_each_program(prog, p ? p->obj : NULL)
	{
		if (err)
			break;
		err = median_of(b, bpf_program__fd(prog), &b->sc[0], &cost) ?:
			      median_of(b, scenario_fd(b, &b->sc[EMPTY]), &b->sc[0], &empty);
		printf("%s\"xdp_%s_ns\": %.0f",
		       prog == bpf_object__next_program(p->obj, NULL) ? "{" : ", ",
		       bpf_program__name(prog), cost - empty);
	}
	if (err)
		fprintf(stderr, "bench-xdp: probes: %s\n", strerror(-err));
	else
		printf("}\n");
	bench_probe__destroy(p);
	return err;
}

static int prog_info(int fd, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

static void bench__report(const struct bench *b)
{
	const struct scenario *e4 = &b->sc[EMPTY], *e6 = &b->sc[KINDS + EMPTY];
	struct bpf_prog_info info;
	int k;

	prog_info(bpf_program__fd(b->skel->progs.detour_xdp), &info);
	printf("%-24s %12s %12s %12s %12s\n", "scenario", "v4 median", "v4 p99", "v6 median",
	       "v6 p99");
	for (k = 0; k < KINDS; k++)
		printf("%-24s %9.0f ns %9.0f ns %9.0f ns %9.0f ns\n", kind_names[k],
		       b->sc[k].median_ns, b->sc[k].p99_ns, b->sc[KINDS + k].median_ns,
		       b->sc[KINDS + k].p99_ns);
	printf("raw durations include the test run's own cost (the empty row); %u x %u runs each\n",
	       b->rounds, b->per_round);
	printf("{\"xdp_empty_ns\": %.0f, \"xdp_test_run_syscall_ns\": %.0f", e4->median_ns,
	       b->syscall_ns);
	for (k = 0; k < EMPTY; k++)
		printf(", \"xdp_v4_%s_ns\": %.0f, \"xdp_v6_%s_ns\": %.0f", kind_names[k],
		       b->sc[k].median_ns - e4->median_ns, kind_names[k],
		       b->sc[KINDS + k].median_ns - e6->median_ns);
	printf(", \"xdp_verified_insns\": %u, \"xdp_xlated_bytes\": %u, \"xdp_jited_bytes\": %u}\n",
	       info.verified_insns, info.xlated_prog_len, info.jited_prog_len);
}

static int bench__load(struct bench *b)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = b->pin_root);
	int err;

	snprintf(b->pin_root, sizeof(b->pin_root), "/sys/fs/bpf/detour-bench-%d", getpid());
	b->skel = detour__open_opts(&opts);
	b->empty = bench_empty__open_and_load();
	if (!b->skel || !b->empty) {
		fprintf(stderr, "bench-xdp: open: %s\n", strerror(errno));
		return -errno ?: -ENOMEM;
	}
	b->skel->rodata->flow_hash_seed = SEED;
	b->ncpus = libbpf_num_possible_cpus();
	b->cpu = sched_getcpu();
	b->seen = b->ncpus > 0 ? calloc(b->ncpus, sizeof(*b->seen)) : NULL;
	if (!b->seen || b->cpu < 0 || b->cpu >= b->ncpus) {
		fprintf(stderr, "bench-xdp: %d possible CPUs, on CPU %d\n", b->ncpus, b->cpu);
		return -ENOMEM;
	}
	err = detour__load(b->skel);
	if (err)
		fprintf(stderr, "bench-xdp: detour: load (root, bpffs mounted?): %s\n",
			strerror(-err));
	return err ?: configure(b);
}

static void bench__close(struct bench *b)
{
	int i;

	if (b->skel) {
		bpf_object__unpin_maps(b->skel->obj, NULL);
		rmdir(b->pin_root);
	}
	detour__destroy(b->skel);
	bench_empty__destroy(b->empty);
	free(b->seen);
	for (i = 0; i < 2 * KINDS; i++)
		free(b->sc[i].samples);
}

/* One CPU for the whole run: the per-CPU flow-table LRU and the caches stay warm and alike. */
static void pin_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

int main(int argc, char **argv)
{
	static struct bench b;
	bool quick = argc > 1 && !strcmp(argv[1], "--quick");
	int err, k;

	if (argc > 2 || (argc == 2 && !quick)) {
		fprintf(stderr, "usage: bench-xdp [--quick]\n");
		return 2;
	}
	b.rounds = quick ? 20 : 100;
	b.per_round = quick ? 500 : 1000;
	for (k = 0; k < 2 * KINDS; k++)
		scenario_init(&b.sc[k], (enum scenario_kind)(k % KINDS), k < KINDS ? 4 : 6);
	pin_cpu();
	err = bench__load(&b) ?: bench__measure(&b) ?: bench__probes(&b);
	if (!err)
		bench__report(&b);
	bench__close(&b);
	return err ? 1 : 0;
}
