/* SPDX-License-Identifier: MIT */
/*
 * The instance's storage on the host (see storage.h): key directories by
 * fd, the instance lock, service directories, the ext4 image and its loop
 * device.  Making, allocating and resizing the image (mkfs.ext4, e2fsck,
 * resize2fs) is in storage-image.c; removing scratch trees in
 * storage-tree.c.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "safepath.h"
#include "storage-internal.h"
#include "storage.h"
#include "util.h"

static int record_loop(struct storage *s);

uint64_t storage_image_bytes(uint64_t disk_mb)
{
	return disk_mb * 1000000ULL / 4096 * 4096;
}

static int loop_attach(int imgfd, const char *label, struct storage *s)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	for (int tries = 0; tries < 16; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return -errno;
		snprintf(s->loop_dev, sizeof(s->loop_dev), "/dev/loop%d", n);
		_cleanup_close_ int fd = open(s->loop_dev, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		struct loop_config cfg;
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (unsigned)imgfd;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		snprintf((char *)cfg.info.lo_file_name, LO_NAME_SIZE, "berth:%s", label);
		int r = ioctl(fd, LOOP_CONFIGURE, &cfg);
		if (r < 0 && (errno == EINVAL || errno == ENOTTY)) {
			/* before 5.8: set the file, then the flags */
			r = ioctl(fd, LOOP_SET_FD, imgfd);
			if (r == 0 && ioctl(fd, LOOP_SET_STATUS64, &cfg.info) < 0) {
				int err = errno;
				ioctl(fd, LOOP_CLR_FD, 0);
				return -err;
			}
		}
		if (r < 0 && errno == EBUSY)
			continue; /* taken meanwhile */
		if (r < 0)
			return -errno;
		struct stat st;
		if (fstat(fd, &st) < 0)
			return -errno;
		s->loop_rdev = st.st_rdev;
		s->loop_fd = TAKE_FD(fd);
		return 0;
	}
	return -EBUSY;
}

int storage_mount_image(const struct storage *s, unsigned attrs)
{
	struct stat st;
	int fs = fsopen("ext4", FSOPEN_CLOEXEC), mfd = -1, r = 0;

	if (fs < 0)
		return -errno;
	/* noinit_itable: the kernel's background zeroing of inode tables
	 * (those resize2fs adds are left to it) goes through the loop device
	 * as "write zeroes", which punches holes in the image; the tables
	 * read as zeros already (mkfs wrote them, growth is fallocated). */
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", s->loop_dev, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_FLAG, "noinit_itable", NULL, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
	    (mfd = fsmount(fs, FSMOUNT_CLOEXEC, attrs)) < 0 || fstat(mfd, &st) < 0)
		r = -errno;
	else if (st.st_dev != s->loop_rdev)
		r = -EXDEV;
	close(fs);
	if (r < 0 && mfd >= 0)
		close(mfd);
	return r < 0 ? r : mfd;
}

/* Mount the image detached (never attached to any tree: invisible on the
 * host), set the root's owner and create the local sources in it. */
static int check_and_fill(const struct mountplan *p, struct storage *s)
{
	_cleanup_close_ int mfd = storage_mount_image(s, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mfd < 0)
		return mfd;
	if (s->uid != (uid_t)-1 && fchownat(mfd, "", s->uid, s->gid, AT_EMPTY_PATH) < 0)
		return -errno;
	for (size_t i = 0; i < p->n_ops; i++) {
		const struct mountplan_op *op = &p->ops[i];
		if (op->kind != MP_BIND || op->msource != MOUNT_LOCAL)
			continue;
		int fd = safepath_mkdir(mfd, op->source, 0755, s->uid, s->gid, SAFEPATH_NO_XDEV,
					NULL);
		if (fd < 0)
			return log_errno(fd, "mount '%s': its source '%s' in local storage",
					 op->target, op->source);
		close(fd);
	}
	return 0;
}

/* Why the disk cannot be bounded here (no bound asked, no mkfs, no loop
 * devices), or NULL when it can be tried. */
static const char *disk_unavailable(const struct storage_opts *o)
{
	if (o->no_disk_bound)
		return o->no_bound_reason ? o->no_bound_reason : "disabled";
	if (access(o->mkfs ? o->mkfs : STORAGE_MKFS, X_OK) < 0)
		return "mkfs.ext4 is not installed (e2fsprogs)";
	if (access("/dev/loop-control", W_OK) < 0)
		return "no loop devices (/dev/loop-control)";
	return NULL;
}

/* Opens (creating it when missing: *fresh) the instance's disk image, a
 * plain file, and locks it exclusively; returns the fd. */
