/* SPDX-License-Identifier: MIT */
/*
 * The mount view against attacks in the real kernel, as root: a planted
 * storage/x -> /etc, an app directory replaced by a symlink to outside, a
 * dangling symlink component, a symlink where berth creates the instance
 * directory, FIFO and device sources, and 1000 starts (half with the
 * openat walk instead of openat2) against a loop swapping symlinks in.
 * Nothing may be mounted or created outside the instance's storage.
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

/* --- rule 5 and 6: attacks -------------------------------------------------- */

/* The local storage directory on the host (no disk image: plain directory). */
static void local_path(char *p, size_t n, const char *rel)
{
	snprintf(p, n, "%s/p/e/app/queue/local/%s", sroot, rel);
}

static bool outside_empty(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", outside);
	return system(cmd) == 0;
}

START_TEST(test_planted_storage_symlink)
{
	struct env e;
	char p[PATH_MAX];

	so.no_disk_bound = true;
	ck_assert_int_eq(open_env(&e), 0);
	/* the tenant replaces its storage directory with a link to /etc */
	local_path(p, sizeof(p), "data");
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(symlink("/etc", p), 0);
	ck_assert_int_eq(run_worker_body(&e, NULL, NULL, false), 201);
	ck_assert_str_eq(e.m.errbuf,
			 "mounts (open the source (a symlink, FIFO or device is refused) 'data')");
	close_env(&e);
	/* the next berth refuses it too, and leaves /etc alone */
	ck_assert_int_eq(open_env(&e), -ELOOP);
	/* a FIFO or a device in its place is refused as well */
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mkfifo(p, 0644), 0);
	ck_assert_int_eq(open_env(&e), -ENOTDIR);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mknod(p, S_IFCHR | 0644, makedev(1, 3)), 0);
	ck_assert_int_eq(open_env(&e), -ENOTDIR);
}
END_TEST

START_TEST(test_app_dir_symlink)
{
	struct env e;
	char p[PATH_MAX];

	/* web -> a directory outside the app tree */
	snprintf(p, sizeof(p), "%s/web", app);
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(symlink(outside, p), 0);
	ck_assert_int_eq(open_env(&e), -ELOOP);
	ck_assert(outside_empty());

	/* swapped in after berth checked it */
	ck_assert_int_eq(unlink(p), 0);
	mkdirs(p);
	so.no_disk_bound = true;
	ck_assert_int_eq(open_env(&e), 0);
	snprintf(p, sizeof(p), "%s/web/uploads", app);
	ck_assert_int_eq(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/web", app);
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(symlink(outside, p), 0);
	ck_assert_int_eq(run_worker_body(&e, NULL, NULL, false), 201);
	ck_assert(outside_empty());
	close_env(&e);
}
END_TEST

START_TEST(test_dangling_component)
{
	struct env e;
	char p[PATH_MAX], gone[PATH_MAX];

	snprintf(gone, sizeof(gone), "%s/gone", outside);
	snprintf(p, sizeof(p), "%s/web", app);
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(symlink(gone, p), 0);
	ck_assert_int_eq(open_env(&e), -ELOOP);
	ck_assert(outside_empty());
	/* in storage: a dangling link where a source's parent should be */
	ck_assert_int_eq(unlink(p), 0);
	mkdirs(p);
	so.no_disk_bound = true;
	mounts[3].source_path = S("deep/uploads");
	ck_assert_int_eq(open_env(&e), 0);
	close_env(&e);
	local_path(p, sizeof(p), "deep/uploads");
	ck_assert_int_eq(rmdir(p), 0);
	local_path(p, sizeof(p), "deep");
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(symlink(gone, p), 0);
	ck_assert_int_eq(open_env(&e), -ELOOP); /* berth refuses it */
	ck_assert(outside_empty());
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(open_env(&e), 0); /* and later the child does */
	local_path(p, sizeof(p), "deep/uploads");
	ck_assert_int_eq(rmdir(p), 0);
	local_path(p, sizeof(p), "deep");
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(symlink(gone, p), 0);
	ck_assert_int_eq(run_worker_body(&e, NULL, NULL, false), 201);
	ck_assert(outside_empty());
	close_env(&e);
}
END_TEST

START_TEST(test_instance_dir_symlink)
{
	struct env e;
	char p[PATH_MAX], target[PATH_MAX];
	struct stat before, after;

	/* rule 6: a link where berth would create the instance's directory */
	snprintf(p, sizeof(p), "%s/p/e/app", sroot);
	mkdirs(p);
	ck_assert_int_eq(chmod(sroot, 0700), 0);
	snprintf(p, sizeof(p), "%s/p/e/app/queue", sroot);
	ck_assert_int_eq(symlink(outside, p), 0);
	ck_assert_int_eq(stat(outside, &before), 0);
	ck_assert_int_eq(open_env(&e), -ELOOP);
	ck_assert_int_eq(stat(outside, &after), 0);
	ck_assert(outside_empty());
	ck_assert_uint_eq(before.st_mode, after.st_mode);
	ck_assert_uint_eq(before.st_uid, after.st_uid);
	snprintf(target, sizeof(target), "%s/local", outside);
	ck_assert(access(target, F_OK) < 0);
}
END_TEST

START_TEST(test_ro_bind_symlink)
{
	struct env e;
	char link[PATH_MAX], via[PATH_MAX];
	const char *binds[] = {link, NULL};

	/* --ro-bind naming a symlink, or a path through one: refused by the
	 * child, nothing bound */
	snprintf(link, sizeof(link), "%s/link", base);
	ck_assert_int_eq(symlink("/root", link), 0);
	po.ro_binds = binds;
	so.no_disk_bound = true;
	ck_assert_int_eq(open_env(&e), 0);
	quiet = true;
	ck_assert_int_eq(run_worker_body(&e, NULL, NULL, false), 201);
	ck_assert_ptr_nonnull(strstr(e.m.errbuf, "a symlink is refused"));
	close_env(&e);
	snprintf(via, sizeof(via), "%s/link/x", base);
	binds[0] = via;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert_int_eq(run_worker_body(&e, NULL, NULL, false), 201);
	close_env(&e);
	quiet = false;
}
END_TEST

/* Check, inside the worker's namespace, that no mount comes from or lands
 * in the outside directory. */
static int body_no_outside(void *arg)
{
	(void)arg;
	char *mi = slurp_file("/proc/self/mountinfo");
	int r = strstr(mi, "/outside") ? 1 : 0;
	free(mi);
	return r;
}

static volatile sig_atomic_t stop_swap;

static void on_term(int sig)
{
	(void)sig;
	stop_swap = 1;
}

/* Swap a real directory and a link to outside, atomically, as fast as we can. */
static pid_t start_swapper(const char *dir, const char *name)
{
	char real[PATH_MAX], evil[PATH_MAX];
	snprintf(real, sizeof(real), "%s/%s", dir, name);
	snprintf(evil, sizeof(evil), "%s/%s.evil", dir, name);
	ck_assert_int_eq(symlink(outside, evil), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGTERM, on_term);
		while (!stop_swap)
			renameat2(AT_FDCWD, real, AT_FDCWD, evil, RENAME_EXCHANGE);
		_exit(0);
	}
	return pid;
}

