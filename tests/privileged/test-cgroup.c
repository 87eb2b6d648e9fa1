/* SPDX-License-Identifier: MIT */
/*
 * The cgroup module on the real kernel, as root: creation and removal in
 * every hierarchy, placement (handshake and clone3 CLONE_INTO_CGROUP),
 * emptiness and its POLLPRI, signalling and killing whole process trees,
 * on the host's layout and on the v2 and v1 paths forced.  Limits are in
 * test-cgroup-limits.c, helpers in cgtest.c.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgtest.h"
#include "cleanup.h"
#include "util.h"

START_TEST(test_detect)
{
	struct cgroup_layout l;

	layout(&l, CGROUP_MODE_NONE);
	ck_assert_int_ne(l.mode, CGROUP_MODE_NONE);
	if (l.mode == CGROUP_MODE_HYBRID) { /* this VM */
		ck_assert_str_eq(l.unified_mnt, "/sys/fs/cgroup/unified");
		for (int i = 0; i < CG_V1_COUNT; i++)
			ck_assert_ptr_nonnull(l.v1_mnt[i]);
	}
	cgroup_layout_free(&l);
}
END_TEST

START_TEST(test_create_destroy)
{
	_cleanup_free_ char *name = tname("cd");
	struct cgroup_layout l;
	struct cgroup cg, cg2;
	char *paths[1 + CG_V1_COUNT] = {0};

	setup();
	layout(&l, CGROUP_MODE_NONE);
	int fds = count_fds();
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	ck_assert_int_eq(cg.mode, l.mode);
	paths[0] = xstrdup(cg.v2_path ? cg.v2_path : "");
	for (int i = 0; i < CG_V1_COUNT; i++)
		paths[1 + i] = cg.v1_path[i] ? xstrdup(cg.v1_path[i]) : NULL;
	if (l.mode == CGROUP_MODE_HYBRID) {
		ck_assert(str_has_prefix(cg.v2_path, "/sys/fs/cgroup/unified/"));
		ck_assert(ends_with(cg.v2_path, name));
		ck_assert(exists(cg.v2_path));
		ck_assert(exists(cg.v1_path[CG_V1_MEMORY]));
		ck_assert(exists(cg.v1_path[CG_V1_CPU]));
		ck_assert(exists(cg.v1_path[CG_V1_PIDS]));
		ck_assert_ptr_null(cg.v1_path[CG_V1_FREEZER]); /* v2 freezes */
		ck_assert_int_ge(cg.events_fd, 0);
		/* cgroup2 by clone3, v1 by the child itself (test-spawn) */
		ck_assert_int_eq(cgroup_clone_fd(&cg), cg.v2_fd);
		ck_assert(cgroup_has_v1(&cg));
	}
	ck_assert_int_eq(cgroup_populated(&cg), 0);

	/* Same name again while in use: refused.  An empty leftover: replaced. */
	pid_t pid = spawn(&cg, B_PAUSE);
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg2), -EEXIST);
	cgroup_release(&cg2);
	ck_assert_int_eq(cgroup_destroy(&cg), -EBUSY);
	kill(pid, SIGKILL);
	ck_assert(reap_until_empty(&cg, 5000));

	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		ck_assert_msg(!exists(paths[i]) || !*paths[i], "%s left behind", paths[i]);
	ck_assert_int_eq(cgroup_destroy(&cg), 0); /* idempotent */
	cgroup_release(&cg);
	cgroup_release(&cg); /* a no-op */
	ck_assert_int_eq(count_fds(), fds);

	ck_assert_int_eq(mkdir(paths[0], 0755), 0); /* a leftover */
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	cgroup_release(&cg);
	ck_assert(!exists(paths[0]));
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		free(paths[i]);
	cgroup_layout_free(&l);
}
END_TEST

