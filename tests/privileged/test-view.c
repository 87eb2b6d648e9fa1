/* SPDX-License-Identifier: MIT */
/*
 * The worker's view through the real start path: view_open() in the test
 * (berth's side), view_step() as a spawn_worker() step, /bin/sh -c in the
 * child; and a failing step reported with what failed; the hosts file and
 * a resolv.conf linked into /run; the scratch directories of older
 * versions removed.  As root, under /var/tmp, everything removed
 * afterwards.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "exitcodes.h"
#include "log.h"
#include "spawn.h"
#include "util.h"

#include "looptest.h"
#include "view.h"

#define S(x) ((char *)(x))

static pid_t main_pid;
static char base[64];
static char *app, *sroot;
static struct mount mounts[2];
static struct worker w;
static struct view_opts vo;

static void setup(void)
{
	log_setup(LOG_FMT_TEXT, LOG_LVL_ERROR, "test");
	snprintf(base, sizeof(base), "/var/tmp/berth-view-%d-XXXXXX", (int)main_pid);
	ck_assert_ptr_nonnull(mkdtemp(base));
	app = xasprintf("%s/app", base);
	sroot = xasprintf("%s/state/storage", base);
	ck_assert_int_eq(mkdir(app, 0755), 0);
	memset(&w, 0, sizeof(w));
	mounts[0] = (struct mount){.path = S("data"), .source = MOUNT_LOCAL, .source_path = S("d")};
	mounts[1] =
		(struct mount){.path = S("var/cache"), .source = MOUNT_TMP, .source_path = S("c")};
	w.name = S("queue");
	w.app_name = S("app");
	w.app_dir = app;
	w.has_disk = true;
	w.disk_mb = 16;
	w.mounts = mounts;
	w.n_mounts = 2;
	memset(&vo, 0, sizeof(vo));
	vo.state_dir = xasprintf("%s/state", base); /* storage root: <state>/storage */
	vo.project = "p";
	vo.environment = "e";
	vo.uid = (uid_t)-1;
	vo.gid = (gid_t)-1;
}

static void teardown(void)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", base);
	ck_assert_int_eq(system(cmd), 0);
	free(app);
	free(sroot);
	free((char *)vo.state_dir);
}

