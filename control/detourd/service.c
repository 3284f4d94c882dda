// SPDX-License-Identifier: GPL-2.0-only
/* systemd's readiness and watchdog protocol for detourd (service.h). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DT_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "dt_clock.h"
#include "dt_log.h"
#include "service.h"

#ifdef DT_HAVE_LIBSYSTEMD
static void tell_systemd(const struct detourd_service *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tell_systemd(const struct detourd_service *s, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int err;

	if (!s->notify)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err = sd_notify(0, msg);
	if (err < 0)
		dt_log_warn("sd_notify: %s", strerror(-err));
}

void detourd_service__init(struct detourd_service *s)
{
	uint64_t usec = 0;

	s->notify = getenv("NOTIFY_SOCKET") != NULL;
	s->watchdog_ns = sd_watchdog_enabled(0, &usec) > 0 ? usec * 1000 : 0;
	s->last_ping_ns = 0;
	if (s->watchdog_ns)
		dt_log_info("systemd watchdog: %llu ms, pinged from the event loop",
			    (unsigned long long)(s->watchdog_ns / 1000000));
}
#else
#define tell_systemd(s, ...) ((void)(s))

void detourd_service__init(struct detourd_service *s)
{
	s->notify = false;
	s->watchdog_ns = 0;
	s->last_ping_ns = 0;
	if (getenv("NOTIFY_SOCKET"))
		dt_log_err("NOTIFY_SOCKET is set but detourd was built without libsystemd: it "
			   "cannot report readiness (Type=notify will time out)");
}
#endif

int detourd_service__wait_ms(const struct detourd_service *s)
{
	__u64 quarter = s->watchdog_ns / 4;

	if (!s->watchdog_ns)
		return -1;
	return quarter < 1000000 ? 1 : (int)(quarter / 1000000);
}

void detourd_service__ready(struct detourd_service *s, const char *status)
{
	tell_systemd(s, "READY=1\nSTATUS=%s", status);
}

void detourd_service__loop_turned(struct detourd_service *s)
{
	__u64 now;

	if (!s->watchdog_ns)
		return;
	now = dt_mono_ns();
	if (s->last_ping_ns && now - s->last_ping_ns < s->watchdog_ns / 4)
		return;
	s->last_ping_ns = now;
	tell_systemd(s, "WATCHDOG=1");
}

void detourd_service__reloading(struct detourd_service *s)
{
	tell_systemd(s, "RELOADING=1\nMONOTONIC_USEC=%llu",
		     (unsigned long long)(dt_mono_ns() / 1000));
}

void detourd_service__reloaded(struct detourd_service *s, int err)
{
	tell_systemd(s, "READY=1\nSTATUS=%s",
		     err ? "reload refused, the running configuration stays" :
			   "running, configuration reloaded");
}

void detourd_service__stopping(struct detourd_service *s)
{
	tell_systemd(s, "STOPPING=1");
}
