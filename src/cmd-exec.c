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

#include "boxplan.h"
#include "cleanup.h"
#include "commands.h"
#include "exitcodes.h"
#include "instance.h"
#include "run-options.h"
#include "run.h"
#include "util.h"

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
	bool stop_timeout_set; /* --stop-timeout given: its twin is not read */
	int worker_arg;
};

/* One of exec's options (cmd: its name, for the usage error).
 * CMD_CONTINUE, or the exit status of the usage error. */
static int exec_option(void *data, int opt, const char *arg)
{
	struct exec_cli *c = data;
	const char *cmd = "exec";
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
		if (parse_duration_ms(arg, &ms) < 0 || ms > SUPERVISE_MAX_DURATION_MS)
			return cli_usage_error(cmd, "--stop-timeout: '%s' is not a duration", arg);
		c->o.policy.stop_timeout_ms = ms;
		c->stop_timeout_set = true;
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
	uint64_t ms;

	if (!c->stop_timeout_set && (e = cli_env_default(NULL, "BERTH_STOP_TIMEOUT"))) {
		if (parse_duration_ms(e, &ms) < 0 || ms > SUPERVISE_MAX_DURATION_MS)
			return cli_usage_error(cmd, "BERTH_STOP_TIMEOUT: '%s' is not a duration",
					       e);
		c->o.policy.stop_timeout_ms = ms;
	}

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
	int r = cli_getopt(argc, argv, "+:h", exec_options, exec_option, c);

	if (r != CMD_CONTINUE)
		return r;
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

/* exec's box plan: the worker's view, joining the storage of a running
 * berth (attach), its user, Landlock domain and filter; berth's own
 * network; a cgroup without limits (a one-off command). */
static int exec_boxplan(const struct cli_global *g, const struct exec_cli *c, const struct prep *p,
			struct boxplan *bp)
{
	struct sandbox_opts so = {.user = c->user};
	struct boxplan_request rq = prep_box_request(g, p);

	rq.no_cgroup = c->o.no_cgroup;
	rq.no_limits = true;
	rq.no_network = true;
	rq.view = c->vo;
	rq.view.attach = true;
	rq.sandbox = &so;
	return boxplan_build(&rq, bp) < 0 ? BERTH_EXIT_SETUP : CMD_CONTINUE;
}

/* Open the box (the record taken only when no berth run holds the
 * instance), run the command once, close everything in reverse. */
static int exec_act(const struct cli_global *g, struct exec_cli *c, const struct prep *p,
		    char **cmd)
{
	struct instance inst = {.fd = -1, .dir_fd = -1};
	struct box box = {0};
	struct boxplan bp;
	_cleanup_free_ char *script = NULL;
	bool joined;
	int r = exec_boxplan(g, c, p, &bp);

	if (r != CMD_CONTINUE)
		return r;
	r = commands_instance_open(p, true, &inst, &joined);
	if (r == CMD_CONTINUE &&
	    (boxplan_open(&bp, &box) < 0 || instance_record_disk(&inst, &box.view.st) < 0))
		r = BERTH_EXIT_SETUP;
	if (r == CMD_CONTINUE) {
		script = exec_script(cmd);
		c->o.worker = p->w.name;
		c->o.app_dir = p->w.app_dir;
		c->o.start = script;
		c->o.envp = p->envp;
		c->o.stdin_fd = STDIN_FILENO;
		c->o.policy.max_restarts = 0;
		c->o.steps = box.steps;
		c->o.n_steps = box.n_steps;
		c->o.ready_hook = boxplan_ready;     /* --network=none's namespace */
		c->o.spawned_hook = boxplan_spawned; /* ...and its ruleset */
		c->o.ready_data = &box;
		/* PID, IPC and UTS namespaces of its own (not the running
		 * worker's), with the worker's hostname */
		c->o.hostname = bp.hostname;
		c->o.cgroups_hook = instance_cgroups_hook;
		c->o.cgroups_data = &inst;
		c->o.objects_at_start = g->objects_at_start;
		r = run_worker(&c->o);
	}
	boxplan_close(&box);
	instance_close(&inst); /* after the cgroups and the disk */
	boxplan_free(&bp);
	return r;
}

int cmd_exec(const struct cli_global *g, int argc, char **argv)
{
	struct exec_cli c = {0};
	struct prep p = {0};
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
	struct prep_needs n = {
		.worker = argv[c.worker_arg], .env = true, .pass_env = c.pass, .user = c.user};
	r = prepare(g, &n, &p);
	if (r == CMD_CONTINUE)
		r = exec_act(g, &c, &p, argv + optind);
	prep_free(&p);
out:
	strv_free(c.pass);
	strv_free(c.ro_binds);
	return r;
}
