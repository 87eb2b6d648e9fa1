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
#include "cli.h"
#include "run.h"
#include "sandbox.h"
#include "sizelimit.h"
#include "view.h"

/* The commands that take options of run's table: run takes them all,
 * exec and spec those the table marks. */
enum { CLI_RUN = 1 << 0, CLI_EXEC = 1 << 1, CLI_SPEC = 1 << 2 };

/* Everything `run` takes from its command line and environment. */
struct run_cli {
	const char *cmd; /* the command its usage errors name; NULL: run */
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

/* A command's own options beside run's: getopt_long() entries (ended by
 * {0}) whose values are below 256, the short options for getopt_long()
 * (starting with ':', with 'h'), and the walker that takes them. */
struct cli_own {
	const char *shortopts;
	const struct option *opts;
	cli_option_fn *fn;
	void *data;
};

/*
 * exec's and spec's command line (cmd: CLI_EXEC or CLI_SPEC): the options
 * of run's table that cmd takes, parsed into rc as run parses them, and
 * cmd's own through own; then the environment twins of those of run's
 * not given.  CMD_CONTINUE with optind at the first operand, or an exit
 * status (usage error printed; BERTH_EXIT_OK after --help).
 */
int run_cli_parse_shared(unsigned cmd, int argc, char **argv, const struct cli_own *own,
			 struct run_cli *rc);

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
