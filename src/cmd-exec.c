/* SPDX-License-Identifier: MIT */
/*
 * `berth exec WORKER -- COMMAND...`: run a command in the worker's view for
 * debugging, like `platform ssh --worker`: the same mounts (joining the
 * storage of a running `berth run` of the instance), environment, user and
 * working directory, under the same stop rules as the worker, once.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "commands.h"
#include "context.h"
#include "exitcodes.h"
#include "filter.h"
#include "instance.h"
#include "landlock.h"
#include "nsinit.h"
#include "run-options.h"
#include "run.h"
#include "util.h"
#include "view.h"

const char cmd_exec_help_text[] =
	"  --storage-root DIR       where instance storage lives (default: <state\n"
	"                           dir>/storage) [BERTH_STORAGE_ROOT]\n"
	"  --require-disk-quota     refuse to run when `disk` cannot be enforced\n"
	"                           [BERTH_REQUIRE_DISK_QUOTA=1]\n"
	"  --user USER[:GROUP]      the worker's user (default web, else nobody)\n"
	"                           [BERTH_USER]\n"
	"  --stop-timeout DUR       stop signal -> SIGKILL (default 15s)\n"
	"                           [BERTH_STOP_TIMEOUT]\n"
	"  --no-cgroup              no cgroup of its own [BERTH_NO_CGROUP=1]\n"
	"  --pass-env NAME          also pass NAME from berth's environment\n"
	"  --tmp-size SIZE          the command's /tmp, a tmpfs of its own (default\n"
	"                           1G) [BERTH_TMP_SIZE]\n"
	"  --ro-bind PATH           also show the host's PATH read-only at the same\n"
	"                           path (repeatable) [BERTH_RO_BIND=PATH:PATH]\n";

const char cmd_exec_details[] =
	"The command runs once, with berth's stdin, in the worker's mount view\n"
	"(while `berth run` holds the instance: its disk; /tmp is the command's\n"
	"own, empty), as its user, in the app root, after ./.environment; berth\n"
	"exits with its status.  It does not join the running worker's network\n"
	"namespace; its PID, IPC and UTS namespaces are its own, with the\n"
	"worker's hostname.\n";

enum {
	OPT_STORAGE_ROOT = 256,
	OPT_REQUIRE_QUOTA,
	OPT_USER,
	OPT_STOP_TIMEOUT,
	OPT_NO_CGROUP,
	OPT_PASS_ENV,
	OPT_TMP_SIZE,
	OPT_RO_BIND
};

static const struct option exec_options[] = {
	{"storage-root", required_argument, NULL, OPT_STORAGE_ROOT},
	{"require-disk-quota", no_argument, NULL, OPT_REQUIRE_QUOTA},
	{"user", required_argument, NULL, OPT_USER},
	{"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
	{"no-cgroup", no_argument, NULL, OPT_NO_CGROUP},
	{"pass-env", required_argument, NULL, OPT_PASS_ENV},
	{"tmp-size", required_argument, NULL, OPT_TMP_SIZE},
	{"ro-bind", required_argument, NULL, OPT_RO_BIND},
	{"help", no_argument, NULL, 'h'},
	{0},
};

/* "exec 'a' 'b'\''c'": the command as one sh script, every word quoted. */
static char *exec_script(char **argv)
{
	struct strbuf sb = {0};

	strbuf_puts(&sb, "exec");
	for (; *argv; argv++) {
		strbuf_puts(&sb, " '");
		for (const char *p = *argv; *p; p++)
			if (*p == '\'')
				strbuf_puts(&sb, "'\\''");
			else
				strbuf_putc(&sb, *p);
		strbuf_putc(&sb, '\'');
	}
	return strbuf_detach(&sb);
}

struct exec_cli {
	struct view_opts vo;
	const char *user;
	struct run_opts o;
	char **pass;
	size_t npass;
	char **ro_binds;
	size_t n_ro_binds;
	int worker_arg;
};

/* One of exec's options (cmd: its name, for the usage error).
 * CMD_CONTINUE, or the exit status of the usage error. */
