/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * detourd under systemd (systemd/detourd.service, Type=notify): READY=1 once the dataplane is
 * attached and the heartbeat sockets are open, RELOADING=1 / READY=1 around a SIGHUP reload,
 * STOPPING=1, and WATCHDOG=1 from the event loop itself, so that a loop that stops turning stops
 * the pings and systemd restarts it (WatchdogSec). With a watchdog the loop wakes at least every
 * quarter of its period, heartbeats or not, and pings when a quarter has passed since the last
 * ping: two pings are never more than half the period apart while the loop runs.
 *
 * Through libsystemd's sd_notify(3) when detourd was built with it (DT_HAVE_LIBSYSTEMD); without
 * it nothing is sent, and a NOTIFY_SOCKET in the environment is reported as an error.
 */
#ifndef DT_DETOURD_SERVICE_H
#define DT_DETOURD_SERVICE_H

#include <stdbool.h>
#include <linux/types.h>

struct detourd_service {
	bool notify; /* NOTIFY_SOCKET is set: systemd (or a test) listens */
	__u64 watchdog_ns; /* WATCHDOG_USEC, 0: no watchdog */
	__u64 last_ping_ns;
};

void detourd_service__init(struct detourd_service *s);
/* The event loop's longest wait: -1 (for ever) without a watchdog. */
int detourd_service__wait_ms(const struct detourd_service *s);
void detourd_service__ready(struct detourd_service *s, const char *status);
/* Once per turn of the event loop, at its end: WATCHDOG=1 when a ping is due. */
void detourd_service__loop_turned(struct detourd_service *s);
void detourd_service__reloading(struct detourd_service *s);
void detourd_service__reloaded(struct detourd_service *s, int err);
void detourd_service__stopping(struct detourd_service *s);

#endif /* DT_DETOURD_SERVICE_H */
