/* SPDX-License-Identifier: MIT */
/*
 * The driver of `berth run`: set up (run-setup.c: signals, subreaper, app
 * root, cgroup), then one epoll loop that turns signals, the worker's exit, cgroup.events
 * and the machine's deadline into supervise_step() events and carries out
 * the actions (their log lines are worded in run-log.c).  It never sleeps;
 * its one timer (an absolute timerfd) is armed only while the machine has
 * a deadline: idle means no wakeup.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "exitcodes.h"
#include "log.h"
#include "pidfd.h"
#include "proctree.h"
#include "run-internal.h"
#include "run-signal.h"
#include "run.h"
#include "signals.h"
#include "util.h"

void run_opts_init(struct run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->stdin_fd = -1;
	supervise_policy_default(&o->policy);
}

/* How long epoll may wait: without cgroup.events (a host with v1
 * hierarchies alone), nothing wakes berth when the last process of a
 * worker whose main process is gone exits, unless it is berth's own child
 * (a leftover in the box is berth-init's): look again every
 * LEFTOVER_POLL_MS then, else sleep until an event. */
#define LEFTOVER_POLL_MS 100
static int wait_ms(const struct run_ctx *c)
{
	if (c->have_cg && c->cg.events_fd < 0 && c->sup.populated && !c->sup.main_alive)
		return LEFTOVER_POLL_MS;
	return -1;
}

/* Is anything of the worker left?  The cgroup when there is one; else any
 * child of berth (as PID 1 or subreaper, every orphan comes back to us;
 * in its namespaces, to berth-init, berth's child) but its helpers and
 * berth-init. */
static bool populated_now(struct run_ctx *c)
{
	if (c->have_cg) {
		int r = cgroup_populated(&c->cg);
		if (r < 0) {
			log_warn("cannot tell whether the cgroup is empty; assuming it is");
			return false;
		}
		return r > 0;
	}
	if (c->o->n_helpers || c->ns.pid > 0) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n;
		if (run_tree_pids(c, &pids, &n) == 0)
			return n > 0;
	}
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return false; /* ECHILD */
	return true;
}

/* sigs in order to every process of the worker (run-signal.c). */
static void signal_all(struct run_ctx *c, const int *sigs, size_t nsigs)
{
	char sb[24];
	size_t count = run_signal_all(c->have_cg ? &c->cg : NULL, c->main_pid, c->o->helpers,
				      c->o->n_helpers, c->ns.pid, sigs, nsigs);

	log_debug("sent %s%s to %zu processes", signals_fullname(sigs[0], sb, sizeof(sb)),
		  nsigs > 1 ? " and SIGCONT" : "", count);
}

static void kill_all(struct run_ctx *c, enum supervise_kill_reason reason)
{
	_cleanup_free_ char *who = NULL;
	json_t *pj = NULL, *f;
	size_t n = 0;

	if (c->have_cg) {
		_cleanup_free_ struct cgroup_proc *procs = NULL;
		struct strbuf sb = {0};
		cgroup_kill_all_procs(&c->cg, &procs, &n);
		c->cg_killed = true;
		pj = log_json() ? json_array() : NULL;
		for (size_t i = 0; pj && i < n; i++)
			json_array_append_new(pj, json_integer(procs[i].pid));
		for (size_t i = 0; i < n && i < LOG_MAX_PIDS; i++)
			strbuf_printf(&sb, "%s%ld (%s)", i ? ", " : "", (long)procs[i].pid,
				      procs[i].comm);
		if (n > LOG_MAX_PIDS)
			strbuf_puts(&sb, ", ...");
		who = strbuf_detach(&sb);
	} else {
		_cleanup_free_ pid_t *pids = NULL;
		run_tree_pids(c, &pids, &n);
		who = proctree_describe(pids, n, LOG_MAX_PIDS);
		pj = run_pids_json(pids, n);
		run_signal_all(NULL, c->main_pid, c->o->helpers, c->o->n_helpers, c->ns.pid,
			       (const int[]){SIGKILL}, 1);
		c->tree_killed = true;
	}
	/* pj is NULL in text mode; json_pack takes it over in JSON mode. */
	f = FIELDS("{s:s, s:I, s:o*}", "reason", supervise_kill_reason_name(reason), "count",
		   (json_int_t)n, "pids", pj);
	if (reason == SUP_KILL_DEADLINE)
		log_event(LOG_LVL_WARN, "killed", f,
			  "stop timeout (%llu ms) reached: killed %zu processes: %s",
			  (unsigned long long)c->o->policy.stop_timeout_ms, n, who);
	else if (reason == SUP_KILL_LEFTOVER)
		log_event(LOG_LVL_WARN, "killed", f, "killed %zu leftover processes: %s", n, who);
	else if (reason == SUP_KILL_OOM)
		log_event(LOG_LVL_WARN, "killed", f,
			  "OOM kill: killed the worker's %zu processes: %s", n, who);
	else
		log_event(LOG_LVL_INFO, "killed", f,
			  "main process gone (kill mode mixed): killed %zu processes: %s", n, who);
}

