/* SPDX-License-Identifier: MIT */
/*
 * The supervisor's transition function.  Every decision about restarts,
 * backoff, the stop sequence, the SIGKILL deadline, the crash budget and
 * berth's exit status is taken here, from events and an injected clock;
 * run.c only carries the resulting actions out.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "signals.h"
#include "supervise.h"
#include "util.h"

void supervise_init(struct supervise *s, const struct supervise_policy *p)
{
	memset(s, 0, sizeof(*s));
	s->pol = *p;
	s->state = SUP_IDLE;
	s->deadline = SUPERVISE_NO_DEADLINE;
}

uint64_t supervise_backoff_ms(const struct supervise_policy *p, unsigned failures)
{
	uint64_t d = p->restart_min_ms;

	for (unsigned i = 0; i < failures && d < p->restart_max_ms; i++) {
		if (d > p->restart_max_ms / p->restart_factor) {
			d = p->restart_max_ms;
			break;
		}
		d *= p->restart_factor;
	}
	return d < p->restart_max_ms ? d : p->restart_max_ms;
}

/* Is sig one that stops berth (TERM, INT, QUIT if quit_stops)? */
static bool supervise_is_stop_signal(const struct supervise_policy *p, int sig)
{
	return sig == SIGTERM || sig == SIGINT || (sig == SIGQUIT && p->quit_stops);
}

/* Is sig one that is relayed (HUP, USR1, USR2, WINCH, QUIT unless stop)? */
static bool supervise_is_relayed(const struct supervise_policy *p, int sig)
{
	return sig == SIGHUP || sig == SIGUSR1 || sig == SIGUSR2 || sig == SIGWINCH ||
	       (sig == SIGQUIT && !p->quit_stops);
}

static struct supervise_action *push(struct supervise_actions *out, enum supervise_act type)
{
	/* The machine never emits more than a handful per step. */
	if (out->n >= SUPERVISE_MAX_ACTIONS)
		abort();
	struct supervise_action *a = &out->a[out->n++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	return a;
}

static void push_sig(struct supervise_actions *out, enum supervise_act type, int sig)
{
	push(out, type)->sig = sig;
}

static void push_kill(struct supervise_actions *out, enum supervise_kill_reason reason)
{
	struct supervise_action *a = push(out, SUP_ACT_KILL_ALL);

	a->sig = SIGKILL;
	a->reason = reason;
}

static int final_code(const struct supervise *s)
{
	if (s->fail_code)
		return s->fail_code;
	if (s->giving_up)
		return s->oom_run ? BERTH_EXIT_OOM : s->last_code;
	if (s->killed)
		return BERTH_EXIT_KILLED;
	return BERTH_EXIT_OK;
}

static void do_exit(struct supervise *s, struct supervise_actions *out)
{
	push(out, SUP_ACT_EXIT)->code = final_code(s);
	s->state = SUP_EXITED;
	s->deadline = SUPERVISE_NO_DEADLINE;
}

static void do_spawn(struct supervise *s, struct supervise_actions *out)
{
	s->oom_run = false;
	push(out, SUP_ACT_SPAWN);
	s->state = SUP_STARTING;
	s->deadline = SUPERVISE_NO_DEADLINE;
}

/* Signal the worker's processes per kill mode.  fresh: arm a new stop
 * deadline (a stop already in progress keeps its own). */
static void begin_stop(struct supervise *s, uint64_t now, bool fresh, struct supervise_actions *out)
{
	int sig = s->pol.stop_signal;

	s->state = SUP_STOPPING;
	if (fresh || s->deadline == SUPERVISE_NO_DEADLINE)
		s->deadline = now + s->pol.stop_timeout_ms;
	if (s->pol.kill_mode == SUP_KILL_CONTROL_GROUP) {
		push_sig(out, SUP_ACT_SIGNAL_ALL, sig);
		if (sig != SIGCONT)
			push_sig(out, SUP_ACT_SIGNAL_ALL, SIGCONT);
	} else if (s->main_alive) {
		push_sig(out, SUP_ACT_SIGNAL_MAIN, sig);
		if (sig != SIGCONT)
			push_sig(out, SUP_ACT_SIGNAL_MAIN, SIGCONT);
	} else if (s->pol.kill_mode == SUP_KILL_MIXED) {
		/* Only helpers are left: in mixed mode they get SIGKILL. */
		push_kill(out, SUP_KILL_MIXED_REST);
	}
	/* process mode without a main process: wait for the deadline. */
}

/* The pre-start command runs once, before the first start: in the
 * worker's box, supervised like it (stop, OOM, leftovers), never again at
 * a restart. */
static void do_prestart(struct supervise *s, struct supervise_actions *out)
{
	push(out, SUP_ACT_SPAWN_PRESTART);
	s->state = SUP_PRESTART;
	s->pre_spawning = true;
	s->deadline = SUPERVISE_NO_DEADLINE;
}

/* The pre-start command and everything it left are gone: start the worker,
 * or exit when it failed. */
static void prestart_done(struct supervise *s, struct supervise_actions *out)
{
	s->leftover_killed = false;
	if (s->fail_code)
		do_exit(s, out);
	else
		do_spawn(s, out);
}

static void prestart_spawned(struct supervise *s, uint64_t now, struct supervise_actions *out)
{
	s->pre_spawning = false;
	s->main_alive = true;
	s->populated = true;
	s->pre_started_at = now;
	if (s->stop_requested)
		begin_stop(s, now, true, out);
}

/* The pre-start command exited (ev->code: 0, its status, 128 + signal).
 * What it left behind (cmd &) is stopped first, whatever --leftover says:
 * the worker never starts beside it, and berth never exits before it. */
static void prestart_exited(struct supervise *s, const struct supervise_event *ev, uint64_t now,
			    struct supervise_actions *out)
{
	struct supervise_action *a = push(out, SUP_ACT_LOG_PRESTART);

