/* SPDX-License-Identifier: MIT */
/*
 * `berth run`: parse (run-options.h), prepare (prepare.h), plan and open
 * the box (boxplan.h) and hand everything to run_worker().  In pod mode
 * the engine's box is checked instead (podcheck.h).  Also provides the
 * plan `berth show` prints.
 */
#include "config.h"

#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "boxplan.h"
#include "cleanup.h"
#include "commands.h"
#include "exitcodes.h"
#include "instance.h"
#include "podcheck.h"
#include "prepare.h"
#include "run.h"
#include "run-options.h"
#include "signals.h"

/* The box plan of run's options (and of show's, which prints it). */
static int run_boxplan(const struct cli_global *g, const struct run_cli *rc, const struct prep *p,
		       struct boxplan *bp)
{
	struct boxplan_request rq = prep_box_request(g, p);

	rq.limits = rc->lo;
	rq.no_cgroup = rc->o.no_cgroup;
	rq.unconfined = rc->unconfined || rc->pod; /* a pod's box is the engine's */
	rq.pid1 = getpid() == 1;
	rq.view = rc->vo;
	rq.sandbox = &rc->so;
	rq.view.tmp_size = rc->tmp_size;
	rq.view.ro_binds = (const char *const *)rc->ro_binds;
	return boxplan_build(&rq, bp) < 0 ? BERTH_EXIT_SETUP : CMD_CONTINUE;
}

int cmd_run_plan(const struct cli_global *g, const struct prep *p, json_t **out)
{
	struct run_cli rc = {0};
	struct boxplan bp;
	int r;

	run_opts_init(&rc.o);
	r = run_env_twins_apply(&rc, NULL);
	if (r == CMD_CONTINUE)
		r = run_boxplan(g, &rc, p, &bp);
	if (r == CMD_CONTINUE) {
		rc.o.start = p->w.start; /* what run_describe() shows */
		rc.o.pre_start = p->w.pre_start;
		*out = run_describe(&rc.o);
		if (boxplan_describe(&bp, *out) < 0) {
			json_decref(*out);
			*out = NULL;
			r = BERTH_EXIT_SETUP;
		}
		boxplan_free(&bp);
	}
	sandbox_opts_free(&rc.so);
	strv_free(rc.ro_binds);
	return r;
}

/* Open the box the plan says (none with --unconfined) and record its disk
 * in the instance record.  CMD_CONTINUE or an exit status. */
static int run_box_open(struct boxplan *bp, struct box *box, struct instance *inst)
{
	if (bp->no_cgroup)
		log_warn("--no-cgroup: no limits (size %s), and processes that leave berth's "
			 "process tree cannot be stopped",
			 size_to_string(bp->w->size));
	if (bp->unconfined) {
		log_warn("--unconfined: the worker runs without its box: no mount view, network "
			 "namespace, user switch, Landlock domain or syscall filter");
		return CMD_CONTINUE;
	}
	if (geteuid() != 0) {
		log_error("berth run builds the worker's box as root (mounts, network namespace, "
			  "user switch); run it as root, or with --unconfined to run the worker "
			  "without a box (debugging only)");
		return BERTH_EXIT_SETUP;
	}
	if (boxplan_open(bp, box) < 0 || instance_record_disk(inst, &box->view.st) < 0)
		return BERTH_EXIT_SETUP;
	return CMD_CONTINUE;
}

/* Pod mode: the engine built the box (its cgroup, mounts, network,
 * user); berth checks what it can see of it against the plan's limits
 * and creates nothing: no instance record, cgroup or box of its own. */
static int run_pod(struct run_cli *rc, struct boxplan *bp)
{
	if (podcheck_run(&bp->limits, rc->pod_waive, rc->o.policy.stop_timeout_ms) < 0)
		return BERTH_EXIT_SETUP;
	bp->no_cgroup = true;
	rc->o.no_cgroup = true;
	return CMD_CONTINUE;
}

