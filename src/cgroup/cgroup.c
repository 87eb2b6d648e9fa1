/* SPDX-License-Identifier: MIT */
/*
 * The worker's cgroup: creation of the instance cgroup, placement of the
 * worker, removal.  Detection is in cgroup-detect.c, signalling and killing
 * in cgroup-kill.c, limits in cgroup-limits.c, berth's supervisor leaf in
 * cgroup-leaf.c, another process's cgroup in cgroup-open.c.
 *
 * Layout.  P is the cgroup berth runs in (per hierarchy, from
 * /proc/self/cgroup) or the caller's `parent`.  The instance cgroup is
 * P/<name> in every hierarchy used: the worker alone, a leaf, limits on
 * it.  berth stays in P, outside the worker's limits and OOM group.  Only on
 * pure v2, when controllers must be enabled in P's cgroup.subtree_control and
 * berth itself is in P (the "no internal processes" rule), berth moves itself
 * to the leaf P/<name>-supervisor; cgroup_destroy() moves it back and removes
 * that leaf when nothing else needs the controllers it enabled.  berth's
 * helpers (cgroup_create_opts.companions: slirp4netns) move with it.  If other
 * processes share P, the controllers stay off (cgroup_apply_limits() then
 * names them): berth never moves processes that are not its own.
 *   pure v2  P/<name> on cgroup2, controllers memory/cpu/pids enabled in P.
 *   hybrid   P/<name> on cgroup2 (tracking, freeze, cgroup.kill) and on
 *            the v1 memory, cpu and pids hierarchies (limits).
 *   v1 only  P/<name> on the v1 freezer (tracking, race-free kill) and on
 *            memory, cpu and pids.
 * Every directory is created with mkdirat on an O_PATH dirfd and every file
 * is opened with openat on it and checked to be on cgroupfs.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

void cgroup_init(struct cgroup *cg, enum cgroup_mode mode)
{
	memset(cg, 0, sizeof(*cg));
	cg->mode = mode;
	cg->v2_fd = cg->events_fd = cg->oom_fd = cg->oom_event_fd = cg->v2_parent_fd = -1;
	for (int i = 0; i < CG_V1_COUNT; i++)
		cg->v1_fd[i] = cg->v1_parent_fd[i] = -1;
}

static bool valid_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 200 || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
			    name[i]))
			return false;
	return true;
}

static int open_beneath(int dirfd, const char *rel)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		fd = openat(dirfd, rel, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

/*
 * Open P in one hierarchy (mounted at mnt, showing cgroup `root` there):
 * `parent` beneath the mount, or berth's own cgroup from /proc/self/cgroup
 * (the line of v1 controller ctl, or the "0::" line when ctl is NULL).
 */
static int open_parent(const char *mnt, const char *root, const char *ctl, const char *parent,
		       int *pfd, char **ppath)
{
	_cleanup_free_ char *own = NULL, *path = NULL;
	_cleanup_close_ int mfd = -1, fd = -1;
	const char *rel = parent;
	int r;

	if (!rel) {
		_cleanup_free_ char *text = NULL;

		r = cgfs_read_text("/proc/self/cgroup", &text);
		if (r < 0)
			return r;
		r = cgroup_parse_proc_cgroup(text, ctl, &own);
		if (r < 0)
			return log_errno(r, "/proc/self/cgroup: no line for the %s hierarchy",
					 ctl ? ctl : "unified");
		rel = own;
		if (root && strcmp(root, "/") != 0) {
			size_t n = strlen(root);

			if (strncmp(own, root, n) != 0 || (own[n] != '/' && own[n] != '\0')) {
				log_error("berth's cgroup %s is not visible beneath %s (which "
					  "shows %s)",
					  own, mnt, root);
				return -ENOENT;
			}
			rel = own + n;
		}
	}
	rel += strspn(rel, "/");
	if (!parent && !ctl && cgleaf_home_of(rel))
		rel = cgleaf_home_of(rel); /* berth sits in its own leaf: P is where it came from */
	if (!cgfs_relpath_ok(rel)) {
		log_error("cgroup parent '%s': not a plain relative path", rel);
		return -EINVAL;
	}
	path = *rel ? xasprintf("%s/%s", mnt, rel) : xstrdup(mnt);
	mfd = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return log_errno(-errno, "open %s", mnt);
	if (cgfs_check(mfd) < 0) {
		log_error("%s is not a cgroup filesystem", mnt);
		return -EXDEV;
	}
	if (*rel) {
		fd = open_beneath(mfd, rel);
		if (fd < 0)
			return log_errno(fd, "open cgroup %s", path);
		if (cgfs_check(fd) < 0) {
			log_error("%s is not on a cgroup filesystem", path);
			return -EXDEV;
		}
	} else {
		fd = TAKE_FD(mfd);
	}
	*pfd = TAKE_FD(fd);
	*ppath = TAKE_PTR(path);
	return 0;
}

