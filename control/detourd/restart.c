// SPDX-License-Identifier: GPL-2.0-only
/*
 * A restart of detourd goes on where the last one stopped (docs/detector.md, "Restart"): at start
 * each configured site is seeded from the state file and each beacon's replay state restored;
 * while running, what changed is written back after every wake-up of the loop (and every
 * accepted heartbeat's epoch and sequence at once).
 */
#include <errno.h>
#include <string.h>

#include "detourd.h"
#include "dt_log.h"
#include "dt_names.h"

/* -EBUSY (another detourd has the file) stops the start; any other problem is logged and lived with. */
int detourd_state_open(struct detourd *d)
{
	int err = state_file__open(&d->state, d->cfg->state_file);

	if (err == -EBUSY)
		return err;
	if (err)
		dt_log_warn("running without a state file: a restart will forget site states, "
			    "overrides and replay windows");
	return 0;
}

static void seed_site(struct detourd *d, const struct dt_config_site *s)
{
	struct health_seed seed;
	int err;

	if (!state_file__site(&d->state, s->id, s->name, &seed))
		return;
	err = health__seed_site(d->health, s->id, &seed);
	if (err) {
		dt_log_warn("site %s: saved state %s, override %s not used: %s", s->name,
			    dt_site_state_name(seed.state), health_override_name(seed.override),
			    strerror(-err));
		return;
	}
	d->restored_sites++;
	dt_log_info("site %s: %s, override %s, %llu flap(s): as the last detourd left it%s",
		    s->name, dt_site_state_name(seed.state), health_override_name(seed.override),
		    (unsigned long long)seed.flaps,
		    d->state.same_boot ? "" : " (another boot: the override only)");
}

void detourd_state_seed(struct detourd *d)
{
	unsigned int i;

	if (!d->state.map)
		return;
	for (i = 0; i < d->cfg->n_sites; i++)
		seed_site(d, &d->cfg->sites[i]);
	detourd_state_save(d);
}

/* After hb_receiver__init and the beacon masks: a recording of an older epoch stays refused. */
void detourd_state_restore_replay(struct detourd *d)
{
	struct hb_beacon_state st;
	unsigned int i, b;

	for (i = 0; d->state.map && i < d->cfg->n_sites; i++) {
		const struct dt_config_site *s = &d->cfg->sites[i];

		for (b = 0; b < HB_MAX_BEACONS; b++) {
			if (!(s->beacons & (1u << b)) ||
			    !state_file__beacon(&d->state, s->id, s->name, b, &st))
				continue;
			if (!hb_receiver__restore(&d->rx, s->id, (__u16)b, st.epoch, st.top))
				d->restored_beacons++;
		}
	}
}

void detourd_state_note_heartbeat(struct detourd *d, __u16 site, __u16 beacon)
{
	const struct dt_config_site *s;
	struct hb_beacon_state st;

	if (!d->state.map || hb_receiver__beacon_state(&d->rx, site, beacon, &st))
		return;
	s = dt_config__site_by_id(d->cfg, site);
	if (s)
		state_file__put_beacon(&d->state, site, s->name, beacon, &st);
}

/* Write the sites whose seed changed since the last write: a few stores, no system call. */
void detourd_state_save(struct detourd *d)
{
	struct health_seed seed;
	unsigned int i;

	for (i = 0; d->state.map && i < d->cfg->n_sites; i++) {
		const struct dt_config_site *s = &d->cfg->sites[i];

		if (health__site_seed(d->health, s->id, &seed) ||
		    !memcmp(&seed, &d->saved_seed[s->id], sizeof(seed)))
			continue;
		state_file__put_site(&d->state, s->id, s->name, &seed);
		d->saved_seed[s->id] = seed;
	}
}
