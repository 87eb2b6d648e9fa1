/* SPDX-License-Identifier: MIT */
/*
 * Landlock "no TCP bind" (unprivileged: no_new_privs is enough): under the
 * ruleset an explicit TCP bind() fails with EACCES, a UDP bind and an
 * outbound TCP connection still work.  Skipped (failed with BERTH_STRICT=1)
 * on kernels without Landlock ABI 4.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "landlock.h"

static int bind_lo(int type)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s = socket(AF_INET, type | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return -errno;
	r = bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
	close(s);
	return r;
}

START_TEST(test_no_tcp_bind)
{
	struct landlock_plan p;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int srv, status;
	pid_t pid;

	ck_assert_int_eq(landlock_prepare(&p), 0);
	ck_assert_int_ge(p.fd, 0);
	/* a server made before the restriction, for the outbound check */
	srv = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(srv, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(srv, 1), 0);
	ck_assert_int_eq(getsockname(srv, (struct sockaddr *)&a, &len), 0);
	pid = fork();
	if (pid == 0) {
		int c;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || landlock_step(&p) < 0)
			_exit(10);
		if (bind_lo(SOCK_STREAM) != -EACCES)
			_exit(11);
		if (bind_lo(SOCK_DGRAM) != 0)
			_exit(12);
		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
			_exit(13);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	/* the parent is not restricted */
	ck_assert_int_eq(bind_lo(SOCK_STREAM), 0);
	close(srv);
	landlock_release(&p);
	landlock_release(&p);
}
END_TEST

int main(void)
{
	bool strict = getenv("BERTH_STRICT") && strcmp(getenv("BERTH_STRICT"), "1") == 0;
	int abi = landlock_abi();
	Suite *s = suite_create("landlock");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (abi < LANDLOCK_NET_MIN_ABI) {
		fprintf(stderr, "test-landlock: Landlock ABI %d < %d here%s\n", abi,
			LANDLOCK_NET_MIN_ABI, strict ? " (BERTH_STRICT=1: failing)" : "; skipped");
		return strict ? EXIT_FAILURE : 77;
	}
	tcase_add_test(tc, test_no_tcp_bind);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