/* The CG_CTL_* bit of a v1 hierarchy (0 for the freezer). */
static unsigned v1_bit(int i)
{
	return i == CG_V1_MEMORY ? CG_CTL_MEMORY
	       : i == CG_V1_CPU	 ? CG_CTL_CPU
	       : i == CG_V1_PIDS ? CG_CTL_PIDS
				 : 0;
}

static int create_v2(struct cgroup *cg, const struct cgroup_layout *l,
		     const struct cgroup_create_opts *o, unsigned controllers)
{
	_cleanup_free_ char *ppath = NULL, *have = NULL;
	int r;

	r = open_parent(l->unified_mnt, l->unified_root, NULL, o->parent, &cg->v2_parent_fd,
			&ppath);
	if (r < 0)
		return r;
	if (l->mode == CGROUP_MODE_V2 && controllers)
		cgleaf_enable_controllers(cg, cg->v2_parent_fd, ppath, l->unified_mnt, o);
	r = cgfs_make_dir(cg->v2_parent_fd, ppath, cg->name, &cg->v2_fd, &cg->v2_path);
	if (r < 0) {
		if (cgleaf_is_home(ppath))
			cgleaf_leave(cg->v2_parent_fd);
		return r;
	}
	cg->events_fd = cgfs_open(cg->v2_fd, "cgroup.events", O_RDONLY);
	if (cg->events_fd < 0)
		return log_errno(cg->events_fd, "open %s/cgroup.events", cg->v2_path);
	if (l->mode == CGROUP_MODE_V2 && cgfs_read(cg->v2_fd, "cgroup.controllers", &have) == 0)
		cg->ctl_usable |= cgfs_ctl_mask(have) & controllers;
	return 0;
}

int cgroup_create_with(const struct cgroup_layout *l, const char *name,
		       const struct cgroup_create_opts *o, struct cgroup *cg)
{
	const char *parent = o->parent;
	unsigned controllers = o->controllers;
	int r;

	cgroup_init(cg, l->mode);
	if (!valid_name(name)) {
		log_error("invalid cgroup name '%s'", name);
		return -EINVAL;
	}
	if (l->mode == CGROUP_MODE_NONE) {
		log_error("no cgroup hierarchy is mounted; pass --no-cgroup to run without one");
		return -EOPNOTSUPP;
	}
	cg->name = xstrdup(name);
	if (l->unified_mnt) {
		r = create_v2(cg, l, o, controllers);
		if (r < 0)
			goto fail;
	}
	/* v1 without a freezer: track in whichever hierarchy there is. */
	if (l->mode == CGROUP_MODE_V1 && !l->v1_mnt[CG_V1_FREEZER])
		controllers |= CG_CTL_ALL;
	for (int i = 0; i < CG_V1_COUNT; i++) {
		_cleanup_free_ char *ppath = NULL;
		bool want = i == CG_V1_FREEZER ? l->mode == CGROUP_MODE_V1
					       : (controllers & v1_bit(i)) != 0;

		if (!want || !l->v1_mnt[i])
			continue;
		r = open_parent(l->v1_mnt[i], l->v1_root[i], cgfs_v1_name[i], parent,
				&cg->v1_parent_fd[i], &ppath);
		if (r < 0)
			goto fail;
		r = cgfs_make_dir(cg->v1_parent_fd[i], ppath, name, &cg->v1_fd[i], &cg->v1_path[i]);
		if (r < 0)
			goto fail;
		cg->ctl_usable |= v1_bit(i);
	}
	log_debug("created cgroup %s (%s)", name, cgroup_mode_to_string(l->mode));
	return 0;
fail:
	cgroup_destroy(cg);
	cgroup_release(cg);
	return r;
}

int cgroup_create(const struct cgroup_layout *l, const char *parent, const char *name,
		  struct cgroup *cg)
{
	struct cgroup_create_opts o = {.parent = parent, .controllers = CG_CTL_ALL};

	return cgroup_create_with(l, name, &o, cg);
}

int cgroup_clone_fd(const struct cgroup *cg)
{
	return cg->v2_fd;
}

bool cgroup_has_v1(const struct cgroup *cg)
{
	for (int i = 0; i < CG_V1_COUNT; i++)
		if (cg->v1_fd[i] >= 0)
			return true;
	return false;
}