START_TEST(test_bad_input)
{
	_cleanup_free_ char *name = tname("bad");
	struct cgroup_layout l;
	struct cgroup cg;
	const char *bad[] = {"", "a/b", "..", ".x", "-x", "a b"};

	setup();
	layout(&l, CGROUP_MODE_NONE);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_int_eq(cgroup_create(&l, NULL, bad[i], &cg), -EINVAL);
		cgroup_release(&cg);
	}
	ck_assert_int_eq(cgroup_create(&l, "../etc", name, &cg), -EINVAL);
	cgroup_release(&cg);
	ck_assert_int_eq(cgroup_create(&l, "no-such-berth-parent", name, &cg), -ENOENT);
	cgroup_release(&cg);
	cgroup_layout_free(&l);

	struct cgroup_layout none = {.mode = CGROUP_MODE_NONE};
	ck_assert_int_eq(cgroup_create(&none, NULL, name, &cg), -EOPNOTSUPP);
	cgroup_release(&cg);
}
END_TEST

/* Where berth may not create cgroups, it says so and fails. */
START_TEST(test_not_allowed)
{
	_cleanup_free_ char *name = tname("nobody");
	struct cgroup_layout l;
	int status;
	pid_t pid;

	setup();
	layout(&l, CGROUP_MODE_NONE);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct cgroup cg;
		int r;

		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(100);
		r = cgroup_create(&l, NULL, name, &cg);
		_exit(r < 0 ? -r : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), EACCES);
	cgroup_layout_free(&l);
}
END_TEST

/* The worker (another uid) cannot write its cgroup's files (rule 20). */
START_TEST(test_worker_cannot_touch)
{
	_cleanup_free_ char *name = tname("touch");
	struct cgroup_layout l;
	struct cgroup cg;
	int status;
	pid_t pid;

	setup();
	layout(&l, CGROUP_MODE_NONE);
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *dir[] = {cg.v2_path, cg.v1_path[CG_V1_MEMORY], cg.v1_path[CG_V1_PIDS]};
		const char *file[] = {"cgroup.procs", "memory.limit_in_bytes", "pids.max"};
		int opened = 0;

		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(100);
		for (size_t i = 0; i < ARRAY_SIZE(dir); i++) {
			_cleanup_free_ char *p =
				dir[i] ? xasprintf("%s/%s", dir[i], file[i]) : NULL;
			_cleanup_free_ char *sub = dir[i] ? xasprintf("%s/escape", dir[i]) : NULL;

			opened += p && open(p, O_WRONLY | O_CLOEXEC) >= 0;
			opened += sub && mkdir(sub, 0755) == 0;
		}
		_exit(opened);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	cgroup_release(&cg);
	cgroup_layout_free(&l);
}
END_TEST

static void attach_and_empty(enum cgroup_mode mode)
{
	_cleanup_free_ char *comm = slurp("/proc/self/comm"); /* the children's too */
	_cleanup_free_ char *name = tname("attach");
	_cleanup_free_ char *suffix = xasprintf("/%s", name);
	struct cgroup_layout l;
	struct cgroup cg;
	struct cgroup_proc *procs = NULL;
	size_t n = 0;
	pid_t pid;
	int ep = -1;

	setup();
	layout(&l, mode);
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	pid = spawn(&cg, B_PAUSE);

	ck_assert_int_eq(cgroup_procs(&cg, &procs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(procs[0].pid, pid);
	ck_assert_str_eq(procs[0].comm, comm);
	free(procs);
	if (cg.v2_fd >= 0) {
		_cleanup_free_ char *p = proc_cgroup(pid, NULL);
		ck_assert_msg(ends_with(p, suffix), "0:: %s", p);
	}
	for (int i = 0; i < CG_V1_COUNT; i++) {
		static const char *const h[] = {"freezer", "memory", "cpu", "pids"};
		_cleanup_free_ char *p = proc_cgroup(pid, h[i]);

		ck_assert_msg(ends_with(p, suffix) == (cg.v1_fd[i] >= 0), "%s: %s", h[i], p);
	}
	ck_assert_int_eq(cgroup_populated(&cg), 1);

	if (cg.events_fd >= 0) {
		struct epoll_event ev = {.events = EPOLLPRI};

		ep = epoll_create1(EPOLL_CLOEXEC);
		ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, cg.events_fd, &ev), 0);
		ck_assert_int_eq(cgroup_populated(&cg), 1); /* consumes the initial event */
		ck_assert_int_eq(epoll_wait(ep, &ev, 1, 0), 0);
	}
	kill(pid, SIGKILL);
	if (ep >= 0) {
		struct epoll_event ev;

		ck_assert_int_eq(epoll_wait(ep, &ev, 1, 5000), 1);
		ck_assert(ev.events & EPOLLPRI);
		/* Exited but not yet reaped: the cgroup is already empty. */
		ck_assert_int_eq(cgroup_populated(&cg), 0);
		close(ep);
	}
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert(reap_until_empty(&cg, 5000));
	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	cgroup_release(&cg);
	cgroup_layout_free(&l);
}

