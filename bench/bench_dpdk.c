// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-dpdk: the worker's throughput beside dpdk-testpmd's io forwarding, same vdevs, same run.
 *
 * Both forward from a net_pcap port replaying a capture from memory (infinite_rx) to a net_null
 * port that frees what it is given, on one lcore each. The worker parses, decides and rewrites
 * every packet (home DOWN, route mode toward a failover site); testpmd only moves mbufs. The
 * ratio is what Detour's packet path costs against the I/O floor of those vdevs.
 *
 *   bench-dpdk [seconds] [testpmd path]     final line: {"dpdk_worker_mpps": X, ...}
 *                                           (each side runs `seconds` in 5 alternated turns)
 *   bench-dpdk --bursts N                   fixed work on one thread, for callgrind
 *   bench-dpdk --alternate N                io, parse-only and the worker in turn, N rounds
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_eal.h>
#include <rte_ethdev.h>

#include "dt_clock.h"
#include "dt_dpdk.h"
#include "bench_parse.h"

#define FLOWS 256
#define FRAME_LEN 64
#define HOME 1
#define SITE_A 2

static unsigned int frame_build(unsigned char *f, unsigned int flow)
{
	static const unsigned char eth[14] = { 2, 0xed, 0, 0, 0, 1, 2, 0xc1, 0, 0, 0, 1, 8, 0 };
	unsigned char *ip = f + 14, *tcp = ip + 20;
	unsigned int sum = 0, i;

	memset(f, 0, FRAME_LEN);
	memcpy(f, eth, sizeof(eth));
	ip[0] = 0x45;
	ip[3] = FRAME_LEN - 14;
	ip[8] = 64;
	ip[9] = 6;
	inet_pton(AF_INET, "198.19.1.2", ip + 12);
	inet_pton(AF_INET, "198.18.10.1", ip + 16);
	for (i = 0; i < 20; i += 2)
		sum += (unsigned int)(ip[i] << 8 | ip[i + 1]);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~((sum & 0xffff) + (sum >> 16)) & 0xffff;
	ip[10] = (unsigned char)(sum >> 8);
	ip[11] = (unsigned char)sum;
	tcp[0] = (unsigned char)((1024 + flow) >> 8);
	tcp[1] = (unsigned char)(1024 + flow);
	tcp[3] = 80;
	tcp[12] = 5 << 4;
	tcp[13] = 0x10; /* ACK: established flows, the common case */
	return FRAME_LEN;
}

/* A classic pcap file (microsecond timestamps, Ethernet) of FLOWS frames. */
static int pcap_write(const char *path)
{
	const unsigned int hdr[6] = { 0xa1b2c3d4, 2 | 4 << 16, 0, 0, 65535, 1 };
	unsigned char frame[FRAME_LEN];
	FILE *f = fopen(path, "wb");
	unsigned int i;

	if (!f)
		return -errno;
	fwrite(hdr, sizeof(hdr), 1, f);
	for (i = 0; i < FLOWS; i++) {
		unsigned int rec[4] = { 0, i, FRAME_LEN, FRAME_LEN };

		frame_build(frame, i);
		fwrite(rec, sizeof(rec), 1, f);
		fwrite(frame, FRAME_LEN, 1, f);
	}
	return fclose(f) ? -errno : 0;
}

static int configure(struct dt_dpdk *e)
{
	struct dt_site a = { .delivery = DT_DELIVERY_ROUTE, .mtu = 1500, .egress_port = SITE_A };
	struct dt_prefix_info info = { .home_site = HOME };
	static struct dt_failover_slots slots;
	unsigned char addr[16] = { 198, 18, 10, 0 };
	unsigned int s;
	int err;

	memcpy(a.src_mac, (unsigned char[6]){ 2, 0xed, 0, 0, 0xee, SITE_A }, 6);
	memcpy(a.dst_mac, (unsigned char[6]){ 2, 0x5e, 0, 0, 0, SITE_A }, 6);
	for (s = 0; s < DT_FAILOVER_SLOTS; s++) {
		memset(slots.cand[s], DT_CANDIDATE_NONE, DT_FAILOVER_CANDIDATES);
		slots.cand[s][0] = SITE_A;
	}
	err = dt_dpdk__set_egress(e, SITE_A, "net_null0");
	err = err ?: dt_dpdk__set_site(e, SITE_A, &a);
	err = err ?: dt_dpdk__set_failover(e, HOME, &slots);
	err = err ?: dt_dpdk__add_prefix(e, DT_FAMILY_V4, addr, 24, &info);
	err = err ?: dt_dpdk__set_site_state(e, SITE_A, DT_SITE_UP);
	err = err ?: dt_dpdk__set_site_state(e, HOME, DT_SITE_DOWN);
	return err;
}

