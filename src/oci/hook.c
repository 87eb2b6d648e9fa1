/* SPDX-License-Identifier: MIT */
/*
 * The OCI hook's parts: state JSON and config.json parsing (pure), the
 * container's init verified by identity (pidfd, NSpid, namespaces,
 * ancestry), and the createRuntime actions on it (limits into its cgroup,
 * ingress rules in its network namespace from a forked helper).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "hook.h"
#include "log.h"
#include "net.h"
#include "pidfd.h"
#include "spawn.h"
#include "util.h"

static const char *const stage_names[HOOK_STAGE_COUNT] = {
	[HOOK_PRESTART] = "prestart",
	[HOOK_CREATE_RUNTIME] = "createRuntime",
	[HOOK_CREATE_CONTAINER] = "createContainer",
	[HOOK_START_CONTAINER] = "startContainer",
	[HOOK_POSTSTART] = "poststart",
	[HOOK_POSTSTOP] = "poststop",
};

int hook_stage_parse(const char *s, enum hook_stage *out)
{
	for (size_t i = 0; i < HOOK_STAGE_COUNT; i++)
		if (s && stage_names[i] && strcmp(s, stage_names[i]) == 0) {
			*out = (enum hook_stage)i;
			return 0;
		}
	return -EINVAL;
}

const char *hook_stage_name(enum hook_stage s)
{
	return (size_t)s < HOOK_STAGE_COUNT && stage_names[s] ? stage_names[s] : "?";
}

bool hook_stage_needs_pid(enum hook_stage s)
{
	/* createContainer and startContainer run inside the container, where
	 * runtimes send pid 0 or none; poststop comes after it is gone. */
	return s == HOOK_CREATE_RUNTIME || s == HOOK_PRESTART || s == HOOK_POSTSTART;
}

#define BAD(...)                                                                                   \
	do {                                                                                       \
		*err = xasprintf(__VA_ARGS__);                                                     \
		goto fail;                                                                         \
	} while (0)

static char *str_field(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) && *json_string_value(v) ? xstrdup(json_string_value(v)) : NULL;
}

int hook_state_parse(const char *text, size_t len, enum hook_stage stage, struct hook_state *st,
		     char **err)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *v;

	memset(st, 0, sizeof(*st));
	*err = NULL;
	if (!root)
		BAD("state JSON: malformed at line %d column %d: %s", je.line, je.column, je.text);
	if (!json_is_object(root))
		BAD("state JSON: not an object");
	if (!json_is_string(json_object_get(root, "ociVersion")))
		BAD("state JSON: ociVersion is missing or not a string");
	if (!(st->id = str_field(root, "id")))
		BAD("state JSON: id is missing or not a string");
	if (!(st->status = str_field(root, "status")))
		BAD("state JSON: status is missing or not a string");
	st->bundle = str_field(root, "bundle");
	if (!st->bundle || st->bundle[0] != '/')
		BAD("state JSON: bundle is missing or not an absolute path");
	v = json_object_get(root, "pid");
	if (v && !json_is_integer(v))
		BAD("state JSON: pid is not an integer");
	if (v && (json_integer_value(v) < 0 || json_integer_value(v) > 4194304))
		BAD("state JSON: pid %" JSON_INTEGER_FORMAT " is out of range",
		    json_integer_value(v));
	st->pid = v ? (pid_t)json_integer_value(v) : 0;
	if (hook_stage_needs_pid(stage) && st->pid <= 0)
		BAD("state JSON: %s needs the container's pid (missing or 0)",
		    hook_stage_name(stage));
	v = json_object_get(root, "annotations");
	if (v && !json_is_object(v))
		BAD("state JSON: annotations is not an object");
	st->annotations = v ? json_incref(v) : json_object();
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	hook_state_free(st);
	return -EINVAL;
}

void hook_state_free(struct hook_state *st)
{
	free(st->id);
	free(st->status);
	free(st->bundle);
	json_decref(st->annotations);
	memset(st, 0, sizeof(*st));
}

/* The mounts' destinations, and the host file bound on
 * /etc/resolv.conf. */
