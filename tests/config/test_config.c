/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Configurations that must be accepted, and what they parse to: the complete example of
 * docs/config.md (read out of the document, so the two cannot drift apart), the defaults, the
 * INI corners operators hit, and loading real files with a real key file.
 *
 * argv[1] is docs/config.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dt_config.h"

#define MS 1000000ull
/* dt_config__policy_fingerprint() of test_policy_fingerprint's base configuration */
#define POLICY_FINGERPRINT_BASE "5cffafc4c1a894a10ac2568d46fc108c"

static const char *doc_path;
static char doc_example[8192];
static char tmp_dir[64];

/* ---- helpers -------------------------------------------------------------------------------- */

/* The first ```ini block of docs/config.md. */
static int read_doc_example(void)
{
	static char doc[65536];
	const char *start, *end;
	FILE *f = fopen(doc_path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[n] = '\0';
	start = strstr(doc, "```ini\n");
	end = start ? strstr(start + 7, "\n```") : NULL;
	if (!end || (size_t)(end - start) >= sizeof(doc_example))
		return -EINVAL;
	snprintf(doc_example, sizeof(doc_example), "%.*s\n", (int)(end - start - 7), start + 7);
	return 0;
}

/* 1-based line of the first line of text that contains needle, 0 if none. */
static unsigned int line_of(const char *text, const char *needle)
{
	const char *at = strstr(text, needle);
	unsigned int line = 1;

	if (!at)
		return 0;
	for (; text < at; text++)
		line += *text == '\n';
	return line;
}

static void addr(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) != 1)
		assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

static void assert_addr(const uint8_t *got, const char *want)
{
	uint8_t a[16];

	addr(want, a);
	assert_memory_equal(got, a, 16);
}

static void assert_mac(const uint8_t *got, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3,
		       uint8_t b4, uint8_t b5)
{
	const uint8_t want[6] = { b0, b1, b2, b3, b4, b5 };

	assert_memory_equal(got, want, 6);
}

static struct dt_config *parse_ok(const char *text, unsigned int flags)
{
	struct dt_config *cfg = NULL;
	struct dt_config_error err;
	int ret = dt_config__parse_string(text, "t.conf", flags, &cfg, &err);

