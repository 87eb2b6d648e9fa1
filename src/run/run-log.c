/* SPDX-License-Identifier: MIT */
/*
 * What people see of `berth run`: one line per lifecycle event (log_event:
 * text, or JSON with each event's fields, listed in berth(1)).  The
 * driver (run.c) acts; this file words the exit, the stop and the
 * machine's other log actions.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "exitcodes.h"
#include "log.h"
#include "proctree.h"
#include "run-internal.h"
#include "signals.h"
#include "startcmd.h"

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
			 signals_fullname(c->o->policy.stop_signal, ss, sizeof(ss)), "kill_mode",
			 mode, "timeout_ms", (json_int_t)timeout),
		  "%s received: stopping (%s, kill mode %s, SIGKILL after %llu ms)", got,
		  signals_name(c->o->policy.stop_signal), mode, (unsigned long long)timeout);
	notify_send(&c->notify, "STOPPING=1\nSTATUS=stopping on %s (SIGKILL after %llu ms)", got,
		    (unsigned long long)timeout);
	c->stop_log_sig = 0;
}

uint64_t run_oom_new(struct run_ctx *c)
{
	uint64_t n;

	c->oom_fresh = 0;
	if (!c->have_cg || cgroup_oom_kills(&c->cg, &n) < 0 || n <= c->oom_kills)
		return 0;
	c->oom_fresh = n - c->oom_kills;
	c->oom_kills = n;
	return c->oom_fresh;
}

/* The start of a small /proc file, NUL-terminated.  0 or -errno. */
static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	return 0;
}

/* Is pid on its way out: SIGKILL pending for its thread group, or
 * PF_EXITING (0x4) in the flags of /proc/PID/stat?  Before berth's own
 * kill, those are the OOM killer's victims. */
