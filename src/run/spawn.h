/* SPDX-License-Identifier: MIT */
/*
 * Starting the worker: clone3 with a pidfd, straight into its cgroup
 * (CLONE_INTO_CGROUP) or held on a handshake until the parent has moved it
 * there; then, in the child, a clean process (new session, default signal
 * dispositions, empty mask, stdin from /dev/null, cwd the app root, the
 * worker's IPC and UTS namespaces joined (it was created in its PID
 * namespace), the pre-exec steps, every fd above 2 closed) that execs the
 * start command's words directly (when the command is plain and there is
 * no ./.environment to source) or /bin/sh -c SCRIPT.  Exec failures reach
 * the parent over a CLOEXEC pipe.
 */
#ifndef BERTH_SPAWN_H
#define BERTH_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "execstep.h"

struct cgroup;

#define SPAWN_SHELL "/bin/sh"

/*
 * The namespaces the worker starts in (nsinit.c opens them; not owned):
 * it is created in pid_fd's PID namespace (berth's pid_for_children is
 * switched there around the clone, and back to own_pid_fd, so that
 * nothing else berth starts lands there), and joins ipc_fd's and uts_fd's
 * before the steps.
 */
struct spawn_ns {
	int pid_fd, own_pid_fd, ipc_fd, uts_fd;
};

struct spawn_opts {
	const char *script; /* the sh -c script, see spawn_script() */
	/* The start command's words (startcmd_argv), executed directly as
	 * dash would (PATH search in envp, PWD added, ENOEXEC run by the
	 * shell) unless ./.environment is readable in the app root as the
	 * worker, right before the exec.  NULL: always the script. */
	char *const *argv;
	char *const *envp;	   /* the worker's whole environment */
	int cwd_fd;		   /* dirfd of the app root (not owned) */
	int stdin_fd;		   /* -1: /dev/null */
	const struct cgroup *cg;   /* NULL: no cgroup (--no-cgroup) */
	bool no_clone_into;	   /* place by handshake even where clone3
				    * CLONE_INTO_CGROUP works (see run.c) */
	const struct spawn_ns *ns; /* NULL: berth's PID, IPC and UTS namespaces */
	const struct exec_step *steps;
	size_t n_steps;
	/* Called once the child exists (and is in its cgroup), before its
	 * exec is waited for: what a step of it waits for (the ruleset's
	 * gate) is finished meanwhile.  A failure kills and reaps the child
	 * and is spawn_worker()'s.  NULL: none. */
	int (*spawned)(void *data);
	void *spawned_data;
};

struct spawn_result {
	pid_t pid;
	int pidfd; /* owned by the caller, O_CLOEXEC */
	/* How it was placed: "clone3+cgroup" (pure v2), "clone3+cgroup+tasks"
	 * (hybrid: the child joined v1 itself), "clone3+tasks" (v1),
	 * "clone3+handshake" (berth moved it while it waited), "fork",
	 * "fork+tasks", "clone3" (no cgroup). */
	const char *method;
	/* How the start command was executed: "directly", "by /bin/sh -c"
	 * (not a plain command), "by /bin/sh -c: ./.environment is readable". */
	const char *way;
};

/*
 * Start the worker.  Returns 0 with *out filled, or -errno when no process
 * could be created (or it could not be placed in its cgroup; it was then
 * killed and reaped).  A child that fails after it was created (chdir,
 * a step, execve) is reported here with its real reason (the program's
 * name when it was executed directly) and exits 125, 126 or 127 (127: not
 * found, whether the shell or the program); it is still returned as started: the caller reaps it
 * like any other run.
 */
int spawn_worker(const struct spawn_opts *o, struct spawn_result *out);

/*
 * The script given to /bin/sh -c: a no-op trap for the signals berth
 * relays (but stop_signal), so that they reach the program without killing
 * the shell in between; then ./.environment sourced when readable (as
 * Platform.sh does, with dash, in the app root, before the start command);
 * then the start command verbatim, after `exec ` when it is a plain list
 * of words (startcmd_why_shell()) without one.  Freshly allocated.
 */
char *spawn_script(const char *start, int stop_signal);

#endif
