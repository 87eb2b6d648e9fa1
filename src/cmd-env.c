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

int cmd_env(const struct cli_global *g, int argc, char **argv)
{
	enum { OPT_FORMAT = 256, OPT_DECODE, OPT_PASS_ENV };
	static const struct option opts[] = {
		{"format", required_argument, NULL, OPT_FORMAT},
		{"decode", no_argument, NULL, OPT_DECODE},
		{"pass-env", required_argument, NULL, OPT_PASS_ENV},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	enum env_format fmt = ENV_FORMAT_SHELL;
	struct prep_needs n = {.env = true};
	struct prep p = {0};
	char **pass = NULL;
	size_t npass = 0;
	bool decode = false;
	int c, r;

	optind = 0; /* 0, not 1: glibc then forgets the global parse */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if (env_parse_format(optarg, &fmt) < 0) {
				r = cli_usage_error(argv[0],
						    "--format must be shell, json or null, "
						    "not '%s'",
						    optarg);
				goto out;
			}
			break;
		case OPT_DECODE:
			decode = true;
			break;
		case OPT_PASS_ENV:
			commands_pass_env_add(&pass, &npass, optarg);
			break;
		case 'h':
			cli_command_help(cli_find(argv[0]), stdout);
			r = BERTH_EXIT_OK;
			goto out;
		case ':':
			r = cli_usage_error(argv[0], "option '%s' needs a value", argv[optind - 1]);
			goto out;
		default:
			r = cli_unknown_option(argv[0], argv[optind - 1]);
			goto out;
		}
	}
	if (argc - optind != 1) {
		r = argc - optind > 1 ? cli_usage_error(argv[0], "expected one worker name, got %d",
							argc - optind)
				      : cli_usage_error(argv[0], "expected a worker name");
		goto out;
	}
	if (!npass && getenv("BERTH_PASS_ENV"))
		commands_pass_env_add(&pass, &npass, getenv("BERTH_PASS_ENV"));
	/* what the worker gets, byte for byte: the project and entropy a
	 * run will use, made now when there are none yet */
	n.worker = argv[optind];
	n.pass_env = pass;
	n.user = getenv("BERTH_USER");
	if (n.user && !*n.user)
		n.user = NULL;
	r = prepare(g, &n, &p);
	if (r == CMD_CONTINUE)
		r = env_print(stdout, p.envp, fmt, decode) < 0 ? BERTH_EXIT_FAILURE : BERTH_EXIT_OK;
	prep_free(&p);
out:
	strv_free(pass);
	return r;
}