static void feed(struct run_ctx *c, const struct supervise_event *ev);

/* Look at the cgroup's OOM kill counter (after an OOM notice, and before a
 * main process's exit is handled, since v2's notice may come up to 20 ms
 * after the kill): new kills go to the machine.  v1's notice comes before
 * the kill, while the kernel still picks its victim and prints its report
 * (measured here: the counter moves about 1 ms later), so after a
 * notice berth waits for the counter, at most OOM_COUNT_WAIT_MS in 1 ms
 * steps; only then, never while idle.  A notice whose kill is not counted
 * by then still ends the worker: the cgroup is at its limit with the OOM
 * killer at work. */
#define OOM_COUNT_WAIT_MS 100
static void check_oom(struct run_ctx *c, bool notice)
{
	struct supervise_event ev = {.type = SUP_EV_OOM};
	bool v1_notice = notice && c->cg.oom_event_fd >= 0;
	int ms = 0;

	for (; run_oom_new(c) == 0; ms++) {
		if (!v1_notice)
			return;
		if (ms == OOM_COUNT_WAIT_MS) {
			log_debug("OOM notice without a counted kill after %d ms", ms);
			break;
		}
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	log_debug("oom_kill count %llu (+%llu), %d ms after the notice",
		  (unsigned long long)c->oom_kills, (unsigned long long)c->oom_fresh, ms);
	feed(c, &ev);
}

/* berth-init for the next spawn: a new one when the last was killed (a
 * clone into the PID namespace of a dead init fails). */
static int ensure_init(struct run_ctx *c)
{
	if (!c->o->hostname || nsinit_alive(&c->ns))
		return 0;
	nsinit_stop(&c->ns, 0); /* reaps it when it died unseen */
	return nsinit_start(&c->ns, c->o->hostname);
}

/* spawn_opts.spawned: the box's preparation finished once the worker's
 * process exists (run_opts.spawned_hook); its failure ends berth. */
static int box_spawned(void *data)
{
	struct run_ctx *c = data;
	int r = c->o->spawned_hook(c->o->ready_data);

	c->box_failed = r < 0;
	return r;
}

/* What follows a spawn: berth watches the new process, says so, and
 * once, the setup being over, gives back the heap's free pages. */
static void spawned(struct run_ctx *c, bool pre, const struct spawn_result *res)
{
	struct epoll_event ee = {.events = EPOLLIN, .data.u32 = TAG_PIDFD};

	c->main_pid = res->pid;
	c->main_pre = pre;
	c->pidfd = res->pidfd;
	c->main_started = run_now_ms();
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->pidfd, &ee) < 0)
		log_errno(-errno, "epoll_ctl(pidfd)"); /* SIGCHLD still reaps */
	run_log_started(c, pre, res);
	if (!pre)
		run_notify_started(c);
	if (c->o->hostname)
		nsinit_hold_mounts(&c->ns, c->pidfd);
	if (!c->trimmed) {
		malloc_trim(0); /* about 45 KiB */
		c->trimmed = true;
	}
}

