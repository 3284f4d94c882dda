// SPDX-License-Identifier: GPL-2.0-only
/* The one table of NUT status words and the power flags they map to. */
#include <string.h>

#include "power_flags.h"

static const struct {
	const char *word;
	uint32_t flag;
} power_words[] = {
	{ "OL", DT_POWER_MAINS },	 { "OB", DT_POWER_ON_BATTERY },
	{ "LB", DT_POWER_LOW_BATTERY },	 { "FSD", DT_POWER_FORCED_SHUTDOWN },
	{ "ALARM", DT_POWER_ALARM },	 { "GEN", DT_POWER_GENERATOR },
	{ "OVER", DT_POWER_OVERLOAD },	 { "RB", DT_POWER_REPLACE_BATTERY },
	{ "BYPASS", DT_POWER_BYPASS },	 { "CHRG", DT_POWER_CHARGING },
	{ "UNKNOWN", DT_POWER_UNKNOWN },
};

#define N_WORDS (sizeof(power_words) / sizeof(power_words[0]))

uint32_t dt_power_word_flag(const char *word)
{
	size_t i;

	for (i = 0; i < N_WORDS; i++)
		if (!strcmp(word, power_words[i].word))
			return power_words[i].flag;
	return 0;
}

const char *dt_power_flag_word(uint32_t flag)
{
	size_t i;

	for (i = 0; i < N_WORDS; i++)
		if (power_words[i].flag == flag)
			return power_words[i].word;
	return NULL;
}
