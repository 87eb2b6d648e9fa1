/* SPDX-License-Identifier: MIT */
/*
 * Relationship endpoint objects: type defaults (doc/context.md),
 * then services.yaml endpoints (database schemas, Solr cores), then the
 * context's services.<name>, services.<name>.endpoints.<ep> and
 * relationships.<name> fields, in that order.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "diag.h"
#include "log.h"
#include "relationships.h"
#include "util.h"

static const struct relationships_type types[] = {
	{"mariadb", "mysql", "mysql", 3306, "user", "", "main", true},
	{"mysql", "mysql", "mysql", 3306, "user", "", "main", true},
	{"oracle-mysql", "mysql", "mysql", 3306, "user", "", "main", true},
	{"postgresql", "pgsql", "postgresql", 5432, "main", "main", "main", true},
	{"redis", "redis", "redis", 6379, NULL, NULL, NULL, false},
	{"redis-persistent", "redis", "redis", 6379, NULL, NULL, NULL, false},
	{"valkey", "valkey", "valkey", 6379, NULL, NULL, NULL, false},
	{"valkey-persistent", "valkey", "valkey", 6379, NULL, NULL, NULL, false},
	{"memcached", "memcached", "memcached", 11211, NULL, NULL, NULL, false},
	{"rabbitmq", "amqp", "rabbitmq", 5672, "guest", "guest", NULL, false},
	{"solr", "solr", "solr", 8080, NULL, NULL, "solr/collection1", false},
	{"elasticsearch", "http", "elasticsearch", 9200, NULL, NULL, NULL, false},
	{"opensearch", "http", "opensearch", 9200, NULL, NULL, NULL, false},
	{"mongodb", "mongodb", "mongodb", 27017, "main", "main", "main", true},
	{"influxdb", "http", "influxdb", 8086, "admin", "", NULL, false},
	{"kafka", "kafka", "kafka", 9092, NULL, NULL, NULL, false},
	{"chrome-headless", "http", "http", 9222, NULL, NULL, NULL, false},
	{"vault-kms", "http", "manage_keys", 8200, NULL, NULL, NULL, false},
	{"gotenberg", "http", "gotenberg", 3000, NULL, NULL, NULL, false},
};

/* An app-to-app relationship (endpoint http). */
static const struct relationships_type app_type = {
	"app", "http", "http", 80, NULL, NULL, NULL, false,
};

/* The table entry for a type ("mariadb:10.6" or "mariadb"), or NULL. */
static const struct relationships_type *relationships_type(const char *type)
{
	size_t n = strcspn(type, ":");

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strlen(types[i].type) == n && strncmp(types[i].type, type, n) == 0)
			return &types[i];
	return NULL;
}

/* The type whose default endpoint is ep ("mysql" -> mariadb), or NULL. */
static const struct relationships_type *type_by_endpoint(const char *ep)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strcmp(types[i].endpoint, ep) == 0 && strcmp(types[i].endpoint, "http") != 0)
			return &types[i];
	return NULL;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Where relationship problems go: diags with the entry's place, or the log
 * (in the same "FILE:LINE:COLUMN: KEY.PATH: message" form) when NULL. */
struct rel_out {
	struct diags *errors, *warnings;
};

static void ATTR_PRINTF(4, 5)
	say(struct diags *d, bool error, const struct relationship *r, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL, *path = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup(fmt);
	va_end(ap);
	path = r->path ? xstrdup(r->path) : xasprintf("relationships.%s", r->name);
	if (d) {
		diags_add(d, r->file, r->line, r->col, path, "%s", msg);
		return;
	}
	struct diag dg = {
		.file = r->file, .line = r->line, .col = r->col, .path = path, .msg = msg};
	_cleanup_free_ char *line = diag_format(&dg);

	if (error)
		log_error("%s", line);
	else
		log_warn("%s", line);
}

#define rel_error(o, r, ...) say((o)->errors, true, r, __VA_ARGS__)
#define rel_warn(o, r, ...)  say((o)->warnings, false, r, __VA_ARGS__)

static bool is_db(const struct relationships_type *t)
{
	return strcmp(t->scheme, "mysql") == 0 || strcmp(t->scheme, "pgsql") == 0;
}