static int start(struct view *v, const char *script)
{
	_cleanup_close_ int cwd = open(app, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *s = spawn_script(script, SIGTERM);
	char path[] = "PATH=/usr/bin:/bin";
	char *const env[] = {path, NULL};
	struct exec_step step = view_step(v);
	struct spawn_opts o = {
		.script = s,
		.envp = env,
		.cwd_fd = cwd,
		.stdin_fd = -1,
		.steps = &step,
		.n_steps = 1,
	};
	struct spawn_result res;
	int status;

	ck_assert_int_eq(spawn_worker(&o, &res), 0);
	ck_assert_int_eq(waitpid(res.pid, &status, 0), res.pid);
	close(res.pidfd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

START_TEST(test_through_spawn)
{
	struct view v;

	ck_assert_int_eq(view_open(&w, &vo, &v), 0);
	ck_assert(v.st.bounded);
	/* the missing mount point var/cache was made in the app tree */
	_cleanup_free_ char *vc = xasprintf("%s/var/cache", app);
	ck_assert_int_eq(access(vc, F_OK), 0);
	_cleanup_free_ char *script =
		xasprintf("set -e; test \"$(pwd)\" = '%s'; echo 1 > data/f; echo 2 > var/cache/f; "
			  "echo 3 > /tmp/f; if (echo x > x) 2>/dev/null; then exit 3; fi; "
			  "grep -q ' %s/data rw,nosuid,nodev' /proc/self/mountinfo",
			  app, app);
	ck_assert_int_eq(start(&v, script), 0);
	ck_assert_int_eq(start(&v, "set -e; test \"$(cat data/f)\" = 1; test ! -e var/cache/f; "
				   "test ! -e /tmp/f"),
			 0);
	/* the cgroup hierarchies berth found, in a cgroup namespace of the
	 * child's own: it is at their roots */
	ck_assert_int_eq(start(&v, "set -e; test -z \"$(grep -v ':/$' /proc/self/cgroup)\"; "
				   "f=/sys/fs/cgroup/unified/cgroup.procs; "
				   "[ -e $f ] || f=/sys/fs/cgroup/cgroup.procs; grep -qx $$ $f; "
				   "! mkdir /sys/fs/cgroup/x 2>/dev/null"),
			 0);
	view_sweep(&v);
	view_close(&v);
}
END_TEST

START_TEST(test_step_failure)
{
	struct view v;

	ck_assert_int_eq(view_open(&w, &vo, &v), 0);
	/* the app's mount point replaced by a symlink after berth checked it */
	_cleanup_free_ char *d = xasprintf("%s/data", app);
	ck_assert_int_eq(rmdir(d), 0);
	ck_assert_int_eq(symlink("/etc", d), 0);
	ck_assert_int_eq(start(&v, "exit 0"), BERTH_EXIT_SETUP);
	ck_assert_str_eq(v.m.errbuf, "mounts (open the target 'data')");
	view_close(&v);
}
END_TEST

START_TEST(test_attach)
{
	struct view run, ex;

	ck_assert_int_eq(view_open(&w, &vo, &run), 0);
	ck_assert_int_eq(start(&run, "set -e; echo 1 > data/f; echo 2 > /tmp/f"), 0);
	/* berth exec while berth run holds the instance: its disk and its /tmp */
	vo.attach = true;
	ck_assert_int_eq(view_open(&w, &vo, &ex), 0);
	ck_assert(ex.st.attached);
	ck_assert(ex.st.bounded);
	ck_assert_str_eq(ex.st.loop_dev, run.st.loop_dev);
	/* /tmp is the exec's own */
	ck_assert_int_eq(start(&ex, "set -e; test \"$(cat data/f)\" = 1; test ! -e /tmp/f; "
				    "echo 3 > data/g"),
			 0);
	view_close(&ex);
	ck_assert_int_eq(start(&run, "set -e; test \"$(cat data/g)\" = 3; test ! -e /tmp/f"), 0);
	view_close(&run);
	/* an exec that outlives the run it joined keeps the next run away from the disk */
	ck_assert_int_eq(view_open(&w, &vo, &run), 0);
	ck_assert_int_eq(view_open(&w, &vo, &ex), 0);
	ck_assert(ex.st.attached);
	view_close(&run);
	vo.attach = false;
	ck_assert_int_eq(view_open(&w, &vo, &run), -EBUSY);
	view_close(&ex);
	ck_assert_int_eq(view_open(&w, &vo, &run), 0);
	view_close(&run);
	vo.attach = true;
	/* with nobody running, exec opens the storage itself */
	ck_assert_int_eq(view_open(&w, &vo, &ex), 0);
	ck_assert(!ex.st.attached);
	ck_assert_int_eq(start(&ex, "set -e; test \"$(cat data/g)\" = 3"), 0);
	view_close(&ex);
}
END_TEST

START_TEST(test_hosts)
{
	struct view v;
	struct stat before, after;

	ck_assert_int_eq(stat("/etc/hosts", &before), 0);
	ck_assert_int_eq(view_open(&w, &vo, &v), 0);
	view_set_hosts(&v, "127.0.0.1\tlocalhost\n10.9.8.7\tdatabase.internal\n");
	/* the worker's, read-only, and no trace of it in the new root */
	ck_assert_int_eq(start(&v, "set -e; grep -q '^10.9.8.7	database.internal$' /etc/hosts; "
				   "if (echo x >> /etc/hosts) 2>/dev/null; then exit 3; fi; "
				   "test \"$(ls -A / | grep -c hosts)\" = 0"),
			 0);
	/* nothing on the host: its /etc/hosts is unchanged */
	ck_assert_int_eq(stat("/etc/hosts", &after), 0);
	ck_assert_int_eq(before.st_ino, after.st_ino);
	ck_assert_int_eq(before.st_mtime, after.st_mtime);
	/* without relationships: the host's file */
	view_set_hosts(&v, NULL);
	ck_assert_int_eq(start(&v, "! grep -q database.internal /etc/hosts"), 0);
	view_close(&v);
}
END_TEST

/* In a mount namespace of the test's own: /etc is a tmpfs whose
 * resolv.conf links into /run, as systemd-resolved does it. */
static int resolv_child(void)
{
	const char *conf = "nameserver 192.0.2.53\n";
	struct view v;
	int fd;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/etc", "tmpfs", 0, "mode=0755") < 0 ||
	    mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 ||
	    mkdir("/run/systemd", 0755) < 0 || mkdir("/run/systemd/resolve", 0755) < 0 ||
	    symlink("../run/systemd/resolve/stub-resolv.conf", "/etc/resolv.conf") < 0)
		return 90;
	fd = open("/run/systemd/resolve/stub-resolv.conf", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, conf, strlen(conf)) != (ssize_t)strlen(conf))
		return 91;
	close(fd);
	w.has_disk = false;
	if (view_open(&w, &vo, &v) < 0)
		return 92;
	int r = start(&v, "set -e; test \"$(cat /etc/resolv.conf)\" = 'nameserver 192.0.2.53'; "
			  "test -L /etc/resolv.conf; test \"$(ls -A /run)\" = systemd");
	view_close(&v);
	return r;
}

START_TEST(test_resolv_link)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(resolv_child());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), 0);
}
END_TEST

