/* SPDX-License-Identifier: MIT */
/*
 * The runtime context: the orchestrator's context file (strict JSON) merged
 * over defaults kept in berth's state directory or derived from the app
 * directory's git tree.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "context.h"
#include "size.h"
#include "log.h"
#include "util.h"

#define PROJECT_LEN 13
#define ENTROPY_LEN 56
#define CONTEXT_MAX_BYTES (4u << 20)

static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";

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

static bool tree_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n != 40 && n != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

enum ftype { F_STR, F_STR_NULL, F_INT, F_BOOL, F_OBJ, F_STR_ARRAY };

static const struct field {
	const char *key;
	enum ftype type;
} endpoint_fields[] = {
	{"username", F_STR_NULL}, {"password", F_STR_NULL}, {"scheme", F_STR},
	{"service", F_STR},       {"fragment", F_STR_NULL}, {"ip", F_STR},
	{"instance_ips", F_STR_ARRAY}, {"hostname", F_STR}, {"port", F_INT},
	{"cluster", F_STR},       {"host", F_STR},          {"rel", F_STR},
	{"path", F_STR_NULL},     {"query", F_OBJ},         {"type", F_STR},
	{"public", F_BOOL},       {"host_mapped", F_BOOL},  {"epoch", F_INT},
	{"url", F_STR},
};

static const char *ftype_name(enum ftype t)
{
	static const char *const names[] = {"a string", "a string or null", "an integer",
					    "a boolean", "an object", "an array of strings"};
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
		json_array_foreach(v, i, e)
			if (!plain_string(e))
				return false;
		return true;
	}
	}
	return false;
}

int context_check_endpoint(const json_t *o, const char *file, const char *where,
			   bool allow_endpoints)
{
	const char *key;
	json_t *v;
	int r = 0;

	if (!json_is_object(o)) {
		log_error("context %s: %s: must be an object", file, where);
		return -EINVAL;
	}
	json_object_foreach((json_t *)o, key, v) {
		const struct field *f = NULL;

		for (size_t i = 0; i < ARRAY_SIZE(endpoint_fields); i++)
			if (strcmp(endpoint_fields[i].key, key) == 0)
				f = &endpoint_fields[i];
		if (!f && allow_endpoints && strcmp(key, "endpoints") == 0) {
			const char *ep;
			json_t *ev;

			if (!json_is_object(v)) {
				log_error("context %s: %s.endpoints: must be an object", file, where);
				r = -EINVAL;
				continue;
			}
			json_object_foreach(v, ep, ev) {
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

static int parse_key(const char *key, const json_t *v, const char *file, struct context *ctx)
{
	int r;

	if (strcmp(key, "project") == 0 || strcmp(key, "environment") == 0) {
		char **dst = key[0] == 'p' ? &ctx->project : &ctx->environment;

		r = take_string(v, file, key, dst);
		if (r == 0 && !name_ok(*dst, 64)) {
			log_error("context %s: %s: \"%s\" must be 1-64 of [A-Za-z0-9_.-]", file, key,
				  *dst);
			r = -EINVAL;
		}
		return r;
	}
	if (strcmp(key, "entropy") == 0)
		return take_string(v, file, key, &ctx->entropy);
	if (strcmp(key, "branch") == 0)
		return take_string(v, file, key, &ctx->branch);
	if (strcmp(key, "tree_id") == 0) {
		r = take_string(v, file, key, &ctx->tree_id);
		if (r == 0 && !tree_id_ok(ctx->tree_id)) {
			log_error("context %s: tree_id: must be 40 (or 64) lowercase hex digits", file);
			r = -EINVAL;
		}
		return r;
	}
	if (strcmp(key, "environment_type") == 0) {
		r = take_string(v, file, key, &ctx->environment_type);
		if (r == 0 && strcmp(ctx->environment_type, "production") != 0 &&
		    strcmp(ctx->environment_type, "staging") != 0 &&
		    strcmp(ctx->environment_type, "development") != 0) {
			log_error("context %s: environment_type: must be production, staging or "
				  "development", file);
			r = -EINVAL;
		}
		return r;
	}
	if (strcmp(key, "smtp_host") == 0) {
		free(ctx->smtp_host);
		ctx->smtp_host = NULL;
		if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
			return 0; /* mail disabled */
		return take_string(v, file, key, &ctx->smtp_host);
	}
	if (strcmp(key, "auto_size") == 0) {
		enum size_name sz;

		r = take_string(v, file, key, &ctx->auto_size);
		if (r == 0 && (size_parse(ctx->auto_size, &sz) < 0 || sz == SIZE_AUTO)) {
			log_error("context %s: auto_size: \"%s\" must be S, M, L, XL, 2XL or 4XL",
				  file, ctx->auto_size);
			r = -EINVAL;
		}
		return r;
	}
	if (strcmp(key, "app_dir") == 0) {
		r = take_string(v, file, key, &ctx->app_dir);
		if (r == 0 && ctx->app_dir[0] != '/') {
			log_error("context %s: app_dir: must be an absolute path", file);
			r = -EINVAL;
		}
		return r;
	}
	if (strcmp(key, "routes") == 0)
		return take_object(v, file, key, &ctx->routes);
	if (strcmp(key, "variables") == 0) {
		const char *name;
		json_t *val;

		r = take_object(v, file, key, &ctx->variables);
		json_object_foreach(ctx->variables, name, val) {
			const char *colon = strchr(name, ':');

			if (!colon || colon == name || colon[1] == '\0') {
				log_error("context %s: variables: \"%s\" is not \"prefix:name\"", file,
					  name);
				r = -EINVAL;
			}
		}
		return r;
	}
	if (strcmp(key, "services") == 0 || strcmp(key, "relationships") == 0) {
		bool svc = key[0] == 's';
		const char *name;
		json_t *val;

		r = take_object(v, file, key, svc ? &ctx->services : &ctx->relationships);
		json_object_foreach((json_t *)v, name, val) {
			_cleanup_free_ char *w = xasprintf("%s.%s", key, name);

			if (context_check_endpoint(val, file, w, svc) < 0)
				r = -EINVAL;
		}
		return r;
	}
	log_error("context %s: unknown key \"%s\"", file, key);
	return -EINVAL;
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
	json_object_foreach((json_t *)root, key, v)
		if (parse_key(key, v, file, ctx) < 0)
			r = -EINVAL;
	return r;
}

