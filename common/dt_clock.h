/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Clock reads in nanoseconds. CLOCK_MONOTONIC is the clock of every deadline, event timestamp
 * and heartbeat arrival; the clock-id variant serves the few readers that must match another
 * clock (CLOCK_MONOTONIC_COARSE for bpf_ktime_get_coarse_ns(), CLOCK_REALTIME for wire times).
 */
#ifndef DT_COMMON_CLOCK_H
#define DT_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t dt_timespec_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

static inline struct timespec dt_ns_timespec(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

	return ts;
}

static inline uint64_t dt_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return dt_timespec_ns(&ts);
}

static inline uint64_t dt_mono_ns(void)
{
	return dt_clock_ns(CLOCK_MONOTONIC);
}

static inline uint64_t dt_mono_ms(void)
{
	return dt_mono_ns() / 1000000ull;
}

/* Milliseconds from now to the CLOCK_MONOTONIC time deadline_ms; negative once it has passed. */
static inline int64_t dt_mono_ms_left(uint64_t deadline_ms)
{
	return (int64_t)(deadline_ms - dt_mono_ms());
}

/* Sleep until the absolute CLOCK_MONOTONIC time ns; returns 0 or the errno (EINTR: a signal). */
static inline int dt_mono_sleep_until(uint64_t ns)
{
	struct timespec ts = dt_ns_timespec(ns);

	return clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

#endif /* DT_COMMON_CLOCK_H */
