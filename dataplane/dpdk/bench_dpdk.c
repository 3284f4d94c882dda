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
 *   bench-dpdk --bursts N                   fixed work on one thread, for callgrind
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

#include "dt_dpdk.h"

#define FLOWS 256
#define FRAME_LEN 64
#define HOME 1
#define SITE_A 2

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

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

static double worker_mpps(const char *pcap, double seconds, __u64 *rerouted)
{
	struct bench_eal b;
	struct rte_eth_stats st;
	struct dt_counter c;
	struct dt_dpdk *e;
	double t0, t1;

	bench_eal_init(&b, pcap, "0,1");
	if (dt_dpdk__open(&b.o, &e) || configure(e))
		return -1;
	rte_eth_stats_reset((uint16_t)dt_dpdk__port_id(e, "net_null0"));
	t0 = now_s();
	dt_dpdk__launch(e);
	usleep((useconds_t)(seconds * 1e6));
	dt_dpdk__stop(e);
	t1 = now_s();
	rte_eth_stats_get((uint16_t)dt_dpdk__port_id(e, "net_null0"), &st);
	dt_dpdk__read_counter(e, HOME, DT_REASON_REROUTED_ROUTE, &c);
	*rerouted = c.packets;
	dt_dpdk__close(e);
	return (double)st.opackets / (t1 - t0) / 1e6;
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

/* dpdk-testpmd, interactive: start, wait, stop; its accumulated TX count over the interval. */
static double testpmd_mpps(const char *testpmd, const char *pcap, double seconds)
{
	char cmd[1024], out[] = "/tmp/dt-bench-testpmd-XXXXXX", line[512];
	unsigned long long tx = 0;
	bool accumulated = false;
	double t0, t1;
	FILE *p, *f;
	int fd = mkstemp(out);

	if (fd < 0)
		return -1;
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "%s -l 0,1 --no-huge -m 1024 --no-pci --no-shconf --file-prefix=dt-tpmd-%d "
		 "--vdev=net_pcap0,rx_pcap=%s,infinite_rx=1 --vdev=net_null0,no-rx=1 "
		 "--log-level=error -- -i --forward-mode=io --nb-cores=1 "
		 "--total-num-mbufs=16384 > %s 2>&1",
		 testpmd, getpid(), pcap, out);
	p = popen(cmd, "w");
	if (!p)
		return -1;
	fputs("start\n", p);
	fflush(p);
	t0 = now_s();
	usleep((useconds_t)(seconds * 1e6));
	fputs("stop\n", p);
	fflush(p);
	t1 = now_s();
	fputs("quit\n", p);
	pclose(p);
	f = fopen(out, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *tp = strstr(line, "TX-packets:");

		accumulated = accumulated || strstr(line, "Accumulated forward statistics");
		if (accumulated && tp && !tx)
			tx = strtoull(tp + strlen("TX-packets:"), NULL, 10);
	}
	if (f)
		fclose(f);
	unlink(out);
	return tx ? (double)tx / (t1 - t0) / 1e6 : -1;
}

int main(int argc, char **argv)
{
	bool profile = argc > 2 && !strcmp(argv[1], "--bursts");
	double seconds = argc > 1 && !profile ? atof(argv[1]) : 3.0, worker, testpmd;
	const char *tpmd = argc > 2 && !profile ? argv[2] : "/usr/bin/dpdk-testpmd";
	long bursts = profile ? atol(argv[2]) : 0;
	char pcap[] = "/tmp/dt-bench-XXXXXX";
	__u64 rerouted = 0;
	int fd, ret;

	if (seconds <= 0 || seconds > 60 || (profile && (bursts <= 0 || bursts > 100000000))) {
		fprintf(stderr, "usage: bench-dpdk [seconds (0-60]] [dpdk-testpmd path]\n"
				"       bench-dpdk --bursts N   (fixed work, for callgrind)\n");
		return 2;
	}
	fd = mkstemp(pcap);
	if (fd < 0 || (close(fd), pcap_write(pcap))) {
		fprintf(stderr, "bench-dpdk: cannot write %s\n", pcap);
		return 1;
	}
	if (profile) {
		ret = profile_bursts(pcap, bursts);
		unlink(pcap);
		return ret;
	}
	testpmd = testpmd_mpps(tpmd, pcap, seconds); /* its own process, before our EAL */
	worker = worker_mpps(pcap, seconds, &rerouted);
	unlink(pcap);
	if (worker <= 0 || testpmd <= 0) {
		fprintf(stderr, "bench-dpdk: a run failed (worker %.3f, testpmd %.3f Mpps)\n",
			worker, testpmd);
		return 1;
	}
	printf("worker: %.3f Mpps (%llu packets rerouted, route mode); testpmd io: %.3f Mpps\n",
	       worker, (unsigned long long)rerouted, testpmd);
	printf("{\"dpdk_worker_mpps\": %.3f, \"testpmd_io_mpps\": %.3f, \"dpdk_ratio\": %.3f}\n",
	       worker, testpmd, worker / testpmd);
	return 0;
}
