/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Writes every golden packet as one file into a fuzz corpus directory, each preceded by
 * prefix_len zero octets for targets whose input starts with configuration bytes, then touches
 * a stamp file so that the build knows the corpus is there.
 *
 * usage: fuzz_seed_corpus DIR PREFIX_LEN STAMP
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "golden_packets.h"

static int write_seed(const char *dir, const struct dt_golden_packet *g, unsigned int prefix_len)
{
	static const unsigned char zeros[64];
	char path[4096];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "%s/golden-%s", dir, g->name);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "seed %s: open %s: %s\n", g->name, path, strerror(errno));
		return -errno;
	}
	if (fwrite(zeros, 1, prefix_len, f) != prefix_len ||
	    fwrite(g->bytes, 1, g->len, f) != g->len)
		err = -EIO;
	if (fclose(f) || err) {
		fprintf(stderr, "seed %s: write %s failed\n", g->name, path);
		return -EIO;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int i, prefix_len;
	FILE *stamp;

	if (argc != 4 || (prefix_len = strtoul(argv[2], NULL, 10)) > 64) {
		fprintf(stderr, "usage: %s DIR PREFIX_LEN(<=64) STAMP\n", argv[0]);
		return 2;
	}
	if (mkdir(argv[1], 0755) && errno != EEXIST) {
		fprintf(stderr, "corpus %s: mkdir: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (i = 0; i < dt_golden_packet_count; i++)
		if (write_seed(argv[1], &dt_golden_packets[i], prefix_len))
			return 1;
	stamp = fopen(argv[3], "w");
	if (!stamp || fclose(stamp)) {
		fprintf(stderr, "stamp %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	return 0;
}