	if (ret)
		dt_config_error__print(&err, stdout);
	assert_int_equal(ret, 0);
	assert_non_null(cfg);
	return cfg;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* ---- the documented example ---------------------------------------------------------------- */

static void check_doc_global(const struct dt_config *c)
{
	assert_int_equal(c->n_interfaces, 2);
	assert_string_equal(c->interfaces[0], "edge0");
	assert_string_equal(c->interfaces[1], "edge1");
	assert_int_equal(c->xdp_mode, DT_CONFIG_XDP_NATIVE);
	assert_int_equal(c->n_listen, 2);
	assert_string_equal(c->listen[0].spec, "198.18.0.1:7447");
	assert_int_equal(c->listen[0].family, DT_FAMILY_V4);
	assert_int_equal(c->listen[0].port, 7447);
	assert_addr(c->listen[0].addr, "198.18.0.1");
	assert_string_equal(c->listen[1].spec, "[2001:db8::1]:7447");
	assert_int_equal(c->listen[1].family, DT_FAMILY_V6);
	assert_int_equal(c->listen[1].port, 7447);
	assert_addr(c->listen[1].addr, "2001:db8::1");
	assert_int_equal(c->listen[1].line, line_of(doc_example, "heartbeat_listen"));
	assert_string_equal(c->metrics_listen.spec, "127.0.0.1:9473");
	assert_int_equal(c->metrics_listen.family, DT_FAMILY_V4);
	assert_int_equal(c->metrics_listen.port, 9473);
	assert_addr(c->metrics_listen.addr, "127.0.0.1");
	assert_string_equal(c->key_file, "/etc/detour/detour.keys");
	assert_int_equal(c->interval_ns, 5 * MS);
	assert_int_equal(c->multiplier, 3);
	assert_int_equal(c->hold_down_ns, 2000 * MS);
	assert_int_equal(c->recovery_timeout_ns, 30000 * MS);
	assert_int_equal(c->flow_idle_ns, 10000 * MS);
	assert_int_equal(c->blackout_hold_ns, 250 * MS);
	assert_true(c->phi_threshold == 0);
	assert_int_equal(c->flow_table_size, 65536);
	assert_int_equal(c->hash_seed, 0x5eed);
	assert_string_equal(c->control_socket, "/run/detour/detourd.sock");
	assert_string_equal(c->control_group, "");
	assert_string_equal(c->pin_root, "/sys/fs/bpf/detour");
	assert_string_equal(c->event_log, "/var/log/detour/events.jsonl");
}

static void check_source(const struct hb_source *src, uint8_t beacon, const char *a,
			 unsigned int len)
{
	assert_int_equal(src->beacon_id, beacon);
	assert_int_equal(src->net.family, strchr(a, ':') ? DT_FAMILY_V6 : DT_FAMILY_V4);
	assert_addr(src->net.addr, a);
	assert_int_equal(src->len, len);
}

static void check_doc_pangyo(const struct dt_config_site *s)
{
	assert_string_equal(s->name, "pangyo");
	assert_int_equal(s->id, 1);
	assert_int_equal(s->line, line_of(doc_example, "[site pangyo]"));
	assert_int_equal(s->delivery, DT_DELIVERY_ROUTE);
	assert_int_equal(s->tunnel_family, DT_FAMILY_NONE);
	assert_string_equal(s->interface, "edge-pg");
	assert_mac(s->next_hop_mac, 0x02, 0, 0, 0, 0x01, 0x01);
	assert_false(s->has_source_mac);
	assert_int_equal(s->mtu, 1500);
	assert_int_equal(s->n_failover, 2);
	assert_int_equal(s->failover[0].site, 2);
	assert_int_equal(s->failover[0].weight, 1);
	assert_int_equal(s->failover[1].site, 3);
	assert_int_equal(s->failover[1].weight, 2);
	assert_int_equal(s->beacons, 0x3);
	/* In the order written, the indented line's entry last; one address is a /32. */
	assert_int_equal(s->n_sources, 3);
	check_source(&s->sources[0], 0, "198.18.1.2", 32);
	check_source(&s->sources[1], 1, "198.18.2.0", 24);
	check_source(&s->sources[2], 1, "2001:db8:5::", 64);
	assert_int_equal(s->interval_ns, 5 * MS);
	assert_int_equal(s->multiplier, 3);
	assert_int_equal(s->hold_down_ns, 2000 * MS);
	assert_int_equal(s->recovery_timeout_ns, 30000 * MS);
}

static void check_doc_ansan(const struct dt_config_site *s)
{
	assert_string_equal(s->name, "ansan");
	assert_int_equal(s->id, 2);
	assert_int_equal(s->delivery, DT_DELIVERY_IPIP);
	assert_int_equal(s->tunnel_family, DT_FAMILY_V4);
	assert_string_equal(s->interface, "edge-up");
	assert_mac(s->next_hop_mac, 0x02, 0, 0, 0, 0x02, 0x01);
	assert_true(s->has_source_mac);
	assert_mac(s->source_mac, 0x02, 0, 0, 0, 0, 0x02);
	assert_int_equal(s->mtu, 9000);
	assert_addr(s->tunnel_remote, "198.18.202.1");
	assert_addr(s->tunnel_local, "198.18.100.1");
	assert_int_equal(s->n_failover, 2);
	assert_int_equal(s->failover[0].site, 1);
	assert_int_equal(s->failover[0].weight, 1);
	assert_int_equal(s->failover[1].site, 3);
	assert_int_equal(s->failover[1].weight, 1);
	assert_int_equal(s->hold_down_ns, 2000 * MS);
	assert_int_equal(s->n_sources, 0); /* no beacon_sources: from anywhere */
}

static void check_doc_sihung(const struct dt_config_site *s)
{
	assert_string_equal(s->name, "sihung");
	assert_int_equal(s->id, 3);
	assert_int_equal(s->delivery, DT_DELIVERY_IPIP);
	assert_int_equal(s->tunnel_family, DT_FAMILY_V6);
	assert_false(s->has_source_mac);
	assert_int_equal(s->mtu, 1500);
	assert_addr(s->tunnel_remote, "2001:db8:203::1");
	assert_addr(s->tunnel_local, "2001:db8:100::1");
	/* "pangyo:3" then, on the indented next line, "ansan:1" */
	assert_int_equal(s->n_failover, 2);
	assert_int_equal(s->failover[0].site, 1);
	assert_int_equal(s->failover[0].weight, 3);
	assert_int_equal(s->failover[1].site, 2);
	assert_int_equal(s->failover[1].weight, 1);
	assert_int_equal(s->interval_ns, 2500000);
	assert_int_equal(s->multiplier, 3);
	assert_int_equal(s->hold_down_ns, 500 * MS);
	assert_int_equal(s->recovery_timeout_ns, 30000 * MS);
}

static void check_prefix(const struct dt_config_prefix *p, const char *a, unsigned int len,
			 uint16_t home, uint16_t flags, const char *line_text)
{
	assert_int_equal(p->family, strchr(a, ':') ? DT_FAMILY_V6 : DT_FAMILY_V4);
	assert_addr(p->addr, a);
	assert_int_equal(p->len, len);
	assert_int_equal(p->home_site, home);
	assert_int_equal(p->flags, flags);
	assert_int_equal(p->line, line_of(doc_example, line_text));
}

/* Canonical order: IPv4 before IPv6, then by address, then by length. */
static void check_doc_prefixes(const struct dt_config *c)
{
	assert_int_equal(c->n_prefixes, 5);
	check_prefix(&c->prefixes[0], "198.18.10.0", 24, 1, 0, "198.18.10.0/24");
	check_prefix(&c->prefixes[1], "198.18.10.128", 25, 1, DT_PREFIX_F_STATELESS,
		     "198.18.10.128/25");
	check_prefix(&c->prefixes[2], "198.18.20.0", 24, 2, DT_PREFIX_F_TCP_RESET,
		     "198.18.20.0/24");
	check_prefix(&c->prefixes[3], "2001:db8:10::", 48, 1,
		     DT_PREFIX_F_STATELESS | DT_PREFIX_F_TCP_RESET, "2001:db8:10::/48");
	check_prefix(&c->prefixes[4], "2001:db8:30::", 48, 3, 0, "2001:db8:30::/48");
}

static void test_doc_example(void **state)
{
	struct dt_config *c;

	assert_int_equal(read_doc_example(), 0);
	c = parse_ok(doc_example, DT_CONFIG_F_SKIP_KEYS);
	check_doc_global(c);
	assert_int_equal(c->n_sites, 3);
	check_doc_pangyo(&c->sites[0]);
	check_doc_ansan(&c->sites[1]);
	check_doc_sihung(&c->sites[2]);
	check_doc_prefixes(c);
	assert_ptr_equal(dt_config__site_by_name(c, "ansan"), &c->sites[1]);
	assert_ptr_equal(dt_config__site_by_id(c, 3), &c->sites[2]);
	assert_null(dt_config__site_by_id(c, 4));
	assert_null(dt_config__site_by_name(c, "seoul"));
	dt_config__free(c);
}

/* The failover lists go to the policy library as they are, and it accepts every one. */
static void test_doc_failover_slots(void **state)
{
	static struct dt_failover_slots slots;
	struct dt_config *c;

	assert_int_equal(read_doc_example(), 0);
	c = parse_ok(doc_example, DT_CONFIG_F_SKIP_KEYS);
	for (unsigned int i = 0; i < c->n_sites; i++)
		assert_int_equal(dt_failover_slots__compute(&slots, c->sites[i].id,
							    c->sites[i].failover,
							    c->sites[i].n_failover, c->hash_seed),
				 0);
	dt_config__free(c);
}

/* ---- defaults and INI corners --------------------------------------------------------------- */

static const char minimal[] = "[detour]\n"
			      "interfaces = eth0\n"
			      "heartbeat_listen = 198.18.0.1\n"
			      "[site a]\n"
			      "id = 0\n"
			      "delivery = route\n"
			      "interface = eth1\n"
			      "next_hop_mac = 02:AB:cd:00:00:01\n";

static void test_defaults(void **state)
{
	struct dt_config *c = parse_ok(minimal, DT_CONFIG_F_SKIP_KEYS);

	assert_int_equal(c->xdp_mode, DT_CONFIG_XDP_NATIVE);
	assert_int_equal(c->listen[0].port, 7600); /* HB_DEFAULT_PORT, as documented */
	assert_string_equal(c->key_file, "/etc/detour/detour.keys");
	assert_int_equal(c->interval_ns, 5 * MS);
	assert_int_equal(c->multiplier, 3);
	assert_int_equal(c->hold_down_ns, 1000 * MS);
	assert_int_equal(c->recovery_timeout_ns, 30000 * MS);
	assert_int_equal(c->flow_idle_ns, 10000 * MS);
	assert_int_equal(c->blackout_hold_ns, 1000 * MS);
	assert_true(c->phi_threshold == 0);
	assert_int_equal(c->flow_table_size, 65536);
	assert_int_equal(c->hash_seed, 0);
	assert_string_equal(c->control_socket, "/run/detour/detourd.sock");
	assert_string_equal(c->control_group, "");
	assert_string_equal(c->pin_root, "/sys/fs/bpf/detour");
	assert_string_equal(c->event_log, "-");
	assert_int_equal(c->n_sites, 1);
	assert_int_equal(c->sites[0].id, 0);
	assert_int_equal(c->sites[0].mtu, 1500);
	assert_int_equal(c->sites[0].n_failover, 0);
	assert_int_equal(c->sites[0].beacons, 0x1);
	assert_int_equal(c->sites[0].n_sources, 0);
	assert_int_equal(c->sites[0].hold_down_ns, 1000 * MS);
	assert_mac(c->sites[0].next_hop_mac, 0x02, 0xab, 0xcd, 0, 0, 0x01);
	assert_int_equal(c->n_prefixes, 0);
	assert_null(c->prefixes);
	dt_config__free(c);
}

static void test_metrics_listen(void **state)
{
	const char *rest = minimal + strlen("[detour]\n");
	struct dt_config *c = parse_ok(minimal, DT_CONFIG_F_SKIP_KEYS);
	char text[512];

	assert_int_equal(c->metrics_listen.family, DT_FAMILY_NONE); /* off by default */
	dt_config__free(c);
	snprintf(text, sizeof(text), "[detour]\nmetrics_listen = [2001:db8::1]:9473\n%s", rest);
	c = parse_ok(text, DT_CONFIG_F_SKIP_KEYS);
	assert_int_equal(c->metrics_listen.family, DT_FAMILY_V6);
	assert_int_equal(c->metrics_listen.port, 9473);
	assert_addr(c->metrics_listen.addr, "2001:db8::1");
	assert_string_equal(c->metrics_listen.spec, "[2001:db8::1]:9473");
	dt_config__free(c);
}

/* ---- the policy fingerprint ------------------------------------------------------------------ */

/* Three sites, their failover lists, prefixes and a seed; each %s is where a variant differs. */
static const char policy_fmt[] =
	"[detour]\ninterfaces = %s\nheartbeat_listen = 198.18.0.1\nhash_seed = %s\n"
	"interval_ms = %s\n"
	"[site pangyo]\nid = 1\ndelivery = route\ninterface = eth1\n"
	"next_hop_mac = 02:00:00:00:00:%s\nfailover = %s\n"
	"[site ansan]\nid = 2\ndelivery = route\ninterface = eth2\n"
	"next_hop_mac = 02:00:00:00:00:02\nfailover = pangyo\n"
	"[site sihung]\nid = 3\ndelivery = route\ninterface = eth3\n"
	"next_hop_mac = 02:00:00:00:00:03\nfailover = pangyo\n"
	"[prefixes]\nprefix = 198.18.10.0/24 pangyo\nprefix = 2001:db8:10::/48 pangyo\n"
	"prefix = 198.18.20.0/24 %s\n%s";

struct policy_variant {
	const char *what;
	const char *ifs, *seed, *interval, *mac, *failover, *home, *more;
	bool same; /* as the first */
};

static void fingerprint_of(const struct policy_variant *v, char fp[DT_POLICY_FINGERPRINT_LEN + 1])
{
	char text[2048];
	struct dt_config *c;

	snprintf(text, sizeof(text), policy_fmt, v->ifs, v->seed, v->interval, v->mac, v->failover,
		 v->home, v->more);
	c = parse_ok(text, DT_CONFIG_F_SKIP_KEYS);
	dt_config__policy_fingerprint(c, fp);
	dt_config__free(c);
}

static void test_policy_fingerprint(void **state)
{
	static const struct policy_variant v[] = {
		{ "base", "edge0", "0x5eed", "5", "01", "ansan:1 sihung:2", "ansan", "", true },
		{ "other interfaces, MACs, timers", "edge7 edge8", "0x5eed", "10", "77",
		  "ansan:1 sihung:2", "ansan", "", true },
		{ "the failover list in another order", "edge0", "24301", "5", "01",
		  "sihung:2 ansan:1", "ansan", "", true },
		{ "another seed", "edge0", "0x5eee", "5", "01", "ansan:1 sihung:2", "ansan", "",
		  false },
		{ "another weight", "edge0", "0x5eed", "5", "01", "ansan:1 sihung:3", "ansan", "",
		  false },
		{ "a failover site fewer", "edge0", "0x5eed", "5", "01", "ansan:1", "ansan", "",
		  false },
		{ "a prefix's home", "edge0", "0x5eed", "5", "01", "ansan:1 sihung:2", "sihung", "",
		  false },
		{ "a stateless prefix", "edge0", "0x5eed", "5", "01", "ansan:1 sihung:2",
		  "ansan stateless", "", false },
		{ "one more prefix", "edge0", "0x5eed", "5", "01", "ansan:1 sihung:2", "ansan",
		  "prefix = 198.18.30.0/24 sihung\n", false },
	};
	char base[DT_POLICY_FINGERPRINT_LEN + 1], fp[DT_POLICY_FINGERPRINT_LEN + 1];

	fingerprint_of(&v[0], base);
	assert_int_equal(strlen(base), DT_POLICY_FINGERPRINT_LEN);
	assert_int_equal(strspn(base, "0123456789abcdef"), DT_POLICY_FINGERPRINT_LEN);
	/*
	 * Edges compare fingerprints across versions and machines: the encoding is fixed forever.
	 * A change of this value is a change of what fleets see (docs/metrics.md).
	 */
	assert_string_equal(base, POLICY_FINGERPRINT_BASE);
	for (unsigned int i = 1; i < sizeof(v) / sizeof(v[0]); i++) {
		fingerprint_of(&v[i], fp);
		print_message("%s: %s\n", v[i].what, fp);
		if (v[i].same)
			assert_string_equal(fp, base);
		else
			assert_string_not_equal(fp, base);
	}
}

static void test_phi_threshold(void **state)
{
	const char *rest = minimal + strlen("[detour]\n");
	char text[512];
	struct dt_config *c;

	snprintf(text, sizeof(text), "[detour]\nphi_threshold = 8.25\n%s", rest);
	c = parse_ok(text, DT_CONFIG_F_SKIP_KEYS);
	assert_true(c->phi_threshold == 8.25);
	dt_config__free(c);
}

/* CRLF line endings, a byte-order mark, "key: value", tabs, blank lines, comments of both kinds. */
static void test_ini_corners(void **state)
{
	const char *text = "\xEF\xBB\xBF; written on Windows\r\n"
			   "[ detour ]\r\n"
			   "interfaces:\teth0\r\n"
			   "\r\n"
			   "# a comment\r\n"
			   "heartbeat_listen = [2001:db8::1] 2001:db8::2 198.18.0.2:9\r\n"
			   "hash_seed = 18446744073709551615\r\n"
			   "[site x-1_b]\r\n"
			   "id = 63\r\n"
			   "delivery = route\r\n"
			   "interface = eth1\r\n"
			   "next_hop_mac = 02:00:00:00:00:01 ; inline comment\r\n";
	struct dt_config *c = parse_ok(text, DT_CONFIG_F_SKIP_KEYS);

	assert_string_equal(c->interfaces[0], "eth0");
	assert_int_equal(c->n_listen, 3);
	assert_int_equal(c->listen[0].port, 7600);
	assert_addr(c->listen[1].addr, "2001:db8::2");
	assert_int_equal(c->listen[2].port, 9);
	assert_int_equal(c->hash_seed, UINT64_MAX);
	assert_string_equal(c->sites[0].name, "x-1_b");
	assert_int_equal(c->sites[0].id, 63);
	assert_int_equal(c->sites[0].line, 8);
	dt_config__free(c);
}

/* Sites come out sorted by id and prefixes in canonical order, whatever the file's order. */
static void test_canonical_order(void **state)
{
	char text[2048];
	struct dt_config *c;

	snprintf(text, sizeof(text),
		 "%s[site b]\nid = 9\ndelivery = route\ninterface = eth1\n"
		 "next_hop_mac = 02:00:00:00:00:09\nfailover = a:7\n"
		 "[prefixes]\nprefix = 2001:db8::/32 b\nprefix = 198.18.0.0/15 a\n"
		 "prefix = 198.18.1.0/24 a\nprefix = 198.18.0.0/24 a\nprefix = 0.0.0.0/0 a\n",
		 minimal);
	c = parse_ok(text, DT_CONFIG_F_SKIP_KEYS);
	assert_int_equal(c->n_sites, 2);
	assert_string_equal(c->sites[0].name, "a");
	assert_string_equal(c->sites[1].name, "b");
	assert_int_equal(c->sites[1].failover[0].site, 0);
	assert_int_equal(c->sites[1].failover[0].weight, 7);
	assert_int_equal(c->n_prefixes, 5);
	assert_int_equal(c->prefixes[0].len, 0);
	assert_int_equal(c->prefixes[1].len, 15);
	assert_int_equal(c->prefixes[2].len, 24);
	assert_addr(c->prefixes[3].addr, "198.18.1.0");
	assert_int_equal(c->prefixes[4].family, DT_FAMILY_V6);
	assert_int_equal(c->prefixes[4].home_site, 9);
	dt_config__free(c);
}

/* Runtime changes (detourctl prefix add/del) keep the table sorted and findable. */
static void test_prefix_table_edits(void **state)
{
	char text[2048];
	struct dt_config *c;
	struct dt_config_prefix p = { .family = DT_FAMILY_V4, .len = 24, .home_site = 0 };
	unsigned int i;

	snprintf(text, sizeof(text),
		 "%s[prefixes]\nprefix = 198.18.0.0/24 a\nprefix = 198.18.9.0/24 a\n", minimal);
	c = parse_ok(text, DT_CONFIG_F_SKIP_KEYS);
	inet_pton(AF_INET, "198.18.5.0", p.addr);
	assert_null(dt_config__find_prefix(c, &p));
	assert_int_equal(dt_config__put_prefix(c, &p), 0); /* lands between the two */
	assert_int_equal(c->n_prefixes, 3);
	assert_addr(c->prefixes[1].addr, "198.18.5.0");
	p.flags = DT_PREFIX_F_STATELESS; /* the same prefix again replaces it */
	assert_int_equal(dt_config__put_prefix(c, &p), 0);
	assert_int_equal(c->n_prefixes, 3);
	assert_int_equal(dt_config__find_prefix(c, &p)->flags, DT_PREFIX_F_STATELESS);
	for (i = 1; i < c->n_prefixes; i++)
		assert_true(dt_config_prefix__cmp(&c->prefixes[i - 1], &c->prefixes[i]) < 0);
	assert_int_equal(dt_config__remove_prefix(c, &p), 0);
	assert_int_equal(dt_config__remove_prefix(c, &p), -ENOENT);
	assert_int_equal(c->n_prefixes, 2);
	assert_addr(c->prefixes[1].addr, "198.18.9.0");
	dt_config__free(c);
}

/* A prefix added at run time meets the file's rules: no overlap with another home, the limit. */
static void test_new_prefix_checks(void **state)
{
	char text[2048], err[256];
	struct dt_config *c;
	struct dt_config_prefix p = { .family = DT_FAMILY_V4, .len = 25, .home_site = 1 };

	snprintf(text, sizeof(text),
		 "%s[site b]\nid = 1\ndelivery = route\ninterface = eth2\n"
		 "next_hop_mac = 02:AB:cd:00:00:02\n[prefixes]\nprefix = 198.18.10.0/24 a\n",
		 minimal);
	c = parse_ok(text, DT_CONFIG_F_SKIP_KEYS);
	inet_pton(AF_INET, "198.18.10.128", p.addr); /* inside a's /24, for b */
	assert_int_equal(dt_config__check_new_prefix(c, &p, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "prefix 198.18.10.128/25 (site \"b\") overlaps 198.18.10.0/24 "
				 "(site \"a\"): overlapping prefixes must have the same home");
	p.len = 16; /* around it, for b */
	inet_pton(AF_INET, "198.18.0.0", p.addr);
	assert_int_equal(dt_config__check_new_prefix(c, &p, err, sizeof(err)), -EEXIST);
	p.home_site = 0; /* around it, for a: allowed, as in the file */
	assert_int_equal(dt_config__check_new_prefix(c, &p, err, sizeof(err)), 0);
	p.len = 24; /* the same prefix, another home: a replacement, allowed */
	inet_pton(AF_INET, "198.18.10.0", p.addr);
	p.home_site = 1;
	assert_int_equal(dt_config__check_new_prefix(c, &p, err, sizeof(err)), 0);
	c->n_prefixes = 0; /* the per-family limit: a table that is full */
	for (unsigned int i = 0; i < DT_MAX_PREFIXES_DEFAULT; i++) {
		struct dt_config_prefix q = { .family = DT_FAMILY_V4, .len = 32, .home_site = 0 };

		q.addr[0] = 10;
		q.addr[1] = (uint8_t)(i >> 16);
		q.addr[2] = (uint8_t)(i >> 8);
		q.addr[3] = (uint8_t)i;
		assert_int_equal(dt_config__put_prefix(c, &q), 0);
	}
	inet_pton(AF_INET, "198.18.99.0", p.addr);
	assert_int_equal(dt_config__check_new_prefix(c, &p, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "IPv4 prefixes"));
	p.family = DT_FAMILY_V6; /* the other family still has room */
	assert_int_equal(dt_config__check_new_prefix(c, &p, err, sizeof(err)), 0);
	dt_config__free(c);
}

/* Fractions of a millisecond, down to the nanosecond, and a site's own timers. */
static void test_fractional_ms(void **state)
{
	char text[1024];
	struct dt_config *c;

	snprintf(text, sizeof(text),
		 "%sinterval_ms = 1.000001\nmultiplier = 2\nhold_down_ms = 2.000002\n"
		 "recovery_timeout_ms = 2.000002\n",
		 minimal);
	c = parse_ok(text, DT_CONFIG_F_SKIP_KEYS);
	assert_int_equal(c->interval_ns, 5 * MS); /* [detour] untouched */
	assert_int_equal(c->sites[0].interval_ns, 1000001);
	assert_int_equal(c->sites[0].multiplier, 2);
	assert_int_equal(c->sites[0].hold_down_ns, 2000002);
	assert_int_equal(c->sites[0].recovery_timeout_ns, 2000002);
	dt_config__free(c);
}

/* ---- files and the key file ------------------------------------------------------------------ */

static void tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmp_dir, name);
}