static void read_mounts(struct hook_bundle *b, const json_t *v)
{
	const json_t *m;
	size_t i;

	b->mounts = xmalloc((json_array_size(v) + 1) * sizeof(char *));
	b->mounts[0] = NULL;
	json_array_foreach(v, i, m)
	{
		const char *d = json_string_value(json_object_get(m, "destination"));
		const char *src = json_string_value(json_object_get(m, "source"));
		b->mounts[i] = xstrdup(d ? d : "");
		if (d && src && src[0] == '/' && strcmp(d, "/etc/resolv.conf") == 0) {
			free(b->resolv_conf);
			b->resolv_conf = xstrdup(src);
		}
		b->mounts[i + 1] = NULL;
	}
}

/* The PID, network and mount namespaces: listed, and joined (a path)
 * or new. */
static void read_namespaces(struct hook_bundle *b, const json_t *v)
{
	static const char *const nsnames[] = {"pid", "network", "mount"};
	const json_t *ns;
	size_t i;

	json_array_foreach(v, i, ns)
	{
		const char *t = json_string_value(json_object_get(ns, "type"));
		const char *p = json_string_value(json_object_get(ns, "path"));
		for (size_t k = 0; t && k < ARRAY_SIZE(nsnames); k++) {
			if (strcmp(t, nsnames[k]) != 0)
				continue;
			b->ns_listed[k] = true;
			if (p && *p)
				b->ns_path[k] = xstrdup(p);
			else
				b->ns_new[k] = true;
		}
	}
}

int hook_bundle_parse(const char *text, const char *bundle, struct hook_bundle *b, char **err)
{
	json_error_t je;
	json_t *root = json_loads(text, 0, &je), *v;
	const char *path;

	memset(b, 0, sizeof(*b));
	*err = NULL;
	if (!root || !json_is_object(root))
		BAD("%s/config.json: malformed: %s", bundle, root ? "not an object" : je.text);
	path = json_string_value(json_object_get(json_object_get(root, "root"), "path"));
	if (!path || !*path)
		BAD("%s/config.json: root.path is missing", bundle);
	b->root = path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", bundle, path);
	v = json_object_get(root, "annotations");
	if (v && !json_is_object(v))
		BAD("%s/config.json: annotations is not an object", bundle);
	b->annotations = v ? json_incref(v) : json_object();
	v = json_object_get(json_object_get(root, "process"), "user");
	if (json_integer_value(json_object_get(v, "uid")) < 0 ||
	    json_integer_value(json_object_get(v, "gid")) < 0)
		BAD("%s/config.json: process.user is negative", bundle);
	b->uid = (uid_t)json_integer_value(json_object_get(v, "uid"));
	b->gid = (gid_t)json_integer_value(json_object_get(v, "gid"));
	read_mounts(b, json_object_get(root, "mounts"));
	read_namespaces(b, json_object_get(json_object_get(root, "linux"), "namespaces"));
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	hook_bundle_free(b);
	return -EINVAL;
}

bool hook_bundle_mounts(const struct hook_bundle *b, const char *dest)
{
	size_t n = strlen(dest);

	while (n > 1 && dest[n - 1] == '/')
		n--;
	for (char **m = b->mounts; m && *m; m++) {
		size_t k = strlen(*m);
		while (k > 1 && (*m)[k - 1] == '/')
			k--;
		if (k == n && strncmp(*m, dest, n) == 0)
			return true;
	}
	return false;
}

void hook_bundle_free(struct hook_bundle *b)
{
	strv_free(b->mounts);
	free(b->resolv_conf);
	free(b->root);
	json_decref(b->annotations);
	for (int k = 0; k < 3; k++)
		free(b->ns_path[k]);
	memset(b, 0, sizeof(*b));
}

const char *hook_annotation(const struct hook_state *st, const struct hook_bundle *b,
			    const char *key)
{
	const char *v = st ? json_string_value(json_object_get(st->annotations, key)) : NULL;

	if (!v && b)
		v = json_string_value(json_object_get(b->annotations, key));
	return v && *v ? v : NULL;
}

