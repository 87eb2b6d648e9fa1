/* SPDX-License-Identifier: MIT */
/*
 * The worker's view (see mount.h): the parent's checks of the app tree,
 * then, in the child, the plan applied with the new mount API onto
 * descriptors resolved without symlinks.  The child part uses only system
 * calls and writes its error into a shared page.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "mount.h"
#include "safepath.h"
#include "util.h"

/* --- parent side ---------------------------------------------------------- */

/* Is op's target inside the target of an earlier bind (then it is created
 * in that storage by the child, not in the app tree)? */
static bool inside_earlier(const struct mountplan *p, size_t i)
{
	const char *t = p->ops[i].target;

	for (size_t j = 0; j < i; j++) {
		const struct mountplan_op *o = &p->ops[j];
		size_t n = strlen(o->target);
		if (o->kind == MP_BIND && strncmp(o->target, t, n) == 0 && t[n] == '/')
			return true;
	}
	return false;
}

static int prepare_target(int app, const struct mountplan_op *op)
{
	int fd = safepath_open(app, op->target, O_PATH, 0);

	if (fd == -ENOENT) {
		bool created = false;
		fd = safepath_mkdir(app, op->target, 0755, (uid_t)-1, (gid_t)-1, 0, &created);
		if (fd >= 0 && created)
			log_info("created the mount point '%s' in the app tree", op->target);
	}
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	switch (fd) {
	case -ELOOP:
		log_error("mount '%s': a component of its path in the app tree is a symlink "
			  "(refused)",
			  op->target);
		break;
	case -ENOTDIR:
		log_error("mount '%s': a component of its path in the app tree is not a directory",
			  op->target);
		break;
	case -EROFS:
		log_error("mount '%s': the path does not exist and the app tree is read-only; "
			  "create the directory in the build",
			  op->target);
		break;
	default:
		log_errno(fd, "mount '%s': its path in the app tree", op->target);
		break;
	}
	return fd;
}

