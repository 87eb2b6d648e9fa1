/* SPDX-License-Identifier: MIT */
/* check, list, show: the read-only debugging commands. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "context.h"
#include "env.h"
#include "exitcodes.h"
#include "instance.h"
#include "log.h"
#include "relationships.h"
#include "resolve.h"

int commands_parse_plain(int argc, char **argv, int nargs, int *first)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	const char *cmd = argv[0];
	int r = cli_getopt(argc, argv, ":h", opts, NULL, NULL);

	if (r != CMD_CONTINUE)
		return r;
	if (nargs && argc - optind > nargs)
		return cli_usage_error(cmd, "expected one worker name, got %d", argc - optind);
	if (argc - optind != nargs)
		return cli_usage_error(cmd,
				       nargs ? "expected a worker name" : "takes no arguments");
	*first = optind;
	return CMD_CONTINUE;
}

/*
 * Build every worker's relationships with the code env and run use, so
 * that what check passes they accept.  Problems go to errors and
 * warnings (the same entry inherited by several workers is said once).
 */
static int check_relationships(const struct cli_global *g, const struct app *app,
			       struct diags *errors, struct diags *warnings)
{
	struct context ctx;
	int bad = 0;

	if (context_load_nostate(g->context, &ctx) < 0)
		return -EINVAL;
	for (size_t i = 0; i < app->n_workers; i++) {
		struct worker w;
		json_t *rels;

		if (app_resolve(app, app->workers[i], &w, errors) < 0) {
			bad = -EINVAL;
			continue;
		}
		if (relationships_build(app, &w, &ctx, errors, warnings, &rels) < 0)
			bad = -EINVAL;
		else
			json_decref(rels);
		worker_free(&w);
	}
	context_free(&ctx);
	return bad;
}

/* Warnings in the diagnostics' form, so that each names its place. */
static void print_warnings(const struct diags *warnings)
{
	for (size_t i = 0; i < warnings->n; i++) {
		_cleanup_free_ char *msg = xasprintf("warning: %s", warnings->v[i].msg);
		struct diag dg = warnings->v[i];

		dg.msg = msg;
		_cleanup_free_ char *s = diag_format(&dg);

		fprintf(stderr, "%s\n", s);
	}
}

int cmd_check(const struct cli_global *g, int argc, char **argv)
{
	struct diags errors = {0}, warnings = {0};
	struct app app;
	int first, r = commands_parse_plain(argc, argv, 0, &first);

	if (r != CMD_CONTINUE)
		return r;
	r = prepare_app(g, &app);
	if (r != CMD_CONTINUE)
		return r;
	resolve_check_platform(&app, &errors);
	r = check_relationships(g, &app, &errors, &warnings);
	print_warnings(&warnings);
	diags_print(&errors, stderr);
	bool ok = r == 0 && errors.n == 0;

	if (ok)
		printf("configuration OK\n");
	diags_free(&errors);
	diags_free(&warnings);
	app_free(&app);
	return ok ? BERTH_EXIT_OK : BERTH_EXIT_USAGE;
}

/* The first line of a script, for one-line listings. */
static char *first_line(const char *s)
{
	s += strspn(s, " \t\r\n");
	return xstrndup(s, strcspn(s, "\r\n"));
}

int cmd_list(const struct cli_global *g, int argc, char **argv)
{
	struct app app;
	int first, r = commands_parse_plain(argc, argv, 0, &first);
	int width = 4;

	if (r != CMD_CONTINUE)
		return r;
	r = prepare_app(g, &app);
	if (r != CMD_CONTINUE)
		return r;
	for (size_t i = 0; i < app.n_workers; i++)
		if ((int)strlen(app.workers[i]) > width)
			width = (int)strlen(app.workers[i]);
	for (size_t i = 0; i < app.n_workers; i++) {
		struct worker w;
		struct diags d = {0};

		if (app_resolve(&app, app.workers[i], &w, &d) < 0) {
			diags_free(&d);
			continue; /* cannot happen: app_load resolved every worker */
		}
		char *line = first_line(w.start);
		printf("%-*s  %-4s  %s\n", width, w.name, size_to_string(w.size), line);
		free(line);
		worker_free(&w);
	}
	app_free(&app);
	return BERTH_EXIT_OK;
}

int cmd_show(const struct cli_global *g, int argc, char **argv)
{
	/* show only reads: the state is made by what runs or prints the
	 * worker's environment */
	struct prep_needs n = {.env = true, .user = getenv("BERTH_USER"), .read_only = true};
	json_t *j = NULL, *plan = NULL;
	struct prep p = {0};
	int first, r = commands_parse_plain(argc, argv, 1, &first);

	if (r != CMD_CONTINUE)
		return r;
	n.worker = argv[first];
	if (n.user && !*n.user)
		n.user = NULL;
	r = prepare(g, &n, &p);
	if (r == CMD_CONTINUE)
		r = cmd_run_plan(g, &p, &plan);
	if (r == CMD_CONTINUE) {
		j = worker_to_json(&p.w);
		json_object_set_new(plan, "environment", env_names_json(p.envp));
		json_object_set_new(j, "plan", plan);
		char *s = json_dumps(j,
				     JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
		printf("%s\n", s);
		free(s);
		json_decref(j);
		r = BERTH_EXIT_OK;
	}
	prep_free(&p);
	return r;
}

int commands_instance_open(const struct prep *p, bool join, struct instance *in, bool *joined)
{
	struct instance_key k = {p->ctx.project, p->ctx.environment, p->w.app_name, p->w.name};
	char *rd = instance_runtime_dir();
	int r;

	memset(in, 0, sizeof(*in));
	*joined = false;
	in->fd = in->dir_fd = -1;
	if (!rd) {
		log_warn("no runtime directory (BERTH_RUNTIME_DIR, XDG_RUNTIME_DIR): no instance "
			 "record, so what a killed berth leaves is not removed by the next");
		return CMD_CONTINUE;
	}
	r = instance_open(rd, &k, join, in);
	if (r == -EROFS) {
		/* a read-only root (a container's): run, as without a directory */
		log_warn("%s is on a read-only filesystem: no instance record, so what a killed "
			 "berth leaves is not removed by the next",
			 rd);
		r = 0;
	}
	free(rd);
	*joined = r == 1;
	return r < 0 ? BERTH_EXIT_SETUP : CMD_CONTINUE;
}