/* EAL arguments and engine options for the bench's ports, on the lcores given. */
struct bench_eal {
	char vdev_pcap[256], prefix[64];
	char *argv[13];
	struct dt_dpdk_opts o;
};

static void bench_eal_init(struct bench_eal *b, const char *pcap, const char *lcores)
{
	char *argv[] = { "bench-dpdk",
			 "-l",
			 (char *)lcores,
			 "--no-huge",
			 "-m",
			 "1024",
			 "--no-pci",
			 "--no-shconf",
			 b->prefix,
			 b->vdev_pcap,
			 "--vdev=net_null0,no-rx=1",
			 "--vdev=net_null1,no-rx=1",
			 "--log-level=error" };
	struct dt_dpdk_opts o = { .eal_argc = sizeof(argv) / sizeof(argv[0]),
				  .eal_argv = b->argv,
				  .ports = { "net_pcap0", "net_null0" },
				  .n_ports = 2,
				  .exception_port = "net_null1" };

	_Static_assert(sizeof(argv) == sizeof(b->argv), "bench EAL argv");
	snprintf(b->prefix, sizeof(b->prefix), "--file-prefix=dt-bench-%d", getpid());
	snprintf(b->vdev_pcap, sizeof(b->vdev_pcap), "--vdev=net_pcap0,rx_pcap=%s,infinite_rx=1",
		 pcap);
	memcpy(b->argv, argv, sizeof(argv));
	b->o = o;
}

/*
 * What testpmd's io forwarding does per burst, in this process on the same ports: the floor the
 * worker is compared with, for callgrind (which cannot follow testpmd's own process here).
 */
static __attribute__((noinline)) unsigned long io_forward(uint16_t rx, uint16_t tx, long bursts)
{
	struct rte_mbuf *pkts[32];
	unsigned long total = 0;
	uint16_t n, sent;

	while (bursts-- > 0) {
		n = rte_eth_rx_burst(rx, 0, pkts, 32);
		sent = rte_eth_tx_burst(tx, 0, pkts, n);
		if (sent < n)
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		total += n;
	}
	return total;
}

/* io_forward() with the worker's parse stage in between: the parser's cost over the floor. */
static __attribute__((noinline)) unsigned long parse_forward(uint16_t rx, uint16_t tx, long bursts)
{
	struct dt_packet parsed[32];
	struct rte_mbuf *pkts[32];
	unsigned long total = 0;
	uint16_t n, sent;

	while (bursts-- > 0) {
		n = rte_eth_rx_burst(rx, 0, pkts, 32);
		if (bench_parse_burst(pkts, n, parsed) != n)
			return 0;
		sent = rte_eth_tx_burst(tx, 0, pkts, n);
		if (sent < n)
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		total += n;
	}
	return total;
}

/*
 * bench-dpdk --bursts N: N polls of io_forward() and then N of the worker, both on the calling
 * thread, for `valgrind --tool=callgrind --toggle-collect=io_forward
 * --toggle-collect=dt_dpdk_worker__run`: instructions per packet that a busy machine cannot blur.
 */
