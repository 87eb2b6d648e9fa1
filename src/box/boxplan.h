/* SPDX-License-Identifier: MIT */
/*
 * The box plan: one value saying what a worker's box is made of, in the
 * order it is created, built by pure code from the worker, its context
 * and a command's options.  Every command that makes or shows a box reads
 * it: `run` and `exec` open it (boxplan_open) and close it in reverse
 * (boxplan_close), `show` prints it (boxplan_describe), `spec` turns it
 * into an OCI config and `hook` applies the parts a runtime does not
 * (limits, network rules, storage).  A backend that is not berth reads the
 * plain fields below; nothing in it needs a syscall to interpret.
 *
 * The order, each undone in reverse by boxplan_close():
 *
 *   1. cgroup       limits from size (run_worker() creates it; skipped
 *                   with no_cgroup, not limited with no_limits)
 *   2. user         resolved from sandbox.user (web, else nobody)
 *   3. view         storage, disk image, the new root (view_open)
 *   4. sandbox      network namespace and rules from relationships,
 *                   services and firewall (not with no_network), hosts
 *                   file, capabilities, Landlock, syscall filter
 *                   (sandbox_prepare), their steps in sandbox.h's order
 *   5. hostname     of the worker's own PID, IPC and UTS namespaces
 *
 * With unconfined, 2 to 4 are skipped: the worker runs as berth does.
 */
#ifndef BERTH_BOXPLAN_H
#define BERTH_BOXPLAN_H

#include <jansson.h>
#include <stdbool.h>

#include "app.h"
#include "caps.h"
#include "cgroup.h"
#include "context.h"
#include "sandbox.h"
#include "sizelimit.h"
#include "storage.h"
#include "view.h"

/* What a command asks of the box: its options, borrowed. */
struct boxplan_request {
	const struct app *app;
	const struct worker *w;
	const struct context *ctx;	    /* the worker's, loaded once */
	const char *state_dir;		    /* --state-dir; NULL: BERTH_STATE_DIR */
	struct sizelimit_overrides limits;  /* --memory, --cpus...; the context's
					     * auto_size unless --auto-size */
	bool no_cgroup;			    /* --no-cgroup */
	bool no_limits;			    /* exec: a cgroup without limits */
	bool unconfined;		    /* --unconfined: no box */
	bool no_network;		    /* exec: berth's network, no rules */
	bool pid1;			    /* berth is PID 1 (--network=auto) */
	struct view_opts view;		    /* storage_root, require_quota, attach,
					     * ro_binds; tmp_size as given (0:
					     * the default, bounded by memory) */
	const struct sandbox_opts *sandbox; /* --network, --user, --seccomp,
					     * --allow-local-listen; NULL: defaults */
};

/* The plan.  Owns relationships, services and hostname; sandbox.net is
 * the request's (borrowed). */
struct boxplan {
	const struct worker *w; /* borrowed */
	/* 1. the cgroup */
	bool no_cgroup;
	bool no_limits;
	struct cgroup_limits limits; /* from size and the overrides */
	/* 2.-4. the box; none of it when unconfined */
	bool unconfined;
	struct view_opts view;	     /* mounts and storage: state dir, project,
				      * environment, storage root, /tmp's bound,
				      * --ro-bind paths; uid/gid (uid_t)-1 until
				      * the user is resolved (boxplan_user) */
	struct sandbox_opts sandbox; /* network mode, user, filter; relationships,
				      * services and firewall point into this plan
				      * and the worker (the egress inputs) */
	bool no_network;	     /* keep berth's network namespace: no rules,
				      * no hosts file */
	bool pid1;
	json_t *relationships; /* relationships_build(), or NULL (unconfined) */
	json_t *services;      /* relationships_services(), or NULL */
	/* 5. the worker's UTS name */
	char *hostname;
};

/* Build the plan (pure).  0, or -EINVAL (logged: a context's auto_size or
 * relationships that do not build). */
int boxplan_build(const struct boxplan_request *rq, struct boxplan *p);
void boxplan_free(struct boxplan *p);

/* The instance's hostname, "<app>--<worker>" (names are [a-z0-9_-], no
 * "--", so it is unambiguous), the app's name shortened when needed so
 * that it fits one DNS label (63).  Freshly allocated. */
char *boxplan_hostname(const char *app, const char *worker);

/* Resolve the plan's user (passwd lookup) and make the view the user's
 * (view.uid, view.gid).  0 or -errno (logged, naming the --user value). */
int boxplan_user(struct boxplan *p, struct caps_user *u);

/* What `berth show` prints under "plan": sets "cgroup", "mounts" and
 * "sandbox" on obj (null where skipped).  0, or -errno (logged). */
int boxplan_describe(const struct boxplan *p, json_t *obj);

/* What boxplan_open() made; steps are the child's pre-exec steps. */
struct box {
	struct caps_user user;
	struct view view;
	struct sandbox sb;
	bool have_user, have_view, have_sb;
	const struct exec_step *steps; /* into sb */
	size_t n_steps;
	const pid_t *helpers; /* berth's own children (slirp4netns) */
	size_t n_helpers;
};

/* Open the box in the plan's order (user, view, sandbox; slirp4netns made a
 * companion of berth's cgroup).  Nothing when unconfined.  Sets the
 * plan's view.uid/gid (boxplan_user).  0, or -errno (logged; what was
 * made is closed). */
int boxplan_open(struct boxplan *p, struct box *b);
/* Close it in reverse.  Safe on a zeroed or closed box. */
void boxplan_close(struct box *b);
/* run_opts.restart_hook for an open box (data: the box): the firewall's
 * domains resolved again before a restart. */
int boxplan_restart(void *data);
/* run_opts.ready_hook and spawned_hook for an open box (data: the box):
 * what boxplan_open() left running, --network=none's namespace and
 * ruleset (net_ready(), net_verified()).  Before the first, the worker's
 * process cannot join its namespace; before the second, it waits at the
 * ruleset's gate. */
int boxplan_ready(void *data);
int boxplan_spawned(void *data);

/* For an OCI runtime (`berth spec`): the instance's storage of mp (the
 * plan's view_plan()) made before the runtime starts, as the plan's user
 * (storage_open: directories, the disk image made or resized).  Bounded
 * by a hook (by_hook), or else unbounded (the warning says why) and the
 * sources config.json binds made, its tmp mounts' included.  Closed
 * again.  0 or -errno (logged). */
int boxplan_storage_prepare(const struct boxplan *p, const struct mountplan *mp, bool by_hook,
			    const char *why);

#endif
