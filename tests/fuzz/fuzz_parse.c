/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer target for dt_parse_packet(). Each input is one frame, copied to the end of an
 * exactly sized heap block so that ASan reports any read past data_end. Besides not crashing, a
 * result must be deterministic (a second parse gives the same bytes, so nothing uninitialised
 * leaks into it) and must describe the frame it came from: offsets inside it, zero padding. Any
 * violation abort()s so that libFuzzer reports it with the input.
 *
 * Seeds: the golden packets, written to the corpus directory by fuzz_seed_corpus at build time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/core/parse.h"
#include "dataplane/core/flow_hash.h"

/* NET_IP_ALIGN: the frame starts 2 octets into the block so that IP headers are 4-aligned. */
#define FRAME_ALIGN 2

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "fuzz_parse: violated: %s\n", #cond); \
			abort();                                              \
		}                                                             \
	} while (0)

static void check_result(const struct dt_packet *pkt, size_t len)
{
	const struct dt_flow_key *key = &pkt->key;

	CHECK(pkt->l3_off >= ETH_HLEN && pkt->l3_off + pkt->l3_len <= len);
	CHECK(pkt->l4_off == 0 ||
	      (pkt->l4_off > pkt->l3_off && pkt->l4_off <= pkt->l3_off + pkt->l3_len));
	CHECK(pkt->vlan_depth <= DT_MAX_VLAN_DEPTH);
	CHECK(pkt->frag <= DT_FRAG_LATER);
	CHECK(key->family == DT_FAMILY_V4 || key->family == DT_FAMILY_V6);
	CHECK(pkt->l3_proto == (key->family == DT_FAMILY_V4 ? ETH_P_IP : ETH_P_IPV6));
	CHECK(!key->pad[0] && !key->pad[1] && pkt->malformed < DT_REASON_MAX);
	if (key->family == DT_FAMILY_V4)
		CHECK(!(key->saddr[1] | key->saddr[2] | key->saddr[3] | key->daddr[1] |
			key->daddr[2] | key->daddr[3]));
	if (pkt->frag != DT_FRAG_NONE)
		CHECK(!pkt->l4_off && !key->sport && !key->dport);
	if (pkt->malformed)
		CHECK(!key->sport && !key->dport && !pkt->tcp_flags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *block = malloc(FRAME_ALIGN + size), *frame = block + FRAME_ALIGN;
	struct dt_packet first, again;
	int ret;

	if (!block)
		return 0;
	if (size)
		memcpy(frame, data, size);
	ret = dt_parse_packet(frame, frame + size, &first);
	CHECK(ret <= 0 && ret > -DT_REASON_MAX);
	CHECK(dt_parse_packet(frame, frame + size, &again) == ret);
	if (ret == 0) {
		CHECK(!memcmp(&first, &again, sizeof(first)));
		check_result(&first, size);
		CHECK(dt_flow_hash(&first.key, 1) == dt_flow_hash(&again.key, 1));
	}
	free(block);
	return 0;
}