/* The worker's start command, or (pre) its pre-start command: the same
 * process in the same box, with another script. */
static void do_spawn(struct run_ctx *c, bool pre)
{
	c->tree_killed = false;
	struct spawn_opts so = {
		.script = pre ? c->pre_script : c->script,
		.argv = pre ? c->pre_argv : c->argv,
		.envp = c->o->envp,
		.cwd_fd = c->cwd_fd,
		.stdin_fd = c->o->stdin_fd,
		.cg = c->have_cg ? &c->cg : NULL,
		/* Once cgroup.kill was written, the kernel (6.18 here) SIGKILLs
		 * every child later cloned straight into that cgroup
		 * (CLONE_INTO_CGROUP compares the kill sequence of berth's own
		 * cgroup with the target's); a migration by cgroup.procs is
		 * not affected. */
		.no_clone_into = c->cg_killed,
		.ns = c->o->hostname ? &c->ns.ns : NULL,
		.steps = c->o->steps,
		.n_steps = c->o->n_steps,
		.spawned = c->o->spawned_hook ? box_spawned : NULL,
		.spawned_data = c,
	};
	struct spawn_result res;
	struct supervise_event ev = {.type = SUP_EV_SPAWN_FAILED};

	/* pre_start is not a start: the hook runs before the second start */
	bool restart = c->spawned_before && !pre;

	if (!pre)
		c->spawned_before = true;
	if ((!restart || !c->o->restart_hook || c->o->restart_hook(c->o->restart_data) == 0) &&
	    ensure_init(c) == 0 && spawn_worker(&so, &res) == 0) {
		spawned(c, pre, &res);
		ev.type = SUP_EV_SPAWNED;
	} else if (c->box_failed) {
		/* the box could not be finished: a setup failure, no restart */
		log_error("the worker's box could not be finished: its process was killed "
			  "before its exec");
		c->done = true;
		c->exit_code = BERTH_EXIT_SETUP;
		return;
	}
	feed(c, &ev);
}

static void do_actions(struct run_ctx *c, const struct supervise_actions *acts)
{
	char sb[24];

	for (size_t i = 0; i < acts->n; i++) {
		const struct supervise_action *a = &acts->a[i];
		/* The "stopping" line waits until the stop signal went out:
		 * the worker's stop does not wait for berth's log. */
		if (a->type != SUP_ACT_SIGNAL_ALL && a->type != SUP_ACT_SIGNAL_MAIN &&
		    a->type != SUP_ACT_LOG_STOPPING)
			run_log_stopping(c);
		switch (a->type) {
		case SUP_ACT_SPAWN:
		case SUP_ACT_SPAWN_PRESTART:
			do_spawn(c, a->type == SUP_ACT_SPAWN_PRESTART);
			break;
		case SUP_ACT_SIGNAL_MAIN:
			if (c->pidfd >= 0 && pidfd_signal(c->pidfd, a->sig) < 0 && errno != ESRCH)
				log_errno(-errno, "pidfd_send_signal");
			break;
		case SUP_ACT_SIGNAL_GROUP:
			/* The main process is not reaped yet, so its pid, which is
			 * its process group (setsid), cannot have been reused. */
			if (c->main_pid > 0 && kill(-c->main_pid, a->sig) < 0 && errno != ESRCH)
				log_errno(-errno, "kill(-%ld)", (long)c->main_pid);
			log_debug("relayed %s to process group %ld",
				  signals_fullname(a->sig, sb, sizeof(sb)), (long)c->main_pid);
			break;
		case SUP_ACT_SIGNAL_ALL: {
			/* The stop signal and its SIGCONT in one sweep. */
			int sigs[SUPERVISE_MAX_ACTIONS];
			size_t ns = 0;
			sigs[ns++] = a->sig;
			while (i + 1 < acts->n && acts->a[i + 1].type == SUP_ACT_SIGNAL_ALL)
				sigs[ns++] = acts->a[++i].sig;
			signal_all(c, sigs, ns);
			break;
		}
		case SUP_ACT_KILL_ALL:
			kill_all(c, a->reason);
			break;
		case SUP_ACT_EXIT:
			c->done = true;
			c->exit_code = a->code;
			break;
		case SUP_ACT_LOG_STOPPING:
			c->stop_started = run_now_ms();
			c->stop_log_sig = a->sig;
			break;
		default:
			run_log_action(c, a);
			break;
		}
	}
	run_log_stopping(c);
}

