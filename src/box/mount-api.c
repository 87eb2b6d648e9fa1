/* SPDX-License-Identifier: MIT */
/*
 * The child's mount primitives (see mount-internal.h), below both
 * mount.c (the plan's operations) and mount-root.c (the new root): the
 * error written into the shared page, new-API mounts, binds and moves
 * onto descriptors, leaves opened without following symlinks.  System
 * calls only: they run between clone and execve.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mount-internal.h"
#include "mount.h"
#include "safepath.h"
#include "util.h"

static void put(char *b, size_t *n, const char *s)
{
	while (*s && *n + 1 < MOUNT_ERRBUF_SIZE)
		b[(*n)++] = *s++;
	b[*n] = '\0';
}

int mount_fail(struct mount_ctx *m, int err, const char *what, const char *path)
{
	size_t n = 0;

	put(m->errbuf, &n, "mounts (");
	put(m->errbuf, &n, what);
	if (path) {
		put(m->errbuf, &n, " '");
		put(m->errbuf, &n, *path ? path : ".");
		put(m->errbuf, &n, "'");
	}
	put(m->errbuf, &n, ")");
	return err < 0 ? err : -EIO;
}

void mount_utoa(unsigned long v, char *out)
{
	char tmp[24];
	int i = 0;

	do
		tmp[i++] = (char)('0' + v % 10);
	while (v /= 10);
	while (i)
		*out++ = tmp[--i];
	*out = '\0';
}

/* Open an absolute, trusted path and check it is still what the parent saw. */
int mount_same_inode(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return -errno;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino ? 0 : -EXDEV;
}

int mount_open_leaf(int base, const char *rel, unsigned sflags)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(rel, '/'), *name = slash ? slash + 1 : rel;
	size_t n = slash ? (size_t)(slash - rel) : 0;
	int parent, fd;

	if (n >= sizeof(dir) || !*name)
		return -EINVAL;
	memcpy(dir, rel, n);
	dir[n] = '\0';
	parent = safepath_open(base, dir, O_PATH, sflags);
	if (parent < 0)
		return parent;
	fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	fd = fd < 0 ? -errno : fd;
	close(parent);
	return fd;
}

int mount_clone(int src, uint64_t set, uint64_t clr, bool recursive)
{
	struct mount_attr attr = {.attr_set = set, .attr_clr = clr};
	unsigned rec = recursive ? AT_RECURSIVE : 0;
	int t = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec);

	if (t < 0)
		return -errno;
	if ((set | clr) && mount_setattr(t, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0) {
		int r = -errno;
		close(t);
		return r;
	}
	return t;
}

int mount_move(int mfd, int dst)
{
	if (move_mount(mfd, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

int mount_bind_fd(int src, int dst, uint64_t set, uint64_t clr, bool recursive)
{
	int t = mount_clone(src, set, clr, recursive);

	if (t < 0)
		return t;
	int r = mount_move(t, dst);
	close(t);
	return r;
}

int mount_fs(const char *fstype, const char *const *opts, uint64_t attrs)
{
	int fs = fsopen(fstype, FSOPEN_CLOEXEC), mfd = -1;

	if (fs < 0)
		return -errno;
	for (size_t i = 0; opts && opts[i]; i += 2) {
		int r = opts[i + 1] ? fsconfig(fs, FSCONFIG_SET_STRING, opts[i], opts[i + 1], 0)
				    : fsconfig(fs, FSCONFIG_SET_FLAG, opts[i], NULL, 0);
		if (r < 0)
			goto out;
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		goto out;
	mfd = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned)attrs);
out:
	if (mfd < 0)
		mfd = -errno;
	close(fs);
	return mfd;
}

int mount_fs_at(int dst, const char *fstype, const char *const *opts, uint64_t attrs)
{
	int mfd = mount_fs(fstype, opts, attrs);

	if (mfd < 0)
		return mfd;
	int r = mount_move(mfd, dst);
	close(mfd);
	return r;
}
