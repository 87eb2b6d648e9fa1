/* SPDX-License-Identifier: MIT */
/*
 * The cgroup module on the real kernel, as root: creation and removal in
 * every hierarchy, placement (handshake and clone3 CLONE_INTO_CGROUP),
 * emptiness and its POLLPRI, signalling and killing whole process trees,
 * limits, on the host's layout and on the v2 and v1 paths forced.  Every
 * cgroup is named berth-test-<pid>-...; main sweeps them all at the end.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

static pid_t main_pid;

/* ---- helpers -------------------------------------------------------------- */

static char *tname(const char *tag)
{
	return xasprintf("berth-test-%d-%s-%d", (int)main_pid, tag, (int)getpid());
}

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void layout(struct cgroup_layout *l, enum cgroup_mode force)
{
	ck_assert_int_eq(cgroup_detect(l), 0);
	if (force != CGROUP_MODE_NONE)
		ck_assert_int_eq(cgroup_layout_force(l, force), 0);
}

static bool exists(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0;
}

/* A file's first line (all of it when whole is set). */
static char *slurp_whole(const char *path, bool whole)
{
	char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	if (!whole)
		buf[strcspn(buf, "\n")] = '\0';
	return xstrdup(buf);
}

static char *slurp(const char *path)
{
	return slurp_whole(path, false);
}

static char *slurp_at(const char *dir, const char *file)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, file);

	return slurp(p);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static size_t count_pids(const struct cgroup *cg)
{
	pid_t *pids = NULL;
	size_t n = 0;

	ck_assert_int_eq(cgroup_pids(cg, &pids, &n), 0);
	free(pids);
	return n;
}

static bool wait_pids(const struct cgroup *cg, size_t want, int timeout_ms)
{
	for (int64_t end = now_ms() + timeout_ms; now_ms() < end; msleep(10))
		if (count_pids(cg) >= want)
			return true;
	return false;
}

/* Reap everything (the test is a subreaper) until the cgroup is empty. */
static bool reap_until_empty(const struct cgroup *cg, int timeout_ms)
{
	for (int64_t end = now_ms() + timeout_ms; now_ms() < end;) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (cgroup_populated(cg) == 0)
			return true;
		if (cg->events_fd >= 0) {
			struct pollfd p = {.fd = cg->events_fd, .events = POLLPRI};

			poll(&p, 1, 20);
		} else {
			msleep(10);
		}
	}
	return false;
}

enum behaviour {
	B_PAUSE,  /* just wait */
	B_SETSID, /* a grandchild in a new session; SIGTERM kills both */
	B_TREE,   /* ignores SIGTERM; a setsid daemon and a process forking in a loop */
	B_FORKS,  /* fork 40 sleepers, exit with the number that succeeded */
	B_MEMHOG, /* touch 256 MiB */
};

__attribute__((noreturn)) static void forever(void)
{
	for (;;)
		pause();
}

static void run(enum behaviour b)
{
	int n = 0;

	switch (b) {
	case B_PAUSE:
		forever();
	case B_SETSID:
		if (fork() == 0) {
			setsid();
			forever();
		}
		forever();
	case B_TREE:
		signal(SIGTERM, SIG_IGN);
		if (fork() == 0) {
			setsid();
			if (fork() == 0)
				forever(); /* double-forked daemon */
			forever();
		}
		if (fork() == 0) {
			for (;;) {
				pid_t p = fork();

				if (p == 0) {
					if (n < 150)
						forever();
					_exit(0);
				}
				if (p > 0 && ++n >= 150)
					waitpid(p, NULL, 0);
			}
		}
		forever();
	case B_FORKS:
		for (int i = 0; i < 40; i++) {
			pid_t p = fork();

			if (p == 0)
				forever();
			n += p > 0;
		}
		_exit(n);
	case B_MEMHOG: {
		size_t sz = 256u << 20;
		char *m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			_exit(2);
		for (size_t i = 0; i < sz; i += 4096)
			m[i] = 1;
		_exit(0);
	}
	}
	_exit(1);
}

/* Fork a child that waits until it is attached (the handshake), then runs b. */
static pid_t spawn(const struct cgroup *cg, enum behaviour b)
{
	int p[2];
	char c = 0;
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Like a worker after execve: no handlers (Check's would run). */
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(3);
		close(p[0]);
		run(b);
	}
	close(p[0]);
	ck_assert_int_eq(cgroup_attach(cg, pid), 0);
	ck_assert_int_eq(write(p[1], &c, 1), 1);
	close(p[1]);
	return pid;
}

static void setup(void)
{
	log_setup(LOG_FMT_TEXT, LOG_LVL_DEBUG, "test-cgroup");
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
}

/* The cgroup path of `hierarchy` (NULL: unified) in /proc/<pid>/cgroup. */
static char *proc_cgroup(pid_t pid, const char *hierarchy)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", (int)pid);
	char buf[4096], *out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return cgroup_parse_proc_cgroup(buf, hierarchy, &out) == 0 ? out : NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = s ? strlen(s) : 0, b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- tests ---------------------------------------------------------------- */

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
		ck_assert_int_eq(cgroup_clone_fd(&cg), -1); /* v1 needs the handshake */
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
			_cleanup_free_ char *p = dir[i] ? xasprintf("%s/%s", dir[i], file[i]) : NULL;
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
	ck_assert_str_eq(procs[0].comm, "test-cgroup");
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

static void kill_tree(enum cgroup_mode mode)
{
	_cleanup_free_ char *name = tname("kill");
	struct cgroup_layout l;
	struct cgroup cg;
	struct cgroup_proc *procs = NULL;
	size_t n = 0, count = 0;
	pid_t pid;
	int status;

	setup();
	layout(&l, mode);
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
		ck_assert_str_eq(procs[i].comm, "test-cgroup");
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
	kill_tree(CGROUP_MODE_NONE);
}
END_TEST

