/* SPDX-License-Identifier: MIT */
/*
 * The worker's view in one piece, for the commands: plan (mountplan.c),
 * storage on the host (storage.c) and the child's step (mount.c).
 *
 *   berth (parent)                    worker's child (root, before the drop)
 *   view_open()  plan, storage,       view_step(): mount_apply(), the new
 *                app-tree checks      root pivoted into
 *   view_set_hosts() (optional)       ... caps drop, seccomp
 *   spawn_worker() per start          exec
 *   view_close() when berth is done
 */
#ifndef BERTH_VIEW_H
#define BERTH_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "app.h"
#include "cgroup.h"
#include "mount.h"
#include "mountplan.h"
#include "execstep.h"
#include "storage.h"

#define VIEW_STORAGE_SUBDIR "storage" /* default storage root: <state dir>/storage */

struct view_opts {
	const char *storage_root; /* --storage-root; NULL: <state_dir>/storage */
	const char *state_dir;	  /* NULL: BERTH_STATE_DIR */
	const char *project;	  /* the context's project and environment */
	const char *environment;
	const char *instance; /* NULL: the worker's name ("web" for web) */
	bool require_quota;   /* --require-disk-quota */
	bool attach;	      /* berth exec: join a running berth's storage */
	uid_t uid;	      /* the worker's user; (uid_t)-1: root */
	gid_t gid;
	uint64_t tmp_size;	     /* /tmp's bound; 0: MOUNTPLAN_TMP_SIZE_DEFAULT */
	const char *const *ro_binds; /* --ro-bind paths, NULL-terminated, or NULL */
};

struct view {
	struct mountplan plan;
	struct cgroup_layout cgl; /* the hierarchies the plan shows (its paths) */
	struct storage st;
	struct mount_ctx m;
	bool have_plan, have_st, have_m;
};

/* The plan alone, without the cgroup hierarchies (OCI: the storage binds
 * are what counts).  0, or -EINVAL (logged). */
int view_plan(const struct worker *w, const struct view_opts *o, struct mountplan *p);
/* The whole plan as JSON for berth show (mountplan_to_json), or NULL
 * (logged). */
json_t *view_describe(const struct worker *w, const struct view_opts *o);

/* Plan, storage_open (the scratch directories of older versions removed:
 * /tmp is a tmpfs now), mount_ctx_init.  0 or -errno (logged); on failure
 * nothing is left open.  Call once, before the first start. */
int view_open(const struct worker *w, const struct view_opts *o, struct view *v);
/* The worker's /etc/hosts (borrowed until view_close; NULL: the host's). */
void view_set_hosts(struct view *v, const char *text);
/* The spawn step: put it before the network, user and seccomp steps. */
struct exec_step view_step(struct view *v);
/* Remove the scratch directories of finished starts (optional, between
 * starts; view_close does it too). */
void view_sweep(struct view *v);
void view_close(struct view *v);

/* Options of berth run and berth exec.  --tmp-size: a size of at least
 * 1M ("512M", "2G").  0 or -EINVAL. */
int view_parse_tmp_size(const char *v, uint64_t *out);
/* /tmp's bound: given, else 1 GiB, or the memory limit (0: none) when
 * lower (tmpfs pages count against the worker's memory cgroup). */
uint64_t view_tmp_size(uint64_t given, uint64_t memory_bytes);
/* Append --ro-bind PATH (list: BERTH_RO_BIND's PATH:PATH) to a
 * NULL-terminated array.  -EINVAL when a path is relative or has "", "."
 * or ".." components (where it points is checked with the plan). */
int view_ro_bind_add(char ***paths, size_t *n, const char *v, bool list);

#endif
