/* SPDX-License-Identifier: MIT */
/*
 * berth-init on the real kernel, as root: its name and namespaces; a
 * worker started through spawn_worker() in them (its own pid, not its
 * host pid; berth's PID, IPC and UTS namespaces left; the hostname);
 * berth's own pid_for_children back after the spawn; the worker killed
 * with the init; nsinit_stop() leaving nothing, orphans included; and a
 * SIGKILLed "berth" taking the init, the worker and its orphans along.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "boxplan.h"
#include "nsinit.h"
#include "spawn.h"
#include "util.h"

static char dir[] = "/tmp/berth-nsinit.XXXXXX";
static char env_path[] = "PATH=/usr/bin:/bin";
static char *const env[] = {env_path, NULL};

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static char *slurp(const char *path)
{
	char buf[4096];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return xstrdup(buf);
}

/* The file the worker wrote in dir, once it is complete (a ".done"
 * twin), or NULL after 5 s. */
static char *wait_out(const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
	_cleanup_free_ char *done = xasprintf("%s/%s.done", dir, name);

	for (int i = 0; i < 500 && access(done, F_OK) < 0; i++)
		msleep(10);
	return slurp(p);
}

static char *ns_link(pid_t pid, const char *ns)
{
	char path[64], buf[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/ns/%s", (long)pid, ns);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

static void mkapp(void)
{
	strcpy(dir, "/tmp/berth-nsinit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rmapp(void)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Start script in ni's namespaces (no cgroup); the worker is not waited for. */
static void start(const struct nsinit *ni, const char *script, struct spawn_result *res)
{
	_cleanup_close_ int cwd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *s = spawn_script(script, SIGTERM);
	struct spawn_opts o = {
		.script = s,
		.envp = env,
		.cwd_fd = cwd,
		.stdin_fd = -1,
		.ns = &ni->ns,
	};

	ck_assert_int_ge(cwd, 0);
	ck_assert_int_eq(spawn_worker(&o, res), 0);
	ck_assert_int_gt(res->pid, 0);
}

/* Is pid gone (or a zombie)? */
static bool gone(pid_t pid)
{
	char path[64];
	_cleanup_free_ char *stat = NULL;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	stat = slurp(path);
	return !stat || strstr(stat, ") Z ") || strstr(stat, ") X ");
}

START_TEST(test_hostname)
{
	_cleanup_free_ char *a = boxplan_hostname("app", "queue");
	_cleanup_free_ char *b = boxplan_hostname(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");

	ck_assert_str_eq(a, "app--queue");
	ck_assert_uint_eq(strlen(b), 63);
	ck_assert_ptr_nonnull(strstr(b, "a--bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"));
}
END_TEST

/* The init: its name, its own namespaces, berth's PID namespace for
 * berth's children unchanged. */
START_TEST(test_init)
{
	struct nsinit ni = {0};
	_cleanup_free_ char *comm = NULL, *cmdline = NULL, *path = NULL;

	ck_assert_int_eq(nsinit_start(&ni, "app--web"), 0);
	ck_assert_int_gt(ni.pid, 0);
	ck_assert(nsinit_alive(&ni));
	path = xasprintf("/proc/%ld/comm", (long)ni.pid);
	comm = slurp(path);
	ck_assert_str_eq(comm, "berth-init");
	free(path);
	path = xasprintf("/proc/%ld/cmdline", (long)ni.pid);
	cmdline = slurp(path);
	ck_assert_str_eq(cmdline, "berth-init"); /* up to the first NUL */
	for (const char *const *n = (const char *const[]){"pid", "ipc", "uts", NULL}; *n; n++) {
		_cleanup_free_ char *mine = ns_link(getpid(), *n), *its = ns_link(ni.pid, *n);
		ck_assert_ptr_nonnull(its);
		ck_assert_str_ne(mine, its);
	}
	{
		_cleanup_free_ char *mine = ns_link(getpid(), "pid");
		_cleanup_free_ char *next = ns_link(getpid(), "pid_for_children");
		ck_assert_str_eq(mine, next);
	}
	nsinit_stop(&ni, 0);
	ck_assert_int_eq(ni.pid, 0);
	ck_assert(!nsinit_alive(&ni));
}
END_TEST

/* A worker in the init's namespaces; killing the init kills it. */
START_TEST(test_worker)
{
	struct nsinit ni = {0};
	struct spawn_result res;
	_cleanup_free_ char *pid = NULL, *host = NULL, *pidns = NULL, *ipcns = NULL, *utsns = NULL;
	_cleanup_free_ char *mine_pid = ns_link(getpid(), "pid"),
			    *mine_ipc = ns_link(getpid(), "ipc");
	_cleanup_free_ char *mine_uts = ns_link(getpid(), "uts"), *its_pid = NULL;
	_cleanup_free_ char *after = NULL;
	char myhost[128];
	int status;

	mkapp();
	ck_assert_int_eq(nsinit_start(&ni, "app--nstest"), 0);
	its_pid = ns_link(ni.pid, "pid");
	start(&ni,
	      "echo $$ > pid; uname -n > host; for n in pid ipc uts; do "
	      "readlink /proc/self/ns/$n > $n.ns; touch $n.ns.done; done; touch pid.done "
	      "host.done; "
	      "exec sleep 1000",
	      &res);
	pid = wait_out("pid");
	host = wait_out("host");
	pidns = wait_out("pid.ns");
	ipcns = wait_out("ipc.ns");
	utsns = wait_out("uts.ns");
	ck_assert_ptr_nonnull(pid);
	/* pid 1 is the init; the worker is the first process after it */
	ck_assert_str_eq(pid, "2");
	ck_assert_int_ne(atoi(pid), res.pid);
	ck_assert_str_eq(host, "app--nstest");
	ck_assert_int_eq(gethostname(myhost, sizeof(myhost)), 0);
	ck_assert_str_ne(myhost, "app--nstest");
	ck_assert_str_eq(pidns, its_pid);
	ck_assert_str_ne(pidns, mine_pid);
	ck_assert_str_ne(ipcns, mine_ipc);
	ck_assert_str_ne(utsns, mine_uts);
	/* berth's next child is not the worker's */
	after = ns_link(getpid(), "pid_for_children");
	ck_assert_str_eq(after, mine_pid);

	/* Killed on the host: the kernel kills its namespace, the worker too. */
	ck_assert_int_eq(kill(ni.pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(res.pid, &status, 0), res.pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ck_assert_int_eq(waitpid(ni.pid, &status, 0), ni.pid);
	ck_assert(nsinit_reaped(&ni, ni.pid));
	ck_assert_int_eq(ni.pid, 0);
	close(res.pidfd);
	rmapp();
}
END_TEST

/* Does process pid have an fd open on what link names (readlink)? */
static bool holds(pid_t pid, const char *link)
{
	char path[64], buf[64];
	bool found = false;

	for (int fd = 0; fd < 64 && !found; fd++) {
		snprintf(path, sizeof(path), "/proc/%ld/fd/%d", (long)pid, fd);
		ssize_t n = readlink(path, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			found = strcmp(buf, link) == 0;
		}
	}
	return found;
}

/* Wait up to 2 s for holds(pid, link) to be want. */
static bool holds_within(pid_t pid, const char *link, bool want)
{
	for (int i = 0; i < 200; i++) {
		if (holds(pid, link) == want)
			return true;
		msleep(10);
	}
	return false;
}

/* The init holds the worker's mount namespace from nsinit_hold_mounts()
 * until the worker exits, and lets it go then; on a kernel without
 * PIDFD_GET_MNT_NAMESPACE (before 6.11) it holds nothing. */
START_TEST(test_hold_mounts)
{
	struct nsinit ni = {0};
	struct spawn_result res;
	_cleanup_free_ char *mine = ns_link(getpid(), "mnt"), *its = NULL;
	int status;

	mkapp();
	ck_assert_int_eq(nsinit_start(&ni, "app--mnt"), 0);
	start(&ni, "exec unshare -m sleep 1000", &res);
	for (int i = 0; i < 200; i++) {
		free(its);
		its = ns_link(res.pid, "mnt");
		if (its && strcmp(its, mine) != 0)
			break;
		msleep(10);
	}
	ck_assert_ptr_nonnull(its);
	ck_assert_str_ne(its, mine);
	ck_assert(!holds(ni.pid, its));
	int probe = ioctl(res.pidfd, PIDFD_GET_MNT_NAMESPACE, 0);
	int err = errno;

	nsinit_hold_mounts(&ni, res.pidfd);
	if (probe < 0) {
		fprintf(stderr, "test-nsinit: PIDFD_GET_MNT_NAMESPACE: %s: nothing held\n",
			strerror(err));
		ck_assert(err == ENOTTY || err == EINVAL);
		msleep(200);
		ck_assert(!holds(ni.pid, its));
	} else {
		close(probe);
		ck_assert(holds_within(ni.pid, its, true));
	}

	ck_assert_int_eq(kill(res.pid, SIGKILL), 0);
	ck_assert(holds_within(ni.pid, its, false));
	ck_assert_int_eq(waitpid(res.pid, &status, 0), res.pid);
	close(res.pidfd);
	nsinit_stop(&ni, 0);
	rmapp();
}
END_TEST

/* The host pids of the init's children (the worker's orphans). */
static size_t init_children(pid_t init, pid_t *out, size_t max)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)init, (long)init);
	text = slurp(path);
	for (char *p = text, *end; p && *p && n < max; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		out[n++] = (pid_t)v;
	}
	return n;
}

/* An orphan (of a subshell) goes to the init; nsinit_stop() ends it all. */
START_TEST(test_stop_leaves_nothing)
{
	struct nsinit ni = {0};
	struct spawn_result res;
	pid_t orphans[4], init;
	size_t n = 0;

	mkapp();
	ck_assert_int_eq(nsinit_start(&ni, "app--stop"), 0);
	init = ni.pid;
	start(&ni, "(setsid sleep 1000 &); exec sleep 1000", &res);
	for (int i = 0; i < 500 && n == 0; i++) {
		msleep(10);
		n = init_children(init, orphans, ARRAY_SIZE(orphans));
	}
	ck_assert_uint_eq(n, 1);
	nsinit_stop(&ni, res.pid); /* reaps the worker too */
	ck_assert_int_eq(ni.pid, 0);
	ck_assert(gone(orphans[0]));
	ck_assert(gone(init));
	ck_assert_int_eq(waitpid(res.pid, NULL, WNOHANG), -1); /* reaped */
	close(res.pidfd);
	rmapp();
}
END_TEST

/* A "berth" (a child of the test, which is a subreaper) with an init, a
 * worker and its orphan, SIGKILLed: all of them die, not one is left. */
START_TEST(test_berth_killed)
{
	int p[2], status;
	pid_t berth, pids[3];

	mkapp();
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	ck_assert_int_eq(pipe(p), 0);
	berth = fork();
	ck_assert_int_ge(berth, 0);
	if (berth == 0) {
		struct nsinit ni = {0};
		struct spawn_result res;
		pid_t orphan[1];
		size_t n = 0;

		close(p[0]);
		if (nsinit_start(&ni, "app--killed") < 0)
			_exit(1);
		start(&ni, "(setsid sleep 1000 &); exec sleep 1000", &res);
		for (int i = 0; i < 500 && n == 0; i++) {
			msleep(10);
			n = init_children(ni.pid, orphan, 1);
		}
		pid_t out[3] = {ni.pid, res.pid, n ? orphan[0] : 0};
		if (write(p[1], out, sizeof(out)) != (ssize_t)sizeof(out))
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], pids, sizeof(pids)), (ssize_t)sizeof(pids));
	close(p[0]);
	ck_assert_int_gt(pids[2], 0);
	ck_assert_int_eq(kill(berth, SIGKILL), 0);
	ck_assert_int_eq(waitpid(berth, NULL, 0), berth);
	/* The init and the worker come to the test (subreaper) to be reaped,
	 * in any order (the init's exit waits for the worker's zombie to be
	 * reaped): each killed.  The orphan, the init's child, is reaped by
	 * the kernel's namespace teardown. */
	int got[2] = {-1, -1};
	for (int waited = 0; (got[0] < 0 || got[1] < 0) && waited < 2000;) {
		pid_t r = waitpid(-1, &status, WNOHANG);
		for (size_t i = 0; i < 2; i++)
			if (r == pids[i])
				got[i] = status;
		if (r <= 0) {
			msleep(10);
			waited += 10;
		}
	}
	for (size_t i = 0; i < 2; i++)
		ck_assert_msg(got[i] >= 0 && WIFSIGNALED(got[i]) && WTERMSIG(got[i]) == SIGKILL,
			      "process %ld (%s) not killed: status %#x", (long)pids[i],
			      i ? "worker" : "init", got[i]);
	ck_assert(gone(pids[2]));
	rmapp();
}
END_TEST

int main(void)
{
	bool strict = getenv("BERTH_STRICT") && strcmp(getenv("BERTH_STRICT"), "1") == 0;
	Suite *s = suite_create("nsinit");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr, "test-nsinit: needs root%s\n",
			strict ? " (BERTH_STRICT=1: failing)" : "; skipped");
		return strict ? EXIT_FAILURE : 77;
	}
	tcase_add_test(tc, test_hostname);
	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_worker);
	tcase_add_test(tc, test_stop_leaves_nothing);
	tcase_add_test(tc, test_berth_killed);
	tcase_add_test(tc, test_hold_mounts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