static void test_load_missing_file(void **state)
{
	struct dt_config *c = NULL;
	struct dt_config_error err;
	char path[128], want[160];

	tmp_path(path, sizeof(path), "nonexistent.conf");
	assert_int_equal(dt_config__load(path, &c, &err), -ENOENT);
	assert_null(c);
	assert_int_equal(err.count, 1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err.item[0].msg, want);
}

static void test_load_nul_byte(void **state)
{
	struct dt_config *c = NULL;
	struct dt_config_error err;
	char path[128], want[160];
	int fd;

	tmp_path(path, sizeof(path), "nul.conf");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, "[detour]\nint\0erfaces = x\n", 25), 25);
	close(fd);
	assert_int_equal(dt_config__load(path, &c, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: a NUL byte", path);
	assert_non_null(strstr(err.item[0].msg, want));
}

static const char key_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char key_b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/* minimal + site "b" (id 5) with key_file = keys_path; writes it to conf.conf. */
static void write_conf_with_keys(char *conf, size_t len, const char *keys_path)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "[detour]\ninterfaces = eth0\nheartbeat_listen = 198.18.0.1\nkey_file = %s\n"
		 "[site a]\nid = 0\ndelivery = route\ninterface = eth1\n"
		 "next_hop_mac = 02:00:00:00:00:01\n"
		 "[site b]\nid = 5\ndelivery = route\ninterface = eth1\n"
		 "next_hop_mac = 02:00:00:00:00:05\n",
		 keys_path);
	tmp_path(conf, len, "conf.conf");
	write_file(conf, text, 0600);
}

