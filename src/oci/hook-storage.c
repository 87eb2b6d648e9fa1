/* SPDX-License-Identifier: MIT */
/*
 * The instance's storage in an OCI container (berth hook): each storage
 * bind of the plan cloned detached in berth's namespace (local sources from
 * the disk image when the bound is in force), then moved by a helper that
 * joined the container's mount namespace onto the worker's mount paths
 * beneath the container's root; and the createContainer check that every
 * mount path is a mount.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "hook.h"
#include "log.h"
#include "mount.h"
#include "safepath.h"
#include "util.h"

struct storage_job {
	const char *root;	      /* the container's root, absolute */
	const struct mountplan *plan; /* borrowed */
	int *clones;		      /* per op: a detached clone to move, or -1 */
};

static bool storage_bind(const struct mountplan_op *op)
{
	return op->kind == MP_BIND && op->src_base == MPB_STORAGE && op->dst_base == MPB_APP;
}

/* The op's target relative to the container's root ("app/web/uploads"). */
static char *target_rel(const struct mountplan *p, const struct mountplan_op *op)
{
	return xasprintf("%s%s%s", p->app_root + 1, *op->target ? "/" : "", op->target);
}

/* Is fd on a shared mount (a mount below it would propagate to
 * its peers, the host's among them)?  From /proc/thread-self/mountinfo. */
static int mount_is_shared(int fd)
{
	struct statx stx;
	char *text = NULL, *line, *save = NULL, id[32];
	size_t cap = 0;
	int r = 0;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP;
	FILE *f = fopen("/proc/thread-self/mountinfo", "re");
	if (!f)
		return -errno;
	snprintf(id, sizeof(id), "%" PRIu64 " ", (uint64_t)stx.stx_mnt_id);
	while (getline(&text, &cap, f) > 0) {
		if (!str_has_prefix(text, id))
			continue;
		/* optional fields: after the 6th field, up to " - " */
		line = strstr(text, " - ");
		if (line)
			*line = '\0';
		strtok_r(text, " ", &save);
		for (int i = 1; (line = strtok_r(NULL, " ", &save)); i++)
			if (i >= 6 && str_has_prefix(line, "shared:"))
				r = 1;
		break;
	}
	free(text);
	fclose(f);
	return r;
}

/* Moves the storage clone of op i onto its mount point in the
 * container's root (root), a private mount, and checks it landed there;
 * 0, or 1 (logged). */
