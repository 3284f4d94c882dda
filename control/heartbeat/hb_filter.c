// SPDX-License-Identifier: GPL-2.0-only
/*
 * The heartbeat socket filter's loader (hb_filter.h). The table is a map in the one slot of an
 * array of maps: an update creates and fills a new map, then replaces the slot's map in one
 * bpf_map_update_elem(), which the kernel publishes through RCU; the old map goes away with its
 * last reader.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dt_log.h"
#include "hb_filter.h"
#include "hb_filter_abi.h"
#include "hb_sockfilter.skel.h"

_Static_assert(HB_FILTER_SITES == DT_MAX_SITES, "a table entry per site id");
_Static_assert(HB_FILTER_SOURCES == HB_MAX_SOURCES, "every source of a site");
_Static_assert(HB_FILTER_KEYS == HB_MAX_KEYS_PER_SITE, "every key id of a site");
_Static_assert(HB_FILTER_BEACONS == HB_MAX_BEACONS, "every beacon id");
_Static_assert(HB_FILTER_REASONS == HB_REASON_MAX, "a counter per reason");
_Static_assert(HB_FILTER_R_SHORT == HB_REASON_SHORT && HB_FILTER_R_LONG == HB_REASON_LONG &&
		       HB_FILTER_R_BAD_MAGIC == HB_REASON_BAD_MAGIC &&
		       HB_FILTER_R_BAD_VERSION == HB_REASON_BAD_VERSION &&
		       HB_FILTER_R_UNKNOWN_SITE == HB_REASON_UNKNOWN_SITE &&
		       HB_FILTER_R_UNKNOWN_KEY == HB_REASON_UNKNOWN_KEY &&
		       HB_FILTER_R_WRONG_SOURCE == HB_REASON_WRONG_SOURCE,
	       "the filter counts by the receiver's reasons");

struct hb_filter {
	struct hb_sockfilter *skel;
};

int hb_filter__open(struct hb_filter **out)
{
	struct hb_filter *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return -ENOMEM;
	f->skel = hb_sockfilter__open_and_load();
	if (!f->skel) {
		err = -errno;
		free(f);
		return err ?: -EINVAL;
	}
	*out = f;
	return 0;
}

int hb_filter__prog_fd(const struct hb_filter *f)
{
	return bpf_program__fd(f->skel->progs.hb_filter);
}

/* A prefix of len bits as four network-order words of address and mask. */
static void source_words(const struct hb_source *src, struct hb_filter_src *e)
{
	uint8_t mask[16] = { 0 };
	unsigned int i;

	for (i = 0; i < src->len && i < 128; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	e->beacon_id = src->beacon_id;
	e->v6 = src->net.family == DT_FAMILY_V6;
	memcpy(e->mask, mask, sizeof(e->mask));
	for (i = 0; i < 16; i++)
		((uint8_t *)e->net)[i] = src->net.addr[i] & mask[i];
}

static void site_entry(const struct hb_receiver *rx, uint16_t id, struct hb_filter_site *e)
{
	const struct hb_site_rx *s = &rx->site[id];
	uint16_t ids[HB_MAX_KEYS_PER_SITE];
	unsigned int n = rx->keys ? hb_keyring__site_keys(rx->keys, id, ids, HB_FILTER_KEYS) : 0;

	memset(e, 0, sizeof(*e));
	e->n_keys = (uint8_t)(n > HB_FILTER_KEYS ? HB_FILTER_KEYS : n);
	memcpy(e->key_id, ids, e->n_keys * sizeof(ids[0]));
	e->sourced = s->sourced;
	e->n_sources = s->n_sources;
	for (unsigned int i = 0; i < s->n_sources && i < HB_FILTER_SOURCES; i++)
		source_words(&s->source[i], &e->src[i]);
}

int hb_filter__update(struct hb_filter *f, const struct hb_receiver *rx)
{
	struct hb_filter_site e;
	__u32 zero = 0, id;
	int fd, err = 0;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "hb_filter_set", sizeof(__u32), sizeof(e),
			    HB_FILTER_SITES, NULL);
	if (fd < 0)
		return -errno;
	for (id = 0; id < HB_FILTER_SITES && !err; id++) {
		site_entry(rx, (uint16_t)id, &e);
		if (bpf_map_update_elem(fd, &id, &e, BPF_ANY))
			err = -errno;
	}
	if (!err &&
	    bpf_map_update_elem(bpf_map__fd(f->skel->maps.hb_filter_table), &zero, &fd, BPF_ANY))
		err = -errno;
	close(fd); /* the table holds it now, or it goes */
	return err;
}

void hb_filter__clear(struct hb_filter *f)
{
	__u32 zero = 0;

	bpf_map_delete_elem(bpf_map__fd(f->skel->maps.hb_filter_table), &zero);
}

int hb_filter__drops(const struct hb_filter *f, uint64_t out[HB_REASON_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(f->skel->maps.hb_filter_drops);
	__u64 *v;

	memset(out, 0, HB_REASON_MAX * sizeof(out[0]));
	if (ncpu <= 0)
		return ncpu ?: -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (__u32 r = 0; r < HB_REASON_MAX; r++) {
		if (bpf_map_lookup_elem(fd, &r, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[r] += v[c];
	}
	free(v);
	return 0;
}

void hb_filter__close(struct hb_filter *f)
{
	if (!f)
		return;
	hb_sockfilter__destroy(f->skel);
	free(f);
}
