/* SPDX-License-Identifier: MIT */
/* The resolved worker: freeing it, and its JSON for `berth show`.  Below
 * the resolver, which builds it and frees it on failure. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "resolve-internal.h"

void resolve_mount_clear(struct mount *m)
{
	free(m->path);
	free(m->source_path);
	free(m->service);
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	free(w->name);
	free(w->app_name);
	free(w->app_type);
	free(w->app_dir);
	free(w->config_file);
	for (size_t i = 0; i < w->n_mounts; i++)
		resolve_mount_clear(&w->mounts[i]);
	free(w->mounts);
	for (size_t i = 0; i < w->n_rels; i++) {
		free(w->rels[i].name);
		free(w->rels[i].service);
		free(w->rels[i].endpoint);
		free(w->rels[i].file);
		free(w->rels[i].path);
	}
	free(w->rels);
	for (size_t i = 0; i < w->n_vars; i++) {
		free(w->vars[i].prefix);
		free(w->vars[i].name);
		json_decref(w->vars[i].value);
	}
	free(w->vars);
	free(w->start);
	free(w->pre_start);
	free(w->timezone);
	json_decref(w->access);
	json_decref(w->firewall);
	json_decref(w->resources);
	memset(w, 0, sizeof(*w));
}

const char *mount_source_to_string(enum mount_source s)
{
	switch (s) {
	case MOUNT_LOCAL:
		return "local";
	case MOUNT_TMP:
		return "tmp";
	case MOUNT_SERVICE:
		return "service";
	}
	return "?";
}

static json_t *json_string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *json_or_null(json_t *j)
{
	return j ? json_incref(j) : json_null();
}

json_t *worker_to_json(const struct worker *w)
{
	json_t *o = json_object(), *mounts = json_array(), *rels = json_array();
	json_t *vars = json_object(), *size;

	json_object_set_new(o, "name", json_string(w->name));
	json_object_set_new(o, "app",
			    json_pack("{s:s, s:o}", "name", w->app_name, "type",
				      json_string_or_null(w->app_type)));
	size = json_pack("{s:s, s:s}", "name", size_to_string(w->size), "profile",
			 size_profile_to_string(w->profile));
	json_object_set_new(size, "cpu",
			    w->limits.cpu_milli ? json_real(w->limits.cpu_milli / 1000.0)
						: json_null());
	json_object_set_new(size, "memory_mib",
			    w->limits.memory_mib ? json_integer((json_int_t)w->limits.memory_mib)
						 : json_null());
	json_object_set_new(o, "size", size);
	json_object_set_new(o, "disk",
			    w->has_disk ? json_integer((json_int_t)w->disk_mb) : json_null());
	for (size_t i = 0; i < w->n_mounts; i++) {
		const struct mount *m = &w->mounts[i];
		json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:o}", "path", m->path,
							"source", mount_source_to_string(m->source),
							"source_path", m->source_path, "service",
							json_string_or_null(m->service)));
	}
	json_object_set_new(o, "mounts", mounts);
	for (size_t i = 0; i < w->n_rels; i++) {
		const struct relationship *rl = &w->rels[i];
		json_array_append_new(rels, json_pack("{s:s, s:s, s:o}", "name", rl->name,
						      "service", rl->service, "endpoint",
						      json_string_or_null(rl->endpoint)));
	}
	json_object_set_new(o, "relationships", rels);
	for (size_t i = 0; i < w->n_vars; i++) {
		const struct variable *v = &w->vars[i];
		json_t *block = json_object_get(vars, v->prefix);
		if (!block) {
			block = json_object();
			json_object_set_new(vars, v->prefix, block);
		}
		json_object_set(block, v->name, v->value);
	}
	json_object_set_new(o, "variables", vars);
	json_object_set_new(o, "commands",
			    json_pack("{s:s, s:o}", "start", w->start, "pre_start",
				      json_string_or_null(w->pre_start)));
	json_object_set_new(o, "timezone", json_string_or_null(w->timezone));
	json_object_set_new(o, "access", json_or_null(w->access));
	json_object_set_new(o, "firewall", json_or_null(w->firewall));
	json_object_set_new(o, "resources", json_or_null(w->resources));
	return o;
}