/* Load conf; expect -EINVAL and a message "conf:LINE: " containing want. */
static void expect_key_error(const char *conf, unsigned int line, const char *want)
{
	struct dt_config *c = NULL;
	struct dt_config_error err;
	char prefix[160];

	assert_int_equal(dt_config__load(conf, &c, &err), -EINVAL);
	assert_null(c);
	snprintf(prefix, sizeof(prefix), "%s:%u: ", conf, line);
	for (unsigned int i = 0; i < err.count; i++)
		if (!strncmp(err.item[i].msg, prefix, strlen(prefix)) &&
		    strstr(err.item[i].msg, want))
			return;
	print_message("wanted %s...%s, got:\n", prefix, want);
	dt_config_error__print(&err, stdout);
	fail();
}

static int need_root(void)
{
	if (geteuid() != 0)
		skip(); /* the key file must belong to root */
	return 0;
}

static void test_keys_all_present(void **state)
{
	char conf[128], keys[128], text[256];
	struct dt_config *c = NULL;
	struct dt_config_error err;

	need_root();
	tmp_path(keys, sizeof(keys), "good.keys");
	snprintf(text, sizeof(text), "# site keys\n0 %s\n5 %s\n", key_a, key_b);
	write_file(keys, text, 0600);
	write_conf_with_keys(conf, sizeof(conf), keys);
	assert_int_equal(dt_config__load(conf, &c, &err), 0);
	assert_string_equal(c->source, conf);
	assert_string_equal(c->key_file, keys);
	dt_config__free(c);
}

