/* SPDX-License-Identifier: MIT */
/*
 * The instance's storage on the host, prepared by berth (the parent) before
 * any worker starts: the directories keyed <root>/<project>/<environment>/
 * <app>/<instance>/ (created step by step beneath an O_PATH fd of the root,
 * never following links), the shared service directories, and the disk
 * bound: an ext4 image of `disk` MB attached to a loop device
 * (LOOP_CONFIGURE, autoclear).  The image is never mounted in berth's
 * namespace: mount.c mounts it in each worker's private namespace, so
 * nothing stays mounted on the host once the worker and berth are gone.
 */
#ifndef BERTH_STORAGE_H
#define BERTH_STORAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "mountplan.h"

#define STORAGE_MKFS	    "/sbin/mkfs.ext4"
#define STORAGE_E2FSCK	    "/sbin/e2fsck"
#define STORAGE_RESIZE2FS   "/sbin/resize2fs"
#define STORAGE_SCRATCH_OLD "tmp.old." /* scratch directories older versions left */
#define STORAGE_LOOP_RECORD "loop"     /* the loop device of the running berth */

struct storage_opts {
	uid_t uid; /* owner of what the worker writes; (uid_t)-1: root */
	gid_t gid;
	bool require_quota;	     /* --require-disk-quota: no disk bound is an error */
	bool no_disk_bound;	     /* tests, --no-hooks: act as if no mechanism were available */
	const char *no_bound_reason; /* with no_disk_bound: why, for the warning */
	bool attach;		     /* berth exec: join the storage of a running berth */
	bool private_tmp;	     /* berth run/exec: /tmp is a tmpfs; the scratch
				      * directory older versions made is removed */
	const char *mkfs;	     /* NULL: STORAGE_MKFS, and so on */
	const char *e2fsck;
	const char *resize2fs;
};

struct storage {
	int root_fd;	/* the storage root, O_PATH */
	int inst_fd;	/* the instance directory, O_RDONLY, flock()ed */
	dev_t root_dev; /* identity of the root, re-checked by the worker's child */
	ino_t root_ino;
	bool bounded;	   /* the disk bound is in force */
	bool attached;	   /* joined a running berth's storage (no scratch renewal,
			    * no sweep, its loop device) */
	bool private_tmp;  /* storage_opts.private_tmp */
	int loop_fd;	   /* the loop device, or -1 */
	int img_fd;	   /* the image, flock()ed shared while in use, or -1 */
	char loop_dev[32]; /* "/dev/loopN" */
	dev_t loop_rdev;
	uint64_t image_bytes; /* the image's size */
	uid_t uid;
	gid_t gid;
};

/*
 * Prepare the plan's storage: create the storage root (0700) and the key
 * directories (0700, root), lock the instance (a second berth for the same
 * instance is refused), create the service directories and, when the plan
 * has a disk, the image (mkfs.ext4 on first use, e2fsck + resize2fs when
 * `disk` changed) and its loop device; check that it mounts and create the
 * local mounts' source directories in it.  Local mount sources are created
 * in the plain local directory when there is no bound.  Leftover scratch
 * directories of earlier runs are removed.  Without a disk mechanism: one
 * warning, no bound, unless require_quota (then -EOPNOTSUPP).  Returns 0 or
 * -errno (logged).  With o->attach, an instance another berth holds is
 * joined instead of refused: its loop device (recorded in the instance
 * directory, checked against the image's inode) and its scratch are used,
 * nothing is created, resized or swept.
 */
int storage_open(const struct mountplan *p, const struct storage_opts *o, struct storage *s);

/* A disk p->disk_mb that cannot be bounded (why): a warning, or with
 * require_quota an error.  0 or -EOPNOTSUPP (logged). */
int storage_unbounded(const struct mountplan *p, bool require_quota, const char *why);

/* Remove the scratch directories earlier starts left behind (tmp.old.*,
 * and tmp itself with private_tmp), by fd, never following links; one
 * info line when there were any.  Safe to call between starts. */
int storage_sweep(struct storage *s);

/* For OCI containers: an fd (O_RDONLY) of the source of op, a bind from
 * storage, made as the worker's if missing and never following a link:
 * beneath img (the image's detached root) when op is local and img >= 0,
 * else beneath the storage root (the scratch directory of tmp mounts made
 * if missing).  -errno (logged) on failure. */
int storage_source(const struct storage *s, const struct mountplan_op *op, int img);

/* Sweep, release the loop device (autoclear detaches it once no worker
 * namespace mounts it any more), unlock, close. */
void storage_close(struct storage *s);

/* Remove the tree `name` beneath dirfd without following links (unlinkat by
 * fd; very deep trees are flattened, not recursed into without bound). */
int storage_remove_tree(int dirfd, const char *name);

/* Mount the attached image detached (in no tree, invisible to everyone)
 * with the MOUNT_ATTR_* attrs, checked to be on s's loop device.  The
 * mount's fd, or -errno (not logged; -EXDEV: not on the loop device).
 * System calls only. */
int storage_mount_image(const struct storage *s, unsigned attrs);

/* Image size in bytes for disk MB (10^6 bytes), rounded down to 4 KiB. */
uint64_t storage_image_bytes(uint64_t disk_mb);

#endif
