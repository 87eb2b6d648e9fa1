/* SPDX-License-Identifier: MIT */
/*
 * The disk image's space in the real kernel, as root: the image is fully
 * allocated (no holes) after it is created, after the worker's ext4 has
 * been mounted long enough for the kernel's lazy inode-table zeroing
 * (which the loop device turns into holes), and after it grows; a storage
 * root without the space is refused up front with one clear line and
 * nothing left behind (a small tmpfs as the root, in a mount namespace of
 * the test's own), and so is a root that cannot fallocate (ext2).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "storage.h"
#include "util.h"

#include "mnttest.h"

/* ext4 starts its lazy init at most 5 s after the mount
 * (EXT4_DEF_LI_MAX_START_DELAY), then zeroes a group per pass. */
#define HOLD_S 8

static void image_path(char *buf, size_t n)
{
	snprintf(buf, n, "%s/p/e/app/queue/disk.img", sroot);
}

/* Allocated bytes of the image; with *size its length. */
static long long allocated(long long *size)
{
	char p[PATH_MAX];
	struct stat st;

	image_path(p, sizeof(p));
	ck_assert_int_eq(stat(p, &st), 0);
	if (size)
		*size = (long long)st.st_size;
	return (long long)st.st_blocks * 512;
}

static int body_hold(void *arg)
{
	(void)arg;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/data/f", app);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "x", 1) != 1 || fsync(fd) < 0)
		return 1;
	close(fd);
	sleep(HOLD_S);
	return 0;
}

/* The worker mounts the image for HOLD_S seconds; no hole appears. */
static void mount_and_check(struct env *e, uint64_t mb)
{
	long long size, have;

	ck_assert_int_eq(run_worker_body(e, body_hold, NULL, false), 0);
	have = allocated(&size);
	ck_assert_int_eq(size, (long long)storage_image_bytes(mb));
	ck_assert_msg(have >= size, "the %lld-byte image has only %lld bytes allocated", size,
		      have);
}

START_TEST(test_allocated_after_mount)
{
	struct env e;
	long long size;

	ck_assert_int_eq(open_env(&e), 0);
	ck_assert(e.st.bounded);
	ck_assert_int_ge(allocated(&size), size);
	mount_and_check(&e, 32);
	close_env(&e);
}
END_TEST

START_TEST(test_allocated_after_growth)
{
	struct env e;

	w.disk_mb = 16;
	ck_assert_int_eq(open_env(&e), 0);
	close_env(&e);
	w.disk_mb = 48;
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert_uint_eq(e.st.image_bytes, storage_image_bytes(48));
	mount_and_check(&e, 48);
	close_env(&e);
}
END_TEST

/* A hole punched into an existing image (as the loop device does) is
 * filled at the next open. */
START_TEST(test_hole_refilled)
{
	struct env e;
	char p[PATH_MAX];
	long long size;

	ck_assert_int_eq(open_env(&e), 0);
	close_env(&e);
	image_path(p, sizeof(p));
	int fd = open(p, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	/* the last 4 MB hold no metadata worth keeping in a fresh ext4 */
	ck_assert_int_eq(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				   (off_t)storage_image_bytes(32) - (4 << 20), 4 << 20),
			 0);
	close(fd);
	ck_assert_int_lt(allocated(&size), size);
	ck_assert_int_eq(open_env(&e), 0);
	ck_assert_int_ge(allocated(&size), size);
	close_env(&e);
}
END_TEST

/* --- the storage root without the space ------------------------------------ */

/* In a child with its own mount namespace: the storage root on an 8 MB
 * tmpfs, or (ext2) on an ext2 image, whose files cannot be fallocate()d. */
