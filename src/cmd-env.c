/* SPDX-License-Identifier: MIT */
/* `berth env`: the environment the worker would get (prepare.h builds
 * it), and the --pass-env lists of the commands. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "env.h"
#include "exitcodes.h"
#include "log.h"

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

/* What `berth env` takes from its command line and environment. */
enum { OPT_FORMAT = 256, OPT_DECODE, OPT_PASS_ENV };

struct env_cli {
	enum env_format fmt;
	bool decode;
	char **pass;
	size_t npass;
	int worker_arg;
};

static int env_option(void *data, int opt, const char *arg)
{
	struct env_cli *ec = data;

	switch (opt) {
	case OPT_FORMAT:
		if (env_parse_format(arg, &ec->fmt) < 0)
			return cli_usage_error(
				"env", "--format must be shell, json or null, not '%s'", arg);
		break;
	case OPT_DECODE:
		ec->decode = true;
		break;
	case OPT_PASS_ENV:
		commands_pass_env_add(&ec->pass, &ec->npass, arg);
		break;
	}
	return CMD_CONTINUE;
}

static int env_parse(int argc, char **argv, struct env_cli *ec)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, OPT_FORMAT},
		{"decode", no_argument, NULL, OPT_DECODE},
		{"pass-env", required_argument, NULL, OPT_PASS_ENV},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int r = cli_getopt(argc, argv, ":h", opts, env_option, ec);

	if (r != CMD_CONTINUE)
		return r;
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
	struct prep p = {0};
	int r = env_parse(argc, argv, &ec);

	if (r == CMD_CONTINUE) {
		/* what the worker gets, byte for byte: the project and entropy
		 * a run will use, made now when there are none yet */
		const char *user = getenv("BERTH_USER");
		struct prep_needs n = {.worker = argv[ec.worker_arg],
				       .env = true,
				       .pass_env = ec.pass,
				       .user = user && *user ? user : NULL};

		r = prepare(g, &n, &p);
	}
	if (r == CMD_CONTINUE)
		r = env_print(stdout, p.envp, ec.fmt, ec.decode) < 0 ? BERTH_EXIT_FAILURE
								     : BERTH_EXIT_OK;
	prep_free(&p);
	strv_free(ec.pass);
	return r;
}