/* 64-bit FNV-1a, to derive stable names. */
static uint64_t fnv1a(uint64_t h, const char *s)
{
	if (h == 0)
		h = 0xcbf29ce484222325ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
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
	uint64_t h = fnv1a(fnv1a(0, entropy), "\n");

	h = fnv1a(h, branch);
	strbuf_putc(&sb, '-');
	for (int i = 0; i < 7; i++) {
		strbuf_putc(&sb, alnum[h % 36]);
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

static int random_alnum(char *buf, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char rnd[64];
		ssize_t got = getrandom(rnd, sizeof(rnd), 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return log_errno(-errno, "getrandom");
		}
		for (ssize_t k = 0; k < got && i < n; k++)
			if (rnd[k] < 252) /* 252 = 7 * 36: no modulo bias */
				buf[i++] = alnum[rnd[k] % 36];
	}
	buf[n] = '\0';
	return 0;
}

static bool alnum_ok(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (; *s; s++)
		if (!strchr(alnum, *s))
			return false;
	return true;
}

static int read_project(int dfd, const char *dir, char **project, char **entropy)
{
	_cleanup_close_ int fd = openat(dfd, CONTEXT_PROJECT_FILE,
					O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	struct stat st;

	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return log_errno(-errno, "open %s/%s", dir, CONTEXT_PROJECT_FILE);
	}
	if (fstat(fd, &st) < 0)
		return log_errno(-errno, "stat %s/%s", dir, CONTEXT_PROJECT_FILE);
	if (!S_ISREG(st.st_mode) || st.st_size > 4096) {
		log_error("%s/%s: not a small regular file", dir, CONTEXT_PROJECT_FILE);
		return -EINVAL;
	}
	json_error_t jerr;
	json_t *root = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);

	if (!root) {
		log_error("%s/%s: %s", dir, CONTEXT_PROJECT_FILE, jerr.text);
		return -EINVAL;
	}
	const char *p = json_string_value(json_object_get(root, "project"));
	const char *e = json_string_value(json_object_get(root, "entropy"));
	int r = 0;

	if (!p || !e || !alnum_ok(p, PROJECT_LEN) || !alnum_ok(e, ENTROPY_LEN)) {
		log_error("%s/%s: corrupt (remove it to generate a new project id)", dir,
			  CONTEXT_PROJECT_FILE);
		r = -EINVAL;
	} else {
		*project = xstrdup(p);
		*entropy = xstrdup(e);
	}
	json_decref(root);
	return r;
}

