/* SPDX-License-Identifier: MIT */
/*
 * The worker's view (see mount.h): the parent's checks of the app tree,
 * then, in the child, the plan applied with the new mount API onto
 * descriptors resolved without symlinks: the namespaces, the disk, the
 * app root and its storage, /tmp; mount-root.c builds the rest of the new
 * root and pivots into it.  The child part uses only system calls and
 * writes its error into a shared page.
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
#include "mount-internal.h"
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

/* "/etc" + "../run/x" -> "/run/x", lexically, into out (PATH_MAX). */
static void lexical_join(const char *dir, const char *rel, char *out)
{
	_cleanup_free_ char *buf = xasprintf("%s/%s", rel[0] == '/' ? "" : dir, rel);
	size_t n = 0;

	out[0] = '\0';
	for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			while (n > 0 && out[--n] != '/')
				;
			out[n] = '\0';
			continue;
		}
		n += (size_t)snprintf(out + n, PATH_MAX - n, "/%s", c);
		if (n >= PATH_MAX - 1)
			break;
	}
	if (!n)
		strcpy(out, "/");
}

/* A small file's content (at most 64 KiB), following links. */
static int read_small(const char *path, char **text, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct strbuf sb = {0};
	char buf[4096];
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0 && sb.len < 65536)
		strbuf_add(&sb, buf, (size_t)n);
	if (n < 0) {
		strbuf_release(&sb);
		return -errno;
	}
	*len = sb.len;
	*text = sb.len ? strbuf_detach(&sb) : xstrdup("");
	return 0;
}

/* Where a resolv.conf at path links into /run: *rel (relative to /run)
 * and its content, read now (the child cannot see the host's /run).  0
 * with *rel NULL when it is not such a link (or dangles); -errno (logged)
 * when it cannot be read. */
static int mount_resolv_read(const char *path, char **rel, char **text, size_t *len)
{
	char link[PATH_MAX], full[PATH_MAX];
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	_cleanup_free_ char *dir = xstrdup(path);

	*rel = *text = NULL;
	*len = 0;
	if (n < 0)
		return 0; /* not a link: the copy in /etc is what the worker reads */
	link[n] = '\0';
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	lexical_join(slash ? dir : ".", link, full);
	if (strncmp(full, "/run/", 5) != 0 || !safepath_rel_ok(full + 5, false))
		return 0;
	int r = read_small(path, text, len);
	if (r == -ENOENT)
		return 0; /* dangling: the worker has none either */
	if (r < 0)
		return log_errno(r, "read %s (it links to %s, inside /run)", path, full);
	*rel = xstrdup(full + 5);
	log_debug("resolv.conf: %s is copied into the worker's /run", full);
	return 0;
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
	r = mount_resolv_read("/etc/resolv.conf", &m->resolv_rel, &m->resolv_text, &m->resolv_len);
	if (r < 0)
		return r;
	m->errbuf = mmap(NULL, MOUNT_ERRBUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m->errbuf == MAP_FAILED) {
		m->errbuf = NULL;
		mount_ctx_free(m);
		return log_errno(-errno, "mmap");
	}
	strcpy(m->errbuf, "mounts");
	return 0;
}

void mount_ctx_free(struct mount_ctx *m)
{
	if (m->errbuf)
		munmap(m->errbuf, MOUNT_ERRBUF_SIZE);
	free(m->resolv_rel);
	free(m->resolv_text);
	memset(m, 0, sizeof(*m));
}

struct exec_step mount_step(struct mount_ctx *m)
{
	return (struct exec_step){.name = m->errbuf, .run = mount_apply, .data = m};
}

/* --- child side: system calls only ---------------------------------------- */

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

