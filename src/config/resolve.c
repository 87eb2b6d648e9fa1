/* SPDX-License-Identifier: MIT */
/*
 * Worker resolution: each inheritable key is taken from the worker when it
 * sets it (a set key replaces the top-level value whole, `{}` and null
 * clear it) and from the top level otherwise; every accepted form is
 * validated and normalised here (mounts in resolve-mounts.c).  Pure: works
 * on the loaded tree only.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "resolve-internal.h"
#include "resolve.h"

static bool is_env_name(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

static int resolve_size(struct rctx *r, const struct cnode *n, enum size_name *out)
{
	*out = SIZE_AUTO;
	if (!n || cnode_is_null(n))
		return 0;
	if (!resolve_expect_string(r, n, "size"))
		return -EINVAL;
	if (size_parse(n->str, out) < 0) {
		fail(r, n, "unknown size '%s' (expected AUTO, S, M, L, XL, 2XL or 4XL)", n->str);
		return -EINVAL;
	}
	return 0;
}

static int resolve_disk(struct rctx *r, const struct cnode *n, bool *has, uint64_t *mb)
{
	*has = false;
	*mb = 0;
	if (!n || cnode_is_null(n))
		return 0;
	if (n->kind != CNODE_SCALAR || n->type != SCALAR_INT) {
		fail(r, n, "disk must be an integer number of MB, not %s", cnode_type_name(n));
		return -EINVAL;
	}
	if (n->ival <= 0) {
		fail(r, n, "disk must be a positive number of MB");
		return -EINVAL;
	}
	if ((unsigned long long)n->ival > APP_DISK_MAX_MB) {
		fail(r, n, "disk must be at most %llu MB (1 PB), not %lld", APP_DISK_MAX_MB,
		     n->ival);
		return -EINVAL;
	}
	*has = true;
	*mb = (uint64_t)n->ival;
	return 0;
}

/* A relationship's value: null (the service of its name),
 * 'service:endpoint' or {service, endpoint}; *service NULL on error. */
static void parse_relationship(struct rctx *r, const char *name, const struct cnode *val,
			       char **service, char **endpoint)
{
	if (cnode_is_null(val)) {
		*service = xstrdup(name);
	} else if (val->kind == CNODE_SCALAR && val->type == SCALAR_STR) {
		const char *colon = strchr(val->str, ':');
		*service =
			colon ? xstrndup(val->str, (size_t)(colon - val->str)) : xstrdup(val->str);
		if (colon && colon[1])
			*endpoint = xstrdup(colon + 1);
	} else if (val->kind == CNODE_MAP) {
		for (size_t k = 0; k < val->n; k++) {
			const struct cnode_pair *q = &val->pairs[k];
			char **slot = strcmp(q->key->str, "service") == 0    ? service
				      : strcmp(q->key->str, "endpoint") == 0 ? endpoint
									     : NULL;
			if (!slot) {
				fail(r, q->key,
				     "unknown relationship key '%s' (expected "
				     "service, endpoint)",
				     q->key->str);
				continue;
			}
			if (cnode_is_null(q->value))
				continue;
			if (resolve_expect_string(r, q->value, q->key->str))
				*slot = xstrdup(q->value->str);
		}
		if (!*service)
			fail(r, val, "relationship needs a 'service'");
	} else {
		fail(r, val,
		     "relationship must be 'service:endpoint', null or "
		     "{service, endpoint}, not %s",
		     cnode_type_name(val));
	}
}

/* Refuses (and drops) a service name or endpoint that is not valid. */
static void check_target(struct rctx *r, const struct cnode *val, char **service, char **endpoint)
{
	const char *why;

	if (*service && !resolve_name_ok(*service, &why)) {
		fail(r, val, "service name '%s' %s", *service, why);
		free(*service);
		*service = NULL;
	}
	if (*endpoint &&
	    (!**endpoint || resolve_has_control(*endpoint) || strchr(*endpoint, '/'))) {
		fail(r, val, "endpoint '%s' is not valid", *endpoint);
		free(*endpoint);
		*endpoint = NULL;
	}
}

