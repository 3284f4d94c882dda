/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bench-heartbeat: nanoseconds per heartbeat seal and verify, the median over many batches so
 * that a preempted batch does not move the result. For the record it also times the MACs that
 * were considered and not chosen (docs/heartbeat.md). The last line is JSON for scripts/bench.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

#include "dt_clock.h"
#include "hb.h"

#define BATCH 10000
#define BATCHES 51

struct bench_ctx {
	struct hb_keyring *kr;
	uint8_t key[HB_KEY_BYTES];
	uint8_t wire[HB_WIRE_LEN];
	struct hb_msg msg;
	volatile uint32_t sink;
};

typedef void (*bench_fn)(struct bench_ctx *c, unsigned int i);

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median ns per call of fn over BATCHES batches of BATCH calls. */
static double bench_median(struct bench_ctx *c, bench_fn fn)
{
	double per_call[BATCHES];

	for (unsigned int b = 0; b < BATCHES; b++) {
		uint64_t t0 = dt_mono_ns();

		for (unsigned int i = 0; i < BATCH; i++)
			fn(c, i);
		per_call[b] = (double)(dt_mono_ns() - t0) / BATCH;
	}
	qsort(per_call, BATCHES, sizeof(per_call[0]), cmp_double);
	return per_call[BATCHES / 2];
}

/* Seal as the beacon does: encode the fields with a new sequence, then MAC them. */
static void run_seal(struct bench_ctx *c, unsigned int i)
{
	c->msg.seq = i;
	hb_encode(&c->msg, c->wire);
	hb_seal(c->wire, c->key);
	c->sink += c->wire[HB_OFF_MAC];
}

static void run_verify(struct bench_ctx *c, unsigned int i)
{
	struct hb_msg out;

	c->sink += (uint32_t)hb_verify(c->wire, sizeof(c->wire), c->kr, &out) + i;
}

static void run_hmac512256(struct bench_ctx *c, unsigned int i)
{
	uint8_t tag[crypto_auth_hmacsha512256_BYTES];

	c->wire[HB_OFF_SEQ] = (uint8_t)i;
	crypto_auth_hmacsha512256(tag, c->wire, HB_OFF_MAC, c->key);
	c->sink += tag[0];
}

static void run_poly1305(struct bench_ctx *c, unsigned int i)
{
	uint8_t tag[crypto_onetimeauth_BYTES];

	c->wire[HB_OFF_SEQ] = (uint8_t)i;
	crypto_onetimeauth(tag, c->wire, HB_OFF_MAC, c->key);
	c->sink += tag[0];
}

int main(void)
{
	struct bench_ctx c = { .msg = { .site_id = 3, .epoch = 1, .interval_us = 5000 } };
	double seal, verify, hmac, poly;

	c.kr = hb_keyring__new();
	if (!c.kr) {
		fprintf(stderr, "bench-heartbeat: libsodium failed to initialise\n");
		return 1;
	}
	randombytes_buf(c.key, sizeof(c.key));
	hb_keyring__set(c.kr, c.msg.site_id, 0, c.key);
	hb_encode(&c.msg, c.wire);
	hb_seal(c.wire, c.key);
	verify = bench_median(&c, run_verify);
	seal = bench_median(&c, run_seal);
	hmac = bench_median(&c, run_hmac512256);
	poly = bench_median(&c, run_poly1305);
	printf("heartbeat (%d bytes, keyed BLAKE2b-128): seal %.1f ns, verify %.1f ns "
	       "(median of %d batches of %d)\n",
	       HB_WIRE_LEN, seal, verify, BATCHES, BATCH);
	printf("not chosen, MAC of the same %d bytes: HMAC-SHA512/256 %.1f ns, Poly1305 %.1f ns\n",
	       HB_OFF_MAC, hmac, poly);
	printf("{\"hb_seal_ns\": %.1f, \"hb_verify_ns\": %.1f}\n", seal, verify);
	hb_keyring__free(c.kr);
	return 0;
}
