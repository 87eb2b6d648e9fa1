/* SPDX-License-Identifier: MIT */
/*
 * `berth run`: its options parsed (run-options.c), build the worker's
 * environment and box and hand everything to run_worker().  Also
 * provides the run part of `berth show`.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "cleanup.h"
#include "commands.h"
#include "context.h"
#include "exitcodes.h"
#include "instance.h"
#include "nsinit.h"
#include "podcheck.h"
#include "relationships.h"
#include "sandbox.h"
#include "view.h"
#include "sizelimit.h"
#include "run.h"
#include "run-options.h"
#include "signals.h"

/* The view's options that depend on the others: /tmp's bound (the memory
 * limit when lower than the default), the --ro-bind paths. */
static void view_opts_finish(struct run_cli *rc)
{
	rc->vo.tmp_size =
		view_tmp_size(rc->tmp_size, rc->o.no_cgroup ? 0 : rc->limits.memory_bytes);
	rc->vo.ro_binds = (const char *const *)rc->ro_binds;
}

/* The context's auto_size, unless --auto-size was given.  -1 or an exit status. */
static int auto_size_from(struct run_cli *rc, const struct context *ctx)
{
	if (rc->lo.have_auto_size || !ctx->auto_size)
		return -1;
	if (size_parse(ctx->auto_size, &rc->lo.auto_size) < 0)
		return BERTH_EXIT_USAGE; /* context_parse checked it */
	rc->lo.have_auto_size = true;
	return -1;
}

int cmd_run_plan(const struct cli_global *g, const struct app *app, const struct worker *w,
		 json_t **out)
{
	struct context_options co = {.file = g->context,
				     .state_dir = g->state_dir,
				     .app_dir = w->app_dir,
				     .read_only = true}; /* show only reads */
	struct context ctx = {0};
	struct run_cli rc = {0};
	json_t *mounts = NULL, *box = NULL, *rels = NULL, *services = NULL;
	int r;

	run_opts_init(&rc.o);
	r = run_env_twins_apply(&rc, NULL);
	if (r >= 0)
		goto out;
	r = BERTH_EXIT_SETUP;
	if (context_load(&co, &ctx) < 0)
		goto out;
	r = auto_size_from(&rc, &ctx);
	if (r >= 0)
		goto out;
	r = BERTH_EXIT_SETUP;
	rc.vo.state_dir = g->state_dir;
	rc.vo.project = ctx.project;
	rc.vo.environment = ctx.environment;
	rc.vo.uid = (uid_t)-1;
	sizelimit_for_worker(w, &rc.lo, &rc.limits);
	view_opts_finish(&rc);
	if (!rc.unconfined) {
		if (relationships_build(app, w, &ctx, NULL, NULL, &rels) < 0)
			goto out;
		services = relationships_services(app, &ctx);
		rc.so.relationships = rels;
		rc.so.services = services;
		rc.so.firewall = w->firewall;
		mounts = view_describe(w, &rc.vo);
		box = sandbox_describe(&rc.so, getpid() == 1);
		if (!mounts || !box)
			goto out;
	}
	rc.o.start = w->start; /* what run_describe() shows */
	rc.o.pre_start = w->pre_start;
	*out = run_describe(&rc.o);
	json_object_set_new(*out, "cgroup",
			    rc.o.no_cgroup ? json_null() : sizelimit_describe(&rc.limits));
	json_object_set(*out, "mounts", mounts ? mounts : json_null());
	json_object_set(*out, "sandbox", box ? box : json_null());
	r = 0;
out:
	json_decref(mounts);
	json_decref(box);
	json_decref(rels);
	json_decref(services);
	context_free(&ctx);
	sandbox_opts_free(&rc.so);
	strv_free(rc.ro_binds);
	return r;
}

/* The worker's box: the mount view (storage, disk, read-only app) and the
 * sandbox (network namespace and ingress rules, hosts file, user,
 * capabilities, Landlock, syscall filter), prepared once in berth; their
 * steps run in the child before execve, in sandbox.h's order.  Its PID,
 * IPC and UTS namespaces are run_worker()'s (run_opts.hostname). */
struct run_box {
	struct caps_user user;
	struct view view;
	struct sandbox sb;
	json_t *rels;
	json_t *services; /* every known service endpoint (egress plan) */
	char *hostname;
	bool have_user, have_view, have_sb;
};

static void box_close(struct run_box *b)
{
	if (b->have_sb)
		sandbox_release(&b->sb);
	if (b->have_view)
		view_close(&b->view);
	if (b->have_user)
		caps_user_free(&b->user);
	json_decref(b->rels);
	json_decref(b->services);
	free(b->hostname);
	memset(b, 0, sizeof(*b));
}

static int box_restart(void *data)
{
	return net_refresh(data);
}

