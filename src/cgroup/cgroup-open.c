/* SPDX-License-Identifier: MIT */
/*
 * A cgroup berth did not create: the one another process lives in (an OCI
 * container's init, for `berth hook`), opened from /proc/<pid>/cgroup in
 * the hierarchies that carry berth's controllers, to be given the worker's
 * limits.  Not the cgroup2 hierarchy of a hybrid host (a runtime that
 * drives only v1 leaves the process in its caller's cgroup2 cgroup) nor
 * the v1 freezer: the handle is for limits, never for killing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

static const struct {
	enum cgroup_v1_ctl v1;
	unsigned bit;
	const char *name;
} v1_ctls[] = {
	{CG_V1_MEMORY, CG_CTL_MEMORY, "memory"},
	{CG_V1_CPU, CG_CTL_CPU, "cpu"},
	{CG_V1_PIDS, CG_CTL_PIDS, "pids"},
};

/* mnt + (path relative to the mount's root). */
static char *hier_dir(const char *mnt, const char *root, const char *path)
{
	size_t rl = root ? strlen(root) : 0;

	if (rl > 1 && strncmp(path, root, rl) == 0 && (path[rl] == '/' || !path[rl]))
		path += rl;
	return xasprintf("%s%s", mnt, strcmp(path, "/") == 0 ? "" : path);
}

static int open_dir(const char *path)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? log_errno(-errno, "open the cgroup %s", path) : fd;
}

int cgroup_open_pid(pid_t pid, struct cgroup *cg)
{
	struct cgroup_layout l = {0};
	_cleanup_free_ char *text = NULL, *file = xasprintf("/proc/%d/cgroup", (int)pid);
	int r;

	cgroup_init(cg, CGROUP_MODE_NONE);
	cg->name = xasprintf("pid %d", (int)pid);
	if ((r = cgfs_read_text(file, &text)) < 0) {
		cgroup_release(cg);
		return r; /* logged */
	}
	if ((r = cgroup_detect(&l)) < 0) {
		cgroup_release(cg);
		return log_errno(r, "detect the cgroup hierarchies");
	}
	cg->mode = l.mode;
	if (l.mode == CGROUP_MODE_NONE) {
		log_error("no usable cgroup hierarchy on this host");
		r = -ENOENT;
	} else if (l.mode == CGROUP_MODE_V2) {
		_cleanup_free_ char *path = NULL;

		if (cgroup_parse_proc_cgroup(text, NULL, &path) < 0) {
			log_error("%s: in no cgroup2 cgroup", cg->name);
			r = -ENOENT;
		} else {
			cg->v2_path = hier_dir(l.unified_mnt, l.unified_root, path);
			if ((cg->v2_fd = open_dir(cg->v2_path)) < 0)
				r = cg->v2_fd;
			cg->ctl_usable = CG_CTL_ALL; /* cgroup_apply_limits names a missing one */
		}
	} else {
		cg->mode = CGROUP_MODE_V1; /* limits go to v1 */
	}
	for (size_t i = 0; r == 0 && l.mode != CGROUP_MODE_V2 && i < ARRAY_SIZE(v1_ctls); i++) {
		_cleanup_free_ char *path = NULL;
		int k = v1_ctls[i].v1;

		if (!l.v1_mnt[k] || cgroup_parse_proc_cgroup(text, v1_ctls[i].name, &path) < 0)
			continue;
		cg->v1_path[k] = hier_dir(l.v1_mnt[k], l.v1_root[k], path);
		if ((cg->v1_fd[k] = open_dir(cg->v1_path[k])) < 0)
			r = cg->v1_fd[k];
		else
			cg->ctl_usable |= v1_ctls[i].bit;
	}
	cgroup_layout_free(&l);
	if (r < 0)
		cgroup_release(cg);
	return r;
}