static void feed(struct run_ctx *c, const struct supervise_event *ev)
{
	struct supervise_actions acts;

	memset(&acts, 0, sizeof(acts));
	supervise_step(&c->sup, ev, run_now_ms(), &acts);
	do_actions(c, &acts);
}

/* Reap every child that has exited: the worker's main process, and the
 * orphans that came to us as PID 1 or subreaper. */
static void reap_all(struct run_ctx *c)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			break; /* 0: none exited; ECHILD: no children */
		if (nsinit_reaped(&c->ns, pid)) {
			/* Killed on the host: with it went every process of its
			 * namespace, the worker too (whose exit is seen now or
			 * next); a new one is made for the next start. */
			log_event(LOG_LVL_WARN, "init-died",
				  FIELDS("{s:I, s:i}", "pid", (json_int_t)pid, "status", status),
				  "berth-init (process %ld) died (%s %d): the worker's namespaces "
				  "are gone",
				  (long)pid, WIFSIGNALED(status) ? "signal" : "status",
				  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			continue;
		}
		if (pid != c->main_pid || c->main_pid <= 0) {
			log_debug("reaped process %ld", (long)pid);
			continue;
		}
		check_oom(c, false);
		c->last_status = status;
		if (c->sup.state != SUP_PRESTART) /* else the prestart line says it */
			run_log_exit(c, status);
		close(c->pidfd); /* and out of the epoll set: no other fd has it */
		c->pidfd = -1;
		c->main_pid = 0;
		struct supervise_event ev = {
			.type = SUP_EV_MAIN_EXITED,
			.code = WIFEXITED(status) ? WEXITSTATUS(status)
						  : BERTH_EXIT_SIGBASE + WTERMSIG(status),
			.populated = populated_now(c),
		};
		feed(c, &ev);
	}
}

/* Read the queued signals, as many per read(2) as there is room for in
 * sigs (the rest wait for the next wakeup).  SIGCHLD only means "reap":
 * true when it came. */
static bool read_signals(struct run_ctx *c, int *sigs, size_t *n, size_t max)
{
	struct signalfd_siginfo si[16];
	bool chld = false;
	size_t room, got;
	ssize_t r;

	do {
		room = max - *n < ARRAY_SIZE(si) ? max - *n : ARRAY_SIZE(si);
		r = room ? read(c->sfd, si, room * sizeof(si[0])) : 0;
		got = r > 0 ? (size_t)r / sizeof(si[0]) : 0;
		for (size_t k = 0; k < got; k++) {
			if (si[k].ssi_signo == SIGCHLD)
				chld = true;
			else
				sigs[(*n)++] = (int)si[k].ssi_signo;
		}
	} while (got == room && room > 0);
	return chld;
}

/* Set the timerfd to the machine's deadline, or disarm it when there is
 * none (no wakeup while idle).  A deadline already past fires at once. */
