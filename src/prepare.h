/* SPDX-License-Identifier: MIT */
/*
 * The one preparation every command that needs a worker goes through:
 * the global options and the worker's name, with what the command needs,
 * become the loaded app, the resolved worker, its runtime context (loaded
 * once: the state directory read or made, git run at most once) and its
 * environment built from that same context.  The box is planned from it
 * (boxplan.h).
 */
#ifndef BERTH_PREPARE_H
#define BERTH_PREPARE_H

#include <stdbool.h>

#include "app.h"
#include "boxplan.h"
#include "cli.h"
#include "context.h"

/* What a command needs prepared; all borrowed. */
struct prep_needs {
	const char *worker;    /* the worker's name */
	bool env;	       /* build the environment */
	char *const *pass_env; /* --pass-env names (NULL-terminated), or NULL */
	const char *user;      /* USER: --user NAME|UID[:GID]; NULL: the
				* default (web, nobody, or "65534") */
	bool self_user;	       /* --unconfined: USER is berth's own user */
	bool read_only;	       /* show: read the state, never create it
				* (placeholders while there is none) */
};

struct prep {
	struct app app;
	struct worker w;
	struct context ctx;
	char **envp; /* NULL unless needs.env */
	bool have_app, have_worker, have_ctx;
};

/* Load the app named by the global options, printing every diagnostic to
 * stderr.  CMD_CONTINUE, or an exit status. */
int prepare_app(const struct cli_global *g, struct app *app);

/* The runtime context of the app in app_dir (its state directory's
 * project, the tree id; read_only: never create the state), as every
 * command loads it.  CMD_CONTINUE, or an exit status: 2 for the context
 * file, 125 when the state directory failed (logged). */
int prepare_context(const struct cli_global *g, const char *app_dir, bool read_only,
		    struct context *ctx);

/* Load, resolve, load the context, build the environment.  CMD_CONTINUE,
 * or an exit status: 2 for the configuration, the context file or the
 * user, 125 when the state directory failed (logged).  Free p with
 * prep_free() either way. */
int prepare(const struct cli_global *g, const struct prep_needs *n, struct prep *p);
void prep_free(struct prep *p);

/* The box plan's request for what p prepared (app, worker, context, the
 * state directory); the command adds its options. */
struct boxplan_request prep_box_request(const struct cli_global *g, const struct prep *p);

#endif