static int profile_bursts(const char *pcap, long bursts)
{
	struct bench_eal b;
	struct dt_counter c;
	struct dt_dpdk *e;
	unsigned long io;
	long worker;

	bench_eal_init(&b, pcap, "0");
	if (dt_dpdk__open(&b.o, &e) || configure(e))
		return 1;
	io = io_forward((uint16_t)dt_dpdk__port_id(e, "net_pcap0"),
			(uint16_t)dt_dpdk__port_id(e, "net_null0"), bursts);
	worker = dt_dpdk_worker__run(dt_dpdk__worker(e, 0), NULL, bursts);
	dt_dpdk__read_counter(e, HOME, DT_REASON_REROUTED_ROUTE, &c);
	printf("io_forward: %lu packets; worker: %ld packets, %llu rerouted\n", io, worker,
	       (unsigned long long)c.packets);
	dt_dpdk__close(e);
	return worker > 0 && (__u64)worker == c.packets ? 0 : 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * bench-dpdk --alternate ROUNDS: io_forward(), parse_forward() and the worker take turns on one
 * thread, ALTERNATE_CHUNK polls each, ROUNDS times; medians (and best chunks) of their time per
 * packet, and their ratios to io_forward(). The three sides of a round see the same machine, so
 * a neighbour's load moves all of them.
 */
#define ALTERNATE_CHUNK 2000

enum { ALT_IO, ALT_PARSE, ALT_WORKER, ALT_SIDES };

static long alternate_turn(struct dt_dpdk *e, int side)
{
	uint16_t rx = (uint16_t)dt_dpdk__port_id(e, "net_pcap0");
	uint16_t tx = (uint16_t)dt_dpdk__port_id(e, "net_null0");

	if (side == ALT_IO)
		return (long)io_forward(rx, tx, ALTERNATE_CHUNK);
	if (side == ALT_PARSE)
		return (long)parse_forward(rx, tx, ALTERNATE_CHUNK);
	return dt_dpdk_worker__run(dt_dpdk__worker(e, 0), NULL, ALTERNATE_CHUNK);
}

static void alternate_report(double *ns[ALT_SIDES], long rounds)
{
	static const char *const names[ALT_SIDES] = { "io", "parse", "worker" };
	double med[ALT_SIDES];
	int s;

	for (s = 0; s < ALT_SIDES; s++) {
		qsort(ns[s], (size_t)rounds, sizeof(double), cmp_double);
		med[s] = ns[s][rounds / 2];
		printf("%-6s median %.1f ns/packet (best %.1f), ratio to io %.3f\n", names[s],
		       med[s], ns[s][0], med[ALT_IO] / med[s]);
	}
	printf("{\"dpdk_alt_io_ns\": %.2f, \"dpdk_alt_parse_ns\": %.2f, \"dpdk_alt_worker_ns\": "
	       "%.2f, \"dpdk_alt_ratio\": %.3f, \"dpdk_alt_parse_ratio\": %.3f}\n",
	       med[ALT_IO], med[ALT_PARSE], med[ALT_WORKER], med[ALT_IO] / med[ALT_WORKER],
	       med[ALT_IO] / med[ALT_PARSE]);
}

static int alternate_bursts(const char *pcap, long rounds)
{
	double *ns[ALT_SIDES];
	struct bench_eal b;
	struct dt_dpdk *e;
	int ret = 1, s;
	long r;

	for (s = 0; s < ALT_SIDES; s++)
		ns[s] = calloc((size_t)rounds, sizeof(double));
	bench_eal_init(&b, pcap, "0");
	if (!ns[ALT_IO] || !ns[ALT_PARSE] || !ns[ALT_WORKER] || dt_dpdk__open(&b.o, &e))
		goto out;
	if (configure(e))
		goto close;
	for (r = 0; r < rounds; r++) {
		for (s = 0; s < ALT_SIDES; s++) {
			double t0 = (double)dt_mono_ns() / 1e9;
			long n = alternate_turn(e, s);

			if (n <= 0)
				goto close;
			ns[s][r] = ((double)dt_mono_ns() / 1e9 - t0) * 1e9 / (double)n;
		}
	}
	alternate_report(ns, rounds);
	ret = 0;
close:
	dt_dpdk__close(e);
out:
	for (s = 0; s < ALT_SIDES; s++)
		free(ns[s]);
	return ret;
}

/*
 * The same run: ROUNDS turns of dpdk-testpmd (its own process, interactive: start, wait, stop)
 * and of the worker (launched and stopped in this process), each for seconds / ROUNDS, one after
 * the other. A neighbour's load that comes and goes then weighs on both sides of a round, and
 * the median of the rounds' ratios is the figure.
 */
#define ROUNDS 5

struct same_run {
	double interval;
	double testpmd_s[ROUNDS], worker_s[ROUNDS];
	unsigned long long testpmd_tx[ROUNDS], worker_tx[ROUNDS];
	__u64 rerouted;
};

static FILE *testpmd_open(const char *testpmd, const char *pcap, const char *out)
{
	char cmd[1024];

	snprintf(
		cmd, sizeof(cmd),
		"stdbuf -o0 %s -l 0,1 --no-huge -m 1024 --no-pci --no-shconf --file-prefix=dt-tpmd-%d "
		"--vdev=net_pcap0,rx_pcap=%s,infinite_rx=1 --vdev=net_null0,no-rx=1 "
		"--log-level=error -- -i --forward-mode=io --nb-cores=1 "
		"--total-num-mbufs=16384 > %s 2>&1",
		testpmd, getpid(), pcap, out);
	return popen(cmd, "w");
}

/* One interval of forwarding: testpmd prints its accumulated statistics at every "stop". */
static double testpmd_interval(FILE *p, double seconds)
{
	double t0;

	fputs("start\n", p);
	fflush(p);
	t0 = (double)dt_mono_ns() / 1e9;
	usleep((useconds_t)(seconds * 1e6));
	fputs("stop\n", p);
	fflush(p);
	return (double)dt_mono_ns() / 1e9 - t0;
}

/* The TX count of each "stop", in order, from testpmd's output; how many were found. */
static unsigned int testpmd_counts(const char *out, unsigned long long *tx, unsigned int max)
{
	FILE *f = fopen(out, "r");
	bool accumulated = false;
	unsigned int n = 0;
	char line[512];

	while (f && n < max && fgets(line, sizeof(line), f)) {
		char *tp = strstr(line, "TX-packets:");

		if (strstr(line, "Accumulated forward statistics"))
			accumulated = true;
		if (accumulated && tp &&
		    strchr(tp, '\n')) { /* a whole line: testpmd may be writing */
			tx[n++] = strtoull(tp + strlen("TX-packets:"), NULL, 10);
			accumulated = false;
		}
	}
	if (f)
		fclose(f);
	return n;
}

/* Whether testpmd has written @needle @count times (its prompt, or a stop's statistics). */
static bool testpmd_wrote(const char *out, const char *needle, unsigned int count)
{
	unsigned long long tx[ROUNDS + 1];
	char buf[65536];
	unsigned int n = 0;
	size_t len;
	FILE *f;

	if (!needle)
		return testpmd_counts(out, tx, ROUNDS + 1) >= count;
	f = fopen(out, "r");
	if (!f)
		return false;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	for (char *at = strstr(buf, needle); at; at = strstr(at + 1, needle))
		n++;
	return n >= count;
}

/* Waits up to 20 s; testpmd's start-up takes about one. */
static int testpmd_wait(const char *out, const char *needle, unsigned int count)
{
	unsigned int ms;

	for (ms = 0; ms < 20000; ms += 5) {
		if (testpmd_wrote(out, needle, count))
			return 0;
		usleep(5000);
	}
	fprintf(stderr, "bench-dpdk: testpmd did not answer (see %s)\n", out);
	return -1;
}

static double worker_interval(struct dt_dpdk *e, double seconds, unsigned long long *tx)
{
	uint16_t port = (uint16_t)dt_dpdk__port_id(e, "net_null0");
	struct rte_eth_stats st;
	double t0;

	rte_eth_stats_reset(port);
	t0 = (double)dt_mono_ns() / 1e9;
	dt_dpdk__launch(e);
	usleep((useconds_t)(seconds * 1e6));
	dt_dpdk__stop(e);
	t0 = (double)dt_mono_ns() / 1e9 - t0;
	rte_eth_stats_get(port, &st);
	*tx = st.opackets;
	return t0;
}

static int same_run(const char *testpmd, const char *pcap, struct same_run *r)
{
	char out[] = "/tmp/dt-bench-testpmd-XXXXXX";
	int fd = mkstemp(out), err = -1;
	struct bench_eal b;
	struct dt_counter c;
	struct dt_dpdk *e;
	unsigned int i;
	FILE *p;

	if (fd < 0)
		return -1;
	close(fd);
	bench_eal_init(&b, pcap, "0,1");
	p = testpmd_open(testpmd, pcap, out);
	if (p && !testpmd_wait(out, "testpmd> ", 1) && !dt_dpdk__open(&b.o, &e)) {
		err = configure(e);
		for (i = 0; i < ROUNDS && !err; i++) {
			r->testpmd_s[i] = testpmd_interval(p, r->interval);
			err = testpmd_wait(out, NULL, i + 1); /* stopped before the worker starts */
			r->worker_s[i] = worker_interval(e, r->interval, &r->worker_tx[i]);
		}
		dt_dpdk__read_counter(e, HOME, DT_REASON_REROUTED_ROUTE, &c);
		r->rerouted = c.packets;
		dt_dpdk__close(e);
	}
	if (p) {
		fputs("quit\n", p);
		pclose(p);
	}
	if (!err && testpmd_counts(out, r->testpmd_tx, ROUNDS) != ROUNDS)
		err = -1;
	unlink(out);
	return err;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static int same_run_report(struct same_run *r)
{
	double worker[ROUNDS], testpmd[ROUNDS], ratio[ROUNDS];
	unsigned int i;

	for (i = 0; i < ROUNDS; i++) {
		worker[i] = (double)r->worker_tx[i] / r->worker_s[i] / 1e6;
		testpmd[i] = (double)r->testpmd_tx[i] / r->testpmd_s[i] / 1e6;
		if (worker[i] <= 0 || testpmd[i] <= 0) {
			fprintf(stderr,
				"bench-dpdk: round %u failed (worker %.3f, testpmd %.3f Mpps)\n", i,
				worker[i], testpmd[i]);
			return 1;
		}
		ratio[i] = worker[i] / testpmd[i];
		printf("round %u: worker %.3f Mpps, testpmd io %.3f Mpps, ratio %.3f\n", i,
		       worker[i], testpmd[i], ratio[i]);
	}
	printf("worker: %llu packets rerouted, route mode; medians of %d rounds:\n",
	       (unsigned long long)r->rerouted, ROUNDS);
	printf("{\"dpdk_worker_mpps\": %.3f, \"testpmd_io_mpps\": %.3f, \"dpdk_ratio\": %.3f}\n",
	       median(worker, ROUNDS), median(testpmd, ROUNDS), median(ratio, ROUNDS));
	return 0;
}

int main(int argc, char **argv)
{
	bool profile = argc > 2 && !strcmp(argv[1], "--bursts");
	bool alternate = argc > 2 && !strcmp(argv[1], "--alternate");
	bool fixed = profile || alternate;
	double seconds = argc > 1 && !fixed ? atof(argv[1]) : 3.0;
	const char *tpmd = argc > 2 && !fixed ? argv[2] : "/usr/bin/dpdk-testpmd";
	long count = fixed ? atol(argv[2]) : 0;
	char pcap[] = "/tmp/dt-bench-XXXXXX";
	struct same_run r = { 0 };
	int fd, ret;

	if (seconds <= 0 || seconds > 60 || (fixed && (count <= 0 || count > 100000000))) {
		fprintf(stderr,
			"usage: bench-dpdk [seconds (0-60]] [dpdk-testpmd path]\n"
			"       bench-dpdk --bursts N      (fixed work, for callgrind)\n"
			"       bench-dpdk --alternate N   (N rounds of io, parse-only, worker in turn)\n");
		return 2;
	}
	fd = mkstemp(pcap);
	if (fd < 0 || (close(fd), pcap_write(pcap))) {
		fprintf(stderr, "bench-dpdk: cannot write %s\n", pcap);
		return 1;
	}
	if (fixed) {
		ret = profile ? profile_bursts(pcap, count) : alternate_bursts(pcap, count);
		unlink(pcap);
		return ret;
	}
	r.interval = seconds / ROUNDS;
	ret = same_run(tpmd, pcap, &r);
	unlink(pcap);
	if (ret) {
		fprintf(stderr, "bench-dpdk: the same run failed (testpmd %s, or the engine)\n",
			tpmd);
		return 1;
	}
	return same_run_report(&r);
}