static int arm_timer(struct run_ctx *c)
{
	uint64_t dl = supervise_deadline(&c->sup);
	struct itimerspec its = {0};

	if (dl == c->armed)
		return 0;
	if (dl != SUPERVISE_NO_DEADLINE) {
		its.it_value.tv_sec = (time_t)(dl / 1000);
		its.it_value.tv_nsec = (long)(dl % 1000) * 1000000;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1; /* 0 would disarm */
	}
	if (timerfd_settime(c->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return log_errno(-errno, "timerfd_settime");
	c->armed = dl;
	return 0;
}

/* Is the timerfd armed for another deadline than the machine's? */
static bool dl_changed(const struct run_ctx *c)
{
	return supervise_deadline(&c->sup) != c->armed;
}

/* What one wakeup brought: the signals read, and whether to reap, to
 * look at the cgroup (or the watched leftovers) and at its OOM kills. */
struct wakeup {
	int sigs[64];
	size_t nsig;
	bool check, reap, oom;
};

/* Reads what each ready fd says into w. */
static void collect(struct run_ctx *c, const struct epoll_event *evs, int nev, struct wakeup *w)
{
	for (int i = 0; i < nev; i++) {
		if (evs[i].data.u32 == TAG_SIGNAL) {
			w->reap |= read_signals(c, w->sigs, &w->nsig, ARRAY_SIZE(w->sigs));
		} else if (evs[i].data.u32 == TAG_PIDFD) {
			w->reap = true;
		} else if (evs[i].data.u32 == TAG_TIMER) {
			uint64_t ticks; /* clears the readiness; the clock decides */
			if (read(c->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
				log_debug("read timerfd: %s", strerror(errno));
		} else if (evs[i].data.u32 == TAG_EVENTS) {
			/* Re-read so kernfs stops reporting the change. */
			char buf[128];
			if (pread(c->cg.events_fd, buf, sizeof(buf), 0) < 0)
				log_debug("read cgroup.events: %s", strerror(errno));
			w->check = true;
		} else if (evs[i].data.u32 == TAG_OOM) {
			w->oom = true; /* cgroup_oom_kills() clears it */
		} else if (evs[i].data.u32 == TAG_WATCH) {
			w->check = true; /* a leftover ended: look again */
		}
	}
}

/* Feeds SUP_EV_EMPTY when the main process is gone and nothing of the
 * worker is left. */
static void check_empty(struct run_ctx *c, bool check)
{
	if (c->done || !c->sup.populated || c->sup.main_alive ||
	    !(check || !c->have_cg || c->cg.events_fd < 0))
		return;
	/* Boxed without a cgroup: the live processes left, each
	 * watched (run-watch.c); else the tree or the cgroup. */
	bool empty = !c->have_cg && c->ns.pid > 0 ? run_watch_tree(c) == 0 : !populated_now(c);
	if (empty) {
		struct supervise_event ev = {.type = SUP_EV_EMPTY};
		feed(c, &ev);
	}
}

/* Feeds the machine what one wakeup brought, in order. */
static void serve(struct run_ctx *c, const struct wakeup *w)
{
	uint64_t dl;

	/* The worker's state first, then what people asked for, then
	 * the clock: a stop signal that arrives with the end of a
	 * backoff wins over the restart.  Every exit of a child of
	 * berth's (the worker's main process, an orphan) queues a
	 * SIGCHLD, so without one there is nothing to reap.  An OOM
	 * kill comes before the exit it causes. */
	if (w->oom && !c->done)
		check_oom(c, true);
	if (w->reap)
		reap_all(c);
	/* Without a cgroup, a process the SIGKILL sweep of the tree
	 * missed (an orphan moving to berth while its parent died)
	 * is berth's child by the time the parent's exit wakes berth:
	 * sweep again while anything is left. */
	if (c->tree_killed && !c->done && populated_now(c))
		run_signal_all(NULL, 0, c->o->helpers, c->o->n_helpers, c->ns.pid,
			       (const int[]){SIGKILL}, 1);
	for (size_t i = 0; i < w->nsig && !c->done; i++) {
		struct supervise_event ev = {.type = SUP_EV_SIGNAL, .sig = w->sigs[i]};
		feed(c, &ev);
	}
	check_empty(c, w->check);
	if (c->n_watch && (c->done || c->sup.main_alive || !c->sup.populated))
		run_watch_clear(c);
	dl = supervise_deadline(&c->sup);
	if (!c->done && dl != SUPERVISE_NO_DEADLINE && run_now_ms() >= dl) {
		struct supervise_event ev = {.type = SUP_EV_DEADLINE};
		feed(c, &ev);
	}
}

/* The loop: one epoll_wait per batch of events, without a timeout; the
 * machine's deadline is the timerfd's. */
static int loop(struct run_ctx *c)
{
	struct supervise_event start = {.type = SUP_EV_START};
	int early[64];
	size_t n_early = 0;

	/* A stop that arrived during the setup is served before any start. */
	read_signals(c, early, &n_early, ARRAY_SIZE(early));
	for (size_t i = 0; i < n_early && !c->done; i++) {
		struct supervise_event ev = {.type = SUP_EV_SIGNAL, .sig = early[i]};
		feed(c, &ev);
	}
	if (!c->done)
		feed(c, &start);
	while (!c->done) {
		struct epoll_event evs[8];
		struct wakeup w = {.nsig = 0};
		int nev;

		/* The timer matters only to a berth that sleeps: with a new
		 * deadline, look first whether anything is ready (a worker
		 * that exits at once on its stop signal is, and its 15 s
		 * deadline is never armed nor cancelled); serve() checks a
		 * deadline already past itself. */
		nev = dl_changed(c) ? epoll_wait(c->epfd, evs, ARRAY_SIZE(evs), 0) : 0;
		if (nev == 0) {
			if (arm_timer(c) < 0)
				return -EIO;
			nev = epoll_wait(c->epfd, evs, ARRAY_SIZE(evs), wait_ms(c));
		}
		if (nev < 0) {
			if (errno == EINTR)
				continue;
			return log_errno(-errno, "epoll_wait");
		}
		collect(c, evs, nev, &w);
		serve(c, &w);
	}
	return 0;
}

int run_worker(const struct run_opts *o)
{
	struct run_ctx c = {.o = o,
			    .sfd = -1,
			    .epfd = -1,
			    .cwd_fd = -1,
			    .pidfd = -1,
			    .tfd = -1,
			    .armed = SUPERVISE_NO_DEADLINE,
			    .notify = {.fd = -1}};
	struct supervise_policy pol = o->policy;
	int r;

	pol.pre_start = o->pre_start != NULL;
	supervise_init(&c.sup, &pol);
	r = run_setup(&c);
	if (r < 0) {
		run_teardown(&c);
		return r == -EINVAL ? BERTH_EXIT_USAGE : BERTH_EXIT_SETUP;
	}
	r = loop(&c);
	if (r < 0) {
		/* Cannot supervise any more: leave nothing behind. */
		if (c.have_cg) {
			size_t n;
			cgroup_kill_all(&c.cg, &n);
		} else {
			run_signal_all(NULL, c.main_pid, o->helpers, o->n_helpers, c.ns.pid,
				       (const int[]){SIGKILL}, 1);
		}
		c.exit_code = BERTH_EXIT_SETUP;
	}
	c.quiet = r == 0 && !c.sup.populated && c.main_pid <= 0;
	reap_all(&c);
	if (c.stop_started) {
		uint64_t took = run_now_ms() - c.stop_started;
		log_event(LOG_LVL_INFO, "stopped",
			  FIELDS("{s:I, s:i}", "duration_ms", (json_int_t)took, "exit_status",
				 c.exit_code),
			  "stopped in %llu ms, exit status %d", (unsigned long long)took,
			  c.exit_code);
	} else {
		log_event(LOG_LVL_INFO, "stopped", FIELDS("{s:i}", "exit_status", c.exit_code),
			  "exiting with status %d", c.exit_code);
	}
	run_teardown(&c);
	return c.exit_code;
}
