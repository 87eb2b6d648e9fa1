/* SPDX-License-Identifier: MIT */
/*
 * The worker's cgroup: creation of the instance cgroup, placement of the
 * worker, removal.  Detection is in cgroup-detect.c, signalling and killing
 * in cgroup-kill.c, limits in cgroup-limits.c.
 *
 * Layout.  P is the cgroup berth runs in (per hierarchy, from
 * /proc/self/cgroup) or the caller's `parent`.  The instance cgroup is
 * P/<name> in every hierarchy used: the worker alone, a leaf, limits on
 * it.  berth stays in P, outside the worker's limits and OOM group.  Only on
 * pure v2, when controllers must be enabled in P's cgroup.subtree_control and
 * berth itself is in P (the "no internal processes" rule), berth moves itself
 * to the leaf P/<name>-supervisor; cgroup_destroy() moves it back and removes
 * that leaf when nothing else needs the controllers it enabled.  berth's
 * helpers (cgroup_set_companions(): pasta) move with it.  If other
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

static const char *const ctl_name[] = {"memory", "cpu", "pids"}; /* bit i of CG_CTL_* */

/*
 * berth's own leaf on pure v2.  A process is in one cgroup, so the leaf is
 * per process, not per instance: an instance created beneath P while berth
 * sits in P/<name>-supervisor is created beside the first (P is still where
 * berth came from), and the removal of the last instance beneath P turns off
 * the controllers berth enabled there, moves berth back and removes the
 * leaf.  The one piece of state that is unavoidably per process.
 */
static struct {
	char *home;       /* P, relative to the cgroup2 mount ("" for its root) */
	char *home_path;  /* P's absolute path */
	char *name;       /* "<name>-supervisor" */
	unsigned enabled; /* CG_CTL_* berth enabled in P's cgroup.subtree_control */
	pid_t companion[CGROUP_MAX_COMPANIONS]; /* berth's helpers: they move with it */
	size_t n_companions;
} leaf;

static void leaf_forget(void)
{
	free(leaf.home);
	free(leaf.home_path);
	free(leaf.name);
	leaf.home = leaf.home_path = leaf.name = NULL;
	leaf.enabled = 0;
}

void cgroup_set_companions(const pid_t *pids, size_t n)
{
	leaf.n_companions = n < CGROUP_MAX_COMPANIONS ? n : CGROUP_MAX_COMPANIONS;
	for (size_t i = 0; i < leaf.n_companions; i++)
		leaf.companion[i] = pids[i];
}

/* Is rel (relative to the cgroup2 mount) berth's own leaf? */
static bool is_leaf(const char *rel)
{
	size_t n;

	if (!leaf.name)
		return false;
	n = strlen(leaf.home);
	if (n == 0)
		return strcmp(rel, leaf.name) == 0;
	return strncmp(rel, leaf.home, n) == 0 && rel[n] == '/' &&
	       strcmp(rel + n + 1, leaf.name) == 0;
}

/* ---- creation ------------------------------------------------------------- */

void cgroup_init(struct cgroup *cg, enum cgroup_mode mode)
{
	memset(cg, 0, sizeof(*cg));
	cg->mode = mode;
	cg->v2_fd = cg->events_fd = cg->oom_fd = cg->v2_parent_fd = -1;
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

/* A relative path without empty, "." or ".." components ("" is fine). */
static bool relpath_ok(const char *p)
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
				log_error("berth's cgroup %s is not visible beneath %s (which shows %s)",
					  own, mnt, root);
				return -ENOENT;
			}
			rel = own + n;
		}
	}
	rel += strspn(rel, "/");
	if (!parent && !ctl && is_leaf(rel))
		rel = leaf.home; /* berth sits in its own leaf: P is where it came from */
	if (!relpath_ok(rel)) {
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

/* mkdir ppath/name; an empty leftover of the same name is replaced. */
static int make_dir(int pfd, const char *ppath, const char *name, int *fd_out, char **path_out)
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

static unsigned ctl_mask(const char *list)
{
	unsigned m = 0;

	for (const char *p = list; *p;) {
		size_t n = strcspn(p, " \n");

		for (size_t i = 0; i < ARRAY_SIZE(ctl_name); i++)
			if (strlen(ctl_name[i]) == n && strncmp(p, ctl_name[i], n) == 0)
				m |= 1u << i;
		p += n;
		p += strspn(p, " \n");
	}
	return m;
}

static char *ctl_list(unsigned mask, const char *prefix)
{
	struct strbuf sb = {0};

	strbuf_puts(&sb, "");
	for (size_t i = 0; i < ARRAY_SIZE(ctl_name); i++)
		if (mask & (1u << i))
			strbuf_printf(&sb, "%s%s%s", sb.len ? " " : "", prefix, ctl_name[i]);
	return strbuf_detach(&sb);
}

static int move_pid(int dirfd, pid_t pid)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return cgfs_write(dirfd, "cgroup.procs", buf);
}

