/* SPDX-License-Identifier: MIT */
/*
 * The worker's environment (see env.h).  Built in an ordered map where
 * every entry remembers where it came from, so precedence is explicit and
 * overriding a platform value can be reported.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "cleanup.h"
#include "env.h"
#include "log.h"
#include "pyjson.h"
#include "relationships.h"
#include "util.h"

enum origin { O_BASE, O_CONFIG, O_CONTEXT, O_ALIAS, O_PASS, O_PLATFORM, O_COUNT };

static const char *const origin_names[] = {
	"the defaults",	  "the app config", "the context",
	"the app config", "--pass-env",	    "the platform",
};
_Static_assert(ARRAY_SIZE(origin_names) == O_COUNT, "a name for every origin");

struct entry {
	char *name;
	char *value;
	enum origin origin;
};

struct envmap {
	struct entry *v;
	size_t n, cap;
};

static struct entry *map_find(struct envmap *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].name, name) == 0)
			return &m->v[i];
	return NULL;
}

/* Set name to value (taken over). */
static void map_set(struct envmap *m, const char *name, char *value, enum origin o)
{
	struct entry *e = map_find(m, name);

	if (e) {
		if (o == O_PLATFORM && e->origin != O_BASE && e->origin != O_PLATFORM)
			log_warn("%s from %s is replaced by the platform's value", name,
				 origin_names[e->origin]);
		free(e->value);
	} else {
		xgrow(&m->v, &m->cap, m->n + 1, sizeof(*m->v));
		e = &m->v[m->n++];
		e->name = xstrdup(name);
	}
	e->value = value;
	e->origin = o;
}

static void map_free(struct envmap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].value);
	}
	free(m->v);
}

bool env_name_ok(const char *name)
{
	if (!((*name >= 'A' && *name <= 'Z') || (*name >= 'a' && *name <= 'z') || *name == '_'))
		return false;
	for (const char *p = name + 1; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

int env_value_string(const json_t *v, char **out)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (strlen(json_string_value(v)) != json_string_length(v))
			return -EINVAL; /* embedded NUL */
		*out = xstrdup(json_string_value(v));
		return 0;
	case JSON_NULL:
		*out = xstrdup("");
		return 0;
	default:
		return pyjson_dumps(v, out);
	}
}

/* base64 of the Python-json.dumps form of v.  0 or -EINVAL. */
static int env_encode_json(const json_t *v, char **out)
{
	_cleanup_free_ char *text = NULL;
	int r = pyjson_dumps(v, &text);

	if (r < 0)
		return r;
	*out = base64_encode(text, strlen(text));
	return 0;
}

/* PLATFORM_VARIABLES content: {"prefix:name": value} of every non-env:
 * variable of the worker, then of the context (which wins). */
static json_t *env_variables_json(const struct worker *w, const struct context *ctx)
{
	json_t *vars = json_object();
	const char *key;
	json_t *v;

	for (size_t i = 0; i < w->n_vars; i++) {
		const struct variable *var = &w->vars[i];

		if (strcmp(var->prefix, "env") == 0)
			continue;
		_cleanup_free_ char *name = xasprintf("%s:%s", var->prefix, var->name);

		json_object_set_new(vars, name, json_deep_copy(var->value));
	}
	if (ctx && ctx->variables)
		json_object_foreach(ctx->variables, key, v) if (!str_has_prefix(key, "env:"))
			json_object_set_new(vars, key, json_deep_copy(v));
	return vars;
}

/* Give the keys of a mounts object a leading '/'. */
static void normalise_mounts(json_t *parent)
{
	json_t *mounts = json_object_get(parent, "mounts");
	const char *key;
	json_t *v;

	if (!json_is_object(mounts))
		return;
	json_t *fixed = json_object();

	json_object_foreach(mounts, key, v)
	{
		_cleanup_free_ char *k = key[0] == '/' ? xstrdup(key) : xasprintf("/%s", key);

		json_object_set(fixed, k, v);
	}
	json_object_set_new(parent, "mounts", fixed);
}

/* PLATFORM_APPLICATION content: a copy of app->json with mount keys given a
 * leading '/' (top-level, web and workers mounts). */
static json_t *env_application_json(const struct app *app)
{
	json_t *j;
	const char *key;
	json_t *v;

	if (!app->json)
		return json_pack("{s:s?, s:s?}", "name", app->name, "type", app->type);
	j = json_deep_copy(app->json);
	normalise_mounts(j);
	normalise_mounts(json_object_get(j, "web"));
	json_object_foreach(json_object_get(j, "workers"), key, v) normalise_mounts(v);
	return j;
}

