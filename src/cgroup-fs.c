/* SPDX-License-Identifier: MIT */
/*
 * cgroupfs file access for the cgroup module (see cgroup-internal.h):
 * openat on a cgroup dirfd, every fd checked with fstatfs to be on cgroupfs
 * (security.md rule 10), whole-file reads, "key value" parsing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
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
