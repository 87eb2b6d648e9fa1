/* SPDX-License-Identifier: MIT */
/* The commands' entry points, called through the table in cli.c. */
#ifndef BERTH_COMMANDS_H
#define BERTH_COMMANDS_H

#include "app.h"
#include "cli.h"
#include "prepare.h"

/*
 * The command layer's one return convention: a step returns CMD_CONTINUE
 * to go on, otherwise the exit status the command ends with
 * (BERTH_EXIT_OK after --help).  A command is parse, then prepare
 * (prepare.h), then act.
 */
#define CMD_CONTINUE (-1)

/* The commands' one return convention, parse and prepare steps included:
 * CMD_CONTINUE to go on, else berth's exit status (BERTH_EXIT_OK after
 * --help). */
#define CMD_CONTINUE (-1)

int cmd_check(const struct cli_global *g, int argc, char **argv);
int cmd_list(const struct cli_global *g, int argc, char **argv);
int cmd_show(const struct cli_global *g, int argc, char **argv);
int cmd_env(const struct cli_global *g, int argc, char **argv);
int cmd_run(const struct cli_global *g, int argc, char **argv);
extern const char cmd_run_help_text[];
/* The plan `berth show` prints: the run part (argv, stop and restart
 * policy, from the defaults and the BERTH_* environment twins) and the box
 * plan (boxplan_describe).  CMD_CONTINUE or an exit status. */
int cmd_run_plan(const struct cli_global *g, const struct prep *p, json_t **out);
/* `berth exec WORKER -- COMMAND...` (cmd-exec.c). */
int cmd_exec(const struct cli_global *g, int argc, char **argv);
extern const char cmd_exec_help_text[];
extern const char cmd_exec_details[];
/* `berth spec WORKER` (cmd-spec.c) and `berth hook STAGE` (cmd-hook.c). */
int cmd_spec(const struct cli_global *g, int argc, char **argv);
extern const char cmd_spec_help_text[];
int cmd_hook(const struct cli_global *g, int argc, char **argv);
extern const char cmd_hook_help_text[];
/* `berth kube [WORKER...]` (cmd-kube.c). */
int cmd_kube(const struct cli_global *g, int argc, char **argv);
extern const char cmd_kube_help_text[];
extern const char cmd_kube_details[];

/* Parse a command without options but -h/--help and `nargs` operands.
 * CMD_CONTINUE (operands at argv[*first]), or an exit status (help
 * printed: BERTH_EXIT_OK). */
int commands_parse_plain(int argc, char **argv, int nargs, int *first);

/* Append the names of a comma-separated list to a NULL-terminated array. */
void commands_pass_env_add(char ***names, size_t *n, const char *list);

struct instance;
/* Take the instance record of w (instance_open(), in the runtime
 * directory; none, with a warning, where there is no runtime directory).
 * CMD_CONTINUE (*joined: another berth holds it, with join), or an exit
 * status (the reason is logged). */
int commands_instance_open(const struct prep *p, bool join, struct instance *in, bool *joined);

#endif