static const struct service *find_service(const struct app *app, const char *name)
{
	for (size_t i = 0; i < app->n_services; i++)
		if (strcmp(app->services[i].name, name) == 0)
			return &app->services[i];
	return NULL;
}

static bool is_app(const struct app *app, const char *name)
{
	if (app->name && strcmp(app->name, name) == 0)
		return true;
	for (char **a = app->apps; a && *a; a++)
		if (strcmp(*a, name) == 0)
			return true;
	return false;
}

/*
 * services.yaml `configuration.endpoints` of databases and Solr: when
 * present they are the only endpoints (no default is added).  1 when they
 * applied, 0 when the service has none, -EINVAL.
 */
static int apply_service_endpoint(const struct relationships_type *t, const struct service *svc,
				  const struct relationship *r, const char *ep, json_t *obj,
				  const struct rel_out *o)
{
	json_t *eps = svc->configuration ? json_object_get(svc->configuration, "endpoints") : NULL;

	if (!json_is_object(eps) || !(is_db(t) || strcmp(t->type, "solr") == 0))
		return 0;
	json_t *e = json_object_get(eps, ep);

	if (!e) {
		struct strbuf names = {0};
		const char *k;
		json_t *v;

		json_object_foreach(eps, k, v)
			strbuf_printf(&names, "%s%s", names.len ? ", " : "", k);
		rel_error(o, r, "service %s has no endpoint \"%s\" (it has: %s)", svc->name, ep,
			  names.buf ? names.buf : "none");
		strbuf_release(&names);
		return -EINVAL;
	}
	if (strcmp(t->type, "solr") == 0) {
		const char *core = json_string_value(json_object_get(e, "core"));

		if (core)
			json_object_set_new(obj, "path", json_sprintf("solr/%s", core));
		return 1;
	}
	const char *schema = json_string_value(json_object_get(e, "default_schema"));

	/* Custom database endpoints: the endpoint name is the user; the
	 * password is generated by the platform (the context gives it). */
	json_object_set_new(obj, "path", str_or_null(schema));
	if (strcmp(ep, t->endpoint) != 0)
		json_object_set_new(obj, "username", json_string(ep));
	return 1;
}

/* Without custom endpoints a service has its type's default endpoint only
 * (or one the context describes). */
static int check_default_endpoint(const struct relationships_type *t, const struct service *svc,
				  const json_t *csvc, const struct relationship *r, const char *ep,
				  const struct rel_out *o)
{
	if (strcmp(ep, t->endpoint) == 0 || json_object_get(json_object_get(csvc, "endpoints"), ep))
		return 0;
	rel_error(o, r, "service %s (%s) has no endpoint \"%s\" (it has: %s)", svc->name, svc->type,
		  ep, t->endpoint);
	return -EINVAL;
}

/* Merge the fields of overlay o into obj; "endpoints" is skipped. */
static void overlay(json_t *obj, const json_t *o, bool *set_ips, bool *set_hostname)
{
	const char *k;
	json_t *v;

	if (!o)
		return;
	json_object_foreach((json_t *)o, k, v)
	{
		if (strcmp(k, "endpoints") == 0)
			continue;
		if (strcmp(k, "instance_ips") == 0)
			*set_ips = true;
		if (strcmp(k, "hostname") == 0)
			*set_hostname = true;
		json_object_set_new(obj, k, json_deep_copy(v));
	}
}

/* The relationship's service type and its table entry (*t, NULL when
 * unknown): from services.yaml, the context, another app of the project
 * or the endpoint's name.  *app_rel for a relationship to an app. */
