/* SPDX-License-Identifier: MIT */
/*
 * `berth kube [WORKER...]`: the workers as Kubernetes YAML on standard
 * output (kube.c builds the objects).  Parse, load the app, its workers
 * and the context as `berth env` does, build every document, and print
 * only when all of them were built.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "exitcodes.h"
#include "kube.h"
#include "log.h"
#include "prepare.h"
#include "run-options.h"
#include "supervise.h"

const char cmd_kube_help_text[] =
	"  --image IMAGE            the container image: the app at --app-root and\n"
	"                           berth on PATH (required)\n"
	"  --namespace NS           the objects' namespace, and the services' DNS\n"
	"                           names NAME.NS.svc (default: default)\n"
	"  --instances N            instances (replicas) per worker (default 1)\n"
	"  --storage-class NAME     the class of each instance's claim (default:\n"
	"                           the cluster's)\n"
	"  --shared-storage-class NAME\n"
	"                           the class of the network-storage claims\n"
	"                           (ReadWriteMany; default: --storage-class)\n"
	"  --auto-size SIZE         what size AUTO means (default: the context's\n"
	"                           auto_size; without either, AUTO is an error)\n"
	"  --user UID[:GID]         the pod's user (default 65534; 0 runs as root)\n"
	"  --app-root PATH          where the app is in the image (default /app)\n"
	"  --stop-timeout DUR       berth's stop deadline in the pod (default 15s);\n"
	"                           the grace period is 15 s longer\n";

const char cmd_kube_details[] =
	"For each worker (all of the app's by default, in the config's order):\n"
	"a Secret with the context the pod's berth reads, a headless Service, a\n"
	"NetworkPolicy denying all ingress and a StatefulSet running\n"
	"'berth run --pod WORKER'; before them a ReadWriteMany claim per\n"
	"network-storage service mounted.  The same input gives the same bytes.\n";

enum {
	OPT_IMAGE = 256,
	OPT_NAMESPACE,
	OPT_INSTANCES,
	OPT_CLASS,
	OPT_SHARED_CLASS,
	OPT_AUTO_SIZE,
	OPT_USER,
	OPT_APP_ROOT,
	OPT_STOP_TIMEOUT
};

static const struct option kube_options[] = {
	{"image", required_argument, NULL, OPT_IMAGE},
	{"namespace", required_argument, NULL, OPT_NAMESPACE},
	{"instances", required_argument, NULL, OPT_INSTANCES},
	{"storage-class", required_argument, NULL, OPT_CLASS},
	{"shared-storage-class", required_argument, NULL, OPT_SHARED_CLASS},
	{"auto-size", required_argument, NULL, OPT_AUTO_SIZE},
	{"user", required_argument, NULL, OPT_USER},
	{"app-root", required_argument, NULL, OPT_APP_ROOT},
	{"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
	{"help", no_argument, NULL, 'h'},
	{0},
};

/* A DNS-1123 label: what a namespace is. */
static bool dns_label_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int parse_user(const char *v, struct kube_opts *o)
{
	uint64_t uid, gid;
	const char *colon = strchr(v, ':');
	_cleanup_free_ char *u = colon ? xstrndup(v, (size_t)(colon - v)) : xstrdup(v);

	if (parse_u64(u, INT32_MAX, &uid) < 0 ||
	    (colon ? parse_u64(colon + 1, INT32_MAX, &gid) < 0 : (gid = uid, false)))
		return cli_usage_error("kube", "--user: '%s' is not UID[:GID] (numbers)", v);
	o->uid = (uint32_t)uid;
	o->gid = (uint32_t)gid;
	return CMD_CONTINUE;
}

static int kube_apply(void *data, int opt, const char *v)
{
	struct kube_opts *o = data;
	uint64_t n;

	switch (opt) {
	case OPT_IMAGE:
		o->image = *v ? v : NULL;
		return CMD_CONTINUE;
	case OPT_NAMESPACE:
		if (!dns_label_ok(v))
			return cli_usage_error("kube",
					       "--namespace: '%s' is not a DNS label "
					       "([a-z0-9-], at most 63)",
					       v);
		o->ns = v;
		return CMD_CONTINUE;
	case OPT_INSTANCES:
		if (parse_u64(v, 1000, &n) < 0 || n == 0)
			return cli_usage_error("kube", "--instances: '%s' is not 1 to 1000", v);
		o->instances = (uint32_t)n;
		return CMD_CONTINUE;
	case OPT_CLASS:
		o->storage_class = v;
		return CMD_CONTINUE;
	case OPT_SHARED_CLASS:
		o->shared_class = v;
		return CMD_CONTINUE;
	case OPT_AUTO_SIZE:
		if (size_parse(v, &o->lo.auto_size) < 0 || o->lo.auto_size == SIZE_AUTO)
			return cli_usage_error("kube",
					       "--auto-size: '%s' is not one of S, M, L, XL, 2XL, "
					       "4XL",
					       v);
		o->lo.have_auto_size = true;
		return CMD_CONTINUE;
	case OPT_USER:
		return parse_user(v, o);
	case OPT_APP_ROOT:
		if (v[0] != '/' || strcmp(v, "/") == 0 || strstr(v, "//") || strstr(v, "/.") ||
		    v[strlen(v) - 1] == '/')
			return cli_usage_error("kube",
					       "--app-root: '%s' is not a clean absolute "
					       "path below /",
					       v);
		o->app_root = v;
		return CMD_CONTINUE;
	case OPT_STOP_TIMEOUT:
		if (parse_duration_ms(v, &n) < 0 || n > SUPERVISE_MAX_DURATION_MS)
			return cli_usage_error("kube",
					       "--stop-timeout: '%s' is not a duration (e.g. 15s, "
					       "300ms, 2m; at most 24h)",
					       v);
		o->stop_timeout_ms = n;
		return CMD_CONTINUE;
	}
	return CMD_CONTINUE;
}

