/* SPDX-License-Identifier: MIT */
/*
 * Applying the mount plan in the worker's child: private mount and cgroup
 * namespaces (propagation cut before the first mount), the disk image, a
 * new root (an empty tmpfs) holding the host's OS read-only with its
 * secrets masked, a fresh /dev, /run, /proc and /sys, the cgroup
 * hierarchies, the app root at its path read-only, each storage source
 * resolved once by fd without symlinks and moved onto its target fd
 * (open_tree + mount_setattr + move_mount), re-checked by device and inode,
 * a bounded /tmp; then pivot_root into it, the host's tree detached, and
 * the cwd moved onto the read-only app root (mount-root.c has the new
 * root's parts).  mount_ctx_init() runs in berth (the parent) first: it
 * checks the app root and creates missing mount points there, with clear
 * messages, and reads what the child copies in (resolv.conf).
 */
#ifndef BERTH_MOUNT_H
#define BERTH_MOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "mountplan.h"
#include "execstep.h"
#include "storage.h"

#define MOUNT_ERRBUF_SIZE 512

struct mount_ctx {
	const struct mountplan *plan; /* borrowed */
	const struct storage *st;     /* borrowed */
	dev_t app_dev;		      /* identity of the app root */
	ino_t app_ino;
	unsigned safepath_flags; /* tests: SAFEPATH_FALLBACK */
	char *errbuf;		 /* shared with the child: "mounts (what failed)" */
	const char *hosts;	 /* borrowed: the worker's /etc/hosts, or NULL: the host's */
	char *resolv_rel;	 /* the host's /etc/resolv.conf links to /run/<this>, or NULL */
	char *resolv_text;	 /* ...whose content the child writes there */
	size_t resolv_len;
};

/*
 * Parent side, once before the first start: open the app root, record its
 * identity, resolve every mount target beneath it without symlinks, and
 * create the missing ones that are not inside another mount (mkdirat, root,
 * 0755).  A target whose path has a symlink or a non-directory, or that is
 * missing from a read-only app tree, is refused with a message naming the
 * mount.  Returns 0 or -errno (logged).
 */
int mount_ctx_init(struct mount_ctx *m, const struct mountplan *p, const struct storage *st);
void mount_ctx_free(struct mount_ctx *m);

/*
 * Child side (a struct exec_step's run): apply the plan to the calling
 * process, which must be root and single-threaded.  Only system calls, no
 * allocation.  On failure returns -errno and leaves a description in
 * m->errbuf; the process must then exit (its namespace dies with it, so
 * nothing it mounted outlives it).
 */
int mount_apply(void *m);

/* A detached clone of the tree at src (with its submounts when recursive),
 * the MOUNT_ATTR_* set and clr applied: its fd, or -errno.  System calls
 * only (berth hook moves such clones into a container). */
int mount_clone(int src, uint64_t set, uint64_t clr, bool recursive);

/* The step for spawn_opts.steps; its name is the shared error buffer, so
 * spawn's message names what failed. */
struct exec_step mount_step(struct mount_ctx *m);

#endif
