/* SPDX-License-Identifier: MIT */
/*
 * The runtime context: the orchestrator's context file (strict JSON) merged
 * over defaults kept in berth's state directory or derived from the app
 * directory's git tree.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "context.h"
#include "size.h"
#include "log.h"
#include "util.h"

#define CONTEXT_MAX_BYTES (4u << 20)

/* A JSON string without NUL or control characters. */
static bool plain_string(const json_t *v)
{
	if (!json_is_string(v))
		return false;
	const char *s = json_string_value(v);

	if (strlen(s) != json_string_length(v))
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* A safe single path component: [A-Za-z0-9_.-], not "." or "..". */
static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

enum ftype { F_STR, F_STR_NULL, F_INT, F_BOOL, F_OBJ, F_STR_ARRAY, F_COUNT };

static const struct field {
	const char *key;
	enum ftype type;
} endpoint_fields[] = {
	{"username", F_STR_NULL},
	{"password", F_STR_NULL},
	{"scheme", F_STR},
	{"service", F_STR},
	{"fragment", F_STR_NULL},
	{"ip", F_STR},
	{"instance_ips", F_STR_ARRAY},
	{"hostname", F_STR},
	{"port", F_INT},
	{"cluster", F_STR},
	{"host", F_STR},
	{"rel", F_STR},
	{"path", F_STR_NULL},
	{"query", F_OBJ},
	{"type", F_STR},
	{"public", F_BOOL},
	{"host_mapped", F_BOOL},
	{"epoch", F_INT},
	{"url", F_STR},
};

static const char *ftype_name(enum ftype t)
{
	static const char *const names[] = {"a string",	 "a string or null", "an integer",
					    "a boolean", "an object",	     "an array of strings"};
	_Static_assert(ARRAY_SIZE(names) == F_COUNT, "a name for every ftype");
	return names[t];
}

static bool ftype_ok(enum ftype t, const json_t *v)
{
	switch (t) {
	case F_STR:
		return plain_string(v);
	case F_STR_NULL:
		return json_is_null(v) || plain_string(v);
	case F_INT:
		return json_is_integer(v) && json_integer_value(v) >= 0 &&
		       json_integer_value(v) <= 65535;
	case F_BOOL:
		return json_is_boolean(v);
	case F_OBJ:
		return json_is_object(v);
	case F_STR_ARRAY: {
		size_t i;
		json_t *e;

		if (!json_is_array(v))
			return false;
		json_array_foreach(v, i, e) if (!plain_string(e)) return false;
		return true;
	}
	case F_COUNT:
		break;
	}
	return false;
}

/* Check one endpoint-field object (a services/relationships entry); where
 * names it in messages.  allow_endpoints: accept the "endpoints" key. */
static int context_check_endpoint(const json_t *o, const char *file, const char *where,
				  bool allow_endpoints)
{
	const char *key;
	json_t *v;
	int r = 0;

	if (!json_is_object(o)) {
		log_error("context %s: %s: must be an object", file, where);
		return -EINVAL;
	}
	json_object_foreach((json_t *)o, key, v)
	{
		const struct field *f = NULL;

		for (size_t i = 0; i < ARRAY_SIZE(endpoint_fields); i++)
			if (strcmp(endpoint_fields[i].key, key) == 0)
				f = &endpoint_fields[i];
		if (!f && allow_endpoints && strcmp(key, "endpoints") == 0) {
			const char *ep;
			json_t *ev;

			if (!json_is_object(v)) {
				log_error("context %s: %s.endpoints: must be an object", file,
					  where);
				r = -EINVAL;
				continue;
			}
			json_object_foreach(v, ep, ev)
			{
				_cleanup_free_ char *w = xasprintf("%s.endpoints.%s", where, ep);

				if (context_check_endpoint(ev, file, w, false) < 0)
					r = -EINVAL;
			}
			continue;
		}
		if (!f) {
			log_error("context %s: %s: unknown key \"%s\"", file, where, key);
			r = -EINVAL;
		} else if (!ftype_ok(f->type, v)) {
			log_error("context %s: %s.%s: must be %s%s", file, where, key,
				  ftype_name(f->type), f->type == F_INT ? " (0-65535)" : "");
			r = -EINVAL;
		}
	}
	return r;
}

static int take_string(const json_t *v, const char *file, const char *key, char **out)
{
	if (!plain_string(v) || json_string_length(v) == 0) {
		log_error("context %s: %s: must be a non-empty string without control characters",
			  file, key);
		return -EINVAL;
	}
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int take_object(const json_t *v, const char *file, const char *key, json_t **out)
{
	if (!json_is_object(v)) {
		log_error("context %s: %s: must be an object", file, key);
		return -EINVAL;
	}
	json_decref(*out);
	*out = json_deep_copy(v);
	return 0;
}

/* Each check runs on a key's value once it is stored; 0 or -EINVAL,
 * logged. */

/* project, environment: a name of 1-64 of [A-Za-z0-9_.-]. */
static int check_name(const json_t *v, const char *file, const char *key)
{
	if (name_ok(json_string_value(v), 64))
		return 0;
	log_error("context %s: %s: \"%s\" must be 1-64 of [A-Za-z0-9_.-]", file, key,
		  json_string_value(v));
	return -EINVAL;
}

/* tree_id: a git object id. */
static int check_tree_id(const json_t *v, const char *file, const char *key)
{
	(void)key;
	if (context_tree_id_ok(json_string_value(v)))
		return 0;
	log_error("context %s: tree_id: must be 40 (or 64) lowercase hex digits", file);
	return -EINVAL;
}

/* environment_type: one of the three kinds. */
static int check_environment_type(const json_t *v, const char *file, const char *key)
{
	const char *t = json_string_value(v);

	(void)key;
	if (strcmp(t, "production") == 0 || strcmp(t, "staging") == 0 ||
	    strcmp(t, "development") == 0)
		return 0;
	log_error("context %s: environment_type: must be production, staging or development", file);
	return -EINVAL;
}

/* auto_size: a size name other than AUTO. */
static int check_auto_size(const json_t *v, const char *file, const char *key)
{
	enum size_name sz;

	(void)key;
	if (size_parse(json_string_value(v), &sz) == 0 && sz != SIZE_AUTO)
		return 0;
	log_error("context %s: auto_size: \"%s\" must be S, M, L, XL, 2XL or 4XL", file,
		  json_string_value(v));
	return -EINVAL;
}

/* app_dir: an absolute path. */
static int check_app_dir(const json_t *v, const char *file, const char *key)
{
	(void)key;
	if (json_string_value(v)[0] == '/')
		return 0;
	log_error("context %s: app_dir: must be an absolute path", file);
	return -EINVAL;
}

/* variables: every name is "prefix:name"; all are checked. */
static int check_variables(const json_t *v, const char *file, const char *key)
{
	const char *name;
	json_t *val;
	int r = 0;

	(void)key;
	json_object_foreach((json_t *)v, name, val)
	{
		const char *colon = strchr(name, ':');

		if (!colon || colon == name || colon[1] == '\0') {
			log_error("context %s: variables: \"%s\" is not \"prefix:name\"", file,
				  name);
			r = -EINVAL;
		}
	}
	return r;
}

/* services, relationships: every member is an endpoint; all are checked. */
static int check_endpoints(const json_t *v, const char *file, const char *key)
{
	bool svc = strcmp(key, "services") == 0;
	const char *name;
	json_t *val;
	int r = 0;

	json_object_foreach((json_t *)v, name, val)
	{
		_cleanup_free_ char *w = xasprintf("%s.%s", key, name);

		if (context_check_endpoint(val, file, w, svc) < 0)
			r = -EINVAL;
	}
	return r;
}

/* The context file's keys: where each is stored (a char * or, for an
 * object, a json_t * in struct context) and how it is checked. */
static const struct context_key {
	const char *name;
	size_t offset;
	bool object;
	bool nullable; /* null or "" clears it */
	int (*check)(const json_t *v, const char *file, const char *key);
} context_keys[] = {
	{"project", offsetof(struct context, project), false, false, check_name},
	{"environment", offsetof(struct context, environment), false, false, check_name},
	{"entropy", offsetof(struct context, entropy), false, false, NULL},
	{"branch", offsetof(struct context, branch), false, false, NULL},
	{"tree_id", offsetof(struct context, tree_id), false, false, check_tree_id},
	{"environment_type", offsetof(struct context, environment_type), false, false,
	 check_environment_type},
	{"smtp_host", offsetof(struct context, smtp_host), false, true, NULL},
	{"auto_size", offsetof(struct context, auto_size), false, false, check_auto_size},
	{"app_dir", offsetof(struct context, app_dir), false, false, check_app_dir},
	{"routes", offsetof(struct context, routes), true, false, NULL},
	{"variables", offsetof(struct context, variables), true, false, check_variables},
	{"services", offsetof(struct context, services), true, false, check_endpoints},
	{"relationships", offsetof(struct context, relationships), true, false, check_endpoints},
};

/* Stores one key of the context file in ctx after its table's checks. */
static int parse_key(const char *key, const json_t *v, const char *file, struct context *ctx)
{
	const struct context_key *k = NULL;
	char *base = (char *)ctx;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(context_keys) && !k; i++)
		if (strcmp(key, context_keys[i].name) == 0)
			k = &context_keys[i];
	if (!k) {
		log_error("context %s: unknown key \"%s\"", file, key);
		return -EINVAL;
	}
	if (k->object)
		r = take_object(v, file, key, (json_t **)(base + k->offset));
	else if (k->nullable &&
		 (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))) {
		char **dst = (char **)(base + k->offset);

		free(*dst);
		*dst = NULL; /* mail disabled */
		return 0;
	} else
		r = take_string(v, file, key, (char **)(base + k->offset));
	if (r == 0 && k->check)
		r = k->check(v, file, key);
	return r;
}

