/* SPDX-License-Identifier: MIT */
/*
 * What people see of `berth run`: one line per lifecycle event (log_event:
 * text, or JSON with each event's fields, listed in berth(1)).  The
 * driver (run.c) acts; this file words the exit, the stop and the
 * machine's other log actions.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "proctree.h"
#include "run-internal.h"
#include "signals.h"

/* The pids as a JSON array (NULL in text mode). */
json_t *run_pids_json(const pid_t *pids, size_t n)
{
	json_t *a = log_json() ? json_array() : NULL;

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_integer(pids[i]));
	return a;
}

/* The processes that a cgroup-wide action reaches, for the log. */
static void list_pids(struct run_ctx *c, pid_t **pids, size_t *n)
{
	*pids = NULL;
	*n = 0;
	if (c->have_cg)
		cgroup_pids(&c->cg, pids, n);
	else
		run_tree_pids(c, pids, n);
}

/* The "stopping" line, once owed (do_actions() defers it until the stop
 * signal went out). */
void run_log_stopping(struct run_ctx *c)
{
	char sb[24], ss[24];

	if (!c->stop_log_sig)
		return;
	const char *got = signals_fullname(c->stop_log_sig, sb, sizeof(sb));
	const char *mode = supervise_kill_mode_name(c->o->policy.kill_mode);
	uint64_t timeout = c->o->policy.stop_timeout_ms;

	log_event(LOG_LVL_INFO, "stopping",
		  FIELDS("{s:s, s:s, s:s, s:I}", "signal", got, "stop_signal",
			 signals_fullname(c->o->policy.stop_signal, ss, sizeof(ss)), "kill_mode", mode,
			 "timeout_ms", (json_int_t)timeout),
		  "%s received: stopping (%s, kill mode %s, SIGKILL after %llu ms)", got,
		  signals_name(c->o->policy.stop_signal), mode, (unsigned long long)timeout);
	c->stop_log_sig = 0;
}

/* New OOM kills in the worker's cgroup since the last look (0 if none or
 * unknown); *total gets the counter. */
static uint64_t oom_new(struct run_ctx *c, uint64_t *total)
{
	uint64_t n, fresh;

	*total = c->oom_kills;
	if (!c->have_cg || cgroup_oom_kills(&c->cg, &n) < 0 || n <= c->oom_kills)
		return 0;
	fresh = n - c->oom_kills;
	c->oom_kills = *total = n;
	return fresh;
}

/* The exit line; when the OOM killer struck since the last run it says so,
 * with the memory limit and the cgroup's oom_kill count. */
void run_log_exit(struct run_ctx *c, int status)
{
	uint64_t up = run_now_ms() - c->main_started, total;
	uint64_t fresh = oom_new(c, &total);
	char sb[24], oom[160] = "";
	const char *what = sb;

	if (fresh) {
		uint64_t mem = c->o->limits ? c->o->limits->memory_bytes : 0;
		char limit[48];
		if (mem)
			snprintf(limit, sizeof(limit), "memory limit %llu MiB",
				 (unsigned long long)(mem >> 20));
		else
			snprintf(limit, sizeof(limit), "no memory limit set by berth");
		snprintf(oom, sizeof(oom), "the OOM killer (%s, oom_kill count %llu)", limit,
			 (unsigned long long)total);
	}
	json_t *f = FIELDS("{s:I, s:I}", "worker_pid", (json_int_t)c->main_pid, "uptime_ms",
			   (json_int_t)up);

	if (f && fresh)
		json_object_set_new(f, "oom_kills", json_integer((json_int_t)total));
	if (WIFEXITED(status)) {
		if (f)
			json_object_set_new(f, "exit_code", json_integer(WEXITSTATUS(status)));
		log_event(fresh ? LOG_LVL_WARN : LOG_LVL_INFO, fresh ? "oom" : "exited", f,
			  "worker process %ld exited with status %d after %llu ms%s%s%s",
			  (long)c->main_pid, WEXITSTATUS(status), (unsigned long long)up,
			  fresh ? " (a process of it was killed by " : "", oom, fresh ? ")" : "");
		return;
	}
	signals_fullname(WTERMSIG(status), sb, sizeof(sb));
	if (f) {
		json_object_set_new(f, "signal", json_string(sb));
		json_object_set_new(f, "core_dumped", json_boolean(WCOREDUMP(status)));
	}
	if (fresh && WTERMSIG(status) == SIGKILL)
		what = oom;
	log_event(fresh ? LOG_LVL_WARN : LOG_LVL_INFO, fresh ? "oom" : "exited", f,
		  "worker process %ld killed by %s%s after %llu ms", (long)c->main_pid, what,
		  WCOREDUMP(status) ? " (core dumped)" : "", (unsigned long long)up);
}