static int resolve_relationships(struct rctx *r, const struct cnode *n, struct relationship **out,
				 size_t *nout)
{
	struct relationship *v;
	size_t cnt = 0;
	const char *why;
	char base[sizeof(r->path)];

	*out = NULL;
	*nout = 0;
	if (!n || cnode_is_null(n))
		return 0;
	if (!resolve_expect_map(r, n, "relationships"))
		return -EINVAL;
	snprintf(base, sizeof(base), "%s", r->path);
	v = xcalloc(n->n, sizeof(*v));
	for (size_t i = 0; i < n->n; i++) {
		const struct cnode_pair *p = &n->pairs[i];
		const struct cnode *val = p->value;
		char *service = NULL, *endpoint = NULL;

		rctx_path(r, base, p->key->str);
		if (!is_env_name(p->key->str) && !resolve_name_ok(p->key->str, &why)) {
			fail(r, p->key, "relationship name '%s' is not valid", p->key->str);
			continue;
		}
		parse_relationship(r, p->key->str, val, &service, &endpoint);
		check_target(r, val, &service, &endpoint);
		if (!service) {
			free(endpoint);
			continue;
		}
		v[cnt].name = xstrdup(p->key->str);
		v[cnt].service = service;
		v[cnt].endpoint = endpoint;
		v[cnt].file = val->file ? xstrdup(val->file) : NULL;
		v[cnt].line = val->line;
		v[cnt].col = val->col;
		v[cnt].path = xstrdup(r->path);
		cnt++;
	}
	snprintf(r->path, sizeof(r->path), "%s", base);
	*out = v;
	*nout = cnt;
	return 0;
}

static bool prefix_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

static int resolve_variables(struct rctx *r, const struct cnode *n, struct variable **out,
			     size_t *nout)
{
	struct variable *v = NULL;
	size_t cnt = 0, cap = 0;
	char base[sizeof(r->path)];

	*out = NULL;
	*nout = 0;
	if (!n || cnode_is_null(n))
		return 0;
	if (!resolve_expect_map(r, n, "variables"))
		return -EINVAL;
	snprintf(base, sizeof(base), "%s", r->path);
	for (size_t i = 0; i < n->n; i++) {
		const struct cnode_pair *p = &n->pairs[i];
		const char *prefix = p->key->str;

		rctx_path(r, base, prefix);
		if (!prefix_ok(prefix)) {
			fail(r, p->key, "variable prefix '%s' is not valid", prefix);
			continue;
		}
		if (cnode_is_null(p->value))
			continue;
		if (!resolve_expect_map(r, p->value, "a variables prefix block"))
			continue;
		for (size_t k = 0; k < p->value->n; k++) {
			const struct cnode_pair *q = &p->value->pairs[k];
			char sub[sizeof(r->path)];

			snprintf(sub, sizeof(sub), "%s", r->path);
			rctx_path(r, sub, q->key->str);
			if (strcmp(prefix, "env") == 0 && !is_env_name(q->key->str)) {
				fail(r, q->key,
				     "'%s' cannot be an environment variable name "
				     "(letters, digits and '_', not starting with a digit)",
				     q->key->str);
			} else if (!q->key->str[0] || resolve_has_control(q->key->str)) {
				fail(r, q->key, "variable name '%s' is not valid", q->key->str);
			} else {
				xgrow(&v, &cap, cnt + 1, sizeof(*v));
				v[cnt].prefix = xstrdup(prefix);
				v[cnt].name = xstrdup(q->key->str);
				v[cnt].value = cnode_to_json(q->value);
				cnt++;
			}
			snprintf(r->path, sizeof(r->path), "%s", sub);
		}
	}
	snprintf(r->path, sizeof(r->path), "%s", base);
	*out = v;
	*nout = cnt;
	return 0;
}

static int resolve_commands(struct rctx *r, const struct cnode *n, const struct cnode *owner,
			    char **start, char **pre)
{
	const struct cnode *s = NULL;
	char base[sizeof(r->path)];

	*start = NULL;
	*pre = NULL;
	if (!n) {
		fail(r, owner, "commands.start is required");
		return -EINVAL;
	}
	if (!resolve_expect_map(r, n, "commands"))
		return -EINVAL;
	snprintf(base, sizeof(base), "%s", r->path);
	for (size_t i = 0; i < n->n; i++) {
		const struct cnode_pair *p = &n->pairs[i];
		rctx_path(r, base, p->key->str);
		if (strcmp(p->key->str, "start") == 0) {
			s = p->value;
			if (!resolve_expect_string(r, s, "commands.start"))
				continue;
			if (s->len > START_MAX_BYTES)
				fail(r, s, "commands.start is longer than %d bytes",
				     START_MAX_BYTES);
			else if (strspn(s->str, " \t\r\n") == s->len)
				fail(r, s, "commands.start is empty");
			else
				*start = xstrdup(s->str);
		} else if (strcmp(p->key->str, "pre_start") == 0) {
			/* as start: an argument of execve in berth run and
			 * berth spec alike */
			if (cnode_is_null(p->value) ||
			    !resolve_expect_string(r, p->value, "commands.pre_start"))
				continue;
			if (p->value->len > START_MAX_BYTES)
				fail(r, p->value, "commands.pre_start is longer than %d bytes",
				     START_MAX_BYTES);
			else
				*pre = xstrdup(p->value->str);
		} else {
			fail(r, p->key, "unknown command '%s' (workers have start and pre_start)",
			     p->key->str);
		}
	}
	snprintf(r->path, sizeof(r->path), "%s", base);
	if (!s)
		fail(r, n, "commands.start is required");
	return *start ? 0 : -EINVAL;
}

