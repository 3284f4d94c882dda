/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The loader's map writers, load/adopt and its errors, against the real detour program and real
 * maps pinned in a private bpffs: the test unshares its mount namespace and mounts a bpffs
 * instance of its own, so nothing outside the test sees or keeps its pins. Needs root.
 *
 * Every value is read back through another handle than the one that wrote it (the adopted
 * object, or a raw fd on the pin), so a test passes only if the bytes really are in the map.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/bpf.h>

#include "dt_log.h"
#include "dt_xdp.h"

static char tmp_dir[] = "/tmp/dt-xdp-unit.XXXXXX";
static char bpffs_dir[128];
static char plain_dir[128];
static char pin_root[256];
static char log_text[16384];

static void capture_log(enum dt_log_level level, const char *msg)
{
	size_t len = strlen(log_text);

	snprintf(log_text + len, sizeof(log_text) - len, "%s\n", msg);
}

static int group_setup(void **state)
{
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -1;
	if (!mkdtemp(tmp_dir))
		return -1;
	snprintf(bpffs_dir, sizeof(bpffs_dir), "%s/bpffs", tmp_dir);
	snprintf(plain_dir, sizeof(plain_dir), "%s/plain", tmp_dir);
	snprintf(pin_root, sizeof(pin_root), "%s/detour", bpffs_dir);
	if (mkdir(bpffs_dir, 0700) || mkdir(plain_dir, 0700))
		return -1;
	dt_log_set_sink(capture_log);
	dt_log_set_level(DT_LOG_INFO);
	return mount("bpf", bpffs_dir, "bpf", 0, NULL);
}

static int group_teardown(void **state)
{
	umount(bpffs_dir);
	rmdir(bpffs_dir);
	rmdir(plain_dir);
	rmdir(tmp_dir);
	return 0;
}

static int test_setup(void **state)
{
	log_text[0] = '\0';
	return 0;
}

/* Every test starts from an empty pin root. */
static int test_teardown(void **state)
{
	dt_xdp_unpin(pin_root);
	return 0;
}

static void opts_for_test(struct dt_xdp_opts *o)
{
	dt_xdp_opts__init(o);
	o->pin_root = pin_root;
}

static int pinned_fd(const char *map)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", pin_root, map);
	return bpf_obj_get(path);
}

static void test_opts_defaults(void **state)
{
	struct dt_xdp_opts o;

	memset(&o, 0xff, sizeof(o));
	dt_xdp_opts__init(&o);
	assert_string_equal(o.pin_root, DT_PIN_ROOT_DEFAULT);
	assert_int_equal(o.flow_table_size, DT_FLOW_TABLE_DEFAULT);
	assert_int_equal(o.max_prefixes, DT_MAX_PREFIXES_DEFAULT);
	assert_int_equal(o.flow_hash_seed, 0);
}

static void test_load_needs_bpffs(void **state)
{
	char root[256];
	struct dt_xdp_opts o;
	struct dt_xdp *x;

	snprintf(root, sizeof(root), "%s/detour", plain_dir);
	opts_for_test(&o);
	o.pin_root = root;
	assert_int_equal(dt_xdp__load(&o, &x), -ENOENT);
	assert_null(x);
	assert_non_null(strstr(log_text, "bpffs is not mounted at"));
	assert_non_null(strstr(log_text, plain_dir));
}

static void test_load_rejects_bad_options(void **state)
{
	struct dt_xdp_opts o;
	struct dt_xdp *x;

	opts_for_test(&o);
	o.flow_table_size = 0;
	assert_int_equal(dt_xdp__load(&o, &x), -EINVAL);
	assert_non_null(strstr(log_text, "map dt_flows: flow-table size 0 is out of range"));
	opts_for_test(&o);
	o.pin_root = "relative/path";
	assert_int_equal(dt_xdp__load(&o, &x), -EINVAL);
}