START_TEST(test_kill_tree_v1)
{
	kill_tree(CGROUP_MODE_V1);
}
END_TEST

START_TEST(test_kill_tree_v2)
{
	kill_tree(CGROUP_MODE_V2);
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
	ck_assert_int_eq(cgroup_create(&l, NULL, outer, &a), 0);
	_cleanup_free_ char *own = proc_cgroup(getpid(), NULL);
	_cleanup_free_ char *parent = xasprintf("%s/%s", own, outer);
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

/* ---- the sweep: nothing named berth-test-<pid>-* may remain ---------------- */

static void sweep_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	_cleanup_free_ char *procs = NULL;
	_cleanup_free_ char *p1 = xasprintf("%s/cgroup.freeze", dir);
	_cleanup_free_ char *p2 = xasprintf("%s/freezer.state", dir);
	_cleanup_free_ char *p3 = xasprintf("%s/cgroup.procs", dir);
	int fd;

	while (d && (e = readdir(d)))
		if (e->d_type == DT_DIR && e->d_name[0] != '.') {
			_cleanup_free_ char *sub = xasprintf("%s/%s", dir, e->d_name);
			sweep_dir(sub);
		}
	if (d)
		closedir(d);
	for (int i = 0; i < 300; i++) {
		if ((fd = open(p1, O_WRONLY | O_CLOEXEC)) >= 0) {
			(void)!write(fd, "0", 1);
			close(fd);
		}
		if ((fd = open(p2, O_WRONLY | O_CLOEXEC)) >= 0) {
			(void)!write(fd, "THAWED", 6);
			close(fd);
		}
		free(procs);
		procs = slurp_whole(p3, true);
		for (char *s = procs; s && *s; s++)
			if (atoi(s) > 0 && (s == procs || s[-1] == '\n'))
				kill(atoi(s), SIGKILL);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (rmdir(dir) == 0 || errno == ENOENT)
			return;
		msleep(10);
	}
	fprintf(stderr, "sweep: cannot remove %s: %s\n", dir, strerror(errno));
}

/* Remove every leftover test cgroup; returns how many there were. */
static int sweep(void)
{
	struct cgroup_layout l;
	_cleanup_free_ char *prefix = xasprintf("berth-test-%d-", (int)main_pid);
	const char *hier[1 + CG_V1_COUNT] = {NULL, "freezer", "memory", "cpu", "pids"};
	int found = 0;

	if (cgroup_detect(&l) < 0)
		return 0;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (int i = 0; i < 1 + CG_V1_COUNT; i++) {
		const char *mnt = i == 0 ? l.unified_mnt : l.v1_mnt[i - 1];
		_cleanup_free_ char *own = mnt ? proc_cgroup(getpid(), hier[i]) : NULL;
		_cleanup_free_ char *dir = own ? xasprintf("%s%s", mnt, own) : NULL;
		DIR *d = dir ? opendir(dir) : NULL;
		struct dirent *e;

		while (d && (e = readdir(d)))
			if (str_has_prefix(e->d_name, prefix)) {
				_cleanup_free_ char *sub = xasprintf("%s/%s", dir, e->d_name);
				fprintf(stderr, "sweep: leftover %s\n", sub);
				sweep_dir(sub);
				found++;
			}
		if (d)
			closedir(d);
	}
	cgroup_layout_free(&l);
	return found;
}

int main(void)
{
	bool strict = getenv("BERTH_STRICT") && strcmp(getenv("BERTH_STRICT"), "1") == 0;
	struct cgroup_layout l;
	Suite *s = suite_create("cgroup");
	TCase *host = tcase_create("host"), *v1 = tcase_create("v1"), *v2 = tcase_create("v2");
	SRunner *sr;
	int failed, left;

	main_pid = getpid();
	if (geteuid() != 0 || cgroup_detect(&l) < 0 || l.mode == CGROUP_MODE_NONE) {
		fprintf(stderr, "test-cgroup: needs root and a cgroup hierarchy%s\n",
			strict ? " (BERTH_STRICT=1: failing)" : "; skipped");
		return strict ? EXIT_FAILURE : 77;
	}
	tcase_add_test(host, test_detect);
	tcase_add_test(host, test_create_destroy);
	tcase_add_test(host, test_bad_input);
	tcase_add_test(host, test_not_allowed);
	tcase_add_test(host, test_worker_cannot_touch);
	tcase_add_test(host, test_attach_host);
	tcase_add_test(host, test_signal_setsid_host);
	tcase_add_test(host, test_kill_tree_host);
	tcase_add_test(host, test_limits);
	suite_add_tcase(s, host);
	if (l.v1_mnt[CG_V1_FREEZER]) {
		tcase_add_test(v1, test_attach_v1);
		tcase_add_test(v1, test_signal_setsid_v1);
		tcase_add_test(v1, test_kill_tree_v1);
		suite_add_tcase(s, v1);
	}
	if (l.unified_mnt) {
		tcase_add_test(v2, test_attach_v2);
		tcase_add_test(v2, test_kill_tree_v2);
		tcase_add_test(v2, test_clone_into_cgroup);
		tcase_add_test(v2, test_limits_missing);
		tcase_add_test(v2, test_parent_v2);
		suite_add_tcase(s, v2);
	}
	cgroup_layout_free(&l);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	left = sweep();
	if (left)
		fprintf(stderr, "test-cgroup: %d test cgroup(s) were left behind\n", left);
	return failed || left ? EXIT_FAILURE : EXIT_SUCCESS;
}
