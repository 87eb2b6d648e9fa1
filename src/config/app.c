/* SPDX-License-Identifier: MIT */
/*
 * The app model: locating `.platform.app.yaml` (or an entry of
 * `.platform/applications.yaml`) and `services.yaml`, loading them through
 * yamltree, validating the top level, services and every worker, and
 * handing single workers to resolve.c.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "resolve.h"

static bool file_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static char *dir_of(const char *path)
{
	char *copy = xstrdup(path), *d = xstrdup(dirname(copy));
	free(copy);
	return d;
}

static char *abs_dir(const char *dir)
{
	char buf[PATH_MAX];
	return realpath(dir, buf) ? xstrdup(buf) : xstrdup(dir);
}

static const struct cnode *node_key(const struct cnode *map, const char *key)
{
	return map && map->kind == CNODE_MAP ? cnode_get(map, key) : NULL;
}

/* Platform.sh's types are "NAME:VERSION"; without the version it refuses
 * the config. */
static bool type_has_version(const char *t)
{
	const char *colon = strchr(t, ':');

	return colon && colon > t && colon[1];
}

static bool service_size_ok(const char *file, const char *name, const struct cnode *n,
			    struct diags *d)
{
	enum size_name sz;

	if (!n || cnode_is_null(n))
		return true;
	if (n->kind == CNODE_SCALAR && n->type == SCALAR_STR && size_parse(n->str, &sz) == 0)
		return true;
	diags_add(d, file, n->line, n->col, name,
		  "unknown size '%s' (expected AUTO, S, M, L, XL, 2XL or 4XL)",
		  n->kind == CNODE_SCALAR ? n->str : cnode_type_name(n));
	return false;
}

/* One entry of services.yaml: a valid name, a mapping with a versioned
 * type and a valid size; a diag otherwise. */
static bool service_ok(const char *file, const struct cnode_pair *p, struct diags *d)
{
	const struct cnode *type = node_key(p->value, "type");
	const char *why;

	if (!resolve_name_ok(p->key->str, &why)) {
		diags_add(d, file, p->key->line, p->key->col, p->key->str, "service name '%s' %s",
			  p->key->str, why);
		return false;
	}
	if (p->value->kind != CNODE_MAP) {
		diags_add(d, file, p->value->line, p->value->col, p->key->str,
			  "a service must be a mapping, not %s", cnode_type_name(p->value));
		return false;
	}
	if (!type || type->kind != CNODE_SCALAR || type->type != SCALAR_STR || !type->str[0]) {
		const struct cnode *at = type ? type : p->value;
		diags_add(d, file, at->line, at->col, p->key->str,
			  "a service needs a 'type' such as 'mariadb:10.6'");
		return false;
	}
	if (!type_has_version(type->str)) {
		diags_add(d, file, type->line, type->col, p->key->str,
			  "type '%s' needs a version: '%.*s:VERSION' (e.g. 'mariadb:10.6')",
			  type->str, (int)strcspn(type->str, ":"), type->str);
		return false;
	}
	return service_size_ok(file, p->key->str, node_key(p->value, "size"), d);
}

static int load_services(struct app *app, const char *file, struct diags *d)
{
	const struct cnode *root;
	bool bad = false;

	if (ytree_load_services_file(file, &app->services_doc, d) < 0)
		return -EINVAL;
	app->have_services = true;
	app->services_file = xstrdup(file);
	root = app->services_doc.root;
	if (!root || cnode_is_null(root))
		return 0;
	if (root->kind != CNODE_MAP) {
		diags_add(d, file, root->line, root->col, "", "services must be a mapping");
		return -EINVAL;
	}
	app->services = xcalloc(root->n, sizeof(*app->services));
	for (size_t i = 0; i < root->n; i++) {
		const struct cnode_pair *p = &root->pairs[i];
		const struct cnode *conf = node_key(p->value, "configuration");
		const struct cnode *disk;

		if (!service_ok(file, p, d)) {
			bad = true;
			continue;
		}
		struct service *s = &app->services[app->n_services++];
		s->name = xstrdup(p->key->str);
		s->type = xstrdup(node_key(p->value, "type")->str);
		s->configuration = conf && conf->kind == CNODE_MAP ? cnode_to_json(conf) : NULL;
		disk = node_key(p->value, "disk");
		if (disk && disk->kind == CNODE_SCALAR && disk->type == SCALAR_INT &&
		    disk->ival > 0 && (unsigned long long)disk->ival <= APP_DISK_MAX_MB) {
			s->has_disk = true;
			s->disk_mb = (uint64_t)disk->ival;
		}
	}
	return bad ? -EINVAL : 0;
}

