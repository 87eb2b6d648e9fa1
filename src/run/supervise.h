/* SPDX-License-Identifier: MIT */
/*
 * The supervisor's state machine, pure: supervise_step() takes an event
 * and the monotonic time in ms and appends actions for the driver (run.c)
 * to carry out: spawn, signal, kill everything, exit.  The machine holds
 * one deadline (supervise_deadline()); the driver waits until it, never
 * longer, and feeds SUP_EV_DEADLINE.  No syscalls, no clock reads.
 */
#ifndef BERTH_SUPERVISE_H
#define BERTH_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUPERVISE_NO_DEADLINE UINT64_MAX
#define SUPERVISE_UNLIMITED   (-1)
#define SUPERVISE_MAX_BUDGET  1000 /* largest --max-restarts */
/* The longest duration an option takes (stop timeout, backoff): a stop
 * timeout or backoff of days is a typo. */
#define SUPERVISE_MAX_DURATION_MS (24ULL * 3600 * 1000)

/* Who gets the stop signal (systemd's KillMode).  Whatever the mode, the
 * whole cgroup is SIGKILLed at the stop deadline. */
enum supervise_kill_mode {
	SUP_KILL_CONTROL_GROUP, /* every process of the cgroup (default) */
	SUP_KILL_MIXED,		/* the main process; once it is gone, the rest
				 * of the cgroup is SIGKILLed at once */
	SUP_KILL_PROCESS,	/* the main process; the rest may run until
				 * the deadline */
	SUP_KILL_MODE_COUNT	/* not a mode: the size of the name table */
};

/* What happens to processes still in the cgroup when the start command
 * terminated on its own. */
enum supervise_leftover {
	SUP_LEFTOVER_KILL,    /* stop them like a stop (signal, deadline,
			       * SIGKILL), then restart (default) */
	SUP_LEFTOVER_RESTART, /* report them and restart anyway (Platform.sh) */
	SUP_LEFTOVER_COUNT    /* not a policy: the size of the name table */
};

struct supervise_policy {
	uint64_t restart_min_ms;   /* first delay before a restart (100) */
	unsigned restart_factor;   /* growth per quick failure (2) */
	uint64_t restart_max_ms;   /* cap of the delay (30000) */
	uint64_t restart_reset_ms; /* up this long = healthy, delay resets (10000) */
	int stop_signal;	   /* SIGTERM */
	uint64_t stop_timeout_ms;  /* stop signal -> SIGKILL (15000) */
	uint64_t kill_grace_ms;	   /* after SIGKILL, give up waiting (5000) */
	enum supervise_kill_mode kill_mode;
	enum supervise_leftover leftover;
	bool quit_stops;	    /* SIGQUIT stops instead of being relayed */
	int max_restarts;	    /* crash budget, or SUPERVISE_UNLIMITED */
	uint64_t restart_window_ms; /* ...within this window; 0 = lifetime */
	bool pre_start;		    /* run the pre-start command (commands.pre_start)
				     * once, before the first start */
};

enum supervise_state {
	SUP_IDLE,	/* before the first start */
	SUP_PRESTART,	/* the pre-start command: its spawn requested, it runs, or
			 * what it left behind is being stopped */
	SUP_STARTING,	/* spawn requested, result not yet known */
	SUP_RUNNING,	/* the start command runs */
	SUP_LEFTOVER,	/* start command gone, stopping what it left behind */
	SUP_BACKOFF,	/* waiting for the restart deadline */
	SUP_STOPPING,	/* stop signal sent, waiting for the cgroup to empty */
	SUP_KILLING,	/* SIGKILL sent, waiting for the cgroup to empty */
	SUP_EXITED,	/* done; the exit action was emitted */
	SUP_STATE_COUNT /* not a state: the size of the name table */
};

enum supervise_ev {
	SUP_EV_START,	     /* begin supervising */
	SUP_EV_SPAWNED,	     /* the spawn succeeded */
	SUP_EV_SPAWN_FAILED, /* berth could not create the process */
	SUP_EV_MAIN_EXITED,  /* main process reaped: code, populated */
	SUP_EV_EMPTY,	     /* the cgroup (process tree) is empty */
	SUP_EV_SIGNAL,	     /* berth received signal sig */
	SUP_EV_DEADLINE,     /* now >= supervise_deadline() */
	SUP_EV_OOM,	     /* the OOM killer killed a process of the cgroup */
};

struct supervise_event {
	enum supervise_ev type;
	int sig;	/* SUP_EV_SIGNAL */
	int code;	/* SUP_EV_MAIN_EXITED: exit status, or 128 + signal */
	bool populated; /* SUP_EV_MAIN_EXITED: other processes remain */
};

