/* SPDX-License-Identifier: MIT */
/*
 * The worker's new root, in its child (see mount.h): an empty tmpfs
 * attached over the storage root (pivot_root needs a mount of this
 * namespace; the storage root is trusted and hidden anyway), the host's OS
 * bound read-only into it, /etc's secrets masked, a fresh /dev, /run,
 * /proc and /sys with the paths OCI runtimes mask, the cgroup hierarchies
 * of the worker's cgroup namespace, --ro-bind paths; then pivot_root and
 * the host's tree detached.  System calls only.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mount-internal.h"
#include "safepath.h"

/* A directory of the new root, made (root, 0755) where missing. */
static int root_dir(struct mount_ctx *m, struct mount_state *s, const char *rel)
{
	return safepath_mkdir(s->root, rel, 0755, 0, 0, m->safepath_flags, NULL);
}

/* A non-directory of the new root to mount over: the existing one, or an
 * empty file made in its (made) parent when create.  O_PATH fd or -errno. */
static int root_file(struct mount_ctx *m, struct mount_state *s, const char *rel, bool create)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(rel, '/'), *name = slash ? slash + 1 : rel;
	size_t n = slash ? (size_t)(slash - rel) : 0;
	struct stat st;

	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, rel, n);
	dir[n] = '\0';
	int parent = create ? root_dir(m, s, dir) : safepath_open(s->root, dir, O_PATH, 0);
	if (parent < 0)
		return parent;
	int fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0644);
		if (fd >= 0) {
			close(fd);
			fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
	}
	if (fd < 0)
		fd = -errno;
	close(parent);
	if (fd < 0)
		return fd;
	int r = fstat(fd, &st) < 0    ? -errno
		: S_ISLNK(st.st_mode) ? -ELOOP
		: S_ISDIR(st.st_mode) ? -EISDIR
				      : 0;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Bind src onto dst (non-recursive unless rec), then check the mount at
 * rel in the new root is src. */
static int bind_checked(struct mount_ctx *m, struct mount_state *s, int src, int dst,
			const struct mountplan_op *op, bool rec)
{
	int r = mount_bind_fd(src, dst, op->attr_set, op->attr_clr, rec);

	if (r < 0)
		return mount_fail(m, r, "bind onto", op->target);
	int fd = mount_open_leaf(s->root, op->target, m->safepath_flags);
	r = fd < 0 ? fd : mount_same_inode(src, fd);
	if (fd >= 0)
		close(fd);
	return r < 0 ? mount_fail(m, r, "the mount did not land on", op->target) : 0;
}

static int do_newroot(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	/* a few directories and links; read-only once pivoted */
	const char *opts[] = {"mode", "0755", "size", "4m", "nr_inodes", "4096", NULL};
	int mfd = mount_fs("tmpfs", opts, op->attr_set & ~(uint64_t)MOUNT_ATTR_RDONLY);
	int r = mfd < 0 ? mfd : mount_move(mfd, s->sroot);

	if (r == 0) {
		s->root = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = s->root < 0 ? -errno : 0;
	}
	if (mfd >= 0)
		close(mfd);
	return r < 0 ? mount_fail(m, r, "mount the new root", NULL) : 0;
}