static void test_site_state_shared_with_adopter(void **state)
{
	struct dt_xdp *loaded, *adopted;
	enum dt_site_state seen;
	struct dt_xdp_opts o;

	opts_for_test(&o);
	assert_int_equal(dt_xdp__load(&o, &loaded), 0);
	assert_int_not_equal(dt_xdp__prog_id(loaded), 0);
	assert_int_equal(dt_xdp__adopt(&o, &adopted), 0);
	assert_int_equal(dt_xdp__prog_id(adopted), 0);

	assert_int_equal(dt_xdp__set_site_state(loaded, 5, DT_SITE_DRAINING), 0);
	assert_int_equal(dt_xdp__site_state(adopted, 5, &seen), 0);
	assert_int_equal(seen, DT_SITE_DRAINING);
	assert_int_equal(dt_xdp__set_site_state(adopted, 5, DT_SITE_DOWN), 0);
	assert_int_equal(dt_xdp__site_state(loaded, 5, &seen), 0);
	assert_int_equal(seen, DT_SITE_DOWN);

	assert_int_equal(dt_xdp__set_site_state(loaded, DT_MAX_SITES, DT_SITE_UP), -EINVAL);
	assert_int_equal(dt_xdp__set_site_state(loaded, 0, DT_SITE_STATE_MAX), -EINVAL);
	assert_int_equal(dt_xdp__site_state(loaded, DT_MAX_SITES, &seen), -EINVAL);
	assert_int_equal(dt_xdp__attach(adopted, "lo", NULL, NULL), -EINVAL);
	dt_xdp__close(adopted);
	dt_xdp__close(loaded);
}

static void test_prefixes_masked_and_validated(void **state)
{
	struct dt_prefix_info info = { .home_site = 2, .flags = DT_PREFIX_F_STATELESS }, got;
	struct dt_lpm_v4_key k4 = { .prefixlen = 24, .addr = htonl(0xc6120000) }; /* 198.18.0.0 */
	struct dt_lpm_v6_key k6 = { .prefixlen = 48 };
	struct dt_lpm_v4_key stored;
	struct dt_xdp_opts o;
	struct dt_xdp *x;
	__u8 a6[16];
	int fd4, fd6;

	opts_for_test(&o);
	assert_int_equal(dt_xdp__load(&o, &x), 0);
	fd4 = pinned_fd("dt_prefix_v4");
	fd6 = pinned_fd("dt_prefix_v6");
	assert_true(fd4 >= 0 && fd6 >= 0);

	assert_int_equal(dt_xdp__add_prefix_v4(x, htonl(0xc612004d), 24, &info), 0);
	/* The trie stores the canonical network address, not 198.18.0.77. */
	assert_int_equal(bpf_map_get_next_key(fd4, NULL, &stored), 0);
	assert_memory_equal(&stored, &k4, sizeof(k4));
	assert_int_equal(bpf_map_lookup_elem(fd4, &k4, &got), 0);
	assert_int_equal(got.home_site, 2);
	assert_int_equal(got.flags, DT_PREFIX_F_STATELESS);
	assert_int_equal(dt_xdp__del_prefix_v4(x, htonl(0xc6120001), 24), 0);
	assert_int_equal(dt_xdp__del_prefix_v4(x, htonl(0xc6120001), 24), -ENOENT);
	assert_int_equal(dt_xdp__add_prefix_v4(x, 0, 33, &info), -EINVAL);
	info.home_site = DT_MAX_SITES;
	assert_int_equal(dt_xdp__add_prefix_v4(x, 0, 8, &info), -EINVAL);
	info.home_site = 7;

	inet_pton(AF_INET6, "2001:db8:0:ffff::1", a6);
	assert_int_equal(dt_xdp__add_prefix_v6(x, a6, 48, &info), 0);
	inet_pton(AF_INET6, "2001:db8::", k6.addr);
	assert_int_equal(bpf_map_lookup_elem(fd6, &k6, &got), 0);
	assert_int_equal(got.home_site, 7);
	assert_int_equal(dt_xdp__add_prefix_v6(x, a6, 129, &info), -EINVAL);
	assert_int_equal(dt_xdp__del_prefix_v6(x, a6, 48), 0);
	assert_int_equal(bpf_map_lookup_elem(fd6, &k6, &got), -ENOENT);
	close(fd4);
	close(fd6);
	dt_xdp__close(x);
}