static int box_open(const struct cli_global *g, struct run_cli *rc, const struct app *app,
		    const struct worker *w, const struct context *ctx, struct run_box *b)
{
	const char *msg = NULL;
	struct exec_step ms;

	memset(b, 0, sizeof(*b));
	if (geteuid() != 0) {
		log_error("berth run builds the worker's box as root (mounts, network namespace, "
			  "user switch); run it as root, or with --unconfined to run the worker "
			  "without a box (debugging only)");
		return BERTH_EXIT_SETUP;
	}
	if (rc->so.user ? caps_user_parse(rc->so.user, &b->user, &msg) < 0
			: caps_user_default(&b->user) < 0) {
		if (msg)
			log_error("--user %s: %s", rc->so.user, msg);
		return BERTH_EXIT_SETUP;
	}
	b->have_user = true;
	/* sandbox_prepare resolves the user again: give it the one found here
	 * (the default is looked up, and logged, once). */
	if (!rc->so.user && b->user.name)
		rc->so.user = b->user.name;
	if (relationships_build(app, w, ctx, NULL, NULL, &b->rels) < 0)
		return BERTH_EXIT_SETUP;
	rc->vo.state_dir = g->state_dir;
	rc->vo.project = ctx->project;
	rc->vo.environment = ctx->environment;
	rc->vo.uid = b->user.uid;
	rc->vo.gid = b->user.gid;
	if (view_open(w, &rc->vo, &b->view) < 0)
		return BERTH_EXIT_SETUP;
	b->have_view = true;
	ms = view_step(&b->view);
	rc->so.relationships = b->rels;
	b->services = relationships_services(app, ctx);
	rc->so.services = b->services;
	rc->so.firewall = w->firewall;
	if (sandbox_prepare(&rc->so, getpid() == 1, &ms, 1, &b->sb) < 0)
		return BERTH_EXIT_SETUP;
	b->have_sb = true;
	view_set_hosts(&b->view, b->sb.hosts.text);
	/* pasta: berth's child, not the worker's (--no-cgroup's tree), and in
	 * berth's cgroup (run_worker() has it follow berth on pure v2) */
	if (b->sb.net.pasta_pid > 0) {
		rc->o.helpers = &b->sb.net.pasta_pid;
		rc->o.n_helpers = 1;
	}
	rc->o.steps = b->sb.steps;
	rc->o.n_steps = b->sb.n_steps;
	/* before each restart: the firewall's domains resolved again */
	rc->o.restart_hook = box_restart;
	rc->o.restart_data = &b->sb.net;
	b->hostname = nsinit_hostname(w->app_name, w->name);
	rc->o.hostname = b->hostname;
	return 0;
}

int cmd_run(const struct cli_global *g, int argc, char **argv)
{
	struct run_cli rc = {0};
	struct run_box box = {0};
	struct instance inst = {.fd = -1, .dir_fd = -1};
	struct context ctx = {0};
	char **envp = NULL;
	struct app app;
	struct worker w;
	int wi = 0, r;

	run_opts_init(&rc.o);
	r = cmd_run_parse(argc, argv, &rc, &wi);
	if (r >= 0)
		goto out;
	log_setup(g->log_format, g->log_level, argv[wi]);
	log_stderr_nonblocking();
	r = commands_load_worker(g, argv[wi], &app, &w);
	if (r)
		goto out;
	r = commands_worker_env_user(g, &app, &w, rc.pass, rc.so.user, rc.unconfined || rc.pod,
				     &envp);
	if (r == 0) {
		struct context_options co = {
			.file = g->context, .state_dir = g->state_dir, .app_dir = w.app_dir};
		if (context_load(&co, &ctx) < 0)
			r = BERTH_EXIT_SETUP;
	}
	if (r == 0) {
		int a = auto_size_from(&rc, &ctx);
		if (a >= 0)
			r = a;
	}
	/* The instance record before anything is created: a second berth of
	 * the instance is refused, what a killed one left is removed. */
	if (r == 0 && !rc.pod) /* a pod is the instance: berth creates nothing */
		r = commands_instance_open(&w, ctx.project, ctx.environment, false, &inst);
	if (r == 0) {
		rc.o.worker = w.name;
		rc.o.app_dir = w.app_dir;
		rc.o.start = w.start;
		rc.o.pre_start = w.pre_start;
		rc.o.envp = envp;
		sizelimit_for_worker(&w, &rc.lo, &rc.limits);
		view_opts_finish(&rc);
		if (rc.pod) {
			/* the engine's box, checked; berth's own part only */
			if (podcheck_run(&rc.limits, rc.pod_waive, rc.o.policy.stop_timeout_ms) < 0)
				r = BERTH_EXIT_SETUP;
			rc.o.no_cgroup = true;
		} else if (rc.o.no_cgroup)
			log_warn("--no-cgroup: no limits (size %s), and processes that leave "
				 "berth's process tree cannot be stopped",
				 size_to_string(w.size));
		else
			rc.o.limits = &rc.limits;
		if (rc.unconfined && !rc.pod)
			log_warn("--unconfined: the worker runs without its box: no mount view, "
				 "network namespace, user switch, Landlock domain or syscall "
				 "filter");
		else if (!rc.unconfined && !rc.pod)
			r = box_open(g, &rc, &app, &w, &ctx, &box);
		if (r == 0 && box.have_view && instance_record_disk(&inst, &box.view.st) < 0)
			r = BERTH_EXIT_SETUP;
		rc.o.cgroups_hook = instance_cgroups_hook;
		rc.o.cgroups_data = &inst;
		if (r == 0)
			r = run_worker(&rc.o);
		box_close(&box);
		instance_close(&inst); /* after the cgroups and the disk */
		if (!FREE_BEFORE_EXIT)
			return r; /* main() exits now (cleanup.h) */
	}
	instance_close(&inst);
	context_free(&ctx);
	strv_free(envp);
	worker_free(&w);
	app_free(&app);
out:
	strv_free(rc.pass);
	strv_free(rc.ro_binds);
	sandbox_opts_free(&rc.so);
	return r;
}