static int open_image(const struct mountplan *p, struct storage *s, bool *fresh, struct stat *st)
{
	_cleanup_close_ int img = openat(s->inst_fd, MOUNTPLAN_DISK_IMAGE,
					 O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	*fresh = true;
	if (img < 0 && errno == EEXIST) {
		*fresh = false;
		img = openat(s->inst_fd, MOUNTPLAN_DISK_IMAGE, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	}
	if (img < 0)
		return log_errno(-errno, "open the disk image");
	if (fstat(img, st) < 0)
		return log_errno(-errno, "stat the disk image");
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1) {
		log_error("the disk image is not a plain file");
		return -EINVAL;
	}
	/* Whoever mounts the image holds it shared (a berth exec may outlive
	 * the berth run it joined): no mkfs, resize or second loop meanwhile. */
	if (flock(img, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			log_error("the disk of %s is still in use (by a berth exec, or a "
				  "container of an OCI runtime?)",
				  p->instance_dir);
		return errno == EWOULDBLOCK ? -EBUSY : log_errno(-errno, "lock the disk image");
	}
	return TAKE_FD(img);
}

/* Gives the image its size and blocks: a fresh one allocated and made
 * ext4 (removed again on failure), an old one resized and its holes
 * filled. */
static int size_image(const struct mountplan *p, const struct storage_opts *o, struct storage *s,
		      int img, bool fresh, uint64_t have, uint64_t want)
{
	int r;

	if (fresh) {
		/* allocated before and after mkfs: it may punch what it zeroes */
		r = storage_allocate_image(p, img, want);
		if (r == 0)
			r = storage_mkfs_image(o, img);
		if (r == 0)
			r = storage_allocate_image(p, img, want);
		if (r < 0) {
			unlinkat(s->inst_fd, MOUNTPLAN_DISK_IMAGE, 0);
			return r;
		}
		log_info("created the %" PRIu64 " MB disk image", p->disk_mb);
		return 0;
	}
	if (have != want) {
		r = storage_resize_image(p, o, img, have, want);
		if (r < 0)
			return r;
	}
	return storage_allocate_image(p, img, want); /* fills holes of earlier runs */
}

/* Attaches the image (now s->img_fd) to a loop device, mounts it to fill
 * it and records the device.  0: bounded; 1: no mechanism (*why). */
static int attach_image(const struct mountplan *p, struct storage *s, const char **why)
{
	_cleanup_close_ int img = dup(s->img_fd);
	int r;

	if (img < 0)
		return log_errno(-errno, "dup");
	r = loop_attach(img, p->instance_dir, s);
	if (r == -ENOENT || r == -EPERM || r == -EACCES || r == -ENXIO) {
		*why = "no usable loop device";
		return 1;
	}
	if (r < 0)
		return log_errno(r, "attach the disk image to a loop device");
	r = check_and_fill(p, s);
	if (r == -ENODEV || r == -ENOSYS) {
		*why = "the kernel cannot mount ext4 here";
		close(s->loop_fd);
		s->loop_fd = -1;
		return 1;
	}
	if (r < 0)
		return log_errno(r, "mount the disk image %s", s->loop_dev);
	return record_loop(s);
}

/* 0: bounded; 1: no mechanism (reason logged by the caller); < 0: error. */
static int open_disk(const struct mountplan *p, const struct storage_opts *o, struct storage *s,
		     const char **why)
{
	uint64_t want = storage_image_bytes(p->disk_mb);
	struct stat st;
	bool fresh;
	int r;

	*why = disk_unavailable(o);
	if (*why)
		return 1;
	_cleanup_close_ int img = open_image(p, s, &fresh, &st);
	if (img < 0)
		return img;
	r = size_image(p, o, s, img, fresh, (uint64_t)st.st_size, want);
	if (r < 0)
		return r;
	s->image_bytes = want;
	if (flock(img, LOCK_SH) < 0)
		return log_errno(-errno, "lock the disk image");
	s->img_fd = TAKE_FD(img);
	return attach_image(p, s, why);
}

/* Write the loop device's name for berth exec (attach_running). */
static int record_loop(struct storage *s)
{
	_cleanup_close_ int fd =
		openat(s->inst_fd, STORAGE_LOOP_RECORD,
		       O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	char line[40];
	int n = snprintf(line, sizeof(line), "%s\n", s->loop_dev);

	if (fd < 0 || write(fd, line, (size_t)n) != n)
		return log_errno(-errno, "record the loop device");
	return 0;
}

/* Join the disk of the berth holding the instance: the loop device it
 * recorded, if that is still backed by this instance's image. */
static int attach_running(struct storage *s)
{
	char buf[40] = "";
	struct stat img, st;
	struct loop_info64 li;

	_cleanup_close_ int rec =
		openat(s->inst_fd, STORAGE_LOOP_RECORD, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (rec < 0)
		return errno == ENOENT ? 0 : log_errno(-errno, "read the loop device record");
	ssize_t n = read(rec, buf, sizeof(buf) - 1);
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (n <= 0 || !str_has_prefix(buf, "/dev/loop") ||
	    strspn(buf + 9, "0123456789") != strlen(buf + 9) || !buf[9]) {
		log_error("the loop device record of the running berth is invalid");
		return -EINVAL;
	}
	_cleanup_close_ int im =
		openat(s->inst_fd, MOUNTPLAN_DISK_IMAGE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (im < 0 || fstat(im, &img) < 0)
		return log_errno(-errno, "open the disk image");
	if (flock(im, LOCK_SH | LOCK_NB) < 0)
		return log_errno(-errno, "lock the disk image (is berth run still setting up?)");
	_cleanup_close_ int fd = open(buf, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, LOOP_GET_STATUS64, &li) < 0 || fstat(fd, &st) < 0)
		return log_errno(-errno, "open the running berth's disk %s", buf);
	if (li.lo_device != img.st_dev || li.lo_inode != img.st_ino) {
		log_error("%s is no longer this instance's disk", buf);
		return -ESTALE;
	}
	snprintf(s->loop_dev, sizeof(s->loop_dev), "%s", buf);
	s->loop_rdev = st.st_rdev;
	s->loop_fd = TAKE_FD(fd);
	s->bounded = true;
	s->image_bytes = (uint64_t)img.st_size;
	s->img_fd = TAKE_FD(im);
	return 0;
}

/* --- the directories ------------------------------------------------------ */

static int mkdir_root(const char *path)
{
	char *buf = xstrdup(path);

	for (char *q = buf + 1;; q++) {
		if (*q == '/' || !*q) {
			char c = *q;
			*q = '\0';
			if (mkdir(buf, c ? 0755 : 0700) < 0 && errno != EEXIST) {
				int r = log_errno(-errno, "create the storage root %s", buf);
				free(buf);
				return r;
			}
			*q = c;
			if (!c)
				break;
		}
	}
	free(buf);
	return 0;
}

static int mkdir_in(struct storage *s, int dirfd, const char *rel, mode_t mode, bool worker,
		    const char *what)
{
	int fd =
		safepath_mkdir(dirfd, rel, mode, worker ? s->uid : 0, worker ? s->gid : 0, 0, NULL);
	if (fd < 0)
		return log_errno(fd, "%s %s (a symlink or a non-directory on its path is refused)",
				 what, rel);
	return fd;
}

/* Creates and opens the storage root, which must belong to root and be
 * writable only by it. */
static int open_root(const struct mountplan *p, struct storage *s)
{
	struct stat st;
	int r = mkdir_root(p->storage_root);

	if (r < 0)
		return r;
	s->root_fd = open(p->storage_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0 || fstat(s->root_fd, &st) < 0)
		return log_errno(-errno, "open the storage root %s", p->storage_root);
	if (st.st_uid != 0 || (st.st_mode & 022)) {
		log_error("the storage root %s must belong to root and be writable only by it",
			  p->storage_root);
		return -EPERM;
	}
	s->root_dev = st.st_dev;
	s->root_ino = st.st_ino;
	return 0;
}

/* Creates and locks the instance directory.  0: locked; 1: held by a
 * running berth and joined (o->attach); < 0: error. */
static int lock_instance(const struct mountplan *p, const struct storage_opts *o, struct storage *s)
{
	int r = mkdir_in(s, s->root_fd, p->instance_dir, 0700, false, "the instance directory");

	if (r < 0)
		return r;
	s->inst_fd = r;
	if (flock(s->inst_fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	r = -errno;
	if (r == -EWOULDBLOCK && o->attach) {
		s->attached = true;
		r = attach_running(s);
		return r < 0 ? r : 1;
	}
	if (r == -EWOULDBLOCK)
		log_error("the storage of %s is in use by another berth", p->instance_dir);
	else
		log_errno(r, "lock the instance directory");
	return r;
}

/* Creates each service's directory (owned by the worker) under its
 * parent (root's). */
static int make_service_dirs(const struct mountplan *p, struct storage *s)
{
	for (size_t i = 0; p->service_dirs[i]; i++) {
		char *parent = xstrdup(p->service_dirs[i]);
		int fd;

		*strrchr(parent, '/') = '\0';
		fd = mkdir_in(s, s->root_fd, parent, 0700, false, "the service directory");
		free(parent);
		if (fd >= 0) {
			close(fd);
			fd = mkdir_in(s, s->root_fd, p->service_dirs[i], 0755, true,
				      "the service directory");
		}
		if (fd < 0)
			return fd;
		close(fd);
	}
	return 0;
}

int storage_unbounded(const struct mountplan *p, bool require_quota, const char *why)
{
	if (require_quota) {
		log_error("disk: cannot bound local storage to %" PRIu64
			  " MB (%s) and --require-disk-quota is set",
			  p->disk_mb, why);
		return -EOPNOTSUPP;
	}
	log_msg(LOG_LVL_WARN, "disk-unbounded",
		"disk: cannot bound local storage to %" PRIu64
		" MB (%s); running without the bound",
		p->disk_mb, why);
	return 0;
}

/* Bounds local storage with the disk image when the plan has a disk; an
 * unbounded disk is a warning, or an error with --require-disk-quota. */
static int bound_disk(const struct mountplan *p, const struct storage_opts *o, struct storage *s)
{
	const char *why = NULL;
	int r;

	if (!p->has_disk)
		return 0;
	r = open_disk(p, o, s, &why);
	if (r < 0)
		return r;
	s->bounded = r == 0;
	if (r == 0)
		return 0;
	return storage_unbounded(p, o->require_quota, why);
}

/* Creates the local directory (the image's mount point, or the storage
 * itself) and, unbounded, the local mounts' sources in it. */
static int make_local_dir(const struct mountplan *p, struct storage *s)
{
	_cleanup_close_ int fd =
		mkdir_in(s, s->inst_fd, MOUNTPLAN_LOCAL_DIR, s->bounded ? 0700 : 0755, !s->bounded,
			 "the local storage directory");
	if (fd < 0)
		return fd;
	for (size_t i = 0; !s->bounded && i < p->n_ops; i++) {
		const struct mountplan_op *op = &p->ops[i];
		if (op->kind != MP_BIND || op->msource != MOUNT_LOCAL)
			continue;
		int q = safepath_mkdir(fd, op->source, 0755, s->uid, s->gid, SAFEPATH_NO_XDEV,
				       NULL);
		if (q < 0)
			return log_errno(q, "mount '%s': its source '%s' in local storage",
					 op->target, op->source);
		close(q);
	}
	return 0;
}

int storage_open(const struct mountplan *p, const struct storage_opts *o, struct storage *s)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->root_fd = s->inst_fd = s->loop_fd = s->img_fd = -1;
	s->uid = o->uid;
	s->gid = o->uid == (uid_t)-1 ? (gid_t)-1 : o->gid;

	r = open_root(p, s);
	if (r < 0)
		goto fail;
	r = lock_instance(p, o, s);
	if (r == 1)
		return 0; /* joined a running berth's storage */
	if (r < 0)
		goto fail;
	r = make_service_dirs(p, s);
	if (r < 0)
		goto fail;
	s->private_tmp = o->private_tmp;
	r = storage_sweep(s);
	if (r < 0)
		goto fail;
	r = bound_disk(p, o, s);
	if (r < 0)
		goto fail;
	r = make_local_dir(p, s);
	if (r < 0)
		goto fail;
	return 0;
fail:
	storage_close(s);
	return r;
}

int storage_source(const struct storage *s, const struct mountplan_op *op, int img)
{
	_cleanup_close_ int base = -1;
	int fd;

	if (!(op->msource == MOUNT_LOCAL && img >= 0)) {
		/* The scratch directory: berth run makes a new one at each start;
		 * OCI containers take it as it is (shared, not emptied). */
		if (op->msource == MOUNT_TMP)
			base = safepath_mkdir(s->root_fd, op->src_dir, 01777, 0, 0, 0, NULL);
		else
			base = safepath_open(s->root_fd, op->src_dir, O_PATH, 0);
		if (base < 0)
			return log_errno(base, "mount '%s': the storage directory %s", op->target,
					 op->src_dir);
	}
	fd = safepath_mkdir(base >= 0 ? base : img, op->source, 0755, s->uid, s->gid,
			    SAFEPATH_NO_XDEV, NULL);
	if (fd < 0)
		return log_errno(fd,
				 "mount '%s': its source '%s' (a symlink, FIFO or device is "
				 "refused)",
				 op->target, op->source);
	return fd;
}

void storage_close(struct storage *s)
{
	if (s->inst_fd >= 0 && !s->attached)
		storage_sweep(s);
	if (s->inst_fd >= 0 && !s->attached && s->loop_fd >= 0)
		unlinkat(s->inst_fd, STORAGE_LOOP_RECORD, 0);
	if (s->loop_fd >= 0)
		close(s->loop_fd);
	if (s->img_fd >= 0)
		close(s->img_fd); /* releases the image's lock */
	if (s->inst_fd >= 0)
		close(s->inst_fd); /* releases the instance's lock */
	if (s->root_fd >= 0)
		close(s->root_fd);
	s->loop_fd = s->img_fd = s->inst_fd = s->root_fd = -1;
}
