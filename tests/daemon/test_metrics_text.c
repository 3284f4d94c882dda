/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Prometheus text format writer (control/detourd/metrics_text.c) against the exposition
 * format's rules: HELP and TYPE once per family and before its samples, escaping of HELP text and
 * label values, name rules, counters ending in _total, Go float spellings, and histograms with
 * cumulative buckets, le="+Inf" equal to _count, then _sum and _count. Pages are compared byte
 * for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_text.h"

#define L(...) ((const struct mt_label[]){ __VA_ARGS__, { NULL, NULL } })

static char *finish_ok(struct mt_buf *b)
{
	char *page = NULL;
	size_t len = 0;

	assert_int_equal(mt_finish(b, &page, &len), 0);
	assert_int_equal(strlen(page), len);
	return page;
}

static void test_escaping(void **state)
{
	struct mt_buf b;
	char *page, out[64];

	mt_init(&b);
	/* HELP: backslash and newline escaped, a double quote is not */
	assert_int_equal(mt_family(&b, "t_gauge", MT_GAUGE, "a \\ b\nc \"q\""), 0);
	/* label values: backslash, double quote and newline */
	assert_int_equal(mt_sample_u64(&b, L({ "path", "C:\\dir\"x\"\nend" }, { "b", "" }), 1), 0);
	page = finish_ok(&b);
	assert_string_equal(page, "# HELP t_gauge a \\\\ b\\nc \"q\"\n"
				  "# TYPE t_gauge gauge\n"
				  "t_gauge{path=\"C:\\\\dir\\\"x\\\"\\nend\",b=\"\"} 1\n");
	free(page);
	assert_int_equal(mt_escape_label_value("\\\"\n", out, sizeof(out)), 0);
	assert_string_equal(out, "\\\\\\\"\\n");
	assert_int_equal(mt_escape_label_value("abcdef", out, 4), -ENOSPC);
	assert_int_equal(mt_escape_help("\"", out, sizeof(out)), 0);
	assert_string_equal(out, "\"");
}

static void test_family_once(void **state)
{
	struct mt_buf b;
	char *page;
	size_t len;

	mt_init(&b);
	assert_int_equal(mt_family(&b, "a_total", MT_COUNTER, "x"), 0);
	assert_int_equal(mt_sample_u64(&b, NULL, 3), 0);
	assert_int_equal(mt_family(&b, "b", MT_GAUGE, "y"), 0);
	/* a second HELP/TYPE of a_total would be invalid: refused, and the error sticks */
	assert_int_equal(mt_family(&b, "a_total", MT_COUNTER, "x"), -EEXIST);
	assert_int_equal(mt_sample_u64(&b, NULL, 1), -EEXIST);
	assert_int_equal(mt_finish(&b, &page, &len), -EEXIST);
}

static void test_names(void **state)
{
	struct mt_buf b;
	char *page;
	size_t len;

	assert_true(mt_valid_metric_name("detour:x_1"));
	assert_false(mt_valid_metric_name("1x"));
	assert_false(mt_valid_metric_name("a-b"));
	assert_false(mt_valid_metric_name(""));
	assert_true(mt_valid_label_name("site_1"));
	assert_false(mt_valid_label_name("__name__"));
	assert_false(mt_valid_label_name("a:b"));

	mt_init(&b); /* a sample before any family */
	assert_int_equal(mt_sample_u64(&b, NULL, 1), -EINVAL);
	assert_int_equal(mt_finish(&b, &page, &len), -EINVAL);
	mt_init(&b); /* a counter must end in _total */
	assert_int_equal(mt_family(&b, "packets", MT_COUNTER, "x"), -EINVAL);
	mt_free(&b);
	mt_init(&b); /* a reserved label name */
	assert_int_equal(mt_family(&b, "g", MT_GAUGE, "x"), 0);
	assert_int_equal(mt_sample_u64(&b, L({ "__x", "1" }), 1), -EINVAL);
	mt_free(&b);
	mt_init(&b); /* a counter cannot go negative */
	assert_int_equal(mt_family(&b, "c_total", MT_COUNTER, "x"), 0);
	assert_int_equal(mt_sample(&b, NULL, -1), -ERANGE);
	mt_free(&b);
}