static bool dying(pid_t pid)
{
	char path[64], st[4096], stat[1024];
	unsigned long long pend = 0, flags = 0;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if (read_small(path, st, sizeof(st)) == 0 && (p = strstr(st, "\nShdPnd:")) &&
	    sscanf(p + 8, "%llx", &pend) == 1 && (pend & (1ULL << (SIGKILL - 1))))
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	/* Field 9, counted after the ")" that ends the name. */
	if (read_small(path, stat, sizeof(stat)) < 0 || !(p = strrchr(stat, ')')) ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %llu", &flags) != 1)
		return false;
	return flags & 0x4;
}

/* The victims, where they can still be seen: neither memory.events nor
 * the v1 notice names a pid, but a victim is in the cgroup until its exit
 * is done.  "" when none is seen (gone already). */
static char *oom_victims(struct run_ctx *c, json_t **pids)
{
	_cleanup_free_ struct cgroup_proc *procs = NULL;
	struct strbuf sb = {0};
	size_t n = 0, k = 0;

	*pids = log_json() ? json_array() : NULL;
	if (c->have_cg)
		cgroup_procs(&c->cg, &procs, &n);
	for (size_t i = 0; i < n; i++) {
		if (!dying(procs[i].pid))
			continue;
		if (*pids)
			json_array_append_new(*pids, json_integer(procs[i].pid));
		if (k++ < LOG_MAX_PIDS)
			strbuf_printf(&sb, "%s%ld (%s)",
				      k > 1 ? ", " : "; dying: ", (long)procs[i].pid,
				      procs[i].comm);
	}
	return sb.len ? strbuf_detach(&sb) : xstrdup("");
}

/* The "oom" line, at the kill: the cgroup's counters say how many were
 * killed, the cgroup shows who is dying; the kill of the rest (the
 * "killed" line) follows. */
static void log_oom(struct run_ctx *c)
{
	uint64_t mem = c->o->limits ? c->o->limits->memory_bytes : 0;
	const char *path = c->have_cg ? cgroup_memory_path(&c->cg) : NULL;
	char limit[48], who[64];

	if (mem)
		snprintf(limit, sizeof(limit), "memory limit %llu MiB",
			 (unsigned long long)(mem >> 20));
	else
		snprintf(limit, sizeof(limit), "no memory limit set by berth");
	if (c->oom_fresh > 1)
		snprintf(who, sizeof(who), "%llu processes of the worker were",
			 (unsigned long long)c->oom_fresh);
	else if (c->oom_fresh == 0) /* a v1 notice whose kill was not counted yet */
		snprintf(who, sizeof(who), "a process of the worker is being");
	else
		snprintf(who, sizeof(who), "a process of the worker was");
	json_t *pj = NULL;
	_cleanup_free_ char *victims = oom_victims(c, &pj);

	log_event(LOG_LVL_WARN, "oom",
		  FIELDS("{s:I, s:I, s:I, s:s?, s:I, s:o*}", "oom_kills", (json_int_t)c->oom_kills,
			 "killed", (json_int_t)c->oom_fresh, "memory_bytes", (json_int_t)mem,
			 "cgroup", path, "worker_pid", (json_int_t)c->main_pid, "dying", pj),
		  "%s killed by the OOM killer (%s, oom_kill count %llu) in %s%s; the whole "
		  "worker goes",
		  who, limit, (unsigned long long)c->oom_kills, path ? path : "its cgroup",
		  victims);
}

/* The exit line; a run that the OOM killer ended says so (the "oom" line
 * came at the kill). */
void run_log_exit(struct run_ctx *c, int status)
{
	uint64_t up = run_now_ms() - c->main_started;
	bool oom = c->sup.oom_run;
	const char *note = oom ? " (OOM kill in the worker)" : "";
	const char *proc = c->main_pre ? "pre_start" : "worker";
	char sb[24];
	json_t *f = FIELDS("{s:I, s:I, s:b}", "worker_pid", (json_int_t)c->main_pid, "uptime_ms",
			   (json_int_t)up, "oom", oom);

	if (WIFEXITED(status)) {
		if (f)
			json_object_set_new(f, "exit_code", json_integer(WEXITSTATUS(status)));
		log_event(LOG_LVL_INFO, "exited", f,
			  "%s process %ld exited with status %d after %llu ms%s", proc,
			  (long)c->main_pid, WEXITSTATUS(status), (unsigned long long)up, note);
		return;
	}
	signals_fullname(WTERMSIG(status), sb, sizeof(sb));
	if (f) {
		json_object_set_new(f, "signal", json_string(sb));
		json_object_set_new(f, "core_dumped", json_boolean(WCOREDUMP(status)));
	}
	log_event(LOG_LVL_INFO, "exited", f, "%s process %ld killed by %s%s after %llu ms%s", proc,
		  (long)c->main_pid, sb, WCOREDUMP(status) ? " (core dumped)" : "",
		  (unsigned long long)up, note);
}

void run_notify_started(struct run_ctx *c)
{
	_cleanup_free_ char *status =
		xasprintf("worker %s running (process %ld)", c->o->worker, (long)c->main_pid);

	notify_running(&c->notify, status);
}

/* The pre-start command's end, from its wait status: one line, "done"
 * or "failed" naming its status or signal. */
static void log_prestart(struct run_ctx *c, const struct supervise_action *a)
{
	int st = c->last_status;
	char what[48], sb[24];
	json_t *f = FIELDS("{s:I, s:b}", "duration_ms", (json_int_t)a->ms, "oom", a->oom);

	if (WIFSIGNALED(st)) {
		signals_fullname(WTERMSIG(st), sb, sizeof(sb));
		snprintf(what, sizeof(what), "killed by %s", sb);
		if (f)
			json_object_set_new(f, "signal", json_string(sb));
	} else {
		snprintf(what, sizeof(what), "exited with status %d", WEXITSTATUS(st));
		if (f)
			json_object_set_new(f, "exit_code", json_integer(WEXITSTATUS(st)));
	}
	if (a->code == 0)
		log_event(LOG_LVL_INFO, "prestart-done", f,
			  "commands.pre_start %s after %llu ms: starting the worker", what,
			  (unsigned long long)a->ms);
	else
		log_event(LOG_LVL_ERROR, "prestart-failed", f,
			  "commands.pre_start %s after %llu ms%s: the worker is not started "
			  "(exit status %d)",
			  what, (unsigned long long)a->ms, a->oom ? " (OOM kill)" : "",
			  BERTH_EXIT_PRESTART);
}

/* A second stop signal: the deadline stays, its time left is said. */
static void log_stop_again(struct run_ctx *c, const struct supervise_action *a)
{
	uint64_t dl = supervise_deadline(&c->sup), now = run_now_ms();
	uint64_t left = dl == SUPERVISE_NO_DEADLINE || dl < now ? 0 : dl - now;
	char sb[24];

	signals_fullname(a->sig, sb, sizeof(sb));
	log_event(LOG_LVL_INFO, "stopping",
		  FIELDS("{s:s, s:I}", "signal", sb, "remaining_ms", (json_int_t)left),
		  "%s received while stopping; deadline unchanged (%llu ms left)", sb,
		  (unsigned long long)left);
}

/* The processes the start (or pre-start) command left behind. */
static void log_leftover(struct run_ctx *c)
{
	/* the pre-start command's leftovers are always stopped */
	bool pre = c->sup.state == SUP_PRESTART;
	const char *policy = pre ? "kill" : supervise_leftover_name(c->o->policy.leftover);
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ char *who = NULL;
	size_t n;

	list_pids(c, &pids, &n);
	who = proctree_describe(pids, n, LOG_MAX_PIDS);
	log_event(LOG_LVL_WARN, "leftover",
		  FIELDS("{s:I, s:s, s:o*}", "count", (json_int_t)n, "policy", policy, "pids",
			 run_pids_json(pids, n)),
		  "%zu processes left behind by %s (policy %s): %s", n,
		  pre ? "commands.pre_start" : "the start command", policy, who);
}

/* Giving up: why (OOM kill, no restarts, the crash budget) and the
 * status berth exits with. */
static void log_give_up(struct run_ctx *c, const struct supervise_action *a)
{
	const struct supervise_policy *p = &c->o->policy;

	notify_send(&c->notify, "STATUS=gave up, exiting with status %d", a->code);
	json_t *f = FIELDS("{s:i, s:i, s:I}", "exit_status", a->code, "max_restarts",
			   p->max_restarts, "window_ms", (json_int_t)p->restart_window_ms);
	if (f)
		json_object_set_new(f, "oom", json_boolean(a->oom));
	if (a->oom)
		log_event(LOG_LVL_ERROR, "gave-up", f,
			  "the worker was OOM-killed and the crash budget (--max-restarts "
			  "%d) is spent: exiting with status %d",
			  p->max_restarts, a->code);
	else if (p->max_restarts == 0)
		log_event(LOG_LVL_INFO, "gave-up", f,
			  "the start command ended and --max-restarts is 0: "
			  "exiting with its status %d",
			  a->code);
	else if (p->restart_window_ms)
		log_event(LOG_LVL_ERROR, "gave-up", f,
			  "crash budget spent (%d restarts within %llu ms): giving "
			  "up with status %d",
			  p->max_restarts, (unsigned long long)p->restart_window_ms, a->code);
	else
		log_event(LOG_LVL_ERROR, "gave-up", f,
			  "crash budget spent (%d restarts): giving up with status %d",
			  p->max_restarts, a->code);
}

/* Processes that survive SIGKILL past the grace time. */
static void log_stuck(struct run_ctx *c)
{
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ char *who = NULL;
	size_t n;

	list_pids(c, &pids, &n);
	who = proctree_describe(pids, n, LOG_MAX_PIDS);
	log_event(LOG_LVL_ERROR, "stuck",
		  FIELDS("{s:I, s:I, s:o*}", "count", (json_int_t)n, "grace_ms",
			 (json_int_t)c->o->policy.kill_grace_ms, "pids", run_pids_json(pids, n)),
		  "%zu processes survive SIGKILL after %llu ms: %s", n,
		  (unsigned long long)c->o->policy.kill_grace_ms, who);
}

/* The lines of the machine's SUP_ACT_LOG_* actions other than "stopping"
 * (run_log_stopping()). */
void run_log_action(struct run_ctx *c, const struct supervise_action *a)
{
	char sb[24];

	switch (a->type) {
	case SUP_ACT_LOG_RESTART:
		log_event(LOG_LVL_INFO, "restarting",
			  FIELDS("{s:I}", "delay_ms", (json_int_t)a->ms), "restarting in %llu ms",
			  (unsigned long long)a->ms);
		notify_send(&c->notify, "STATUS=worker exited, restarting in %llu ms",
			    (unsigned long long)a->ms);
		break;
	case SUP_ACT_LOG_STOP_AGAIN:
		log_stop_again(c, a);
		break;
	case SUP_ACT_LOG_LEFTOVER:
		log_leftover(c);
		break;
	case SUP_ACT_LOG_GIVE_UP:
		log_give_up(c, a);
		break;
	case SUP_ACT_LOG_STUCK:
		log_stuck(c);
		break;
	case SUP_ACT_LOG_OOM:
		log_oom(c);
		break;
	case SUP_ACT_LOG_PRESTART:
		log_prestart(c, a);
		break;
	case SUP_ACT_LOG_DROPPED:
		signals_fullname(a->sig, sb, sizeof(sb));
		log_event(LOG_LVL_INFO, "dropped", FIELDS("{s:s}", "signal", sb),
			  "%s not relayed: the worker is not running", sb);
		break;
	default:
		break;
	}
}

/* -v: how the command was executed, and why not directly. */
static void log_start_way(const struct run_ctx *c, bool pre, const struct spawn_result *res)
{
	const char *cmd = pre ? c->o->pre_start : c->o->start;
	const char *why = (pre ? c->pre_argv : c->argv) ? NULL : startcmd_why_shell(cmd);

	log_debug("%s command of process %ld executed %s%s%s", pre ? "pre_start" : "start",
		  (long)res->pid, res->way, why ? ": " : "", why ? why : "");
}

void run_log_started(const struct run_ctx *c, bool pre, const struct spawn_result *res)
{
	log_event(LOG_LVL_INFO, pre ? "prestart-started" : "started",
		  FIELDS("{s:I, s:s}", "worker_pid", (json_int_t)res->pid, "method", res->method),
		  "started %s process %ld (%s)", pre ? "pre_start" : "worker", (long)res->pid,
		  res->method);
	log_start_way(c, pre, res);
}
