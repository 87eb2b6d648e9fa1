/* SPDX-License-Identifier: MIT */
/*
 * berth hook's storage in the real kernel, as root (hook-storage.c): a
 * forked "container" in a private mount namespace gets the instance's
 * storage beneath its root from hook_mount_storage, bounded (ext4 on a
 * loop device, ENOSPC, the image locked while mounted, nothing left on the
 * host once the namespace dies) or not; a config.json binding the local
 * storage itself and a shared mount are refused; hook_check_storage.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hook.h"
#include "pidfd.h"
#include "spawn.h"
#include "storage.h"
#include "util.h"

#include "mnttest.h"

struct box {
	pid_t pid;
	int pidfd;
	int release; /* closing it ends the container */
	char root[PATH_MAX];
};

/* The "container": a child in a private mount namespace (its root made a
 * shared mount when asked), alive until box_end. */
static void box_start(struct box *b, bool shared)
{
	int ready[2], hold[2];
	char c;

	snprintf(b->root, sizeof(b->root), "%s/rootfs", base);
	mkdirs(b->root);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(hold, O_CLOEXEC), 0);
	b->pid = fork();
	ck_assert_int_ge(b->pid, 0);
	if (b->pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(1);
		if (shared && (mount(b->root, b->root, NULL, MS_BIND, NULL) < 0 ||
			       mount(NULL, b->root, NULL, MS_SHARED, NULL) < 0))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		close(hold[1]);
		while (read(hold[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	b->release = hold[1];
	b->pidfd = pidfd_open_pid(b->pid);
	ck_assert_int_ge(b->pidfd, 0);
}

static void box_end(struct box *b)
{
	int st;

	close(b->release);
	ck_assert_int_eq(waitpid(b->pid, &st, 0), b->pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(b->pidfd);
}

/* path beneath the container's root, as the container sees it */
static void in_box(const struct box *b, const char *rel, char *out, size_t n)
{
	snprintf(out, n, "/proc/%d/root%s%s/%s", (int)b->pid, b->root, app, rel);
}

/* The container's mount table line for rel beneath its root, or "". */
static char *box_mount(const struct box *b, const char *rel)
{
	char p[64], want[PATH_MAX + 2];
	char *all, *line, *found = NULL;

	snprintf(p, sizeof(p), "/proc/%d/mountinfo", (int)b->pid);
	snprintf(want, sizeof(want), " %s%s/%s ", b->root, app, rel);
	all = slurp_file(p);
	for (line = strtok(all, "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, want))
			found = xstrdup(line);
	free(all);
	return found ? found : xstrdup("");
}

static int image_fd(void)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/p/e/app/queue/disk.img", sroot);
	return open(p, O_RDONLY | O_CLOEXEC);
}

static void plan_only(struct mountplan *p)
{
	char *err = NULL;

	ck_assert_int_eq(mountplan_build(&w, &po, p, &err), 0);
}

static int mount_into(struct box *b, struct hook_bundle *hb)
{
	struct env e;
	int r = open_env(&e);

	ck_assert_int_eq(r, 0);
	hb->root = b->root;
	r = hook_mount_storage(b->pidfd, hb, &e.plan, &e.st);
	close_env(&e);
	return r;
}

START_TEST(test_bounded)
{
	struct box b;
	struct hook_bundle hb = {0};
	struct mountplan plan;
	struct env e;
	char p[PATH_MAX];
	char *line;
	int fd, img, rootfd;

	box_start(&b, false);
	ck_assert_int_eq(mount_into(&b, &hb), 0);
	/* the local mounts are the image, nosuid,nodev; the others bound */
	line = box_mount(&b, "data");
	ck_assert_msg(strstr(line, " - ext4 /dev/loop") && strstr(line, "nosuid,nodev"), "%s",
		      line);
	free(line);
	line = box_mount(&b, "web/uploads");
	ck_assert_msg(strstr(line, " - ext4 /dev/loop"), "%s", line);
	free(line);
	line = box_mount(&b, "cache");
	ck_assert_msg(*line && !strstr(line, "/dev/loop"), "cache: %s", line);
	free(line);
	/* hook_check_storage from a descriptor of the container's root */
	snprintf(p, sizeof(p), "/proc/%d/root%s", (int)b.pid, b.root);
	rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(rootfd, 0);
	plan_only(&plan);
	ck_assert_int_eq(hook_check_storage(rootfd, &plan), 0);
	mountplan_free(&plan);
	close(rootfd);
	/* the worker's writes are bounded by disk (32 MB) */
	in_box(&b, "data/fill", p, sizeof(p));
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	char buf[65536] = {0};
	ssize_t n;
	size_t total = 0;
	while ((n = write(fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_uint_lt(total, 32000000);
	ck_assert_int_eq(ftruncate(fd, 5), 0);
	close(fd);
	/* locked while the container mounts it: no second opener */
	img = image_fd();
	ck_assert_int_ge(img, 0);
	ck_assert_int_eq(flock(img, LOCK_EX | LOCK_NB), -1);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	ck_assert_int_eq(open_env(&e), -EBUSY);
	box_end(&b);
	/* the namespace is gone: the loop device detaches, the lock with it */
	for (int i = 0; i < 100 && flock(img, LOCK_EX | LOCK_NB) < 0; i++)
		usleep(20000);
	ck_assert_int_eq(flock(img, LOCK_UN), 0);
	close(img);
	/* and the data persists into the next container */
	box_start(&b, false);
	ck_assert_int_eq(mount_into(&b, &hb), 0);
	in_box(&b, "data/fill", p, sizeof(p));
	struct stat st;
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, 5);
	box_end(&b);
}
END_TEST

START_TEST(test_unbounded)
{
	struct box b;
	struct hook_bundle hb = {0};
	char p[PATH_MAX];
	char *line;
	int fd;

	so.no_disk_bound = true;
	box_start(&b, false);
	ck_assert_int_eq(mount_into(&b, &hb), 0);
	line = box_mount(&b, "data");
	ck_assert_msg(*line && !strstr(line, "/dev/loop"), "%s", line);
	free(line);
	in_box(&b, "data/x", p, sizeof(p));
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/p/e/app/queue/local/data/x", sroot);
	ck_assert_int_eq(access(p, F_OK), 0);
	box_end(&b);
}
END_TEST

START_TEST(test_refused)
{
	struct box b;
	struct hook_bundle hb = {0};
	char dest[PATH_MAX], *line;
	char *dests[] = {dest, NULL};

	/* config.json binding the local storage itself would bypass the bound */
	snprintf(dest, sizeof(dest), "%s/data", app);
	hb.mounts = dests;
	box_start(&b, false);
	ck_assert_int_eq(mount_into(&b, &hb), -EINVAL);
	line = box_mount(&b, "data");
	ck_assert_str_eq(line, "");
	free(line);
	box_end(&b);
	/* a shared mount would propagate the storage out of the container */
	hb.mounts = NULL;
	box_start(&b, true);
	ck_assert_int_lt(mount_into(&b, &hb), 0);
	line = box_mount(&b, "data");
	ck_assert_str_eq(line, "");
	free(line);
	box_end(&b);
}
END_TEST

START_TEST(test_check_missing)
{
	struct box b;
	struct mountplan plan;
	char p[PATH_MAX];
	int rootfd;

	box_start(&b, false);
	snprintf(p, sizeof(p), "/proc/%d/root%s", (int)b.pid, b.root);
	rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(rootfd, 0);
	plan_only(&plan);
	ck_assert_int_eq(hook_check_storage(rootfd, &plan), -ENOENT);
	mountplan_free(&plan);
	close(rootfd);
	box_end(&b);
}
END_TEST

int main(void)
{
	main_pid = getpid();
	Suite *s = suite_create("hook-storage");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_bounded);
	tcase_add_test(tc, test_unbounded);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_check_missing);
	suite_add_tcase(s, tc);
	return mnttest_main(s, "test-hook-storage");
}
