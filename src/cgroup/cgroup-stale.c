/* SPDX-License-Identifier: MIT */
/*
 * The cgroup directories of a berth that died without removing them (see
 * instance.c): their absolute paths, as cgroup_dirs() gave them, reopened
 * by fd, emptied with cgroup_kill_all() and removed with cgroup_destroy().
 * Part of the cgroup module.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

char **cgroup_dirs(const struct cgroup *cg)
{
	char **v = xcalloc(CG_V1_COUNT + 3, sizeof(*v));
	char *leaf = cgleaf_path();
	size_t n = 0;

	if (cg->v2_path && cg->v2_fd >= 0)
		v[n++] = xstrdup(cg->v2_path);
	for (int i = 0; i < CG_V1_COUNT; i++)
		if (cg->v1_path[i] && cg->v1_fd[i] >= 0)
			v[n++] = xstrdup(cg->v1_path[i]);
	if (leaf)
		v[n++] = leaf;
	return v;
}

/* An absolute path without empty, "." or ".." components, not "/". */
static bool abs_path_ok(const char *p)
{
	return p[0] == '/' && p[1] && cgfs_relpath_ok(p + 1);
}

static int open_dir_nofollow(const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

/* A handle on path (the parent opened first, then the directory beneath
 * it on the same cgroupfs): 1, or 0 when it is gone, or -errno. */
static int adopt(const char *path, struct cgroup *cg)
{
	_cleanup_free_ char *parent = xstrdup(path);
	char *slash = strrchr(parent, '/');
	const char *name = path + (slash - parent) + 1;
	_cleanup_close_ int pfd = -1, fd = -1;
	struct statfs sf;

	*slash = '\0';
	pfd = open_dir_nofollow(*parent ? parent : "/");
	if (pfd == -ENOENT)
		return 0;
	if (pfd < 0 || cgfs_check(pfd) < 0) {
		log_error("%s is not beneath a cgroup filesystem", path);
		return pfd < 0 ? pfd : -EXDEV;
	}
	fd = cgfs_open(pfd, name, O_PATH | O_DIRECTORY);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0 || fstatfs(fd, &sf) < 0)
		return log_errno(fd < 0 ? fd : -errno, "open cgroup %s", path);
	cg->name = xstrdup(name);
	if (sf.f_type == CGROUP2_SUPER_MAGIC) {
		cg->mode = CGROUP_MODE_V2;
		cg->v2_path = xstrdup(path);
		cg->v2_fd = TAKE_FD(fd);
		cg->v2_parent_fd = TAKE_FD(pfd);
	} else {
		/* the freezer's slot where it is one: freeze, kill, thaw */
		_cleanup_close_ int st = cgfs_open(fd, "freezer.state", O_RDONLY);
		int i = st >= 0 ? CG_V1_FREEZER : CG_V1_MEMORY;

		cg->mode = CGROUP_MODE_V1;
		cg->v1_path[i] = xstrdup(path);
		cg->v1_fd[i] = TAKE_FD(fd);
		cg->v1_parent_fd[i] = TAKE_FD(pfd);
	}
	return 1;
}

static bool holds_self(const struct cgroup *cg)
{
	pid_t *pids = NULL;
	size_t n = 0;
	bool self = false;

	if (cgroup_pids(cg, &pids, &n) == 0)
		for (size_t i = 0; i < n; i++)
			self |= pids[i] == getpid();
	free(pids);
	return self;
}

/* A dead berth's supervisor leaf (cgroup-leaf.c) is gone: berth was alone
 * in P when it moved there, so berth's controllers in P's subtree_control
 * are its own; once nothing is left beneath P they are turned off, as
 * cgleaf_leave() would have, or no process could be placed in P again. */
static void leaf_parent_reset(const struct cgroup *cg, const char *path)
{
	_cleanup_free_ char *on = NULL, *off = NULL;
	size_t n = strlen(cg->name);
	unsigned mask;
	int r;

	if (cg->v2_parent_fd < 0 || n < 11 || strcmp(cg->name + n - 11, "-supervisor") != 0 ||
	    cgfs_count_children(cg->v2_parent_fd, "") != 0 ||
	    cgfs_read(cg->v2_parent_fd, "cgroup.subtree_control", &on) < 0)
		return;
	mask = cgfs_ctl_mask(on) & CG_CTL_ALL;
	if (!mask)
		return;
	off = cgfs_ctl_list(mask, "-");
	r = cgfs_write(cg->v2_parent_fd, "cgroup.subtree_control", off);
	if (r < 0)
		log_warn("cannot write '%s' beside %s: %s", off, path, strerror(-r));
}

int cgroup_remove_stale(const char *path, unsigned timeout_ms, size_t *killed)
{
	struct cgroup cg;
	uint64_t deadline = monotonic_ms() + timeout_ms;
	int r;

	*killed = 0;
	cgroup_init(&cg, CGROUP_MODE_NONE);
	if (!abs_path_ok(path)) {
		log_error("'%s' is not a cgroup directory's path", path);
		return -EINVAL;
	}
	r = adopt(path, &cg);
	if (r <= 0)
		goto out;
	if (holds_self(&cg)) {
		log_error("cgroup %s holds berth itself: not removed", path);
		r = -EBUSY;
		goto out;
	}
	r = cgroup_kill_all(&cg, killed);
	while (r == 0 && (r = cgroup_populated(&cg)) == 1) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		r = 0;
		if (monotonic_ms() >= deadline) {
			log_error("cgroup %s still holds processes %u ms after SIGKILL", path,
				  timeout_ms);
			r = -ETIMEDOUT;
			goto out;
		}
		nanosleep(&ts, NULL);
	}
	if (r == 0)
		r = cgroup_destroy(&cg) < 0 ? -EBUSY : 1;
	if (r == 1)
		leaf_parent_reset(&cg, path);
out:
	cgroup_release(&cg);
	return r;
}