/* The lines of the machine's SUP_ACT_LOG_* actions other than "stopping"
 * (run_log_stopping()). */
void run_log_action(struct run_ctx *c, const struct supervise_action *a)
{
	char sb[24];

	switch (a->type) {
	case SUP_ACT_LOG_RESTART:
		log_event(LOG_LVL_INFO, "restarting",
			  FIELDS("{s:I}", "delay_ms", (json_int_t)a->ms),
			  "restarting in %llu ms", (unsigned long long)a->ms);
		break;
	case SUP_ACT_LOG_STOP_AGAIN: {
		uint64_t dl = supervise_deadline(&c->sup), now = run_now_ms();
		uint64_t left = dl == SUPERVISE_NO_DEADLINE || dl < now ? 0 : dl - now;
		signals_fullname(a->sig, sb, sizeof(sb));
		log_event(LOG_LVL_INFO, "stopping",
			  FIELDS("{s:s, s:I}", "signal", sb, "remaining_ms",
				 (json_int_t)left),
			  "%s received while stopping; deadline unchanged (%llu ms left)",
			  sb, (unsigned long long)left);
		break;
	}
	case SUP_ACT_LOG_LEFTOVER: {
		_cleanup_free_ pid_t *pids = NULL;
		_cleanup_free_ char *who = NULL;
		size_t n;
		list_pids(c, &pids, &n);
		who = proctree_describe(pids, n, LOG_MAX_PIDS);
		log_event(LOG_LVL_WARN, "leftover",
			  FIELDS("{s:I, s:s, s:o*}", "count", (json_int_t)n, "policy",
				 supervise_leftover_name(c->o->policy.leftover), "pids",
				 run_pids_json(pids, n)),
			  "%zu processes left behind by the start command (policy %s): %s",
			  n, supervise_leftover_name(c->o->policy.leftover), who);
		break;
	}
	case SUP_ACT_LOG_GIVE_UP: {
		json_t *f = FIELDS("{s:i, s:i, s:I}", "exit_status", a->code,
				   "max_restarts", c->o->policy.max_restarts, "window_ms",
				   (json_int_t)c->o->policy.restart_window_ms);
		if (c->o->policy.max_restarts == 0)
			log_event(LOG_LVL_INFO, "gave-up", f,
				  "the start command ended and --max-restarts is 0: "
				  "exiting with its status %d",
				  a->code);
		else if (c->o->policy.restart_window_ms)
			log_event(LOG_LVL_ERROR, "gave-up", f,
				  "crash budget spent (%d restarts within %llu ms): giving "
				  "up with status %d",
				  c->o->policy.max_restarts,
				  (unsigned long long)c->o->policy.restart_window_ms, a->code);
		else
			log_event(LOG_LVL_ERROR, "gave-up", f,
				  "crash budget spent (%d restarts): giving up with status %d",
				  c->o->policy.max_restarts, a->code);
		break;
	}
	case SUP_ACT_LOG_STUCK: {
		_cleanup_free_ pid_t *pids = NULL;
		_cleanup_free_ char *who = NULL;
		size_t n;
		list_pids(c, &pids, &n);
		who = proctree_describe(pids, n, LOG_MAX_PIDS);
		log_event(LOG_LVL_ERROR, "stuck",
			  FIELDS("{s:I, s:I, s:o*}", "count", (json_int_t)n, "grace_ms",
				 (json_int_t)c->o->policy.kill_grace_ms, "pids",
				 run_pids_json(pids, n)),
			  "%zu processes survive SIGKILL after %llu ms: %s", n,
			  (unsigned long long)c->o->policy.kill_grace_ms, who);
		break;
	}
	case SUP_ACT_LOG_DROPPED:
		signals_fullname(a->sig, sb, sizeof(sb));
		log_event(LOG_LVL_INFO, "dropped", FIELDS("{s:s}", "signal", sb),
			  "%s not relayed: the worker is not running", sb);
		break;
	default:
		break;
	}
}
