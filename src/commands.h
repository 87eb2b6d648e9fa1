/* SPDX-License-Identifier: MIT */
/* The commands' entry points, called through the table in cli.c. */
#ifndef BERTH_COMMANDS_H
#define BERTH_COMMANDS_H

#include "app.h"
#include "cli.h"

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
/* The run part of `berth show` (argv, stop and restart policy, from the
 * defaults and the BERTH_* environment twins).  0 or an exit status. */
int cmd_run_plan(const struct cli_global *g, const struct app *app, const struct worker *w,
		 json_t **out);
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

/* Load the app named by the global options, printing every diagnostic
 * to stderr.  0 or an exit status. */
int commands_load_app(const struct cli_global *g, struct app *app);
/* The app and its worker `worker` resolved.  0 or an exit status. */
int commands_load_worker(const struct cli_global *g, const char *worker, struct app *app,
			 struct worker *w);
/* Parse a command without options but -h/--help and `nargs` operands.
 * CMD_CONTINUE (operands at argv[*first]), or an exit status
 * (BERTH_EXIT_OK after --help). */
int commands_parse_plain(int argc, char **argv, int nargs, int *first);

/* Append the names of a comma-separated list to a NULL-terminated array. */
void commands_pass_env_add(char ***names, size_t *n, const char *list);
/* The worker's environment (context file, state dir, --pass-env names).
 * Returns 0 or an exit status (the reason is logged). */
int commands_worker_env(const struct cli_global *g, const struct app *app, const struct worker *w,
			char *const *pass_env, char ***envp);
/* The same with USER the name of the user the worker runs as: user (a
 * --user NAME|UID[:GID]), berth's own user when self (--unconfined), else
 * the default (web, nobody, or uid 65534 shown as "65534").
 * commands_worker_env() uses BERTH_USER as user, as run does. */
int commands_worker_env_user(const struct cli_global *g, const struct app *app,
			     const struct worker *w, char *const *pass_env, const char *user,
			     bool self, char ***envp);

struct instance;
/* Take the instance record of w (instance_open(), in the runtime
 * directory; none, with a warning, where there is no runtime directory).
 * 0 taken (or none), 1 joined (join: another berth holds it), or an exit
 * status (the reason is logged). */
int commands_instance_open(const struct worker *w, const char *project, const char *environment,
			   bool join, struct instance *in);

#endif
