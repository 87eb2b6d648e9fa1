/* SPDX-License-Identifier: MIT */
/*
 * berth's supervisor leaf on pure cgroup v2 (see cgroup.c's layout): to
 * enable controllers in P's cgroup.subtree_control, berth, alone in P with
 * its helpers, moves into P/<name>-supervisor, and back once the last
 * instance beneath P is removed.  Part of the cgroup module.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

/*
 * berth's own leaf on pure v2.  A process is in one cgroup, so the leaf is
 * per process, not per instance: an instance created beneath P while berth
 * sits in P/<name>-supervisor is created beside the first (P is still where
 * berth came from), and the removal of the last instance beneath P turns off
 * the controllers berth enabled there, moves berth back and removes the
 * leaf.  The one piece of state that is unavoidably per process.
 */
static struct {
	char *home;	  /* P, relative to the cgroup2 mount ("" for its root) */
	char *home_path;  /* P's absolute path */
	char *name;	  /* "<name>-supervisor" */
	unsigned enabled; /* CG_CTL_* berth enabled in P's cgroup.subtree_control */
	pid_t companion[CGROUP_MAX_COMPANIONS]; /* berth's helpers: they move with it,
						 * from cgroup_create_opts */
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

/* The helpers that move with berth into its leaf and back. */
static void set_companions(const pid_t *pids, size_t n)
{
	leaf.n_companions = n < CGROUP_MAX_COMPANIONS ? n : CGROUP_MAX_COMPANIONS;
	for (size_t i = 0; i < leaf.n_companions; i++)
		leaf.companion[i] = pids[i];
}

const char *cgleaf_home_of(const char *rel)
{
	size_t n;

	if (!leaf.name)
		return NULL;
	n = strlen(leaf.home);
	if (n == 0)
		return strcmp(rel, leaf.name) == 0 ? leaf.home : NULL;
	return strncmp(rel, leaf.home, n) == 0 && rel[n] == '/' &&
			       strcmp(rel + n + 1, leaf.name) == 0
		       ? leaf.home
		       : NULL;
}

char *cgleaf_path(void)
{
	return leaf.name ? xasprintf("%s/%s", leaf.home_path, leaf.name) : NULL;
}

/* ---- creation ------------------------------------------------------------- */

bool cgroup_in_supervisor_leaf(void)
{
	return leaf.name != NULL;
}

bool cgleaf_is_home(const char *ppath)
{
	return leaf.name && strcmp(ppath, leaf.home_path) == 0;
}

/* Move berth back to P (pfd) and remove its leaf, first turning off the
 * controllers it enabled in P, once no other child of P is left. */
int cgleaf_leave(int pfd)
{
	int r = cgfs_count_children(pfd, leaf.name);

	if (r != 0) {
		log_debug("cgroups remain beneath %s: berth stays in %s", leaf.home_path,
			  leaf.name);
		return 0;
	}
	if (leaf.enabled) {
		_cleanup_free_ char *off = cgfs_ctl_list(leaf.enabled, "-");

		r = cgfs_write(pfd, "cgroup.subtree_control", off);
		if (r < 0)
			return log_errno(r, "write '%s' to %s/cgroup.subtree_control", off,
					 leaf.home_path);
		leaf.enabled = 0;
	}
	for (size_t i = 0; i < leaf.n_companions; i++) {
		int q = cgfs_move_pid(pfd, leaf.companion[i]);
		if (q < 0 && q != -ESRCH) /* gone is fine */
			return log_errno(q, "move berth's helper %d back to %s",
					 (int)leaf.companion[i], leaf.home_path);
	}
	r = cgfs_move_pid(pfd, getpid());
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
static int enter_supervisor(struct cgroup *cg, int pfd, const char *ppath, const char *mnt,
			    const struct cgroup_create_opts *o)
{
	_cleanup_free_ char *sname = xasprintf("%s-supervisor", cg->name), *spath = NULL;
	_cleanup_close_ int fd = -1;
	const char *home = ppath + strlen(mnt);
	int r;

	r = cgfs_make_dir(pfd, ppath, sname, &fd, &spath);
	if (r < 0)
		return r;
	r = cgfs_move_pid(fd, getpid());
	if (r < 0) {
		unlinkat(pfd, sname, AT_REMOVEDIR);
		return log_errno(r, "move berth into %s", spath);
	}
	set_companions(o->companions, o->n_companions);
	/* Its helpers (slirp4netns) sit in P too: P is empty only without them. */
	for (size_t i = 0; i < leaf.n_companions; i++) {
		int q = cgfs_move_pid(fd, leaf.companion[i]);
		if (q < 0 && q != -ESRCH) {
			for (size_t j = 0; j < i; j++)
				cgfs_move_pid(pfd, leaf.companion[j]);
			cgfs_move_pid(pfd, getpid());
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

void cgleaf_enable_controllers(struct cgroup *cg, int pfd, const char *ppath, const char *mnt,
			       const struct cgroup_create_opts *o)
{
	unsigned want = o->controllers;
	_cleanup_free_ char *avail = NULL, *on = NULL, *add = NULL;
	unsigned need;
	int r;

	if (cgfs_read(pfd, "cgroup.controllers", &avail) < 0 ||
	    cgfs_read(pfd, "cgroup.subtree_control", &on) < 0)
		return;
	need = want & cgfs_ctl_mask(avail) & ~cgfs_ctl_mask(on);
	if (!need)
		return;
	add = cgfs_ctl_list(need, "+");
	r = cgfs_write(pfd, "cgroup.subtree_control", add);
	if (r == -EBUSY && !leaf.name && cgfs_holds_pid(pfd, getpid()) &&
	    enter_supervisor(cg, pfd, ppath, mnt, o) == 0) {
		r = cgfs_write(pfd, "cgroup.subtree_control", add);
		if (r == -EBUSY) {
			log_warn("cgroup %s holds processes other than berth, so '%s' cannot be "
				 "enabled for its children",
				 ppath, add);
			cgleaf_leave(pfd);
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
	if (cgleaf_is_home(ppath))
		leaf.enabled |= need;
}
