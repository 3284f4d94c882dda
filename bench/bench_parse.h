/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef BENCH_PARSE_H
#define BENCH_PARSE_H

#include "dataplane/core/detour_abi.h"

struct rte_mbuf;

/* Parses every frame into @out; how many parsed. */
unsigned int bench_parse_burst(struct rte_mbuf **pkts, unsigned int n, struct dt_packet *out);

#endif /* BENCH_PARSE_H */