int hook_parse_status(const char *text, pid_t *ppid, pid_t *nspid, int *levels)
{
	const char *p;
	bool have_ppid = false;

	*levels = 0;
	for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, "PPid:", 5) == 0) {
			*ppid = (pid_t)strtol(p + 5, NULL, 10);
			have_ppid = true;
		} else if (strncmp(p, "NSpid:", 6) == 0) {
			const char *q = p + 6;
			char *end;
			for (;;) {
				long n = strtol(q, &end, 10);
				if (end == q)
					break;
				*nspid = (pid_t)n;
				(*levels)++;
				q = end;
				if (*q == '\n')
					break;
			}
		}
	}
	return have_ppid && *levels > 0 ? 0 : -EINVAL;
}

/* /proc/PID/FILE whole (a status file is well under 64 KiB); logs. */
static int read_proc(pid_t pid, const char *file, char **out)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct strbuf sb = {0};
	int r;

	if (fd < 0)
		return log_errno(-errno, "open %s", path);
	if ((r = strbuf_read_fd(&sb, fd, 64 * 1024)) < 0) {
		strbuf_release(&sb);
		return log_errno(r, "read %s", path);
	}
	*out = strbuf_detach(&sb);
	return 0;
}

static int ns_stat(pid_t pid, const char *ns, struct stat *st)
{
	_cleanup_free_ char *path =
		pid ? xasprintf("/proc/%d/ns/%s", (int)pid, ns) : xasprintf("/proc/self/ns/%s", ns);
	return stat(path, st) < 0 ? -errno : 0;
}

/* The namespace ns of pid against the bundle's entry k. */
static int check_ns(pid_t pid, const struct hook_bundle *b, int k, const char *ns)
{
	struct stat his, ref;
	int r = ns_stat(pid, ns, &his);

	if (r < 0)
		return log_errno(r, "pid %d: read its %s namespace", (int)pid, ns);
	if (b->ns_path[k]) {
		if (stat(b->ns_path[k], &ref) < 0)
			return log_errno(-errno, "stat %s", b->ns_path[k]);
		if (his.st_dev != ref.st_dev || his.st_ino != ref.st_ino) {
			log_error("pid %d is not the container's init: its %s namespace is not %s",
				  (int)pid, ns, b->ns_path[k]);
			return -ESRCH;
		}
		return 0;
	}
	if ((r = ns_stat(0, ns, &ref)) < 0)
		return log_errno(r, "read berth's %s namespace", ns);
	if (his.st_dev == ref.st_dev && his.st_ino == ref.st_ino) {
		log_error("pid %d is not the container's init: it shares berth's %s namespace%s",
			  (int)pid, ns, b->ns_listed[k] ? "" : " (config.json asks for none)");
		return -ESRCH;
	}
	return 0;
}

int hook_pid_verify(pid_t pid, const struct hook_bundle *b, int *pidfd)
{
	_cleanup_close_ int fd = pidfd_open_pid(pid);
	_cleanup_free_ char *status = NULL;
	pid_t ppid = 0, nspid = 0, anc = pid, runtime = getppid();
	int levels = 0, r;
	bool descends = false;

	if (fd < 0)
		return log_errno(fd, "pid %d (from the state JSON): cannot open it", (int)pid);
	if ((r = read_proc(pid, "status", &status)) < 0)
		return log_errno(r, "pid %d: read /proc/%d/status", (int)pid, (int)pid);
	if (hook_parse_status(status, &ppid, &nspid, &levels) < 0) {
		log_error("pid %d: no PPid/NSpid in /proc/%d/status", (int)pid, (int)pid);
		return -EINVAL;
	}
	if (!b->ns_listed[HOOK_NS_PID] || levels < 2 || nspid != 1) {
		log_error("pid %d is not the container's init: it is not PID 1 of a pid namespace "
			  "of its own (NSpid ends in %d, %d level%s)",
			  (int)pid, (int)nspid, levels, levels == 1 ? "" : "s");
		return -ESRCH;
	}
	if ((r = check_ns(pid, b, HOOK_NS_PID, "pid")) < 0 ||
	    (r = check_ns(pid, b, HOOK_NS_NET, "net")) < 0 ||
	    (r = check_ns(pid, b, HOOK_NS_MNT, "mnt")) < 0)
		return r;
	/* The runtime that runs this hook started the container. */
	for (int gen = 0; gen < 3 && anc > 1; gen++) {
		_cleanup_free_ char *s = NULL;
		pid_t nsp;
		int lv;
		if (read_proc(anc, "status", &s) < 0 || hook_parse_status(s, &anc, &nsp, &lv) < 0)
			break;
		if (anc == runtime) {
			descends = true;
			break;
		}
	}
	if (!descends) {
		log_error(
			"pid %d is not the container's init: it does not descend from the runtime "
			"that called the hook (pid %d)",
			(int)pid, (int)runtime);
		return -ESRCH;
	}
	/* Everything above read /proc/<pid>: still the process the pidfd holds? */
	if (pidfd_signal(fd, 0) < 0)
		return log_errno(-errno, "pid %d exited while it was verified", (int)pid);
	*pidfd = TAKE_FD(fd);
	return 0;
}