/* A directory of the host's OS bound read-only, or its symlink recreated. */
static int do_os(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	char link[PATH_MAX];
	struct stat st;

	if (fstatat(s->host, op->source, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : mount_fail(m, -errno, "stat", op->source);
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(s->host, op->source, link, sizeof(link) - 1);
		if (n < 0)
			return mount_fail(m, -errno, "read the link", op->source);
		link[n] = '\0';
		if (symlinkat(link, s->root, op->target) < 0)
			return mount_fail(m, -errno, "make the link", op->target);
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;
	int src = safepath_open(s->host, op->source, O_PATH, m->safepath_flags);
	if (src < 0)
		return mount_fail(m, src, "open", op->source);
	int dst = root_dir(m, s, op->target);
	int r = dst < 0 ? mount_fail(m, dst, "make the mount point", op->target)
			: bind_checked(m, s, src, dst, op, op->recursive);
	if (dst >= 0)
		close(dst);
	close(src);
	return r;
}

/* A host device node, checked to be the device it names, bound into /dev. */
static int do_devnode(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	struct stat st;
	int src = mount_open_leaf(s->host, op->source, m->safepath_flags), r;

	if (src < 0)
		return mount_fail(m, src, "open the device", op->source);
	if (fstat(src, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != op->major ||
	    minor(st.st_rdev) != op->minor) {
		close(src);
		return mount_fail(m, -ENODEV, "not the expected device", op->source);
	}
	int dst = root_file(m, s, op->target, true);
	r = dst < 0 ? mount_fail(m, dst, "make the device's mount point", op->target)
		    : bind_checked(m, s, src, dst, op, false);
	if (dst >= 0)
		close(dst);
	close(src);
	if (r == 0 && strcmp(op->target, "dev/null") == 0) {
		s->null = mount_open_leaf(s->root, op->target, m->safepath_flags);
		if (s->null < 0)
			return mount_fail(m, s->null, "reopen", op->target);
	}
	return r;
}

static int do_symlink(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(op->target, '/');
	size_t n = slash ? (size_t)(slash - op->target) : 0;

	if (n >= sizeof(dir))
		return mount_fail(m, -ENAMETOOLONG, "make the link", op->target);
	memcpy(dir, op->target, n);
	dir[n] = '\0';
	int parent = root_dir(m, s, dir);
	if (parent < 0)
		return mount_fail(m, parent, "make the link", op->target);
	int r = symlinkat(op->source, parent, slash ? slash + 1 : op->target) < 0 ? -errno : 0;
	close(parent);
	return r < 0 ? mount_fail(m, r, "make the link", op->target) : 0;
}

/* A fresh filesystem on a directory of the new root (made where missing,
 * or only when there, for optional ops). */
static int fs_on(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op,
		 const char *fstype, const char *const *opts)
{
	int dst = op->optional ? safepath_open(s->root, op->target, O_PATH, m->safepath_flags)
			       : root_dir(m, s, op->target);

	struct stat before, after;

	if (op->optional && (dst == -ENOENT || dst == -ENOTDIR))
		return 0;
	if (dst < 0)
		return mount_fail(m, dst, "open the mount point", op->target);
	int r = fstat(dst, &before) < 0 ? -errno : mount_fs_at(dst, fstype, opts, op->attr_set);
	close(dst);
	if (r < 0)
		return mount_fail(m, r, "mount a fresh filesystem on", op->target);
	/* re-resolved, the path must now be the new filesystem's root */
	dst = safepath_open(s->root, op->target, O_PATH, m->safepath_flags);
	r = dst < 0			    ? dst
	    : fstat(dst, &after) < 0	    ? -errno
	    : after.st_dev == before.st_dev ? -EXDEV
					    : 0;
	if (dst >= 0)
		close(dst);
	return r < 0 ? mount_fail(m, r, "the mount did not land on", op->target) : 0;
}

/* /dev/null over a file (a host secret, a /proc file). */
static int do_mask_file(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	int dst = root_file(m, s, op->target, false), r;

	if (op->optional && (dst == -ENOENT || dst == -ENOTDIR))
		return 0;
	if (dst < 0)
		return mount_fail(m, dst, "open the file to mask", op->target);
	r = s->null < 0 ? mount_fail(m, -ENODEV, "no /dev/null to mask", op->target)
			: bind_checked(m, s, s->null, dst, op, false);
	close(dst);
	return r;
}

/* The worker's hosts file: written into the new root, bound over
 * /etc/hosts read-only, its name removed (nothing of it on the host). */
static int do_hosts(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	static const char name[] = ".hosts";
	size_t len = m->hosts ? strlen(m->hosts) : 0;
	int r = 0;

	if (!m->hosts)
		return 0;
	int fd = openat(s->root, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0)
		return mount_fail(m, -errno, "write the hosts file", NULL);
	if (write(fd, m->hosts, len) != (ssize_t)len)
		r = mount_fail(m, -EIO, "write the hosts file", NULL);
	int dst = r < 0 ? -1 : root_file(m, s, op->target, false);
	if (r == 0 && dst < 0)
		r = mount_fail(m, dst, "open", op->target);
	if (r == 0)
		r = bind_checked(m, s, fd, dst, op, false);
	if (dst >= 0)
		close(dst);
	close(fd);
	if (unlinkat(s->root, name, 0) < 0 && r == 0)
		r = mount_fail(m, -errno, "remove the hosts file's name", NULL);
	return r;
}

/* Write the host's resolv.conf (read by berth) at its place in /run. */
static int resolv_into(struct mount_ctx *m, int run)
{
	char dir[PATH_MAX];
	const char *rel = m->resolv_rel, *slash = strrchr(rel, '/');
	size_t n = slash ? (size_t)(slash - rel) : 0;

	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, rel, n);
	dir[n] = '\0';
	int parent = safepath_mkdir(run, dir, 0755, 0, 0, m->safepath_flags, NULL);
	if (parent < 0)
		return parent;
	int fd = openat(parent, slash ? slash + 1 : rel,
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	int r = fd < 0 ? -errno : 0;
	if (fd >= 0 && write(fd, m->resolv_text, m->resolv_len) != (ssize_t)m->resolv_len)
		r = -EIO;
	if (fd >= 0)
		close(fd);
	close(parent);
	return r;
}

/* The worker's own /run, writable by it. */
static int do_run(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	char uid[24], gid[24];
	const char *opts[] = {"mode", "0755", "size", "16m", "uid", uid, "gid", gid, NULL};

	mount_utoa(m->st->uid == (uid_t)-1 ? 0 : m->st->uid, uid);
	mount_utoa(m->st->gid == (gid_t)-1 ? 0 : m->st->gid, gid);
	int r = fs_on(m, s, op, "tmpfs", opts);
	if (r < 0 || !m->resolv_rel)
		return r;
	int run = safepath_open(s->root, op->target, O_RDONLY, m->safepath_flags);
	r = run < 0 ? run : resolv_into(m, run);
	if (run >= 0)
		close(run);
	return r < 0 ? mount_fail(m, r, "copy resolv.conf into /run", m->resolv_rel) : 0;
}

/* A path of the new root (in /proc) bound onto itself read-only. */
static int do_readonly(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	int fd = mount_open_leaf(s->root, op->target, m->safepath_flags);

	if (op->optional && (fd == -ENOENT || fd == -ENOTDIR))
		return 0;
	if (fd < 0)
		return mount_fail(m, fd, "open", op->target);
	int r = bind_checked(m, s, fd, fd, op, false);
	close(fd);
	return r;
}

/* The tmpfs holding several hierarchies: made, filled with their mount
 * points, read-only, then moved onto /sys/fs/cgroup. */
static int do_cgroup_tmpfs(struct mount_ctx *m, struct mount_state *s, size_t i)
{
	const struct mountplan *p = m->plan;
	const struct mountplan_op *op = &p->ops[i];
	const char *opts[] = {"mode", "0755", "size", "64k", "nr_inodes", "64", NULL};
	struct mount_attr ro = {.attr_set = op->attr_set};
	size_t n = strlen(op->target);
	int r = 0;

	int mfd = mount_fs("tmpfs", opts, op->attr_set & ~(uint64_t)MOUNT_ATTR_RDONLY);
	if (mfd < 0)
		return mount_fail(m, mfd, "mount a tmpfs on", op->target);
	for (size_t j = i + 1; r == 0 && j < p->n_ops && p->ops[j].kind == MP_CGROUP; j++) {
		int d = safepath_mkdir(mfd, p->ops[j].target + n + 1, 0755, 0, 0, 0, NULL);
		r = d < 0 ? d : 0;
		if (d >= 0)
			close(d);
	}
	if (r == 0 && mount_setattr(mfd, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
		r = -errno;
	int dst = r < 0 ? -1 : safepath_open(s->root, op->target, O_PATH, m->safepath_flags);
	if (r == 0)
		r = dst < 0 ? dst : mount_move(mfd, dst);
	if (dst >= 0)
		close(dst);
	close(mfd);
	return r < 0 ? mount_fail(m, r, "mount a tmpfs on", op->target) : 0;
}

/* A cgroup hierarchy with the host's options ("cpu,cpuacct",
 * "name=systemd"): in the worker's cgroup namespace it is rooted at the
 * worker's cgroup. */
static int do_cgroup(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	char buf[256];
	const char *opts[34];
	size_t n = 0;

	if (strlen(op->data) >= sizeof(buf))
		return mount_fail(m, -E2BIG, "the options of", op->target);
	strcpy(buf, op->data);
	for (char *c = buf; *c && n + 2 < sizeof(opts) / sizeof(opts[0]);) {
		char *end = strchr(c, ','), *eq;
		if (end)
			*end = '\0';
		eq = strchr(c, '=');
		if (eq)
			*eq = '\0';
		opts[n++] = c;
		opts[n++] = eq ? eq + 1 : NULL;
		c = end ? end + 1 : c + strlen(c);
	}
	opts[n] = NULL;
	return fs_on(m, s, op, op->source, opts);
}

/* --ro-bind: a host path, without symlinks, read-only at the same path. */
static int do_ro_bind(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	struct stat st;
	int src = mount_open_leaf(s->host, op->source, m->safepath_flags), dst, r;

	if (src >= 0 && fstat(src, &st) < 0)
		src = -errno;
	if (src >= 0 && S_ISLNK(st.st_mode)) {
		close(src);
		src = -ELOOP;
	}
	if (src < 0)
		return mount_fail(m, src, "open the --ro-bind path (a symlink is refused)",
				  op->source);
	dst = S_ISDIR(st.st_mode) ? root_dir(m, s, op->target) : root_file(m, s, op->target, true);
	r = dst < 0 ? mount_fail(m, dst, "make the mount point", op->target)
		    : bind_checked(m, s, src, dst, op, S_ISDIR(st.st_mode));
	if (dst >= 0)
		close(dst);
	close(src);
	return r;
}

/* pivot_root(".", ".") stacks the old root on the new one; detaching "."
 * then drops the host's whole tree from this namespace. */
static int do_pivot(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	struct mount_attr attr = {.attr_set = op->attr_set};
	struct statvfs sv;

	if (fchdir(s->root) < 0)
		return mount_fail(m, -errno, "enter the new root", NULL);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return mount_fail(m, -errno, "pivot_root", NULL);
	if (umount2(".", MNT_DETACH) < 0)
		return mount_fail(m, -errno, "detach the host's tree", NULL);
	if (chdir("/") < 0)
		return mount_fail(m, -errno, "enter", "/");
	if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof(attr)) < 0)
		return mount_fail(m, -errno, "make the new root read-only", NULL);
	if (statvfs("/", &sv) < 0 || !(sv.f_flag & ST_RDONLY))
		return mount_fail(m, -EROFS, "the new root is not read-only", NULL);
	return 0;
}

int mount_root_op(struct mount_ctx *m, struct mount_state *s, size_t i)
{
	const struct mountplan_op *op = &m->plan->ops[i];
	static const char *const dev[] = {"mode", "0755", "size", "64k", "nr_inodes", "64", NULL};
	static const char *const shm[] = {"mode", "1777", NULL};
	static const char *const pts[] = {"newinstance", NULL,	 "ptmxmode", "0666",
					  "mode",	 "0620", NULL};
	static const char *const mask[] = {"mode", "0755", "size", "4k", "nr_inodes", "2", NULL};
	int dir, r;

	switch (op->kind) {
	case MP_NEWROOT:
		return do_newroot(m, s, op);
	case MP_OS:
		return do_os(m, s, op);
	case MP_DEV:
		return fs_on(m, s, op, "tmpfs", dev);
	case MP_DEVNODE:
		return do_devnode(m, s, op);
	case MP_SYMLINK:
		return do_symlink(m, s, op);
	case MP_SHM:
		return fs_on(m, s, op, "tmpfs", shm);
	case MP_DEVPTS:
		return fs_on(m, s, op, "devpts", pts);
	case MP_MQUEUE:
		r = fs_on(m, s, op, "mqueue", NULL);
		return r == -ENODEV ? 0 : r; /* a kernel without POSIX message queues */
	case MP_MASK:
		return fs_on(m, s, op, "tmpfs", mask);
	case MP_MASK_FILE:
		return do_mask_file(m, s, op);
	case MP_HOSTS:
		return do_hosts(m, s, op);
	case MP_RUN:
		return do_run(m, s, op);
	case MP_DIR:
		dir = root_dir(m, s, op->target);
		if (dir < 0)
			return mount_fail(m, dir, "make the directory", op->target);
		close(dir);
		return 0;
	case MP_PROC:
		return fs_on(m, s, op, "proc", NULL);
	case MP_READONLY:
		return do_readonly(m, s, op);
	case MP_SYS:
		return fs_on(m, s, op, "sysfs", NULL);
	case MP_CGROUP_TMPFS:
		return do_cgroup_tmpfs(m, s, i);
	case MP_CGROUP:
		return do_cgroup(m, s, op);
	case MP_RO_BIND:
		return do_ro_bind(m, s, op);
	case MP_PIVOT:
		return do_pivot(m, s, op);
	default:
		return mount_fail(m, -EINVAL, "unknown operation", NULL);
	}
}