/* Validate the app mapping and every worker; fill the model. */
/* The app's name: --app's choice, 'name', or "app"; and its type, which
 * needs a version.  Problems are diags. */
static void set_name_type(struct app *app, const struct cnode *node, const char *name_override,
			  struct diags *d)
{
	const struct cnode *name = node_key(node, "name");
	const struct cnode *type = node_key(node, "type");
	const char *why;

	if (name_override) {
		app->name = xstrdup(name_override);
	} else if (name && !cnode_is_null(name)) {
		if (name->kind != CNODE_SCALAR || name->type != SCALAR_STR)
			diags_add(d, app->file, name->line, name->col, "name",
				  "name must be a string, not %s", cnode_type_name(name));
		else if (!resolve_name_ok(name->str, &why))
			diags_add(d, app->file, name->line, name->col, "name", "app name '%s' %s",
				  name->str, why);
		else
			app->name = xstrdup(name->str);
	} else {
		app->name = xstrdup("app"); /* as Platform.sh's linter defaults it */
	}
	if (!type || type->kind != CNODE_SCALAR || type->type != SCALAR_STR || !type->str[0]) {
		const struct cnode *at = type ? type : node;
		diags_add(d, app->file, at->line, at->col, "type",
			  "type is required: the runtime and version, e.g. 'python:3.11'");
	} else if (!type_has_version(type->str)) {
		diags_add(d, app->file, type->line, type->col, "type",
			  "type '%s' needs a version: the runtime and version, e.g. 'python:3.11'",
			  type->str);
	} else {
		app->type = xstrdup(type->str);
	}
}

static int app_build(struct app *app, const struct cnode *node, const char *name_override,
		     struct diags *d)
{
	const struct cnode *workers = node_key(node, "workers");
	size_t before = d->n;

	if (!node || node->kind != CNODE_MAP) {
		diags_add(d, app->file, node ? node->line : 0, node ? node->col : 0, "",
			  "the app config must be a mapping");
		return -EINVAL;
	}
	app->app_node = node;
	set_name_type(app, node, name_override, d);
	app->json = cnode_to_json(node);
	if (name_override)
		json_object_set_new(app->json, "name", json_string(name_override));

	resolve_check_top(app, d);

	if (workers && !cnode_is_null(workers) && workers->kind != CNODE_MAP) {
		diags_add(d, app->file, workers->line, workers->col, "workers",
			  "workers must be a mapping of worker names, not %s",
			  cnode_type_name(workers));
		workers = NULL;
	}
	app->workers = xcalloc((workers ? workers->n : 0) + 1, sizeof(char *));
	for (size_t i = 0; workers && i < workers->n; i++) {
		const struct cnode_pair *p = &workers->pairs[i];
		struct worker w;

		app->workers[app->n_workers++] = xstrdup(p->key->str);
		if (resolve_worker(app, p, &w, d, false) == 0)
			worker_free(&w);
	}
	return d->n > before ? -EINVAL : 0;
}

/* Pick one app of .platform/applications.yaml (a list, or a map keyed by name). */
static const struct cnode *pick_application(struct app *app, const struct cnode *root,
					    const char *want, const char **name_override,
					    struct diags *d)
{
	const struct cnode *found = NULL;
	size_t count = root->n;

