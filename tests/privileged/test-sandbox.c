/* SPDX-License-Identifier: MIT */
/*
 * The worker's Landlock domain as sandbox_prepare() builds it, on the real
 * kernel, as root: a "worker" (a forked child that runs sb.steps: netns
 * none, user 65534, Landlock, filter) cannot open /proc/PID/environ or
 * /proc/PID/root of another process of the same uid outside its domain
 * (a dumpable uid 65534 "other worker"), nor signal it (ABI >= 6), with
 * the defaults, with --allow-local-listen and with --seccomp off; the
 * same child without the Landlock step can, which shows it is the domain
 * that stops it.  TCP bind: EACCES unless --allow-local-listen.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "landlock.h"
#include "sandbox.h"

#define NOBODY 65534

/* exit codes of the probe */
enum { P_OK, P_STEP = 10, P_ENVIRON, P_ROOT, P_KILL, P_BIND };

/* A dumpable uid 65534 process outside any domain, as another worker. */
static pid_t other_worker(void)
{
	int p[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0 || prctl(PR_SET_DUMPABLE, 1) < 0)
			_exit(1);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static int bind_tcp_lo(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return -errno;
	r = bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
	close(s);
	return r;
}

/* The probe's checks, as the worker would make them; its exit code. */
static int probe(pid_t other, bool domain, bool bind_denied, int abi)
{
	char path[64];
	int fd, want = domain ? -EACCES : 0;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)other);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if ((fd < 0 ? -errno : 0) != want)
		return P_ENVIRON;
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "/proc/%d/root/", (int)other);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if ((fd < 0 ? -errno : 0) != want)
		return P_ROOT;
	if (fd >= 0)
		close(fd);
	if (kill(other, 0) < 0 ? !(domain && abi >= LANDLOCK_SCOPE_MIN_ABI && errno == EPERM)
			       : domain && abi >= LANDLOCK_SCOPE_MIN_ABI)
		return P_KILL;
	if (bind_tcp_lo() != (bind_denied ? -EACCES : 0))
		return P_BIND;
	return P_OK;
}

/* Run sb's steps (all, or all but Landlock) in a child, then probe. */
static int run_probe(const struct sandbox *sb, pid_t other, bool domain, bool bind_denied)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (size_t i = 0; i < sb->n_steps; i++) {
			if (!domain && sb->steps[i].run == landlock_step)
				continue;
			if (sb->steps[i].run(sb->steps[i].data) < 0)
				_exit(P_STEP);
		}
		_exit(probe(other, domain, bind_denied, sb->landlock.abi));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "probe status %#x", status);
	return WEXITSTATUS(status);
}

static void check_mode(bool seccomp_off, bool allow_listen)
{
	struct sandbox_opts o = {
		.user = "65534:65534",
		.filter = {.off = seccomp_off, .allow_local_listen = allow_listen}};
	struct sandbox sb;
	const char *msg;
	pid_t other = other_worker();
	bool bind_denied = landlock_abi() >= LANDLOCK_NET_MIN_ABI && !allow_listen;

	ck_assert_int_eq(net_parse_mode("none", &o.net, &msg), 0);
	ck_assert_int_eq(sandbox_prepare(&o, false, NULL, 0, &sb), 0);
	ck_assert_int_eq(net_ready(&sb.net), 0);
	ck_assert_int_eq(net_verified(&sb.net), 0);
	ck_assert_int_ge(sb.landlock.fd, 0);
	ck_assert_int_eq(run_probe(&sb, other, true, bind_denied), P_OK);
	/* without the Landlock step the same reads succeed: the domain is the barrier */
	ck_assert_int_eq(run_probe(&sb, other, false, false), P_OK);
	sandbox_release(&sb);
	sandbox_opts_free(&o);
	kill(other, SIGKILL);
	ck_assert_int_eq(waitpid(other, NULL, 0), other);
}

START_TEST(test_default)
{
	check_mode(false, false);
}
END_TEST

START_TEST(test_allow_local_listen)
{
	check_mode(false, true);
}
END_TEST

START_TEST(test_seccomp_off)
{
	check_mode(true, false);
}
END_TEST

int main(void)
{
	bool strict = getenv("BERTH_STRICT") && strcmp(getenv("BERTH_STRICT"), "1") == 0;
	Suite *s = suite_create("sandbox-privileged");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (geteuid() != 0 || landlock_abi() < 1) {
		fprintf(stderr, "test-sandbox: needs root and Landlock (ABI %d)%s\n",
			landlock_abi(), strict ? " (BERTH_STRICT=1: failing)" : "; skipped");
		return strict ? EXIT_FAILURE : 77;
	}
	tcase_add_test(tc, test_default);
	tcase_add_test(tc, test_allow_local_listen);
	tcase_add_test(tc, test_seccomp_off);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
