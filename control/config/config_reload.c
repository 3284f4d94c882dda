/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SIGHUP: which changes a running detourd can take, read off the key table. A key is
 * restart-only (CONF_RESTART) when nothing on the reload path applies it; a reload that changes
 * one is refused whole, so that "applied" never means "applied in part".
 */
#include <string.h>

#include "config_internal.h"

static bool same_site_set(const struct dt_config *old, const struct dt_config *new)
{
	if (old->n_sites != new->n_sites)
		return false;
	for (unsigned int i = 0; i < old->n_sites; i++)
		if (old->sites[i].id != new->sites[i].id ||
		    strcmp(old->sites[i].name, new->sites[i].name))
			return false;
	return true;
}

const char *dt_config__reload_blocker(const struct dt_config *old, const struct dt_config *new)
{
	const struct conf_key_row *k;

	if (!same_site_set(old, new))
		return "the set of sites";
	/* Sites first: a [detour] timer they inherit is named as theirs. */
	for (unsigned int i = 0; i < old->n_sites; i++) {
		k = conf_table__first_restart(&cfg_keys, SEC_SITE, &old->sites[i], &new->sites[i]);
		if (k)
			return conf_key__label(k);
	}
	k = conf_table__first_restart(&cfg_keys, SEC_DETOUR, old, new);
	return k ? conf_key__label(k) : NULL;
}