	*name_override = NULL;
	if (root->kind == CNODE_SEQ || root->kind == CNODE_MAP) {
		app->apps = xcalloc(count + 1, sizeof(char *));
		app->app_types = xcalloc(count + 1, sizeof(char *));
	}
	if (root->kind != CNODE_SEQ && root->kind != CNODE_MAP) {
		diags_add(d, app->file, root->line, root->col, "",
			  "applications must be a list or a mapping of apps");
		return NULL;
	}
	for (size_t i = 0; i < count; i++) {
		const struct cnode *n =
			root->kind == CNODE_SEQ ? root->items[i] : root->pairs[i].value;
		const char *nm = NULL;
		if (root->kind == CNODE_MAP) {
			nm = root->pairs[i].key->str;
			if (node_key(n, "name"))
				diags_add(d, app->file, n->line, n->col, nm,
					  "an app keyed by name must not set 'name'");
		} else {
			const struct cnode *nn = node_key(n, "name");
			nm = nn && nn->kind == CNODE_SCALAR ? nn->str : "app";
		}
		app->apps[i] = xstrdup(nm);
		const struct cnode *ty = node_key(n, "type");

		/* for app-to-app relationships' "type" */
		app->app_types[i] = xstrdup(
			ty && ty->kind == CNODE_SCALAR && ty->type == SCALAR_STR ? ty->str : "");
		if (!want && count == 1) {
			found = n;
		} else if (want && strcmp(want, nm) == 0) {
			found = n;
		}
		if (found && !*name_override && root->kind == CNODE_MAP && found == n)
			*name_override = nm;
	}
	if (!found) {
		if (want)
			diags_add(d, app->file, 0, 0, "", "no app named '%s'", want);
		else
			diags_add(d, app->file, 0, 0, "",
				  "%zu apps are defined here: choose one with --app NAME", count);
	}
	return found;
}

/* Finds the app's file (app->file): -f FILE, or .platform.app.yaml or
 * .platform/applications.yaml in the directory; *multi for the latter. */
static int find_app_file(const struct app_locator *loc, struct app *app, bool *multi,
			 struct diags *d)
{
	const char *cwd = loc->cwd ? loc->cwd : ".";

	*multi = false;
	if (loc->app_config) {
		app->file = xstrdup(loc->app_config);
		char *base = xstrdup(app->file);
		*multi = strcmp(basename(base), "applications.yaml") == 0;
		free(base);
		return 0;
	}
	char *single = xasprintf("%s/.platform.app.yaml", cwd);
	char *many = xasprintf("%s/.platform/applications.yaml", cwd);
	if (file_exists(single)) {
		app->file = single;
		free(many);
	} else if (file_exists(many)) {
		app->file = many;
		*multi = true;
		free(single);
	} else {
		diags_add(d, NULL, 0, 0, "",
			  "no .platform.app.yaml or .platform/applications.yaml in %s "
			  "(use -f FILE or run in the app directory)",
			  cwd);
		free(single);
		free(many);
		return -ENOENT;
	}
	return 0;
}

/* Sets app->dir from the file's place; returns the project root. */
static char *find_dirs(struct app *app, bool multi)
{
	char *file_dir = dir_of(app->file);
	char *project_root;

	if (multi) {
		/* FILE is PROJECT/.platform/applications.yaml */
		project_root = dir_of(file_dir);
		app->dir = abs_dir(project_root);
	} else {
		app->dir = abs_dir(file_dir);
		project_root = xstrdup(app->dir);
	}
	free(file_dir);
	return project_root;
}

/* The app's node in the document: in applications.yaml the one chosen
 * (--app), whose source.root moves app->dir; NULL on error (a diag). */
static const struct cnode *select_app(const struct app_locator *loc, struct app *app, bool multi,
				      const char *project_root, const char **name_override,
				      struct diags *d)
{
	const struct cnode *node = app->doc.root;

	if (!multi) {
		if (!loc->app_name)
			return node;
		diags_add(d, app->file, 0, 0, "", "--app %s needs .platform/applications.yaml",
			  loc->app_name);
		return NULL;
	}
	node = pick_application(app, node, loc->app_name, name_override, d);
	if (!node)
		return NULL;
	const struct cnode *src = node_key(node_key(node, "source"), "root");
	if (src && src->kind == CNODE_SCALAR && src->type == SCALAR_STR) {
		char *sub = xasprintf("%s/%s", project_root, src->str);
		free(app->dir);
		app->dir = abs_dir(sub);
		free(sub);
	}
	return node;
}