START_TEST(test_attach_host)
{
	attach_and_empty(CGROUP_MODE_NONE);
}
END_TEST

START_TEST(test_attach_v1)
{
	attach_and_empty(CGROUP_MODE_V1);
}
END_TEST

START_TEST(test_attach_v2)
{
	attach_and_empty(CGROUP_MODE_V2);
}
END_TEST

static void signal_setsid(enum cgroup_mode mode)
{
	_cleanup_free_ char *name = tname("sig");
	struct cgroup_layout l;
	struct cgroup cg;
	size_t count = 0;

	setup();
	layout(&l, mode);
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	spawn(&cg, B_SETSID);
	ck_assert(wait_pids(&cg, 2, 5000));
	ck_assert_int_eq(cgroup_signal_all(&cg, SIGTERM, &count), 0);
	ck_assert_uint_eq(count, 2);
	ck_assert(reap_until_empty(&cg, 5000));
	/* Thawed afterwards. */
	if (cg.v2_fd >= 0) {
		_cleanup_free_ char *f = slurp_at(cg.v2_path, "cgroup.freeze");
		ck_assert_str_eq(f, "0");
	} else {
		_cleanup_free_ char *f = slurp_at(cg.v1_path[CG_V1_FREEZER], "freezer.state");
		ck_assert_str_eq(f, "THAWED");
	}
	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	cgroup_release(&cg);
	cgroup_layout_free(&l);
}

START_TEST(test_signal_setsid_host)
{
	signal_setsid(CGROUP_MODE_NONE);
}
END_TEST

START_TEST(test_signal_setsid_v1)
{
	signal_setsid(CGROUP_MODE_V1);
}
END_TEST

/* cgroup_signal_all_except: the members of a process group are skipped
 * (berth run signals the main process group first), several signals go
 * out in one sweep. */
START_TEST(test_signal_except_host)
{
	_cleanup_free_ char *name = tname("sigx");
	_cleanup_free_ pid_t *pids = NULL;
	static const int term_cont[] = {SIGTERM, SIGCONT};
	struct cgroup_layout l;
	struct cgroup cg;
	size_t count = 0, n = 0;
	pid_t pid;

	setup();
	layout(&l, CGROUP_MODE_NONE);
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	pid = spawn(&cg, B_SETSID);
	/* Its own group, as berth's worker (the VM's tests run in init's
	 * group 0); its child setsid()s anyway. */
	ck_assert_int_eq(setpgid(pid, pid), 0);
	ck_assert(wait_pids(&cg, 2, 5000));
	/* Until the grandchild has called setsid() it is still in pid's group
	 * (and would rightly be skipped): wait for it (slow under TCG). */
	for (int i = 0; i < 500; i++) {
		bool settled = true;
		free(pids);
		pids = NULL;
		ck_assert_int_eq(cgroup_pids(&cg, &pids, &n), 0);
		for (size_t k = 0; k < n; k++)
			if (pids[k] != pid && getpgid(pids[k]) != pids[k])
				settled = false;
		if (settled)
			break;
		msleep(10);
	}
	/* The setsid grandchild only: it dies of SIGTERM, pid stays. */
	ck_assert_int_eq(cgroup_signal_all_except(&cg, term_cont, 2, pid, &count), 0);
	ck_assert_uint_eq(count, 1);
	for (int i = 0; i < 500; i++) {
		free(pids);
		pids = NULL;
		ck_assert_int_eq(cgroup_pids(&cg, &pids, &n), 0);
		if (n == 1)
			break;
		msleep(10);
	}
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(pids[0], pid);
	/* pgid 0: nobody is skipped. */
	ck_assert_int_eq(cgroup_signal_all_except(&cg, term_cont, 2, 0, &count), 0);
	ck_assert_uint_eq(count, 1);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert(reap_until_empty(&cg, 5000));
	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	cgroup_release(&cg);
	cgroup_layout_free(&l);
}
END_TEST

