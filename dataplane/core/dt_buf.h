/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A thin packet-buffer abstraction so that rewrite and encapsulation helpers are written once.
 *
 * A struct dt_buf is a window [data, data_end) onto one frame plus the context that owns it. The
 * operations that move the window are dt_buf_adjust_head(): a negative delta makes room in
 * front of the frame (encapsulation), a positive one removes bytes from the front (VLAN strip);
 * and dt_buf_adjust_tail(), which cuts the end (an ICMP answer's quote, too_big.h).
 * After it, data and data_end are reloaded and every pointer derived from the old ones is stale:
 * in BPF the verifier enforces exactly that, and the host builds follow the same rule.
 *
 *   XDP   ctx = struct xdp_md,      bpf_xdp_adjust_head() / _tail()
 *   DPDK  ctx = struct rte_mbuf,    rte_pktmbuf_prepend() / _adj() / _trim() (single segment)
 *   host  ctx = struct dt_host_buf, a flat array with headroom, for unit tests and fuzzing
 */
#ifndef DT_BUF_H
#define DT_BUF_H

#include "dt_compiler.h"

#if defined(__bpf__)

typedef struct xdp_md dt_buf_ctx;

struct dt_buf {
	void *data;
	void *data_end;
	dt_buf_ctx *ctx;
};

DT_INLINE void dt_buf_reload(struct dt_buf *b)
{
	b->data = (void *)(long)b->ctx->data;
	b->data_end = (void *)(long)b->ctx->data_end;
}

DT_INLINE int dt_buf_adjust_head(struct dt_buf *b, int delta)
{
	if (bpf_xdp_adjust_head(b->ctx, delta))
		return -1;
	dt_buf_reload(b);
	return 0;
}

DT_INLINE int dt_buf_adjust_tail(struct dt_buf *b, int delta)
{
	if (bpf_xdp_adjust_tail(b->ctx, delta))
		return -1;
	dt_buf_reload(b);
	return 0;
}

/*
 * A pointer difference: an unbounded scalar to the verifier (privileged programs only, as the
 * program's byte count already is). The barrier keeps clang from folding a pointer into 32-bit
 * arithmetic with it, which the verifier refuses.
 */
DT_INLINE __u32 dt_buf_len(const struct dt_buf *b)
{
	__u64 len = (__u64)((long)b->data_end - (long)b->data);

	dt_barrier_var(len);
	return (__u32)len;
}

#elif defined(DT_TARGET_DPDK)

#include <rte_mbuf.h>

typedef struct rte_mbuf dt_buf_ctx;

struct dt_buf {
	void *data;
	void *data_end;
	dt_buf_ctx *ctx;
};

DT_INLINE void dt_buf_reload(struct dt_buf *b)
{
	b->data = rte_pktmbuf_mtod(b->ctx, void *);
	b->data_end = (char *)b->data + rte_pktmbuf_data_len(b->ctx);
}

DT_INLINE int dt_buf_adjust_head(struct dt_buf *b, int delta)
{
	if (delta < 0 && !rte_pktmbuf_prepend(b->ctx, (uint16_t)-delta))
		return -1;
	if (delta > 0 && !rte_pktmbuf_adj(b->ctx, (uint16_t)delta))
		return -1;
	dt_buf_reload(b);
	return 0;
}

/* Only shrinks: a too-big answer is shorter than its packet. */
DT_INLINE int dt_buf_adjust_tail(struct dt_buf *b, int delta)
{
	if (delta > 0 || rte_pktmbuf_trim(b->ctx, (uint16_t)-delta))
		return -1;
	dt_buf_reload(b);
	return 0;
}

DT_INLINE __u32 dt_buf_len(const struct dt_buf *b)
{
	return rte_pktmbuf_data_len(b->ctx);
}

#else /* host: unit tests, fuzzing */

/* A frame stored at base[head .. head + len), inside a buffer of cap bytes. */
struct dt_host_buf {
	__u8 *base;
	__u32 head;
	__u32 len;
	__u32 cap;
};

typedef struct dt_host_buf dt_buf_ctx;

struct dt_buf {
	void *data;
	void *data_end;
	dt_buf_ctx *ctx;
};

DT_INLINE void dt_buf_reload(struct dt_buf *b)
{
	b->data = b->ctx->base + b->ctx->head;
	b->data_end = b->ctx->base + b->ctx->head + b->ctx->len;
}

DT_INLINE int dt_buf_adjust_head(struct dt_buf *b, int delta)
{
	long head = (long)b->ctx->head + delta;

	if (head < 0 || delta > (long)b->ctx->len)
		return -1;
	b->ctx->head = (__u32)head;
	b->ctx->len = (__u32)((long)b->ctx->len - delta);
	dt_buf_reload(b);
	return 0;
}

/* A negative delta cuts the end, a positive one grows it within the buffer. */
DT_INLINE int dt_buf_adjust_tail(struct dt_buf *b, int delta)
{
	long len = (long)b->ctx->len + delta;

	if (len < 0 || b->ctx->head + len > b->ctx->cap)
		return -1;
	b->ctx->len = (__u32)len;
	dt_buf_reload(b);
	return 0;
}

DT_INLINE __u32 dt_buf_len(const struct dt_buf *b)
{
	return b->ctx->len;
}

#endif

DT_INLINE void dt_buf_init(struct dt_buf *b, dt_buf_ctx *ctx)
{
	b->ctx = ctx;
	dt_buf_reload(b);
}

#endif /* DT_BUF_H */
