/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf-keys: every key of detourd's key table (control/config/config_keys.c), one line each:
 * "SECTION<TAB>NAME<TAB>required|optional<TAB>DEFAULT" (DEFAULT empty when the row has none),
 * for test-config-man.py to hold docs/config.md and detour.conf(5) to.
 */
#include <stdio.h>

#include "config_internal.h"

int main(void)
{
	static const struct {
		unsigned int section;
		const char *name;
	} sections[] = { { SEC_DETOUR, "detour" }, { SEC_SITE, "site" } };

	for (size_t i = 0; i < cfg_keys.n; i++) {
		const struct conf_key_row *r = &cfg_keys.rows[i];

		for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++)
			if (r->sections & (1u << sections[s].section))
				printf("%s\t%s\t%s\t%s\n", sections[s].name, r->name,
				       r->flags & CONF_REQUIRED ? "required" : "optional",
				       r->def ? r->def : "");
	}
	return 0;
}