int mount_ctx_init(struct mount_ctx *m, const struct mountplan *p, const struct storage *st)
{
	struct stat sb;
	int r = 0;

	memset(m, 0, sizeof(*m));
	m->plan = p;
	m->st = st;
	_cleanup_close_ int app = open(p->app_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (app < 0 || fstat(app, &sb) < 0)
		return log_errno(-errno, "open the app root %s", p->app_root);
	m->app_dev = sb.st_dev;
	m->app_ino = sb.st_ino;
	for (size_t i = 0; i < p->n_ops && r == 0; i++)
		if (p->ops[i].kind == MP_BIND && !inside_earlier(p, i))
			r = prepare_target(app, &p->ops[i]);
	if (r < 0)
		return r;
	m->fds = xmalloc(p->n_ops * sizeof(int));
	for (size_t i = 0; i < p->n_ops; i++)
		m->fds[i] = -1;
	m->errbuf = mmap(NULL, MOUNT_ERRBUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m->errbuf == MAP_FAILED) {
		m->errbuf = NULL;
		free(m->fds);
		m->fds = NULL;
		return log_errno(-errno, "mmap");
	}
	strcpy(m->errbuf, "mounts");
	return 0;
}

void mount_ctx_free(struct mount_ctx *m)
{
	if (m->errbuf)
		munmap(m->errbuf, MOUNT_ERRBUF_SIZE);
	free(m->fds);
	memset(m, 0, sizeof(*m));
}

struct spawn_step mount_step(struct mount_ctx *m)
{
	return (struct spawn_step){.name = m->errbuf, .run = mount_apply, .data = m};
}

/* --- child side: system calls only ---------------------------------------- */

static void put(char *b, size_t *n, const char *s)
{
	while (*s && *n + 1 < MOUNT_ERRBUF_SIZE)
		b[(*n)++] = *s++;
	b[*n] = '\0';
}

static int fail(struct mount_ctx *m, int err, const char *what, const char *path)
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

static void utoa(unsigned long v, char *out)
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
static int open_verified(const char *path, dev_t dev, ino_t ino)
{
	struct stat st;
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_dev != dev || st.st_ino != ino) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

static int same_inode(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return -errno;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino ? 0 : -EXDEV;
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

/* Clone the tree at src (its submounts when recursive), set the
 * attributes, move it onto dst. */
static int bind_fd(int src, int dst, uint64_t set, uint64_t clr, bool recursive)
{
	int t = mount_clone(src, set, clr, recursive), r = 0;

	if (t < 0)
		return t;
	if (move_mount(t, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		r = -errno;
	close(t);
	return r;
}

static int tmpfs_at(int dst, const char *mode, const char *inodes, uint64_t attrs)
{
	int fs = fsopen("tmpfs", FSOPEN_CLOEXEC), r = 0;

	if (fs < 0)
		return -errno;
	if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", mode, 0) < 0 ||
	    (inodes && fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", inodes, 0) < 0) ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		r = -errno;
		close(fs);
		return r;
	}
	int mfd = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned)attrs);
	if (mfd < 0)
		r = -errno;
	else if (move_mount(mfd, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
		 0)
		r = -errno;
	if (mfd >= 0)
		close(mfd);
	close(fs);
	return r;
}

static int do_disk(struct mount_ctx *m, int sroot, const struct mountplan_op *op)
{
	const struct storage *st = m->st;
	struct stat sb;
	int r = 0, mfd = -1;

	if (!st->bounded)
		return 0;
	int tgt = safepath_open(sroot, op->target, O_PATH, m->safepath_flags | SAFEPATH_NO_XDEV);
	if (tgt < 0)
		return fail(m, tgt, "open the local storage directory", op->target);
	mfd = storage_mount_image(st, (unsigned)op->attr_set);
	if (mfd < 0)
		r = fail(m, mfd,
			 mfd == -EXDEV ? "the disk image is not on" : "mount the disk image",
			 st->loop_dev);
	else if (move_mount(mfd, "", tgt, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
		 0)
		r = fail(m, -errno, "move the disk onto", op->target);
	if (mfd >= 0)
		close(mfd);
	close(tgt);
	if (r < 0)
		return r;
	/* Re-check where it landed; the image's root belongs to the worker. */
	tgt = safepath_open(sroot, op->target, O_RDONLY, m->safepath_flags);
	if (tgt < 0)
		return fail(m, tgt, "reopen the local storage", op->target);
	if (fstat(tgt, &sb) < 0 || sb.st_dev != st->loop_rdev)
		r = fail(m, -EXDEV, "the disk did not land on", op->target);
	else if (st->uid != (uid_t)-1 && fchown(tgt, st->uid, st->gid) < 0)
		r = fail(m, -errno, "set the owner of", op->target);
	close(tgt);
	return r;
}

/* Move the old scratch directory aside (berth removes it) and make a new one. */
static int do_scratch(struct mount_ctx *m, int sroot, const struct mountplan_op *op)
{
	const struct mountplan *p = m->plan;
	char old[64];
	size_t n = strlen(STORAGE_SCRATCH_OLD);
	int r = 0;

	if (m->st->attached)
		return 0; /* berth exec: the running worker's /tmp */
	int inst = safepath_open(sroot, p->instance_dir, O_PATH, m->safepath_flags);
	if (inst < 0)
		return fail(m, inst, "open the instance directory", p->instance_dir);
	memcpy(old, STORAGE_SCRATCH_OLD, n);
	utoa((unsigned long)getpid(), old + n);
	size_t k = strlen(old);
	for (unsigned i = 1; i < 100; i++) {
		if (renameat2(inst, MOUNTPLAN_SCRATCH_DIR, inst, old, RENAME_NOREPLACE) == 0 ||
		    errno == ENOENT)
			break;
		if (errno != EEXIST) {
			r = fail(m, -errno, "move the old scratch directory", op->target);
			break;
		}
		old[k] = '.';
		utoa(i, old + k + 1);
	}
	if (r == 0) {
		int fd = safepath_mkdir(inst, MOUNTPLAN_SCRATCH_DIR, 01777, 0, 0,
					m->safepath_flags | SAFEPATH_NO_XDEV, NULL);
		if (fd < 0)
			r = fail(m, fd, "create the scratch directory", op->target);
		else
			close(fd);
	}
	close(inst);
	return r;
}

/* Open (creating them as the worker's) the sources of every bind and of
 * /tmp, while the storage is still writable. */
static int open_sources(struct mount_ctx *m, int sroot)
{
	const struct mountplan *p = m->plan;

	for (size_t i = 0; i < p->n_ops; i++) {
		const struct mountplan_op *op = &p->ops[i];
		if (op->kind != MP_BIND && op->kind != MP_TMP)
			continue;
		int base = safepath_open(sroot, op->src_dir, O_PATH, m->safepath_flags);
		if (base < 0)
			return fail(m, base, "open the storage directory", op->src_dir);
		int fd = safepath_mkdir(base, op->source, 0755, m->st->uid, m->st->gid,
					m->safepath_flags | SAFEPATH_NO_XDEV, NULL);
		close(base);
		if (fd < 0)
			return fail(m, fd, "open the source (a symlink, FIFO or device is refused)",
				    op->source);
		m->fds[i] = fd;
	}
	return 0;
}

static int do_bind(struct mount_ctx *m, int base, size_t i)
{
	const struct mountplan_op *op = &m->plan->ops[i];
	int src = m->fds[i], r;

	/* Missing targets inside a storage mount are made there, as the worker's;
	 * in the read-only app tree this fails (the parent made those). */
	int dst =
	    safepath_mkdir(base, op->target, 0755, m->st->uid, m->st->gid, m->safepath_flags, NULL);
	if (dst < 0)
		return fail(m, dst, "open the target", op->target);
	r = bind_fd(src, dst, op->attr_set, op->attr_clr, false);
	close(dst);
	if (r < 0)
		return fail(m, r, "bind onto", op->target);
	dst = safepath_open(base, op->target, O_PATH, m->safepath_flags);
	if (dst < 0)
		return fail(m, dst, "reopen the target", op->target);
	r = same_inode(src, dst);
	close(dst);
	if (r < 0)
		return fail(m, r, "the mount did not land on", op->target);
	return 0;
}

static int tmpfs_on(struct mount_ctx *m, int host, const struct mountplan_op *op, const char *mode)
{
	int dst = safepath_open(host, op->target, O_PATH, m->safepath_flags);

	if (dst == -ENOENT || dst == -ELOOP || dst == -ENOTDIR)
		return 0; /* no /dev/shm, or a link elsewhere: leave it read-only */
	if (dst < 0)
		return fail(m, dst, "open", op->target);
	int r = tmpfs_at(dst, mode, NULL, op->attr_set);
	close(dst);
	return r < 0 ? fail(m, r, "mount a tmpfs on", op->target) : 0;
}

static int apply_op(struct mount_ctx *m, size_t i, int *host, int *sroot, int *app)
{
	const struct mountplan *p = m->plan;
	const struct mountplan_op *op = &p->ops[i];
	struct mount_attr attr = {.attr_set = op->attr_set, .attr_clr = op->attr_clr};
	struct statvfs sv;
	int r;

	switch (op->kind) {
	case MP_PRIVATE:
		if (unshare(CLONE_NEWNS) < 0)
			return fail(m, -errno, "unshare the mount namespace", NULL);
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			return fail(m, -errno, "make the mounts private", NULL);
		*host = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (*host < 0)
			return fail(m, -errno, "open", "/");
		*sroot = open_verified(p->storage_root, m->st->root_dev, m->st->root_ino);
		if (*sroot < 0)
			return fail(m, *sroot, "reopen the storage root", p->storage_root);
		*app = open_verified(p->app_root, m->app_dev, m->app_ino);
		if (*app < 0)
			return fail(m, *app, "reopen the app root", p->app_root);
		return 0;
	case MP_DISK:
		return do_disk(m, *sroot, op);
	case MP_SCRATCH:
		return do_scratch(m, *sroot, op);
	case MP_READONLY_ROOT:
		if (mount_setattr(*host, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
			return fail(m, -errno, "make the host tree read-only", NULL);
		return 0;
	case MP_APP_RO:
		r = bind_fd(*app, *app, op->attr_set, op->attr_clr, true);
		if (r < 0)
			return fail(m, r, "make the app root read-only", p->app_root);
		close(*app);
		*app = open_verified(p->app_root, m->app_dev, m->app_ino);
		if (*app < 0)
			return fail(m, *app, "reopen the app root", p->app_root);
		if (fstatvfs(*app, &sv) < 0 || !(sv.f_flag & ST_RDONLY))
			return fail(m, -EROFS, "the app root is not read-only", p->app_root);
		return 0;
	case MP_BIND:
		return do_bind(m, *app, i);
	case MP_MASK:
		r = tmpfs_at(*sroot, "0", "2", op->attr_set);
		return r < 0 ? fail(m, r, "mask the storage root", p->storage_root) : 0;
	case MP_TMP:
		return do_bind(m, *host, i);
	case MP_APP_AGAIN: {
		int dst = safepath_mkdir(*host, op->target, 0755, 0, 0, m->safepath_flags, NULL);
		if (dst < 0)
			return fail(m, dst, "make the app root's path in /tmp", op->target);
		/* the clone keeps each mount's attributes: the app ro, its storage rw */
		r = bind_fd(*app, dst, 0, 0, true);
		close(dst);
		if (r < 0)
			return fail(m, r, "bind the app root again", p->app_root);
		close(*app);
		*app = open_verified(p->app_root, m->app_dev, m->app_ino);
		if (*app < 0)
			return fail(m, *app, "reopen the app root", p->app_root);
		return 0;
	}
	case MP_SHM:
		return tmpfs_on(m, *host, op, "1777");
	}
	return fail(m, -EINVAL, "unknown operation", NULL);
}

int mount_apply(void *data)
{
	struct mount_ctx *m = data;
	const struct mountplan *p = m->plan;
	int host = -1, sroot = -1, app = -1, r = 0;
	bool opened = false;
	char cwd[PATH_MAX];

	strcpy(m->errbuf, "mounts");
	for (size_t i = 0; i < p->n_ops && r == 0; i++) {
		enum mountplan_kind k = p->ops[i].kind;
		if (!opened && (k == MP_READONLY_ROOT || k == MP_APP_RO)) {
			r = open_sources(m, sroot);
			opened = true;
			if (r < 0)
				break;
		}
		r = apply_op(m, i, &host, &sroot, &app);
	}
	if (r == 0 && fchdir(app) < 0)
		r = fail(m, -errno, "enter the app root", p->app_root);
	/* getcwd(2) says "(unreachable)" for a directory outside our root */
	if (r == 0 && (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/'))
		r = fail(m, -EXDEV, "the working directory is unreachable", p->app_root);
	for (size_t i = 0; i < p->n_ops; i++)
		if (m->fds[i] >= 0) {
			close(m->fds[i]);
			m->fds[i] = -1;
		}
	if (host >= 0)
		close(host);
	if (sroot >= 0)
		close(sroot);
	if (app >= 0)
		close(app);
	return r;
}