static int find_type(const struct app *app, const struct relationship *r, const json_t *csvc,
		     const json_t *crel, const struct rel_out *o,
		     const struct relationships_type **t, const char **type, bool *app_rel)
{
	const struct service *svc = find_service(app, r->service);

	*t = NULL;
	*type = NULL;
	*app_rel = false;
	if (svc)
		*type = svc->type;
	else if (json_is_string(json_object_get(crel, "type")))
		*type = json_string_value(json_object_get(crel, "type"));
	else if (json_is_string(json_object_get(csvc, "type")))
		*type = json_string_value(json_object_get(csvc, "type"));

	if (*type) {
		*t = relationships_type(*type);
		if (!*t)
			rel_warn(o, r,
				 "service type %s is not known to berth; its port and "
				 "credentials must come from the context",
				 *type);
	} else if (is_app(app, r->service) || (r->endpoint && strcmp(r->endpoint, "http") == 0)) {
		/* Another app of the project: app-to-app relationships name the
		 * endpoint http. */
		*app_rel = true;
		*t = &app_type;
		if (app->name && strcmp(r->service, app->name) == 0)
			*type = app->type;
		for (size_t i = 0; !*type && app->apps && app->app_types && app->apps[i]; i++)
			if (strcmp(app->apps[i], r->service) == 0 && app->app_types[i][0])
				*type = app->app_types[i];
	} else if (r->endpoint && (*t = type_by_endpoint(r->endpoint))) {
		/* No services.yaml entry: the endpoint says what it is. */
		rel_warn(o, r, "service %s is not in services.yaml; assuming %s", r->service,
			 (*t)->type);
		*type = (*t)->type;
	} else if (!csvc && !crel) {
		rel_error(o, r, "no service or app named \"%s\"%s", r->service,
			  app->have_services ? "" : " (no services.yaml was found)");
		return -EINVAL;
	}
	return 0;
}

/* The endpoint's object as berth knows it from the type alone. */
static json_t *default_object(const struct relationship *r, const struct context *ctx,
			      const struct relationships_type *t, const char *type,
			      const char *base, const char *ep)
{
	_cleanup_free_ char *host = xasprintf("%s.internal", r->name);
	json_t *obj = json_object();

	json_object_set_new(obj, "username", str_or_null(t ? t->username : NULL));
	json_object_set_new(obj, "password", str_or_null(t ? t->password : NULL));
	json_object_set_new(obj, "scheme", json_string(t ? t->scheme : base ? base : "http"));
	json_object_set_new(obj, "service", json_string(r->service));
	json_object_set_new(obj, "fragment", json_null());
	json_object_set_new(obj, "ip", json_string("127.0.0.1"));
	json_object_set_new(obj, "hostname", json_string(host));
	json_object_set_new(obj, "port", t ? json_integer(t->port) : json_null());
	json_object_set_new(obj, "cluster", json_sprintf("%s-%s", ctx->project, ctx->environment));
	json_object_set_new(obj, "host", json_string(host));
	json_object_set_new(obj, "rel", json_string(ep));
	json_object_set_new(obj, "path", str_or_null(t ? t->path : NULL));
	json_object_set_new(obj, "query",
			    t && t->is_master ? json_pack("{s:b}", "is_master", 1) : json_object());
	json_object_set_new(obj, "type", str_or_null(type));
	json_object_set_new(obj, "public", json_false());
	json_object_set_new(obj, "host_mapped", json_false());
	json_object_set_new(obj, "epoch", json_integer(0));
	return obj;
}

/* Lays the context's service, its endpoint and the relationship over
 * obj; instance_ips and hostname follow ip and host unless set. */
static void overlay_context(json_t *obj, const json_t *csvc, const json_t *crel, const char *ep)
{
	bool set_ips = false, set_hostname = false;

	overlay(obj, csvc, &set_ips, &set_hostname);
	if (csvc)
		overlay(obj, json_object_get(json_object_get(csvc, "endpoints"), ep), &set_ips,
			&set_hostname);
	overlay(obj, crel, &set_ips, &set_hostname);
	if (!set_ips)
		json_object_set_new(obj, "instance_ips",
				    json_pack("[O]", json_object_get(obj, "ip")));
	if (!set_hostname)
		json_object_set(obj, "hostname", json_object_get(obj, "host"));
}

static int build_one(const struct app *app, const struct relationship *r, const struct context *ctx,
		     const struct rel_out *o, json_t **out)
{
	const struct service *svc = find_service(app, r->service);
	json_t *csvc = ctx->services ? json_object_get(ctx->services, r->service) : NULL;
	json_t *crel = ctx->relationships ? json_object_get(ctx->relationships, r->name) : NULL;
	const struct relationships_type *t;
	const char *type;
	bool app_rel;

	if (find_type(app, r, csvc, crel, o, &t, &type, &app_rel) < 0)
		return -EINVAL;
	if (app_rel && !r->endpoint) {
		rel_error(o, r, "a relationship to the app %s needs an endpoint (\"%s:http\")",
			  r->service, r->service);
		return -EINVAL;
	}
	_cleanup_free_ char *base = type ? xstrndup(type, strcspn(type, ":")) : NULL;
	/* An unknown type without an endpoint: name the endpoint after the type. */
	const char *ep = r->endpoint ? r->endpoint : t ? t->endpoint : base ? base : r->service;
	json_t *obj = default_object(r, ctx, t, type, base, ep);
	int custom = svc && t ? apply_service_endpoint(t, svc, r, ep, obj, o) : 0;

	if (custom < 0 ||
	    (svc && t && !custom && check_default_endpoint(t, svc, csvc, r, ep, o) < 0)) {
		json_decref(obj);
		return -EINVAL;
	}
	overlay_context(obj, csvc, crel, ep);
	if (json_is_null(json_object_get(obj, "port")))
		rel_warn(o, r, "no port known for service %s", r->service);
	*out = obj;
	return 0;
}