static const char *const worker_keys[] = {
	"commands",  "size",   "disk",	   "mounts",   "relationships",
	"variables", "access", "timezone", "firewall", "resources",
};

/* Parse one inheritable key: the worker's value when it sets the key,
 * the top level's otherwise.  Returns the node used (may be NULL). */
static const struct cnode *pick(const struct app *app, const struct cnode *wnode, const char *name,
				const char *key, bool report_inherited, struct diags *d,
				struct rctx *r, bool *overridden)
{
	const struct cnode *n = cnode_get(wnode, key);

	if (n) { /* present, even as null: the worker overrides the key */
		*overridden = true;
		r->d = d;
		snprintf(r->path, sizeof(r->path), "workers.%s.%s", name, key);
		return n;
	}
	*overridden = false;
	r->d = report_inherited ? d : NULL;
	snprintf(r->path, sizeof(r->path), "%s", key);
	return cnode_get(app->app_node, key);
}

static json_t *opaque(struct rctx *r, const struct cnode *n, const char *what, bool want_map)
{
	if (!n || cnode_is_null(n))
		return NULL;
	if (want_map && !resolve_expect_map(r, n, what))
		return NULL;
	return cnode_to_json(n);
}

static void check_cross(const struct app *app, const struct worker *w, const struct cnode *wnode,
			const struct cnode *mounts_node, struct rctx *r)
{
	for (size_t i = 0; i < w->n_mounts; i++) {
		if (w->mounts[i].source == MOUNT_LOCAL && !w->has_disk) {
			snprintf(r->path, sizeof(r->path), "workers.%s.mounts", w->name);
			fail(r, mounts_node ? mounts_node : wnode,
			     "local mount '%s' needs 'disk' (its storage has no space without it)",
			     w->mounts[i].path);
		}
	}
	if (!app->have_services)
		return;
	for (size_t i = 0; i < w->n_rels; i++) {
		const char *svc = w->rels[i].service;
		bool known = app_find_service(app, svc) != NULL;

		for (char **a = app->apps; !known && a && *a; a++)
			known = strcmp(*a, svc) == 0;
		/* Another app of the project (an app-to-app relationship always
		 * names the endpoint 'http'). */
		if (w->rels[i].endpoint && strcmp(w->rels[i].endpoint, "http") == 0)
			known = true;
		if (!known) {
			/* At the entry, under the key path where it is written:
			 * an inherited entry is reported once (diags drops the
			 * same message at the same place). */
			const struct relationship *rl = &w->rels[i];

			r->failed = true;
			if (r->d)
				diags_add(r->d, rl->file, rl->line, rl->col, rl->path,
					  "service '%s' is not defined in %s", svc,
					  app->services_file ? app->services_file
							     : "services.yaml");
		}
	}
}

void resolve_check_top(const struct app *app, struct diags *d)
{
	struct rctx r = {.app = app, .d = d};
	const struct cnode *top = app->app_node;
	struct worker scratch = {0};

	snprintf(r.path, sizeof(r.path), "size");
	resolve_size(&r, cnode_get(top, "size"), &scratch.size);
	snprintf(r.path, sizeof(r.path), "disk");
	resolve_disk(&r, cnode_get(top, "disk"), &scratch.has_disk, &scratch.disk_mb);
	snprintf(r.path, sizeof(r.path), "mounts");
	resolve_mounts(&r, cnode_get(top, "mounts"), &scratch.mounts, &scratch.n_mounts);
	snprintf(r.path, sizeof(r.path), "relationships");
	resolve_relationships(&r, cnode_get(top, "relationships"), &scratch.rels, &scratch.n_rels);
	snprintf(r.path, sizeof(r.path), "variables");
	resolve_variables(&r, cnode_get(top, "variables"), &scratch.vars, &scratch.n_vars);
	snprintf(r.path, sizeof(r.path), "timezone");
	const struct cnode *tz = cnode_get(top, "timezone");
	if (tz && !cnode_is_null(tz))
		resolve_expect_string(&r, tz, "timezone");
	snprintf(r.path, sizeof(r.path), "firewall");
	json_decref(resolve_firewall(&r, cnode_get(top, "firewall")));
	static const char *const maps[] = {"access", "resources"};
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		snprintf(r.path, sizeof(r.path), "%s", maps[i]);
		json_decref(opaque(&r, cnode_get(top, maps[i]), maps[i], true));
	}
	worker_free(&scratch);
}