static void test_keys_site_missing(void **state)
{
	char conf[128], keys[128], text[256];

	need_root();
	tmp_path(keys, sizeof(keys), "partial.keys");
	snprintf(text, sizeof(text), "0 %s\n", key_a);
	write_file(keys, text, 0600);
	write_conf_with_keys(conf, sizeof(conf), keys);
	expect_key_error(conf, 10, "site \"b\": no key for site id 5");
}

static void test_keys_file_missing(void **state)
{
	char conf[128], keys[128];

	need_root();
	tmp_path(keys, sizeof(keys), "absent.keys");
	write_conf_with_keys(conf, sizeof(conf), keys);
	expect_key_error(conf, 4, "No such file or directory");
}

static void test_keys_file_insecure_mode(void **state)
{
	char conf[128], keys[128], text[256];

	need_root();
	tmp_path(keys, sizeof(keys), "open.keys");
	snprintf(text, sizeof(text), "0 %s\n5 %s\n", key_a, key_b);
	write_file(keys, text, 0644);
	write_conf_with_keys(conf, sizeof(conf), keys);
	expect_key_error(conf, 4, "mode 0644 lets group or others at the keys");
}

static void test_keys_file_not_root(void **state)
{
	char conf[128], keys[128], text[256];

	need_root();
	tmp_path(keys, sizeof(keys), "nobody.keys");
	snprintf(text, sizeof(text), "0 %s\n5 %s\n", key_a, key_b);
	write_file(keys, text, 0600);
	assert_int_equal(chown(keys, 65534, 65534), 0);
	write_conf_with_keys(conf, sizeof(conf), keys);
	expect_key_error(conf, 4, "owned by uid 65534; it must belong to root");
}

