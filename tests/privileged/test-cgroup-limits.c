/* SPDX-License-Identifier: MIT */
/*
 * cgroup limits on the real kernel, as root: values written and read back,
 * a fork bomb held by pids.max, an OOM kill counted, and a missing
 * controller named (fatal unless allowed).  On a pure v2 host (tests/vm/
 * boots one) the size table's values, the whole group OOM-killed, and the
 * CPU a busy loop gets under its quota.  Helpers in cgtest.c.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "cgtest.h"
#include "cleanup.h"
#include "size.h"
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
	struct cgroup_limits lim = {
		.memory_bytes = 64u << 20, .cpu_quota_us = 50000, .pids_max = 64};
	int status;
	uint64_t ooms = 99;
	pid_t pid;

	setup();
	layout(&l, CGROUP_MODE_NONE);
	ck_assert_int_ne(l.mode, CGROUP_MODE_V2); /* pure v2: test_limits_v2 */
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

/* "key value" from a cgroup file such as cpu.stat (whole file). */
static uint64_t stat_value(const char *dir, const char *file, const char *key)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
	_cleanup_free_ char *text = slurp_whole(p, true);
	size_t n = strlen(key);

	ck_assert_msg(text, "cannot read %s", p);
	for (const char *l = text; *l; l += strcspn(l, "\n"), l += *l == '\n')
		if (strncmp(l, key, n) == 0 && l[n] == ' ')
			return strtoull(l + n + 1, NULL, 10);
	ck_abort_msg("%s: no '%s'", p, key);
	return 0;
}

/* Pure v2 with the controllers delegated (tests/vm/): size S of the table. */
START_TEST(test_limits_v2)
{
	_cleanup_free_ char *name = tname("v2lim");
	struct size_limits s = size_lookup(SIZE_S, PROFILE_HIGH_CPU);
	struct cgroup_layout l;
	struct cgroup cg;
	struct cgroup_limits lim = {.memory_bytes = s.memory_mib << 20,
				    .cpu_quota_us = (uint64_t)s.cpu_milli * 100,
				    .pids_max = 64};
	uint64_t ooms = 99, u0, u1;
	int64_t t0, t1;
	int status;
	pid_t pid, other;

	setup();
	layout(&l, CGROUP_MODE_NONE);
	ck_assert_int_eq(l.mode, CGROUP_MODE_V2);
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	if (cg.ctl_usable != CG_CTL_ALL) {
		/* berth shares its cgroup (Check's forking runner does): named, fatal
		 * in the VM and under BERTH_STRICT=1, said otherwise. */
		const char *strict = getenv("BERTH_STRICT");

		ck_assert_msg(!getenv("BERTH_VM"), "controllers not enabled (%#x)", cg.ctl_usable);
		ck_assert_msg(!strict || strcmp(strict, "1") != 0,
			      "controllers not enabled (%#x): BERTH_STRICT=1 forbids skipping",
			      cg.ctl_usable);
		fprintf(stderr, "test_limits_v2: SKIPPED: controllers not enabled (%#x)\n",
			cg.ctl_usable);
		ck_assert_int_eq(cgroup_apply_limits(&cg, &lim), -ENOENT);
		ck_assert_int_eq(cgroup_destroy(&cg), 0);
		cgroup_release(&cg);
		cgroup_layout_free(&l);
		return;
	}
	ck_assert_uint_eq(s.memory_mib, 128);
	ck_assert_uint_eq(s.cpu_milli, 400);
	ck_assert_int_eq(cgroup_apply_limits(&cg, &lim), 0);
	_cleanup_free_ char *mem = slurp_at(cg.v2_path, "memory.max");
	_cleanup_free_ char *swap = slurp_at(cg.v2_path, "memory.swap.max");
	_cleanup_free_ char *group = slurp_at(cg.v2_path, "memory.oom.group");
	_cleanup_free_ char *cpu = slurp_at(cg.v2_path, "cpu.max");
	_cleanup_free_ char *pm = slurp_at(cg.v2_path, "pids.max");
	ck_assert_str_eq(mem, "134217728");
	if (swap) /* only with swap accounting */
		ck_assert_str_eq(swap, "0");
	ck_assert_str_eq(group, "1");
	ck_assert_str_eq(cpu, "40000 100000");
	ck_assert_str_eq(pm, "64");
	ck_assert_int_eq(cgroup_oom_kills(&cg, &ooms), 0);
	ck_assert_uint_eq(ooms, 0);

	/* Two busy processes get 0.4 CPU between them (cpu.stat, +-25%). */
	spawn(&cg, B_SPIN);
	ck_assert(wait_pids(&cg, 2, 5000));
	msleep(200);
	u0 = stat_value(cg.v2_path, "cpu.stat", "usage_usec");
	t0 = now_ms();
	msleep(2000);
	u1 = stat_value(cg.v2_path, "cpu.stat", "usage_usec");
	t1 = now_ms();
	double used = (double)(u1 - u0) / 1000.0 / (double)(t1 - t0);
	ck_assert_msg(used >= 0.3 && used <= 0.5, "busy loop used %.3f CPU under a 0.4 quota",
		      used);
	ck_assert_uint_gt(stat_value(cg.v2_path, "cpu.stat", "nr_throttled"), 0);
	ck_assert_int_eq(cgroup_kill_all(&cg, &(size_t){0}), 0);
	ck_assert(reap_until_empty(&cg, 5000));

	/* A fork bomb stops at pids.max, and pids.events counts it. */
	lim = (struct cgroup_limits){.pids_max = 16};
	ck_assert_int_eq(cgroup_apply_limits(&cg, &lim), 0);
	pid = spawn(&cg, B_FORKS);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_lt(WEXITSTATUS(status), 16);
	ck_assert_int_ge(WEXITSTATUS(status), 1);
	ck_assert_uint_ge(stat_value(cg.v2_path, "pids.events", "max"), 1);
	ck_assert_int_eq(cgroup_kill_all(&cg, &(size_t){0}), 0);
	ck_assert(reap_until_empty(&cg, 5000));

	/* A memory hog is OOM-killed, and with memory.oom.group its sibling
	 * too; memory.events counts the kills. */
	other = spawn(&cg, B_PAUSE);
	pid = spawn(&cg, B_MEMHOG);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "hog: status %#x",
		      status);
	ck_assert_int_eq(waitpid(other, &status, 0), other);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "sibling: status %#x",
		      status);
	ck_assert_int_eq(cgroup_oom_kills(&cg, &ooms), 0);
	ck_assert_uint_ge(ooms, 2);
	_cleanup_free_ char *events = xasprintf("%s/memory.events", cg.v2_path);
	_cleanup_free_ char *ev = slurp_whole(events, true);
	if (ev && strstr(ev, "oom_group_kill ")) /* Linux 5.17 */
		ck_assert_uint_ge(stat_value(cg.v2_path, "memory.events", "oom_group_kill"), 1);
	ck_assert(reap_until_empty(&cg, 5000));
	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	cgroup_release(&cg);
	cgroup_layout_free(&l);
}
END_TEST