/* Refuses keys a worker does not have, each with its own path. */
static void check_worker_keys(struct rctx *r, const struct cnode *wnode, const char *name)
{
	for (size_t i = 0; i < wnode->n; i++) {
		const struct cnode_pair *p = &wnode->pairs[i];
		bool known = false;
		for (size_t k = 0; k < ARRAY_SIZE(worker_keys); k++)
			known = known || strcmp(p->key->str, worker_keys[k]) == 0;
		if (!known) {
			snprintf(r->path, sizeof(r->path), "workers.%s.%s", name, p->key->str);
			fail(r, p->key, "unknown worker key '%s'", p->key->str);
		}
	}
}

/* The keys a worker inherits from the app unless it sets them: size,
 * disk, mounts, relationships, variables, timezone, access, firewall,
 * resources.  Returns the mounts' node for the cross checks. */
static const struct cnode *resolve_inherited(struct rctx *r, const struct app *app,
					     const struct cnode *wnode, const char *name,
					     struct diags *d, bool report_inherited,
					     struct worker *w)
{
	const struct cnode *n, *mounts_node;

	n = pick(app, wnode, name, "size", report_inherited, d, r, &w->overridden.size);
	resolve_size(r, n, &w->size);
	w->profile = size_profile_for_type(app->type);
	w->limits = size_lookup(w->size, w->profile);

	n = pick(app, wnode, name, "disk", report_inherited, d, r, &w->overridden.disk);
	resolve_disk(r, n, &w->has_disk, &w->disk_mb);

	mounts_node =
		pick(app, wnode, name, "mounts", report_inherited, d, r, &w->overridden.mounts);
	resolve_mounts(r, mounts_node, &w->mounts, &w->n_mounts);

	n = pick(app, wnode, name, "relationships", report_inherited, d, r,
		 &w->overridden.relationships);
	resolve_relationships(r, n, &w->rels, &w->n_rels);

	n = pick(app, wnode, name, "variables", report_inherited, d, r, &w->overridden.variables);
	resolve_variables(r, n, &w->vars, &w->n_vars);

	n = pick(app, wnode, name, "timezone", report_inherited, d, r, &w->overridden.timezone);
	if (n && !cnode_is_null(n) && resolve_expect_string(r, n, "timezone"))
		w->timezone = xstrdup(n->str);

	n = pick(app, wnode, name, "access", report_inherited, d, r, &w->overridden.access);
	w->access = opaque(r, n, "access", true);
	n = pick(app, wnode, name, "firewall", report_inherited, d, r, &w->overridden.firewall);
	w->firewall = resolve_firewall(r, n);
	n = pick(app, wnode, name, "resources", report_inherited, d, r, &w->overridden.resources);
	w->resources = opaque(r, n, "resources", true);
	return mounts_node;
}

int resolve_worker(const struct app *app, const struct cnode_pair *wpair, struct worker *w,
		   struct diags *d, bool report_inherited)
{
	struct rctx r = {.app = app, .d = d};
	const struct cnode *n, *mounts_node, *wnode = wpair->value;
	const char *why, *name = wpair->key->str;

	memset(w, 0, sizeof(*w));
	snprintf(r.path, sizeof(r.path), "workers.%s", name);
	if (!resolve_name_ok(name, &why))
		fail(&r, wpair->key, "worker name '%s' %s", name, why);
	if (!resolve_expect_map(&r, wnode, "a worker")) {
		return -EINVAL;
	}
	check_worker_keys(&r, wnode, name);

	w->name = xstrdup(name);
	w->app_name = xstrdup(app->name ? app->name : "app");
	w->app_type = app->type ? xstrdup(app->type) : NULL;
	w->app_dir = xstrdup(app->dir ? app->dir : ".");
	w->config_file = xstrdup(app->file ? app->file : "");

	n = cnode_get(wnode, "commands");
	snprintf(r.path, sizeof(r.path), n ? "workers.%s.commands" : "workers.%s", name);
	r.d = d;
	resolve_commands(&r, n, wpair->key, &w->start, &w->pre_start);
	mounts_node = resolve_inherited(&r, app, wnode, name, d, report_inherited, w);

	r.d = d;
	check_cross(app, w, wnode, mounts_node, &r);
	if (r.failed) {
		worker_free(w);
		return -EINVAL;
	}
	return 0;
}
