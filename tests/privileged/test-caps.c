/* SPDX-License-Identifier: MIT */
/*
 * The privilege drop on the real kernel, as root: a forked child drops to
 * the worker's user, loads the syscall filter and execs cat
 * /proc/self/status; the ids, groups, every capability set, NoNewPrivs and
 * Seccomp are checked.  Then rule 15: a worker cannot ptrace berth (made
 * non-dumpable) nor open its /proc files; and verification fails closed.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "filter.h"
#include "util.h"

/* The value of "Key:" in a /proc/self/status text, whitespace squeezed. */
static char *status_field(const char *st, const char *key)
{
	_cleanup_free_ char *k = xasprintf("\n%s:", key);
	const char *p = strstr(st, k), *e;
	struct strbuf sb = {0};

	if (!p)
		return xstrdup("(missing)");
	p += strlen(k);
	p += strspn(p, " \t");
	e = strchr(p, '\n');
	if (!e)
		e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (; p < e; p++)
		if (*p == '\t' || *p == ' ')
			strbuf_putc(&sb, ' ');
		else
			strbuf_putc(&sb, *p);
	return sb.buf ? strbuf_detach(&sb) : xstrdup("");
}

/* Drop to spec (and filter), exec cat /proc/self/status; its output. */
static char *dropped_status(const char *spec, bool filter)
{
	struct caps_user u;
	struct caps_plan plan;
	struct filter_opts fo = {.off = !filter};
	struct filter_prog prog;
	struct strbuf sb = {0};
	const char *msg;
	char buf[4096];
	int p[2], status;
	ssize_t n;
	pid_t pid;

	ck_assert_msg(caps_user_parse(spec, &u, &msg) == 0, "%s: %s", spec, msg);
	ck_assert_int_eq(caps_plan_init(&u, &plan), 0);
	ck_assert_int_eq(filter_compile(&fo, &prog), 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int r;
		dup2(p[1], STDOUT_FILENO);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			_exit(99);
		r = caps_drop(&plan);
		if (r < 0) {
			fprintf(stderr, "caps_drop: %s\n", strerror(-r));
			_exit(100);
		}
		if (prctl(PR_GET_PDEATHSIG, &r) < 0 || r != SIGKILL)
			_exit(101);
		if (filter_apply(&prog) < 0)
			_exit(102);
		execl("/bin/cat", "cat", "/proc/self/status", (char *)NULL);
		_exit(103);
	}
	close(p[1]);
	strbuf_putc(&sb, '\n');
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	filter_prog_free(&prog);
	caps_plan_free(&plan);
	caps_user_free(&u);
	return strbuf_detach(&sb);
}

static void expect(const char *st, const char *key, const char *want)
{
	_cleanup_free_ char *v = status_field(st, key);
	ck_assert_msg(strcmp(v, want) == 0, "%s: '%s', want '%s'", key, v, want);
}

