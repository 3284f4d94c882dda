// SPDX-License-Identifier: GPL-2.0-only
/*
 * RSS across worker lcores: two workers launched on EAL lcores that share the machine's two CPUs
 * with the main lcore (--lcores 0@0,1@1,2@0), every port with two RX and two TX queues.
 *
 * net_ring has no RSS of its own, so the test plays the NIC: it hashes each frame's IPv4/TCP
 * 4-tuple with the Toeplitz function and the key that NICs use by default (rte_softrss()) and
 * puts the frame on that RX queue's ring. A worker sends on the TX queue of its own id, so the
 * TX ring a frame leaves by says which worker handled it. Checked from outside:
 *  - every frame of a flow leaves by the TX queue of its RSS queue: one flow, one worker;
 *  - a flow's later packets find the entry its first packet recorded in that worker's table:
 *    after the home site's failover slots are republished toward another site, established
 *    flows still leave by their first target and only new flows take the new one;
 *  - no frame is lost, nothing is dropped, each flow is in exactly one table, and the counters
 *    summed over the workers match what was sent (packets and bytes).
 * Bounded: 1600 frames, and at most WAIT_LIMIT_S of wall time for them to come out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_packets.h" /* before the DPDK headers: it includes <arpa/inet.h> */

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_thash.h>

#include "dataplane/core/detour_abi.h"
#include "common/dt_clock.h"
#include "dt_dpdk.h"
#include "test_scenario.h"

#define QUEUES 2 /* = workers */
#define FLOWS 256
#define NEW_FLOWS 64
#define LATER_PKTS 4 /* per established flow after the republication */
#define RING_SIZE 4096
#define WAIT_LIMIT_S 20

enum { P_CLIENT, P_SITE_A, P_SITE_B, P_EXC, N_PORTS };

/* The 40-octet Toeplitz key most NICs start with (Microsoft's RSS verification suite). */
static const uint8_t rss_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static struct rte_ring *rx_ring[N_PORTS][QUEUES], *tx_ring[N_PORTS][QUEUES];
static char port_name[N_PORTS][64];
static struct rte_mempool *pool;
static struct dt_dpdk *engine;
static __u64 clock_ns = 1000000000ull;
static __u64 bytes_sent;
static unsigned int sent;

static __u64 test_clock(void *ctx)
{
	return __atomic_load_n((__u64 *)ctx, __ATOMIC_RELAXED);
}

/* A port of @n_rx RX and QUEUES TX rings (the exception port: the engine polls one RX queue). */
static int ring_port(int p, const char *tag, unsigned int n_rx)
{
	char name[32];
	unsigned int q;
	int id;

	for (q = 0; q < QUEUES; q++) {
		snprintf(name, sizeof(name), "%s_rx%u", tag, q);
		rx_ring[p][q] = rte_ring_create(name, RING_SIZE, SOCKET_ID_ANY,
						RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "%s_tx%u", tag, q);
		tx_ring[p][q] = rte_ring_create(name, RING_SIZE, SOCKET_ID_ANY,
						RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!rx_ring[p][q] || !tx_ring[p][q])
			return -ENOMEM;
	}
	id = rte_eth_from_rings(tag, rx_ring[p], n_rx, tx_ring[p], QUEUES, SOCKET_ID_ANY);
	if (id < 0)
		return -ENODEV;
	return rte_eth_dev_get_name_by_port((uint16_t)id, port_name[p]);
}

/* HOME's slots all name one target: which one a frame reached says how it was decided. */
static int slots_toward(__u8 target)
{
	static struct dt_failover_slots slots;
	unsigned int s;

	for (s = 0; s < DT_FAILOVER_SLOTS; s++) {
		memset(slots.cand[s], DT_CANDIDATE_NONE, DT_FAILOVER_CANDIDATES);
		slots.cand[s][0] = target;
	}
	return dt_dpdk__set_failover(engine, HOME, &slots);
}

static int engine_configure(void)
{
	struct dt_prefix_info info = { .home_site = HOME };
	struct dt_site a = scenario_site(SITE_A), b = scenario_site(SITE_B);
	uint8_t addr[16] = { 198, 18, 10, 0 };
	int err;

	err = dt_dpdk__set_egress(engine, SITE_A, port_name[P_SITE_A]);
	err = err ?: dt_dpdk__set_egress(engine, SITE_B, port_name[P_SITE_B]);
	err = err ?: dt_dpdk__set_site(engine, SITE_A, &a);
	err = err ?: dt_dpdk__set_site(engine, SITE_B, &b);
	err = err ?: slots_toward(SITE_A);
	err = err ?: dt_dpdk__add_prefix(engine, DT_FAMILY_V4, addr, 24, &info);
	err = err ?: dt_dpdk__set_site_state(engine, SITE_A, DT_SITE_UP);
	err = err ?: dt_dpdk__set_site_state(engine, SITE_B, DT_SITE_UP);
	err = err ?: dt_dpdk__set_site_state(engine, HOME, DT_SITE_DOWN);
	return err;
}

