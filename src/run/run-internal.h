/* SPDX-License-Identifier: MIT */
/*
 * Private to run.c, run-setup.c and run-log.c: the state of one `berth run`
 * supervision, and its setup and teardown.
 */
#ifndef BERTH_RUN_INTERNAL_H
#define BERTH_RUN_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "log.h"
#include "notify.h"
#include "nsinit.h"
#include "run.h"
#include "supervise.h"

enum { TAG_SIGNAL = 1, TAG_PIDFD, TAG_EVENTS, TAG_TIMER, TAG_OOM, TAG_WATCH };

#define LOG_MAX_PIDS 20

/* An event's fields for --log-format json (log_event); NULL, and nothing
 * built, in text mode. */
#define FIELDS(...) (log_json() ? json_pack(__VA_ARGS__) : NULL)

struct run_ctx {
	const struct run_opts *o;
	struct supervise sup;
	struct cgroup_layout layout;
	struct cgroup cg;
	bool have_cg;
	struct nsinit ns;     /* berth-init when o->hostname (zeroed: none) */
	struct notify notify; /* the service manager's socket (fd -1: none) */
	bool cg_killed;	      /* cgroup.kill was used on the instance */
	bool tree_killed;     /* no cgroup: berth's process tree got SIGKILL, and
			       * gets it again while anything of it is left */
	uint64_t oom_kills;   /* the cgroup's OOM kill counter, last seen */
	uint64_t oom_fresh;   /* how much it grew at the last look */
	int sfd, epfd, cwd_fd;
	int tfd;	/* timerfd at the machine's deadline */
	uint64_t armed; /* the deadline tfd is set to, or SUPERVISE_NO_DEADLINE */
	pid_t main_pid; /* 0 when no main process (reaped) */
	int pidfd;
	int *watch; /* pidfds of the leftovers (run-watch.c) */
	size_t n_watch;
	uint64_t main_started; /* ms */
	bool spawned_before;   /* a start was tried: the next is a restart */
	bool box_failed;       /* run_opts.spawned_hook failed: a setup failure */
	bool trimmed;	       /* malloc_trim() ran after the first spawn */
	uint64_t stop_started; /* ms, 0 when no stop was requested */
	int stop_log_sig;      /* the "stopping" line is owed for this signal */
	char *script;
	char *pre_script; /* the pre-start command's, or NULL */
	char **argv;	  /* the start command's words when it is plain (startcmd) */
	char **pre_argv;  /* the pre-start command's */
	int last_status;  /* the main process's wait status, last reaped */
	bool main_pre;	  /* the main process runs the pre-start command */
	sigset_t blocked, oldmask;
	bool masked; /* oldmask is to be restored */
	bool done;
	bool quiet; /* the loop ended with nothing of the worker left */
	int exit_code;
};

/* Signals through a signalfd, child subreaper, the app root, epoll with a
 * timerfd, the instance cgroup with its limits, berth-init (after the
 * cgroup: it stays in berth's), the start script.  0 or -errno (logged);
 * run_teardown() undoes what was done either way. */
int run_setup(struct run_ctx *c);
/* Close everything, kill berth-init (first: on pure v2 it sits in berth's
 * supervisor leaf, which goes with the cgroup), remove the instance cgroup,
 * restore the signal mask. */
void run_teardown(struct run_ctx *c);

/* CLOCK_MONOTONIC in ms, rounded up (run.c). */
uint64_t run_now_ms(void);
/* --no-cgroup's worker: every descendant of berth but its helpers (slirp4netns)
 * and theirs, and but berth-init itself (its descendants, the worker's
 * orphans, are in), freshly allocated (run.c).  0 or -errno. */
int run_tree_pids(const struct run_ctx *c, pid_t **pids, size_t *n);

/* run-watch.c: a pidfd in the epoll set (TAG_WATCH) for each process
 * run_tree_pids() finds, instead of those watched before: without a cgroup
 * their exits are berth-init's to reap and would wake nothing.  The number
 * of live processes watched (0: the worker is down; zombies, berth-init's
 * to reap, do not count), or -errno (logged).  run_watch_clear() closes
 * them. */
int run_watch_tree(struct run_ctx *c);
void run_watch_clear(struct run_ctx *c);

/* run-log.c: the pids as a JSON array (NULL in text mode); the "exited"
 * line of the main process; the "stopping" line once owed; the lines of
 * the machine's other log actions ("oom" among them). */
json_t *run_pids_json(const pid_t *pids, size_t n);
/* "started ... process PID (method)", and with -v how it was executed. */
void run_log_started(const struct run_ctx *c, bool pre, const struct spawn_result *res);
void run_log_exit(struct run_ctx *c, int status);
void run_log_stopping(struct run_ctx *c);
/* READY=1 (the first time) and the status, to the service manager. */
void run_notify_started(struct run_ctx *c);
void run_log_action(struct run_ctx *c, const struct supervise_action *a);
/* New OOM kills in the worker's cgroup since the last look: their number
 * (0 if none or unknown); c->oom_kills and c->oom_fresh follow. */
uint64_t run_oom_new(struct run_ctx *c);

#endif