int cgroup_join_v1(const struct cgroup *cg)
{
	for (int i = 0; i < CG_V1_COUNT; i++) {
		int fd, r = 0;

		if (cg->v1_fd[i] < 0)
			continue;
		fd = openat(cg->v1_fd[i], "tasks", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (write(fd, "0", 1) != 1)
			r = -errno;
		close(fd);
		if (r < 0)
			return r;
	}
	return 0;
}

int cgroup_attach(const struct cgroup *cg, pid_t pid)
{
	int r;

	if (cg->v2_fd >= 0) {
		r = cgfs_move_pid(cg->v2_fd, pid);
		if (r < 0)
			return log_errno(r, "move pid %d into %s", (int)pid, cg->v2_path);
	}
	for (int i = 0; i < CG_V1_COUNT; i++) {
		if (cg->v1_fd[i] < 0)
			continue;
		r = cgfs_move_pid(cg->v1_fd[i], pid);
		if (r < 0)
			return log_errno(r, "move pid %d into %s", (int)pid, cg->v1_path[i]);
	}
	return 0;
}

/* ---- removal -------------------------------------------------------------- */

/* rmdir pfd/name after its descendants (leaves first).  ENOENT is success. */
static int remove_tree(int pfd, const char *name, const char *path)
{
	int fd;
	DIR *d;
	struct dirent *e;
	int r = 0;

	/* The usual case, an empty leaf, in one syscall (on the stop path);
	 * EBUSY (sub-cgroups, or processes) takes the walk below. */
	if (unlinkat(pfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
		return 0;
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		return r == -ENOENT ? 0 : log_errno(r, "open %s", path);
	}
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *sub = xasprintf("%s/%s", path, e->d_name);
		int q = remove_tree(dirfd(d), e->d_name, sub);

		if (q < 0 && r == 0)
			r = q;
	}
	if (r == 0 && unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
		r = -errno;
		if (r == -EBUSY) {
			_cleanup_free_ char *procs = NULL;

			if (cgfs_read(dirfd(d), "cgroup.procs", &procs) == 0)
				for (char *p = procs; *p; p++)
					if (*p == '\n' && p[1])
						*p = ' ';
			log_error("cannot remove cgroup %s: processes remain in it (pids %s)", path,
				  procs && *procs ? strtok(procs, "\n") : "none listed");
		} else {
			log_errno(r, "rmdir %s", path);
		}
	}
	closedir(d);
	return r;
}

int cgroup_destroy(struct cgroup *cg)
{
	bool left_home = false;
	int r = 0, q;

	if (cg->oom_fd >= 0)
		close(cg->oom_fd);
	cg->oom_fd = -1;
	if (cg->oom_event_fd >= 0)
		close(cg->oom_event_fd);
	cg->oom_event_fd = -1;
	if (cg->v2_fd >= 0) {
		q = remove_tree(cg->v2_parent_fd, cg->name, cg->v2_path);
		if (q == 0) {
			_cleanup_free_ char *p =
				xstrndup(cg->v2_path, strlen(cg->v2_path) - strlen(cg->name) - 1);

			left_home = cgleaf_is_home(p);
			close(cg->v2_fd);
			cg->v2_fd = -1;
			if (cg->events_fd >= 0)
				close(cg->events_fd);
			cg->events_fd = -1;
		}
		r = q;
	}
	for (int i = 0; i < CG_V1_COUNT; i++) {
		if (cg->v1_fd[i] < 0)
			continue;
		q = remove_tree(cg->v1_parent_fd[i], cg->name, cg->v1_path[i]);
		if (q == 0) {
			close(cg->v1_fd[i]);
			cg->v1_fd[i] = -1;
		} else if (r == 0) {
			r = q;
		}
	}
	if (r == 0 && left_home)
		r = cgleaf_leave(cg->v2_parent_fd);
	return r;
}

void cgroup_release(struct cgroup *cg)
{
	int fds[] = {cg->v2_fd, cg->events_fd, cg->oom_fd, cg->oom_event_fd, cg->v2_parent_fd};

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (int i = 0; i < CG_V1_COUNT; i++) {
		if (cg->v1_fd[i] >= 0)
			close(cg->v1_fd[i]);
		if (cg->v1_parent_fd[i] >= 0)
			close(cg->v1_parent_fd[i]);
		free(cg->v1_path[i]);
	}
	free(cg->v2_path);
	free(cg->name);
	cgroup_init(cg, cg->mode);
}