static void test_site_failover_egress(void **state)
{
	struct dt_site site = { .delivery = DT_DELIVERY_IPIP, .mtu = 1500, .egress_port = 3 };
	static struct dt_failover_slots slots, got;
	struct dt_site site_got;
	struct dt_xdp_opts o;
	__u32 key = 9, ifindex = 0;
	struct dt_xdp *x;
	int fd;

	opts_for_test(&o);
	assert_int_equal(dt_xdp__load(&o, &x), 0);
	assert_int_equal(dt_xdp__set_site(x, 9, &site), 0);
	fd = pinned_fd("dt_site");
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &site_got), 0);
	assert_memory_equal(&site_got, &site, sizeof(site));
	close(fd);
	site.delivery = DT_DELIVERY_MAX;
	assert_int_equal(dt_xdp__set_site(x, 9, &site), -EINVAL);

	memset(&slots, DT_CANDIDATE_NONE, sizeof(slots));
	slots.cand[17][1] = 4;
	assert_int_equal(dt_xdp__set_failover(x, 9, &slots), 0);
	fd = pinned_fd("dt_failover");
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &got), 0);
	assert_memory_equal(&got, &slots, sizeof(slots));
	close(fd);
	slots.cand[200][3] = DT_MAX_SITES;
	assert_int_equal(dt_xdp__set_failover(x, 9, &slots), -EINVAL);
	assert_non_null(strstr(log_text, "slot 200 candidate 3"));

	assert_int_equal(dt_xdp__set_egress(x, DT_MAX_EGRESS_PORTS, "lo"), -EINVAL);
	assert_int_equal(dt_xdp__set_egress(x, 3, "nonexistent9"), -ENODEV);
	assert_int_equal(dt_xdp__set_egress(x, 3, "lo"), 0);
	fd = pinned_fd("dt_egress");
	key = 3;
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &ifindex), 0);
	assert_int_equal(ifindex, if_nametoindex("lo"));
	close(fd);
	dt_xdp__close(x);
}

/* Run the real program on an ARP frame: it must count it under (none, NOT_IP). */
static void test_counters_read_back(void **state)
{
	__u8 arp[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06 };
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = arp, .data_size_in = sizeof(arp),
		    .repeat = 5);
	struct dt_counter before, after;
	struct dt_xdp_opts o;
	struct dt_xdp *x;
	int prog_fd;

	opts_for_test(&o);
	assert_int_equal(dt_xdp__load(&o, &x), 0);
	assert_int_equal(dt_xdp__read_counter(x, DT_SITE_NONE, DT_REASON_NOT_IP, &before), 0);
	prog_fd = bpf_prog_get_fd_by_id(dt_xdp__prog_id(x));
	assert_true(prog_fd >= 0);
	assert_int_equal(bpf_prog_test_run_opts(prog_fd, &run), 0);
	assert_int_equal(run.retval, 2); /* XDP_PASS */
	assert_int_equal(dt_xdp__read_counter(x, DT_SITE_NONE, DT_REASON_NOT_IP, &after), 0);
	assert_int_equal(after.packets - before.packets, 5);
	assert_int_equal(after.bytes - before.bytes, 5 * sizeof(arp));
	assert_int_equal(dt_xdp__read_counter(x, 0, DT_REASON_MAX, &after), -EINVAL);
	close(prog_fd);
	dt_xdp__close(x);
}

struct walk {
	int calls;
	int stop_with;
	__u32 seen_mask;
};

static int walk_flow(const struct dt_flow_key *k, const struct dt_flow_state *v, void *ctx)
{
	struct walk *w = ctx;

	w->calls++;
	w->seen_mask |= 1u << ntohs(k->sport);
	assert_int_equal(v->target_site, ntohs(k->sport) + 10);
	return w->stop_with;
}

static void test_flow_walk(void **state)
{
	struct dt_xdp_opts o;
	struct walk w = {};
	struct dt_xdp *x;
	__u16 i;
	int fd;

	opts_for_test(&o);
	o.flow_table_size = 64;
	assert_int_equal(dt_xdp__load(&o, &x), 0);
	fd = pinned_fd("dt_flows");
	for (i = 1; i <= 3; i++) {
		struct dt_flow_key k = { .sport = htons(i), .proto = 6, .family = DT_FAMILY_V4 };
		struct dt_flow_state v = { .home_site = 1, .target_site = (__u16)(i + 10) };

		assert_int_equal(bpf_map_update_elem(fd, &k, &v, BPF_ANY), 0);
	}
	assert_int_equal(dt_xdp__for_each_flow(x, walk_flow, &w), 0);
	assert_int_equal(w.calls, 3);
	assert_int_equal(w.seen_mask, 0xe);
	w = (struct walk){ .stop_with = 7 };
	assert_int_equal(dt_xdp__for_each_flow(x, walk_flow, &w), 7);
	assert_int_equal(w.calls, 1);
	close(fd);
	dt_xdp__close(x);
}

static __u32 flow_gen_now(void)
{
	struct dt_flow_gen g = { 0 };
	__u32 zero = 0;
	int fd = pinned_fd("dt_flow_gen");

	assert_true(fd >= 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &zero, &g), 0);
	close(fd);
	return g.gen;
}

/* Eviction churn, made: each visit replaces the flow it is shown by another, so the walk restarts. */
static int walk_churn(const struct dt_flow_key *k, const struct dt_flow_state *v, void *ctx)
{
	int *fd = ctx;
	struct dt_flow_key next = *k;

	next.sport = htons((__u16)(ntohs(k->sport) + 1000));
	assert_int_equal(bpf_map_delete_elem(*fd, k), 0);
	assert_int_equal(bpf_map_update_elem(*fd, &next, v, BPF_ANY), 0);
	return 0;
}

