// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include "dt_names.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const char *const dt_site_state_names[DT_SITE_STATE_MAX] = {
	[DT_SITE_UNKNOWN] = "unknown",	     [DT_SITE_UP] = "up",
	[DT_SITE_DRAINING] = "draining",     [DT_SITE_DOWN] = "down",
	[DT_SITE_RECOVERING] = "recovering",
};

const char *const dt_reason_names[DT_REASON_MAX] = {
	[DT_REASON_NONE] = "none",
	[DT_REASON_NOT_IP] = "not_ip",
	[DT_REASON_NO_PREFIX] = "no_prefix",
	[DT_REASON_HOME_UP] = "home_up",
	[DT_REASON_FRAGMENT] = "fragment",
	[DT_REASON_TRUNCATED] = "truncated",
	[DT_REASON_BAD_HEADER] = "bad_header",
	[DT_REASON_EXT_HDR_LIMIT] = "ext_hdr_limit",
	[DT_REASON_VLAN_LIMIT] = "vlan_limit",
	[DT_REASON_TTL_EXPIRED] = "ttl_expired",
	[DT_REASON_MTU_EXCEEDED] = "mtu_exceeded",
	[DT_REASON_REROUTED_ROUTE] = "rerouted_route",
	[DT_REASON_REROUTED_IPIP] = "rerouted_ipip",
	[DT_REASON_NO_HEALTHY_SITE] = "no_healthy_site",
	[DT_REASON_FLOW_INSERT_FAILED] = "flow_insert_failed",
	[DT_REASON_NO_SITE_CONFIG] = "no_site_config",
	[DT_REASON_ADJUST_FAILED] = "adjust_failed",
	[DT_REASON_MSS_CLAMPED] = "mss_clamped",
	[DT_REASON_TOO_BIG_ICMP] = "too_big_icmp",
	[DT_REASON_TOO_BIG_RATE_LIMITED] = "too_big_rate_limited",
	[DT_REASON_TOO_BIG_DROPPED] = "too_big_dropped",
	[DT_REASON_FLOW_PROMOTE_LIMITED] = "flow_promote_limited",
	[DT_REASON_FLOW_EVICTED] = "flow_evicted",
};

const char *const dt_delivery_names[DT_DELIVERY_MAX] = {
	[DT_DELIVERY_NONE] = "none",
	[DT_DELIVERY_ROUTE] = "route",
	[DT_DELIVERY_IPIP] = "ipip",
};

const char *const dt_xdp_mode_names[DT_XDP_MODE_VALUE_MAX] = {
	[DT_XDP_MODE_VALUE_NATIVE] = "native",
	[DT_XDP_MODE_VALUE_GENERIC] = "generic",
};

static const char *name_of(const char *const names[], unsigned int n, unsigned int value)
{
	return value < n && names[value] ? names[value] : "invalid";
}

static int value_of(const char *const names[], unsigned int n, const char *name, unsigned int *out)
{
	for (unsigned int i = 0; name && i < n; i++)
		if (names[i] && !strcmp(name, names[i])) {
			*out = i;
			return 0;
		}
	return -EINVAL;
}

const char *dt_site_state_name(unsigned int state)
{
	return name_of(dt_site_state_names, ARRAY_LEN(dt_site_state_names), state);
}

const char *dt_reason_name(unsigned int reason)
{
	return name_of(dt_reason_names, ARRAY_LEN(dt_reason_names), reason);
}

const char *dt_delivery_name(unsigned int delivery)
{
	return name_of(dt_delivery_names, ARRAY_LEN(dt_delivery_names), delivery);
}

const char *dt_xdp_mode_name(unsigned int mode)
{
	return name_of(dt_xdp_mode_names, ARRAY_LEN(dt_xdp_mode_names), mode);
}

int dt_site_state_parse(const char *name, unsigned int *out)
{
	return value_of(dt_site_state_names, ARRAY_LEN(dt_site_state_names), name, out);
}

int dt_reason_parse(const char *name, unsigned int *out)
{
	return value_of(dt_reason_names, ARRAY_LEN(dt_reason_names), name, out);
}

int dt_delivery_parse(const char *name, unsigned int *out)
{
	return value_of(dt_delivery_names, ARRAY_LEN(dt_delivery_names), name, out);
}

int dt_xdp_mode_parse(const char *name, unsigned int *out)
{
	return value_of(dt_xdp_mode_names, ARRAY_LEN(dt_xdp_mode_names), name, out);
}
