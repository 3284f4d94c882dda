// SPDX-License-Identifier: GPL-2.0-only
/*
 * detourd gives up what it does not need once it has started: every thread of the process ends
 * with CAP_BPF and CAP_NET_ADMIN only (effective and permitted; nothing inheritable), with
 * no_new_privs set, and - with `user` in the configuration - as that user and its group.
 *
 * Capabilities and no_new_privs belong to each thread, not to the process: a thread keeps what
 * it had when it was created. The XDP engine creates its one thread (the recovery scanner) after
 * this; the DPDK engine's EAL has created its threads (lcore workers, interrupt, multi-process,
 * telemetry) long before, in rte_eal_init(), while it still needed root for hugepages, devices
 * and AF_XDP sockets. So the change is made in every thread there is: each other thread is sent
 * DROP_SIGNAL and makes the same system calls in its handler (raw syscalls, async-signal-safe),
 * as libpsx and glibc's set*id() do; the caller waits until all of them have answered.
 *
 * With a user, each thread first sets SECBIT_NO_SETUID_FIXUP (locked) so that leaving uid 0 does
 * not clear its capabilities, then setgroups/setresgid/setresuid, then capset and no_new_privs.
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/securebits.h>

#include "detourd.h"
#include "dt_log.h"

#define DROP_SIGNAL (SIGRTMIN + 3)
#define DROP_WAIT_MS 2000 /* for every thread to answer */
#define KEEP_CAPS ((1ull << CAP_BPF) | (1ull << CAP_NET_ADMIN))

static struct {
	bool set_user;
	uid_t uid;
	gid_t gid;
	atomic_int answered;
	atomic_int failed; /* the first errno a thread saw, 0: none */
	atomic_int failed_tid;
} plan;

/* One thread's change; only system calls, so it may run in a signal handler. */
static int thread_drop(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {
		{ .effective = (__u32)KEEP_CAPS, .permitted = (__u32)KEEP_CAPS },
		{ .effective = (__u32)(KEEP_CAPS >> 32), .permitted = (__u32)(KEEP_CAPS >> 32) },
	};
	const unsigned long bits = SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
				   SECBIT_NOROOT | SECBIT_NOROOT_LOCKED;

	if (plan.set_user && (syscall(SYS_prctl, PR_SET_SECUREBITS, bits, 0, 0, 0) ||
			      syscall(SYS_setgroups, 1, &plan.gid) ||
			      syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) ||
			      syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid)))
		return errno;
	if (syscall(SYS_capset, &hdr, data) || syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return errno;
	return 0;
}

static void on_drop_signal(int sig)
{
	int saved = errno, err = thread_drop(), none = 0;

	if (err && atomic_compare_exchange_strong(&plan.failed, &none, err))
		atomic_store(&plan.failed_tid, (int)syscall(SYS_gettid));
	atomic_fetch_add(&plan.answered, 1);
	errno = saved;
}

/* Signal every thread but this one; how many were signalled, or -errno. */
static int signal_other_threads(void)
{
	pid_t self = (pid_t)syscall(SYS_gettid), pid = getpid();
	DIR *dir = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		pid_t tid = (pid_t)atoi(e->d_name);

		if (tid <= 0 || tid == self)
			continue;
		if (syscall(SYS_tgkill, pid, tid, DROP_SIGNAL)) {
			if (errno == ESRCH)
				continue; /* it ended meanwhile */
			closedir(dir);
			return -errno;
		}
		n++;
	}
	closedir(dir);
	return n;
}

static int wait_answers(int n)
{
	struct timespec pause = { 0, 1000000 };

	for (int ms = 0; ms < DROP_WAIT_MS; ms++) {
		if (atomic_load(&plan.answered) >= n)
			return 0;
		nanosleep(&pause, NULL);
	}
	dt_log_err("privileges: %d of %d threads did not answer within %d ms (signal %d blocked?)",
		   n - atomic_load(&plan.answered), n, DROP_WAIT_MS, DROP_SIGNAL);
	return -ETIMEDOUT;
}

int detourd_drop_privileges(const struct dt_config *cfg)
{
	struct sigaction sa = { .sa_handler = on_drop_signal, .sa_flags = SA_RESTART };
	int n, err;

	plan.set_user = cfg->user[0] && cfg->user_uid != 0;
	plan.uid = cfg->user_uid;
	plan.gid = cfg->user_gid;
	atomic_store(&plan.answered, 0);
	atomic_store(&plan.failed, 0);
	sigemptyset(&sa.sa_mask);
	if (sigaction(DROP_SIGNAL, &sa, NULL))
		return -errno;
	n = signal_other_threads();
	err = n < 0 ? n : wait_answers(n);
	if (!err && atomic_load(&plan.failed)) {
		err = -atomic_load(&plan.failed);
		dt_log_err("privileges: thread %d: %s", atomic_load(&plan.failed_tid),
			   strerror(-err));
	}
	if (!err && (err = -thread_drop()))
		dt_log_err("privileges: %s", strerror(-err));
	/* not the default action (the end of the process) for a signal still pending somewhere */
	signal(DROP_SIGNAL, SIG_IGN);
	if (err)
		return err;
	dt_log_info("privileges: %d thread%s, each with CAP_BPF and CAP_NET_ADMIN only, "
		    "no_new_privs%s%s",
		    n + 1, n ? "s" : "", plan.set_user ? ", user " : "",
		    plan.set_user ? cfg->user : "");
	return 0;
}

int detourd_load_keys(const struct dt_config *cfg, struct hb_keyring **out)
{
	bool other = cfg->user[0] && cfg->user_uid != 0;
	int err = hb_keyring__load_group(cfg->key_file, other ? (long)cfg->user_gid : -1, out);

	if (err && other)
		dt_log_err(
			"key file %s: %s; detourd runs as user %s, which must be able to read it "
			"(docs/config.md, \"Privileges\")",
			cfg->key_file, strerror(-err), cfg->user);
	else if (err)
		dt_log_err("key file %s: %s", cfg->key_file, strerror(-err));
	return err;
}
