/* SPDX-License-Identifier: MIT */
/*
 * The command line: global options (each with an environment twin an
 * orchestrator can set without editing the command line), the command
 * table and every command's --help.  Parsing has no side effects beyond
 * printing usage; main() runs what was parsed.
 */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "log.h"

struct cli_global {
	const char *app_config;	    /* -f, BERTH_APP_CONFIG */
	const char *app_name;	    /* --app, BERTH_APP */
	const char *services;	    /* --services, BERTH_SERVICES */
	const char *app_dir;	    /* -C, BERTH_APP_DIR, else $PLATFORM_APP_DIR, else cwd */
	const char *context;	    /* --context, BERTH_CONTEXT */
	const char *state_dir;	    /* --state-dir, BERTH_STATE_DIR */
	enum log_format log_format; /* --log-format, BERTH_LOG_FORMAT */
	enum log_level log_level;   /* -v / -q, BERTH_LOG_LEVEL */
};

struct cli_command {
	const char *name;
	const char *synopsis; /* "show [OPTIONS] WORKER" */
	const char *summary;
	/* Runs the command: argv[0] is the command name.  Returns berth's exit status. */
	int (*run)(const struct cli_global *g, int argc, char **argv);
	const char *help;    /* the command's options, for --help */
	const char *details; /* what it does beyond the summary, or "" */
	const char *exits;   /* the exit statuses it can return */
};

/*
 * Parse the global options.  On success *cmd is the command to run and
 * *argi the index of its name in argv; returns CMD_CONTINUE (commands.h)
 * to go on, or an exit status when parsing ended the program (--help,
 * --version, usage error).
 */
int cli_parse_global(int argc, char **argv, struct cli_global *g, const struct cli_command **cmd,
		     int *argi);

/* The command called name, or NULL. */
const struct cli_command *cli_find(const char *name);

/* Usage and help text. */
void cli_command_help(const struct cli_command *cmd, FILE *out);

/* Option value from the command line, else from the environment twin. */
const char *cli_env_default(const char *value, const char *env_name);

/* A command's unknown option arg: the usage error, saying where a global
 * option goes when arg is one.  Returns 2. */
int cli_unknown_option(const char *cmd, const char *arg);

struct option;
/* One of a command's options: getopt_long()'s value and its argument
 * (NULL for a flag).  CMD_CONTINUE, or an exit status. */
typedef int cli_option_fn(void *data, int opt, const char *arg);

/*
 * Walk a command's options (argv[0] is the command's name) with
 * getopt_long(shortopts, opts), from the start: --help (-h) prints the
 * command's help and gives BERTH_EXIT_OK, a missing value or an unknown
 * option the usage error; every other option goes to fn.  CMD_CONTINUE
 * with optind at the first operand, or the exit status.
 */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *opts,
	       cli_option_fn *fn, void *data);

/* Print "berth CMD: message" and "Try 'berth CMD --help'", return 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) ATTR_PRINTF(2, 3);

#endif