static void test_values(void **state)
{
	struct mt_buf b;
	char *page;

	mt_init(&b);
	assert_int_equal(mt_family(&b, "v", MT_GAUGE, "values"), 0);
	mt_sample(&b, L({ "k", "a" }), 0.005);
	mt_sample(&b, L({ "k", "b" }), 0.1 + 0.2); /* needs 17 digits to read back */
	mt_sample(&b, L({ "k", "c" }), NAN);
	mt_sample(&b, L({ "k", "d" }), INFINITY);
	mt_sample(&b, L({ "k", "e" }), -INFINITY);
	mt_sample(&b, L({ "k", "f" }), 3);
	mt_sample_u64(&b, L({ "k", "g" }), UINT64_MAX);
	page = finish_ok(&b);
	assert_string_equal(page, "# HELP v values\n# TYPE v gauge\n"
				  "v{k=\"a\"} 0.005\n"
				  "v{k=\"b\"} 0.30000000000000004\n"
				  "v{k=\"c\"} NaN\n"
				  "v{k=\"d\"} +Inf\n"
				  "v{k=\"e\"} -Inf\n"
				  "v{k=\"f\"} 3\n"
				  "v{k=\"g\"} 18446744073709551615\n");
	free(page);
}

static void test_histogram(void **state)
{
	static const double le[] = { 0.005, 0.01, 0.1 };
	static const uint64_t per[] = { 1, 0, 2 }; /* and 2 more above 0.1 */
	struct mt_buf b;
	char *page;

	mt_init(&b);
	assert_int_equal(mt_family(&b, "d_seconds", MT_HISTOGRAM, "delays"), 0);
	assert_int_equal(mt_histogram(&b, L({ "site", "a" }), le, per, 3, 5, 2.5), 0);
	assert_int_equal(mt_histogram(&b, NULL, le, (const uint64_t[]){ 0, 0, 0 }, 3, 0, 0), 0);
	page = finish_ok(&b);
	assert_string_equal(page, "# HELP d_seconds delays\n"
				  "# TYPE d_seconds histogram\n"
				  "d_seconds_bucket{site=\"a\",le=\"0.005\"} 1\n"
				  "d_seconds_bucket{site=\"a\",le=\"0.01\"} 1\n"
				  "d_seconds_bucket{site=\"a\",le=\"0.1\"} 3\n"
				  "d_seconds_bucket{site=\"a\",le=\"+Inf\"} 5\n"
				  "d_seconds_sum{site=\"a\"} 2.5\n"
				  "d_seconds_count{site=\"a\"} 5\n"
				  "d_seconds_bucket{le=\"0.005\"} 0\n"
				  "d_seconds_bucket{le=\"0.01\"} 0\n"
				  "d_seconds_bucket{le=\"0.1\"} 0\n"
				  "d_seconds_bucket{le=\"+Inf\"} 0\n"
				  "d_seconds_sum 0\n"
				  "d_seconds_count 0\n");
	free(page);
}

static void test_histogram_refusals(void **state)
{
	static const double le[] = { 0.1, 0.1 };
	static const double inf[] = { 0.1, INFINITY };
	static const uint64_t per[] = { 1, 1 };
	struct mt_buf b;

	mt_init(&b); /* bounds must increase */
	mt_family(&b, "h", MT_HISTOGRAM, "x");
	assert_int_equal(mt_histogram(&b, NULL, le, per, 2, 2, 0), -EINVAL);
	mt_free(&b);
	mt_init(&b); /* +Inf is written by the writer, never given */
	mt_family(&b, "h", MT_HISTOGRAM, "x");
	assert_int_equal(mt_histogram(&b, NULL, inf, per, 2, 2, 0), -EINVAL);
	mt_free(&b);
	mt_init(&b); /* more in the buckets than observed */
	mt_family(&b, "h", MT_HISTOGRAM, "x");
	assert_int_equal(mt_histogram(&b, NULL, (const double[]){ 1, 2 }, per, 2, 1, 0), -ERANGE);
	mt_free(&b);
	mt_init(&b); /* le is the writer's label */
	mt_family(&b, "h", MT_HISTOGRAM, "x");
	assert_int_equal(mt_histogram(&b, L({ "le", "1" }), (const double[]){ 1 }, per, 1, 1, 0),
			 -EINVAL);
	mt_free(&b);
	mt_init(&b); /* a plain sample in a histogram family */
	mt_family(&b, "h", MT_HISTOGRAM, "x");
	assert_int_equal(mt_sample_u64(&b, NULL, 1), -EINVAL);
	mt_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping),  cmocka_unit_test(test_family_once),
		cmocka_unit_test(test_names),	  cmocka_unit_test(test_values),
		cmocka_unit_test(test_histogram), cmocka_unit_test(test_histogram_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
