/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One test per class of configuration error: the file must be refused, and one of the messages
 * must start with "t.conf:LINE: " and name what is wrong. The expected LINE is not written down
 * by hand: it is the line of the test text that carries the marker ";<-" (an inline comment, so
 * inih ignores it). A case without a marker expects an error about the whole file ("t.conf: ").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dt_config.h"

/* Line 1-3: the smallest valid [detour] section. */
#define DETOUR "[detour]\ninterfaces = edge0\nheartbeat_listen = 198.18.0.1\n"
#define DETOUR_WITHOUT_INTERFACES "[detour]\nheartbeat_listen = 198.18.0.1\n"
/* 5 lines: a valid route site; NAME and ID vary. */
#define SITE(name, id)                                                       \
	"[site " name "]\nid = " id "\ndelivery = route\ninterface = eth1\n" \
	"next_hop_mac = 02:00:00:00:00:01\n"
#define AB DETOUR SITE("a", "1") SITE("b", "2") /* lines 1-13 */
/* Lines 9-13 after DETOUR SITE("a", "1"): an ipip site still missing its tunnel keys. */
#define IPIP_B \
	"[site b]\nid = 2\ndelivery = ipip\ninterface = eth1\nnext_hop_mac = 02:00:00:00:00:02\n"

struct error_case {
	const char *name;
	const char *text;
	const char *expect[3]; /* substrings of the one message at the marked line */
};

