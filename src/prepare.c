/* SPDX-License-Identifier: MIT */
/* The one preparation of the commands (prepare.h). */
#include "config.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "commands.h"
#include "env.h"
#include "exitcodes.h"
#include "instance.h"
#include "log.h"
#include "prepare.h"

extern char **environ;

int prepare_app(const struct cli_global *g, struct app *app)
{
	struct app_locator loc = {
		.app_config = g->app_config,
		.app_name = g->app_name,
		.services = g->services,
		.cwd = g->app_dir,
	};
	struct diags d = {0};
	int r = app_load(&loc, app, &d);

	diags_print(&d, stderr);
	diags_free(&d);
	return r < 0 ? BERTH_EXIT_USAGE : CMD_CONTINUE;
}

/* The passwd name of the worker's user (a uid without one as its number):
 * the lookup needs no privilege, so env and show print what run sets. */
static int user_name(const struct prep_needs *n, char **out)
{
	struct caps_user u = {0};
	const char *msg = NULL;
	int r;

	if (n->self_user) {
		struct passwd *pw = getpwuid(geteuid());

		*out = pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned)geteuid());
		return 0;
	}
	if (!n->user) {
		/* caps_user_default()'s choice, without its log line: run
		 * says it when it switches */
		*out = xstrdup(caps_user_default_name());
		return 0;
	}
	r = caps_user_parse(n->user, &u, &msg);
	if (r < 0) {
		if (msg)
			log_error("user %s: %s", n->user, msg);
		return r;
	}
	*out = u.name ? xstrdup(u.name) : xasprintf("%u", (unsigned)u.uid);
	caps_user_free(&u);
	return 0;
}

int prepare_context(const struct cli_global *g, const char *app_dir, bool read_only,
		    struct context *ctx)
{
	bool state_failed = false;
	_cleanup_free_ char *runtime_dir = instance_runtime_dir(); /* the tree id cache's */
	struct context_options co = {
		.file = g->context,
		.state_dir = g->state_dir,
		.app_dir = app_dir,
		.read_only = read_only,
		.state_failed = &state_failed,
		.runtime_dir = runtime_dir,
	};

	if (context_load(&co, ctx) < 0)
		return state_failed ? BERTH_EXIT_SETUP : BERTH_EXIT_USAGE;
	return CMD_CONTINUE;
}

int prepare(const struct cli_global *g, const struct prep_needs *n, struct prep *p)
{
	struct env_options eo = {.pass_env = n->pass_env, .environ = environ};
	_cleanup_free_ char *name = NULL;
	struct diags d = {0};
	int r;

	memset(p, 0, sizeof(*p));
	r = prepare_app(g, &p->app);
	if (r != CMD_CONTINUE)
		return r;
	p->have_app = true;
	r = app_resolve(&p->app, n->worker, &p->w, &d);
	diags_print(&d, stderr);
	diags_free(&d);
	if (r < 0)
		return BERTH_EXIT_USAGE;
	p->have_worker = true;
	/* USER is checked before the state is made */
	if (n->env && user_name(n, &name) < 0)
		return BERTH_EXIT_USAGE;
	r = prepare_context(g, p->w.app_dir ? p->w.app_dir : p->app.dir, n->read_only, &p->ctx);
	if (r != CMD_CONTINUE)
		return r;
	p->have_ctx = true;
	eo.user = name;
	if (n->env && env_for_worker(&p->app, &p->w, &p->ctx, &eo, &p->envp) < 0)
		return BERTH_EXIT_USAGE;
	return CMD_CONTINUE;
}

struct boxplan_request prep_box_request(const struct cli_global *g, const struct prep *p)
{
	return (struct boxplan_request){
		.app = &p->app, .w = &p->w, .ctx = &p->ctx, .state_dir = g->state_dir};
}

void prep_free(struct prep *p)
{
	strv_free(p->envp);
	if (p->have_ctx)
		context_free(&p->ctx);
	if (p->have_worker)
		worker_free(&p->w);
	if (p->have_app)
		app_free(&p->app);
	memset(p, 0, sizeof(*p));
}