static int group_setup(void **state)
{
	static char prefix[64];
	char *argv[] = { "dt-dpdk-rss",	     "--no-huge",     "-m",   "512",	  "--no-pci",
			 "--no-shconf",	     "--file-prefix", prefix, "--lcores", "0@0,1@1,2@0",
			 "--log-level=error" };
	struct dt_dpdk_opts o = { .n_workers = QUEUES,
				  .flow_hash_seed = SCENARIO_SEED,
				  .flow_entries = 4096,
				  .clock_ns = test_clock,
				  .clock_ctx = &clock_ns,
				  .n_ports = P_EXC };
	int err, p;

	snprintf(prefix, sizeof(prefix), "dt-rss-%d", getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0) {
		fprintf(stderr, "EAL: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	pool = rte_pktmbuf_pool_create("rss_pool", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	err = pool ? 0 : -ENOMEM;
	err = err ?: ring_port(P_CLIENT, "client", QUEUES);
	err = err ?: ring_port(P_SITE_A, "sa", QUEUES);
	err = err ?: ring_port(P_SITE_B, "sb", QUEUES);
	err = err ?: ring_port(P_EXC, "exc", 1);
	for (p = 0; p < P_EXC; p++)
		o.ports[p] = port_name[p];
	o.exception_port = port_name[P_EXC];
	err = err ?: dt_dpdk__open(&o, &engine);
	err = err ?: engine_configure();
	err = err ?: dt_dpdk__launch(engine);
	if (err)
		fprintf(stderr, "rss set-up failed: %s\n", strerror(-err));
	return err ? -1 : 0;
}

static int group_teardown(void **state)
{
	dt_dpdk__close(engine);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

/* Flow @i of the client side: a TCP ACK (an established flow) to HOME's prefix. */
static struct pkt_spec flow_spec(unsigned int i, char *src)
{
	struct pkt_spec s = scenario_tcp4("198.18.10.1", (uint16_t)(10000 + i * 7), 0x10);

	snprintf(src, 16, "198.19.%u.%u", (i / 200 + 1) & 0xff, (i % 200 + 1) & 0xff);
	s.src = src;
	s.payload = i % 3 * 16; /* a few frame sizes, so that bytes are counted per frame */
	return s;
}

/* The NIC's RSS: Toeplitz over the IPv4 addresses and the TCP ports, in host order. */
static unsigned int rss_queue(const struct pkt_spec *s)
{
	struct rte_ipv4_tuple t = { 0 };
	struct in_addr a;

	inet_pton(AF_INET, s->src, &a);
	t.src_addr = ntohl(a.s_addr);
	inet_pton(AF_INET, s->dst, &a);
	t.dst_addr = ntohl(a.s_addr);
	t.sport = s->sport;
	t.dport = s->dport;
	return rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, rss_key) % QUEUES;
}

/* @first: the flow's first packet, a SYN (recorded); else an ACK */
static void send_flow(unsigned int i, bool first)
{
	uint8_t frame[PKT_MAX];
	char src[16];
	struct pkt_spec s = flow_spec(i, src);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	unsigned int len;

	s.tcp_flags = first ? 0x02 : 0x10;
	len = pkt_build(frame, &s);
	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), frame, len);
	/* single producer: only this thread enqueues on the client's RX rings */
	assert_int_equal(rte_ring_enqueue(rx_ring[P_CLIENT][rss_queue(&s)], m), 0);
	sent++;
	bytes_sent += len;
}

static unsigned int frames_out(void)
{
	unsigned int p, q, n = 0;

	for (p = P_SITE_A; p < N_PORTS; p++)
		for (q = 0; q < QUEUES; q++)
			n += rte_ring_count(tx_ring[p][q]);
	return n;
}

/* Until @n frames came out of the engine, or the time limit: the workers run on their own. */
static void wait_for_frames(unsigned int n)
{
	uint64_t t0_ns = dt_mono_ns();

	do {
		if (frames_out() >= n)
			return;
		sched_yield(); /* lcore 2 shares this CPU */
	} while (dt_mono_ns() - t0_ns < WAIT_LIMIT_S * 1000000000ull);
	fail_msg("%u of %u frames came out within %d s", frames_out(), n, WAIT_LIMIT_S);
}

