/* SPDX-License-Identifier: MIT */
/*
 * The supervisor's policy (supervise.h): its defaults, its checks and the
 * names of its modes.  Pure.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

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
