/* SPDX-License-Identifier: MIT */
/*
 * `berth env`: print a worker's environment as shell exports that eval
 * safely, as JSON, or NUL-separated; optionally with the base64 JSON
 * variables decoded.  Also the execve limits env_build() checks against.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "cleanup.h"
#include "env.h"
#include "log.h"
#include "util.h"

static const char *const encoded[] = {
	"PLATFORM_APPLICATION",
	"PLATFORM_RELATIONSHIPS",
	"PLATFORM_ROUTES",
	"PLATFORM_VARIABLES",
};

int env_parse_format(const char *s, enum env_format *out)
{
	if (strcmp(s, "shell") == 0)
		*out = ENV_FORMAT_SHELL;
	else if (strcmp(s, "json") == 0)
		*out = ENV_FORMAT_JSON;
	else if (strcmp(s, "null") == 0)
		*out = ENV_FORMAT_NULL;
	else
		return -EINVAL;
	return 0;
}

void env_limits(size_t *max_bytes, size_t *max_string)
{
	long arg_max = sysconf(_SC_ARG_MAX);
	long page = sysconf(_SC_PAGESIZE);

	if (arg_max < 131072)
		arg_max = 131072;
	if (page <= 0)
		page = 4096;
	*max_bytes = (size_t)arg_max / 2;
	*max_string = (size_t)page * 32;
}

int env_for_worker(const struct app *app, const struct worker *w, const struct context *ctx,
		   const struct env_options *opts, char ***envp)
{
	struct env_options o = *opts;
	size_t max_bytes, max_string;

	env_limits(&max_bytes, &max_string);
	if (!o.max_bytes)
		o.max_bytes = max_bytes;
	if (!o.max_string)
		o.max_string = max_string;
	return env_build(app, w, ctx, &o, envp);
}

/* The decoded JSON of an encoded variable, or NULL (not one, or not JSON). */
static json_t *decoded(const char *name, const char *value)
{
	bool known = false;

	for (size_t i = 0; i < ARRAY_SIZE(encoded); i++)
		if (strcmp(encoded[i], name) == 0)
			known = true;
	if (!known)
		return NULL;
	_cleanup_free_ unsigned char *raw = NULL;
	size_t len;

	if (base64_decode(value, strlen(value), &raw, &len) < 0)
		return NULL;
	return json_loadb((const char *)raw, len, JSON_DECODE_ANY, NULL);
}

static void shell_quote(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", out);
		else
			fputc(*s, out);
	}
	fputc('\'', out);
}

int env_print(FILE *out, char *const *envp, enum env_format fmt, bool decode)
{
	json_t *obj = fmt == ENV_FORMAT_JSON ? json_object() : NULL;
	int r = 0;

	for (char *const *p = envp; *p; p++) {
		size_t n = strcspn(*p, "=");
		_cleanup_free_ char *name = xstrndup(*p, n);
		const char *value = (*p)[n] ? *p + n + 1 : "";
		json_t *dec = decode ? decoded(name, value) : NULL;
		_cleanup_free_ char *pretty = dec ? json_dumps(dec, JSON_INDENT(2)) : NULL;

		if (pretty)
			value = pretty;
		switch (fmt) {
		case ENV_FORMAT_SHELL:
			fprintf(out, "export %s=", name);
			shell_quote(out, value);
			fputc('\n', out);
			break;
		case ENV_FORMAT_NULL:
			fprintf(out, "%s=%s", name, value);
			fputc('\0', out);
			break;
		case ENV_FORMAT_JSON: {
			json_t *s = dec ? json_incref(dec) : json_string(value);

			if (!s) {
				log_error("%s is not valid UTF-8; use --format=null", name);
				r = -EINVAL;
			} else {
				json_object_set_new(obj, name, s);
			}
			break;
		}
		}
		json_decref(dec);
	}
	if (obj) {
		if (r == 0 && json_dumpf(obj, out, JSON_INDENT(2)) == 0)
			fputc('\n', out);
		json_decref(obj);
	}
	if (r == 0 && (fflush(out) == EOF || ferror(out)))
		r = log_errno(-(errno ? errno : EIO), "write the environment");
	return r;
}