static int place_one(const struct storage_job *j, int root, size_t i)
{
	const struct mountplan *p = j->plan;
	_cleanup_free_ char *rel = target_rel(p, &p->ops[i]);
	_cleanup_close_ int dst = -1, again = -1;
	struct stat want, got;
	int r;

	dst = safepath_mkdir(root, rel, 0755, (uid_t)-1, (gid_t)-1, 0, NULL);
	if (dst < 0) {
		log_errno(dst,
			  "mount '%s': the mount point %s in the container's root "
			  "(a symlink or a non-directory on its path is refused)",
			  p->ops[i].target, rel);
		return 1;
	}
	r = mount_is_shared(dst);
	if (r != 0) {
		if (r > 0)
			log_error("mount '%s': %s is on a shared mount in the container: "
				  "the storage would propagate out of it (use "
				  "rootfsPropagation private or slave)",
				  p->ops[i].target, rel);
		else
			log_errno(r, "mount '%s': the propagation of %s", p->ops[i].target, rel);
		return 1;
	}
	if (fstat(j->clones[i], &want) < 0 ||
	    move_mount(j->clones[i], "", dst, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		log_errno(-errno, "mount '%s': bind onto %s in the container", p->ops[i].target,
			  rel);
		return 1;
	}
	again = safepath_open(root, rel, O_PATH, 0);
	if (again < 0 || fstat(again, &got) < 0 || got.st_dev != want.st_dev ||
	    got.st_ino != want.st_ino) {
		log_error("mount '%s': the storage did not land on %s in the container",
			  p->ops[i].target, rel);
		return 1;
	}
	return 0;
}

/* The helper, in the container's mount namespace: each clone moved onto
 * its target beneath the root, made if missing without following a
 * symlink, and checked where it landed.  Exit status 0 or 1. */
static int storage_child(int pidfd, void *data)
{
	struct storage_job *j = data;
	_cleanup_close_ int root = -1;

	if (setns(pidfd, CLONE_NEWNS) < 0) {
		log_errno(-errno, "setns into the container's mount namespace");
		return 1;
	}
	root = open(j->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		log_errno(-errno, "open the container's root %s", j->root);
		return 1;
	}
	for (size_t i = 0; i < j->plan->n_ops; i++)
		if (j->clones[i] >= 0 && place_one(j, root, i) != 0)
			return 1;
	return 0;
}

/* A detached clone of op's source (storage_source). */
static int clone_source(const struct mountplan_op *op, const struct storage *s, int img)
{
	_cleanup_close_ int src = storage_source(s, op, img);
	int fd;

	if (src < 0)
		return src;
	fd = mount_clone(src, op->attr_set, op->attr_clr, false);
	if (fd < 0)
		return log_errno(fd, "mount '%s': clone its source '%s'", op->target, op->source);
	return fd;
}

int hook_mount_storage(int pidfd, const struct hook_bundle *b, const struct mountplan *p,
		       const struct storage *s)
{
	struct storage_job j = {.root = b->root, .plan = p};
	_cleanup_close_ int img = -1;
	size_t n = 0;
	int r = 0;

	j.clones = xmalloc((p->n_ops + 1) * sizeof(int));
	for (size_t i = 0; i < p->n_ops; i++)
		j.clones[i] = -1;
	if (s->bounded) {
		img = storage_mount_image(s, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
		if (img < 0)
			r = log_errno(img, "mount the disk image %s", s->loop_dev);
	}
	for (size_t i = 0; r == 0 && i < p->n_ops; i++) {
		const struct mountplan_op *op = &p->ops[i];
		_cleanup_free_ char *dest = NULL;

		if (!storage_bind(op))
			continue;
		dest = xasprintf("%s%s%s", p->app_root, *op->target ? "/" : "", op->target);
		if (hook_bundle_mounts(b, dest)) {
			if (op->msource == MOUNT_LOCAL && s->bounded) {
				log_error("mount '%s': config.json mounts %s itself, which would "
					  "bypass the disk bound of %" PRIu64
					  " MB (remove that mount: berth hook mounts the storage)",
					  op->target, dest, p->disk_mb);
				r = -EINVAL;
			}
			continue; /* config.json binds the storage directories */
		}
		r = j.clones[i] = clone_source(op, s, img);
		if (r >= 0) {
			r = 0;
			n++;
		}
	}
	if (r == 0 && n > 0)
		r = hook_helper(pidfd, storage_child, &j, "the storage mounts");
	for (size_t i = 0; i < p->n_ops; i++)
		if (j.clones[i] >= 0)
			close(j.clones[i]);
	free(j.clones);
	return r;
}

int hook_check_storage(int rootfd, const struct mountplan *p)
{
	for (size_t i = 0; i < p->n_ops; i++) {
		const struct mountplan_op *op = &p->ops[i];
		_cleanup_free_ char *rel = NULL;
		_cleanup_close_ int fd = -1;
		struct statx stx;

		if (!storage_bind(op))
			continue;
		rel = target_rel(p, op);
		fd = safepath_open(rootfd, rel, O_PATH, 0);
		if (fd < 0 && fd != -ENOENT)
			return log_errno(fd, "mount '%s': %s in the container's root", op->target,
					 rel);
		if (fd >= 0 && statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) < 0)
			return log_errno(-errno, "statx %s", rel);
		if (fd < 0 || ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
			       !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))) {
			log_error("mount '%s': nothing is mounted at %s in the container (is "
				  "`berth hook createRuntime` registered?)",
				  op->target, rel);
			return -ENOENT;
		}
	}
	return 0;
}