START_TEST(test_old_scratch_removed)
{
	struct view v;

	ck_assert_int_eq(view_open(&w, &vo, &v), 0);
	view_close(&v);
	/* what an older berth left: its scratch directory and renamed ones */
	_cleanup_free_ char *cmd = xasprintf(
		"set -e; cd '%s/p/e/app/queue'; mkdir -p tmp/c tmp.old.12/a/b tmp.old.13; "
		"echo x > tmp/c/f; echo y > tmp.old.12/a/b/f",
		sroot);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(view_open(&w, &vo, &v), 0);
	free(cmd);
	cmd = xasprintf("test \"$(ls -A '%s/p/e/app/queue' | sort | tr '\\n' ' ')\" = "
			"'disk.img local loop '",
			sroot);
	ck_assert_int_eq(system(cmd), 0);
	/* and a start makes none */
	ck_assert_int_eq(start(&v, "set -e; echo 1 > /tmp/f; echo 2 > var/cache/f"), 0);
	ck_assert_int_eq(system(cmd), 0);
	view_close(&v);
}
END_TEST

START_TEST(test_app_beneath_tmp)
{
	char tbase[64];
	snprintf(tbase, sizeof(tbase), "/tmp/berth-view-%d-XXXXXX", (int)main_pid);
	struct view v;

	ck_assert_ptr_nonnull(mkdtemp(tbase));
	_cleanup_free_ char *tapp = xasprintf("%s/app", tbase);
	_cleanup_free_ char *marker = xasprintf("%s/marker", tbase);
	ck_assert_int_eq(mkdir(tapp, 0755), 0);
	ck_assert_int_eq(mkdir(marker, 0755), 0);
	free(app);
	app = xstrdup(tapp);
	w.app_dir = app;
	ck_assert_int_eq(view_open(&w, &vo, &v), 0);
	/* the app is there at its path, read-only, with its mounts; the rest of
	 * the host's /tmp is not: /tmp holds the app's path, the tmp mount's
	 * source (c) and what the worker wrote */
	_cleanup_free_ char *script =
		xasprintf("set -e; test \"$(pwd)\" = '%s'; echo 1 > data/f; echo 2 > /tmp/f; "
			  "if (echo x > x) 2>/dev/null; then exit 3; fi; test ! -e '%s'; "
			  "test \"$(ls /tmp | sort | tr '\\n' ' ')\" = '%s c f '",
			  tapp, marker, tbase + 5);
	ck_assert_int_eq(start(&v, script), 0);
	ck_assert_int_eq(start(&v, "set -e; test \"$(cat data/f)\" = 1; test ! -e /tmp/f"), 0);
	view_close(&v);
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tbase);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_remove_tree)
{
	/* 300 levels, links to outside at several depths, a FIFO: all removed,
	 * nothing followed */
	_cleanup_free_ char *cmd = xasprintf(
		"set -e; cd '%s'; mkdir keep; touch keep/file; mkdir t; cd t; "
		"for i in $(seq 300); do mkdir d; ln -s ../../../keep l; mkfifo p; cd d; done",
		base);
	ck_assert_int_eq(system(cmd), 0);
	int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(storage_remove_tree(fd, "t"), 0);
	ck_assert_int_eq(faccessat(fd, "t", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	ck_assert_int_eq(faccessat(fd, "keep/file", F_OK, 0), 0);
	ck_assert_int_eq(storage_remove_tree(fd, "absent"), 0);
	close(fd);
	free(cmd);
	cmd = xasprintf("test \"$(ls -A '%s')\" = 'app\nkeep'", base);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_describe)
{
	json_t *j = view_describe(&w, &vo);
	ck_assert_ptr_nonnull(j);
	json_t *st = json_object_get(j, "storage");
	ck_assert_str_eq(json_string_value(json_object_get(st, "root")), sroot);
	json_decref(j);
	vo.project = "..";
	ck_assert_ptr_null(view_describe(&w, &vo));
}
END_TEST

int main(void)
{
	char sweep[128];

	main_pid = getpid();
	Suite *s = suite_create("view");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_through_spawn);
	tcase_add_test(tc, test_step_failure);
	tcase_add_test(tc, test_attach);
	tcase_add_test(tc, test_hosts);
	tcase_add_test(tc, test_resolv_link);
	tcase_add_test(tc, test_old_scratch_removed);
	tcase_add_test(tc, test_app_beneath_tmp);
	tcase_add_test(tc, test_remove_tree);
	tcase_add_test(tc, test_describe);
	suite_add_tcase(s, tc);
	snprintf(sweep, sizeof(sweep), "/var/tmp/berth-view-%d-* /tmp/berth-view-%d-*",
		 (int)main_pid, (int)main_pid);
	return looptest_main(s, "test-view", sweep);
}