/* Which flow a frame belongs to: its source address and port, as flow_spec() made them. */
static unsigned int frame_flow(const uint8_t *f)
{
	unsigned int sport = (unsigned int)(f[34] << 8 | f[35]);

	return (sport - 10000) / 7;
}

struct tally {
	unsigned int by_queue[QUEUES];
	unsigned int wrong_worker, wrong_site;
};

/* Drain one port's TX rings: each frame on the queue of its flow's RSS queue. */
static void drain_port(int p, struct tally *t, unsigned int first_new)
{
	struct rte_mbuf *m;
	unsigned int q;

	for (q = 0; q < QUEUES; q++) {
		while (!rte_ring_dequeue(tx_ring[p][q], (void **)&m)) {
			const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
			unsigned int flow = frame_flow(f);
			char src[16];
			struct pkt_spec s = flow_spec(flow, src);

			t->by_queue[q]++;
			t->wrong_worker += rss_queue(&s) != q;
			t->wrong_site += p != (flow >= first_new ? P_SITE_B : P_SITE_A);
			rte_pktmbuf_free(m);
		}
	}
}

static void drain_all(struct tally *t, unsigned int first_new)
{
	int p;

	memset(t, 0, sizeof(*t));
	for (p = P_SITE_A; p < N_PORTS; p++)
		drain_port(p, t, first_new);
}

struct flow_walk {
	unsigned int n, dup;
	uint8_t seen[FLOWS + NEW_FLOWS];
};

static int walk_flow(const struct dt_flow_key *k, const struct dt_flow_state *v, void *ctx)
{
	struct flow_walk *w = ctx;
	unsigned int flow = (ntohs(k->sport) - 10000) / 7;

	w->n++;
	if (flow >= FLOWS + NEW_FLOWS || w->seen[flow]++)
		w->dup++;
	return 0;
}

static void test_rss_keeps_each_flow_on_one_worker(void **state)
{
	struct flow_walk walk = { 0 };
	struct dt_counter c;
	struct tally t;
	unsigned int i, k;

	/* Round 1: the first packet of every flow; HOME is down, every slot says A. */
	for (i = 0; i < FLOWS; i++)
		send_flow(i, true);
	wait_for_frames(sent);
	drain_all(&t, FLOWS);
	assert_int_equal(t.by_queue[0] + t.by_queue[1], FLOWS);
	assert_int_equal(t.wrong_worker, 0);
	assert_int_equal(t.wrong_site, 0);
	/* both workers had work: Toeplitz spreads 256 flows over 2 queues far from 1:3 */
	assert_true(t.by_queue[0] > FLOWS / 4 && t.by_queue[1] > FLOWS / 4);

	/* Round 2: the slots now say B. Known flows stay on A; only new flows go to B. */
	assert_int_equal(slots_toward(SITE_B), 0);
	__atomic_fetch_add(&clock_ns, 1000000ull, __ATOMIC_RELAXED);
	for (k = 0; k < LATER_PKTS; k++)
		for (i = 0; i < FLOWS; i++)
			send_flow((i * 37 + k) % FLOWS, false); /* interleaved, reordered */
	for (i = FLOWS; i < FLOWS + NEW_FLOWS; i++)
		send_flow(i, true);
	wait_for_frames(FLOWS * LATER_PKTS + NEW_FLOWS);
	drain_all(&t, FLOWS);
	assert_int_equal(t.by_queue[0] + t.by_queue[1], FLOWS * LATER_PKTS + NEW_FLOWS);
	assert_int_equal(t.wrong_worker, 0);
	assert_int_equal(t.wrong_site, 0);

	dt_dpdk__stop(engine);
	assert_int_equal(dt_dpdk__tx_dropped(engine), 0);
	assert_int_equal(dt_dpdk__for_each_flow(engine, walk_flow, &walk), 0);
	assert_int_equal(walk.n, FLOWS + NEW_FLOWS);
	assert_int_equal(walk.dup, 0);
	assert_int_equal(dt_dpdk__read_counter(engine, HOME, DT_REASON_REROUTED_ROUTE, &c), 0);
	assert_int_equal(c.packets, sent);
	assert_int_equal(c.bytes, bytes_sent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rss_keeps_each_flow_on_one_worker),
	};

	return cmocka_run_group_tests_name("dpdk_rss", tests, group_setup, group_teardown);
}
