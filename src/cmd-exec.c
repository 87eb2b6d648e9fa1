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
#include "startcmd.h"
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
	"                           [BERTH_PASS_ENV=NAME,NAME]\n"
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

/* "exec a 'b c' 'it'\''s'": the command as one sh script, each word quoted
 * unless the shell takes it literally, so that a plain command runs
 * without the shell (startcmd). */
static char *exec_script(char **argv)
{
	struct strbuf sb = {0};

	strbuf_puts(&sb, "exec");
	for (; *argv; argv++) {
		if (startcmd_word_plain(*argv)) {
			strbuf_printf(&sb, " %s", *argv);
			continue;
		}
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

/* exec's options are run's of the same names (run-options.h). */
struct exec_cli {
	struct run_cli rc;
	int worker_arg;
};

/* exec's options, their twins, then WORKER [--] COMMAND...: the worker's
 * index in c->worker_arg, the command's in optind.  CMD_CONTINUE, or an
 * exit status (BERTH_EXIT_OK after --help). */
static int exec_parse(int argc, char **argv, struct exec_cli *c)
{
	/* "+": the options end at WORKER, the command's are its own */
	const struct cli_own own = {.shortopts = "+:h"};
	int r = run_cli_parse_shared(CLI_EXEC, argc, argv, &own, &c->rc);

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
	struct sandbox_opts so = {.user = c->rc.so.user};
	struct boxplan_request rq = prep_box_request(g, p);

	rq.no_cgroup = c->rc.o.no_cgroup;
	rq.no_limits = true;
	rq.no_network = true;
	rq.view = c->rc.vo;
	rq.view.tmp_size = c->rc.tmp_size;
	rq.view.ro_binds = (const char *const *)c->rc.ro_binds;
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
		struct run_opts *o = &c->rc.o;

		script = exec_script(cmd);
		o->worker = p->w.name;
		o->app_dir = p->w.app_dir;
		o->start = script;
		o->envp = p->envp;
		o->stdin_fd = STDIN_FILENO;
		o->policy.max_restarts = 0;
		o->steps = box.steps;
		o->n_steps = box.n_steps;
		o->ready_hook = boxplan_ready;	   /* --network=none's namespace */
		o->spawned_hook = boxplan_spawned; /* ...and its ruleset */
		o->ready_data = &box;
		/* PID, IPC and UTS namespaces of its own (not the running
		 * worker's), with the worker's hostname */
		o->hostname = bp.hostname;
		o->cgroups_hook = instance_cgroups_hook;
		o->cgroups_data = &inst;
		r = run_worker(o);
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

	run_opts_init(&c.rc.o);
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
	struct prep_needs n = {.worker = argv[c.worker_arg],
			       .env = true,
			       .pass_env = c.rc.pass,
			       .user = c.rc.so.user};
	r = prepare(g, &n, &p);
	if (r == CMD_CONTINUE)
		r = exec_act(g, &c, &p, argv + optind);
	prep_free(&p);
out:
	strv_free(c.rc.pass);
	strv_free(c.rc.ro_binds);
	sandbox_opts_free(&c.rc.so);
	return r;
}