static int kube_parse(int argc, char **argv, struct kube_opts *o, int *first)
{
	struct supervise_policy p;
	int r;

	supervise_policy_default(&p);
	*o = (struct kube_opts){.ns = KUBE_DEFAULT_NS,
				.app_root = KUBE_DEFAULT_APP_ROOT,
				.instances = 1,
				.uid = KUBE_DEFAULT_UID,
				.gid = KUBE_DEFAULT_UID,
				.stop_timeout_ms = p.stop_timeout_ms};
	r = cli_getopt(argc, argv, ":h", kube_options, kube_apply, o);
	if (r != CMD_CONTINUE)
		return r;
	if (!o->image)
		return cli_usage_error(argv[0], "--image is required (the image with the app "
						"and berth)");
	if (!o->shared_class)
		o->shared_class = o->storage_class;
	*first = optind;
	return CMD_CONTINUE;
}

/* Resolve the named workers (all when none is named), each once. */
static int kube_workers(const struct app *app, char **names, size_t n, struct worker **ws,
			size_t *nws)
{
	struct diags d = {0};
	int r = 0;

	if (!n) {
		names = app->workers;
		n = app->n_workers;
	}
	*ws = xcalloc(n ? n : 1, sizeof(**ws));
	*nws = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		for (size_t k = 0; k < i; k++)
			if (strcmp(names[k], names[i]) == 0) {
				log_error("worker '%s' is named twice", names[i]);
				r = BERTH_EXIT_USAGE;
			}
		if (r == 0 && app_resolve(app, names[i], &(*ws)[(*nws)++], &d) < 0) {
			(*nws)--;
			r = BERTH_EXIT_USAGE;
		}
	}
	diags_print(&d, stderr);
	diags_free(&d);
	return r;
}

/* Two workers whose object names would be the same ("a_b", "a-b"). */
static int kube_names_unique(const struct worker *ws, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < i; k++) {
			_cleanup_free_ char *a = kube_dns_name(ws[i].name);
			_cleanup_free_ char *b = kube_dns_name(ws[k].name);

			if (strcmp(a, b) == 0) {
				log_error(
					"workers '%s' and '%s' would both be objects named '%s-%s'",
					ws[k].name, ws[i].name, ws[i].app_name, a);
				return BERTH_EXIT_USAGE;
			}
		}
	return 0;
}

/* Every document, or an exit status with the reasons printed. */
static int kube_build(const struct app *app, const struct worker *ws, size_t n,
		      const struct kube_opts *o, const struct context *ctx, json_t *docs)
{
	struct diags d = {0};
	int r = kube_service_claims(app, ws, n, o, docs, &d);

	for (size_t i = 0; i < n; i++) {
		struct boxplan_request rq = kube_plan_request(app, &ws[i], ctx, o);
		_cleanup_free_ char *cj = kube_context_json(ctx, &ws[i], o);
		struct boxplan bp;

		if (boxplan_build(&rq, &bp) < 0) {
			r = -1;
			continue;
		}
		if (kube_worker_objects(app, &bp, o, cj, docs, &d) < 0)
			r = -1;
		boxplan_free(&bp);
	}
	diags_print(&d, stderr);
	diags_free(&d);
	return r < 0 ? BERTH_EXIT_USAGE : 0;
}

static int kube_print(const json_t *docs)
{
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (kube_yaml(docs, &text, &len) < 0) {
		log_error("cannot write the objects as YAML");
		return BERTH_EXIT_SETUP;
	}
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
		log_error("cannot write to standard output");
		return BERTH_EXIT_SETUP;
	}
	return 0;
}

int cmd_kube(const struct cli_global *g, int argc, char **argv)
{
	struct context ctx = {0};
	struct worker *ws = NULL;
	json_t *docs = NULL;
	size_t nws = 0;
	struct kube_opts o;
	struct app app;
	int first = 0, r;

	r = kube_parse(argc, argv, &o, &first);
	if (r != CMD_CONTINUE)
		return r;
	log_setup(g->log_format, g->log_level, NULL);
	r = prepare_app(g, &app);
	if (r != CMD_CONTINUE)
		return r;
	r = kube_workers(&app, argv + first, (size_t)(argc - first), &ws, &nws);
	/* the context berth env would use: the state directory's project */
	if (r == 0 && (r = prepare_context(g, app.dir, false, &ctx)) == CMD_CONTINUE)
		r = 0;
	if (r == 0 && !o.lo.have_auto_size && ctx.auto_size &&
	    size_parse(ctx.auto_size, &o.lo.auto_size) == 0)
		o.lo.have_auto_size = true;
	docs = json_array();
	if (r == 0)
		r = kube_names_unique(ws, nws);
	if (r == 0)
		r = kube_build(&app, ws, nws, &o, &ctx, docs);
	if (r == 0)
		r = kube_print(docs);
	json_decref(docs);
	context_free(&ctx);
	for (size_t i = 0; i < nws; i++)
		worker_free(&ws[i]);
	free(ws);
	app_free(&app);
	return r;
}
