/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the privileged cgroup tests: test cgroup names
 * (berth-test-<pid>-...), workers with known behaviours placed by the
 * handshake, waiting and reaping, and the final sweep that removes and
 * counts whatever a test left behind.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgtest.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

static pid_t main_pid;

char *tname(const char *tag)
{
	return xasprintf("berth-test-%d-%s-%d", (int)main_pid, tag, (int)getpid());
}

void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void layout(struct cgroup_layout *l, enum cgroup_mode force)
{
	ck_assert_int_eq(cgroup_detect(l), 0);
	if (force != CGROUP_MODE_NONE)
		ck_assert_int_eq(cgroup_layout_force(l, force), 0);
}

bool exists(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0;
}

/* A file's first line (all of it when whole is set). */
char *slurp_whole(const char *path, bool whole)
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

char *slurp(const char *path)
{
	return slurp_whole(path, false);
}

char *slurp_at(const char *dir, const char *file)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, file);

	return slurp(p);
}

int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

size_t count_pids(const struct cgroup *cg)
{
	pid_t *pids = NULL;
	size_t n = 0;

	ck_assert_int_eq(cgroup_pids(cg, &pids, &n), 0);
	free(pids);
	return n;
}

bool wait_pids(const struct cgroup *cg, size_t want, int timeout_ms)
{
	for (int64_t end = now_ms() + timeout_ms; now_ms() < end; msleep(10))
		if (count_pids(cg) >= want)
			return true;
	return false;
}

/* Reap everything (the test is a subreaper) until the cgroup is empty. */
bool reap_until_empty(const struct cgroup *cg, int timeout_ms)
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
		char *m =
			mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			_exit(2);
		for (size_t i = 0; i < sz; i += 4096)
			m[i] = 1;
		_exit(0);
	}
	case B_SPIN:
		fork();
		for (volatile unsigned long i = 0;; i++)
			;
	}
	_exit(1);
}

/* Fork a child that waits until it is attached (the handshake), then runs b. */
pid_t spawn(const struct cgroup *cg, enum behaviour b)
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

void setup(void)
{
	log_setup(LOG_FMT_TEXT, LOG_LVL_DEBUG, "test-cgroup");
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
}

/* The cgroup path of `hierarchy` (NULL: unified) in /proc/<pid>/cgroup. */
char *proc_cgroup(pid_t pid, const char *hierarchy)
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

bool ends_with(const char *s, const char *suffix)
{
	size_t a = s ? strlen(s) : 0, b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

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

int cgtest_main(Suite *s)
{
	bool strict = getenv("BERTH_STRICT") && strcmp(getenv("BERTH_STRICT"), "1") == 0;
	struct cgroup_layout l;
	SRunner *sr;
	int failed, left;

	main_pid = getpid();
	if (geteuid() != 0 || cgroup_detect(&l) < 0 || l.mode == CGROUP_MODE_NONE) {
		fprintf(stderr, "%s: needs root and a cgroup hierarchy%s\n",
			program_invocation_short_name,
			strict ? " (BERTH_STRICT=1: failing)" : "; skipped");
		srunner_free(srunner_create(s));
		return strict ? EXIT_FAILURE : 77;
	}
	cgroup_layout_free(&l);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	left = sweep();
	if (left)
		fprintf(stderr, "%s: %d test cgroup(s) were left behind\n",
			program_invocation_short_name, left);
	return failed || left ? EXIT_FAILURE : EXIT_SUCCESS;
}
