// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-dpdk's parse-only forwarder: the worker's first stage alone (parse.h on every frame of a
 * burst), so that the bench can show what the parser costs on top of the I/O floor. Its own
 * file: parse.h's <linux/ip.h> collides with the <netinet/ip.h> that rte_ethdev.h pulls in.
 */
#include <rte_mbuf.h>

#include "bench_parse.h"
#include "dataplane/core/parse.h"

unsigned int bench_parse_burst(struct rte_mbuf **pkts, unsigned int n, struct dt_packet *out)
{
	unsigned int i, parsed = 0;

	for (i = 0; i < n; i++) {
		void *data = rte_pktmbuf_mtod(pkts[i], void *);

		parsed += dt_parse_packet(data, (char *)data + rte_pktmbuf_data_len(pkts[i]),
					  &out[i]) >= 0;
	}
	return parsed;
}
