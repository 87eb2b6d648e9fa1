/* SPDX-License-Identifier: MIT */
/*
 * `berth run`: the supervision loop.  Creates the instance's cgroup, starts
 * the worker, and drives the state machine of supervise.c from one epoll
 * over a signalfd, the worker's pidfd and cgroup.events, with a timeout
 * taken from the machine's single deadline (none while idle).  Reaps every
 * zombie (PID 1 or child subreaper), relays signals, removes the cgroup.
 */
#ifndef BERTH_RUN_H
#define BERTH_RUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cgroup.h"
#include "spawn.h"
#include "supervise.h"

struct run_opts {
	const char *worker;    /* worker name: logs, default cgroup name */
	const char *app_dir;   /* the app root, the worker's cwd */
	const char *start;     /* commands.start */
	const char *pre_start; /* commands.pre_start, run once before the
				* first start; NULL: none */
	char *const *envp;     /* the worker's environment (not owned) */
	struct supervise_policy policy;
	bool no_cgroup;			    /* run without a cgroup (--no-cgroup) */
	const char *cgroup_parent;	    /* NULL: beneath berth's own cgroup */
	const char *instance;		    /* cgroup name; NULL: "berth-WORKER-PID" */
	bool force_mode;		    /* tests: use only the hierarchies of... */
	enum cgroup_mode mode;		    /* ...this mode (cgroup_layout_force) */
	const struct cgroup_layout *layout; /* detected already (the box's view,
					     * copied); NULL: detected here */
	const struct cgroup_limits *limits; /* written to the cgroup; NULL: none */
	int stdin_fd;			    /* the worker's stdin; -1 (default): /dev/null */
	const struct exec_step *steps;	    /* the box, run in the child before execve */
	size_t n_steps;
	const pid_t *helpers; /* berth's own children (slirp4netns), which --no-cgroup's */
	size_t n_helpers;     /* process tree leaves out: not the worker's; they
			       * follow berth into its cgroup leaf (pure v2) */
	const char *hostname; /* non-NULL: the worker runs in PID, IPC and UTS
			       * namespaces of its own, whose init (nsinit.h)
			       * sets this hostname; NULL: berth's */
	/* The instance record (instance.h): called with the cgroup
	 * directories berth created (cgroup_dirs()) before the worker first
	 * starts, a failure failing the setup, and with NULL once they are
	 * removed.  NULL: not called. */
	int (*cgroups_hook)(void *data, char *const *paths);
	void *cgroups_data;
	const char *notify_socket; /* $NOTIFY_SOCKET (notify.h), or NULL */
	/* Called before each start but the first (a restart); a failure is a
	 * failed start.  NULL: not called. */
	int (*restart_hook)(void *data);
	void *restart_data;
	/* The box's preparation that runs on while berth sets up and starts
	 * (boxplan_ready(), boxplan_spawned()): ready_hook is called once at
	 * the end of the setup, before anything is cloned into the worker's
	 * namespaces; spawned_hook each time the worker's process has been
	 * cloned, before its exec is waited for (it does nothing once it
	 * succeeded).  On pure v2, where berth may move into a leaf of its
	 * cgroup that its helpers would have to follow, both are called
	 * before the cgroup is created.  A failure fails the setup (125).
	 * NULL: not called. */
	int (*ready_hook)(void *data);
	int (*spawned_hook)(void *data);
	void *ready_data; /* for both */
};

/* Fill o with the defaults (policy included); the caller sets the rest. */
void run_opts_init(struct run_opts *o);

/*
 * Supervise the worker until it is told to stop (SIGTERM, SIGINT) or the
 * crash budget is spent.  Returns berth's exit status: 0 after a requested
 * stop that finished before the deadline, 137 after the SIGKILL
 * escalation, the worker's last status (128 + signal when killed) when
 * berth gave up, 125 when setup failed (nothing was started then).
 */
int run_worker(const struct run_opts *o);

/* The argv and the stop/restart policy, for `berth show`:
 * {"argv": [...], "stop": {...}, "restart": {...}}.  New reference. */
json_t *run_describe(const struct run_opts *o);

#endif
