/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer target for the configuration parser: any text must either parse into a configuration
 * whose numbers are within their documented limits, or be refused with at least one message that
 * names the file ("t.conf:LINE: ..." or "t.conf: ..."). Never a crash, a leak or a silent
 * refusal; and a configuration compared with itself never needs a restart on reload. Seeds:
 * tests/fuzz/seeds/config/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "dt_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_config(const struct dt_config *c)
{
	unsigned int i;

	if (!c->n_sites || c->n_sites > DT_MAX_SITES || !c->n_interfaces ||
	    c->n_interfaces > DT_CONFIG_MAX_INTERFACES || c->multiplier < 2 || !c->interval_ns)
		abort();
	for (i = 0; i < c->n_sites; i++)
		if (c->sites[i].id >= DT_MAX_SITES || c->sites[i].n_failover >= DT_MAX_SITES)
			abort();
	if (dt_config__reload_blocker(c, c))
		abort(); /* nothing changed, so nothing can need a restart */
	for (i = 0; i < c->n_prefixes; i++)
		if (!dt_config__site_by_id(c, c->prefixes[i].home_site) ||
		    (i && dt_config_prefix__cmp(&c->prefixes[i - 1], &c->prefixes[i]) >= 0))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dt_config_error err = { 0 };
	struct dt_config *cfg = NULL;
	char *text = malloc(size + 1);
	int ret;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ret = dt_config__parse_string(text, "t.conf", DT_CONFIG_F_SKIP_KEYS, &cfg, &err);
	if (!ret) {
		check_config(cfg);
		dt_config__free(cfg);
	} else if (ret == -EINVAL && (!err.count || strncmp(err.item[0].msg, "t.conf", 6))) {
		abort(); /* refused without saying where */
	}
	free(text);
	return 0;
}