static void expect_no_caps(const char *st)
{
	static const char *const sets[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		expect(st, sets[i], "0000000000000000");
	expect(st, "NoNewPrivs", "1");
}

START_TEST(test_drop_nobody)
{
	_cleanup_free_ char *st = dropped_status("65534", true);

	expect(st, "Uid", "65534 65534 65534 65534");
	expect(st, "Gid", "65534 65534 65534 65534");
	expect(st, "Groups", "65534");
	expect_no_caps(st);
	expect(st, "Seccomp", "2");
}
END_TEST

START_TEST(test_drop_uid_gid)
{
	_cleanup_free_ char *st = dropped_status("1:2", false);

	expect(st, "Uid", "1 1 1 1");
	expect(st, "Gid", "2 2 2 2");
	expect(st, "Groups", "2");
	expect_no_caps(st);
	expect(st, "Seccomp", "0");
}
END_TEST

START_TEST(test_drop_groups)
{
	/* nobody with an extra group (explicit gid = that group only, so use
	 * a numeric user whose passwd entry has supplementary groups: none
	 * here; check that setgroups ran at all: root's groups are gone) */
	_cleanup_free_ char *st = dropped_status("4242:100", true);

	expect(st, "Uid", "4242 4242 4242 4242");
	expect(st, "Gid", "100 100 100 100");
	expect(st, "Groups", "100");
	expect_no_caps(st);
}
END_TEST

START_TEST(test_drop_root_explicit)
{
	_cleanup_free_ char *st = dropped_status("0", true);

	expect(st, "Uid", "0 0 0 0");
	expect(st, "Gid", "0 0 0 0");
	expect_no_caps(st);
	expect(st, "Seccomp", "2");
}
END_TEST

/* Verification fails closed: a child that is not what the plan says. */
START_TEST(test_verify_fails_closed)
{
	struct caps_user u, other;
	struct caps_plan plan, wrong;
	const char *msg;
	int status;
	pid_t pid;

	ck_assert_int_eq(caps_user_parse("65534", &u, &msg), 0);
	ck_assert_int_eq(caps_user_parse("1", &other, &msg), 0);
	ck_assert_int_eq(caps_plan_init(&u, &plan), 0);
	ck_assert_int_eq(caps_plan_init(&other, &wrong), 0);
	/* still root: nothing verifies */
	ck_assert_int_eq(caps_verify(&plan), -EPERM);
	pid = fork();
	if (pid == 0) {
		if (caps_drop(&plan) < 0)
			_exit(1);
		if (caps_verify(&plan) != 0)
			_exit(2);
		_exit(caps_verify(&wrong) == -EPERM ? 0 : 3);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	caps_plan_free(&plan);
	caps_plan_free(&wrong);
	caps_user_free(&u);
	caps_user_free(&other);
}
END_TEST

/* What a worker as spec can do to pid: a bit per success. */
static int poke(pid_t target, const char *spec)
{
	struct caps_user u;
	struct caps_plan plan;
	const char *msg;
	int status;
	pid_t pid;

	ck_assert_int_eq(caps_user_parse(spec, &u, &msg), 0);
	ck_assert_int_eq(caps_plan_init(&u, &plan), 0);
	pid = fork();
	if (pid == 0) {
		static const char *const files[] = {"environ", "mem", "maps", "fd/0", "cwd/."};
		char path[64], link[256];
		int bits = 0, fd;

		if (caps_drop(&plan) < 0)
			_exit(255);
		if (ptrace(PTRACE_ATTACH, target, NULL, NULL) == 0)
			bits |= 1;
		if (ptrace(PTRACE_SEIZE, target, NULL, NULL) == 0)
			bits |= 1;
		for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
			snprintf(path, sizeof(path), "/proc/%d/%s", (int)target, files[i]);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				bits |= 2 << i;
				close(fd);
			}
		}
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)target);
		if (readlink(path, link, sizeof(link)) >= 0)
			bits |= 0x80;
		_exit(bits);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	caps_plan_free(&plan);
	caps_user_free(&u);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(test_berth_not_inspectable)
{
	int go[2], ready[2], status;
	pid_t berth;
	char c;

	/* a stand-in for berth: non-dumpable, still root */
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	berth = fork();
	if (berth == 0) {
		close(go[1]);
		close(ready[0]);
		if (caps_set_undumpable() < 0 || prctl(PR_GET_DUMPABLE) != 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	ck_assert_int_eq(poke(berth, "65534"), 0);
	/* uid 0 without capabilities (berth's capabilities are not a subset
	 * of its own, and berth is not dumpable) */
	ck_assert_int_eq(poke(berth, "0"), 0);
	ck_assert_int_eq(write(go[1], "x", 1), 1);
	close(go[1]);
	ck_assert_int_eq(waitpid(berth, &status, 0), berth);
	ck_assert_int_eq(status, 0);
}
END_TEST

/* A system without web or nobody (an initramfs): uid and gid 65534. */
START_TEST(test_default_without_nobody)
{
	char passwd[] = "/tmp/berth-test-passwd.XXXXXX", nss[] = "/tmp/berth-test-nss.XXXXXX";
	int fd = mkstemp(passwd), status;
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(write(fd, "root:x:0:0:root:/root:/bin/sh\n", 30), 0);
	close(fd);
	/* files only: nss-systemd would make up a nobody */
	fd = mkstemp(nss);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(write(fd, "passwd: files\ngroup: files\n", 27), 0);
	close(fd);
	pid = fork();
	if (pid == 0) {
		struct caps_user u;
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount(passwd, "/etc/passwd", NULL, MS_BIND, NULL) < 0 ||
		    mount(nss, "/etc/nsswitch.conf", NULL, MS_BIND, NULL) < 0)
			_exit(1);
		if (caps_user_default(&u) < 0)
			_exit(2);
		_exit(u.uid == 65534 && u.gid == 65534 && !u.name && !u.root && u.n_groups == 1
			      ? 0
			      : 3);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	unlink(passwd);
	unlink(nss);
	ck_assert_int_eq(status, 0);
}
END_TEST

int main(void)
{
	bool strict = getenv("BERTH_STRICT") && strcmp(getenv("BERTH_STRICT"), "1") == 0;
	Suite *s = suite_create("caps-privileged");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr, "test-caps: needs root%s\n",
			strict ? " (BERTH_STRICT=1: failing)" : "; skipped");
		return strict ? EXIT_FAILURE : 77;
	}
	tcase_add_test(tc, test_drop_nobody);
	tcase_add_test(tc, test_drop_uid_gid);
	tcase_add_test(tc, test_drop_groups);
	tcase_add_test(tc, test_drop_root_explicit);
	tcase_add_test(tc, test_verify_fails_closed);
	tcase_add_test(tc, test_berth_not_inspectable);
	tcase_add_test(tc, test_default_without_nobody);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
