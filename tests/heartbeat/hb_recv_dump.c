/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hb-recv-dump: a heartbeat receiver for tests. Listens on ADDR:PORT, prints one line per
 * accepted heartbeat ("hb site=S epoch=E seq=N flags=0xF arrival_ns=T") and the rejection
 * counters at exit. Bounded: it stops after --seconds (default 10) or --count heartbeats.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dt_clock.h"
#include "hb_socket.h"

static void print_heartbeat(const struct hb_heartbeat *hb, void *ctx)
{
	unsigned long *count = ctx;

	printf("hb site=%u beacon=%u key=%u epoch=%llu seq=%llu flags=0x%08x interval_us=%u "
	       "arrival_ns=%llu\n",
	       hb->site_id, hb->beacon_id, hb->key_id, (unsigned long long)hb->epoch,
	       (unsigned long long)hb->seq, hb->power_flags, hb->interval_us,
	       (unsigned long long)hb->arrival_ns);
	(*count)++;
}

static int usage(void)
{
	fprintf(stderr, "usage: hb-recv-dump ADDR:PORT KEYFILE [SECONDS] [COUNT]\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned long count = 0, max_count;
	struct hb_keyring *kr;
	struct hb_receiver rx;
	struct hb_socket *sock;
	uint64_t deadline;

	if (argc < 3 || argc > 5)
		return usage();
	deadline = dt_mono_ms() + 1000 * (argc > 3 ? strtoul(argv[3], NULL, 10) : 10);
	max_count = argc > 4 ? strtoul(argv[4], NULL, 10) : 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (hb_keyring__load(argv[2], &kr))
		return 1;
	hb_receiver__init(&rx, kr);
	if (hb_socket__open(argv[1], &rx, &sock))
		return 1;
	while (dt_mono_ms() < deadline && (!max_count || count < max_count)) {
		struct pollfd pfd = { .fd = hb_socket__fd(sock), .events = POLLIN };

		if (poll(&pfd, 1, 50) > 0 &&
		    hb_socket__receive(sock, HB_SOCKET_BATCH, print_heartbeat, &count) < 0)
			break;
	}
	for (int r = 0; r < HB_REASON_MAX; r++)
		printf("count %s=%llu\n", hb_reason_str(r), (unsigned long long)rx.counters[r]);
	hb_socket__close(sock);
	hb_keyring__free(kr);
	return 0;
}
