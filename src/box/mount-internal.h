/* SPDX-License-Identifier: MIT */
/*
 * Shared by mount.c and mount-root.c: the child's state while it builds
 * the worker's view, and the system-call helpers both use (no allocation,
 * no logging: they run between clone and execve).
 */
#ifndef BERTH_MOUNT_INTERNAL_H
#define BERTH_MOUNT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "mount.h"

/* Descriptors the child holds while it applies the plan (-1: not yet). */
struct mount_state {
	int host;  /* "/" of berth's namespace (private copy) */
	int sroot; /* the storage root, checked against what berth saw */
	int app;   /* the app root: the host's, then its bind in the new root */
	int root;  /* the new root's tmpfs */
	int tmp;   /* the private /tmp */
	int null;  /* the new /dev/null, for masks */
};

/* Describe the failure in m->errbuf ("mounts (what 'path')"); returns err
 * (or -EIO when err is not negative). */
int mount_fail(struct mount_ctx *m, int err, const char *what, const char *path);
/* A fresh filesystem, detached: fsopen + fsconfig (opts: key, value
 * pairs, NULL-terminated; a NULL value sets a flag) + fsmount.  Its fd or
 * -errno. */
int mount_fs(const char *fstype, const char *const *opts, uint64_t attrs);
/* Move a detached mount onto dst.  0 or -errno. */
int mount_move(int mfd, int dst);
/* mount_fs() moved onto dst.  0 or -errno. */
int mount_fs_at(int dst, const char *fstype, const char *const *opts, uint64_t attrs);
/* Clone the tree at src, set the attributes, move it onto dst. */
int mount_bind_fd(int src, int dst, uint64_t set, uint64_t clr, bool recursive);
/* 0 when a and b are the same inode, -EXDEV when not. */
int mount_same_inode(int a, int b);
/* rel beneath base, whatever its type, O_PATH, without following any
 * symlink (the last component included).  fd or -errno. */
int mount_open_leaf(int base, const char *rel, unsigned sflags);
/* Decimal digits of v into out (at least 21 bytes). */
void mount_utoa(unsigned long v, char *out);

/* The ops of the new root (mount-root.c).  0 or -errno (m->errbuf set). */
int mount_root_op(struct mount_ctx *m, struct mount_state *s, size_t i);

#endif