static void in_root(void (*body)(void), bool ext2)
{
	char cmd[512];
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(90);
		mkdirs(sroot);
		if (!ext2 && mount("berth-test", sroot, "tmpfs", MS_NOSUID | MS_NODEV,
				   "size=8m,mode=0700") < 0)
			_exit(91);
		snprintf(cmd, sizeof(cmd),
			 "truncate -s 64M %s/ext2.img && mkfs.ext2 -q -F %s/ext2.img && "
			 "mount -o loop %s/ext2.img %s && chmod 700 %s",
			 base, base, base, sroot, sroot);
		if (ext2 && system(cmd) != 0)
			_exit(92);
		body();
		_exit(0); /* the namespace and its mount go with the child */
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}

static void in_small_root(void (*body)(void))
{
	in_root(body, false);
}

/* storage_open with stderr captured; its result, *said the first line. */
static int open_capture(struct env *e, char *said, size_t n)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/stderr", base);
	fflush(stderr);
	int save = dup(2), fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, 2), 0);
	int r = open_env(e);
	fflush(stderr);
	dup2(save, 2);
	close(save);
	close(fd);
	char *s = slurp_file(p);
	snprintf(said, n, "%s", s);
	free(s);
	said[strcspn(said, "\n")] = '\0';
	return r;
}

static void refuse_fresh(void)
{
	struct env e;
	char said[1024], p[PATH_MAX];

	w.disk_mb = 32;
	ck_assert_int_eq(open_capture(&e, said, sizeof(said)), -ENOSPC);
	ck_assert_msg(strstr(said, "disk: the 32 MB disk of p/e/app/queue needs ") &&
			      strstr(said, " more bytes, but the storage root ") &&
			      strstr(said, " bytes available"),
		      "said: %s", said);
	image_path(p, sizeof(p));
	ck_assert_int_eq(access(p, F_OK), -1); /* nothing half-made */
	ck_assert_int_eq(errno, ENOENT);
}

START_TEST(test_refused_fresh)
{
	in_small_root(refuse_fresh);
}
END_TEST

static void refuse_growth(void)
{
	struct env e;
	char said[1024];
	long long size;

	w.disk_mb = 4;
	ck_assert_int_eq(open_env(&e), 0);
	close_env(&e);
	w.disk_mb = 16;
	ck_assert_int_eq(open_capture(&e, said, sizeof(said)), -ENOSPC);
	ck_assert_msg(strstr(said, "disk: the 16 MB disk of p/e/app/queue needs ") &&
			      strstr(said, " bytes available"),
		      "said: %s", said);
	/* the image is as it was, and still opens at its old size */
	ck_assert_int_ge(allocated(&size), size);
	ck_assert_int_eq(size, (long long)storage_image_bytes(4));
	w.disk_mb = 4;
	ck_assert_int_eq(open_env(&e), 0);
	close_env(&e);
}

START_TEST(test_refused_growth)
{
	in_small_root(refuse_growth);
}
END_TEST

static void refuse_no_fallocate(void)
{
	struct env e;
	char said[1024], p[PATH_MAX];

	w.disk_mb = 4;
	ck_assert_int_eq(open_capture(&e, said, sizeof(said)), -EOPNOTSUPP);
	ck_assert_msg(strstr(said, "disk: the filesystem of the storage root ") &&
			      strstr(said, " cannot allocate the disk image (fallocate: "),
		      "said: %s", said);
	image_path(p, sizeof(p));
	ck_assert_int_eq(access(p, F_OK), -1);
}

/* ext2 (files without extents) cannot fallocate: refused, not zero-filled. */
START_TEST(test_refused_no_fallocate)
{
	in_root(refuse_no_fallocate, true);
}
END_TEST

int main(void)
{
	main_pid = getpid();
	Suite *s = suite_create("disk");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_allocated_after_mount);
	tcase_add_test(tc, test_allocated_after_growth);
	tcase_add_test(tc, test_hole_refilled);
	tcase_add_test(tc, test_refused_fresh);
	tcase_add_test(tc, test_refused_growth);
	tcase_add_test(tc, test_refused_no_fallocate);
	suite_add_tcase(s, tc);
	return mnttest_main(s, "test-disk");
}