/* The helper's body: in the container's network namespace; 0 or 1. */
static int ingress_child(int pidfd, void *data)
{
	const struct egress_plan *plan = data;
	_cleanup_close_ int nsfd = -1;
	int r;

	if (setns(pidfd, CLONE_NEWNET) < 0) {
		log_errno(-errno, "setns into the container's network namespace");
		return 1;
	}
	nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	r = nsfd < 0 ? -errno : net_netns_is_initial(nsfd);
	if (r != 0) {
		log_error("the container's network namespace is the host's (or unreadable): no "
			  "rules installed there");
		return 1;
	}
	return net_rules_install(plan) < 0 ? 1 : 0;
}

int hook_helper(int pidfd, int (*fn)(int pidfd, void *data), void *data, const char *what)
{
	_cleanup_close_ int cfd = -1;
	struct pollfd p;
	siginfo_t si = {0};
	pid_t child;
	int r;

	/* Non-dumpable before anything joins the container's namespaces. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return log_errno(-errno, "prctl(PR_SET_DUMPABLE)");
	child = fork();
	if (child < 0)
		return log_errno(-errno, "fork");
	if (child == 0)
		_exit(fn(pidfd, data));
	cfd = pidfd_open_pid(child);
	if (cfd < 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		return log_errno(cfd, "pidfd_open of the helper");
	}
	p = (struct pollfd){.fd = cfd, .events = POLLIN};
	do
		r = poll(&p, 1, HOOK_HELPER_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		pidfd_signal(cfd, SIGKILL);
		waitid(P_PIDFD, (id_t)cfd, &si, WEXITED);
		log_error("the helper for %s took more than %d ms: killed", what,
			  HOOK_HELPER_TIMEOUT_MS);
		return -ETIMEDOUT;
	}
	if (waitid(P_PIDFD, (id_t)cfd, &si, WEXITED) < 0)
		return log_errno(-errno, "wait for the helper for %s", what);
	if (si.si_code != CLD_EXITED || si.si_status != 0) {
		log_error("%s: failed in the container's namespace", what);
		return -EIO;
	}
	return 0;
}

int hook_net_rules(int pidfd, const struct egress_plan *plan)
{
	return hook_helper(pidfd, ingress_child, (void *)plan, "the network rules");
}

int hook_apply_limits(pid_t pid, const struct cgroup_limits *lim)
{
	struct cgroup cg;
	int r = cgroup_open_pid(pid, &cg);

	if (r < 0)
		return r;
	r = cgroup_apply_limits(&cg, lim);
	cgroup_release(&cg);
	return r;
}

int hook_mntns_is_hosts(void)
{
	struct stat self, init;
	char buf[32];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	/* Inside the container's pid namespace (where createContainer runs),
	 * the host's /proc names us by another pid, and init's namespaces may
	 * not be readable: we are not in the host's namespaces. */
	if (n > 0) {
		buf[n] = '\0';
		if (strtol(buf, NULL, 10) != (long)getpid())
			return 0;
	}
	if (stat("/proc/self/ns/mnt", &self) < 0 || stat("/proc/1/ns/mnt", &init) < 0)
		return log_errno(-errno, "compare the mount namespace with init's");
	return self.st_dev == init.st_dev && self.st_ino == init.st_ino;
}