int context_parse(const json_t *root, const char *file, struct context *ctx)
{
	const char *key;
	json_t *v;
	int r = 0;

	if (!json_is_object(root)) {
		log_error("context %s: the top level must be an object", file);
		return -EINVAL;
	}
	json_object_foreach((json_t *)root, key, v) if (parse_key(key, v, file, ctx) < 0) r =
		-EINVAL;
	return r;
}

char *context_environment_name(const char *branch, const char *entropy)
{
	struct strbuf sb = {0};
	bool dash = false;

	/* Slug: lowercase alphanumerics, every other run of bytes one '-'. */
	for (const char *p = branch; *p && sb.len < 32; p++) {
		char c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && sb.len)
				strbuf_putc(&sb, '-');
			strbuf_putc(&sb, c);
			dash = false;
		} else {
			dash = true;
		}
	}
	if (sb.len == 0)
		strbuf_puts(&sb, "env");
	uint64_t h = fnv1a64(FNV1A64_INIT, entropy, strlen(entropy));

	h = fnv1a64(h, "\n", 1);
	h = fnv1a64(h, branch, strlen(branch));
	strbuf_putc(&sb, '-');
	for (int i = 0; i < 7; i++) {
		strbuf_putc(&sb, CONTEXT_ALNUM[h % 36]);
		h /= 36;
	}
	return strbuf_detach(&sb);
}

