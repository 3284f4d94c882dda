/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The names of the ABI enums (dataplane/core/detour_abi.h) and of the XDP attach mode, for logs,
 * JSON, the configuration file and the CLI: lower case, stable, words joined by underscores.
 * Names live here, in user space only; the packet core carries numbers. Every value read from
 * a map or a socket may be out of range: the value→name functions then answer "invalid", never
 * NULL, and the name→value functions answer -EINVAL for a name they do not know.
 */
#ifndef DT_COMMON_NAMES_H
#define DT_COMMON_NAMES_H

#include "dataplane/core/detour_abi.h"

/* The attach modes of enum dt_xdp_mode and enum dt_config_xdp_mode, which share these values. */
enum dt_xdp_mode_value { DT_XDP_MODE_VALUE_NATIVE = 0, DT_XDP_MODE_VALUE_GENERIC = 1 };
#define DT_XDP_MODE_VALUE_MAX 2

/* Indexed by value. The configuration file lists dt_delivery_names + DT_DELIVERY_ROUTE. */
extern const char *const dt_site_state_names[DT_SITE_STATE_MAX];
extern const char *const dt_reason_names[DT_REASON_MAX];
extern const char *const dt_delivery_names[DT_DELIVERY_MAX];
extern const char *const dt_xdp_mode_names[DT_XDP_MODE_VALUE_MAX];

const char *dt_site_state_name(unsigned int state);
const char *dt_reason_name(unsigned int reason);
const char *dt_delivery_name(unsigned int delivery);
const char *dt_xdp_mode_name(unsigned int mode);

/* 0 and *out set, or -EINVAL. */
int dt_site_state_parse(const char *name, unsigned int *out);
int dt_reason_parse(const char *name, unsigned int *out);
int dt_delivery_parse(const char *name, unsigned int *out);
int dt_xdp_mode_parse(const char *name, unsigned int *out);

#endif /* DT_COMMON_NAMES_H */
