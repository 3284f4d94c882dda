/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What the shared packet core needs from its compiler, on both targets.
 *
 * The core is compiled three ways: by clang -target bpf into the XDP program (__bpf__ is defined),
 * by the host compiler into the DPDK engine (DT_TARGET_DPDK is defined), and by the host compiler
 * into unit tests and fuzz targets (neither). Only this header and dt_buf.h look at which one it
 * is; everything else is written once.
 */
#ifndef DT_COMPILER_H
#define DT_COMPILER_H

#include <linux/types.h>
#include <bpf/bpf_endian.h>

#ifdef __bpf__
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#else
#include <stddef.h>
#include <stdbool.h>
#include <string.h>
#endif

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/*
 * Every core helper is forced inline: BPF-to-BPF calls cost a frame and hide packet-pointer
 * ranges from the verifier, and on the host the helpers are small enough that a call would cost
 * more than the body.
 */
#define DT_INLINE static __always_inline

#ifdef __bpf__
#define dt_memcpy __builtin_memcpy
#define dt_memset __builtin_memset
#else
#define dt_memcpy memcpy
#define dt_memset memset
#endif

/*
 * Loops in the core have a constant trip count. BPF needs them unrolled (clang 14 emits bounded
 * loops the verifier accepts, but unrolled code verifies faster and runs faster); on the host the
 * pragma is harmless.
 */
#if defined(__clang__)
#define DT_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define DT_UNROLL _Pragma("GCC unroll 16")
#else
#define DT_UNROLL
#endif

/*
 * A loop left rolled, for the verifier to walk as a loop: the checksum of an ICMP quote, and the
 * tail of a failover slot (decide.h).
 */
#if defined(__clang__)
#define DT_NO_UNROLL _Pragma("nounroll")
#elif defined(__GNUC__)
#define DT_NO_UNROLL _Pragma("GCC unroll 1")
#else
#define DT_NO_UNROLL
#endif

/* Tell clang-bpf that a scalar came from a bounded source so it keeps the bound in a register. */
#ifdef __bpf__
#define dt_barrier_var(var) asm volatile("" : "+r"(var))
#else
#define dt_barrier_var(var) ((void)0)
#endif

#endif /* DT_COMPILER_H */