static const struct error_case cases[] = {
	{ "syntax: no '='", AB "mtu 1500 ;<-\n", { "expected \"key = value\"" } },
	{ "section without ']'", AB "[site c ;<-\n", { "without a closing ']'" } },
	{ "unknown section",
	  AB "[prefix] ;<-\nprefix = 198.18.0.0/24 a\n",
	  { "unknown section [prefix]" } },
	{ "unknown key, suggestion",
	  DETOUR "intervall_ms = 5 ;<-\n" SITE("a", "1"),
	  { "unknown key \"intervall_ms\" in [detour]", "did you mean \"interval_ms\"" } },
	{ "unknown site key",
	  AB "next_hop = 02:00:00:00:00:02 ;<-\n",
	  { "unknown key \"next_hop\" in site \"b\"" } },
	{ "key before any section",
	  "interfaces = eth0 ;<-\n" AB,
	  { "\"interfaces\" before any [section]" } },
	{ "key set twice",
	  DETOUR "multiplier = 3\nmultiplier = 4 ;<-\n" SITE("a", "1"),
	  { "\"multiplier\" is set twice", "first on line 4" } },
	{ "section twice", AB "[detour] ;<-\n", { "section [detour] appears twice" } },
	{ "not a number",
	  DETOUR "multiplier = three ;<-\n" SITE("a", "1"),
	  { "multiplier", "\"three\" is not a whole number" } },
	{ "number with a unit",
	  DETOUR "interval_ms = 5ms ;<-\n" SITE("a", "1"),
	  { "interval_ms", "\"5ms\"", "no unit" } },
	{ "interval below 1 ms",
	  DETOUR "interval_ms = 0.5 ;<-\n" SITE("a", "1"),
	  { "interval_ms", "0.5 ms is out of range (1 .. 10000 ms)" } },
	{ "interval above 10 s",
	  DETOUR "interval_ms = 10001 ;<-\nhold_down_ms = 100000\n"
		 "recovery_timeout_ms = 100000\n" SITE("a", "1"),
	  { "interval_ms", "10001 ms is out of range" } },
	{ "multiplier below 2",
	  DETOUR "multiplier = 1 ;<-\n" SITE("a", "1"),
	  { "multiplier", "1 is out of range (2 .. 100)" } },
	{ "hold-down shorter than detection",
	  DETOUR "interval_ms = 10\nmultiplier = 5\nhold_down_ms = 40 ;<-\n" SITE("a", "1"),
	  { "hold_down_ms 40 is shorter than interval_ms x multiplier = 50 ms" } },
	{ "recovery shorter than hold-down",
	  DETOUR "hold_down_ms = 5000\nrecovery_timeout_ms = 4000 ;<-\n" SITE("a", "1"),
	  { "recovery_timeout_ms 4000 is shorter than hold_down_ms 5000" } },
	{ "site override breaks the timers",
	  AB "interval_ms = 500 ;<-\n",
	  { "site \"b\": hold_down_ms 1000 is shorter than", "= 1500 ms" } },
	{ "flow table too small",
	  DETOUR "flow_table_size = 100 ;<-\n" SITE("a", "1"),
	  { "flow_table_size", "100 is out of range (1024 .. 16777216)" } },
	{ "flow idle below refresh",
	  DETOUR "flow_idle_ms = 50 ;<-\n" SITE("a", "1"),
	  { "flow_idle_ms", "out of range (100 .. " } },
	{ "blackout hold too long",
	  DETOUR "blackout_hold_ms = 3600001 ;<-\n" SITE("a", "1"),
	  { "blackout_hold_ms", "3600001 ms is out of range (0 .. 3600000 ms)" } },
	{ "blackout hold not a number",
	  DETOUR "blackout_hold_ms = off ;<-\n" SITE("a", "1"),
	  { "blackout_hold_ms", "\"off\" is not a number of milliseconds" } },
	{ "max skew not a number",
	  DETOUR "max_skew_ms = lots ;<-\n" SITE("a", "1"),
	  { "max_skew_ms", "\"lots\" is not a number of milliseconds" } },
	{ "beacon id above 7",
	  AB "beacons = 0 8 ;<-\n",
	  { "site \"b\"", "beacons", "8 is out of range (0 .. 7)" } },
	{ "beacon id not a number",
	  AB "beacons = 0 one ;<-\n",
	  { "beacons", "\"one\" is not a whole number" } },
	{ "beacon listed twice",
	  AB "beacons = 1 0 1 ;<-\n",
	  { "beacons", "beacon 1 is listed twice" } },
	{ "min_supplies above the beacons",
	  AB "beacons = 0 1\nmin_supplies = 3 ;<-\n",
	  { "site \"b\": min_supplies 3 is more than the site's 2 beacons" } },
	{ "min_supplies above the default beacon",
	  AB "min_supplies = 2 ;<-\n",
	  { "site \"b\": min_supplies 2 is more than the site's 1 beacon" } },
	{ "min_supplies zero",
	  AB "min_supplies = 0 ;<-\n",
	  { "min_supplies", "0 is out of range (1 .. 8)" } },
	{ "beacon source of a beacon the site lacks",
	  AB "beacons = 0 1\nbeacon_sources = 0 198.18.1.2, 3 198.18.3.0/24 ;<-\n",
	  { "site \"b\": beacon_sources: beacon 3 is not one of the site's beacons (0 1)" } },
	{ "beacon source of beacon 1, default beacons",
	  AB "beacon_sources = 1 198.18.1.2 ;<-\n",
	  { "beacon_sources", "beacon 1 is not one of the site's beacons (0)" } },
	{ "beacon source id above 7",
	  AB "beacon_sources = 8 198.18.1.2 ;<-\n",
	  { "beacon_sources", "8 is out of range (0 .. 7)" } },
	{ "beacon source not an address",
	  AB "beacon_sources = 0 198.18.300.1 ;<-\n",
	  { "site \"b\": beacon_sources", "\"198.18.300.1\" is not an IPv4 or IPv6 address" } },
	{ "beacon source v4 prefix too long",
	  AB "beacon_sources = 0 198.18.1.0/33 ;<-\n",
	  { "beacon_sources", "\"198.18.1.0/33\": the prefix length must be 0 .. 32" } },
	{ "beacon source v6 prefix too long",
	  AB "beacon_sources = 0 2001:db8:5::/129 ;<-\n",
	  { "beacon_sources", "\"2001:db8:5::/129\": the prefix length must be 0 .. 128" } },
	{ "beacon source prefix length not a number",
	  AB "beacon_sources = 0 198.18.1.0/x ;<-\n",
	  { "beacon_sources", "the prefix length must be 0 .. 32" } },
	{ "beacon source host bits",
	  AB "beacon_sources = 0 198.18.1.5/24 ;<-\n",
	  { "beacon_sources", "has host bits set (did you mean 198.18.1.0/24?)" } },
	{ "beacon source without an address",
	  AB "beacon_sources = 0 ;<-\n",
	  { "beacon_sources", "\"0\" is not BEACON-ID ADDRESS[/LENGTH]" } },
	{ "beacon sources without a comma",
	  AB "beacons = 0 1\nbeacon_sources = 0 198.18.1.2 1 198.18.2.2 ;<-\n",
	  { "beacon_sources", "(commas separate entries)" } },
	{ "beacon sources empty entry",
	  AB "beacon_sources = 0 198.18.1.2,, 0 198.18.1.3 ;<-\n",
	  { "beacon_sources", "an empty entry" } },
	{ "beacon source listed twice",
	  AB "beacon_sources = 0 2001:db8:5::/64, 0 2001:db8:5:0::/64 ;<-\n",
	  { "beacon_sources", "\"2001:db8:5:0::/64\" is listed twice for beacon 0" } },
	{ "beacon sources: too many",
	  AB "beacon_sources = 0 198.18.1.1, 0 198.18.1.2, 0 198.18.1.3, 0 198.18.1.4, ;<-\n"
	     " 0 198.18.1.5, 0 198.18.1.6, 0 198.18.1.7, 0 198.18.1.8, 0 198.18.1.9,\n"
	     " 0 198.18.1.10, 0 198.18.1.11, 0 198.18.1.12, 0 198.18.1.13, 0 198.18.1.14,\n"
	     " 0 198.18.1.15, 0 198.18.1.16, 0 198.18.1.17\n",
	  { "site \"b\": beacon_sources: more than 16 entries" } },
	{ "damping reuse not below suppress",
	  DETOUR "damping_suppress = 700\ndamping_reuse = 750 ;<-\n" SITE("a", "1"),
	  { "damping_reuse 750 must be below damping_suppress 700" } },
	{ "damping max hold-down shorter than hold-down",
	  DETOUR "hold_down_ms = 5000\nrecovery_timeout_ms = 60000\n"
		 "damping_max_hold_down_ms = 4000 ;<-\n" SITE("a", "1"),
	  { "damping_max_hold_down_ms 4000 is shorter than hold_down_ms 5000" } },
	{ "site hold-down longer than damping max",
	  AB "hold_down_ms = 400000\nrecovery_timeout_ms = 500000 ;<-\n",
	  { "site \"b\": hold_down_ms 400000 is longer than damping_max_hold_down_ms 300000" } },
	{ "damping penalty out of range",
	  DETOUR "damping_penalty = -1 ;<-\n" SITE("a", "1"),
	  { "damping_penalty" } },
	{ "phi threshold too high",
	  DETOUR "phi_threshold = 16.5 ;<-\n" SITE("a", "1"),
	  { "phi_threshold", "16.5 is out of range (0 .. 16)" } },
	{ "phi threshold not a number",
	  DETOUR "phi_threshold = high ;<-\n" SITE("a", "1"),
	  { "phi_threshold", "\"high\" is not a number" } },
	{ "bad xdp_mode",
	  DETOUR "xdp_mode = offload ;<-\n" SITE("a", "1"),
	  { "xdp_mode", "\"offload\" is not one of native | generic" } },
	{ "bad MAC",
	  AB "source_mac = 02:00:00:00:00 ;<-\n",
	  { "site \"b\": source_mac", "\"02:00:00:00:00\" is not a MAC address" } },
	{ "multicast next hop",
	  DETOUR "[site a]\nid = 1\ndelivery = route\ninterface = eth1\n"
		 "next_hop_mac = 01:00:5e:00:00:01 ;<-\n",
	  { "site \"a\": next_hop_mac", "not a unicast MAC" } },
	{ "bad delivery",
	  DETOUR "[site a]\nid = 1\ndelivery = gre ;<-\ninterface = eth1\n"
		 "next_hop_mac = 02:00:00:00:00:01\n",
	  { "site \"a\": delivery", "\"gre\" is not one of route | ipip" } },
	{ "missing id",
	  DETOUR "[site a] ;<-\ndelivery = route\ninterface = eth1\n"
		 "next_hop_mac = 02:00:00:00:00:01\n",
	  { "site \"a\": missing required key \"id\"" } },
	{ "missing next_hop_mac",
	  DETOUR "[site a] ;<-\nid = 1\ndelivery = route\n"
		 "interface = eth1\n",
	  { "site \"a\": missing required key \"next_hop_mac\"" } },
	{ "ipip without tunnel keys",
	  DETOUR "[site a] ;<-\nid = 1\ndelivery = ipip\n"
		 "interface = eth1\nnext_hop_mac = 02:00:00:00:00:01\n",
	  { "site \"a\": missing required key \"tunnel_remote\"" } },
	{ "tunnel families differ",
	  DETOUR SITE("a", "1") IPIP_B
	  "tunnel_remote = 198.18.202.1\ntunnel_local = 2001:db8::1 ;<-\n",
	  { "site \"b\": tunnel_local 2001:db8::1 is IPv6", "tunnel_remote 198.18.202.1" } },
	{ "bad tunnel address",
	  DETOUR SITE("a", "1") IPIP_B "tunnel_remote = 198.18.202 ;<-\n"
				       "tunnel_local = 198.18.100.1\n",
	  { "site \"b\": tunnel_remote", "\"198.18.202\" is not an IPv4 or IPv6 address" } },
	{ "tunnel keys on a route site",
	  AB "tunnel_remote = 198.18.202.1 ;<-\n",
	  { "site \"b\": tunnel_remote and tunnel_local are for delivery = ipip only" } },
	{ "mtu out of range", AB "mtu = 100 ;<-\n", { "site \"b\": mtu", "100 is out of range" } },
	{ "'#' is not an inline comment",
	  AB "mtu = 1500 # jumbo later ;<-\n",
	  { "site \"b\": mtu: '#' after a value is not a comment" } },
	{ "'#' after a list: not more items",
	  DETOUR_WITHOUT_INTERFACES "interfaces = e0 # client side ;<-\n" SITE("a", "1"),
	  { "[detour]: interfaces: '#' after a value is not a comment" } },
	{ "duplicate site name", AB "[site a] ;<-\n", { "site \"a\" is defined twice", "line 4" } },
	{ "duplicate site id",
	  DETOUR SITE("a", "1") "[site b]\nid = 1 ;<-\n",
	  { "site \"b\": id 1 is already used by site \"a\" (line 5)" } },
	{ "site id out of range",
	  DETOUR "[site a]\nid = 64 ;<-\n",
	  { "site \"a\": id", "64 is out of range (0 .. 63)" } },
	{ "bad site name", DETOUR "[site 1st] ;<-\n", { "site name \"1st\"" } },
	{ "failover to an unknown site",
	  AB "failover = a sihungg ;<-\n",
	  { "site \"b\": failover site \"sihungg\" is not defined" } },
	{ "failover to itself",
	  AB "failover = b:2 ;<-\n",
	  { "site \"b\": a site cannot fail over to itself" } },
	{ "failover weight zero",
	  AB "failover = a:0 ;<-\n",
	  { "site \"b\": failover \"a:0\": weight", "0 is out of range (1 .. 1000000)" } },
	{ "failover weight negative",
	  AB "failover = a:-1 ;<-\n",
	  { "site \"b\": failover \"a:-1\": weight", "\"-1\" is not a whole number" } },
	{ "failover site twice",
	  AB "failover = a:1 a:2 ;<-\n",
	  { "site \"b\": failover site \"a\" is listed twice" } },
	{ "prefix host bits",
	  AB "[prefixes]\nprefix = 198.18.10.1/24 a ;<-\n",
	  { "prefix \"198.18.10.1/24\" has host bits set", "did you mean 198.18.10.0/24?" } },
	{ "prefix v6 host bits",
	  AB "[prefixes]\nprefix = 2001:db8:10::1/48 a ;<-\n",
	  { "did you mean 2001:db8:10::/48?" } },
	{ "prefix bad address",
	  AB "[prefixes]\nprefix = 198.18.300.0/24 a ;<-\n",
	  { "\"198.18.300.0\" is not an IPv4 or IPv6 address" } },
	{ "prefix bad length",
	  AB "[prefixes]\nprefix = 198.18.3.0/33 a ;<-\n",
	  { "prefix \"198.18.3.0/33\": length must be 0 .. 32" } },
	{ "prefix to an unknown site",
	  AB "[prefixes]\nprefix = 198.18.10.0/24 c ;<-\n",
	  { "prefix 198.18.10.0/24: site \"c\" is not defined" } },
	{ "prefix unknown flag",
	  AB "[prefixes]\nprefix = 198.18.10.0/24 a statless ;<-\n",
	  { "unknown flag \"statless\"" } },
	{ "prefix flag twice",
	  AB "[prefixes]\nprefix = 198.18.10.0/24 a tcp_reset stateless tcp_reset ;<-\n",
	  { "prefix 198.18.10.0/24: flag \"tcp_reset\" given twice" } },
	{ "prefix twice",
	  AB "[prefixes]\nprefix = 2001:db8::/32 a\nprefix = 2001:db8::/32 b ;<-\n",
	  { "prefix 2001:db8::/32 is listed twice (first on line 15)" } },
	{ "nested prefix, other home",
	  AB "[prefixes]\nprefix = 198.18.10.128/25 b\nprefix = 198.18.0.0/16 a ;<-\n",
	  { "198.18.10.128/25 (site \"b\", line 15) lies inside 198.18.0.0/16 (site \"a\", line 16)",
	    "must have the same home" } },
	{ "IPv6 prefix as a key",
	  AB "[prefixes]\n2001:db8:10::/48 = a ;<-\n",
	  { "an IPv6 address cannot be a key" } },
	{ "no sites", DETOUR, { "no [site NAME] section" } },
	{ "no [detour]", SITE("a", "1"), { "no [detour] section" } },
	{ "no interfaces",
	  "[detour] ;<-\nheartbeat_listen = 198.18.0.1\n" SITE("a", "1"),
	  { "[detour]: missing required key \"interfaces\"" } },
	{ "empty interfaces",
	  "[detour]\ninterfaces = ;<-\nheartbeat_listen = 198.18.0.1\n" SITE("a", "1"),
	  { "[detour]: interfaces: no value" } },
	{ "interface name too long",
	  "[detour]\ninterfaces = edge0 abcdefghijklmnop ;<-\nheartbeat_listen = 198.18.0.1\n" SITE(
		  "a", "1"),
	  { "interfaces: \"abcdefghijklmnop\" is not an interface name" } },
	{ "interface twice",
	  "[detour]\ninterfaces = edge0 edge0 ;<-\nheartbeat_listen = 198.18.0.1\n" SITE("a", "1"),
	  { "interfaces: \"edge0\" is listed twice" } },
	{ "bad listen address",
	  "[detour]\ninterfaces = edge0\nheartbeat_listen = beacon.example ;<-\n" SITE("a", "1"),
	  { "heartbeat_listen: \"beacon.example\"", "numeric addresses only" } },
	{ "bad listen port",
	  "[detour]\ninterfaces = edge0\nheartbeat_listen = [2001:db8::1]:70000 ;<-\n" SITE("a",
											    "1"),
	  { "heartbeat_listen: \"[2001:db8::1]:70000\": port must be 1 .. 65535" } },
	{ "metrics_listen without a port",
	  DETOUR "metrics_listen = 127.0.0.1 ;<-\n" SITE("a", "1"),
	  { "metrics_listen: \"127.0.0.1\": a port 1 .. 65535 is required" } },
	{ "metrics_listen not numeric",
	  DETOUR "metrics_listen = localhost:9473 ;<-\n" SITE("a", "1"),
	  { "metrics_listen: \"localhost:9473\" is not ADDRESS:PORT", "numeric addresses only" } },
	{ "metrics_listen bad port",
	  DETOUR "metrics_listen = [2001:db8::1]:0 ;<-\n" SITE("a", "1"),
	  { "metrics_listen: \"[2001:db8::1]:0\": a port 1 .. 65535 is required" } },
	{ "line too long",
	  AB
	  "failover = a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a "
	  "a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a "
	  "a a a a a a a a a a a a a a a a a ;<-\n",
	  { "line longer than 197 characters" } },
	{ "indented key",
	  AB "mtu = 1500\n    source_mac = 02:00:00:00:00:02 ;<-\n",
	  { "indented line is read as a continuation of \"mtu\" (line 14)" } },
	{ "relative key_file",
	  DETOUR "key_file = detour.keys ;<-\n" SITE("a", "1"),
	  { "key_file: \"detour.keys\" is not an absolute path" } },
	{ "control socket path too long",
	  DETOUR "control_socket = /run/detour/0123456789012345678901234567890123456789012345678"
		 "90123456789012345678901234567890123456789012345678901.sock ;<-\n" SITE("a", "1"),
	  { "control_socket: path longer than 107 characters" } },
	{ "unknown control group",
	  DETOUR "control_group = no-such-group-dt ;<-\n" SITE("a", "1"),
	  { "control_group: no group \"no-such-group-dt\"" } },
	{ "relative notify_command",
	  DETOUR "notify_command = notify.sh up ;<-\n" SITE("a", "1"),
	  { "notify_command: \"notify.sh up\" is not an absolute path" } },
	{ "notify_command with too many words",
	  DETOUR
	  "notify_command = /bin/echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 ;<-\n" SITE("a", "1"),
	  { "notify_command: 17 words: at most 16 (the program and its arguments)" } },
	{ "notify_timeout_ms too short",
	  DETOUR "notify_timeout_ms = 5 ;<-\n" SITE("a", "1"),
	  { "notify_timeout_ms: 5 ms is out of range (10 .. 3600000 ms)" } },
	{ "bad hash_seed",
	  DETOUR "hash_seed = 0x-5 ;<-\n" SITE("a", "1"),
	  { "hash_seed: \"0x-5\" is not a 64-bit number" } },
};