void context_defaults(struct context *ctx)
{
	if (!ctx->branch)
		ctx->branch = xstrdup("main");
	if (!ctx->environment)
		ctx->environment = context_environment_name(ctx->branch, ctx->entropy);
	if (!ctx->environment_type)
		ctx->environment_type = xstrdup("development");
	if (!ctx->routes)
		ctx->routes = json_object();
}

/*
 * Opened without waiting (O_NONBLOCK: a FIFO would block the open until a
 * writer came) and refused unless a regular file.  Symlinks are followed:
 * orchestrators mount their files as symlinks to the real ones
 * (Kubernetes secrets and config maps); what counts is what fstat finds.
 */
static int load_file(const char *file, struct context *ctx)
{
	_cleanup_close_ int fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return log_errno(-errno, "context %s", file);
	if (fstat(fd, &st) < 0)
		return log_errno(-errno, "context %s", file);
	if (!S_ISREG(st.st_mode)) {
		log_error("context %s: not a regular file (%s)", file, file_kind(st.st_mode));
		return -EINVAL;
	}
	if (st.st_size > CONTEXT_MAX_BYTES) {
		log_error("context %s: larger than %u bytes", file, CONTEXT_MAX_BYTES);
		return -EINVAL;
	}
	_cleanup_(strbuf_release) struct strbuf text = {0};
	int rd = strbuf_read_fd(&text, fd, CONTEXT_MAX_BYTES);

	if (rd == -EFBIG) {
		log_error("context %s: larger than %u bytes", file, CONTEXT_MAX_BYTES);
		return -EINVAL;
	}
	if (rd < 0)
		return log_errno(rd, "context %s", file);
	json_error_t jerr;
	json_t *root = json_loadb(text.buf, text.len, JSON_REJECT_DUPLICATES, &jerr);

	if (!root) {
		log_error("context %s:%d:%d: %s", file, jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	int r = context_parse(root, file, ctx);

	json_decref(root);
	return r;
}

int context_load(const struct context_options *o, struct context *ctx)
{
	int r;

	memset(ctx, 0, sizeof(*ctx));
	if (o->file) {
		r = load_file(o->file, ctx);
		if (r < 0)
			goto fail;
	}
	if (!ctx->project || !ctx->entropy) {
		_cleanup_free_ char *p = NULL, *e = NULL;

		const char *dir = o->state_dir ? o->state_dir : BERTH_STATE_DIR;

		r = o->read_only ? context_state_read(dir, &p, &e)
				 : context_state_project(dir, &p, &e);
		if (r == -ENOENT && o->read_only) {
			log_info("no %s/%s yet (the first run, exec, spec or hook creates "
				 "it): project id and entropy are placeholders",
				 dir, CONTEXT_PROJECT_FILE);
			p = xstrdup(CONTEXT_PLACEHOLDER_PROJECT);
			e = xstrdup(CONTEXT_PLACEHOLDER_ENTROPY);
		} else if (r < 0) {
			if (o->state_failed)
				*o->state_failed = true;
			goto fail;
		}
		if (!ctx->project)
			ctx->project = TAKE_PTR(p);
		if (!ctx->entropy)
			ctx->entropy = TAKE_PTR(e);
	}
	if (!ctx->tree_id) {
		struct context_git cg = {.git = o->git ? o->git : CONTEXT_GIT,
					 .app_dir = o->app_dir,
					 .runtime_dir = o->runtime_dir,
					 .read_only = o->read_only};

		if (!o->app_dir || context_tree_id(&cg, &ctx->tree_id) < 0) {
			log_debug("no git tree id for %s; using the default",
				  o->app_dir ? o->app_dir : "(no app directory)");
			ctx->tree_id = xstrdup(CONTEXT_DEFAULT_TREE_ID);
		}
	}
	context_defaults(ctx);
	return 0;
fail:
	context_free(ctx);
	return r;
}

int context_load_nostate(const char *file, struct context *ctx)
{
	int r;

	memset(ctx, 0, sizeof(*ctx));
	if (file && (r = load_file(file, ctx)) < 0) {
		context_free(ctx);
		return r;
	}
	if (!ctx->project)
		ctx->project = xstrdup(CONTEXT_NOSTATE_ID);
	if (!ctx->entropy)
		ctx->entropy = xstrdup(CONTEXT_NOSTATE_ID);
	if (!ctx->tree_id)
		ctx->tree_id = xstrdup(CONTEXT_DEFAULT_TREE_ID);
	context_defaults(ctx);
	return 0;
}

void context_free(struct context *ctx)
{
	free(ctx->project);
	free(ctx->entropy);
	free(ctx->tree_id);
	free(ctx->branch);
	free(ctx->environment);
	free(ctx->environment_type);
	free(ctx->smtp_host);
	free(ctx->app_dir);
	free(ctx->auto_size);
	json_decref(ctx->routes);
	json_decref(ctx->variables);
	json_decref(ctx->services);
	json_decref(ctx->relationships);
	memset(ctx, 0, sizeof(*ctx));
}
