/* SPDX-License-Identifier: MIT */
/*
 * The worker as an OCI runtime config.json (`berth spec`): process (argv,
 * environment, cwd, user, no capabilities, no_new_privs, rlimits), a
 * read-only root, the mounts (proc, dev, tmp, the app read-only, the
 * instance's storage), linux.resources from size, linux.seccomp from
 * berth's deny table, namespaces and the berth hooks.  Pure; plus a checker
 * of the fields and types the runtime-spec schema and crun require.
 */
#ifndef BERTH_OCISPEC_H
#define BERTH_OCISPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "app.h"
#include "cgroup.h"
#include "filter.h"
#include "mountplan.h"

#define OCISPEC_VERSION "1.0.2"
/* The hook's time limit in config.json and in hooks.d (seconds). */
#define OCISPEC_HOOK_TIMEOUT 10
/* Annotations naming the worker (read back by `berth hook`). */
#define OCISPEC_ANN_WORKER     "berth.worker"
#define OCISPEC_ANN_APP_CONFIG "berth.app-config"
/* The app of .platform/applications.yaml (--app) and the services.yaml
 * that spec used: the hook loads the config as spec did. */
#define OCISPEC_ANN_APP		  "berth.app"
#define OCISPEC_ANN_SERVICES	  "berth.services"
#define OCISPEC_ANN_CONTEXT	  "berth.context"
#define OCISPEC_ANN_STATE_DIR	  "berth.state-dir"
#define OCISPEC_ANN_STORAGE_ROOT  "berth.storage-root"
#define OCISPEC_ANN_STOP_TIMEOUT  "berth.stop-timeout"
#define OCISPEC_ANN_REQUIRE_QUOTA "berth.require-disk-quota" /* "1": no disk bound is an error */
/* The stop guard of a plain bundle (berth hook createRuntime): "on"
 * (default) or "off" (the engine's stop, or a PID 1 that keeps berth's),
 * and the twins of berth run's --stop-signal and --kill-mode. */
#define OCISPEC_ANN_STOP_GUARD	"berth.stop-guard"
#define OCISPEC_ANN_STOP_SIGNAL "berth.stop-signal"
#define OCISPEC_ANN_KILL_MODE	"berth.kill-mode"

struct ocispec_input {
	const struct worker *w;
	char *const *envp;	/* the worker's environment */
	const char *script;	/* the sh -c script (spawn_script) */
	const char *pre_script; /* commands.pre_start's, or NULL */
	uid_t uid;		/* the worker's user */
	gid_t gid;
	const struct cgroup_limits *limits; /* NULL: no linux.resources */
	const struct filter_opts *filter;   /* NULL or ->off: no linux.seccomp */
	const struct mountplan *plan;	    /* storage binds (MP_BIND), or NULL */
	bool storage_by_hook;		    /* the hooks mount the storage (the disk bound):
					     * no storage binds, a createContainer hook */
	bool require_quota;		    /* the berth.require-disk-quota annotation */
	const char *rootfs;		    /* root.path */
	const char *hook_path;		    /* absolute berth binary, or NULL: no hooks */
	/* Annotations (NULL: left out). */
	const char *app_config;
	const char *app_name;
	const char *services;
	const char *context_file;
	const char *state_dir;
	const char *storage_root;
	unsigned stop_timeout_s;
};

/* The config.json for in.  New reference. */
json_t *ocispec_build(const struct ocispec_input *in);

/* For an annotation that names a path (berth.app-config, berth.services,
 * berth.context, berth.state-dir, berth.storage-root): 0 when value is absolute,
 * -EINVAL when it is relative (the runtime runs the hooks in the bundle,
 * not where `berth spec` ran), 1 when key names no path. */
int ocispec_check_path_annotation(const char *key, const char *value);

/* Check a config.json against the runtime-spec schema's required fields
 * and types (those crun rejects), and berth's path annotations (absolute,
 * ocispec_check_path_annotation).  0, or -EINVAL with a one-line reason in
 * *err (freshly allocated), naming the field. */
int ocispec_check(const json_t *spec, char **err);

#endif
