/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one map of site_decap.bpf.c, shared with whoever fills it (the topology script through
 * bpftool, the in-kernel test through the skeleton).
 */
#ifndef SITE_DECAP_H
#define SITE_DECAP_H

#include <linux/types.h>

#define SITE_DECAP_MAX_ENDPOINTS 16

/*
 * decap_endpoints (hash): the site's own tunnel endpoint addresses, the outer destinations it
 * decapsulates. As in the ABI header, an IPv4 address lives in addr[0] with addr[1..3] zero;
 * family (4 or 6) keeps 198.18.0.1 and c612:1:: apart. The value is unused (1).
 */
struct site_decap_endpoint {
	__be32 addr[4];
	__u32 family;
};

_Static_assert(sizeof(struct site_decap_endpoint) == 20, "site_decap_endpoint layout");

#endif /* SITE_DECAP_H */
