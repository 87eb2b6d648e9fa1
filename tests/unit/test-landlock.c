/* SPDX-License-Identifier: MIT */
/*
 * The worker's Landlock domain (unprivileged: no_new_privs is enough):
 * what it holds per ABI; under it an explicit TCP bind() fails with EACCES
 * (not when TCP bind is allowed), a UDP bind and an outbound TCP
 * connection still work, a FIFO can be made but not a character device,
 * and on ABI >= 6 neither a signal nor an abstract UNIX socket connection
 * reaches a process outside the domain.  Skipped (failed with
 * BERTH_STRICT=1) on kernels without Landlock.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
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

START_TEST(test_plan_per_abi)
{
	struct landlock_plan p;
	const uint64_t fs = LANDLOCK_FS_MAKE_CHAR | LANDLOCK_FS_MAKE_BLOCK;

	landlock_plan_for(-EOPNOTSUPP, false, &p);
	ck_assert(p.fs == 0 && p.net == 0 && p.scoped == 0 && p.fd == -1);
	landlock_plan_for(2, false, &p);
	ck_assert(p.fs == fs && p.net == 0 && p.scoped == 0);
	landlock_plan_for(4, false, &p);
	ck_assert(p.fs == fs && p.net == LANDLOCK_NET_BIND_TCP && p.scoped == 0);
	landlock_plan_for(5, true, &p);
	ck_assert(p.fs == fs && p.net == 0 && p.scoped == 0);
	landlock_plan_for(6, false, &p);
	ck_assert(p.net == LANDLOCK_NET_BIND_TCP &&
		  p.scoped == (LANDLOCK_SCOPE_ABSTRACT_UNIX | LANDLOCK_SCOPE_SIG));
	landlock_plan_for(7, true, &p);
	ck_assert(p.fs == fs && p.net == 0 &&
		  p.scoped == (LANDLOCK_SCOPE_ABSTRACT_UNIX | LANDLOCK_SCOPE_SIG));
}
END_TEST

/* In a restricted child: its checks, as an exit code (0: all held). */
static int restricted_checks(const struct landlock_plan *p, bool allow_bind,
			     const struct sockaddr_in *srv, const struct sockaddr_un *abs,
			     socklen_t abs_len, const char *dir)
{
	bool scoped = p->abi >= LANDLOCK_SCOPE_MIN_ABI;
	char path[256];
	int c;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || landlock_step((void *)p) < 0)
		return 10;
	if (bind_lo(SOCK_STREAM) != (allow_bind || p->abi < LANDLOCK_NET_MIN_ABI ? 0 : -EACCES))
		return 11;
	if (bind_lo(SOCK_DGRAM) != 0)
		return 12;
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connect(c, (const struct sockaddr *)srv, sizeof(*srv)) < 0)
		return 13;
	snprintf(path, sizeof(path), "%s/fifo", dir);
	if (mknod(path, S_IFIFO | 0600, 0) < 0)
		return 14;
	snprintf(path, sizeof(path), "%s/null", dir);
	if (mknod(path, S_IFCHR | 0600, makedev(1, 3)) == 0 || errno != EACCES)
		return 15;
	if ((kill(getppid(), 0) < 0) != scoped || (scoped && errno != EPERM))
		return 16;
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if ((connect(c, (const struct sockaddr *)abs, abs_len) < 0) != scoped ||
	    (scoped && errno != EPERM))
		return 17;
	return 0;
}

static void check_domain(bool allow_bind)
{
	struct landlock_plan p;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_un u = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(a), ulen;
	char dir[] = "/tmp/test-landlock.XXXXXX", path[256];
	int srv, usrv, status;
	pid_t pid;

	ck_assert_int_eq(landlock_prepare(&p, allow_bind), 0);
	ck_assert_int_ge(p.fd, 0);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* servers made before the restriction: outbound TCP, abstract UNIX */
	srv = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(srv, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(srv, 1), 0);
	ck_assert_int_eq(getsockname(srv, (struct sockaddr *)&a, &len), 0);
	ulen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			   snprintf(u.sun_path + 1, sizeof(u.sun_path) - 1, "berth-test-%d",
				    (int)getpid()));
	usrv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(usrv, (struct sockaddr *)&u, ulen), 0);
	ck_assert_int_eq(listen(usrv, 1), 0);
	pid = fork();
	if (pid == 0)
		_exit(restricted_checks(&p, allow_bind, &a, &u, ulen, dir));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/null", dir);
	unlink(path);
	rmdir(dir);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	/* the parent is not restricted */
	ck_assert_int_eq(bind_lo(SOCK_STREAM), 0);
	close(srv);
	close(usrv);
	landlock_release(&p);
	landlock_release(&p);
}

START_TEST(test_domain)
{
	check_domain(false);
}
END_TEST

START_TEST(test_domain_tcp_bind_allowed)
{
	check_domain(true);
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

	tcase_add_test(tc, test_plan_per_abi);
	if (abi >= 1) {
		tcase_add_test(tc, test_domain);
		tcase_add_test(tc, test_domain_tcp_bind_allowed);
	}
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (abi < 1) {
		fprintf(stderr, "test-landlock: no Landlock here (%d)%s\n", abi,
			strict ? " (BERTH_STRICT=1: failing)" : "; the kernel checks skipped");
		return failed || strict ? EXIT_FAILURE : 77;
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