/* no_freezer: a v1 host without the freezer (kill pass after pass). */
static void kill_tree(enum cgroup_mode mode, bool no_freezer)
{
	_cleanup_free_ char *comm = slurp("/proc/self/comm");
	_cleanup_free_ char *name = tname("kill");
	struct cgroup_layout l;
	struct cgroup cg;
	struct cgroup_proc *procs = NULL;
	size_t n = 0, count = 0;
	pid_t pid;
	int status;

	setup();
	layout(&l, mode);
	if (no_freezer) {
		free(l.v1_mnt[CG_V1_FREEZER]);
		free(l.v1_root[CG_V1_FREEZER]);
		l.v1_mnt[CG_V1_FREEZER] = l.v1_root[CG_V1_FREEZER] = NULL;
	}
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	pid = spawn(&cg, B_TREE);
	ck_assert(wait_pids(&cg, 20, 5000));
	ck_assert_int_eq(cgroup_signal_all(&cg, SIGTERM, &count), 0);
	ck_assert_uint_ge(count, 20);
	msleep(50);
	ck_assert_int_eq(cgroup_populated(&cg), 1); /* SIGTERM ignored */

	ck_assert_int_eq(cgroup_kill_all_procs(&cg, &procs, &n), 0);
	ck_assert_uint_ge(n, 20);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(procs[i].comm, comm);
	free(procs);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ck_assert_msg(reap_until_empty(&cg, 10000), "%zu processes left", count_pids(&cg));
	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	cgroup_release(&cg);
	cgroup_layout_free(&l);
}

START_TEST(test_kill_tree_host)
{
	kill_tree(CGROUP_MODE_NONE, false);
}
END_TEST

START_TEST(test_kill_tree_v1)
{
	kill_tree(CGROUP_MODE_V1, false);
}
END_TEST

START_TEST(test_kill_tree_v1_no_freezer)
{
	kill_tree(CGROUP_MODE_V1, true);
}
END_TEST

START_TEST(test_kill_tree_v2)
{
	kill_tree(CGROUP_MODE_V2, false);
}
END_TEST

/* In a child: give up the capabilities that pass over file permissions,
 * check the kernel now refuses cgroup.kill, and kill the tree.  0 when
 * all went as it should, else the step that did not. */
static int kill_without_kill_file(const struct cgroup *cg)
{
	static const cap_value_t dac[] = {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER};
	struct cgroup_proc *procs = NULL;
	cap_t caps = cap_get_proc();
	size_t n = 0;
	int fd;

	if (!caps || cap_set_flag(caps, CAP_EFFECTIVE, 3, dac, CAP_CLEAR) < 0 ||
	    cap_set_proc(caps) < 0)
		return 10;
	cap_free(caps);
	fd = openat(cg->v2_fd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES)
		return 11; /* the write would still go through */
	if (cgroup_kill_all_procs(cg, &procs, &n) != 0)
		return 12;
	free(procs);
	return n >= 20 ? 0 : 13;
}

