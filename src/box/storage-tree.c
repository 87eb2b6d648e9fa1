/* SPDX-License-Identifier: MIT */
/*
 * Removing the scratch trees of finished starts: unlinkat by fd, never
 * following links; trees deeper than TREE_MAX_DEPTH are flattened (moved
 * up and removed in turn) instead of recursed into without bound.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "storage.h"
#include "util.h"

#define TREE_MAX_DEPTH 32

/* Empty the directory dfd.  Deeper than TREE_MAX_DEPTH, subdirectories are
 * moved up to topfd as "<base>.d<k>" and removed later by the caller. */
static int empty_dir(int dfd, int depth, int topfd, const char *base, unsigned *moved)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (unlinkat(fd, n, 0) == 0 || errno == ENOENT)
			continue;
		if (errno != EISDIR && errno != EPERM) {
			r = -errno;
			continue;
		}
		if (depth >= TREE_MAX_DEPTH) {
			char to[300];
			snprintf(to, sizeof(to), "%s.d%u", base, (*moved)++);
			if (renameat(fd, n, topfd, to) < 0)
				r = -errno;
			continue;
		}
		int sub = openat(fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			r = -errno;
			continue;
		}
		int q = empty_dir(sub, depth + 1, topfd, base, moved);
		close(sub);
		if (q < 0)
			r = q;
		else if (unlinkat(fd, n, AT_REMOVEDIR) < 0 && errno != ENOENT)
			r = -errno;
	}
	closedir(d);
	return r;
}

static int remove_one(int dirfd, const char *name, const char *base, unsigned *moved)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
		return -errno;
	}
	int r = empty_dir(fd, 1, dirfd, base, moved);
	close(fd);
	if (r < 0)
		return r;
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

int storage_remove_tree(int dirfd, const char *name)
{
	unsigned moved = 0;
	int r = remove_one(dirfd, name, name, &moved);

	for (unsigned k = 0; r == 0 && k < moved; k++) {
		char n[300];
		snprintf(n, sizeof(n), "%s.d%u", name, k);
		r = remove_one(dirfd, n, name, &moved);
	}
	return r;
}

int storage_sweep(struct storage *s)
{
	unsigned removed = 0;
	int r = 0;

	if (s->attached)
		return 0;
	for (int pass = 0; pass < 8; pass++) {
		int fd = openat(s->inst_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return log_errno(-errno, "open the instance directory");
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			return log_errno(-errno, "read the instance directory");
		}
		bool found = false;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!str_has_prefix(e->d_name, STORAGE_SCRATCH_OLD) &&
			    !(s->private_tmp && strcmp(e->d_name, MOUNTPLAN_SCRATCH_DIR) == 0))
				continue;
			found = true;
			int q = storage_remove_tree(s->inst_fd, e->d_name);
			if (q < 0)
				r = log_errno(q, "remove the old scratch directory %s", e->d_name);
			else
				removed++;
		}
		closedir(d);
		if (!found || r < 0)
			break;
	}
	if (removed)
		log_info("removed %u scratch director%s of an earlier berth from the instance "
			 "directory (the worker's /tmp is a tmpfs now)",
			 removed, removed == 1 ? "y" : "ies");
	return r;
}
