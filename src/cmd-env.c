/* SPDX-License-Identifier: MIT */
/* `berth env`: the environment the worker would get, and the helper that
 * builds it for the other commands. */
#include "config.h"

#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "commands.h"
#include "env.h"
#include "exitcodes.h"
#include "log.h"

extern char **environ;

void commands_pass_env_add(char ***names, size_t *n, const char *list)
{
	/* "A,B" (from BERTH_PASS_ENV) or a single name (from --pass-env). */
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");
		if (len) {
			*names = xrealloc(*names, (*n + 2) * sizeof(char *));
			(*names)[(*n)++] = xstrndup(p, len);
			(*names)[*n] = NULL;
		}
		p += len;
		if (*p == ',')
			p++;
	}
}

/* The passwd name of the worker's user (a uid without one as its number):
 * the lookup needs no privilege, so env and show print what run sets. */
static int worker_user_name(const char *spec, bool self, char **out)
{
	struct caps_user u = {0};
	const char *msg = NULL;
	int r;

	if (self) {
		struct passwd *pw = getpwuid(geteuid());

		*out = pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned)geteuid());
		return 0;
	}
	if (!spec) {
		/* caps_user_default()'s choice, without its log line: run
		 * says it when it switches */
		*out = xstrdup(getpwnam(CAPS_DEFAULT_USER)    ? CAPS_DEFAULT_USER
			       : getpwnam(CAPS_FALLBACK_USER) ? CAPS_FALLBACK_USER
							      : CAPS_FALLBACK_ID);
		return 0;
	}
	r = caps_user_parse(spec, &u, &msg);
	if (r < 0) {
		if (msg)
			log_error("user %s: %s", spec, msg);
		return r;
	}
	*out = u.name ? xstrdup(u.name) : xasprintf("%u", (unsigned)u.uid);
	caps_user_free(&u);
	return 0;
}

static int worker_env(const struct cli_global *g, const struct app *app, const struct worker *w,
		      char *const *pass_env, const char *user, bool self, bool read_only,
		      char ***envp)
{
	bool state_failed = false;
	struct env_options eo = {.pass_env = pass_env,
				 .environ = environ,
				 .read_only_state = read_only,
				 .state_failed = &state_failed};
	_cleanup_free_ char *name = NULL;

	if (worker_user_name(user, self, &name) < 0)
		return BERTH_EXIT_USAGE;
	eo.user = name;
	if (env_for_worker(app, w, g->context, g->state_dir, &eo, envp) < 0)
		return state_failed ? BERTH_EXIT_SETUP : BERTH_EXIT_USAGE;
	return 0;
}

int commands_worker_env_user(const struct cli_global *g, const struct app *app,
			     const struct worker *w, char *const *pass_env, const char *user,
			     bool self, char ***envp)
{
	return worker_env(g, app, w, pass_env, user, self, false, envp);
}

int commands_worker_env(const struct cli_global *g, const struct app *app, const struct worker *w,
			char *const *pass_env, char ***envp)
{
	const char *user = getenv("BERTH_USER");

	/* show only reads: the state is created by what runs or prints the
	 * worker's environment */
	return worker_env(g, app, w, pass_env, user && *user ? user : NULL, false, true, envp);
}

/* What `env` takes from its command line and environment. */
struct env_cli {
	enum env_format fmt;
	bool decode;
	char **pass;
	size_t npass;
	int worker_arg;
};

/* env's options, the worker's name, BERTH_PASS_ENV.  CMD_CONTINUE, or an
 * exit status (BERTH_EXIT_OK after --help). */
static int env_parse(int argc, char **argv, struct env_cli *ec)
{
	enum { OPT_FORMAT = 256, OPT_DECODE, OPT_PASS_ENV };
	static const struct option opts[] = {
		{"format", required_argument, NULL, OPT_FORMAT},
		{"decode", no_argument, NULL, OPT_DECODE},
		{"pass-env", required_argument, NULL, OPT_PASS_ENV},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	optind = 0; /* 0, not 1: glibc then forgets the global parse */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if (env_parse_format(optarg, &ec->fmt) < 0)
				return cli_usage_error(argv[0],
						       "--format must be shell, json or null, "
						       "not '%s'",
						       optarg);
			break;
		case OPT_DECODE:
			ec->decode = true;
			break;
		case OPT_PASS_ENV:
			commands_pass_env_add(&ec->pass, &ec->npass, optarg);
			break;
		case 'h':
			cli_command_help(cli_find(argv[0]), stdout);
			return BERTH_EXIT_OK;
		case ':':
			return cli_usage_error(argv[0], "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return cli_unknown_option(argv[0], argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(argv[0], "expected one worker name, got %d", argc - optind);
	if (argc - optind != 1)
		return cli_usage_error(argv[0], "expected a worker name");
	if (!ec->npass && getenv("BERTH_PASS_ENV"))
		commands_pass_env_add(&ec->pass, &ec->npass, getenv("BERTH_PASS_ENV"));
	ec->worker_arg = optind;
	return CMD_CONTINUE;
}

int cmd_env(const struct cli_global *g, int argc, char **argv)
{
	struct env_cli ec = {.fmt = ENV_FORMAT_SHELL};
	char **envp = NULL;
	struct app app;
	struct worker w;
	int r = env_parse(argc, argv, &ec);

	if (r != CMD_CONTINUE)
		goto out;
	r = commands_load_worker(g, argv[ec.worker_arg], &app, &w);
	if (r)
		goto out;
	/* what the worker gets, byte for byte: the project and entropy a
	 * run will use, made now when there are none yet */
	r = worker_env(g, &app, &w, ec.pass, cli_env_default(NULL, "BERTH_USER"), false, false,
		       &envp);
	if (r == 0 && env_print(stdout, envp, ec.fmt, ec.decode) < 0)
		r = BERTH_EXIT_FAILURE;
	strv_free(envp);
	worker_free(&w);
	app_free(&app);
out:
	strv_free(ec.pass);
	return r;
}
