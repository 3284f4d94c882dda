/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A DPDK engine on rte_ring-backed ports for tests: one client port that traffic comes in on,
 * one port per site (egress index = site id), an exception port, and the same sites, failover
 * lists and prefixes as tests/bpf/test_detour.c, so that both dataplanes see one configuration.
 * Output is read back from the ports' TX rings: which port a frame left by is its verdict.
 */
#ifndef DT_DPDK_FIXTURE_H
#define DT_DPDK_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/core/detour_abi.h"
#include "dt_dpdk.h"
#include "failover_slots.h"
#include "test_scenario.h" /* sites, failover lists, prefixes: as test_detour.c */

#define FIX_SEED SCENARIO_SEED
#define FIX_PKT_MAX 2048

#define FIX_EXCEPTION (-1) /* out of the exception port */
#define FIX_NOTHING (-2) /* no frame came out anywhere */
#define FIX_SEVERAL (-3) /* more than one frame came out */

struct fix_out {
	int where; /* site id whose port the frame left by, or FIX_* */
	uint8_t bytes[FIX_PKT_MAX];
	unsigned int len;
};

struct fixture {
	struct dt_dpdk *e;
	struct dt_dpdk_worker *w;
	struct rte_mempool *pool; /* the test's own mbufs for input */
	__u64 now_ns; /* the injected clock */
};

extern struct fixture fix;

/* EAL with --no-huge and a file prefix of @tag and the pid; 0 or -errno. */
int fix_eal_init(const char *tag, const char *lcores);
/* Ring ports, the engine on them (not launched), and the test_detour.c configuration. */
int fix_engine_open(unsigned int n_workers);
void fix_engine_close(void);
void fix_configure(void);
/* every site UP, the site table as fix_site_of(), no flows, clock advanced */
void fix_reset(void);
void fix_set_state(__u32 site, __u32 state);
void fix_set_failover(__u32 home, const struct dt_failover_entry *list, unsigned int n);
void fix_add_prefix(const char *addr, int plen, __u16 home, __u16 flags);

/* Inject a frame on the client port; run the worker; collect what came out. */
struct fix_out fix_run(const uint8_t *pkt, unsigned int len);
void fix_inject(const uint8_t *pkt, unsigned int len);
/* Drain every TX ring into @out (up to @max frames); returns how many. */
unsigned int fix_collect(struct fix_out *out, unsigned int max);
void fix_poll(void);

__u64 fix_counter(__u32 site, __u32 reason); /* packets since fix_reset() */
unsigned int fix_flow_count(void);
bool fix_flow_get(const struct dt_flow_key *k, struct dt_flow_state *v);
struct rte_ring *fix_port_rx_ring(int where); /* what the engine receives on that port */
struct rte_ring *fix_port_tx_ring(int where);
const char *fix_port_name(int where);

#endif /* DT_DPDK_FIXTURE_H */
