/* SPDX-License-Identifier: MIT */
/*
 * The disk image's helpers: mkfs.ext4, e2fsck and resize2fs run by
 * absolute path with an empty environment and the image as fd 3, and the
 * allocation of every block of the image (see storage-internal.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "storage-internal.h"
#include "util.h"

/* Run path argv with an empty environment, stdin/stdout on /dev/null,
 * stderr into out and the image as fd 3 (argv names it /proc/self/fd/3).
 * Returns the exit status (0-255), or -errno when it could not be run. */
static int run_helper(const char *path, const char *const argv[], int imgfd, struct strbuf *out)
{
	char *envp[] = {NULL}, buf[1024];
	int status, p[2];
	ssize_t n;

	if (access(path, X_OK) < 0)
		return -errno;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(p[1], 2) < 0 ||
		    dup2(imgfd, 3) < 0)
			_exit(127);
		syscall(SYS_close_range, 4U, ~0U, 0U);
		execve(path, (char *const *)argv, envp);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (out->len < 4096)
			strbuf_add(out, buf, (size_t)n);
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int helper(const char *path, const char *const argv[], int imgfd, int ok_max)
{
	struct strbuf out = {0};
	int r = run_helper(path, argv, imgfd, &out);

	if (r < 0) {
		strbuf_release(&out);
		return log_errno(r, "cannot run %s", path);
	}
	if (r > ok_max) {
		while (out.len && (out.buf[out.len - 1] == '\n'))
			out.buf[--out.len] = '\0';
		log_error("%s failed (exit status %d): %s", path, r, out.len ? out.buf : "");
		strbuf_release(&out);
		return -EIO;
	}
	strbuf_release(&out);
	return 0;
}

int storage_mkfs_image(const struct storage_opts *o, int imgfd)
{
	char owner[128];
	const char *mkfs = o->mkfs ? o->mkfs : STORAGE_MKFS;
	/* nodiscard: mkfs would punch the image's blocks out again.  The
	 * inode tables and journal are zeroed now, not lazily by the kernel
	 * once mounted: that zeroing goes through the loop device as "write
	 * zeroes", which the loop driver turns into holes in the image. */
	snprintf(owner, sizeof(owner),
		 "root_owner=%u:%u,nodiscard,lazy_itable_init=0,lazy_journal_init=0",
		 o->uid == (uid_t)-1 ? 0U : (unsigned)o->uid,
		 o->uid == (uid_t)-1 ? 0U : (unsigned)o->gid);
	const char *argv[] = {
		mkfs, "-q", "-F", "-m", "0", "-L", "berth", "-E", owner, "/proc/self/fd/3", NULL};
	return helper(mkfs, argv, imgfd, 0);
}

/*
 * Allocate every block of the image's `size` bytes (growing it to size):
 * a hole is space the worker's ext4 counts as its own but the storage
 * root has not given, so once other tenants fill the root, ext4 inside
 * fails with I/O errors and aborts its journal.  fallocate(2) mode 0
 * leaves data as it is and fills holes only, so it also repairs holes an
 * earlier run left (the kernel's zeroing through the loop device punches
 * them).  Refused up front, naming the space asked and available, when
 * the root cannot hold what is missing; a root whose filesystem cannot
 * fallocate is refused too (writing zeros would be undone by the same
 * punching, or by compression).  -ENOSPC, -EOPNOTSUPP or -errno, logged.
 */
int storage_allocate_image(const struct mountplan *p, int img, uint64_t size)
{
	struct stat st;
	struct statvfs vfs;

	if (fstat(img, &st) < 0 || fstatvfs(img, &vfs) < 0)
		return log_errno(-errno, "stat the disk image");
	uint64_t have = (uint64_t)st.st_blocks * 512, avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	uint64_t need = size > have ? size - have : 0;
	if (need > avail)
		goto full;
	if (fallocate(img, 0, 0, (off_t)size) == 0)
		return 0;
	if (errno == ENOSPC)
		goto full;
	if (errno == EOPNOTSUPP) {
		log_error("disk: the filesystem of the storage root %s cannot allocate the disk "
			  "image (fallocate: %s); put the storage root on ext4, XFS, btrfs or "
			  "tmpfs",
			  p->storage_root, strerror(errno));
		return -EOPNOTSUPP;
	}
	return log_errno(-errno, "allocate the %" PRIu64 "-byte disk image", size);
full:
	log_error("disk: the %" PRIu64 " MB disk of %s needs %" PRIu64
		  " more bytes, but the storage root %s has %" PRIu64 " bytes available",
		  p->disk_mb, p->instance_dir, need, p->storage_root, avail);
	return -ENOSPC;
}

int storage_resize_image(const struct mountplan *p, const struct storage_opts *o, int imgfd,
			 uint64_t have, uint64_t want)
{
	const char *fsck = o->e2fsck ? o->e2fsck : STORAGE_E2FSCK;
	const char *rs = o->resize2fs ? o->resize2fs : STORAGE_RESIZE2FS;
	char size[32];
	const char *fsck_argv[] = {fsck, "-f", "-p", "/proc/self/fd/3", NULL};
	const char *rs_argv[] = {rs, "/proc/self/fd/3", size, NULL};
	int r;

	snprintf(size, sizeof(size), "%" PRIu64 "K", want / 1024);
	r = helper(fsck, fsck_argv, imgfd, 1); /* 1: errors corrected */
	if (r < 0)
		return r;
	if (want > have) {
		r = storage_allocate_image(p, imgfd, want);
		if (r < 0) {
			if (ftruncate(imgfd, (off_t)have) < 0) /* what was allocated of it */
				log_errno(-errno, "shrink the disk image back");
			return r;
		}
	}
	r = helper(rs, rs_argv, imgfd, 0);
	if (r < 0) {
		if (want > have && ftruncate(imgfd, (off_t)have) < 0)
			log_errno(-errno, "shrink the disk image back");
		if (want < have)
			log_error("cannot shrink the disk to %" PRIu64 " bytes: does the data fit?",
				  want);
		return r;
	}
	if (want < have && ftruncate(imgfd, (off_t)want) < 0)
		return log_errno(-errno, "shrink the disk image");
	log_info("disk image resized from %" PRIu64 " to %" PRIu64 " bytes", have, want);
	return 0;
}