static unsigned int marked_line(const char *text)
{
	const char *mark = strstr(text, ";<-");
	unsigned int line = 1;

	if (!mark)
		return 0;
	for (const char *c = text; c < mark; c++)
		line += *c == '\n';
	return line;
}

static bool message_matches(const char *msg, const char *prefix, const char *const expect[3])
{
	if (strncmp(msg, prefix, strlen(prefix)))
		return false;
	for (int i = 0; i < 3 && expect[i]; i++)
		if (!strstr(msg, expect[i]))
			return false;
	return true;
}

static void test_error_case(void **state)
{
	const struct error_case *c = *state;
	struct dt_config *cfg = NULL;
	struct dt_config_error err;
	unsigned int line = marked_line(c->text);
	char prefix[32];
	int ret;

	ret = dt_config__parse_string(c->text, "t.conf", DT_CONFIG_F_SKIP_KEYS, &cfg, &err);
	assert_int_equal(ret, -EINVAL);
	assert_null(cfg);
	assert_true(err.count >= 1);
	if (line)
		snprintf(prefix, sizeof(prefix), "t.conf:%u: ", line);
	else
		snprintf(prefix, sizeof(prefix), "t.conf: ");
	for (unsigned int i = 0; i < err.count; i++)
		if (message_matches(err.item[i].msg, prefix, c->expect))
			return;
	print_message("case \"%s\": wanted \"%s...%s\", got:\n", c->name, prefix, c->expect[0]);
	dt_config_error__print(&err, stdout);
	fail();
}

