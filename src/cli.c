/* SPDX-License-Identifier: MIT */
/*
 * Global option parsing and the command table (see cli.h).  Each command
 * parses its own options in commands.c; this file only knows their names,
 * synopses and help texts.
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "exitcodes.h"

/* Exit statuses, each command listing those it can return. */
#define EXIT_OK	   "  0        success\n"
#define EXIT_USAGE "  2        usage or configuration error\n"
#define EXIT_SETUP                                                                                 \
	"  125      a setup step failed (cgroup, mount, network, privileges,\n"                    \
	"           the state directory)\n"
#define EXIT_SHELL "  126/127  the start command could not be executed / was not found\n"

static const char exits_plain[] = EXIT_OK EXIT_USAGE;
static const char exits_setup[] = EXIT_OK EXIT_USAGE EXIT_SETUP;
static const char exits_run[] =
	"  0        the worker was stopped on request in time\n" EXIT_USAGE EXIT_SETUP EXIT_SHELL
	"  137      the stop escalated to SIGKILL at the deadline\n"
	"  90       gave up after a run that ended in an OOM kill\n"
	"  91       commands.pre_start failed: the worker was not started\n"
	"  N, 128+S the worker's last status (or signal S) when berth gave up\n";
static const char exits_exec[] = EXIT_USAGE EXIT_SETUP EXIT_SHELL
	"  137      the stop escalated to SIGKILL at the deadline\n"
	"  90       the command ended in an OOM kill\n"
	"  N, 128+S the command's status (or signal S), 0 included\n";

static const struct cli_command commands[] = {
	{"check", "check", "validate the app config and every worker", cmd_check, "",
	 "Prints 'configuration OK', or every error found, one per line, as\n"
	 "FILE:LINE:COLUMN: KEY.PATH: message (exit status 2).\n",
	 exits_plain},
	{"list", "list", "list the app's workers (name, size, start command)", cmd_list, "", "",
	 exits_plain},
	{"show", "show WORKER", "print the resolved worker and its plan as JSON", cmd_show, "", "",
	 exits_setup},
	{"env", "env [OPTIONS] WORKER", "print the environment the worker would get", cmd_env,
	 "  --format=shell|json|null  output format (default: shell, 'export NAME=...'\n"
	 "                            lines that eval safely; null: NUL-separated)\n"
	 "  --decode                  show the base64 PLATFORM_* values decoded\n"
	 "  --pass-env NAME           also pass NAME from berth's environment\n"
	 "                            (repeatable) [BERTH_PASS_ENV=NAME,NAME]\n",
	 "", exits_setup},
	{"run", "run [OPTIONS] WORKER", "run the worker in its box and supervise it", cmd_run,
	 cmd_run_help_text, "", exits_run},
	{"exec", "exec [OPTIONS] WORKER -- COMMAND...",
	 "run a command once inside the worker's box, for debugging", cmd_exec, cmd_exec_help_text,
	 cmd_exec_details, exits_exec},
	{"spec", "spec [OPTIONS] WORKER", "write an OCI runtime config.json for the worker",
	 cmd_spec, cmd_spec_help_text, "", exits_setup},
	{"hook", "hook STAGE", "OCI hook: apply the worker's box to a container (state on stdin)",
	 cmd_hook, "", cmd_hook_help_text, exits_setup},
	{"kube", "kube [OPTIONS] [WORKER...]", "write Kubernetes objects for the workers (YAML)",
	 cmd_kube, cmd_kube_help_text, cmd_kube_details, exits_setup},
};

static const char global_help[] =
	"Global options:\n"
	"  -f, --app-config FILE  the app config (default: .platform.app.yaml or\n"
	"                         .platform/applications.yaml in the app directory)\n"
	"                         [BERTH_APP_CONFIG]\n"
	"      --app NAME         the app to use from .platform/applications.yaml\n"
	"                         [BERTH_APP]\n"
	"      --services FILE    services.yaml (default: .platform/services.yaml\n"
	"                         beside the project root) [BERTH_SERVICES]\n"
	"  -C, --app-dir DIR      the app directory to search (default:\n"
	"                         $PLATFORM_APP_DIR, else the current directory)\n"
	"                         [BERTH_APP_DIR]\n"
	"      --context FILE     the platform's runtime facts, JSON (see berth(1))\n"
	"                         [BERTH_CONTEXT]\n"
	"      --state-dir DIR    berth's state directory (default: " BERTH_STATE_DIR ")\n"
	"                         [BERTH_STATE_DIR]\n"
	"      --log-format FMT   text or json [BERTH_LOG_FORMAT]\n"
	"  -v, --verbose          log debug messages too\n"
	"  -q, --quiet            log warnings and errors only\n"
	"                         [BERTH_LOG_LEVEL=debug|info|warning|error]\n"
	"  -h, --help             show this help, or a command's with COMMAND --help\n"
	"  -V, --version          show the version\n";