enum supervise_act {
	SUP_ACT_SPAWN,		/* start the worker; answer SPAWNED/SPAWN_FAILED */
	SUP_ACT_SPAWN_PRESTART, /* start the pre-start command; answer the same */
	SUP_ACT_SIGNAL_MAIN,	/* sig to the main process (its pidfd) */
	SUP_ACT_SIGNAL_GROUP,	/* sig to the main process's process group */
	SUP_ACT_SIGNAL_ALL,	/* sig to every process of the cgroup */
	SUP_ACT_KILL_ALL,	/* SIGKILL the whole cgroup (reason below) */
	SUP_ACT_EXIT,		/* berth is done: exit with code */
	/* Log-only actions, for the lifecycle lines. */
	SUP_ACT_LOG_RESTART,	/* restarting in ms */
	SUP_ACT_LOG_STOPPING,	/* stop requested by sig */
	SUP_ACT_LOG_STOP_AGAIN, /* sig during the stop: deadline unchanged */
	SUP_ACT_LOG_LEFTOVER,	/* processes left after the start (or pre-start) command */
	SUP_ACT_LOG_GIVE_UP,	/* crash budget spent: code */
	SUP_ACT_LOG_STUCK,	/* processes survive SIGKILL past the grace */
	SUP_ACT_LOG_DROPPED,	/* sig not relayed: no main process */
	SUP_ACT_LOG_OOM,	/* an OOM kill in the worker (first of its run) */
	SUP_ACT_LOG_PRESTART,	/* the pre-start command ended: code (0: the worker
				 * starts next), ms it ran, oom */
};

enum supervise_kill_reason {
	SUP_KILL_DEADLINE,    /* the stop timeout expired */
	SUP_KILL_LEFTOVER,    /* leftovers ignored the stop signal */
	SUP_KILL_MIXED_REST,  /* mixed mode: main process gone */
	SUP_KILL_OOM,	      /* the OOM killer struck: the whole worker goes */
	SUP_KILL_REASON_COUNT /* not a reason: the size of the name table */
};

struct supervise_action {
	enum supervise_act type;
	int sig;
	int code;
	uint64_t ms;
	enum supervise_kill_reason reason;
	bool oom; /* LOG_GIVE_UP, LOG_PRESTART: that run was OOM-killed */
};

#define SUPERVISE_MAX_ACTIONS 8
struct supervise_actions {
	size_t n;
	struct supervise_action a[SUPERVISE_MAX_ACTIONS];
};

struct supervise {
	struct supervise_policy pol;
	enum supervise_state state;
	uint64_t deadline;   /* ms, or SUPERVISE_NO_DEADLINE */
	bool main_alive;     /* spawned and not yet reaped */
	bool populated;	     /* processes other than a reaped main remain */
	bool stop_requested; /* a stop signal arrived */
	bool giving_up;	     /* the crash budget is spent */
	bool killed;	     /* SIGKILL escalation happened during the stop */
	bool leftover_killed;
	bool oom_run;				 /* the OOM killer struck the current/last run */
	uint64_t started_at;			 /* when the current/last run started */
	unsigned failures;			 /* consecutive quick terminations */
	int last_code;				 /* the last run's status (128 + sig if killed) */
	unsigned long starts;			 /* how many times the worker was started */
	bool pre_spawning;			 /* the pre-start command's spawn is requested */
	uint64_t pre_started_at;		 /* when the pre-start command started */
	int fail_code;				 /* berth's exit status once it failed before the
						  * worker started (pre-start), else 0 */
	uint64_t restarts[SUPERVISE_MAX_BUDGET]; /* ring of restart times */
	size_t n_restarts, ring_pos;
};

/* The documented defaults. */
void supervise_policy_default(struct supervise_policy *p);
/* -EINVAL when a value is out of range (factor 0, min > max, budget above
 * SUPERVISE_MAX_BUDGET, stop signal 0 ...); logs nothing. */
int supervise_policy_check(const struct supervise_policy *p, const char **why);

void supervise_init(struct supervise *s, const struct supervise_policy *p);

/* Apply ev at time now (ms, monotonic); append the actions to out (which
 * the caller zeroes).  Returns the new state. */
enum supervise_state supervise_step(struct supervise *s, const struct supervise_event *ev,
				    uint64_t now, struct supervise_actions *out);

static inline uint64_t supervise_deadline(const struct supervise *s)
{
	return s->deadline;
}

/* The delay before restart number `failures` (0-based). */
uint64_t supervise_backoff_ms(const struct supervise_policy *p, unsigned failures);

const char *supervise_state_name(enum supervise_state st);
/* The modes' names ("control-group", "kill"), and back: 0 or -EINVAL.
 * The command line's --kill-mode and --leftover are these names. */
const char *supervise_kill_mode_name(enum supervise_kill_mode m);
int supervise_kill_mode_parse(const char *s, enum supervise_kill_mode *m);
const char *supervise_leftover_name(enum supervise_leftover l);
/* "deadline", "leftover", "mixed", "oom": the "reason" of the kill's log
 * line. */
const char *supervise_kill_reason_name(enum supervise_kill_reason r);
int supervise_leftover_parse(const char *s, enum supervise_leftover *l);

#endif
