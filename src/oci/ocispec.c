/* SPDX-License-Identifier: MIT */
/*
 * The worker as an OCI runtime config.json (its checker is
 * ocispec-check.c).  Pure: jansson in, jansson out.
 */
#include "config.h"

#include <errno.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "exitcodes.h"
#include "boxplan.h"
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

/* The deny table as linux.seccomp (native architecture only).  New
 * reference. */
static json_t *ocispec_seccomp(const struct filter_opts *o)
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
static char *ocispec_init_script(unsigned stop_timeout_s)
{
	return xasprintf(
		"berth_stop=\n"
		"trap 'berth_stop=1; kill -TERM -1 2>/dev/null; "
		"(sleep %u; kill -KILL -1 2>/dev/null) &' TERM\n"
		"for s in HUP USR1 USR2; do trap \"kill -s $s \\$child 2>/dev/null\" $s; done\n"
		"berth_run() {\n"
		"\t/bin/sh -c \"$1\" &\n"
		"\tchild=$!\n"
		"\twhile :; do wait \"$child\"; rc=$?; kill -0 \"$child\" 2>/dev/null || break; "
		"done\n"
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
		"\t\twhile kill -0 -1 2>/dev/null && [ $i -lt %u ]; do sleep 0.1; i=$((i + 1)); "
		"done\n"
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
		"/proc/acpi",	       "/proc/asound",	   "/proc/kcore",	"/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/sys/firmware",       "/proc/scsi"};
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
		boxplan_hostname(in->w->app_name ? in->w->app_name : "app", in->w->name);
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