int relationships_build(const struct app *app, const struct worker *w, const struct context *ctx,
			struct diags *errors, struct diags *warnings, json_t **out)
{
	const struct rel_out o = {errors, warnings};
	json_t *rels = json_object();
	int ret = 0;

	for (size_t i = 0; i < w->n_rels; i++) {
		json_t *obj;

		if (build_one(app, &w->rels[i], ctx, &o, &obj) < 0) {
			ret = -EINVAL;
			continue;
		}
		json_object_set_new(rels, w->rels[i].name, json_pack("[o]", obj));
	}
	if (ret < 0) {
		json_decref(rels);
		return ret;
	}
	*out = rels;
	return 0;
}

/* One endpoint: base (the service's ip and port) overlaid by o's. */
static void service_ep(json_t *out, const char *name, const char *ip, json_int_t port,
		       const json_t *o)
{
	const json_t *v;

	if ((v = json_object_get(o, "ip")) && json_is_string(v))
		ip = json_string_value(v);
	if ((v = json_object_get(o, "port")) && json_is_integer(v))
		port = json_integer_value(v);
	if (port > 0)
		json_array_append_new(
			out, json_pack("{s:s, s:s, s:I}", "name", name, "ip", ip, "port", port));
}

/* A service's own address and default port: its type's, the context's. */
static void service_base(const struct app *app, const struct context *ctx, const char *name,
			 const char **ip, json_int_t *port)
{
	const json_t *c = ctx->services ? json_object_get(ctx->services, name) : NULL;
	const struct service *svc = find_service(app, name);
	const char *type = svc ? svc->type : json_string_value(json_object_get(c, "type"));
	const struct relationships_type *t = type ? relationships_type(type) : NULL;

	*ip = "127.0.0.1";
	*port = t ? t->port : 0;
	if (json_is_string(json_object_get(c, "ip")))
		*ip = json_string_value(json_object_get(c, "ip"));
	if (json_is_integer(json_object_get(c, "port")))
		*port = json_integer_value(json_object_get(c, "port"));
}

static void service_all(json_t *out, const struct app *app, const struct context *ctx,
			const char *name)
{
	const json_t *c = ctx->services ? json_object_get(ctx->services, name) : NULL;
	const char *ip, *ep;
	json_int_t port;
	json_t *v;

	service_base(app, ctx, name, &ip, &port);
	service_ep(out, name, ip, port, NULL);
	json_object_foreach(json_object_get(c, "endpoints"), ep, v)
	{
		_cleanup_free_ char *n = xasprintf("%s:%s", name, ep);
		service_ep(out, n, ip, port, v);
	}
}

json_t *relationships_services(const struct app *app, const struct context *ctx)
{
	json_t *out = json_array(), *v;
	const char *name;

	for (size_t i = 0; i < app->n_services; i++)
		service_all(out, app, ctx, app->services[i].name);
	json_object_foreach(ctx->services, name, v) if (!find_service(app, name))
		service_all(out, app, ctx, name);
	json_object_foreach(ctx->relationships, name, v)
	{
		const char *svc = json_string_value(json_object_get(v, "service"));
		const char *ip = "127.0.0.1";
		json_int_t port = 0;

		if (!json_object_get(v, "ip") && !json_object_get(v, "port"))
			continue;
		if (svc)
			service_base(app, ctx, svc, &ip, &port);
		_cleanup_free_ char *n = xasprintf("relationship %s", name);
		service_ep(out, n, ip, port, v);
	}
	return out;
}
