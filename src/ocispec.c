/* SPDX-License-Identifier: MIT */
/*
 * The worker as an OCI runtime config.json, and a checker for the fields
 * and types the runtime-spec schema (config-schema.json, config-linux.json,
 * defs.json) requires and crun enforces.  Pure: jansson in, jansson out.
 */
#include "config.h"

#include <errno.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "exitcodes.h"
#include "nsinit.h"
#include "ocispec.h"
#include "log.h"
#include "util.h"

static json_t *strv_json(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *mount_json(const char *dst, const char *type, const char *src,
			  const char *const *opts, size_t n)
{
	json_t *m = json_pack("{s:s, s:s, s:s}", "destination", dst, "type", type, "source", src);

	json_object_set_new(m, "options", strv_json(opts, n));
	return m;
}

#define MOUNT(a, dst, type, src, ...)                                                              \
	do {                                                                                       \
		static const char *const o_[] = {__VA_ARGS__};                                     \
		json_array_append_new(a, mount_json(dst, type, src, o_, ARRAY_SIZE(o_)));          \
	} while (0)

static json_t *mounts_json(const struct ocispec_input *in)
{
	json_t *a = json_array();
	const struct mountplan *p = in->plan;

	MOUNT(a, "/proc", "proc", "proc", "nosuid", "noexec", "nodev");
	MOUNT(a, "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k");
	MOUNT(a, "/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666",
	      "mode=0620");
	MOUNT(a, "/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777",
	      "size=65536k");
	MOUNT(a, "/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev");
	MOUNT(a, "/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro");
	MOUNT(a, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime",
	      "ro");
	MOUNT(a, "/tmp", "tmpfs", "tmpfs", "nosuid", "nodev", "mode=1777");
	MOUNT(a, in->w->app_dir, "bind", in->w->app_dir, "rbind", "ro", "nosuid", "nodev");
	for (size_t i = 0; p && !in->storage_by_hook && i < p->n_ops; i++) {
		const struct mountplan_op *op = &p->ops[i];
		_cleanup_free_ char *src = NULL, *dst = NULL;

		if (op->kind != MP_BIND || op->src_base != MPB_STORAGE || op->dst_base != MPB_APP)
			continue;
		src = xasprintf("%s%s%s%s%s", p->storage_root, *op->src_dir ? "/" : "", op->src_dir,
				*op->source ? "/" : "", op->source);
		dst = xasprintf("%s%s%s", p->app_root, *op->target ? "/" : "", op->target);
		MOUNT(a, dst, "bind", src, "rbind", "rw", "nosuid", "nodev");
	}
	return a;
}

static const char *seccomp_arch_name(void)
{
	switch (seccomp_arch_native()) {
	case SCMP_ARCH_X86_64:
		return "SCMP_ARCH_X86_64";
	case SCMP_ARCH_AARCH64:
		return "SCMP_ARCH_AARCH64";
	case SCMP_ARCH_X86:
		return "SCMP_ARCH_X86";
	case SCMP_ARCH_ARM:
		return "SCMP_ARCH_ARM";
	case SCMP_ARCH_PPC64LE:
		return "SCMP_ARCH_PPC64LE";
	case SCMP_ARCH_S390X:
		return "SCMP_ARCH_S390X";
	case SCMP_ARCH_RISCV64:
		return "SCMP_ARCH_RISCV64";
	default:
		return NULL;
	}
}

json_t *ocispec_seccomp(const struct filter_opts *o)
{
	json_t *calls = json_array(), *sc;
	const struct filter_rule *rules;
	const char *arch = seccomp_arch_name();
	size_t n;

	rules = filter_rules(&n);
	for (size_t i = 0; i < n; i++) {
		const struct filter_rule *r = &rules[i];
		json_t *c, *args = NULL;

		if (!filter_rule_enabled(o, r) || seccomp_syscall_resolve_name(r->syscall) < 0)
			continue; /* not a call of this architecture */
		switch (r->cond) {
		case FILTER_ANY:
			break;
		case FILTER_FLAG_SET:
			args = json_pack("[{s:i, s:I, s:I, s:s}]", "index", (int)r->arg, "value",
					 (json_int_t)r->value, "valueTwo", (json_int_t)r->value,
					 "op", "SCMP_CMP_MASKED_EQ");
			break;
		case FILTER_EQ:
			args = json_pack("[{s:i, s:I, s:s}]", "index", (int)r->arg, "value",
					 (json_int_t)r->value, "op", "SCMP_CMP_EQ");
			break;
		case FILTER_EQ32:
			args = json_pack("[{s:i, s:I, s:I, s:s}]", "index", (int)r->arg, "value",
					 (json_int_t)0xffffffff, "valueTwo", (json_int_t)r->value,
					 "op", "SCMP_CMP_MASKED_EQ");
			break;
		}
		c = json_pack("{s:[s], s:s, s:i}", "names", r->syscall, "action", "SCMP_ACT_ERRNO",
			      "errnoRet", r->err);
		if (args)
			json_object_set_new(c, "args", args);
		json_array_append_new(calls, c);
	}
	sc = json_pack("{s:s, s:o}", "defaultAction", "SCMP_ACT_ALLOW", "syscalls", calls);
	if (arch)
		json_object_set_new(sc, "architectures", json_pack("[s]", arch));
	return sc;
}

static json_t *resources_json(const struct cgroup_limits *l)
{
	json_t *res = json_object();

	if (l->memory_bytes)
		/* swap is memory+swap in the spec: equal to the limit = no swap */
		json_object_set_new(res, "memory",
				    json_pack("{s:I, s:I}", "limit", (json_int_t)l->memory_bytes,
					      "swap", (json_int_t)l->memory_bytes));
	if (l->cpu_quota_us)
		json_object_set_new(
		    res, "cpu",
		    json_pack("{s:I, s:I}", "quota", (json_int_t)l->cpu_quota_us, "period",
			      (json_int_t)(l->cpu_period_us ? l->cpu_period_us : 100000)));
	if (l->pids_max)
		json_object_set_new(res, "pids",
				    json_pack("{s:I}", "limit", (json_int_t)l->pids_max));
	return res;
}

static json_t *hook_json(const char *path, const char *stage)
{
	return json_pack("{s:s, s:[s,s,s], s:i}", "path", path, "args", "berth", "hook", stage,
			 "timeout", OCISPEC_HOOK_TIMEOUT);
}

static void ann_set(json_t *ann, const char *key, const char *v)
{
	if (v)
		json_object_set_new(ann, key, json_string(v));
}

/*
 * The container's PID 1: a /bin/sh that runs the start script as its child
 * and keeps berth's stop rule, as `berth run` does: the stop signal (TERM)
 * goes to every process of the container, SIGKILL to whatever is left at
 * the deadline; HUP, USR1 and USR2 are relayed to the start command; the
 * exit status is the start command's.  (The shell starts its child with
 * SIGINT and SIGQUIT ignored, as any non-interactive sh does for `&`.)
 *
 * With a second script (commands.pre_start) it runs that first, the same
 * way, as `berth run` does: a stop during it ends the container with its
 * status; its failure is one line and exit 91 (BERTH_EXIT_PRESTART); what
 * it left behind gets TERM and CONT, and KILL at the deadline, before the
 * start.  (While the foreground sleep runs, the shell reaps every child,
 * the orphans it adopted as PID 1 too, so kill -0 -1 sees live processes.)
 */
char *ocispec_init_script(unsigned stop_timeout_s)
{
	return xasprintf(
	    "berth_stop=\n"
	    "trap 'berth_stop=1; kill -TERM -1 2>/dev/null; "
	    "(sleep %u; kill -KILL -1 2>/dev/null) &' TERM\n"
	    "for s in HUP USR1 USR2; do trap \"kill -s $s \\$child 2>/dev/null\" $s; done\n"
	    "berth_run() {\n"
	    "\t/bin/sh -c \"$1\" &\n"
	    "\tchild=$!\n"
	    "\twhile :; do wait \"$child\"; rc=$?; kill -0 \"$child\" 2>/dev/null || break; done\n"
	    "}\n"
	    "if [ $# -ge 2 ]; then\n"
	    "\tberth_run \"$2\"\n"
	    "\t[ -n \"$berth_stop\" ] && exit $rc\n"
	    "\tif [ $rc -ne 0 ]; then\n"
	    "\t\techo \"berth-init: commands.pre_start exited with status $rc:"
	    " the worker is not started (exit status %d)\" >&2\n"
	    "\t\texit %d\n"
	    "\tfi\n"
	    "\tif kill -0 -1 2>/dev/null; then\n"
	    "\t\tkill -TERM -1 2>/dev/null; kill -CONT -1 2>/dev/null; i=0\n"
	    "\t\twhile kill -0 -1 2>/dev/null && [ $i -lt %u ]; do sleep 0.1; i=$((i + 1)); done\n"
	    "\t\tkill -KILL -1 2>/dev/null\n"
	    "\tfi\n"
	    "\t[ -n \"$berth_stop\" ] && exit $rc\n"
	    "fi\n"
	    "berth_run \"$1\"\n"
	    "exit $rc\n",
	    stop_timeout_s, BERTH_EXIT_PRESTART, BERTH_EXIT_PRESTART, stop_timeout_s * 10);
}

/* process: the init script running the start (and pre-start) command
 * as the worker's user, no capabilities, its rlimits. */
static json_t *process_json(const struct ocispec_input *in)
{
	_cleanup_free_ char *init = ocispec_init_script(in->stop_timeout_s);
	json_t *env = json_array(), *caps = json_object();

	for (char *const *e = in->envp; e && *e; e++)
		json_array_append_new(env, json_string(*e));
	for (const char *const *s = (const char *const[]){"bounding", "effective", "inheritable",
							  "permitted", "ambient", NULL};
	     *s; s++)
		json_object_set_new(caps, *s, json_array());
	json_t *args = json_pack("[s,s,s,s,s]", "/bin/sh", "-c", init, "berth-init", in->script);
	if (in->pre_script) /* $2 of the init script */
		json_array_append_new(args, json_string(in->pre_script));
	return json_pack("{s:b, s:{s:I, s:I}, s:o, s:o, s:s, s:o, s:[{s:s, s:I, s:I}, "
			 "{s:s, s:I, s:I}], s:b}",
			 "terminal", 0, "user", "uid", (json_int_t)in->uid, "gid",
			 (json_int_t)in->gid, "args", args, "env", env, "cwd", in->w->app_dir,
			 "capabilities", caps, "rlimits", "type", "RLIMIT_NOFILE", "hard",
			 (json_int_t)1024, "soft", (json_int_t)1024, "type", "RLIMIT_CORE", "hard",
			 (json_int_t)0, "soft", (json_int_t)0, "noNewPrivileges", 1);
}

/* linux: the namespaces, masked and read-only paths, the limits and the
 * seccomp filter. */
static json_t *linux_json(const struct ocispec_input *in)
{
	static const char *const masked[] = {
	    "/proc/acpi",	   "/proc/asound",     "/proc/kcore",	    "/proc/keys",
	    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	    "/sys/firmware",	   "/proc/scsi"};
	static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					 "/proc/sysrq-trigger"};
	static const char *const ns[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};
	json_t *lnx, *nss = json_array();

	for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
		json_array_append_new(nss, json_pack("{s:s}", "type", ns[i]));
	lnx = json_pack("{s:o, s:o, s:o}", "namespaces", nss, "maskedPaths",
			strv_json(masked, ARRAY_SIZE(masked)), "readonlyPaths",
			strv_json(ro, ARRAY_SIZE(ro)));
	if (in->limits)
		json_object_set_new(lnx, "resources", resources_json(in->limits));
	if (in->filter && !in->filter->off)
		json_object_set_new(lnx, "seccomp", ocispec_seccomp(in->filter));
	return lnx;
}

