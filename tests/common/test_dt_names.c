// SPDX-License-Identifier: GPL-2.0-only
/* The enum name tables: every value both ways, and what out-of-range values and names get. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "dt_names.h"

struct name_api {
	const char *(*name)(unsigned int value);
	int (*parse)(const char *name, unsigned int *out);
	const char *const *want; /* the exact names, by value: the JSON and config contract */
	unsigned int n;
};

static const char *const site_states[] = { "unknown", "up", "draining", "down", "recovering" };
static const char *const reasons[] = {
	"none",
	"not_ip",
	"no_prefix",
	"home_up",
	"fragment",
	"truncated",
	"bad_header",
	"ext_hdr_limit",
	"vlan_limit",
	"ttl_expired",
	"mtu_exceeded",
	"rerouted_route",
	"rerouted_ipip",
	"no_healthy_site",
	"flow_insert_failed",
	"no_site_config",
	"adjust_failed",
	"mss_clamped",
	"too_big_icmp",
	"too_big_rate_limited",
	"too_big_dropped",
	"flow_promote_limited",
	"flow_evicted",
};
static const char *const deliveries[] = { "none", "route", "ipip" };
static const char *const xdp_modes[] = { "native", "generic" };

#define API(fn, tbl)                                                               \
	{                                                                          \
		dt_##fn##_name, dt_##fn##_parse, tbl, sizeof(tbl) / sizeof(tbl[0]) \
	}

static const struct name_api apis[] = {
	API(site_state, site_states),
	API(reason, reasons),
	API(delivery, deliveries),
	API(xdp_mode, xdp_modes),
};

static void test_table_sizes_match_the_abi(void **state)
{
	assert_int_equal(apis[0].n, DT_SITE_STATE_MAX);
	assert_int_equal(apis[1].n, DT_REASON_MAX);
	assert_int_equal(apis[2].n, DT_DELIVERY_MAX);
	assert_int_equal(apis[3].n, DT_XDP_MODE_VALUE_MAX);
}

static void test_every_value_both_ways(void **state)
{
	for (size_t a = 0; a < sizeof(apis) / sizeof(apis[0]); a++)
		for (unsigned int v = 0; v < apis[a].n; v++) {
			unsigned int back = ~0u;

			assert_string_equal(apis[a].name(v), apis[a].want[v]);
			assert_int_equal(apis[a].parse(apis[a].want[v], &back), 0);
			assert_int_equal(back, v);
		}
}

static void test_unknown_values_are_invalid(void **state)
{
	for (size_t a = 0; a < sizeof(apis) / sizeof(apis[0]); a++) {
		assert_string_equal(apis[a].name(apis[a].n), "invalid");
		assert_string_equal(apis[a].name(255), "invalid");
		assert_string_equal(apis[a].name(~0u), "invalid");
	}
}

static void test_unknown_names_are_refused(void **state)
{
	static const char *const bad[] = { "", "invalid", "UP", "Route", "up ", "skb" };

	for (size_t a = 0; a < sizeof(apis) / sizeof(apis[0]); a++) {
		unsigned int out = 42;

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			assert_int_equal(apis[a].parse(bad[i], &out), -EINVAL);
		assert_int_equal(apis[a].parse(NULL, &out), -EINVAL);
		assert_int_equal(out, 42); /* untouched on failure */
	}
}

/* The configuration file offers the deliveries a site can have: route and ipip, not none. */
static void test_config_delivery_list(void **state)
{
	const char *const *list = dt_delivery_names + DT_DELIVERY_ROUTE;

	assert_string_equal(list[0], "route");
	assert_string_equal(list[1], "ipip");
	assert_int_equal(DT_DELIVERY_ROUTE + 2, DT_DELIVERY_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_sizes_match_the_abi),
		cmocka_unit_test(test_every_value_both_ways),
		cmocka_unit_test(test_unknown_values_are_invalid),
		cmocka_unit_test(test_unknown_names_are_refused),
		cmocka_unit_test(test_config_delivery_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
