/* SPDX-License-Identifier: MIT */
/*
 * The worker's environment, built from scratch from an allow-list: the
 * PLATFORM_* variables in exactly the encoding the official config readers
 * decode, the app config's env: variables, a few login basics, and only the
 * names of berth's own environment the operator passes on.  env_build() is
 * pure (the caller supplies its environ and the execve limits).
 */
#ifndef BERTH_ENV_H
#define BERTH_ENV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "app.h"
#include "context.h"

#define ENV_DEFAULT_PATH  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define ENV_DEFAULT_USER  "web"
#define ENV_DEFAULT_SHELL "/bin/sh"
#define ENV_DEFAULT_LANG  "C.UTF-8"
#define ENV_DEFAULT_TZ	  "UTC"

struct env_options {
	char *const *pass_env; /* --pass-env names, NULL-terminated, or NULL */
	char *const *environ;  /* where their values are taken from (the caller's
				* environ); names absent there are skipped */
	const char *user;      /* USER; NULL = ENV_DEFAULT_USER */
	const char *home;      /* HOME; NULL = PLATFORM_APP_DIR */
	const char *shell;     /* SHELL; NULL = ENV_DEFAULT_SHELL */
	const char *path;      /* PATH; NULL = ENV_DEFAULT_PATH */
	const char *lang;      /* LANG; NULL = ENV_DEFAULT_LANG */
	size_t max_bytes;      /* the whole envp (strings, NULs and pointers);
				* 0 = unchecked.  See env_limits(). */
	size_t max_string;     /* one "NAME=value" with its NUL; 0 = unchecked */
};

/*
 * Build the worker's environment: a NULL-terminated array of "NAME=value"
 * strings sorted by name, in *envp (free with strv_free).  Precedence, low
 * to high: HOME/USER/SHELL/PATH/LANG/TZ defaults, the app config's env:
 * variables (upper-cased aliases only where not set otherwise), the
 * context's env: variables, --pass-env names, the platform's PLATFORM_*.
 * Returns 0 or -EINVAL / -E2BIG (logged, naming the variable, never its
 * value).
 */
int env_build(const struct app *app, const struct worker *w, const struct context *ctx,
	      const struct env_options *opts, char ***envp);

/* The parts, for tests and for `berth show`. */

/* The text of an env: value: strings as they are, null as "", booleans and
 * numbers as JSON text, arrays and objects as Python-json.dumps JSON. */
int env_value_string(const json_t *v, char **out);

/* [A-Za-z_][A-Za-z0-9_]* */
bool env_name_ok(const char *name);

/* Check names, values and sizes of a finished envp.  0, -EINVAL or -E2BIG. */
int env_check(char *const *envp, size_t max_bytes, size_t max_string);

/* The names of envp as a JSON array of strings (`berth show`). */
json_t *env_names_json(char *const *envp);

/* `berth env`. */

enum env_format { ENV_FORMAT_SHELL, ENV_FORMAT_JSON, ENV_FORMAT_NULL };

/* "shell", "json" or "null".  0 or -EINVAL. */
int env_parse_format(const char *s, enum env_format *out);

/*
 * Print envp: shell `export NAME='value'` lines that eval safely for any
 * byte; a JSON object; or NUL-terminated NAME=value records (env -0).  With
 * decode, the base64 JSON variables (PLATFORM_APPLICATION, _RELATIONSHIPS,
 * _ROUTES, _VARIABLES) are shown decoded, as indented JSON (objects in the
 * json format).  Returns 0 or -errno (logged).
 */
int env_print(FILE *out, char *const *envp, enum env_format fmt, bool decode);

/* env_build() with this system's execve limits (see env_limits()) where
 * opts leaves max_bytes and max_string 0; ctx is the worker's context,
 * loaded once by the caller.  0 or -errno (logged). */
int env_for_worker(const struct app *app, const struct worker *w, const struct context *ctx,
		   const struct env_options *opts, char ***envp);

/* The execve limits of this system: the whole environment gets half of
 * sysconf(_SC_ARG_MAX) (the rest is left to argv), one string at most
 * 32 pages (MAX_ARG_STRLEN). */
void env_limits(size_t *max_bytes, size_t *max_string);

#endif