static const char exit_help[] =
	"Exit status:\n" EXIT_OK EXIT_USAGE EXIT_SETUP EXIT_SHELL
	"  137      run, exec: the stop escalated to SIGKILL at the deadline\n"
	"  90       run: gave up after a run that ended in an OOM kill\n"
	"           (exec: the command did)\n"
	"  91       run: commands.pre_start failed: the worker was not started\n"
	"  N, 128+S run: the worker's last status (or signal S) when berth gave up;\n"
	"           exec: the command's status\n";

const char *cli_env_default(const char *value, const char *env_name)
{
	const char *e;

	if (value)
		return value;
	e = getenv(env_name);
	return e && *e ? e : NULL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "berth%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'berth %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return BERTH_EXIT_USAGE;
}

#define G(field) offsetof(struct cli_global, field)
#define NO_FIELD SIZE_MAX

/* The global options: their getopt values, the names of their values
 * (for --help's hint about a misplaced one), their environment twins and
 * the string field of cli_global each sets (NO_FIELD: parsed below). */
static const struct global_opt {
	char short_name;	     /* 0: none */
	const char *long_name, *arg; /* arg: NULL for a flag */
	const char *env;	     /* the twin; NULL: none */
	size_t off;
} global_opts[] = {
	{'f', "app-config", "FILE", "BERTH_APP_CONFIG", G(app_config)},
	{0, "app", "NAME", "BERTH_APP", G(app_name)},
	{0, "services", "FILE", "BERTH_SERVICES", G(services)},
	{'C', "app-dir", "DIR", "BERTH_APP_DIR", G(app_dir)},
	{0, "context", "FILE", "BERTH_CONTEXT", G(context)},
	{0, "state-dir", "DIR", "BERTH_STATE_DIR", G(state_dir)},
	{0, "log-format", "FMT", "BERTH_LOG_FORMAT", NO_FIELD},
	{'v', "verbose", NULL, NULL, NO_FIELD},
	{'q', "quiet", NULL, NULL, NO_FIELD},
	{'V', "version", NULL, NULL, NO_FIELD},
};
#define N_GLOBAL       ARRAY_SIZE(global_opts)
#define OPT_LOG_FORMAT 6 /* global_opts[] index */

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *opts,
	       cli_option_fn *fn, void *data)
{
	int c, r;

	optind = 0; /* 0, not 1: glibc then forgets the global parse */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (c == 'h') {
			cli_command_help(cli_find(argv[0]), stdout);
			return BERTH_EXIT_OK;
		}
		if (c == ':')
			return cli_usage_error(argv[0], "option '%s' needs a value",
					       argv[optind - 1]);
		if (c == '?' || !fn)
			return cli_unknown_option(argv[0], argv[optind - 1]);
		r = fn(data, c, optarg);
		if (r != CMD_CONTINUE)
			return r;
	}
	return CMD_CONTINUE;
}

int cli_unknown_option(const char *cmd, const char *arg)
{
	size_t n = strcspn(arg, "=");

	for (size_t i = 0; cmd && i < ARRAY_SIZE(global_opts); i++) {
		const char *l = global_opts[i].long_name, *a = global_opts[i].arg;
		bool is_short = arg[0] == '-' && arg[1] == global_opts[i].short_name && arg[1] &&
				arg[2] == '\0';
		bool is_long = strncmp(arg, "--", 2) == 0 && n - 2 == strlen(l) &&
			       strncmp(arg + 2, l, n - 2) == 0;

		if (is_short || is_long)
			return cli_usage_error(cmd,
					       "'%.*s' is a global option: put it before the "
					       "command: berth %.*s%s%s %s ...",
					       (int)n, arg, (int)n, arg, a ? " " : "", a ? a : "",
					       cmd);
	}
	return cli_usage_error(cmd, "unknown option '%s'", arg);
}

static void cli_usage(FILE *out)
{
	fprintf(out, "Usage: berth [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
		     "Run one worker of a Platform.sh-style app in its own box.\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strlen(commands[i].synopsis) > 22)
			fprintf(out, "  %s\n  %-22s %s\n", commands[i].synopsis, "",
				commands[i].summary);
		else
			fprintf(out, "  %-22s %s\n", commands[i].synopsis, commands[i].summary);
	}
	fprintf(out, "\n%s\n%s", global_help, exit_help);
}

void cli_command_help(const struct cli_command *cmd, FILE *out)
{
	const char *help = cmd->help;

	fprintf(out, "Usage: berth [GLOBAL OPTIONS] %s\n\n%s.\n", cmd->synopsis, cmd->summary);
	if (cmd->details && *cmd->details)
		fprintf(out, "\n%s", cmd->details);
	fprintf(out, "\nOptions:\n%s", help ? help : "");
	fprintf(out, "  -h, --help                show this help\n\nExit status:\n%s", cmd->exits);
}

