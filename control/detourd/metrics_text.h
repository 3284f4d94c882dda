/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), written into a growing buffer.
 * Debian has no C library for it, so the rules live here, in one place:
 *
 *   - a family is announced once, "# HELP NAME TEXT" then "# TYPE NAME TYPE", and all its samples
 *     follow together; announcing a family a second time is refused (-EEXIST), and so is a sample
 *     that does not belong to the family just announced (-EINVAL);
 *   - metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and do not
 *     start with "__" (reserved); a counter's name ends in "_total";
 *   - HELP text escapes '\' and newline; label values escape '\', '"' and newline;
 *   - values are Go floats: integers are written exactly, NaN as "NaN", infinities "+Inf"/"-Inf";
 *   - a histogram is NAME_bucket{...,le="B"} for each upper bound B, cumulative, then
 *     le="+Inf" equal to NAME_count, then NAME_sum and NAME_count.
 *
 * Errors stick: after the first one every call returns it and mt_finish() too, so a caller can
 * write a whole page and check once.
 */
#ifndef DT_METRICS_TEXT_H
#define DT_METRICS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MT_MAX_FAMILIES 64 /* distinct families in one page */
#define MT_NAME_MAX 96 /* a metric name, including the NUL */

enum mt_type { MT_COUNTER, MT_GAUGE, MT_HISTOGRAM };

/* A label: a name and a value; a list of them ends at the first with name NULL. */
struct mt_label {
	const char *name;
	const char *value;
};

struct mt_buf {
	char *data;
	size_t len, cap;
	int err; /* the first error, sticky */
	char family[MT_NAME_MAX]; /* announced last; "" before the first */
	enum mt_type type;
	char seen[MT_MAX_FAMILIES][MT_NAME_MAX];
	unsigned int n_seen;
};

void mt_init(struct mt_buf *b);
/* 0 and the page (NUL-terminated, b->len bytes, the caller frees it with free()), or the error. */
int mt_finish(struct mt_buf *b, char **page, size_t *len);
void mt_free(struct mt_buf *b);

/* Announce a family: HELP and TYPE. -EEXIST if it was announced before, -EINVAL for a bad name. */
int mt_family(struct mt_buf *b, const char *name, enum mt_type type, const char *help);
/* One sample of the current counter or gauge family (name: the family's). */
int mt_sample(struct mt_buf *b, const struct mt_label *labels, double value);
/* The same with an exact unsigned integer value (counters: no rounding past 2^53). */
int mt_sample_u64(struct mt_buf *b, const struct mt_label *labels, uint64_t value);
/*
 * One histogram of the current histogram family: @n upper bounds @le (increasing, finite), the
 * observations per bucket @per_bucket (NOT cumulative: per_bucket[i] counts le[i-1] < v <= le[i]),
 * @count every observation (those above the last bound included), @sum their sum.
 */
int mt_histogram(struct mt_buf *b, const struct mt_label *labels, const double *le,
		 const uint64_t *per_bucket, unsigned int n, uint64_t count, double sum);

/* Escapers, exposed for the tests: write @s escaped into @out (NUL-terminated); -ENOSPC. */
int mt_escape_label_value(const char *s, char *out, size_t len);
int mt_escape_help(const char *s, char *out, size_t len);
bool mt_valid_metric_name(const char *s);
bool mt_valid_label_name(const char *s);

#endif /* DT_METRICS_TEXT_H */
