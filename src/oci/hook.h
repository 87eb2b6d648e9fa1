/* SPDX-License-Identifier: MIT */
/*
 * `berth hook STAGE`: the OCI state JSON (stdin) and the bundle's
 * config.json parsed and validated (pure), the container's init verified
 * by identity through a pidfd (CVE-2016-9962), and the
 * createRuntime actions applied to it: the worker's limits in its cgroup,
 * the ingress rules in its network namespace.
 */
#ifndef BERTH_HOOK_H
#define BERTH_HOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "mountplan.h"
#include "storage.h"

/* The most state JSON berth reads, and how long it waits for it. */
#define HOOK_STATE_MAX	      (1 << 20)
#define HOOK_STDIN_TIMEOUT_MS 5000
/* The forked helper that joins the container's network namespace. */
#define HOOK_HELPER_TIMEOUT_MS 5000
/* Where errors are logged too (crun drops hook output by default). */
#define HOOK_LOG_DIR  "/run/berth"
#define HOOK_LOG_FILE "/run/berth/hook.log"

enum hook_stage {
	HOOK_PRESTART,
	HOOK_CREATE_RUNTIME,
	HOOK_CREATE_CONTAINER,
	HOOK_START_CONTAINER,
	HOOK_POSTSTART,
	HOOK_POSTSTOP,
	HOOK_STAGE_COUNT /* not a stage: the size of the name table */
};

/* From argv: the spec's stage names.  0 or -EINVAL. */
int hook_stage_parse(const char *s, enum hook_stage *out);
const char *hook_stage_name(enum hook_stage s);
/* Stages whose state must carry the container's pid (createRuntime,
 * prestart, poststart). */
bool hook_stage_needs_pid(enum hook_stage s);

struct hook_state {
	char *id;
	char *status;	     /* as sent: runtimes differ (creating, created, ...) */
	char *bundle;	     /* absolute */
	pid_t pid;	     /* 0 when absent (poststop) */
	json_t *annotations; /* object (possibly empty), owned */
};

/* Parse the state JSON.  Required: ociVersion, id, status (strings), bundle
 * (an absolute path), and for stages that need one a pid (an integer above
 * 0).  Extra keys are ignored.  0, or -EINVAL with *err (allocated). */
int hook_state_parse(const char *text, size_t len, enum hook_stage stage, struct hook_state *st,
		     char **err);
void hook_state_free(struct hook_state *st);

/* What berth takes from <bundle>/config.json. */
struct hook_bundle {
	char *root;	     /* root.path made absolute */
	json_t *annotations; /* object, owned */
	uid_t uid;	     /* process.user, or 0 */
	gid_t gid;
	bool ns_new[3];	  /* pid, network, mount: a new namespace (no path) */
	char *ns_path[3]; /* ... or one joined by path */
	bool ns_listed[3];
	char **mounts;	   /* the mounts' destinations, NULL-terminated */
	char *resolv_conf; /* the source of a bind onto /etc/resolv.conf, or NULL */
};
enum { HOOK_NS_PID, HOOK_NS_NET, HOOK_NS_MNT };

int hook_bundle_parse(const char *text, const char *bundle, struct hook_bundle *b, char **err);
void hook_bundle_free(struct hook_bundle *b);

/* Does config.json mount something at dest (an absolute path; trailing
 * slashes ignored)? */
bool hook_bundle_mounts(const struct hook_bundle *b, const char *dest);

/* An annotation from the state (first) or the bundle, or NULL. */
const char *hook_annotation(const struct hook_state *st, const struct hook_bundle *b,
			    const char *key);

/* From a /proc/<pid>/status text: PPid and the NSpid list's innermost
 * pid and its length.  0 or -EINVAL. */
int hook_parse_status(const char *text, pid_t *ppid, pid_t *nspid, int *levels);

/*
 * Open a pidfd for pid and verify it is the container's init: alive; in
 * the bundle's pid namespace as its PID 1 (a new one: not ours; one by
 * path: that one); in a network and mount namespace other than berth's
 * (or the ones named by path); a descendant of the runtime that called the
 * hook (berth's parent), within 3 generations; and still the same process
 * once all this is read.  0 with *pidfd, or -errno (logged, saying which
 * check failed).
 */
int hook_pid_verify(pid_t pid, const struct hook_bundle *b, int *pidfd);

/* Run fn(pidfd, data) in a forked, non-dumpable helper (which may join
 * the namespaces of pidfd's process; berth stays where it is), killed past
 * HOOK_HELPER_TIMEOUT_MS.  fn returns the helper's exit status and logs its
 * own errors.  0 when it exited 0, else -errno (logged, naming what). */
int hook_helper(int pidfd, int (*fn)(int pidfd, void *data), void *data, const char *what);

struct egress_plan;
/* Join the network namespace of pidfd's process from a forked helper
 * (berth stays where it is; the helper is non-dumpable before setns),
 * refuse the host's initial one, install and verify table inet berth with
 * the egress plan.  Bounded by HOOK_HELPER_TIMEOUT_MS.  0 or -errno
 * (logged). */
int hook_net_rules(int pidfd, const struct egress_plan *plan);

/* Write lim into the cgroup(s) pid is in (/proc/<pid>/cgroup), read back.
 * 0 or -errno (logged). */
int hook_apply_limits(pid_t pid, const struct cgroup_limits *lim);

/*
 * createRuntime (hook-storage.c): the plan's storage binds mounted at the
 * worker's mount paths beneath the container's root, in the mount
 * namespace of pidfd's process: each source cloned detached here (local
 * ones from the disk image when s->bounded, nosuid,nodev), then moved by a
 * helper (hook_helper) onto its target, made if missing without following
 * the container's symlinks, refused on a shared mount, checked by inode
 * where it landed.  Binds onto a destination config.json mounts itself are
 * left to the runtime, unless they would bypass the disk bound (refused).
 * 0 or -errno (logged).
 */
int hook_mount_storage(int pidfd, const struct hook_bundle *b, const struct mountplan *p,
		       const struct storage *s);

/* createContainer: is every storage mount path of the plan a mount beneath
 * rootfd (the container's root)?  0, or -errno (logged, naming it). */
int hook_check_storage(int rootfd, const struct mountplan *p);

/* 1 if berth runs in the mount namespace of the host's init (where
 * createContainer must not mount anything), 0 if not, -errno. */
int hook_mntns_is_hosts(void);

#endif