/* PLATFORM_DOCUMENT_ROOT: the root of web.locations['/'] under the app dir. */
static char *document_root(const struct app *app, const char *app_dir)
{
	json_t *loc = json_object_get(
		json_object_get(json_object_get(app->json, "web"), "locations"), "/");
	const char *root = json_string_value(json_object_get(loc, "root"));

	if (!root)
		return xstrdup(app_dir);
	while (*root == '/')
		root++;
	size_t n = strlen(root);

	while (n && root[n - 1] == '/')
		n--;
	if (n == 0)
		return xstrdup(app_dir);
	return xasprintf("%s/%.*s", app_dir, (int)n, root);
}

static char *upper(const char *s)
{
	char *u = xstrdup(s);

	for (char *p = u; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return u;
}

/* One env: variable from the app config or the context. */
static int set_env_var(struct envmap *m, const char *where, const char *name, const json_t *v,
		       enum origin o)
{
	char *value;

	if (!env_name_ok(name)) {
		log_error("%s: variables env:%s: not a valid environment variable name "
			  "([A-Za-z_][A-Za-z0-9_]*)",
			  where, name);
		return -EINVAL;
	}
	if (env_value_string(v, &value) < 0) {
		log_error("%s: variables env:%s: the value contains a NUL byte or invalid UTF-8",
			  where, name);
		return -EINVAL;
	}
	map_set(m, name, value, o);
	return 0;
}

/* The upper-cased alias of an env: name, where nothing else set that name. */
static void set_alias(struct envmap *m, const char *name)
{
	_cleanup_free_ char *u = upper(name);
	struct entry *e = map_find(m, u);
	struct entry *src = map_find(m, name);

	if (strcmp(u, name) == 0 || !src || (e && e->origin != O_BASE))
		return;
	map_set(m, u, xstrdup(src->value), O_ALIAS);
}

static int add_env_vars(struct envmap *m, const struct worker *w, const struct context *ctx)
{
	const char *cfg = w->config_file ? w->config_file : "app config";
	const char *key;
	json_t *v;
	int r = 0;

	for (size_t i = 0; i < w->n_vars; i++)
		if (strcmp(w->vars[i].prefix, "env") == 0 &&
		    set_env_var(m, cfg, w->vars[i].name, w->vars[i].value, O_CONFIG) < 0)
			r = -EINVAL;
	if (ctx->variables)
		json_object_foreach(ctx->variables, key,
				    v) if (str_has_prefix(key, "env:") &&
					   set_env_var(m, "context", key + 4, v, O_CONTEXT) < 0) r =
			-EINVAL;
	if (r < 0)
		return r;
	/* Aliases: the context's first, so they win over the app config's. */
	if (ctx->variables)
		json_object_foreach(ctx->variables, key, v) if (str_has_prefix(key, "env:"))
			set_alias(m, key + 4);
	for (size_t i = 0; i < w->n_vars; i++)
		if (strcmp(w->vars[i].prefix, "env") == 0)
			set_alias(m, w->vars[i].name);
	return 0;
}

static int add_pass_env(struct envmap *m, const struct env_options *opts)
{
	int r = 0;

	for (char *const *p = opts->pass_env; p && *p; p++) {
		size_t n = strlen(*p);

		if (!env_name_ok(*p)) {
			log_error("--pass-env %s: not a valid environment variable name", *p);
			r = -EINVAL;
			continue;
		}
		for (char *const *e = opts->environ; e && *e; e++)
			if (strncmp(*e, *p, n) == 0 && (*e)[n] == '=') {
				map_set(m, *p, xstrdup(*e + n + 1), O_PASS);
				break;
			}
	}
	return r;
}

static int set_json(struct envmap *m, const char *name, json_t *v)
{
	char *enc;
	int r = env_encode_json(v, &enc);

	json_decref(v);
	if (r < 0) {
		log_error("%s: a string is not valid UTF-8", name);
		return r;
	}
	map_set(m, name, enc, O_PLATFORM);
	return 0;
}

static int add_platform(struct envmap *m, const struct app *app, const struct worker *w,
			const struct context *ctx, const char *app_dir)
{
	json_t *rels;
	int r = relationships_build(app, w, ctx, NULL, NULL, &rels);

	if (r < 0)
		return r;
	map_set(m, "PLATFORM_APPLICATION_NAME", xstrdup(w->app_name ? w->app_name : app->name),
		O_PLATFORM);
	map_set(m, "PLATFORM_APP_DIR", xstrdup(app_dir), O_PLATFORM);
	map_set(m, "PLATFORM_PROJECT", xstrdup(ctx->project), O_PLATFORM);
	map_set(m, "PLATFORM_PROJECT_ENTROPY", xstrdup(ctx->entropy), O_PLATFORM);
	map_set(m, "PLATFORM_TREE_ID", xstrdup(ctx->tree_id), O_PLATFORM);
	map_set(m, "PLATFORM_BRANCH", xstrdup(ctx->branch), O_PLATFORM);
	map_set(m, "PLATFORM_ENVIRONMENT", xstrdup(ctx->environment), O_PLATFORM);
	map_set(m, "PLATFORM_ENVIRONMENT_TYPE", xstrdup(ctx->environment_type), O_PLATFORM);
	map_set(m, "PLATFORM_DOCUMENT_ROOT", document_root(app, app_dir), O_PLATFORM);
	if (ctx->smtp_host && ctx->smtp_host[0])
		map_set(m, "PLATFORM_SMTP_HOST", xstrdup(ctx->smtp_host), O_PLATFORM);
	if (set_json(m, "PLATFORM_RELATIONSHIPS", rels) < 0 ||
	    set_json(m, "PLATFORM_APPLICATION", env_application_json(app)) < 0 ||
	    set_json(m, "PLATFORM_VARIABLES", env_variables_json(w, ctx)) < 0 ||
	    set_json(m, "PLATFORM_ROUTES", ctx->routes ? json_incref(ctx->routes) : json_object()) <
		    0)
		return -EINVAL;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

int env_build(const struct app *app, const struct worker *w, const struct context *ctx,
	      const struct env_options *opts, char ***envp)
{
	const char *app_dir = ctx->app_dir ? ctx->app_dir : w->app_dir ? w->app_dir : app->dir;
	struct envmap m = {0};
	int r;

	map_set(&m, "HOME", xstrdup(opts->home ? opts->home : app_dir), O_BASE);
	map_set(&m, "USER", xstrdup(opts->user ? opts->user : ENV_DEFAULT_USER), O_BASE);
	map_set(&m, "SHELL", xstrdup(opts->shell ? opts->shell : ENV_DEFAULT_SHELL), O_BASE);
	map_set(&m, "PATH", xstrdup(opts->path ? opts->path : ENV_DEFAULT_PATH), O_BASE);
	map_set(&m, "LANG", xstrdup(opts->lang ? opts->lang : ENV_DEFAULT_LANG), O_BASE);
	/* `timezone` is the crons' on Platform.sh; the runtime stays UTC. */
	map_set(&m, "TZ", xstrdup(ENV_DEFAULT_TZ), O_BASE);

	r = add_env_vars(&m, w, ctx);
	if (r == 0)
		r = add_pass_env(&m, opts);
	if (r == 0)
		r = add_platform(&m, app, w, ctx, app_dir);
	if (r < 0) {
		map_free(&m);
		return r;
	}
	qsort(m.v, m.n, sizeof(*m.v), cmp_entry);
	char **v = xcalloc(m.n + 1, sizeof(*v));

	for (size_t i = 0; i < m.n; i++)
		v[i] = xasprintf("%s=%s", m.v[i].name, m.v[i].value);
	map_free(&m);
	r = env_check(v, opts->max_bytes, opts->max_string);
	if (r < 0) {
		strv_free(v);
		return r;
	}
	*envp = v;
	return 0;
}

int env_check(char *const *envp, size_t max_bytes, size_t max_string)
{
	size_t total = sizeof(char *); /* the terminating NULL */
	size_t biggest = 0;
	const char *big = NULL;

	for (char *const *p = envp; *p; p++) {
		const char *eq = strchr(*p, '=');
		size_t len = strlen(*p) + 1;

		if (!eq) {
			log_error("environment entry without '=': %.64s", *p);
			return -EINVAL;
		}
		_cleanup_free_ char *name = xstrndup(*p, (size_t)(eq - *p));

		if (!env_name_ok(name)) {
			log_error("environment variable name \"%.64s\" is not valid "
				  "([A-Za-z_][A-Za-z0-9_]*)",
				  name);
			return -EINVAL;
		}
		if (max_string && len > max_string) {
			log_error("environment variable %s is %zu bytes; execve allows at most %zu",
				  name, len, max_string);
			return -E2BIG;
		}
		total += len + sizeof(char *);
		if (len > biggest) {
			biggest = len;
			big = *p;
		}
	}
	if (max_bytes && total > max_bytes) {
		int n = big ? (int)strcspn(big, "=") : 0;

		log_error("the environment is %zu bytes, more than the %zu execve allows here "
			  "(largest: %.*s, %zu bytes)",
			  total, max_bytes, n, big ? big : "", biggest);
		return -E2BIG;
	}
	return 0;
}

json_t *env_names_json(char *const *envp)
{
	json_t *a = json_array();

	for (char *const *p = envp; p && *p; p++)
		json_array_append_new(a, json_stringn(*p, strcspn(*p, "=")));
	return a;
}