static void test_keys_file_garbled(void **state)
{
	char conf[128], keys[128];

	need_root();
	tmp_path(keys, sizeof(keys), "garbled.keys");
	write_file(keys, "0 not-hex\n", 0600);
	write_conf_with_keys(conf, sizeof(conf), keys);
	expect_key_error(conf, 4, "cannot be loaded");
}

static int make_tmp_dir(void **state)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/dt-config-test-XXXXXX");
	return mkdtemp(tmp_dir) ? 0 : -1;
}

static int remove_tmp_dir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", tmp_dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_example),
		cmocka_unit_test(test_doc_failover_slots),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_phi_threshold),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_policy_fingerprint),
		cmocka_unit_test(test_ini_corners),
		cmocka_unit_test(test_canonical_order),
		cmocka_unit_test(test_prefix_table_edits),
		cmocka_unit_test(test_new_prefix_checks),
		cmocka_unit_test(test_fractional_ms),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_load_nul_byte),
		cmocka_unit_test(test_keys_all_present),
		cmocka_unit_test(test_keys_site_missing),
		cmocka_unit_test(test_keys_file_missing),
		cmocka_unit_test(test_keys_file_insecure_mode),
		cmocka_unit_test(test_keys_file_not_root),
		cmocka_unit_test(test_keys_file_garbled),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s docs/config.md\n", argv[0]);
		return 2;
	}
	doc_path = argv[1];
	return cmocka_run_group_tests(tests, make_tmp_dir, remove_tmp_dir);
}