/* annotations: what berth hook needs to find the worker again. */
static json_t *annotations_json(const struct ocispec_input *in)
{
	json_t *ann = json_object();
	char buf[32];

	ann_set(ann, OCISPEC_ANN_WORKER, in->w->name);
	ann_set(ann, OCISPEC_ANN_APP_CONFIG, in->app_config);
	ann_set(ann, OCISPEC_ANN_APP, in->app_name);
	ann_set(ann, OCISPEC_ANN_SERVICES, in->services);
	ann_set(ann, OCISPEC_ANN_CONTEXT, in->context_file);
	ann_set(ann, OCISPEC_ANN_STATE_DIR, in->state_dir);
	ann_set(ann, OCISPEC_ANN_STORAGE_ROOT, in->storage_root);
	snprintf(buf, sizeof(buf), "%us", in->stop_timeout_s);
	ann_set(ann, OCISPEC_ANN_STOP_TIMEOUT, buf);
	/* The init script keeps the stop: no guard from the hook. */
	ann_set(ann, OCISPEC_ANN_STOP_GUARD, "off");
	ann_set(ann, OCISPEC_ANN_REQUIRE_QUOTA, in->require_quota ? "1" : NULL);
	return ann;
}

json_t *ocispec_build(const struct ocispec_input *in)
{
	/* the hostname berth run gives the worker */
	_cleanup_free_ char *hostname =
	    nsinit_hostname(in->w->app_name ? in->w->app_name : "app", in->w->name);
	json_t *spec;

	spec = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o, s:o}", "ociVersion",
			 OCISPEC_VERSION, "process", process_json(in), "root", "path", in->rootfs,
			 "readonly", 1, "hostname", hostname, "mounts", mounts_json(in),
			 "annotations", annotations_json(in), "linux", linux_json(in));
	if (in->hook_path) {
		json_t *hooks = json_pack("{s:[o], s:[o]}", "createRuntime",
					  hook_json(in->hook_path, "createRuntime"), "poststop",
					  hook_json(in->hook_path, "poststop"));
		if (in->storage_by_hook)
			json_object_set_new(
			    hooks, "createContainer",
			    json_pack("[o]", hook_json(in->hook_path, "createContainer")));
		json_object_set_new(spec, "hooks", hooks);
	}
	return spec;
}

/* ---- the checker ---- */

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
