/* SPDX-License-Identifier: MIT */
/*
 * The instance record (instance.c) on the real kernel: its text round-
 * trips and rejects what berth never writes; it is created 0600 in 0700
 * directories and refused through a symlink; a second taker is refused
 * (or joins), a record of a dead berth (pid gone, or reused with another
 * start time) is taken over and its cgroup removed with what ran in it,
 * one of a live berth that does not hold the lock is refused, and a
 * clean close removes the record.  The runtime directory is a temporary
 * one under /var/tmp.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "instance.h"
#include "log.h"
#include "util.h"

#define S(x) ((char *)(x))

static pid_t main_pid;
static char rd[64];
static char rec_path[256];
static const struct instance_key key = {"proj", "env", "app", "queue"};

static void setup(void)
{
	log_setup(LOG_FMT_TEXT, LOG_LVL_ERROR, "test");
	snprintf(rd, sizeof(rd), "/var/tmp/berth-inst-%d-XXXXXX", (int)main_pid);
	ck_assert_ptr_nonnull(mkdtemp(rd));
	snprintf(rec_path, sizeof(rec_path), "%s/run/instances/proj/env/app/queue", rd);
	strcat(rd, "/run");
}

static void teardown(void)
{
	char cmd[128];
	*strrchr(rd, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rd);
	ck_assert_int_eq(system(cmd), 0);
}

/* A record as a dead berth left it (its directories made as needed). */
static void write_record(const char *text)
{
	char cmd[512], *dir = xstrdup(rec_path);
	*strrchr(dir, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "umask 077 && mkdir -p '%s'", dir);
	free(dir);
	ck_assert_int_eq(system(cmd), 0);
	int fd = open(rec_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

START_TEST(test_text)
{
	char *cg[] = {S("/sys/fs/cgroup/unified/berth-q-1"), S("/sys/fs/cgroup/memory/a b/x"),
		      NULL};
	struct instance_rec r = {.pid = 42,
				 .start = 7,
				 .cgroups = cg,
				 .loop = S("/dev/loop3"),
				 .img_dev = 2049,
				 .img_ino = 99},
			    back;
	char *text = instance_format(&r);

	ck_assert_str_eq(text, "pid 42\nstart 7\ncgroup /sys/fs/cgroup/unified/berth-q-1\n"
			       "cgroup /sys/fs/cgroup/memory/a b/x\nloop /dev/loop3 2049 99\n");
	ck_assert_int_eq(instance_parse(text, &back), 0);
	ck_assert_int_eq(back.pid, 42);
	ck_assert_uint_eq(back.start, 7);
	ck_assert_str_eq(back.cgroups[1], cg[1]);
	ck_assert_ptr_null(back.cgroups[2]);
	ck_assert_str_eq(back.loop, "/dev/loop3");
	ck_assert_uint_eq(back.img_ino, 99);
	instance_rec_free(&back);
	free(text);
	const char *bad[] = {
		"start 7\n",				    /* no pid */
		"pid 1\ncgroup relative/x\n",		    /* not absolute */
		"pid 1\ncgroup /sys/fs/cgroup/../../etc\n", /* .. */
		"pid 1\ncgroup /\n",			    /* the root */
		"pid 1\nloop /dev/sda 1 2\n",		    /* not a loop device */
		"pid 1\nloop /dev/loop1\n",		    /* no image */
		"pid 1\nowner root\n",			    /* unknown */
		"pid 0\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(instance_parse(bad[i], &back) == -EINVAL, "accepted: %s", bad[i]);
}
END_TEST

START_TEST(test_modes_lock_and_close)
{
	struct instance a, b;
	struct stat st;
	char p[256];

	ck_assert_int_eq(instance_open(rd, &key, false, &a), 0);
	ck_assert_int_eq(stat(rec_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	snprintf(p, sizeof(p), "%s/instances/proj/env/app", rd);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	/* a second berth is refused, berth exec joins */
	ck_assert_int_eq(instance_open(rd, &key, false, &b), -EBUSY);
	ck_assert_int_eq(instance_open(rd, &key, true, &b), 1);
	ck_assert_int_eq(b.fd, -1);
	ck_assert_int_eq(access(rec_path, F_OK), 0); /* neither touched it */
	instance_close(&a);
	ck_assert_int_eq(access(rec_path, F_OK), -1); /* a clean close removes it */
	/* a berth whose cgroups are still recorded when it ends leaves the
	 * record for the next (a child: a dead berth is another process) */
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *cg[] = {S("/sys/fs/cgroup/unified/berth-never-made"), NULL};
		if (instance_open(rd, &key, false, &a) < 0 || instance_set_cgroups(&a, cg) < 0)
			_exit(1);
		instance_close(&a);
		_exit(access(rec_path, F_OK) == 0 ? 0 : 2);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	/* the next takes it over (the cgroup is gone already), closes clean */
	ck_assert_int_eq(instance_open(rd, &key, false, &a), 0);
	instance_close(&a);
	ck_assert_int_eq(access(rec_path, F_OK), -1);
	instance_close(&a); /* idempotent */
	/* its directories stay (a removal costs the stop a block's free) */
	snprintf(p, sizeof(p), "%s/instances/proj/env/app", rd);
	ck_assert_int_eq(access(p, F_OK), 0);
	/* and a berth that finds them removed meanwhile makes them again */
	snprintf(p, sizeof(p), "%s/instances/proj/env/app", rd);
	ck_assert_int_eq(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/instances/proj/env", rd);
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(instance_open(rd, &key, false, &a), 0);
	ck_assert_int_eq(access(rec_path, F_OK), 0);
	instance_close(&a);
}
END_TEST

START_TEST(test_symlink_refused)
{
	struct instance a;
	char target[300];

	ck_assert_int_eq(instance_open(rd, &key, false, &a), 0);
	instance_close(&a);
	snprintf(target, sizeof(target), "%s.target", rec_path);
	write_record("x");
	ck_assert_int_eq(rename(rec_path, target), 0);
	ck_assert_int_eq(symlink(target, rec_path), 0);
	ck_assert_int_lt(instance_open(rd, &key, false, &a), 0);
	ck_assert_int_eq(unlink(rec_path), 0);
	/* a key that is not one is refused before anything is made */
	struct instance_key k = key;
	k.app = "..";
	ck_assert_int_eq(instance_open(rd, &k, false, &a), -EINVAL);
}
END_TEST

/* A live process's start time, as the record writes it. */
static unsigned long long start_of(pid_t pid)
{
	char p[40], buf[1024];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	char *q = strrchr(buf, ')');
	for (int f = 2; f < 22; f++)
		q = strchr(q + 1, ' ');
	return strtoull(q + 1, NULL, 10);
}

START_TEST(test_live_holder_refused)
{
	struct instance a;
	char text[128];

	ck_assert_int_eq(instance_open(rd, &key, false, &a), 0);
	instance_close(&a);
	/* our parent is alive and does not hold the lock */
	snprintf(text, sizeof(text), "pid %d\nstart %llu\n", (int)getppid(), start_of(getppid()));
	write_record(text);
	ck_assert_int_eq(instance_open(rd, &key, false, &a), -EBUSY);
	/* the same pid with another start time: reused, so the berth is dead */
	snprintf(text, sizeof(text), "pid %d\nstart %llu\n", (int)getppid(),
		 start_of(getppid()) + 1);
	write_record(text);
	ck_assert_int_eq(instance_open(rd, &key, false, &a), 0);
	instance_close(&a);
}
END_TEST

/* A dead berth's cgroup with a process in it: killed and removed. */
START_TEST(test_dead_cgroup_removed)
{
	struct cgroup_layout l;
	struct cgroup cg;
	struct instance a;
	char name[64], text[512];

	ck_assert_int_eq(cgroup_detect(&l), 0);
	if (l.mode == CGROUP_MODE_NONE)
		return;
	snprintf(name, sizeof(name), "berth-inst-test-%d", (int)main_pid);
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		signal(SIGTERM, SIG_IGN);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(cgroup_attach(&cg, child), 0);
	char **dirs = cgroup_dirs(&cg);
	/* berth's supervisor leaf (pure v2) holds this test: not a dead one's */
	for (size_t i = 0; dirs[i]; i++)
		if (str_has_prefix(strrchr(dirs[i], '/'), "/berth-inst-test-") &&
		    strstr(dirs[i], "-supervisor")) {
			free(dirs[i]);
			dirs[i] = NULL;
		}
	struct instance_rec r = {.pid = 4194303, .start = 1, .cgroups = dirs};
	char *t = instance_format(&r);
	snprintf(text, sizeof(text), "%s", t);
	free(t);
	ck_assert_int_eq(instance_open(rd, &key, false, &a), 0);
	instance_close(&a);
	write_record(text);
	ck_assert_int_eq(instance_open(rd, &key, false, &a), 0);
	int status;
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	for (size_t i = 0; dirs[i]; i++)
		ck_assert_msg(access(dirs[i], F_OK) < 0, "%s is left", dirs[i]);
	instance_close(&a);
	strv_free(dirs);
	cgroup_destroy(&cg); /* gone already: no-op */
	cgroup_release(&cg);
	cgroup_layout_free(&l);
}
END_TEST

int main(void)
{
	if (geteuid() != 0)
		return getenv("BERTH_STRICT") && strcmp(getenv("BERTH_STRICT"), "1") == 0 ? 1 : 77;
	main_pid = getpid();
	Suite *s = suite_create("instance");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_modes_lock_and_close);
	tcase_add_test(tc, test_symlink_refused);
	tcase_add_test(tc, test_live_holder_refused);
	tcase_add_test(tc, test_dead_cgroup_removed);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* what a failed test could not clean up (teardown does not run then) */
	char cmd[512];
	snprintf(
		cmd, sizeof(cmd),
		"rm -rf /var/tmp/berth-inst-%d-* && for d in $(find /sys/fs/cgroup -maxdepth 6 "
		"-depth -type d -name 'berth-inst-test-%d*'); do kill -KILL $(cat $d/cgroup.procs) "
		"2>/dev/null; sleep 0.1; rmdir $d; done",
		(int)main_pid, (int)main_pid);
	if (system(cmd) != 0)
		failed++;
	return failed ? 1 : 0;
}