START_TEST(test_race_1000)
{
	struct env e;
	char p[PATH_MAX];
	int ok = 0, refused = 0;

	so.no_disk_bound = true;
	ck_assert_int_eq(open_env(&e), 0);
	local_path(p, sizeof(p), "");
	p[strlen(p) - 1] = '\0';
	pid_t s1 = start_swapper(p, "data");
	pid_t s2 = start_swapper(app, "web");
	quiet = true;
	for (int i = 0; i < 1000; i++) {
		e.m.safepath_flags = i % 2 ? SAFEPATH_FALLBACK : 0;
		int r = run_worker_body(&e, body_no_outside, NULL, false);
		if (r == 0)
			ok++;
		else if (r >= 201 && r <= 203)
			refused++;
		else
			ck_abort_msg("start %d: status %d (%s)", i, r, e.m.errbuf);
	}
	kill(s1, SIGTERM);
	kill(s2, SIGTERM);
	waitpid(s1, NULL, 0);
	waitpid(s2, NULL, 0);
	fprintf(stderr, "race: %d starts succeeded, %d refused\n", ok, refused);
	ck_assert(outside_empty());
	/* Any other status aborted above; both outcomes must have happened,
	 * or the swappers never raced the starts and nothing was shown. */
	ck_assert_msg(ok > 0 && refused > 0, "race: %d succeeded, %d refused: no race", ok,
		      refused);
	close_env(&e);
}
END_TEST

int main(void)
{
	main_pid = getpid();
	Suite *s = suite_create("mount-attacks");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_planted_storage_symlink);
	tcase_add_test(tc, test_app_dir_symlink);
	tcase_add_test(tc, test_dangling_component);
	tcase_add_test(tc, test_instance_dir_symlink);
	tcase_add_test(tc, test_ro_bind_symlink);
	tcase_add_test(tc, test_race_1000);
	suite_add_tcase(s, tc);
	return mnttest_main(s, "test-mount-attacks");
}