static int exec_option(struct exec_cli *c, int opt, const char *arg, const char *cmd)
{
	uint64_t ms;

	switch (opt) {
	case OPT_STORAGE_ROOT:
		if (arg[0] != '/')
			return cli_usage_error(cmd, "--storage-root must be absolute");
		c->vo.storage_root = arg;
		break;
	case OPT_REQUIRE_QUOTA:
		c->vo.require_quota = true;
		break;
	case OPT_USER:
		c->user = arg;
		break;
	case OPT_STOP_TIMEOUT:
		if (parse_duration_ms(arg, &ms) < 0 || ms > RUN_MAX_DURATION_MS)
			return cli_usage_error(cmd, "--stop-timeout: '%s' is not a duration", arg);
		c->o.policy.stop_timeout_ms = ms;
		break;
	case OPT_NO_CGROUP:
		c->o.no_cgroup = true;
		break;
	case OPT_PASS_ENV:
		commands_pass_env_add(&c->pass, &c->npass, arg);
		break;
	case OPT_TMP_SIZE:
		if (view_parse_tmp_size(arg, &c->vo.tmp_size) < 0)
			return cli_usage_error(cmd,
					       "--tmp-size: '%s' is not a size of at least 1M "
					       "(e.g. 512M, 2G)",
					       arg);
		break;
	case OPT_RO_BIND:
		if (view_ro_bind_add(&c->ro_binds, &c->n_ro_binds, arg, false) < 0)
			return cli_usage_error(cmd,
					       "--ro-bind: '%s' is not an absolute path without "
					       ". or .. components",
					       arg);
		break;
	}
	return CMD_CONTINUE;
}

/* The environment twins of the options not given.  CMD_CONTINUE, or the
 * exit status of the usage error. */
static int exec_twins(struct exec_cli *c, const char *cmd)
{
	const char *e;

	if (!c->vo.tmp_size && (e = cli_env_default(NULL, "BERTH_TMP_SIZE")) &&
	    view_parse_tmp_size(e, &c->vo.tmp_size) < 0)
		return cli_usage_error(cmd, "BERTH_TMP_SIZE: '%s' is not a size of at least 1M", e);
	if (!c->n_ro_binds && (e = cli_env_default(NULL, "BERTH_RO_BIND")) &&
	    view_ro_bind_add(&c->ro_binds, &c->n_ro_binds, e, true) < 0)
		return cli_usage_error(cmd,
				       "BERTH_RO_BIND: '%s' is not a list of absolute paths "
				       "(PATH:PATH) without . or .. components",
				       e);
	c->vo.ro_binds = (const char *const *)c->ro_binds;
	c->vo.storage_root = cli_env_default(c->vo.storage_root, "BERTH_STORAGE_ROOT");
	if ((e = getenv("BERTH_REQUIRE_DISK_QUOTA")) && strcmp(e, "1") == 0)
		c->vo.require_quota = true;
	c->user = cli_env_default(c->user, "BERTH_USER");
	if ((e = getenv("BERTH_NO_CGROUP")) && strcmp(e, "1") == 0)
		c->o.no_cgroup = true;
	if (!c->npass && (e = getenv("BERTH_PASS_ENV")))
		commands_pass_env_add(&c->pass, &c->npass, e);
	return CMD_CONTINUE;
}

/* exec's options, their twins, then WORKER [--] COMMAND...: the worker's
 * index in c->worker_arg, the command's in optind.  CMD_CONTINUE, or an
 * exit status (BERTH_EXIT_OK after --help). */
static int exec_parse(int argc, char **argv, struct exec_cli *c)
{
	int opt, r;

	optind = 0; /* 0, not 1: glibc then forgets the global parse */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:h", exec_options, NULL)) != -1) {
		if (opt == 'h') {
			cli_command_help(cli_find(argv[0]), stdout);
			return BERTH_EXIT_OK;
		}
		if (opt == ':')
			return cli_usage_error(argv[0], "option '%s' needs a value",
					       argv[optind - 1]);
		if (opt == '?')
			return cli_unknown_option(argv[0], argv[optind - 1]);
		r = exec_option(c, opt, optarg, argv[0]);
		if (r != CMD_CONTINUE)
			return r;
	}
	r = exec_twins(c, argv[0]);
	if (r != CMD_CONTINUE)
		return r;
	if (optind >= argc)
		return cli_usage_error(argv[0], "expected a worker name and a command");
	c->worker_arg = optind++;
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind >= argc)
		return cli_usage_error(argv[0], "expected a command after the worker name");
	return CMD_CONTINUE;
}

