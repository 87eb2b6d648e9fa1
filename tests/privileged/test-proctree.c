/* SPDX-License-Identifier: MIT */
/*
 * proctree on the real kernel's /proc: a process's descendants, and the
 * same without the helpers to leave out (berth's slirp4netns under
 * --no-cgroup) and without what they started.  Needs no root.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "proctree.h"

static bool has(const pid_t *pids, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* A child that waits for SIGKILL; with grandchild, one of its own too
 * (its pid in *grandchild). */
static pid_t sleeper(pid_t *grandchild)
{
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pid_t g = 0;
		close(p[0]);
		if (grandchild) {
			g = fork();
			if (g == 0)
				for (;;)
					pause();
		}
		if (write(p[1], &g, sizeof(g)) != (ssize_t)sizeof(g))
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	pid_t g = 0;
	ck_assert_int_eq(read(p[0], &g, sizeof(g)), (ssize_t)sizeof(g));
	close(p[0]);
	if (grandchild)
		*grandchild = g;
	return pid;
}

START_TEST(test_descendants_except)
{
	_cleanup_free_ pid_t *all = NULL, *some = NULL;
	pid_t helper_child, helper = sleeper(&helper_child), worker = sleeper(NULL);
	size_t n, m;

	ck_assert_int_gt(helper_child, 0);
	ck_assert_int_eq(proctree_descendants(getpid(), &all, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert(has(all, n, helper) && has(all, n, helper_child) && has(all, n, worker));
	ck_assert_int_eq(
		proctree_descendants_except(getpid(), (const pid_t[]){helper}, 1, &some, &m), 0);
	ck_assert_uint_eq(m, 1);
	ck_assert_int_eq(some[0], worker);
	kill(helper_child, SIGKILL);
	kill(helper, SIGKILL);
	kill(worker, SIGKILL);
	waitpid(helper, NULL, 0);
	waitpid(worker, NULL, 0);
}
END_TEST

START_TEST(test_nothing_left_out)
{
	_cleanup_free_ pid_t *pids = NULL;
	pid_t worker = sleeper(NULL);
	size_t n;

	/* a helper that is not in the tree changes nothing */
	ck_assert_int_eq(proctree_descendants_except(getpid(), (const pid_t[]){1}, 1, &pids, &n),
			 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(pids[0], worker);
	kill(worker, SIGKILL);
	waitpid(worker, NULL, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proctree");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_descendants_except);
	tcase_add_test(tc, test_nothing_left_out);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