/* Child directories of dirfd other than `except`. */
static int count_children(int dirfd, const char *except)
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

static bool holds_pid(int dirfd, pid_t pid)
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

/* Is P (at ppath) the cgroup berth left for its leaf? */
static bool is_leaf_home(const char *ppath)
{
	return leaf.name && strcmp(ppath, leaf.home_path) == 0;
}

/* Move berth back to P (pfd) and remove its leaf, first turning off the
 * controllers it enabled in P, once no other child of P is left. */
static int leave_supervisor(int pfd)
{
	int r = count_children(pfd, leaf.name);

	if (r != 0) {
		log_debug("cgroups remain beneath %s: berth stays in %s", leaf.home_path, leaf.name);
		return 0;
	}
	if (leaf.enabled) {
		_cleanup_free_ char *off = ctl_list(leaf.enabled, "-");

		r = cgfs_write(pfd, "cgroup.subtree_control", off);
		if (r < 0)
			return log_errno(r, "write '%s' to %s/cgroup.subtree_control", off,
					 leaf.home_path);
		leaf.enabled = 0;
	}
	for (size_t i = 0; i < leaf.n_companions; i++) {
		int q = move_pid(pfd, leaf.companion[i]);
		if (q < 0 && q != -ESRCH) /* gone is fine */
			return log_errno(q, "move berth's helper %d back to %s",
					 (int)leaf.companion[i], leaf.home_path);
	}
	r = move_pid(pfd, getpid());
	if (r < 0)
		return log_errno(r, "move berth back from %s to %s", leaf.name, leaf.home_path);
	if (unlinkat(pfd, leaf.name, AT_REMOVEDIR) < 0)
		return log_errno(-errno, "rmdir %s/%s", leaf.home_path, leaf.name);
	log_debug("berth moved itself back to %s", leaf.home_path);
	leaf_forget();
	return 0;
}

/* berth moves itself into P/<name>-supervisor (P holds processes, so it
 * cannot enable controllers for its children). */
static int enter_supervisor(struct cgroup *cg, int pfd, const char *ppath, const char *mnt)
{
	_cleanup_free_ char *sname = xasprintf("%s-supervisor", cg->name), *spath = NULL;
	_cleanup_close_ int fd = -1;
	const char *home = ppath + strlen(mnt);
	int r;

	r = make_dir(pfd, ppath, sname, &fd, &spath);
	if (r < 0)
		return r;
	r = move_pid(fd, getpid());
	if (r < 0) {
		unlinkat(pfd, sname, AT_REMOVEDIR);
		return log_errno(r, "move berth into %s", spath);
	}
	/* Its helpers (pasta) sit in P too: P is empty only without them. */
	for (size_t i = 0; i < leaf.n_companions; i++) {
		int q = move_pid(fd, leaf.companion[i]);
		if (q < 0 && q != -ESRCH) {
			for (size_t j = 0; j < i; j++)
				move_pid(pfd, leaf.companion[j]);
			move_pid(pfd, getpid());
			unlinkat(pfd, sname, AT_REMOVEDIR);
			return log_errno(q, "move berth's helper %d into %s",
					 (int)leaf.companion[i], spath);
		}
	}
	log_debug("berth moved itself%s into %s", leaf.n_companions ? " and its helpers" : "",
		  spath);
	leaf.home = xstrdup(home + strspn(home, "/"));
	leaf.home_path = xstrdup(ppath);
	leaf.name = TAKE_PTR(sname);
	return 0;
}