/* cgroup_open_pid(): another process's cgroup, as berth hook opens a
 * container's, takes limits that land where that process is. */
START_TEST(test_open_pid)
{
	_cleanup_free_ char *name = tname("open");
	struct cgroup_layout l;
	struct cgroup cg, other;
	struct cgroup_limits lim = {.memory_bytes = 96u << 20, .pids_max = 48};
	_cleanup_free_ char *m = NULL, *pm = NULL;
	pid_t pid;

	setup();
	layout(&l, CGROUP_MODE_NONE);
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	pid = spawn(&cg, B_PAUSE);
	ck_assert_int_eq(cgroup_open_pid(pid, &other), 0);
	ck_assert_int_eq(cgroup_apply_limits(&other, &lim), 0);
	if (l.mode == CGROUP_MODE_V2) {
		ck_assert_str_eq(other.v2_path, cg.v2_path);
		m = slurp_at(cg.v2_path, "memory.max");
		pm = slurp_at(cg.v2_path, "pids.max");
	} else {
		ck_assert_int_eq(other.v2_fd, -1); /* never the cgroup2 of a hybrid host */
		ck_assert_str_eq(other.v1_path[CG_V1_MEMORY], cg.v1_path[CG_V1_MEMORY]);
		ck_assert_str_eq(other.v1_path[CG_V1_PIDS], cg.v1_path[CG_V1_PIDS]);
		m = slurp_at(cg.v1_path[CG_V1_MEMORY], "memory.limit_in_bytes");
		pm = slurp_at(cg.v1_path[CG_V1_PIDS], "pids.max");
	}
	ck_assert_str_eq(m, "100663296");
	ck_assert_str_eq(pm, "48");
	cgroup_release(&other);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert(reap_until_empty(&cg, 5000));
	/* Gone: an error, and nothing left open. */
	ck_assert_int_lt(cgroup_open_pid(pid, &other), 0);
	ck_assert_int_eq(other.v2_fd, -1);
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
	if (l.mode != CGROUP_MODE_V2)
		tcase_add_test(tc, test_limits);
	if (l.unified_mnt)
		tcase_add_test(tc, test_limits_missing);
	if (l.mode == CGROUP_MODE_V2)
		tcase_add_test(tc, test_limits_v2);
	tcase_add_test(tc, test_open_pid);
	suite_add_tcase(s, tc);
	cgroup_layout_free(&l);
	return cgtest_main(s);
}
