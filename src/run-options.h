/* SPDX-License-Identifier: MIT */
/*
 * `berth run`'s command line and environment: one table of its options,
 * each with its environment twin and the parser of its value, drives the
 * getopt loop, the twins and --help's check.  The modules' own value
 * parsers (sizes, durations, signals, kill modes, network modes, paths)
 * do the parsing; this file says which option sets what and prints the
 * usage error.
 */
#ifndef BERTH_RUN_OPTIONS_H
#define BERTH_RUN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"
#include "run.h"
#include "sandbox.h"
#include "sizelimit.h"
#include "view.h"

/* Everything `run` takes from its command line and environment. */
struct run_cli {
	struct run_opts o;
	struct sizelimit_overrides lo;
	struct cgroup_limits limits;
	char **pass;
	size_t npass;
	struct sandbox_opts so;
	struct view_opts vo;
	uint64_t tmp_size; /* --tmp-size; 0: view_tmp_size()'s default */
	char **ro_binds;
	size_t n_ro_binds;
	bool unconfined;
	bool pod;	    /* --pod: the engine built the box (podcheck.h) */
	unsigned pod_waive; /* --pod-waive: 1 << PODCHECK_* */
};

/*
 * Parse `run`'s options into rc (whose o run_opts_init() prepared), then
 * the environment twins of those not given.  *worker_arg is the index of
 * the worker name.  CMD_CONTINUE, or an exit status (usage error printed;
 * BERTH_EXIT_OK after --help).
 */
int cmd_run_parse(int argc, char **argv, struct run_cli *rc, int *worker_arg);

/* The environment twins of the options not in seen (indexed by option,
 * as cmd_run_parse() fills it; NULL: none given), and NOTIFY_SOCKET: what
 * `berth show` reports of a run.  CMD_CONTINUE, or an exit status. */
int run_env_twins_apply(struct run_cli *rc, const bool *seen);

/* One option by its long name ("stop-timeout"), with its value as on the
 * command line (NULL for a flag): for the tests and their run driver.
 * CMD_CONTINUE, or BERTH_EXIT_USAGE (printed; also for an unknown name). */
int run_cli_set(struct run_cli *rc, const char *name, const char *value);

/* Each option's long name and environment twin (NULL: none), i from 0
 * while it returns true: for the tests. */
bool run_cli_option(size_t i, const char **name, const char **env);

#endif
