/* SPDX-License-Identifier: GPL-2.0-only */
/* Human renderings of detourd's JSON results: aligned tables and short sentences. */
#ifndef DT_CTL_RENDER_H
#define DT_CTL_RENDER_H

#include <stdbool.h>
#include <json-c/json.h>

void render_status(struct json_object *result);
void render_sites(struct json_object *result);
void render_site(struct json_object *result);
void render_site_change(struct json_object *result);
void render_prefixes(struct json_object *result);
void render_flows(struct json_object *result);
void render_stats(struct json_object *result);
void render_whatif(struct json_object *result);
void render_done(struct json_object *result);
void render_events(struct json_object *result, bool json);
void render_event(struct json_object *event, bool json);

#endif /* DT_CTL_RENDER_H */
