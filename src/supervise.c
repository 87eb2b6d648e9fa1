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

void supervise_policy_default(struct supervise_policy *p)
{
	*p = (struct supervise_policy){
		.restart_min_ms = 100,
		.restart_factor = 2,
		.restart_max_ms = 30000,
		.restart_reset_ms = 10000,
		.stop_signal = SIGTERM,
		.stop_timeout_ms = 15000,
		.kill_grace_ms = 5000,
		.kill_mode = SUP_KILL_CONTROL_GROUP,
		.leftover = SUP_LEFTOVER_KILL,
		.quit_stops = false,
		.max_restarts = SUPERVISE_UNLIMITED,
		.restart_window_ms = 0,
	};
}

int supervise_policy_check(const struct supervise_policy *p, const char **why)
{
	const char *w = NULL;

	if (p->restart_min_ms == 0)
		w = "the minimum restart delay must be at least 1 ms";
	else if (p->restart_factor == 0)
		w = "the restart factor must be at least 1";
	else if (p->restart_min_ms > p->restart_max_ms)
		w = "the minimum restart delay exceeds the maximum";
	else if (p->stop_signal <= 0 || p->stop_signal >= NSIG || p->stop_signal == SIGKILL ||
		 p->stop_signal == SIGSTOP)
		w = "invalid stop signal";
	else if (p->max_restarts != SUPERVISE_UNLIMITED &&
		 (p->max_restarts < 0 || p->max_restarts > SUPERVISE_MAX_BUDGET))
		w = "--max-restarts must be between 0 and 1000";
	if (why)
		*why = w;
	return w ? -EINVAL : 0;
}

int supervise_policy_set(struct supervise_policy *p, const char *key, const char *value,
			 const char **why)
{
	static const struct {
		const char *key;
		size_t off;
	} durations[] = {
		{"stop-timeout", offsetof(struct supervise_policy, stop_timeout_ms)},
		{"restart-min", offsetof(struct supervise_policy, restart_min_ms)},
		{"restart-max", offsetof(struct supervise_policy, restart_max_ms)},
		{"restart-reset", offsetof(struct supervise_policy, restart_reset_ms)},
		{"restart-window", offsetof(struct supervise_policy, restart_window_ms)},
		{"kill-grace", offsetof(struct supervise_policy, kill_grace_ms)},
	};
	uint64_t n;

	*why = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(durations); i++)
		if (strcmp(key, durations[i].key) == 0) {
			if (parse_duration_ms(value, &n) < 0) {
				*why = "expected a duration: 15, 15s, 300ms, 2m";
				return -EINVAL;
			}
			*(uint64_t *)((char *)p + durations[i].off) = n;
			return 0;
		}
	if (strcmp(key, "stop-signal") == 0) {
		int sig;
		if (signals_parse(value, &sig) < 0 || sig == SIGKILL || sig == SIGSTOP) {
			*why = "expected a signal that can be caught: TERM, SIGINT, 3";
			return -EINVAL;
		}
		p->stop_signal = sig;
	} else if (strcmp(key, "kill-mode") == 0) {
		if (supervise_kill_mode_parse(value, &p->kill_mode) < 0) {
			*why = "expected control-group, mixed or process";
			return -EINVAL;
		}
	} else if (strcmp(key, "leftover-policy") == 0 || strcmp(key, "leftover") == 0) {
		if (supervise_leftover_parse(value, &p->leftover) < 0) {
			*why = "expected kill or restart";
			return -EINVAL;
		}
	} else if (strcmp(key, "restart-factor") == 0) {
		if (parse_u64(value, 1000, &n) < 0 || n == 0) {
			*why = "expected a whole number from 1 to 1000";
			return -EINVAL;
		}
		p->restart_factor = (unsigned)n;
	} else if (strcmp(key, "max-restarts") == 0) {
		if (strcmp(value, "unlimited") == 0) {
			p->max_restarts = SUPERVISE_UNLIMITED;
		} else if (parse_u64(value, SUPERVISE_MAX_BUDGET, &n) == 0) {
			p->max_restarts = (int)n;
		} else {
			*why = "expected a whole number from 0 to 1000, or unlimited";
			return -EINVAL;
		}
	} else if (strcmp(key, "quit-stops") == 0) {
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
			p->quit_stops = true;
		else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
			p->quit_stops = false;
		else {
			*why = "expected yes or no";
			return -EINVAL;
		}
	} else {
		*why = "unknown setting";
		return -ENOENT;
	}
	return 0;
}

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

