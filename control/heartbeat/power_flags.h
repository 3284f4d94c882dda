/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The power state a site's beacon reports in every heartbeat: a bit set mapped from what the UPS
 * says (NUT ups.status words) or from a status file or command. The wire format carries it as a
 * 32-bit field; docs/heartbeat.md lists the mapping.
 */
#ifndef DT_POWER_FLAGS_H
#define DT_POWER_FLAGS_H

enum dt_power_flag {
	DT_POWER_MAINS = 1u << 0, /* OL: on line power */
	DT_POWER_ON_BATTERY = 1u << 1, /* OB */
	DT_POWER_LOW_BATTERY = 1u << 2, /* LB */
	DT_POWER_FORCED_SHUTDOWN = 1u << 3, /* FSD */
	DT_POWER_ALARM = 1u << 4, /* ALARM */
	DT_POWER_GENERATOR = 1u << 5, /* running on a generator (status file/command only) */
	DT_POWER_OVERLOAD = 1u << 6, /* OVER */
	DT_POWER_REPLACE_BATTERY = 1u << 7, /* RB */
	DT_POWER_BYPASS = 1u << 8, /* BYPASS */
	DT_POWER_CHARGING = 1u << 9, /* CHRG */
	DT_POWER_UNKNOWN = 1u << 31, /* the UPS or status source did not answer: not healthy */
};

/* Flags that mean the site may lose power soon: the state machine drains it. */
#define DT_POWER_WARNING_MASK \
	(DT_POWER_ON_BATTERY | DT_POWER_LOW_BATTERY | DT_POWER_FORCED_SHUTDOWN | DT_POWER_ALARM)

#include <stdint.h>

/* "OL" -> DT_POWER_MAINS ...; 0 for a word that means nothing here (DISCHRG, TRIM, ...). */
uint32_t dt_power_word_flag(const char *word);
/* DT_POWER_MAINS -> "OL" ...; NULL for a value that is not exactly one known flag. */
const char *dt_power_flag_word(uint32_t flag);

#endif /* DT_POWER_FLAGS_H */
