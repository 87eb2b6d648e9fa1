/* SPDX-License-Identifier: MIT */
/*
 * A checker for the fields and types of an OCI runtime config.json that
 * the runtime-spec schema (config-schema.json, config-linux.json,
 * defs.json) requires and crun enforces.  Pure: jansson in, a message out.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ocispec.h"
#include "util.h"

static bool in_set(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

static bool strarray(const json_t *a)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return false;
	json_array_foreach(a, i, v) if (!json_is_string(v)) return false;
	return true;
}

static bool abspath(const json_t *v)
{
	return json_is_string(v) && json_string_value(v)[0] == '/';
}

static bool uint_opt(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return !v || (json_is_integer(v) && json_integer_value(v) >= 0);
}

#define BAD(...)                                                                                   \
	do {                                                                                       \
		*err = xasprintf(__VA_ARGS__);                                                     \
		return -EINVAL;                                                                    \
	} while (0)

static int check_process(const json_t *p, char **err)
{
	const json_t *u = json_object_get(p, "user"), *caps, *v;
	size_t i;

	if (!json_is_object(p))
		BAD("process: not an object");
	v = json_object_get(p, "args");
	if (!strarray(v) || json_array_size(v) == 0)
		BAD("process.args: not a non-empty array of strings");
	if (!abspath(json_object_get(p, "cwd")))
		BAD("process.cwd: not an absolute path");
	if (!json_is_object(u) || !json_is_integer(json_object_get(u, "uid")) ||
	    !json_is_integer(json_object_get(u, "gid")) || !uint_opt(u, "uid") ||
	    !uint_opt(u, "gid"))
		BAD("process.user: uid and gid must be integers >= 0");
	if ((v = json_object_get(p, "env"))) {
		if (!strarray(v))
			BAD("process.env: not an array of strings");
		json_array_foreach(v, i, u) if (!strchr(json_string_value(u), '='))
			BAD("process.env[%zu]: no '='", i);
	}
	if ((v = json_object_get(p, "noNewPrivileges")) && !json_is_boolean(v))
		BAD("process.noNewPrivileges: not a boolean");
	if ((v = json_object_get(p, "terminal")) && !json_is_boolean(v))
		BAD("process.terminal: not a boolean");
	if ((caps = json_object_get(p, "capabilities"))) {
		const char *k;
		json_object_foreach((json_t *)caps, k, v)
		{
			if (!in_set(k, (const char *const[]){"bounding", "effective", "inheritable",
							     "permitted", "ambient", NULL}))
				BAD("process.capabilities.%s: unknown set", k);
			if (!strarray(v))
				BAD("process.capabilities.%s: not an array of strings", k);
		}
	}
	if ((v = json_object_get(p, "rlimits"))) {
		if (!json_is_array(v))
			BAD("process.rlimits: not an array");
		json_array_foreach(v, i, u)
		{
			const json_t *t = json_object_get(u, "type");
			if (!json_is_string(t) ||
			    strncmp(json_string_value(t), "RLIMIT_", 7) != 0 ||
			    !json_is_integer(json_object_get(u, "hard")) ||
			    !json_is_integer(json_object_get(u, "soft")))
				BAD("process.rlimits[%zu]: needs type RLIMIT_*, hard and soft", i);
		}
	}
	return 0;
}

/* linux.namespaces: known types, each once, an absolute path if any. */
static int check_namespaces(const json_t *v, char **err)
{
	static const char *const nstypes[] = {"pid",  "network", "mount", "ipc", "uts",
					      "user", "cgroup",	 "time",  NULL};
	const json_t *e;
	unsigned seen = 0;
	size_t i;

	if (v && !json_is_array(v))
		BAD("linux.namespaces: not an array");
	json_array_foreach(v, i, e)
	{
		const json_t *t = json_object_get(e, "type");
		unsigned bit;
		if (!json_is_string(t) || !in_set(json_string_value(t), nstypes))
			BAD("linux.namespaces[%zu].type: not a namespace type", i);
		for (bit = 0; strcmp(nstypes[bit], json_string_value(t)) != 0; bit++)
			;
		if (seen & (1u << bit))
			BAD("linux.namespaces: '%s' twice", nstypes[bit]);
		seen |= 1u << bit;
		if (json_object_get(e, "path") && !abspath(json_object_get(e, "path")))
			BAD("linux.namespaces[%zu].path: not an absolute path", i);
	}
	return 0;
}

