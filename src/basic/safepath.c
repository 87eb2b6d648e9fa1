/* SPDX-License-Identifier: MIT */
/*
 * Symlink-free resolution beneath a directory fd: openat2 where the kernel
 * has it, otherwise (or when forced, for the tests) one openat(O_NOFOLLOW)
 * per component.  Creation is always component-wise: mkdirat, then re-open
 * without following links, then fchmod/fchown on the descriptor.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "safepath.h"

bool safepath_rel_ok(const char *rel, bool allow_empty)
{
	size_t len = strlen(rel);

	if (len == 0)
		return allow_empty;
	if (len >= PATH_MAX || rel[0] == '/')
		return false;
	for (const char *p = rel;;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
				return false;
		if (n > NAME_MAX)
			return false;
		if (!p[n])
			return true;
		p += n + 1;
	}
}

static int sys_openat2(int dirfd, const char *path, int oflags, unsigned long long resolve)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)oflags;
	how.resolve = resolve;
	long r;
	do
		r = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (r < 0 && (errno == EAGAIN || errno == EINTR));
	return r < 0 ? -errno : (int)r;
}

/* Open one component (no '/', not "." or "..") beneath cur as a directory.
 * A symlink gives -ELOOP, whatever open(2) would have said. */
static int open_component(int cur, const char *name, int oflags, dev_t dev, unsigned flags)
{
	struct stat st;
	int fd = openat(cur, name, oflags | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		int err = errno;
		if ((err == ENOTDIR || err == ELOOP) &&
		    fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			return -ELOOP;
		return -err;
	}
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int err = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
		close(fd);
		return -err;
	}
	if ((flags & SAFEPATH_NO_XDEV) && st.st_dev != dev) {
		close(fd);
		return -EXDEV;
	}
	return fd;
}

/* Walk rel from dirfd.  With create, make missing components. */
static int walk(int dirfd, const char *rel, int oflags, unsigned flags, bool create, mode_t mode,
		uid_t uid, gid_t gid, bool *created)
{
	char buf[PATH_MAX];
	struct stat st;
	int cur, r;

	if (!safepath_rel_ok(rel, true))
		return -EINVAL;
	if (fstat(dirfd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	strcpy(buf, rel);
	cur = openat(dirfd, ".", (create ? O_RDONLY : oflags) | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return -errno;
	for (char *p = buf; *p;) {
		char *slash = strchr(p, '/');
		bool last = !slash;
		int want = (last && !create) ? oflags : (create ? O_RDONLY : O_PATH);
		if (slash)
			*slash = '\0';
		int fd = open_component(cur, p, want, st.st_dev, flags);
		if (fd == -ENOENT && create) {
			if (mkdirat(cur, p, mode) < 0 && errno != EEXIST) {
				r = -errno;
				close(cur);
				return r;
			}
			fd = open_component(cur, p, O_RDONLY, st.st_dev, flags);
			if (fd >= 0) {
				if (fchmod(fd, mode) < 0 ||
				    (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)) {
					r = -errno;
					close(fd);
					close(cur);
					return r;
				}
				if (created)
					*created = true;
			}
		}
		close(cur);
		if (fd < 0)
			return fd;
		cur = fd;
		if (last)
			break;
		p = slash + 1;
	}
	return cur;
}

int safepath_open(int dirfd, const char *rel, int oflags, unsigned flags)
{
	if (!safepath_rel_ok(rel, true))
		return -EINVAL;
	if (!(flags & SAFEPATH_FALLBACK)) {
		unsigned long long res = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					 RESOLVE_NO_MAGICLINKS |
					 ((flags & SAFEPATH_NO_XDEV) ? RESOLVE_NO_XDEV : 0);
		int fd = sys_openat2(dirfd, *rel ? rel : ".",
				     oflags | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, res);
		if (fd == -ENOTDIR) {
			/* a symlink as the last component says ENOTDIR here: let the
			 * walk (which never follows one either) name it */
			int w = walk(dirfd, rel, oflags, flags, false, 0, (uid_t)-1, (gid_t)-1,
				     NULL);
			if (w < 0)
				return w;
			close(w); /* changed meanwhile: keep the first answer */
			return fd;
		}
		if (fd != -ENOSYS && fd != -EPERM)
			return fd; /* EPERM: openat2 filtered by an outer seccomp profile */
	}
	return walk(dirfd, rel, oflags, flags, false, 0, (uid_t)-1, (gid_t)-1, NULL);
}

int safepath_mkdir(int dirfd, const char *rel, mode_t mode, uid_t uid, gid_t gid, unsigned flags,
		   bool *created)
{
	if (created)
		*created = false;
	return walk(dirfd, rel, O_RDONLY, flags, true, mode, uid, gid, created);
}
