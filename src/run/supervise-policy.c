/* SPDX-License-Identifier: MIT */
/*
 * The supervisor's policy (supervise.h): its defaults, its checks, its
 * command-line spellings and the names of its modes.  Pure.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

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

/* The setters of the settings other than durations: each parses value
 * into p, or says *why not (-EINVAL). */

static int set_stop_signal(struct supervise_policy *p, const char *value, const char **why)
{
	int sig;

	if (signals_parse(value, &sig) < 0 || sig == SIGKILL || sig == SIGSTOP) {
		*why = "expected a signal that can be caught: TERM, SIGINT, 3";
		return -EINVAL;
	}
	p->stop_signal = sig;
	return 0;
}

static int set_kill_mode(struct supervise_policy *p, const char *value, const char **why)
{
	if (supervise_kill_mode_parse(value, &p->kill_mode) == 0)
		return 0;
	*why = "expected control-group, mixed or process";
	return -EINVAL;
}

static int set_leftover(struct supervise_policy *p, const char *value, const char **why)
{
	if (supervise_leftover_parse(value, &p->leftover) == 0)
		return 0;
	*why = "expected kill or restart";
	return -EINVAL;
}

static int set_restart_factor(struct supervise_policy *p, const char *value, const char **why)
{
	uint64_t n;

	if (parse_u64(value, 1000, &n) < 0 || n == 0) {
		*why = "expected a whole number from 1 to 1000";
		return -EINVAL;
	}
	p->restart_factor = (unsigned)n;
	return 0;
}

static int set_max_restarts(struct supervise_policy *p, const char *value, const char **why)
{
	uint64_t n;

	if (strcmp(value, "unlimited") == 0) {
		p->max_restarts = SUPERVISE_UNLIMITED;
	} else if (parse_u64(value, SUPERVISE_MAX_BUDGET, &n) == 0) {
		p->max_restarts = (int)n;
	} else {
		*why = "expected a whole number from 0 to 1000, or unlimited";
		return -EINVAL;
	}
	return 0;
}

static int set_quit_stops(struct supervise_policy *p, const char *value, const char **why)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
		p->quit_stops = true;
	else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
		p->quit_stops = false;
	else {
		*why = "expected yes or no";
		return -EINVAL;
	}
	return 0;
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
	static const struct {
		const char *key;
		int (*set)(struct supervise_policy *p, const char *value, const char **why);
	} setters[] = {
		{"stop-signal", set_stop_signal},	{"kill-mode", set_kill_mode},
		{"leftover-policy", set_leftover},	{"leftover", set_leftover},
		{"restart-factor", set_restart_factor}, {"max-restarts", set_max_restarts},
		{"quit-stops", set_quit_stops},
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
	for (size_t i = 0; i < ARRAY_SIZE(setters); i++)
		if (strcmp(key, setters[i].key) == 0)
			return setters[i].set(p, value, why);
	*why = "unknown setting";
	return -ENOENT;
}

static const char *const kill_mode_names[SUP_KILL_MODE_COUNT] = {
	[SUP_KILL_CONTROL_GROUP] = "control-group",
	[SUP_KILL_MIXED] = "mixed",
	[SUP_KILL_PROCESS] = "process",
};

static const char *const leftover_names[SUP_LEFTOVER_COUNT] = {
	[SUP_LEFTOVER_KILL] = "kill",
	[SUP_LEFTOVER_RESTART] = "restart",
};

static const char *const kill_reason_names[SUP_KILL_REASON_COUNT] = {
	[SUP_KILL_DEADLINE] = "deadline",
	[SUP_KILL_LEFTOVER] = "leftover",
	[SUP_KILL_MIXED_REST] = "mixed",
	[SUP_KILL_OOM] = "oom",
};

const char *supervise_kill_reason_name(enum supervise_kill_reason r)
{
	return (size_t)r < SUP_KILL_REASON_COUNT && kill_reason_names[r] ? kill_reason_names[r]
									 : "?";
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