/* linux.resources: memory, cpu and pids limits are integers. */
static int check_resources(const json_t *r, char **err)
{
	const json_t *m = json_object_get(r, "memory"), *c = json_object_get(r, "cpu"),
		     *p = json_object_get(r, "pids");
	if (m && (!json_is_integer(json_object_get(m, "limit")) ||
		  (json_object_get(m, "swap") && !json_is_integer(json_object_get(m, "swap")))))
		BAD("linux.resources.memory: limit and swap must be integers");
	if (c && (!uint_opt(c, "quota") || !uint_opt(c, "period")))
		BAD("linux.resources.cpu: quota and period must be integers >= 0");
	if (p && !json_is_integer(json_object_get(p, "limit")))
		BAD("linux.resources.pids.limit: required integer");
	return 0;
}

static const char *const seccomp_actions[] = {"SCMP_ACT_KILL",	      "SCMP_ACT_KILL_PROCESS",
					      "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
					      "SCMP_ACT_ERRNO",	      "SCMP_ACT_TRACE",
					      "SCMP_ACT_ALLOW",	      "SCMP_ACT_LOG",
					      "SCMP_ACT_NOTIFY",      NULL};

/* linux.seccomp.syscalls[i]: names, an action, errnoRet and the args'
 * index, value and op. */
static int check_syscall(const json_t *e, size_t i, char **err)
{
	static const char *const ops[] = {"SCMP_CMP_NE",	"SCMP_CMP_LT", "SCMP_CMP_LE",
					  "SCMP_CMP_EQ",	"SCMP_CMP_GE", "SCMP_CMP_GT",
					  "SCMP_CMP_MASKED_EQ", NULL};
	const json_t *names = json_object_get(e, "names"), *act = json_object_get(e, "action"), *a;
	size_t j;

	if (!strarray(names) || json_array_size(names) == 0)
		BAD("linux.seccomp.syscalls[%zu].names: required non-empty", i);
	if (!json_is_string(act) || !in_set(json_string_value(act), seccomp_actions))
		BAD("linux.seccomp.syscalls[%zu].action: not a seccomp action", i);
	if (!uint_opt(e, "errnoRet"))
		BAD("linux.seccomp.syscalls[%zu].errnoRet: not an integer", i);
	json_array_foreach(json_object_get(e, "args"), j, a)
	{
		const json_t *ix = json_object_get(a, "index"), *op = json_object_get(a, "op");
		if (!json_is_integer(ix) || json_integer_value(ix) < 0 ||
		    json_integer_value(ix) > 5 || !json_is_integer(json_object_get(a, "value")) ||
		    !uint_opt(a, "valueTwo") || !json_is_string(op) ||
		    !in_set(json_string_value(op), ops))
			BAD("linux.seccomp.syscalls[%zu].args[%zu]: needs index "
			    "0-5, "
			    "value and op",
			    i, j);
	}
	return 0;
}