const struct cli_command *cli_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* getopt_long()'s value of global_opts[i]: its short name, else above
 * every short name. */
static int global_val(size_t i)
{
	return global_opts[i].short_name ? global_opts[i].short_name : 256 + (int)i;
}

/* The getopt_long() table of global_opts, with --help. */
static void global_getopt_table(struct option *out)
{
	for (size_t i = 0; i < N_GLOBAL; i++)
		out[i] = (struct option){global_opts[i].long_name,
					 global_opts[i].arg ? required_argument : no_argument, NULL,
					 global_val(i)};
	out[N_GLOBAL] = (struct option){"help", no_argument, NULL, 'h'};
	out[N_GLOBAL + 1] = (struct option){0};
}

/* The command line's global options up to the command name: each value
 * into vals[i], -v and -q into g.  CMD_CONTINUE, or the exit status
 * (--help, --version, a usage error). */
static int global_argv(int argc, char **argv, const char **vals, struct cli_global *g)
{
	struct option opts[N_GLOBAL + 2];
	int c;

	global_getopt_table(opts);
	optind = 1;
	opterr = 0;
	/* '+': stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+:f:C:vqhV", opts, NULL)) != -1) {
		size_t i = 0;

		if (c == 'h') {
			cli_usage(stdout);
			return BERTH_EXIT_OK;
		}
		if (c == 'V') {
			printf("berth %s\n", PACKAGE_VERSION);
			return BERTH_EXIT_OK;
		}
		if (c == ':')
			return cli_usage_error(NULL, "option '%s' needs a value", argv[optind - 1]);
		if (c == 'v' || c == 'q') {
			g->log_level = c == 'v' ? LOG_LVL_DEBUG : LOG_LVL_WARN;
			continue;
		}
		while (i < N_GLOBAL && global_val(i) != c)
			i++;
		if (i == N_GLOBAL)
			return cli_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
		vals[i] = optarg;
	}
	return CMD_CONTINUE;
}

/* The twins of the options not given, into g's fields; the defaults of
 * the app directory ($PLATFORM_APP_DIR) and the state directory. */
static void global_twins(const char **vals, struct cli_global *g)
{
	for (size_t i = 0; i < N_GLOBAL; i++) {
		if (global_opts[i].env)
			vals[i] = cli_env_default(vals[i], global_opts[i].env);
		if (global_opts[i].off != NO_FIELD)
			*(const char **)(void *)((char *)g + global_opts[i].off) = vals[i];
	}
	g->app_dir = cli_env_default(g->app_dir, "PLATFORM_APP_DIR");
	if (!g->state_dir)
		g->state_dir = BERTH_STATE_DIR;
}

/* --log-format (or its twin), and BERTH_LOG_LEVEL unless -v or -q.
 * CMD_CONTINUE, or the exit status of the usage error. */
static int global_logging(const char *log_format, struct cli_global *g)
{
	static const char *const names[] = {"debug", "info", "warning", "error"};
	static const enum log_level levels[] = {LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN,
						LOG_LVL_ERROR};
	const char *level = cli_env_default(NULL, "BERTH_LOG_LEVEL");
	size_t i = 0;

	if (log_format && log_parse_format(log_format, &g->log_format) < 0)
		return cli_usage_error(NULL, "--log-format must be 'text' or 'json', not '%s'",
				       log_format);
	if (!level)
		return CMD_CONTINUE;
	while (i < ARRAY_SIZE(names) && strcmp(level, names[i]) != 0)
		i++;
	if (i == ARRAY_SIZE(names))
		return cli_usage_error(NULL,
				       "BERTH_LOG_LEVEL must be debug, info, warning or error, "
				       "not '%s'",
				       level);
	if (g->log_level == LOG_LVL_INFO) /* -v and -q win over the environment */
		g->log_level = levels[i];
	return CMD_CONTINUE;
}

int cli_parse_global(int argc, char **argv, struct cli_global *g, const struct cli_command **cmd,
		     int *argi)
{
	const char *vals[N_GLOBAL] = {NULL};
	int r;

	*g = (struct cli_global){.log_format = LOG_FMT_TEXT, .log_level = LOG_LVL_INFO};
	r = global_argv(argc, argv, vals, g);
	if (r != CMD_CONTINUE)
		return r;
	global_twins(vals, g);
	r = global_logging(vals[OPT_LOG_FORMAT], g);
	if (r != CMD_CONTINUE)
		return r;
	if (optind >= argc) {
		cli_usage(stderr);
		return BERTH_EXIT_USAGE;
	}
	*cmd = cli_find(argv[optind]);
	if (!*cmd)
		return cli_usage_error(NULL, "unknown command '%s'", argv[optind]);
	*argi = optind;
	return CMD_CONTINUE;
}
