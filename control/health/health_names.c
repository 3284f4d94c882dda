/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Names of the health module's own enums for logs and JSON: lower case, stable, words joined by
 * underscores. The site states are named with the other ABI enums in common/dt_names.c.
 */
#include "health.h"

static const char *const cause_names[HEALTH_CAUSE_MAX] = {
	[HEALTH_CAUSE_NONE] = "none",
	[HEALTH_CAUSE_FIRST_HEARTBEAT] = "first_heartbeat",
	[HEALTH_CAUSE_NO_HEARTBEAT] = "no_heartbeat",
	[HEALTH_CAUSE_HEARTBEAT_TIMEOUT] = "heartbeat_timeout",
	[HEALTH_CAUSE_POWER_WARNING] = "power_warning",
	[HEALTH_CAUSE_POWER_RESTORED] = "power_restored",
	[HEALTH_CAUSE_OPERATOR_DRAIN] = "operator_drain",
	[HEALTH_CAUSE_OPERATOR_FAIL] = "operator_fail",
	[HEALTH_CAUSE_OPERATOR_RESTORE] = "operator_restore",
	[HEALTH_CAUSE_HOLD_DOWN_PASSED] = "hold_down_passed",
	[HEALTH_CAUSE_FLOWS_IDLE] = "flows_idle",
	[HEALTH_CAUSE_RECOVERY_TIMEOUT] = "recovery_timeout",
	[HEALTH_CAUSE_POWER_UNKNOWN] = "power_unknown",
	[HEALTH_CAUSE_POWER_KNOWN] = "power_known",
	[HEALTH_CAUSE_BLACKOUT_HOLD] = "blackout_hold",
	[HEALTH_CAUSE_BLACKOUT_END] = "blackout_end",
	[HEALTH_CAUSE_LAST_RESORT] = "last_resort",
	[HEALTH_CAUSE_BEACON_SILENT] = "beacon_silent",
	[HEALTH_CAUSE_BEACON_BACK] = "beacon_back",
	[HEALTH_CAUSE_TIMERS_TOO_TIGHT] = "timers_too_tight",
	[HEALTH_CAUSE_STATE_RESTORED] = "state_restored",
};

static const char *const override_names[] = {
	[HEALTH_OVERRIDE_NONE] = "none",
	[HEALTH_OVERRIDE_DRAIN] = "drain",
	[HEALTH_OVERRIDE_FAIL] = "fail",
};

/* Values arrive from maps and sockets too: anything out of range gets a name, never a crash. */
const char *health_cause_name(enum health_cause cause)
{
	if ((unsigned int)cause >= HEALTH_CAUSE_MAX)
		return "invalid";
	return cause_names[cause];
}

const char *health_override_name(enum health_override override)
{
	if ((unsigned int) override >= sizeof(override_names) / sizeof(override_names[0]))
		return "invalid";
	return override_names[override];
}