static int do_disk(struct mount_ctx *m, int sroot, const struct mountplan_op *op)
{
	const struct storage *st = m->st;
	struct stat sb;
	int r = 0, mfd = -1;

	if (!st->bounded)
		return 0;
	int tgt = safepath_open(sroot, op->target, O_PATH, m->safepath_flags | SAFEPATH_NO_XDEV);
	if (tgt < 0)
		return mount_fail(m, tgt, "open the local storage directory", op->target);
	mfd = storage_mount_image(st, (unsigned)op->attr_set);
	if (mfd < 0)
		r = mount_fail(m, mfd,
			       mfd == -EXDEV ? "the disk image is not on" : "mount the disk image",
			       st->loop_dev);
	else if ((r = mount_move(mfd, tgt)) < 0)
		r = mount_fail(m, r, "move the disk onto", op->target);
	if (mfd >= 0)
		close(mfd);
	close(tgt);
	if (r < 0)
		return r;
	/* Re-check where it landed; the image's root belongs to the worker. */
	tgt = safepath_open(sroot, op->target, O_RDONLY, m->safepath_flags);
	if (tgt < 0)
		return mount_fail(m, tgt, "reopen the local storage", op->target);
	if (fstat(tgt, &sb) < 0 || sb.st_dev != st->loop_rdev)
		r = mount_fail(m, -EXDEV, "the disk did not land on", op->target);
	else if (st->uid != (uid_t)-1 && fchown(tgt, st->uid, st->gid) < 0)
		r = mount_fail(m, -errno, "set the owner of", op->target);
	close(tgt);
	return r;
}

/* The source of a bind: in the private /tmp for a tmp mount, else in
 * storage; made as the worker's when missing. */
static int open_source(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	int base = op->msource == MOUNT_TMP
			   ? s->tmp
			   : safepath_open(s->sroot, op->src_dir, O_PATH, m->safepath_flags);

	if (base < 0)
		return mount_fail(m, base, "open the storage directory", op->src_dir);
	int fd = safepath_mkdir(base, op->source, 0755, m->st->uid, m->st->gid,
				m->safepath_flags | SAFEPATH_NO_XDEV, NULL);
	if (op->msource != MOUNT_TMP)
		close(base);
	if (fd < 0)
		return mount_fail(m, fd, "open the source (a symlink, FIFO or device is refused)",
				  op->source);
	return fd;
}

static int do_bind(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	int src = open_source(m, s, op), r;

	if (src < 0)
		return src;
	/* Missing targets inside a storage mount are made there, as the worker's;
	 * in the read-only app tree this fails (the parent made those). */
	int dst = safepath_mkdir(s->app, op->target, 0755, m->st->uid, m->st->gid,
				 m->safepath_flags, NULL);
	if (dst < 0) {
		close(src);
		return mount_fail(m, dst, "open the target", op->target);
	}
	r = mount_bind_fd(src, dst, op->attr_set, op->attr_clr, false);
	close(dst);
	if (r < 0) {
		close(src);
		return mount_fail(m, r, "bind onto", op->target);
	}
	dst = safepath_open(s->app, op->target, O_PATH, m->safepath_flags);
	r = dst < 0 ? dst : mount_same_inode(src, dst);
	close(src);
	if (dst >= 0)
		close(dst);
	if (r < 0)
		return mount_fail(m, r, "the mount did not land on", op->target);
	return 0;
}

/* The app root as the new root shows it, checked to be the app root. */
static int reopen_app(struct mount_ctx *m, struct mount_state *s)
{
	struct stat st;
	int fd = safepath_open(s->root, m->plan->app_root + 1, O_PATH, m->safepath_flags);

	if (fd < 0)
		return mount_fail(m, fd, "reopen the app root", m->plan->app_root);
	if (fstat(fd, &st) < 0 || st.st_dev != m->app_dev || st.st_ino != m->app_ino) {
		close(fd);
		return mount_fail(m, -ESTALE, "reopen the app root", m->plan->app_root);
	}
	close(s->app);
	s->app = fd;
	return 0;
}

/* The app root at its path in the new root (again inside /tmp when
 * /tmp hides it), with its submounts; the storage binds follow. */