/* v2 without a usable cgroup.kill (the file is new in Linux 5.14): berth
 * kills pid by pid with the cgroup frozen, against the real kernel.  The
 * file is made read-only and the killing child gives up
 * CAP_DAC_OVERRIDE, so the kernel refuses the write (EACCES), as it does
 * not have the file on an older kernel (ENOENT); the same fallback runs. */
START_TEST(test_kill_tree_v2_no_kill_file)
{
	_cleanup_free_ char *name = tname("nokill");
	struct cgroup_layout l;
	struct cgroup cg;
	pid_t pid, child;
	int status;

	setup();
	layout(&l, CGROUP_MODE_V2);
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	pid = spawn(&cg, B_TREE);
	ck_assert(wait_pids(&cg, 20, 5000));
	ck_assert_int_eq(fchmodat(cg.v2_fd, "cgroup.kill", 0444, 0), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(kill_without_kill_file(&cg));
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed: %d",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ck_assert_msg(reap_until_empty(&cg, 10000), "%zu processes left", count_pids(&cg));
	{
		_cleanup_free_ char *f = slurp_at(cg.v2_path, "cgroup.freeze");
		ck_assert_str_eq(f, "0"); /* thawed afterwards */
	}
	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	cgroup_release(&cg);
	cgroup_layout_free(&l);
}
END_TEST

/* Pure v2 path: the child is born inside the cgroup (clone3). */
START_TEST(test_clone_into_cgroup)
{
	_cleanup_free_ char *name = tname("clone3");
	_cleanup_free_ char *suffix = xasprintf("/%s", name);
	struct cgroup_layout l;
	struct cgroup cg;
	struct clone_args args = {.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD};
	char buf[512] = "";
	int p[2];
	size_t count;
	pid_t pid;

	setup();
	layout(&l, CGROUP_MODE_V2);
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	ck_assert_int_ge(cgroup_clone_fd(&cg), 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	args.cgroup = (uint64_t)cgroup_clone_fd(&cg);
	pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* First thing: where am I? */
		char *me = proc_cgroup(getpid(), NULL);
		ssize_t w = me ? write(p[1], me, strlen(me)) : -1;

		_exit(w > 0 ? 0 : 1);
	}
	close(p[1]);
	ck_assert_int_gt(read(p[0], buf, sizeof(buf) - 1), 0);
	close(p[0]);
	ck_assert_msg(ends_with(buf, suffix), "child was in %s", buf);
	ck_assert(reap_until_empty(&cg, 5000));

	spawn(&cg, B_TREE);
	ck_assert(wait_pids(&cg, 20, 5000));
	ck_assert_int_eq(cgroup_kill_all(&cg, &count), 0);
	ck_assert_uint_ge(count, 20);
	ck_assert(reap_until_empty(&cg, 10000));
	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	cgroup_release(&cg);
	cgroup_layout_free(&l);
}
END_TEST

/* An explicit parent; destroy removes nested cgroups leaves first. */
START_TEST(test_parent_v2)
{
	_cleanup_free_ char *outer = tname("outer");
	_cleanup_free_ char *inner = tname("inner");
	_cleanup_free_ char *nested = NULL, *deep = NULL;
	struct cgroup_layout l;
	struct cgroup a, b;

	setup();
	layout(&l, CGROUP_MODE_V2);
	/* Before the create: on a pure v2 host berth then moves into a leaf. */
	_cleanup_free_ char *own = proc_cgroup(getpid(), NULL);
	_cleanup_free_ char *parent = xasprintf("%s/%s", own, outer);
	ck_assert_int_eq(cgroup_create(&l, NULL, outer, &a), 0);
	ck_assert_int_eq(cgroup_create(&l, parent, inner, &b), 0);
	nested = xasprintf("%s/%s", a.v2_path, inner);
	ck_assert_str_eq(b.v2_path, nested);
	ck_assert(exists(nested));
	/* Something created beneath the worker's cgroup goes too. */
	deep = xasprintf("%s/sub", nested);
	ck_assert_int_eq(mkdir(deep, 0755), 0);
	spawn(&b, B_PAUSE);
	ck_assert_int_eq(cgroup_populated(&a), 1); /* recursive */
	ck_assert_int_eq(cgroup_destroy(&a), -EBUSY);
	ck_assert_int_eq(cgroup_kill_all(&a, &(size_t){0}), 0);
	ck_assert(reap_until_empty(&a, 5000));
	cgroup_release(&b); /* forget b: destroying a removes it */
	ck_assert_int_eq(cgroup_destroy(&a), 0);
	ck_assert(!exists(deep) && !exists(nested) && !exists(a.v2_path));
	cgroup_release(&a);
	cgroup_layout_free(&l);
}
END_TEST

/*
 * A pure v2 host (tests/vm/): berth, alone in its cgroup P, moves into the
 * leaf P/<first>-supervisor to enable the controllers for its children; a
 * second instance goes beside the first, not beneath the leaf; the removal
 * of the last one moves berth back and leaves P as it was.  Where berth
 * shares P (Check's forking runner), nothing is moved and nothing enabled.
 */
START_TEST(test_supervisor_leaf)
{
	_cleanup_free_ char *first = tname("first"), *second = tname("second");
	_cleanup_free_ char *own = proc_cgroup(getpid(), NULL);
	_cleanup_free_ char *leafsuffix = xasprintf("/%s-supervisor", first);
	struct cgroup_layout l;
	struct cgroup a, b;

	setup();
	layout(&l, CGROUP_MODE_NONE);
	_cleanup_free_ char *pdir = xasprintf("%s%s", l.unified_mnt, own);
	_cleanup_free_ char *before = slurp_at(pdir, "cgroup.subtree_control");
	ck_assert_int_eq(cgroup_create(&l, NULL, first, &a), 0);
	_cleanup_free_ char *now = proc_cgroup(getpid(), NULL);
	if (a.ctl_usable != CG_CTL_ALL) {
		ck_assert_msg(!getenv("BERTH_VM"), "controllers not enabled (%#x)", a.ctl_usable);
		ck_assert_str_eq(now, own);
	} else {
		_cleanup_free_ char *ctls = slurp_at(a.v2_path, "cgroup.controllers");
		ck_assert_msg(strstr(ctls, "memory") && strstr(ctls, "cpu") && strstr(ctls, "pids"),
			      "%s", ctls);
		ck_assert_msg(ends_with(now, leafsuffix), "berth is in %s", now);
	}
	ck_assert_int_eq(cgroup_create(&l, NULL, second, &b), 0);
	_cleanup_free_ char *beside = xasprintf("%s/%s", pdir, second);
	ck_assert_str_eq(b.v2_path, beside);
	ck_assert_uint_eq(b.ctl_usable, a.ctl_usable);
	spawn(&b, B_PAUSE);
	ck_assert_int_eq(cgroup_destroy(&a), 0); /* b remains: berth stays */
	free(now);
	now = proc_cgroup(getpid(), NULL);
	ck_assert(a.ctl_usable != CG_CTL_ALL || ends_with(now, leafsuffix));
	ck_assert_int_eq(cgroup_kill_all(&b, &(size_t){0}), 0);
	ck_assert(reap_until_empty(&b, 5000));
	ck_assert_int_eq(cgroup_destroy(&b), 0);
	free(now);
	now = proc_cgroup(getpid(), NULL);
	ck_assert_str_eq(now, own);
	_cleanup_free_ char *after = slurp_at(pdir, "cgroup.subtree_control");
	ck_assert_str_eq(after, before);
	_cleanup_free_ char *leafdir = xasprintf("%s%s", pdir, leafsuffix);
	ck_assert(!exists(leafdir));
	cgroup_release(&a);
	cgroup_release(&b);
	cgroup_layout_free(&l);
}
END_TEST

/*
 * Pure v2: berth's helper (slirp4netns) shares P with it; it moves with berth into
 * the leaf and back, so the controllers can be enabled.  Without that, P
 * would still hold a process and limits could not be had.
 */
START_TEST(test_supervisor_companion)
{
	_cleanup_free_ char *name = tname("comp");
	_cleanup_free_ char *own = proc_cgroup(getpid(), NULL);
	_cleanup_free_ char *leafsuffix = xasprintf("/%s-supervisor", name);
	struct cgroup_layout l;
	struct cgroup_create_opts co = {.controllers = CG_CTL_ALL, .n_companions = 1};
	struct cgroup a;
	pid_t helper;

	setup();
	layout(&l, CGROUP_MODE_NONE);
	helper = fork();
	ck_assert_int_ge(helper, 0);
	if (helper == 0) {
		for (;;)
			pause();
	}
	_cleanup_free_ char *hbefore = proc_cgroup(helper, NULL);
	ck_assert_str_eq(hbefore, own);
	co.companions = &helper;
	ck_assert_int_eq(cgroup_create_with(&l, name, &co, &a), 0);
	_cleanup_free_ char *now = proc_cgroup(getpid(), NULL);
	_cleanup_free_ char *hnow = proc_cgroup(helper, NULL);
	if (getenv("BERTH_VM") || a.ctl_usable == CG_CTL_ALL) {
		ck_assert_msg(a.ctl_usable == CG_CTL_ALL, "controllers not enabled (%#x)",
			      a.ctl_usable);
		ck_assert_msg(ends_with(now, leafsuffix), "berth is in %s", now);
		ck_assert_str_eq(hnow, now);
	}
	ck_assert_int_eq(cgroup_destroy(&a), 0);
	free(now);
	free(hnow);
	now = proc_cgroup(getpid(), NULL);
	hnow = proc_cgroup(helper, NULL);
	ck_assert_str_eq(now, own);
	ck_assert_str_eq(hnow, own);
	kill(helper, SIGKILL);
	waitpid(helper, NULL, 0);
	cgroup_release(&a);
	cgroup_layout_free(&l);
}
END_TEST

int main(void)
{
	struct cgroup_layout l = {0};
	Suite *s = suite_create("cgroup");
	TCase *host = tcase_create("host"), *v1 = tcase_create("v1"), *v2 = tcase_create("v2");

	cgroup_detect(&l);
	tcase_add_test(host, test_detect);
	tcase_add_test(host, test_create_destroy);
	tcase_add_test(host, test_bad_input);
	tcase_add_test(host, test_not_allowed);
	tcase_add_test(host, test_worker_cannot_touch);
	tcase_add_test(host, test_attach_host);
	tcase_add_test(host, test_signal_setsid_host);
	tcase_add_test(host, test_signal_except_host);
	tcase_add_test(host, test_kill_tree_host);
	suite_add_tcase(s, host);
	if (l.v1_mnt[CG_V1_FREEZER]) {
		tcase_add_test(v1, test_attach_v1);
		tcase_add_test(v1, test_signal_setsid_v1);
		tcase_add_test(v1, test_kill_tree_v1);
		tcase_add_test(v1, test_kill_tree_v1_no_freezer);
		suite_add_tcase(s, v1);
	}
	if (l.unified_mnt) {
		tcase_add_test(v2, test_attach_v2);
		tcase_add_test(v2, test_kill_tree_v2);
		tcase_add_test(v2, test_kill_tree_v2_no_kill_file);
		tcase_add_test(v2, test_clone_into_cgroup);
		tcase_add_test(v2, test_parent_v2);
		if (l.mode == CGROUP_MODE_V2) {
			tcase_add_test(v2, test_supervisor_leaf);
			tcase_add_test(v2, test_supervisor_companion);
		}
		suite_add_tcase(s, v2);
	}
	cgroup_layout_free(&l);
	return cgtest_main(s);
}
