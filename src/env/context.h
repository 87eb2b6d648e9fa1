/* SPDX-License-Identifier: MIT */
/*
 * The platform's facts about a worker's runtime: project, entropy, tree id,
 * branch, environment, routes, SMTP host and the real addresses and
 * credentials of services.  Only the orchestrator knows them; it writes a
 * JSON context file (doc/context.md) that is merged over working defaults.
 */
#ifndef BERTH_CONTEXT_H
#define BERTH_CONTEXT_H

#include <jansson.h>
#include <stdbool.h>

#define CONTEXT_PROJECT_FILE	"project.json" /* under the state directory */
#define CONTEXT_DEFAULT_TREE_ID "0000000000000000000000000000000000000000"
#define CONTEXT_GIT		"/usr/bin/git"

struct context {
	char *project;		/* PLATFORM_PROJECT */
	char *entropy;		/* PLATFORM_PROJECT_ENTROPY */
	char *tree_id;		/* PLATFORM_TREE_ID */
	char *branch;		/* PLATFORM_BRANCH */
	char *environment;	/* PLATFORM_ENVIRONMENT */
	char *environment_type; /* "production", "staging" or "development" */
	char *smtp_host;	/* PLATFORM_SMTP_HOST; NULL = no mail */
	char *app_dir;		/* PLATFORM_APP_DIR as the worker sees it; NULL =
				 * the app directory */
	char *auto_size;	/* what size AUTO means on this host ("M"), or
				 * NULL (no limit); --auto-size wins */
	json_t *routes;		/* object; PLATFORM_ROUTES */
	json_t *variables;	/* object "prefix:name" -> value (project and
				 * environment level), or NULL */
	json_t *services;	/* object: service -> endpoint fields, plus
				 * "endpoints": {name: fields}; or NULL */
	json_t *relationships;	/* object: relationship -> endpoint fields, or NULL */
};

struct context_options {
	const char *file;	 /* --context FILE, or NULL */
	const char *state_dir;	 /* --state-dir, or NULL for BERTH_STATE_DIR */
	const char *app_dir;	 /* the app directory (for the git tree id) */
	const char *git;	 /* git binary, or NULL for CONTEXT_GIT */
	const char *runtime_dir; /* berth's runtime directory, for the tree id
				  * cache (cache/tree/), or NULL: none */
	bool read_only;		 /* read the state, never create it (show, env):
				  * placeholders while there is none */
	bool *state_failed;	 /* set when the state directory failed (a setup
				  * problem, not the context file's), or NULL */
};

/*
 * Read the context file (if any), then fill every missing fact with its
 * default: project and entropy from the state directory (created once),
 * tree id from git, branch "main", environment "<branch>-<7 chars>",
 * type "development", routes {}.  Returns 0 or -errno (logged).
 */
int context_load(const struct context_options *o, struct context *ctx);
void context_free(struct context *ctx);
/* The context file (if any) over fixed defaults, reading and writing no
 * state and running no git: what `berth check` validates against. */
int context_load_nostate(const char *file, struct context *ctx);

/* Pure parts, exposed for the tests. */

/* Take the facts of a parsed context file into ctx.  Strict: unknown keys
 * and wrong types are refused, naming file and key.  Returns 0 or -EINVAL. */
int context_parse(const json_t *root, const char *file, struct context *ctx);

/* Fill branch, environment, environment_type and routes when unset.
 * Needs project and entropy set. */
void context_defaults(struct context *ctx);

/* "<slug of branch>-<7 characters derived from entropy and branch>". */
char *context_environment_name(const char *branch, const char *entropy);
/* The alphabet of project ids, entropy and environment suffixes. */
#define CONTEXT_ALNUM "abcdefghijklmnopqrstuvwxyz0123456789"
/* A git tree id: 40 or 64 lowercase hex digits. */
bool context_tree_id_ok(const char *s);

/* State directory: read <dir>/project.json, or create it once (O_EXCL,
 * atomically) with a fresh project id (13 [a-z0-9]) and entropy (56). */
int context_state_project(const char *state_dir, char **project, char **entropy);
/* The same without creating anything: -ENOENT (not logged) when the
 * directory or project.json is not there. */
int context_state_read(const char *state_dir, char **project, char **entropy);
/* The project id and entropy of a context without state (check). */
#define CONTEXT_NOSTATE_ID "check"
/* Those of show and env before the state exists: shaped like generated
 * ones (13 and 56 characters), so that what reads them accepts them. */
#define CONTEXT_PLACEHOLDER_PROJECT "0000000000000"
#define CONTEXT_PLACEHOLDER_ENTROPY "00000000000000000000000000000000000000000000000000000000"

/* What `git -C dir rev-parse --verify --quiet REV` says, a tree id (REV
 * "HEAD:./" is the tree of dir at HEAD), run by absolute path with an
 * empty environment.  -ENOENT when it says none. */
int context_git_tree(const char *git, const char *dir, const char *rev, char **tree_id);

struct context_git {
	const char *git;	 /* git binary */
	const char *app_dir;	 /* the app directory */
	const char *runtime_dir; /* cache/tree/ is under it; NULL: no cache */
	bool read_only;		 /* read the cache, never write it */
};
/* The tree id git gives for the app directory, from the cache when its
 * commit id can be read without git (context-git.c): git runs only on a
 * miss (its answer is stored, "none" too when the commit is there but
 * not the app directory) or when the repository is not plain; not at all
 * when no `.git` or `HEAD` is in the app directory or above it.
 * 0, or -ENOENT when git gives none. */
int context_tree_id(const struct context_git *cg, char **tree_id);

#endif