	a->code = ev->code;
	a->ms = now - s->pre_started_at;
	a->oom = s->oom_run;
	if (ev->code != 0)
		s->fail_code = BERTH_EXIT_PRESTART;
	if (!s->populated) {
		prestart_done(s, out);
		return;
	}
	if (s->oom_run) {
		/* the rest got SIGKILL with the OOM kill */
		s->leftover_killed = true;
		s->deadline = now + s->pol.kill_grace_ms;
		return;
	}
	push(out, SUP_ACT_LOG_LEFTOVER);
	s->leftover_killed = false;
	s->deadline = now + s->pol.stop_timeout_ms;
	push_sig(out, SUP_ACT_SIGNAL_ALL, s->pol.stop_signal);
	if (s->pol.stop_signal != SIGCONT)
		push_sig(out, SUP_ACT_SIGNAL_ALL, SIGCONT);
}

static bool budget_spent(const struct supervise *s, uint64_t now)
{
	int max = s->pol.max_restarts;

	if (max == SUPERVISE_UNLIMITED)
		return false;
	if (max == 0)
		return true;
	if (s->n_restarts < (size_t)max)
		return false;
	/* Full ring: ring_pos holds the oldest of the last max restarts. */
	uint64_t oldest = s->restarts[s->ring_pos];
	return s->pol.restart_window_ms == 0 || now - oldest < s->pol.restart_window_ms;
}

static void record_restart(struct supervise *s, uint64_t now)
{
	size_t max = (size_t)s->pol.max_restarts;

	if (s->pol.max_restarts <= 0)
		return;
	s->restarts[s->ring_pos] = now;
	s->ring_pos = (s->ring_pos + 1) % max;
	if (s->n_restarts < max)
		s->n_restarts++;
}

/* The start command is gone (and its leftovers, or the policy lets them
 * run): restart after the backoff delay, or give up. */
static void schedule_restart(struct supervise *s, uint64_t now, struct supervise_actions *out)
{
	s->leftover_killed = false;
	if (now - s->started_at >= s->pol.restart_reset_ms)
		s->failures = 0;
	if (budget_spent(s, now)) {
		s->giving_up = true;
		struct supervise_action *a = push(out, SUP_ACT_LOG_GIVE_UP);
		a->code = final_code(s);
		a->oom = s->oom_run;
		if (s->populated)
			begin_stop(s, now, true, out);
		else
			do_exit(s, out);
		return;
	}
	uint64_t delay = supervise_backoff_ms(&s->pol, s->failures);
	if (s->failures < 64)
		s->failures++;
	record_restart(s, now);
	s->state = SUP_BACKOFF;
	s->deadline = now + delay;
	push(out, SUP_ACT_LOG_RESTART)->ms = delay;
}

static void on_main_exited(struct supervise *s, const struct supervise_event *ev, uint64_t now,
			   struct supervise_actions *out)
{
	if (!s->main_alive)
		return;
	s->main_alive = false;
	s->last_code = ev->code;
	s->populated = ev->populated;