bool supervise_is_stop_signal(const struct supervise_policy *p, int sig)
{
	return sig == SIGTERM || sig == SIGINT || (sig == SIGQUIT && p->quit_stops);
}

bool supervise_is_relayed(const struct supervise_policy *p, int sig)
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
static void begin_stop(struct supervise *s, uint64_t now, bool fresh,
		       struct supervise_actions *out)
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
	    s->state == SUP_STARTING)
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

enum supervise_state supervise_step(struct supervise *s, const struct supervise_event *ev,
				    uint64_t now, struct supervise_actions *out)
{
	switch (ev->type) {
	case SUP_EV_START:
		if (s->state == SUP_IDLE)
			do_spawn(s, out);
		break;
	case SUP_EV_SPAWNED:
		if (s->state != SUP_STARTING)
			break;
		s->main_alive = true;
		s->populated = true;
		s->started_at = now;
		s->starts++;
		s->state = SUP_RUNNING;
		if (s->stop_requested)
			begin_stop(s, now, true, out);
		break;
	case SUP_EV_SPAWN_FAILED:
		if (s->state != SUP_STARTING)
			break;
		s->last_code = BERTH_EXIT_SETUP;
		s->started_at = now;
		s->populated = false;
		if (s->stop_requested)
			do_exit(s, out);
		else
			schedule_restart(s, now, out);
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
	[SUP_IDLE] = "idle",         [SUP_STARTING] = "starting", [SUP_RUNNING] = "running",
	[SUP_LEFTOVER] = "leftover", [SUP_BACKOFF] = "backoff",   [SUP_STOPPING] = "stopping",
	[SUP_KILLING] = "killing",   [SUP_EXITED] = "exited",
};

static const char *const kill_mode_names[SUP_KILL_MODE_COUNT] = {
	[SUP_KILL_CONTROL_GROUP] = "control-group",
	[SUP_KILL_MIXED] = "mixed",
	[SUP_KILL_PROCESS] = "process",
};

static const char *const leftover_names[SUP_LEFTOVER_COUNT] = {
	[SUP_LEFTOVER_KILL] = "kill",
	[SUP_LEFTOVER_RESTART] = "restart",
};

const char *supervise_state_name(enum supervise_state st)
{
	return (size_t)st < SUP_STATE_COUNT && state_names[st] ? state_names[st] : "?";
}

const char *supervise_kill_mode_name(enum supervise_kill_mode m)
{
	return (size_t)m < SUP_KILL_MODE_COUNT && kill_mode_names[m] ? kill_mode_names[m] : "?";
}

int supervise_kill_mode_parse(const char *s, enum supervise_kill_mode *m)
{
	for (size_t i = 0; i < SUP_KILL_MODE_COUNT; i++)
		if (kill_mode_names[i] && strcmp(s, kill_mode_names[i]) == 0) {
			*m = (enum supervise_kill_mode)i;
			return 0;
		}
	return -EINVAL;
}

const char *supervise_leftover_name(enum supervise_leftover l)
{
	return (size_t)l < SUP_LEFTOVER_COUNT && leftover_names[l] ? leftover_names[l] : "?";
}

int supervise_leftover_parse(const char *s, enum supervise_leftover *l)
{
	for (size_t i = 0; i < SUP_LEFTOVER_COUNT; i++)
		if (leftover_names[i] && strcmp(s, leftover_names[i]) == 0) {
			*l = (enum supervise_leftover)i;
			return 0;
		}
	return -EINVAL;
}
