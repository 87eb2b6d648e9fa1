/* SPDX-License-Identifier: MIT */
/*
 * The worker's view in the real kernel, as root: storage.c prepares a
 * dedicated storage root under /var/tmp, mount.c's apply runs in a forked
 * child that then drops to nobody and probes what it can write; setuid
 * in storage, persistence, tmp emptied, two instances, the disk bound
 * (ENOSPC).  The attacks are in test-mount-attacks.c.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "mount.h"
#include "mountplan.h"
#include "safepath.h"
#include "storage.h"
#include "util.h"

#include "mnttest.h"

/* --- the view ------------------------------------------------------------- */

static int body_view(void *arg)
{
	(void)arg;
	char p[PATH_MAX];
	int bad = 0;

	/* writable: storage mounts and /tmp */
	const char *yes[] = {"data", "web/uploads", "cache", "shared"};
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		snprintf(p, sizeof(p), "%s/%s", app, yes[i]);
		if (!can_write(p, "f"))
			bad |= 1 << i;
	}
	if (!can_write("/tmp", "f"))
		bad |= 1 << 4;
	/* not writable: the app root, its submount, the host, the storage root */
	snprintf(p, sizeof(p), "%s/sub", app);
	if (can_write(app, "f") || can_write(p, "f"))
		bad |= 1 << 5;
	if (can_write("/var/tmp", "berth-test-must-not-exist") || can_write(base, "f"))
		bad |= 1 << 6;
	snprintf(p, sizeof(p), "%s/p/e/app/web", sroot);
	if (has(sroot, "p") || can_write(p, "f"))
		bad |= 1 << 7;
	/* cwd is the read-only app root */
	if (!getcwd(p, sizeof(p)) || strcmp(p, app) != 0)
		bad |= 1 << 8;
	/* the cgroup tree is read-only */
	if (can_write("/sys/fs/cgroup", "x") || access("/sys/fs/cgroup", W_OK) == 0)
		bad |= 1 << 9;
	if (bad)
		fprintf(stderr, "view: failed checks 0x%x\n", bad);
	return bad ? 1 : 0;
}

/* Before apply: a writable tmpfs submount of the app tree (in a namespace
 * of the child's own, so the host never sees it). */
static int submount_then_view(void *arg)
{
	(void)arg;
	return body_view(NULL);
}

START_TEST(test_view)
{
	struct env e;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert(e.st.bounded);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char sub[256];
		snprintf(sub, sizeof(sub), "%s/sub", app);
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", sub, "tmpfs", 0, "mode=0777") < 0)
			_exit(99);
		_exit(run_worker_body(&e, submount_then_view, NULL, false));
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert(!has("/var/tmp", "berth-test-must-not-exist"));
	/* fallback resolution (no openat2) gives the same view */
	e.m.safepath_flags = SAFEPATH_FALLBACK;
	ck_assert_int_eq(run_worker_body(&e, body_view, NULL, false), 0);
	close_env(&e);
}
END_TEST

static int body_mountinfo(void *arg)
{
	(void)arg;
	char *mi = slurp_file("/proc/self/mountinfo");
	char want[PATH_MAX];
	int bad = 0;
	snprintf(want, sizeof(want), " %s/data rw,nosuid,nodev", app);
	if (!strstr(mi, want))
		bad |= 1;
	snprintf(want, sizeof(want), " %s ro,nosuid,nodev", app);
	if (!strstr(mi, want))
		bad |= 2;
	if (bad)
		fprintf(stderr, "mountinfo (0x%x):\n%s", bad, mi);
	free(mi);
	return bad;
}

START_TEST(test_flags_and_setuid)
{
	struct env e;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert_int_eq(run_worker_body(&e, body_mountinfo, NULL, false), 0);

	/* As root inside the view: a setuid-root id in storage; then as nobody. */
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (mount_apply(&e.m) < 0)
			_exit(90);
		char id[PATH_MAX], cmd[PATH_MAX + 64];
		snprintf(id, sizeof(id), "%s/data/id", app);
		snprintf(cmd, sizeof(cmd), "cp /usr/bin/id '%s' && chmod 4755 '%s'", id, id);
		if (system(cmd) != 0)
			_exit(91);
		if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(92);
		snprintf(cmd, sizeof(cmd), "test \"$('%s' -u)\" = %d", id, NOBODY);
		_exit(system(cmd) == 0 ? 0 : 93);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	close_env(&e);
}
END_TEST