/* Pure v2: enable the wanted controllers P offers in P's subtree_control. */
static void enable_controllers(struct cgroup *cg, int pfd, const char *ppath, const char *mnt,
			       unsigned want)
{
	_cleanup_free_ char *avail = NULL, *on = NULL, *add = NULL;
	unsigned need;
	int r;

	if (cgfs_read(pfd, "cgroup.controllers", &avail) < 0 ||
	    cgfs_read(pfd, "cgroup.subtree_control", &on) < 0)
		return;
	need = want & ctl_mask(avail) & ~ctl_mask(on);
	if (!need)
		return;
	add = ctl_list(need, "+");
	r = cgfs_write(pfd, "cgroup.subtree_control", add);
	if (r == -EBUSY && !leaf.name && holds_pid(pfd, getpid()) &&
	    enter_supervisor(cg, pfd, ppath, mnt) == 0) {
		r = cgfs_write(pfd, "cgroup.subtree_control", add);
		if (r == -EBUSY) {
			log_warn("cgroup %s holds processes other than berth, so '%s' cannot be "
				 "enabled for its children",
				 ppath, add);
			leave_supervisor(pfd);
			return;
		}
	}
	if (r == -EBUSY) {
		log_warn("cgroup %s holds processes, so '%s' cannot be enabled for its children",
			 ppath, add);
		return;
	}
	if (r < 0) {
		log_warn("cannot write '%s' to %s/cgroup.subtree_control: %s", add, ppath,
			 strerror(-r));
		return;
	}
	log_debug("enabled '%s' in %s/cgroup.subtree_control", add, ppath);
	cg->ctl_enabled = need;
	if (is_leaf_home(ppath))
		leaf.enabled |= need;
}

/* The CG_CTL_* bit of a v1 hierarchy (0 for the freezer). */
static unsigned v1_bit(int i)
{
	return i == CG_V1_MEMORY ? CG_CTL_MEMORY
	       : i == CG_V1_CPU  ? CG_CTL_CPU
	       : i == CG_V1_PIDS ? CG_CTL_PIDS
				 : 0;
}

static int create_v2(struct cgroup *cg, const struct cgroup_layout *l, const char *parent,
		     unsigned controllers)
{
	_cleanup_free_ char *ppath = NULL, *have = NULL;
	int r;

	r = open_parent(l->unified_mnt, l->unified_root, NULL, parent, &cg->v2_parent_fd, &ppath);
	if (r < 0)
		return r;
	if (l->mode == CGROUP_MODE_V2 && controllers)
		enable_controllers(cg, cg->v2_parent_fd, ppath, l->unified_mnt, controllers);
	r = make_dir(cg->v2_parent_fd, ppath, cg->name, &cg->v2_fd, &cg->v2_path);
	if (r < 0) {
		if (is_leaf_home(ppath))
			leave_supervisor(cg->v2_parent_fd);
		return r;
	}
	cg->events_fd = cgfs_open(cg->v2_fd, "cgroup.events", O_RDONLY);
	if (cg->events_fd < 0)
		return log_errno(cg->events_fd, "open %s/cgroup.events", cg->v2_path);
	if (l->mode == CGROUP_MODE_V2 && cgfs_read(cg->v2_fd, "cgroup.controllers", &have) == 0)
		cg->ctl_usable |= ctl_mask(have) & controllers;
	return 0;
}

int cgroup_create_ex(const struct cgroup_layout *l, const char *parent, const char *name,
		     unsigned controllers, struct cgroup *cg)
{
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
		r = create_v2(cg, l, parent, controllers);
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
		r = make_dir(cg->v1_parent_fd[i], ppath, name, &cg->v1_fd[i], &cg->v1_path[i]);
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
	return cgroup_create_ex(l, parent, name, CG_CTL_ALL, cg);
}

int cgroup_clone_fd(const struct cgroup *cg)
{
	return cg->mode == CGROUP_MODE_V2 ? cg->v2_fd : -1;
}

int cgroup_attach(const struct cgroup *cg, pid_t pid)
{
	int r;

	if (cg->v2_fd >= 0) {
		r = move_pid(cg->v2_fd, pid);
		if (r < 0)
			return log_errno(r, "move pid %d into %s", (int)pid, cg->v2_path);
	}
	for (int i = 0; i < CG_V1_COUNT; i++) {
		if (cg->v1_fd[i] < 0)
			continue;
		r = move_pid(cg->v1_fd[i], pid);
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
	if (cg->v2_fd >= 0) {
		q = remove_tree(cg->v2_parent_fd, cg->name, cg->v2_path);
		if (q == 0) {
			size_t n = strlen(cg->v2_path) - strlen(cg->name) - 1;

			left_home = leaf.name && strlen(leaf.home_path) == n &&
				    strncmp(cg->v2_path, leaf.home_path, n) == 0;
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
		r = leave_supervisor(cg->v2_parent_fd);
	return r;
}

void cgroup_release(struct cgroup *cg)
{
	int fds[] = {cg->v2_fd, cg->events_fd, cg->oom_fd, cg->v2_parent_fd};

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