/* linux.seccomp: the default action, the architectures, each syscall. */
static int check_seccomp(const json_t *sc, char **err)
{
	const json_t *v, *e;
	size_t i;
	int r;

	v = json_object_get(sc, "defaultAction");
	if (!json_is_string(v) || !in_set(json_string_value(v), seccomp_actions))
		BAD("linux.seccomp.defaultAction: not a seccomp action");
	if ((v = json_object_get(sc, "architectures"))) {
		if (!strarray(v))
			BAD("linux.seccomp.architectures: not an array of strings");
		json_array_foreach(v, i, e)
		{
			if (strncmp(json_string_value(e), "SCMP_ARCH_", 10) != 0)
				BAD("linux.seccomp.architectures[%zu]: not SCMP_ARCH_*", i);
		}
	}
	json_array_foreach(json_object_get(sc, "syscalls"), i, e)
	{
		r = check_syscall(e, i, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_linux(const json_t *l, char **err)
{
	const json_t *v;
	int r;

	if (!json_is_object(l))
		BAD("linux: not an object");
	r = check_namespaces(json_object_get(l, "namespaces"), err);
	if (r == 0 && (v = json_object_get(l, "resources")))
		r = check_resources(v, err);
	if (r == 0 && (v = json_object_get(l, "seccomp")))
		r = check_seccomp(v, err);
	return r;
}

int ocispec_check_path_annotation(const char *key, const char *value)
{
	static const char *const paths[] = {OCISPEC_ANN_APP_CONFIG,   OCISPEC_ANN_SERVICES,
					    OCISPEC_ANN_CONTEXT,      OCISPEC_ANN_STATE_DIR,
					    OCISPEC_ANN_STORAGE_ROOT, NULL};

	if (!in_set(key, paths))
		return 1;
	return value && value[0] == '/' ? 0 : -EINVAL;
}

/* root: a path, and readonly a boolean. */
static int check_root(const json_t *v, char **err)
{
	if (!json_is_object(v) || !json_is_string(json_object_get(v, "path")) ||
	    !*json_string_value(json_object_get(v, "path")))
		BAD("root.path: required string");
	if (json_object_get(v, "readonly") && !json_is_boolean(json_object_get(v, "readonly")))
		BAD("root.readonly: not a boolean");
	return 0;
}

/* mounts: each with an absolute destination; type, source and options
 * strings. */
static int check_mounts(const json_t *v, char **err)
{
	const json_t *e;
	size_t i;

	if (!json_is_array(v))
		BAD("mounts: not an array");
	json_array_foreach(v, i, e)
	{
		if (!abspath(json_object_get(e, "destination")))
			BAD("mounts[%zu].destination: not an absolute path", i);
		if ((json_object_get(e, "type") && !json_is_string(json_object_get(e, "type"))) ||
		    (json_object_get(e, "source") &&
		     !json_is_string(json_object_get(e, "source"))) ||
		    (json_object_get(e, "options") && !strarray(json_object_get(e, "options"))))
			BAD("mounts[%zu]: type, source and options must be strings", i);
	}
	return 0;
}

/* hooks: known stages, each hook with an absolute path, string args and
 * env, a timeout >= 1. */
static int check_hooks(const json_t *v, char **err)
{
	static const char *const stages[] = {"prestart",
					     "createRuntime",
					     "createContainer",
					     "startContainer",
					     "poststart",
					     "poststop",
					     NULL};
	const json_t *e, *h;
	const char *k;
	size_t i;

	json_object_foreach((json_t *)v, k, h)
	{
		if (!in_set(k, stages))
			BAD("hooks.%s: unknown stage", k);
		if (!json_is_array(h))
			BAD("hooks.%s: not an array", k);
		json_array_foreach(h, i, e)
		{
			const json_t *t = json_object_get(e, "timeout");
			if (!abspath(json_object_get(e, "path")))
				BAD("hooks.%s[%zu].path: not an absolute path", k, i);
			if ((json_object_get(e, "args") && !strarray(json_object_get(e, "args"))) ||
			    (json_object_get(e, "env") && !strarray(json_object_get(e, "env"))))
				BAD("hooks.%s[%zu]: args and env must be arrays of strings", k, i);
			if (t && (!json_is_integer(t) || json_integer_value(t) < 1))
				BAD("hooks.%s[%zu].timeout: not an integer >= 1", k, i);
		}
	}
	return 0;
}

/* annotations: strings; berth's path annotations absolute. */
static int check_annotations(const json_t *v, char **err)
{
	const json_t *e;
	const char *k;

	if (!json_is_object(v))
		BAD("annotations: not an object");
	json_object_foreach((json_t *)v, k, e)
	{
		if (!json_is_string(e))
			BAD("annotations.%s: not a string", k);
		if (ocispec_check_path_annotation(k, json_string_value(e)) < 0)
			BAD("annotations.%s: '%s' is not an absolute path", k,
			    json_string_value(e));
	}
	return 0;
}

int ocispec_check(const json_t *spec, char **err)
{
	const json_t *v;
	int r;

	*err = NULL;
	if (!json_is_object(spec))
		BAD("config: not an object");
	if (!json_is_string(json_object_get(spec, "ociVersion")))
		BAD("ociVersion: required string");
	r = check_root(json_object_get(spec, "root"), err);
	if (r == 0 && (v = json_object_get(spec, "process")))
		r = check_process(v, err);
	if (r < 0)
		return r;
	if ((v = json_object_get(spec, "hostname")) && !json_is_string(v))
		BAD("hostname: not a string");
	if ((v = json_object_get(spec, "mounts")))
		r = check_mounts(v, err);
	if (r == 0 && (v = json_object_get(spec, "hooks")))
		r = check_hooks(v, err);
	if (r == 0 && (v = json_object_get(spec, "annotations")))
		r = check_annotations(v, err);
	if (r == 0 && (v = json_object_get(spec, "linux")))
		r = check_linux(v, err);
	return r;
}
