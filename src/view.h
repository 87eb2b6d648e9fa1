/* SPDX-License-Identifier: MIT */
/*
 * The worker's view in one piece, for the commands: plan (mountplan.c),
 * storage on the host (storage.c) and the child's step (mount.c).
 *
 *   berth (parent)                    worker's child (root, before the drop)
 *   view_open()  plan, storage,       view_step(): mount_apply()
 *                app-tree checks      ... net hosts, caps drop, seccomp
 *   spawn_worker() per start          exec
 *   view_sweep() after each exit (optional)
 *   view_close() when berth is done
 */
#ifndef BERTH_VIEW_H
#define BERTH_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "app.h"
#include "mount.h"
#include "mountplan.h"
#include "spawn.h"
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
};

struct view {
	struct mountplan plan;
	struct storage st;
	struct mount_ctx m;
	bool have_plan, have_st, have_m;
};

/* The plan alone (berth show).  0, or -EINVAL (logged). */
int view_plan(const struct worker *w, const struct view_opts *o, struct mountplan *p);
/* The plan as JSON for berth show (mountplan_to_json), or NULL (logged). */
json_t *view_describe(const struct worker *w, const struct view_opts *o);

/* Plan, storage_open, mount_ctx_init.  0 or -errno (logged); on failure
 * nothing is left open.  Call once, before the first start. */
int view_open(const struct worker *w, const struct view_opts *o, struct view *v);
/* The spawn step: put it before the network, user and seccomp steps. */
struct spawn_step view_step(struct view *v);
/* Remove the scratch directories of finished starts (optional, between
 * starts; view_close does it too). */
void view_sweep(struct view *v);
void view_close(struct view *v);

#endif