static int write_project(int dfd, const char *dir)
{
	char project[PROJECT_LEN + 1], entropy[ENTROPY_LEN + 1];
	int r = random_alnum(project, PROJECT_LEN);

	if (r == 0)
		r = random_alnum(entropy, ENTROPY_LEN);
	if (r < 0)
		return r;

	_cleanup_free_ char *tmp = xasprintf(".%s.%ld", CONTEXT_PROJECT_FILE, (long)getpid());
	_cleanup_free_ char *text =
		xasprintf("{\"project\": \"%s\", \"entropy\": \"%s\"}\n", project, entropy);
	_cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
						  O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return log_errno(-errno, "create %s/%s", dir, tmp);
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);

	if (n != (ssize_t)len || fsync(fd) < 0) {
		r = log_errno(n < 0 ? -errno : -EIO, "write %s/%s", dir, tmp);
		unlinkat(dfd, tmp, 0);
		return r;
	}
	/* linkat fails with EEXIST if another berth won the race: keep theirs. */
	if (linkat(dfd, tmp, dfd, CONTEXT_PROJECT_FILE, 0) < 0 && errno != EEXIST) {
		r = log_errno(-errno, "link %s/%s", dir, CONTEXT_PROJECT_FILE);
		unlinkat(dfd, tmp, 0);
		return r;
	}
	unlinkat(dfd, tmp, 0);
	return 0;
}

int context_state_project(const char *state_dir, char **project, char **entropy)
{
	if (mkdir(state_dir, 0755) < 0 && errno != EEXIST)
		return log_errno(-errno, "create state directory %s (see --state-dir)",
				 state_dir);
	_cleanup_close_ int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return log_errno(-errno, "open state directory %s (see --state-dir)", state_dir);
	int r = read_project(dfd, state_dir, project, entropy);

	if (r != -ENOENT)
		return r;
	r = write_project(dfd, state_dir);
	if (r < 0)
		return r;
	r = read_project(dfd, state_dir, project, entropy);
	if (r == -ENOENT)
		return log_errno(r, "open %s/%s", state_dir, CONTEXT_PROJECT_FILE);
	return r;
}

int context_git_tree(const char *git, const char *dir, char **tree_id)
{
	const char *argv[] = {git, "-C", dir, "rev-parse", "--verify", "--quiet", "HEAD:./", NULL};
	const char *envp[] = {"GIT_CONFIG_NOSYSTEM=1", "GIT_OPTIONAL_LOCKS=0",
			      "GIT_TERMINAL_PROMPT=0", NULL};
	int pfd[2];

	if (access(git, X_OK) < 0)
		return -ENOENT;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return log_errno(-errno, "pipe");
	pid_t pid = fork();

	if (pid < 0) {
		int r = log_errno(-errno, "fork");

		close(pfd[0]);
		close(pfd[1]);
		return r;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0 ||
		    dup2(pfd[1], STDOUT_FILENO) < 0)
			_exit(127);
		execve(git, (char **)argv, (char **)envp);
		_exit(127);
	}
	close(pfd[1]);
	char buf[128];
	size_t len = 0;

	for (;;) {
		ssize_t n = read(pfd[0], buf + len, sizeof(buf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			break;
	}
	close(pfd[0]);
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return log_errno(-errno, "waitpid git");
	buf[len] = '\0';
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !tree_id_ok(buf))
		return -ENOENT;
	*tree_id = xstrdup(buf);
	return 0;
}

static int load_file(const char *file, struct context *ctx)
{
	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;

	if (fd < 0)
		return log_errno(-errno, "context %s", file);
	if (fstat(fd, &st) < 0)
		return log_errno(-errno, "context %s", file);
	if (!S_ISREG(st.st_mode) || st.st_size > CONTEXT_MAX_BYTES) {
		log_error("context %s: not a regular file of at most %u bytes", file,
			  CONTEXT_MAX_BYTES);
		return -EINVAL;
	}
	json_error_t jerr;
	json_t *root = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);

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

		r = context_state_project(o->state_dir ? o->state_dir : BERTH_STATE_DIR, &p, &e);
		if (r < 0)
			goto fail;
		if (!ctx->project)
			ctx->project = TAKE_PTR(p);
		if (!ctx->entropy)
			ctx->entropy = TAKE_PTR(e);
	}
	if (!ctx->tree_id) {
		if (!o->app_dir || context_git_tree(o->git ? o->git : CONTEXT_GIT, o->app_dir,
						    &ctx->tree_id) < 0) {
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
