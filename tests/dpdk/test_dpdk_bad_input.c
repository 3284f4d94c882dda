// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bad input to the engine: invalid EAL arguments, hugepages that are not there, a port that does
 * not exist, options that make no sense. Each case runs dt_dpdk__open() in a child process (the
 * EAL can be started once per process) and requires a negative errno and a message that names
 * what was wrong, never a crash or an exit from inside the library.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "dt_dpdk.h"

#define EAL_BASE "--no-pci", "--no-shconf", "--log-level=error"

struct bad_case {
	char *argv[16];
	const char *ports[2];
	unsigned int n_ports;
	const char *exception_port;
};

/* Run the case in a child; returns the child's -errno and leaves its stderr in @msg. */
static int open_in_child(const struct bad_case *c, char *msg, size_t msg_len)
{
	char path[] = "/tmp/dt-dpdk-bad-XXXXXX";
	int fd = mkstemp(path), status, argc = 0;
	ssize_t n;
	pid_t pid;

	assert_true(fd >= 0);
	unlink(path);
	while (c->argv[argc])
		argc++;
	pid = fork();
	if (pid == 0) {
		struct dt_dpdk_opts o = { .eal_argc = argc,
					  .eal_argv = (char **)c->argv,
					  .n_ports = c->n_ports,
					  .exception_port = c->exception_port };
		struct dt_dpdk *e;
		int err;

		memcpy(o.ports, c->ports, sizeof(c->ports));
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO); /* the EAL prints its usage there */
		err = dt_dpdk__open(&o, &e);
		if (!err)
			dt_dpdk__close(e);
		_exit(err < 0 && err > -256 ? -err : err ? 255 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status)); /* no crash, no abort */
	n = pread(fd, msg, msg_len - 1, 0);
	msg[n > 0 ? n : 0] = '\0';
	close(fd);
	return -WEXITSTATUS(status);
}

static void expect(const struct bad_case *c, int err, const char *words)
{
	char msg[8192];

	assert_int_equal(open_in_child(c, msg, sizeof(msg)), err);
	if (words && !strstr(msg, words))
		fail_msg("expected \"%s\" in:\n%s", words, msg);
}

static void test_invalid_eal_arguments(void **state)
{
	struct bad_case c = { { "t", "--no-huge", "--no-such-eal-option", EAL_BASE, NULL },
			      { "net_ring0" },
			      1,
			      "net_ring1" };

	expect(&c, -EINVAL, "EAL: initialisation failed");
}

static void test_no_hugepages(void **state)
{
	struct bad_case c = { { "t", "--huge-dir=/nonexistent/dt-hugepages", "-m", "64",
				"--file-prefix=dt-bad-huge", EAL_BASE, NULL },
			      { "net_ring0" },
			      1,
			      "net_ring1" };
	char msg[8192];
	int err = open_in_child(&c, msg, sizeof(msg));

	assert_true(err < 0);
	assert_non_null(strstr(msg, "EAL: initialisation failed"));
}

static void test_port_that_does_not_exist(void **state)
{
	struct bad_case c = { { "t", "--no-huge", "-m", "512", "--file-prefix=dt-bad-port",
				"--vdev=net_ring0", "--vdev=net_ring1", EAL_BASE, NULL },
			      { "net_ring7" },
			      1,
			      "net_ring1" };

	expect(&c, -ENODEV, "port net_ring7: no such DPDK port");
	c.ports[0] = "net_ring0";
	c.exception_port = "net_tap_missing";
	expect(&c, -ENODEV, "port net_tap_missing: no such DPDK port");
	c.exception_port = "net_ring1"; /* and the same EAL with real ports opens */
	expect(&c, 0, NULL);
}

static void test_options_that_make_no_sense(void **state)
{
	struct bad_case c = { { "t", "--no-huge", "-m", "512", "--file-prefix=dt-bad-opts",
				"--vdev=net_ring0", EAL_BASE, NULL },
			      { "net_ring0", "net_ring0" },
			      2,
			      "net_ring1" };

	expect(&c, -EINVAL, "listed twice");
	c.n_ports = 1;
	c.exception_port = "net_ring0";
	expect(&c, -EINVAL, "listed twice");
	c.exception_port = NULL;
	expect(&c, -EINVAL, "an exception port");
	c.exception_port = "net_ring1";
	c.n_ports = 0;
	expect(&c, -EINVAL, "ports");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_eal_arguments),
		cmocka_unit_test(test_no_hugepages),
		cmocka_unit_test(test_port_that_does_not_exist),
		cmocka_unit_test(test_options_that_make_no_sense),
	};

	return cmocka_run_group_tests_name("dpdk_bad_input", tests, NULL, NULL);
}