/* More errors than are kept: the first DT_CONFIG_MAX_ERRORS by line, and the true total. */
static void test_errors_capped_and_sorted(void **state)
{
	char text[4096] = AB "[prefixes]\n";
	struct dt_config *cfg = NULL;
	struct dt_config_error err;
	char out[8192];
	FILE *f;

	for (int i = 0; i < 25; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "prefix = 198.18.%d.1/24 a\n", i);
	strcat(text, "[bogus]\n");
	assert_int_equal(dt_config__parse_string(text, "t.conf", DT_CONFIG_F_SKIP_KEYS, &cfg, &err),
			 -EINVAL);
	assert_int_equal(err.count, DT_CONFIG_MAX_ERRORS);
	assert_int_equal(err.total, 26);
	for (unsigned int i = 1; i < err.count; i++)
		assert_true(err.item[i - 1].line < err.item[i].line);
	assert_int_equal(err.item[0].line, 15);
	f = fmemopen(out, sizeof(out), "w");
	dt_config_error__print(&err, f);
	fclose(f);
	assert_non_null(strstr(out, "t.conf:15: prefix \"198.18.0.1/24\" has host bits set"));
	assert_non_null(strstr(out, "(6 more errors not shown)"));
}

/* Errors in different sections are all reported in one run, each at its own line. */
static void test_errors_collected(void **state)
{
	const char *text = DETOUR "multiplier = 1\n" SITE("a", "70") "failover = zz\n";
	struct dt_config *cfg = NULL;
	struct dt_config_error err;

	assert_int_equal(dt_config__parse_string(text, "t.conf", DT_CONFIG_F_SKIP_KEYS, &cfg, &err),
			 -EINVAL);
	assert_int_equal(err.count, 3);
	assert_int_equal(err.item[0].line, 4);
	assert_int_equal(err.item[1].line, 6);
	assert_int_equal(err.item[2].line, 10);
	assert_non_null(strstr(err.item[2].msg, "failover site \"zz\" is not defined"));
}