static int do_app(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	const char *what =
		op->kind == MP_APP_RO ? "make the app root read-only" : "bind the app root again";
	int base = op->kind == MP_APP_RO ? s->root : s->tmp;
	const char *rel = op->kind == MP_APP_RO ? op->target : op->target + 4; /* "tmp/" */
	struct statvfs sv;

	int dst = safepath_mkdir(base, rel, 0755, 0, 0, m->safepath_flags, NULL);
	if (dst < 0)
		return mount_fail(m, dst, "make the app root's path in the new root", op->target);
	/* again: the clone keeps each mount's attributes (the app ro, its storage rw) */
	int r = op->kind == MP_APP_RO ? mount_bind_fd(s->app, dst, op->attr_set, op->attr_clr, true)
				      : mount_bind_fd(s->app, dst, 0, 0, true);
	close(dst);
	if (r < 0)
		return mount_fail(m, r, what, m->plan->app_root);
	r = reopen_app(m, s);
	if (r < 0)
		return r;
	if (fstatvfs(s->app, &sv) < 0 || !(sv.f_flag & ST_RDONLY))
		return mount_fail(m, -EROFS, "the app root is not read-only", m->plan->app_root);
	return 0;
}

/* A fresh tmpfs on /tmp, bounded, 1777; the tmp mounts' sources go in it. */
static int do_tmp(struct mount_ctx *m, struct mount_state *s, const struct mountplan_op *op)
{
	const char *opts[] = {"mode", "1777", "size", op->data, NULL};
	int dst = safepath_mkdir(s->root, op->target, 0755, 0, 0, m->safepath_flags, NULL);

	if (dst < 0)
		return mount_fail(m, dst, "make the mount point", "/tmp");
	int mfd = mount_fs("tmpfs", opts, op->attr_set);
	int r = mfd < 0 ? mfd : mount_move(mfd, dst);
	close(dst);
	if (r == 0)
		s->tmp = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd >= 0)
		close(mfd);
	if (r == 0 && s->tmp < 0)
		r = -errno;
	return r < 0 ? mount_fail(m, r, "mount a tmpfs on", "/tmp") : 0;
}

static int do_private(struct mount_ctx *m, struct mount_state *s)
{
	const struct mountplan *p = m->plan;

	if (unshare(CLONE_NEWNS) < 0)
		return mount_fail(m, -errno, "unshare the mount namespace", NULL);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return mount_fail(m, -errno, "make the mounts private", NULL);
	s->host = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->host < 0)
		return mount_fail(m, -errno, "open", "/");
	s->sroot = open_verified(p->storage_root, m->st->root_dev, m->st->root_ino);
	if (s->sroot < 0)
		return mount_fail(m, s->sroot, "reopen the storage root", p->storage_root);
	s->app = open_verified(p->app_root, m->app_dev, m->app_ino);
	if (s->app < 0)
		return mount_fail(m, s->app, "reopen the app root", p->app_root);
	return 0;
}

static int apply_op(struct mount_ctx *m, struct mount_state *s, size_t i)
{
	const struct mountplan_op *op = &m->plan->ops[i];

	switch (op->kind) {
	case MP_PRIVATE:
		return do_private(m, s);
	case MP_CGROUPNS:
		/* after the child joined its cgroups: they become its roots */
		if (unshare(CLONE_NEWCGROUP) < 0)
			return mount_fail(m, -errno, "unshare the cgroup namespace", NULL);
		return 0;
	case MP_DISK:
		return do_disk(m, s->sroot, op);
	case MP_APP_RO:
	case MP_APP_AGAIN:
		return do_app(m, s, op);
	case MP_BIND:
		return do_bind(m, s, op);
	case MP_TMP:
		return do_tmp(m, s, op);
	default:
		return mount_root_op(m, s, i);
	}
}

int mount_apply(void *data)
{
	struct mount_ctx *m = data;
	const struct mountplan *p = m->plan;
	struct mount_state s = {-1, -1, -1, -1, -1, -1};
	int r = 0;
	char cwd[PATH_MAX];

	strcpy(m->errbuf, "mounts");
	for (size_t i = 0; i < p->n_ops && r == 0; i++)
		r = apply_op(m, &s, i);
	if (r == 0 && fchdir(s.app) < 0)
		r = mount_fail(m, -errno, "enter the app root", p->app_root);
	/* getcwd(2) says "(unreachable)" for a directory outside our root */
	if (r == 0 && (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/'))
		r = mount_fail(m, -EXDEV, "the working directory is unreachable", p->app_root);
	int *fds[] = {&s.host, &s.sroot, &s.app, &s.root, &s.tmp, &s.null};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	return r;
}
