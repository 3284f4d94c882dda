/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flow-fill: fill a pinned flow table, for tests/daemon/test-daemon-ctl-flows.sh (a big table
 * without a flood of packets). Not an operator tool.
 *
 *   flow-fill PIN COUNT HOME TARGET
 *
 * Writes COUNT established flows into the LRU hash pinned at PIN (dt_flows): UDP flows from
 * client addresses in 198.19.0.0/16 (ports from 1024 up) to 198.18.10.1:53, each moved from site
 * HOME to site TARGET and last seen now. Prints "filled=N", the writes the map took; exits 0, 1 on
 * a failure, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "dataplane/core/detour_abi.h"

static int parse(const char *text, const char *what, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(text, &end, 10);
	if (errno || end == text || *end || *out > max) {
		fprintf(stderr, "flow-fill: %s \"%s\": expected 0 .. %lu\n", what, text, max);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct dt_flow_key key = { .family = DT_FAMILY_V4, .proto = 17 };
	struct dt_flow_state val = { 0 };
	unsigned long count, home, target, i, filled = 0;
	struct timespec ts;
	int fd;

	if (argc != 5 || parse(argv[2], "COUNT", 1ul << 24, &count) ||
	    parse(argv[3], "HOME", DT_MAX_SITES - 1, &home) ||
	    parse(argv[4], "TARGET", DT_MAX_SITES - 1, &target)) {
		fprintf(stderr, "usage: flow-fill PIN COUNT HOME TARGET\n");
		return 2;
	}
	fd = bpf_obj_get(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "flow-fill: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock of bpf_ktime_get_ns() */
	val.last_seen_ns = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	val.home_site = (__u16)home;
	val.target_site = (__u16)target;
	key.daddr[0] = htonl(0xc6120a01); /* 198.18.10.1 */
	key.dport = htons(53);
	for (i = 0; i < count; i++) {
		key.saddr[0] = htonl(0xc6130000u | (__u32)(i & 0xffff)); /* 198.19.0.0/16 */
		key.sport = htons((__u16)(1024 + (i >> 16)));
		if (bpf_map_update_elem(fd, &key, &val, BPF_ANY)) {
			fprintf(stderr, "flow-fill: %s: entry %lu: %s\n", argv[1], i,
				strerror(errno));
			return 1;
		}
		filled++;
	}
	printf("filled=%lu\n", filled);
	return 0;
}
