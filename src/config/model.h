/* SPDX-License-Identifier: MIT */
/*
 * The app model: what app_load() reads (struct app, its services) and
 * what resolution makes of one worker (struct worker, its mounts,
 * relationships and variables).  Below the loader (app.c) and the
 * resolver (resolve*.c), which both work on it; worker.c frees a worker
 * and writes its JSON.
 */
#ifndef BERTH_MODEL_H
#define BERTH_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "size.h"
#include "yamltree.h"

enum mount_source { MOUNT_LOCAL, MOUNT_TMP, MOUNT_SERVICE };

struct mount {
	char *path; /* relative to the app root, no leading or trailing '/'
		     * ("web/uploads") */
	enum mount_source source;
	char *source_path; /* relative to the instance's storage, "" = its root;
			    * legacy 'shared:files/X' gives local + "X" */
	char *service;	   /* MOUNT_SERVICE: the network-storage service, else NULL */
	bool legacy;	   /* written as 'shared:files/...' */
};

struct relationship {
	char *name;	/* "database" */
	char *service;	/* "mysqldb" (a service of services.yaml, or an app) */
	char *endpoint; /* "mysql", or NULL for the service's default endpoint */
	/* Where the entry is written, for diagnostics: its file, the position
	 * of its value and its key path ("relationships.db" when inherited
	 * from the top level, "workers.queue.relationships.db" otherwise). */
	char *file;
	unsigned line, col;
	char *path;
};

struct variable {
	char *prefix;  /* "env", "php", "d8config", ... */
	char *name;    /* the name under the prefix ("type", "system.site:name") */
	json_t *value; /* owned; YAML's type kept (string, number, bool, null,
			* array, object) */
};

struct service {
	char *name;	       /* key in services.yaml */
	char *type;	       /* "mariadb:10.6" */
	json_t *configuration; /* owned; `configuration` block or NULL */
	bool has_disk;	       /* `disk` is a positive integer of MB */
	uint64_t disk_mb;      /* at most APP_DISK_MAX_MB */
};

/* The largest `disk`: 1 PB.  Its byte size fits a loff_t (2^63 - 1) with
 * room to spare; a larger value is a typo, and one above 2^64 / 10^6 MB
 * would wrap to a tiny image. */
#define APP_DISK_MAX_MB 1000000000ULL
/* Platform.sh's smallest `disk`, MB: `berth check` refuses less, and
 * `berth kube` sizes no claim below it. */
#define APP_PLATFORM_DISK_MIN_MB 128

/* One worker after inheritance.  Immutable once built; free with worker_free(). */
struct worker {
	char *name;	   /* worker name ("queue") */
	char *app_name;	   /* the app's `name` */
	char *app_type;	   /* the app's `type` ("python:3.7") */
	char *app_dir;	   /* absolute host path of the app root */
	char *config_file; /* the file the worker was read from */

	enum size_name size; /* AUTO when not set anywhere */
	enum size_profile profile;
	struct size_limits limits; /* from the table; {0,0} for AUTO */

	bool has_disk;
	uint64_t disk_mb; /* MB (10^6 bytes), valid when has_disk; at most APP_DISK_MAX_MB */

	struct mount *mounts; /* sorted by path */
	size_t n_mounts;
	struct relationship *rels; /* in config order */
	size_t n_rels;
	struct variable *vars; /* in config order */
	size_t n_vars;

	char *start;	 /* commands.start */
	char *pre_start; /* commands.pre_start, or NULL */

	char *timezone;	   /* or NULL */
	json_t *access;	   /* owned, or NULL when not set */
	json_t *firewall;  /* owned, or NULL */
	json_t *resources; /* owned, or NULL */

	/* Which keys came from the worker itself (true) or from the top level. */
	struct {
		bool size, relationships, access, disk, mounts, variables, timezone, firewall,
			resources;
	} overridden;
};

struct app {
	char *file; /* app config file */
	char *dir;  /* absolute app root (directory of the config, or
		     * source.root for applications.yaml entries) */
	char *name;
	char *type;
	json_t *json;	/* the whole app config as JSON (for PLATFORM_APPLICATION) */
	char **workers; /* worker names, config order, NULL-terminated */
	size_t n_workers;
	struct service *services;
	size_t n_services;
	bool have_services;  /* a services.yaml was found and loaded */
	char *services_file; /* or NULL */
	char **apps;	     /* names of the other apps of the project
			      * (applications.yaml), NULL-terminated */
	char **app_types;    /* their types, in the order of apps ("" when not
			      * a string), NULL-terminated; or NULL */

	struct ytree_doc doc;	       /* private: the loaded tree */
	struct ytree_doc services_doc; /* private */
	const struct cnode *app_node;  /* private: the app's mapping */
};

void worker_free(struct worker *w);
const char *mount_source_to_string(enum mount_source s);
/* The resolved worker as JSON (`berth show`). */
json_t *worker_to_json(const struct worker *w);

/* resolve-common.c: the service of services.yaml named name, or NULL. */
const struct service *app_find_service(const struct app *app, const char *name);

#endif