/*
 * Bad input gets messages, never a crash: random byte edits of a valid file (fixed seed, so a
 * failure reproduces), each either accepted or refused with at least one "t.conf" message.
 */
static void test_mutations_never_crash(void **state)
{
	static const char base[] = AB "failover = a:2\n[prefixes]\nprefix = 198.18.0.0/24 a\n"
				      "prefix = 2001:db8::/32 b stateless\n";
	static const char alphabet[] = "[]=:;# \t\n\r/.0123456789abcdefx-";
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	unsigned int accepted = 0;

	for (int iter = 0; iter < 5000; iter++) {
		char text[sizeof(base)];
		struct dt_config *cfg = NULL;
		struct dt_config_error err;
		int ret;

		memcpy(text, base, sizeof(base));
		for (int k = 0; k < 1 + iter % 4; k++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			text[(rng >> 8) % (sizeof(base) - 1)] =
				alphabet[(rng >> 40) % (sizeof(alphabet) - 1)];
		}
		ret = dt_config__parse_string(text, "t.conf", DT_CONFIG_F_SKIP_KEYS, &cfg, &err);
		if (ret == 0) {
			accepted++;
			dt_config__free(cfg);
			continue;
		}
		assert_int_equal(ret, -EINVAL);
		assert_true(err.count >= 1);
		for (unsigned int i = 0; i < err.count; i++)
			assert_int_equal(strncmp(err.item[i].msg, "t.conf", 6), 0);
	}
	/* Some edits are harmless (a digit in a MAC): both outcomes must have been exercised. */
	assert_true(accepted > 0 && accepted < 5000);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 3];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct CMUnitTest t = cmocka_unit_test_prestate(test_error_case, (void *)&cases[i]);

		t.name = cases[i].name;
		tests[n++] = t;
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_errors_capped_and_sorted);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_errors_collected);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_mutations_never_crash);
	return _cmocka_run_group_tests("config_errors", tests, n, NULL, NULL);
}