/* The services file: --services, or .platform/services.yaml beside the
 * project root; NULL when there is none. */
static char *services_file(const struct app_locator *loc, const char *project_root, bool multi)
{
	char *services;

	if (loc->services)
		return xstrdup(loc->services);
	/* .platform/services.yaml beside the project root: the app's own
	 * directory, or its parent in a multi-app repository. */
	services = xasprintf("%s/.platform/services.yaml", project_root);
	if (!file_exists(services) && !multi) {
		char *parent = dir_of(project_root);
		free(services);
		services = xasprintf("%s/.platform/services.yaml", parent);
		free(parent);
	}
	if (!file_exists(services)) {
		free(services);
		services = NULL;
	}
	return services;
}

int app_load(const struct app_locator *loc, struct app *app, struct diags *d)
{
	char *project_root = NULL, *services = NULL;
	const char *name_override = NULL;
	const struct cnode *node;
	bool multi;
	size_t before = d->n;
	int r;

	memset(app, 0, sizeof(*app));
	r = find_app_file(loc, app, &multi, d);
	if (r < 0)
		return r;
	project_root = find_dirs(app, multi);

	r = multi ? ytree_load_file_list(app->file, app->dir, &app->doc, d)
		  : ytree_load_file(app->file, app->dir, &app->doc, d);
	if (r < 0)
		goto fail;
	node = select_app(loc, app, multi, project_root, &name_override, d);
	if (!node) {
		r = -EINVAL;
		goto fail;
	}
	services = services_file(loc, project_root, multi);
	if (services && load_services(app, services, d) < 0) {
		r = -EINVAL;
		goto fail;
	}
	r = app_build(app, node, name_override, d);
	/* Any diagnostic is an error, also one found before app_build (an
	 * app of applications.yaml's map form that sets 'name'). */
	if (r == 0 && d->n > before)
		r = -EINVAL;
	if (r < 0)
		goto fail;
	free(project_root);
	free(services);
	return 0;
fail:
	free(project_root);
	free(services);
	app_free(app);
	return r;
}

int app_load_buffer(const char *name, const char *buf, size_t len, struct app *app, struct diags *d)
{
	int r;

	memset(app, 0, sizeof(*app));
	app->file = xstrdup(name);
	app->dir = xstrdup("/app");
	r = ytree_load_buffer(name, buf, len, NULL, &app->doc, d);
	if (r == 0)
		r = app_build(app, app->doc.root, NULL, d);
	if (r < 0)
		app_free(app);
	return r;
}

int app_resolve(const struct app *app, const char *worker, struct worker *out, struct diags *d)
{
	const struct cnode *workers = node_key(app->app_node, "workers");
	const struct cnode_pair *wpair = NULL;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; workers && workers->kind == CNODE_MAP && i < workers->n; i++)
		if (strcmp(workers->pairs[i].key->str, worker) == 0)
			wpair = &workers->pairs[i];
	if (!wpair) {
		struct strbuf names = {0};
		for (size_t i = 0; i < app->n_workers; i++)
			strbuf_printf(&names, "%s%s", i ? ", " : "", app->workers[i]);
		diags_add(d, app->file, 0, 0, "workers", "no worker named '%s' (%s%s)", worker,
			  app->n_workers ? "workers: " : "the app has no workers",
			  names.buf ? names.buf : "");
		strbuf_release(&names);
		return -ENOENT;
	}
	return resolve_worker(app, wpair, out, d, true);
}

void app_free(struct app *app)
{
	if (!app)
		return;
	free(app->file);
	free(app->dir);
	free(app->name);
	free(app->type);
	json_decref(app->json);
	strv_free(app->workers);
	for (size_t i = 0; i < app->n_services; i++) {
		free(app->services[i].name);
		free(app->services[i].type);
		json_decref(app->services[i].configuration);
	}
	free(app->services);
	free(app->services_file);
	strv_free(app->apps);
	strv_free(app->app_types);
	ytree_doc_free(&app->doc);
	ytree_doc_free(&app->services_doc);
	memset(app, 0, sizeof(*app));
}
