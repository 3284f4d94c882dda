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

#define FIX_SEED 0xfeedf00du
#define FIX_PKT_MAX 2048

/* Sites, as in tests/bpf/test_detour.c. */
enum {
	HOME = 1,
	SITE_A = 2,
	SITE_B = 3,
	IPIP4 = 4, /* tunnel endpoint 198.18.200.4 */
	IPIP6 = 5, /* tunnel endpoint 2001:db8:200::5 */
	HOME_V4TUN = 6,
	HOME_V6TUN = 7,
	HOME_STATELESS = 8,
	SITE_TX = 9,
	HOME_TX = 10,
	NSITES = 11,
};

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
struct dt_site fix_site_of(int id);
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
