/* SPDX-License-Identifier: MIT */
/*
 * cgroup limits on the real kernel, as root: values written and read back,
 * a fork bomb held by pids.max, an OOM kill counted, and a missing
 * controller named (fatal unless allowed).  Helpers in cgtest.c.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "cgtest.h"
#include "cleanup.h"
#include "util.h"

static bool has_ctl(const struct cgroup *cg, enum cgroup_v1_ctl i)
{
	return cg->mode == CGROUP_MODE_V2 ? false : cg->v1_fd[i] >= 0;
}

START_TEST(test_limits)
{
	_cleanup_free_ char *name = tname("lim");
	struct cgroup_layout l;
	struct cgroup cg;
	struct cgroup_limits lim = {.memory_bytes = 64u << 20,
				    .cpu_quota_us = 50000,
				    .pids_max = 64};
	int status;
	uint64_t ooms = 99;
	pid_t pid;

	setup();
	layout(&l, CGROUP_MODE_NONE);
	if (l.mode == CGROUP_MODE_V2)
		return; /* the v1 files are checked below; v2 hosts: see test_limits_v2 */
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	ck_assert(has_ctl(&cg, CG_V1_MEMORY) && has_ctl(&cg, CG_V1_PIDS));
	ck_assert_int_eq(cgroup_apply_limits(&cg, &lim), 0);
	const char *mem = cg.v1_path[CG_V1_MEMORY];
	_cleanup_free_ char *m = slurp_at(mem, "memory.limit_in_bytes");
	_cleanup_free_ char *sw = slurp_at(mem, "memory.memsw.limit_in_bytes");
	_cleanup_free_ char *q = slurp_at(cg.v1_path[CG_V1_CPU], "cpu.cfs_quota_us");
	_cleanup_free_ char *per = slurp_at(cg.v1_path[CG_V1_CPU], "cpu.cfs_period_us");
	_cleanup_free_ char *pm = slurp_at(cg.v1_path[CG_V1_PIDS], "pids.max");
	ck_assert_str_eq(m, "67108864");
	if (sw)
		ck_assert_str_eq(sw, "67108864");
	ck_assert_str_eq(q, "50000");
	ck_assert_str_eq(per, "100000");
	ck_assert_str_eq(pm, "64");
	ck_assert_int_eq(cgroup_oom_kills(&cg, &ooms), 0);
	ck_assert_uint_eq(ooms, 0);

	/* A fork bomb stays inside the box. */
	lim = (struct cgroup_limits){.pids_max = 16};
	ck_assert_int_eq(cgroup_apply_limits(&cg, &lim), 0);
	pid = spawn(&cg, B_FORKS);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_lt(WEXITSTATUS(status), 16);
	ck_assert_int_ge(WEXITSTATUS(status), 1);
	size_t killed;
	ck_assert_int_eq(cgroup_kill_all(&cg, &killed), 0);
	ck_assert(reap_until_empty(&cg, 5000));

	/* Beyond the memory limit: OOM-killed, and counted. */
	pid = spawn(&cg, B_MEMHOG);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
	ck_assert_int_eq(cgroup_oom_kills(&cg, &ooms), 0);
	ck_assert_uint_ge(ooms, 1);
	ck_assert(reap_until_empty(&cg, 5000));
	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	cgroup_release(&cg);
	cgroup_layout_free(&l);
}
END_TEST

/* The v2 path here has no controllers: named, fatal unless allowed. */
START_TEST(test_limits_missing)
{
	_cleanup_free_ char *name = tname("nolim");
	struct cgroup_layout l;
	struct cgroup cg;
	struct cgroup_limits lim = {.memory_bytes = 64u << 20, .pids_max = 64};
	uint64_t ooms;

	setup();
	layout(&l, CGROUP_MODE_V2);
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	if (cg.ctl_usable == CG_CTL_ALL) { /* a real v2 host with delegation */
		ck_assert_int_eq(cgroup_apply_limits(&cg, &lim), 0);
		_cleanup_free_ char *m = slurp_at(cg.v2_path, "memory.max");
		ck_assert_str_eq(m, "67108864");
	} else {
		ck_assert_int_eq(cgroup_apply_limits(&cg, &lim), -ENOENT);
		lim.allow_missing = true;
		ck_assert_int_eq(cgroup_apply_limits(&cg, &lim), 0);
		ck_assert_int_eq(cgroup_oom_kills(&cg, &ooms), -ENOENT);
	}
	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	cgroup_release(&cg);
	cgroup_layout_free(&l);
}
END_TEST

int main(void)
{
	struct cgroup_layout l = {0};
	Suite *s = suite_create("cgroup-limits");
	TCase *tc = tcase_create("limits");

	cgroup_detect(&l);
	tcase_add_test(tc, test_limits);
	if (l.unified_mnt)
		tcase_add_test(tc, test_limits_missing);
	suite_add_tcase(s, tc);
	cgroup_layout_free(&l);
	return cgtest_main(s);
}
