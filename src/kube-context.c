/* SPDX-License-Identifier: MIT */
/*
 * The context file of a worker's pod (kube.h): every fact berth env used
 * on this host, written out, so that the pod's berth, which has no state
 * directory and no git, gives the worker the same environment; and the
 * relationships' hosts as the cluster's Service names.  Pure.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "kube.h"

static void set_str(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

/* services.<service>.host = <service>.<ns>.svc for each service w's
 * relationships name, unless the context gives that service a host. */
static void service_hosts(json_t *services, const struct worker *w, const struct kube_opts *o)
{
	for (size_t i = 0; i < w->n_rels; i++) {
		const char *svc = w->rels[i].service;
		json_t *s = json_object_get(services, svc);
		_cleanup_free_ char *dns = kube_dns_name(svc);

		if (!s) {
			s = json_object();
			json_object_set_new(services, svc, s);
		}
		if (!json_object_get(s, "host"))
			json_object_set_new(s, "host", json_sprintf("%s.%s.svc", dns, o->ns));
	}
}

char *kube_context_json(const struct context *ctx, const struct worker *w,
			const struct kube_opts *o)
{
	json_t *c = json_object();
	json_t *services = ctx->services ? json_deep_copy(ctx->services) : json_object();
	char *text;

	set_str(c, "project", ctx->project);
	set_str(c, "entropy", ctx->entropy);
	set_str(c, "tree_id", ctx->tree_id);
	set_str(c, "branch", ctx->branch);
	set_str(c, "environment", ctx->environment);
	set_str(c, "environment_type", ctx->environment_type);
	set_str(c, "smtp_host", ctx->smtp_host);
	set_str(c, "app_dir", ctx->app_dir ? ctx->app_dir : o->app_root);
	if (o->lo.have_auto_size)
		set_str(c, "auto_size", size_to_string(o->lo.auto_size));
	json_object_set_new(c, "routes", ctx->routes ? json_deep_copy(ctx->routes) : json_object());
	if (ctx->variables)
		json_object_set_new(c, "variables", json_deep_copy(ctx->variables));
	service_hosts(services, w, o);
	json_object_set_new(c, "services", services);
	if (ctx->relationships)
		json_object_set_new(c, "relationships", json_deep_copy(ctx->relationships));
	text = json_dumps(c, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(c);
	if (!text)
		abort();
	_cleanup_free_ char *out = text;
	return xasprintf("%s\n", out);
}