/* Everything between loading the worker and running the command. */
static int exec_worker(const struct cli_global *g, struct exec_cli *c, const struct app *app,
		       const struct worker *w, char **cmd)
{
	struct context_options co = {
		.file = g->context, .state_dir = g->state_dir, .app_dir = w->app_dir};
	struct context ctx = {0};
	struct caps_user u = {0};
	struct caps_plan cp = {0};
	struct filter_prog fp = {0};
	struct filter_opts fo = {0};
	struct landlock_plan lp = {.fd = -1};
	struct view v;
	struct instance inst = {.fd = -1, .dir_fd = -1};
	char **envp = NULL, *script = NULL, *hostname = NULL;
	const char *msg = NULL;
	int r = BERTH_EXIT_SETUP;

	if (c->user ? caps_user_parse(c->user, &u, &msg) < 0 : caps_user_default(&u) < 0) {
		if (msg)
			return cli_usage_error("exec", "--user: %s", msg);
		return BERTH_EXIT_SETUP;
	}
	if (context_load(&co, &ctx) < 0)
		goto out;
	/* The record only when no berth run holds the instance (joined: 1). */
	if (commands_instance_open(w, ctx.project, ctx.environment, true, &inst) > 1)
		goto out;
	if (commands_worker_env_user(g, app, w, c->pass, c->user, false, &envp) != 0)
		goto out;
	c->vo.state_dir = g->state_dir;
	c->vo.project = ctx.project;
	c->vo.environment = ctx.environment;
	c->vo.uid = u.uid;
	c->vo.gid = u.gid;
	c->vo.attach = true;
	if (caps_plan_init(&u, &cp) < 0 || filter_compile(&fo, &fp) < 0 ||
	    landlock_prepare(&lp, false) < 0)
		goto out;
	if (view_open(w, &c->vo, &v) < 0)
		goto out;
	if (instance_record_disk(&inst, &v.st) < 0) {
		view_close(&v);
		goto out;
	}
	/* mounts first (root, own namespace), then the user, the Landlock
	 * domain (after no_new_privs; a no-op without Landlock), seccomp last */
	struct exec_step steps[] = {
		view_step(&v),
		{.name = "user", .run = caps_step, .data = &cp},
		{.name = "the Landlock domain", .run = landlock_step, .data = &lp},
		{.name = "seccomp", .run = filter_step, .data = &fp},
	};
	script = exec_script(cmd);
	c->o.worker = w->name;
	c->o.app_dir = w->app_dir;
	c->o.start = script;
	c->o.envp = envp;
	c->o.stdin_fd = STDIN_FILENO;
	c->o.policy.max_restarts = 0;
	c->o.steps = steps;
	c->o.n_steps = ARRAY_SIZE(steps);
	/* PID, IPC and UTS namespaces of its own (not the running worker's),
	 * with the worker's hostname */
	hostname = nsinit_hostname(w->app_name, w->name);
	c->o.hostname = hostname;
	c->o.cgroups_hook = instance_cgroups_hook;
	c->o.cgroups_data = &inst;
	r = run_worker(&c->o);
	view_close(&v);
out:
	instance_close(&inst); /* after the cgroups and the disk */
	free(hostname);
	free(script);
	landlock_release(&lp);
	filter_prog_free(&fp);
	caps_plan_free(&cp);
	caps_user_free(&u);
	strv_free(envp);
	context_free(&ctx);
	return r;
}

int cmd_exec(const struct cli_global *g, int argc, char **argv)
{
	struct exec_cli c = {0};
	struct app app;
	struct worker w;
	int r;

	run_opts_init(&c.o);
	r = exec_parse(argc, argv, &c);
	if (r != CMD_CONTINUE)
		goto out;
	log_setup(g->log_format, g->log_level, argv[c.worker_arg]);
	if (geteuid() != 0) {
		log_error("berth exec builds the worker's box as root (mounts, namespaces, user "
			  "switch); run it as root");
		r = BERTH_EXIT_SETUP;
		goto out;
	}
	r = commands_load_worker(g, argv[c.worker_arg], &app, &w);
	if (r)
		goto out;
	r = exec_worker(g, &c, &app, &w, argv + optind);
	worker_free(&w);
	app_free(&app);
out:
	strv_free(c.pass);
	strv_free(c.ro_binds);
	return r;
}
