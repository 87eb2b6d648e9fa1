/* SPDX-License-Identifier: MIT */
/*
 * The worker's cgroup: detection of the host's hierarchy (pure v2, hybrid
 * = v1 controllers + a cgroup2 mount used for tracking and killing, v1
 * only), creation of one cgroup per instance, placement, emptiness
 * tracking, cgroup-wide signalling and SIGKILL, removal.
 * Limits from `size` are written by cgroup_apply_limits() (issue 5).
 */
#ifndef BERTH_CGROUP_H
#define BERTH_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum cgroup_mode {
	CGROUP_MODE_NONE,   /* no usable hierarchy (or --no-cgroup) */
	CGROUP_MODE_V2,     /* pure cgroup v2 */
	CGROUP_MODE_HYBRID, /* v1 controllers, cgroup2 for tracking */
	CGROUP_MODE_V1,     /* v1 only: the freezer for race-free kills */
};

enum cgroup_v1_ctl { CG_V1_FREEZER, CG_V1_MEMORY, CG_V1_CPU, CG_V1_PIDS, CG_V1_COUNT };

struct cgroup_layout {
	enum cgroup_mode mode;
	char *unified_mnt;              /* cgroup2 mount point, or NULL */
	char *v1_mnt[CG_V1_COUNT];      /* each v1 controller's mount, or NULL */
};

/* One instance's cgroup(s).  fds are O_PATH|O_DIRECTORY dirfds, -1 if unused. */
struct cgroup {
	enum cgroup_mode mode;
	int v2_fd;                     /* the instance's cgroup2 directory */
	char *v2_path;                 /* its absolute path */
	int v1_fd[CG_V1_COUNT];
	char *v1_path[CG_V1_COUNT];
	int events_fd;                 /* cgroup.events (poll POLLPRI) or -1 */
};

/* Inspect /proc/self/mountinfo.  Returns 0 or -errno. */
int cgroup_detect(struct cgroup_layout *out);
void cgroup_layout_free(struct cgroup_layout *l);
const char *cgroup_mode_to_string(enum cgroup_mode m);

/*
 * Create the instance cgroup `name` (a single path component) beneath the
 * cgroup berth runs in (or beneath `parent`, a path relative to each
 * hierarchy's root, when not NULL).  Fails with a clear message naming the
 * path when berth may not create cgroups.  Returns 0 or -errno.
 */
int cgroup_create(const struct cgroup_layout *l, const char *parent, const char *name,
		  struct cgroup *cg);
/* The fd to pass to clone3(CLONE_INTO_CGROUP), or -1 when a handshake
 * (cgroup_attach before execve) is needed. */
int cgroup_clone_fd(const struct cgroup *cg);
/* Move pid into every hierarchy of the instance.  Returns 0 or -errno. */
int cgroup_attach(const struct cgroup *cg, pid_t pid);
/* 1 when any process is in the cgroup, 0 when empty, or -errno. */
int cgroup_populated(const struct cgroup *cg);
/* The pids in the cgroup (freshly allocated array). Returns 0 or -errno. */
int cgroup_pids(const struct cgroup *cg, pid_t **pids, size_t *n);
/* Send sig to every process of the cgroup, frozen while signalled so no
 * new process escapes.  *count receives how many were signalled. */
int cgroup_signal_all(const struct cgroup *cg, int sig, size_t *count);
/* SIGKILL everything: cgroup.kill where present, else freeze/kill/thaw. */
int cgroup_kill_all(const struct cgroup *cg, size_t *count);
/* Remove the instance cgroup(s); they must be empty.  Idempotent. */
int cgroup_destroy(struct cgroup *cg);
/* Close fds and free paths (does not remove anything). */
void cgroup_release(struct cgroup *cg);

#endif