/* --- persistence, tmp, instances ------------------------------------------ */

static int body_write(void *arg)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/data", app);
	int fd = open(strcat(p, "/who"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, arg, strlen(arg)) != (ssize_t)strlen(arg))
		return 1;
	close(fd);
	snprintf(p, sizeof(p), "%s/cache", app);
	return can_write(p, "scratch") && can_write("/tmp", "scratch") ? 0 : 2;
}

static int body_read(void *arg)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/data/who", app);
	char *s = slurp_file(p);
	int r = strcmp(s, arg) == 0 ? 0 : 1;
	if (r)
		fprintf(stderr, "read '%s', want '%s'\n", s, (char *)arg);
	free(s);
	snprintf(p, sizeof(p), "%s/cache", app);
	if (has(p, "scratch") || has("/tmp", "scratch"))
		r |= 2; /* tmp is emptied on each start */
	return r;
}

START_TEST(test_persist_and_tmp)
{
	struct env e;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert_int_eq(run_worker_body(&e, body_write, S("queue"), false), 0);
	/* a restart of the worker */
	ck_assert_int_eq(run_worker_body(&e, body_read, S("queue"), false), 0);
	close_env(&e);
	/* a restart of berth, with the disk grown */
	w.disk_mb = 48;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert_uint_eq(e.st.image_bytes, storage_image_bytes(48));
	ck_assert_int_eq(run_worker_body(&e, body_read, S("queue"), false), 0);
	close_env(&e);
}
END_TEST

START_TEST(test_two_instances)
{
	struct env a, b;
	ck_assert_int_eq(open_env(&a), 0);
	po.instance = "web";
	ck_assert_int_eq(open_env(&b), 0);
	ck_assert_int_eq(run_worker_body(&a, body_write, S("queue"), false), 0);
	ck_assert_int_eq(run_worker_body(&b, body_write, S("web"), false), 0);
	ck_assert_int_eq(run_worker_body(&a, body_read, S("queue"), false), 0);
	ck_assert_int_eq(run_worker_body(&b, body_read, S("web"), false), 0);
	/* a second berth for one instance is refused */
	struct env c;
	ck_assert_int_eq(open_env(&c), -EWOULDBLOCK);
	close_env(&a);
	close_env(&b);
}
END_TEST

/* --- disk ------------------------------------------------------------------ */

static int body_fill(void *arg)
{
	(void)arg;
	char p[PATH_MAX], buf[65536];
	long total = 0;
	int err = 0;

	memset(buf, 'x', sizeof(buf));
	snprintf(p, sizeof(p), "%s/data/fill", app);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return 1;
	for (;;) {
		ssize_t n = write(fd, buf, sizeof(buf));
		if (n <= 0) {
			err = n < 0 ? errno : 0;
			break;
		}
		total += n;
		if (total > 100L * 1000000)
			break;
	}
	if (fsync(fd) < 0 && !err)
		err = errno;
	close(fd);
	fprintf(stderr, "wrote %ld bytes of a 32 MB disk (%s)\n", total, strerror(err));
	if (err != ENOSPC)
		return 2;
	if (total > 32L * 1000000 || total < 24L * 1000000)
		return 3;
	/* the rest of the worker's world is unaffected */
	return can_write("/tmp", "after") ? 0 : 4;
}

START_TEST(test_disk_enospc)
{
	struct env e;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert(e.st.bounded);
	ck_assert_int_eq(run_worker_body(&e, body_fill, NULL, false), 0);
	close_env(&e);
}
END_TEST

START_TEST(test_no_bound)
{
	struct env e;
	so.no_disk_bound = true;
	so.require_quota = true;
	ck_assert_int_eq(open_env(&e), -EOPNOTSUPP);
	so.require_quota = false;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert(!e.st.bounded);
	ck_assert_int_eq(run_worker_body(&e, body_view, NULL, false), 0);
	close_env(&e);
}
END_TEST

int main(void)
{
	main_pid = getpid();
	Suite *s = suite_create("mount");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_view);
	tcase_add_test(tc, test_flags_and_setuid);
	tcase_add_test(tc, test_persist_and_tmp);
	tcase_add_test(tc, test_two_instances);
	tcase_add_test(tc, test_disk_enospc);
	tcase_add_test(tc, test_no_bound);
	suite_add_tcase(s, tc);
	return mnttest_main(s, "test-mount");
}