	switch (s->state) {
	case SUP_PRESTART:
		prestart_exited(s, ev, now, out);
		break;
	case SUP_RUNNING:
		if (!s->populated) {
			schedule_restart(s, now, out);
			break;
		}
		if (s->oom_run) {
			/* The rest got SIGKILL with the OOM kill: no leftover
			 * report, no stop signal; wait for the cgroup to empty. */
			s->state = SUP_LEFTOVER;
			s->leftover_killed = true;
			s->deadline = now + s->pol.kill_grace_ms;
			break;
		}
		push(out, SUP_ACT_LOG_LEFTOVER);
		if (s->pol.leftover == SUP_LEFTOVER_RESTART) {
			schedule_restart(s, now, out);
			break;
		}
		s->state = SUP_LEFTOVER;
		s->leftover_killed = false;
		s->deadline = now + s->pol.stop_timeout_ms;
		push_sig(out, SUP_ACT_SIGNAL_ALL, s->pol.stop_signal);
		if (s->pol.stop_signal != SIGCONT)
			push_sig(out, SUP_ACT_SIGNAL_ALL, SIGCONT);
		break;
	case SUP_STOPPING:
	case SUP_KILLING:
		if (!s->populated)
			do_exit(s, out);
		else if (s->state == SUP_STOPPING && s->pol.kill_mode == SUP_KILL_MIXED)
			push_kill(out, SUP_KILL_MIXED_REST);
		break;
	default:
		break;
	}
}

static void on_empty(struct supervise *s, uint64_t now, struct supervise_actions *out)
{
	if (!s->populated)
		return;
	s->populated = false;
	switch (s->state) {
	case SUP_PRESTART:
		if (!s->main_alive)
			prestart_done(s, out);
		break;
	case SUP_LEFTOVER:
		schedule_restart(s, now, out);
		break;
	case SUP_STOPPING:
	case SUP_KILLING:
		if (!s->main_alive)
			do_exit(s, out);
		break;
	default:
		break;
	}
}

static void on_stop_signal(struct supervise *s, int sig, uint64_t now,
			   struct supervise_actions *out)
{
	if (s->state == SUP_STOPPING || s->state == SUP_KILLING) {
		/* Never restart the deadline (or shorten it). */
		push_sig(out, SUP_ACT_LOG_STOP_AGAIN, sig);
		return;
	}
	if (s->state == SUP_EXITED)
		return;
	s->stop_requested = true;
	push_sig(out, SUP_ACT_LOG_STOPPING, sig);
	switch (s->state) {
	case SUP_IDLE:
		do_exit(s, out);
		break;
	case SUP_STARTING:
		break; /* served when the spawn result arrives */
	case SUP_PRESTART:
		if (s->pre_spawning)
			break; /* served when the spawn result arrives */
		if (s->main_alive)
			begin_stop(s, now, true, out);
		else /* its leftovers got the stop signal: keep the deadline */
			s->state = s->leftover_killed ? SUP_KILLING : SUP_STOPPING;
		break;
	case SUP_RUNNING:
		begin_stop(s, now, true, out);
		break;
	case SUP_LEFTOVER:
		/* The leftovers already got the stop signal; keep the deadline. */
		s->state = s->leftover_killed ? SUP_KILLING : SUP_STOPPING;
		break;
	case SUP_BACKOFF:
		if (s->populated)
			begin_stop(s, now, true, out);
		else
			do_exit(s, out);
		break;
	default:
		break;
	}
}

/* An OOM kill in the worker: as memory.oom.group does on v2, the whole
 * worker goes (SIGKILL to the rest of the cgroup), so that the restart
 * starts clean instead of a worker running on without the process the
 * kernel chose.  Reported once per run: later kills of the same run are
 * this kill's aftermath. */
static void on_oom(struct supervise *s, uint64_t now, struct supervise_actions *out)
{
	/* Starting: nothing of the new run exists yet, and the last run's
	 * kills were reported with it. */
	if (s->oom_run || s->state == SUP_EXITED || s->state == SUP_IDLE ||
	    s->state == SUP_STARTING || (s->state == SUP_PRESTART && s->pre_spawning))
		return;
	s->oom_run = true;
	push(out, SUP_ACT_LOG_OOM);
	switch (s->state) {
	case SUP_RUNNING:
	case SUP_STOPPING:
	case SUP_BACKOFF:
		if (s->main_alive || s->populated)
			push_kill(out, SUP_KILL_OOM);
		break;
	case SUP_PRESTART:
		if (s->main_alive) {
			push_kill(out, SUP_KILL_OOM);
			break;
		}
		/* its leftovers: */
		/* fall through */
	case SUP_LEFTOVER:
		if (!s->leftover_killed) {
			push_kill(out, SUP_KILL_OOM);
			s->leftover_killed = true;
			s->deadline = now + s->pol.kill_grace_ms;
		}
		break;
	default: /* killing: SIGKILL went out already */
		break;
	}
}

static void on_deadline(struct supervise *s, uint64_t now, struct supervise_actions *out)
{
	if (s->deadline == SUPERVISE_NO_DEADLINE || now < s->deadline)
		return;
	switch (s->state) {
	case SUP_BACKOFF:
		do_spawn(s, out);
		break;
	case SUP_PRESTART: /* its leftovers */
		if (!s->leftover_killed) {
			push_kill(out, SUP_KILL_LEFTOVER);
			s->leftover_killed = true;
			s->deadline = now + s->pol.kill_grace_ms;
		} else {
			push(out, SUP_ACT_LOG_STUCK);
			prestart_done(s, out);
		}
		break;
	case SUP_LEFTOVER:
		if (!s->leftover_killed) {
			push_kill(out, SUP_KILL_LEFTOVER);
			s->leftover_killed = true;
			s->deadline = now + s->pol.kill_grace_ms;
		} else {
			push(out, SUP_ACT_LOG_STUCK);
			schedule_restart(s, now, out);
		}
		break;
	case SUP_STOPPING:
		push_kill(out, SUP_KILL_DEADLINE);
		s->killed = true;
		s->state = SUP_KILLING;
		s->deadline = now + s->pol.kill_grace_ms;
		break;
	case SUP_KILLING:
		push(out, SUP_ACT_LOG_STUCK);
		do_exit(s, out);
		break;
	default:
		s->deadline = SUPERVISE_NO_DEADLINE;
		break;
	}
}

/* SUP_EV_SPAWNED: the pre-start command or the worker runs. */
static void on_spawned(struct supervise *s, uint64_t now, struct supervise_actions *out)
{
	if (s->state == SUP_PRESTART && s->pre_spawning) {
		prestart_spawned(s, now, out);
		return;
	}
	if (s->state != SUP_STARTING)
		return;
	s->main_alive = true;
	s->populated = true;
	s->started_at = now;
	s->starts++;
	s->state = SUP_RUNNING;
	if (s->stop_requested)
		begin_stop(s, now, true, out);
}

/* SUP_EV_SPAWN_FAILED: berth could not create the process. */
static void on_spawn_failed(struct supervise *s, uint64_t now, struct supervise_actions *out)
{
	if (s->state == SUP_PRESTART && s->pre_spawning) {
		/* berth could not create it: nothing was started */
		s->pre_spawning = false;
		if (!s->stop_requested)
			s->fail_code = BERTH_EXIT_SETUP;
		do_exit(s, out);
		return;
	}
	if (s->state != SUP_STARTING)
		return;
	s->last_code = BERTH_EXIT_SETUP;
	s->started_at = now;
	s->populated = false;
	if (s->stop_requested)
		do_exit(s, out);
	else
		schedule_restart(s, now, out);
}

enum supervise_state supervise_step(struct supervise *s, const struct supervise_event *ev,
				    uint64_t now, struct supervise_actions *out)
{
	switch (ev->type) {
	case SUP_EV_START:
		if (s->state == SUP_IDLE && s->pol.pre_start)
			do_prestart(s, out);
		else if (s->state == SUP_IDLE)
			do_spawn(s, out);
		break;
	case SUP_EV_SPAWNED:
		on_spawned(s, now, out);
		break;
	case SUP_EV_SPAWN_FAILED:
		on_spawn_failed(s, now, out);
		break;
	case SUP_EV_MAIN_EXITED:
		on_main_exited(s, ev, now, out);
		break;
	case SUP_EV_EMPTY:
		on_empty(s, now, out);
		break;
	case SUP_EV_SIGNAL:
		if (supervise_is_stop_signal(&s->pol, ev->sig)) {
			on_stop_signal(s, ev->sig, now, out);
		} else if (supervise_is_relayed(&s->pol, ev->sig)) {
			if (s->main_alive)
				push_sig(out, SUP_ACT_SIGNAL_GROUP, ev->sig);
			else if (s->state != SUP_EXITED)
				push_sig(out, SUP_ACT_LOG_DROPPED, ev->sig);
		}
		break;
	case SUP_EV_DEADLINE:
		on_deadline(s, now, out);
		break;
	case SUP_EV_OOM:
		on_oom(s, now, out);
		break;
	}
	return s->state;
}

static const char *const state_names[SUP_STATE_COUNT] = {
	[SUP_IDLE] = "idle",	     [SUP_PRESTART] = "pre-start", [SUP_STARTING] = "starting",
	[SUP_RUNNING] = "running",   [SUP_LEFTOVER] = "leftover",  [SUP_BACKOFF] = "backoff",
	[SUP_STOPPING] = "stopping", [SUP_KILLING] = "killing",	   [SUP_EXITED] = "exited",
};

const char *supervise_state_name(enum supervise_state st)
{
	return (size_t)st < SUP_STATE_COUNT && state_names[st] ? state_names[st] : "?";
}