/* run_worker()'s options from the preparation, the plan and the open box. */
static void run_opts_fill(struct run_opts *o, const struct cli_global *g, const struct prep *p,
			  const struct boxplan *bp, struct box *box, struct instance *inst)
{
	o->worker = p->w.name;
	o->app_dir = p->w.app_dir;
	o->start = p->w.start;
	o->pre_start = p->w.pre_start;
	o->envp = p->envp;
	o->limits = bp->no_cgroup ? NULL : &bp->limits;
	o->steps = box->steps;
	o->n_steps = box->n_steps;
	o->helpers = box->helpers; /* berth's children, not the worker's */
	o->n_helpers = box->n_helpers;
	if (!bp->unconfined) {
		/* before each restart: the firewall's domains resolved again */
		o->restart_hook = boxplan_restart;
		o->restart_data = box;
		o->ready_hook = boxplan_ready;	   /* --network=none's namespace */
		o->spawned_hook = boxplan_spawned; /* ...and its ruleset */
		o->ready_data = box;
		o->hostname = bp->hostname; /* PID, IPC and UTS namespaces */
		o->layout = &box->view.cgl; /* the view's cgroup layout */
	}
	o->cgroups_hook = instance_cgroups_hook;
	o->cgroups_data = inst;
}

/* Plan the box, take the instance record (before anything is created: a
 * second berth of the instance is refused, what a killed one left is
 * removed), open the box, run, and close everything in reverse. */
static int run_act(const struct cli_global *g, struct run_cli *rc, const struct prep *p)
{
	struct instance inst = {.fd = -1, .dir_fd = -1};
	struct box box = {0};
	struct boxplan bp;
	bool joined;
	int r = run_boxplan(g, rc, p, &bp);

	if (r != CMD_CONTINUE)
		return r;
	if (rc->pod)
		r = run_pod(rc, &bp);
	else
		r = commands_instance_open(p, false, &inst, &joined);
	if (r == CMD_CONTINUE && !rc->pod)
		r = run_box_open(&bp, &box, &inst);
	if (r == CMD_CONTINUE) {
		run_opts_fill(&rc->o, g, p, &bp, &box, &inst);
		r = run_worker(&rc->o);
	}
	boxplan_close(&box);
	instance_close(&inst); /* after the cgroups and the disk */
	boxplan_free(&bp);
	return r;
}

/* Start the network early, because it is the long pole: the namespace,
 * loopback and libnftables of --network=none and private (a namespace
 * berth makes) need only the command line, so their helper is forked
 * before the config, context and user are loaded; it gets the ruleset
 * when the box is opened (net.h: net_early_start).
 * Not for a box that will not be built (--unconfined, pod, not root).
 * CMD_CONTINUE or an exit status. */
static int run_network_early(struct run_cli *rc, struct net_early *early)
{
	enum net_mode m = net_mode_effective(&rc->so.net, getpid() == 1);

	if (rc->unconfined || rc->pod || geteuid() != 0 || (m != NET_NONE && m != NET_PRIVATE))
		return CMD_CONTINUE;
	/* as sandbox_start() does before its first child */
	if (caps_set_undumpable() < 0 || net_early_start(early) < 0)
		return BERTH_EXIT_SETUP;
	rc->so.net.early = early;
	return CMD_CONTINUE;
}

int cmd_run(const struct cli_global *g, int argc, char **argv)
{
	struct net_early early = {.job = {.pid = -1}, .plan_fd = -1};
	struct run_cli rc = {0};
	struct prep p = {0};
	int wi = 0, r;

	run_opts_init(&rc.o);
	r = cmd_run_parse(argc, argv, &rc, &wi);
	if (r == CMD_CONTINUE) {
		struct prep_needs n = {.worker = argv[wi],
				       .env = true,
				       .pass_env = rc.pass,
				       .user = rc.so.user,
				       .self_user = rc.unconfined || rc.pod};

		log_setup(g->log_format, g->log_level, argv[wi]);
		log_stderr_nonblocking();
		r = run_network_early(&rc, &early);
		if (r == CMD_CONTINUE)
			r = prepare(g, &n, &p);
		if (r == CMD_CONTINUE) {
			r = run_act(g, &rc, &p);
			net_early_cancel(&early); /* unless the box took it */
			if (!FREE_BEFORE_EXIT)
				return r; /* main() exits now (cleanup.h) */
		}
	}
	net_early_cancel(&early); /* a failure before the box took it */
	prep_free(&p);
	strv_free(rc.pass);
	strv_free(rc.ro_binds);
	sandbox_opts_free(&rc.so);
	return r;
}
