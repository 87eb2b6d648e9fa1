/* SPDX-License-Identifier: MIT */
/*
 * cgroupfs file access for the cgroup module (see cgroup-internal.h):
 * openat on a cgroup dirfd, every fd checked with fstatfs to be on cgroupfs,
 * whole-file reads, "key value" parsing.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

int cgfs_check(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	if (sfs.f_type != CGROUP2_SUPER_MAGIC && sfs.f_type != CGROUP_SUPER_MAGIC)
		return -EXDEV;
	return 0;
}

int cgfs_open(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags | O_CLOEXEC | O_NOFOLLOW);
	int r;

	if (fd < 0)
		return -errno;
	r = cgfs_check(fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int cgfs_write(int dirfd, const char *name, const char *s)
{
	_cleanup_close_ int fd = cgfs_open(dirfd, name, O_WRONLY);
	size_t len = strlen(s);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = write(fd, s, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int cgfs_read_fd(int fd, char **out)
{
	struct strbuf sb = {0};
	char buf[4096];
	off_t off = 0;

	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0) {
			int r = -errno;

			strbuf_release(&sb);
			return r;
		}
		if (n == 0)
			break;
		strbuf_add(&sb, buf, (size_t)n);
		off += n;
	}
	*out = strbuf_detach(&sb);
	return 0;
}

int cgfs_read_small(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	if (n < 0)
		return -errno;
	if ((size_t)n == size - 1)
		return -EOVERFLOW;
	buf[n] = '\0';
	return 0;
}

int cgfs_read(int dirfd, const char *name, char **out)
{
	_cleanup_close_ int fd = cgfs_open(dirfd, name, O_RDONLY);

	if (fd < 0)
		return fd;
	return cgfs_read_fd(fd, out);
}

int cgfs_kv(const char *text, const char *key, uint64_t *val)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) != 0 || p[klen] != ' ')
			continue;
		const char *v = p + klen + 1;
		size_t vlen = strcspn(v, "\n");
		_cleanup_free_ char *s = xstrndup(v, vlen);

		return parse_u64(s, UINT64_MAX, val);
	}
	return -ENOENT;
}

int cgfs_tracking_fd(const struct cgroup *cg, const char **path)
{
	if (cg->v2_fd >= 0) {
		*path = cg->v2_path;
		return cg->v2_fd;
	}
	if (cg->v1_fd[CG_V1_FREEZER] >= 0) {
		*path = cg->v1_path[CG_V1_FREEZER];
		return cg->v1_fd[CG_V1_FREEZER];
	}
	for (int i = 0; i < CG_V1_COUNT; i++)
		if (cg->v1_fd[i] >= 0) {
			*path = cg->v1_path[i];
			return cg->v1_fd[i];
		}
	*path = NULL;
	return -1;
}

int cgfs_read_text(const char *path, char **out)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct strbuf sb = {0};
	char buf[8192];
	ssize_t n;

	if (fd < 0)
		return log_errno(-errno, "open %s", path);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	if (n < 0) {
		strbuf_release(&sb);
		return log_errno(-errno, "read %s", path);
	}
	*out = strbuf_detach(&sb);
	return 0;
}

/* ---- helpers of cgroup.c and cgroup-leaf.c ---------------------------------- */

static const char *const cgfs_ctl_name[] = {"memory", "cpu", "pids"}; /* bit i of CG_CTL_* */
_Static_assert((1u << ARRAY_SIZE(cgfs_ctl_name)) - 1 == CG_CTL_ALL, "a name for every CG_CTL_ bit");

unsigned cgfs_ctl_mask(const char *list)
{
	unsigned m = 0;

	for (const char *p = list; *p;) {
		size_t n = strcspn(p, " \n");

		for (size_t i = 0; i < ARRAY_SIZE(cgfs_ctl_name); i++)
			if (strlen(cgfs_ctl_name[i]) == n && strncmp(p, cgfs_ctl_name[i], n) == 0)
				m |= 1u << i;
		p += n;
		p += strspn(p, " \n");
	}
	return m;
}

char *cgfs_ctl_list(unsigned mask, const char *prefix)
{
	struct strbuf sb = {0};

	strbuf_puts(&sb, "");
	for (size_t i = 0; i < ARRAY_SIZE(cgfs_ctl_name); i++)
		if (mask & (1u << i))
			strbuf_printf(&sb, "%s%s%s", sb.len ? " " : "", prefix, cgfs_ctl_name[i]);
	return strbuf_detach(&sb);
}

int cgfs_move_pid(int dirfd, pid_t pid)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return cgfs_write(dirfd, "cgroup.procs", buf);
}

/* Child directories of dirfd other than `except`. */
int cgfs_count_children(int dirfd, const char *except)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	int n = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((e = readdir(d)))
		if (e->d_type == DT_DIR && strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0 && strcmp(e->d_name, except) != 0)
			n++;
	closedir(d);
	return n;
}

bool cgfs_holds_pid(int dirfd, pid_t pid)
{
	_cleanup_free_ char *procs = NULL;
	char want[24];
	size_t n;

	if (cgfs_read(dirfd, "cgroup.procs", &procs) < 0)
		return false;
	n = (size_t)snprintf(want, sizeof(want), "%d", (int)pid);
	for (const char *p = procs; *p; p += strcspn(p, "\n"), p += *p == '\n')
		if (strncmp(p, want, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* A relative path without empty, "." or ".." components ("" is fine). */
bool cgfs_relpath_ok(const char *p)
{
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/' && *++p == '\0')
			return false;
	}
	return true;
}

/* mkdir ppath/name; an empty leftover of the same name is replaced. */
int cgfs_make_dir(int pfd, const char *ppath, const char *name, int *fd_out, char **path_out)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", ppath, name);
	int fd, r;

	r = mkdirat(pfd, name, 0755) < 0 ? -errno : 0;
	if (r == -EEXIST) {
		if (unlinkat(pfd, name, AT_REMOVEDIR) < 0) {
			log_error("cgroup %s already exists and is in use (%s): is another berth "
				  "running under this name?",
				  path, strerror(errno));
			return -EEXIST;
		}
		log_warn("removed the empty leftover cgroup %s", path);
		r = mkdirat(pfd, name, 0755) < 0 ? -errno : 0;
	}
	if (r == -EACCES || r == -EPERM || r == -EROFS) {
		log_error("cannot create cgroup %s: %s; berth needs a cgroup it may create "
			  "children in (root, or a delegated subtree), or --no-cgroup",
			  path, strerror(-r));
		return r;
	}
	if (r < 0)
		return log_errno(r, "mkdir %s", path);
	fd = cgfs_open(pfd, name, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return log_errno(fd, "create cgroup %s", path);
	*fd_out = fd;
	*path_out = TAKE_PTR(path);
	return 0;
}