/* A walk that restarted until its budget ran out is not complete: it says so. */
static void test_flow_walk_that_ran_out(void **state)
{
	struct dt_flow_key k = { .sport = htons(1), .proto = 6, .family = DT_FAMILY_V4 };
	struct dt_flow_state v = { .home_site = 1, .target_site = 11 };
	struct dt_xdp_opts o;
	struct dt_xdp *x;
	int fd;

	opts_for_test(&o);
	o.flow_table_size = 64;
	assert_int_equal(dt_xdp__load(&o, &x), 0);
	fd = pinned_fd("dt_flows");
	assert_int_equal(bpf_map_update_elem(fd, &k, &v, BPF_ANY), 0);
	assert_int_equal(dt_xdp__for_each_flow(x, walk_churn, &fd), -EAGAIN);
	close(fd);
	dt_xdp__close(x);
}

/*
 * Every write that can change a flow's decision moves dt_flow_gen by one, whichever handle makes
 * it (the program's flow cache trusts nothing older); a refused write or a flow already gone
 * does not.
 */
static void test_flow_gen_bumped(void **state)
{
	struct dt_flow_key k = { .sport = htons(9), .proto = 6, .family = DT_FAMILY_V4 };
	struct dt_flow_state v = { .home_site = 1, .target_site = 2 };
	struct dt_xdp *loaded, *adopted;
	struct dt_xdp_opts o;
	__u32 gen;
	int fd;

	opts_for_test(&o);
	assert_int_equal(dt_xdp__load(&o, &loaded), 0);
	assert_int_equal(dt_xdp__adopt(&o, &adopted), 0);
	gen = flow_gen_now();
	assert_int_equal(dt_xdp__set_site_state(loaded, 1, DT_SITE_DOWN), 0);
	assert_int_equal(flow_gen_now(), gen + 1);
	assert_int_equal(dt_xdp__set_site_state(adopted, 1, DT_SITE_UP), 0);
	assert_int_equal(flow_gen_now(), gen + 2);
	assert_int_equal(dt_xdp__set_site_state(loaded, DT_MAX_SITES, DT_SITE_UP), -EINVAL);
	assert_int_equal(flow_gen_now(), gen + 2);

	fd = pinned_fd("dt_flows");
	assert_int_equal(bpf_map_update_elem(fd, &k, &v, BPF_ANY), 0);
	close(fd);
	assert_int_equal(dt_xdp__delete_flow(adopted, &k), 0);
	assert_int_equal(flow_gen_now(), gen + 3);
	assert_int_equal(dt_xdp__delete_flow(loaded, &k), 0); /* already gone */
	assert_int_equal(flow_gen_now(), gen + 3);
	dt_xdp__close(adopted);
	dt_xdp__close(loaded);
}

static void test_incompatible_pin_named(void **state)
{
	struct dt_xdp *x, *y;
	struct dt_xdp_opts o;

	opts_for_test(&o);
	assert_int_equal(dt_xdp__load(&o, &x), 0);
	dt_xdp__close(x);
	o.flow_table_size = 1024;
	assert_int_equal(dt_xdp__load(&o, &y), -EINVAL);
	assert_non_null(strstr(log_text, "map dt_flows: pinned at"));
	assert_non_null(
		strstr(log_text, "has max_entries 65536 but this configuration wants 1024"));
	assert_non_null(strstr(log_text, "detach --unpin"));
	/* Same sizes again: the pins are reused, nothing is lost. */
	o.flow_table_size = DT_FLOW_TABLE_DEFAULT;
	assert_int_equal(dt_xdp__load(&o, &y), 0);
	dt_xdp__close(y);
}

static void test_adopt_without_pins(void **state)
{
	struct dt_xdp_opts o;
	struct dt_xdp *x;

	opts_for_test(&o);
	assert_int_equal(dt_xdp__adopt(&o, &x), -ENOENT);
	assert_null(x);
	assert_non_null(strstr(log_text, "nothing to adopt"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts_defaults),
		cmocka_unit_test_setup_teardown(test_load_needs_bpffs, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_load_rejects_bad_options, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_site_state_shared_with_adopter, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_prefixes_masked_and_validated, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_site_failover_egress, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_counters_read_back, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_flow_walk, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_flow_walk_that_ran_out, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_flow_gen_bumped, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_incompatible_pin_named, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_adopt_without_pins, test_setup, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
