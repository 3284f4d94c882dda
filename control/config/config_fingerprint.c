// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy fingerprint: a hash of exactly what decides where an edge sends a packet, so that a
 * fleet of edges behind ECMP can check that they agree (docs/metrics.md, "Policy fingerprint").
 *
 * It covers the hash seed, each site's id and failover list (site ids and weights, in site-id
 * order: the rendezvous ranking does not depend on the order written), and every prefix (family,
 * length, address, home site id, flags). It leaves out what is each edge's own (interfaces,
 * MACs, tunnel addresses, MTUs, timers, paths) and site names, which only label things. The bytes
 * hashed are a fixed little-endian encoding, so the fingerprint is the same on every machine.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "dt_config.h"

#define FP_DOMAIN "detour policy fingerprint v1"

static void put_u64(crypto_generichash_state *st, uint64_t v)
{
	unsigned char b[8];

	for (unsigned int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	crypto_generichash_update(st, b, sizeof(b));
}

static int entry_cmp(const void *a, const void *b)
{
	const struct dt_failover_entry *x = a, *y = b;

	return x->site < y->site ? -1 : x->site > y->site;
}

static void put_site(crypto_generichash_state *st, const struct dt_config_site *s)
{
	struct dt_failover_entry list[DT_MAX_SITES - 1];
	unsigned int i, n = s->n_failover < DT_MAX_SITES - 1 ? s->n_failover : DT_MAX_SITES - 1;

	memcpy(list, s->failover, n * sizeof(list[0]));
	qsort(list, n, sizeof(list[0]), entry_cmp);
	put_u64(st, s->id);
	put_u64(st, n);
	for (i = 0; i < n; i++) {
		put_u64(st, list[i].site);
		put_u64(st, list[i].weight);
	}
}

/* Prefixes are kept sorted by family, address and length (dt_config.h): already canonical. */
static void put_prefix(crypto_generichash_state *st, const struct dt_config_prefix *p)
{
	put_u64(st, p->family);
	put_u64(st, p->len);
	crypto_generichash_update(st, p->addr, sizeof(p->addr));
	put_u64(st, p->home_site);
	put_u64(st, p->flags);
}

void dt_config__policy_fingerprint(const struct dt_config *cfg,
				   char out[DT_POLICY_FINGERPRINT_LEN + 1])
{
	unsigned char h[DT_POLICY_FINGERPRINT_LEN / 2];
	crypto_generichash_state st;
	unsigned int i;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)FP_DOMAIN, sizeof(FP_DOMAIN));
	put_u64(&st, cfg->hash_seed);
	put_u64(&st, cfg->n_sites);
	for (i = 0; i < cfg->n_sites; i++)
		put_site(&st, &cfg->sites[i]);
	put_u64(&st, cfg->n_prefixes);
	for (i = 0; i < cfg->n_prefixes; i++)
		put_prefix(&st, &cfg->prefixes[i]);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, DT_POLICY_FINGERPRINT_LEN + 1, h, sizeof(h));
}
