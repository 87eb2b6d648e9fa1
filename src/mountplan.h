/* SPDX-License-Identifier: MIT */
/*
 * The worker's view as a plan: from a resolved worker, the storage root and
 * the instance's key (project, environment, app, instance), the ordered
 * list of mount operations mount.c applies in the worker's child and
 * `berth show` prints.  Pure: no filesystem access.  Every path the plan
 * holds is relative to a trusted directory (the host root, the app root or
 * the storage root) and lexically checked.
 */
#ifndef BERTH_MOUNTPLAN_H
#define BERTH_MOUNTPLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"

/* Names inside an instance directory and an environment directory. */
#define MOUNTPLAN_LOCAL_DIR    "local"	   /* local storage (the ext4 image's root) */
#define MOUNTPLAN_SCRATCH_DIR  "tmp"	   /* tmp mounts and /tmp, emptied each start */
#define MOUNTPLAN_DISK_IMAGE   "disk.img"  /* the disk bound's ext4 image */
#define MOUNTPLAN_SERVICES_DIR ".services" /* <project>/<environment>/.services/<name> */

enum mountplan_kind {
	MP_PRIVATE,	  /* mount propagation of "/" made private, recursively */
	MP_DISK,	  /* the instance's ext4 image mounted on its local dir */
	MP_SCRATCH,	  /* the instance's scratch directory replaced by an empty one */
	MP_READONLY_ROOT, /* every mount of the worker's namespace read-only, nosuid */
	MP_APP_RO,	  /* the app root bound onto itself, recursively ro,nosuid,nodev */
	MP_BIND,	  /* a storage directory bound onto a target in the app tree */
	MP_MASK,	  /* an empty read-only tmpfs over the storage root */
	MP_TMP,		  /* the scratch directory bound onto /tmp */
	MP_APP_AGAIN,	  /* an app root beneath /tmp bound again inside the private /tmp */
	MP_SHM,		  /* a fresh tmpfs on /dev/shm */
};

/* The trusted directory a relative path starts from. */
enum mountplan_base {
	MPB_HOST,    /* "/" of the worker's namespace */
	MPB_APP,     /* the app root */
	MPB_STORAGE, /* the storage root */
};

struct mountplan_op {
	enum mountplan_kind kind;
	enum mount_source msource; /* MP_BIND: which kind of storage */
	enum mountplan_base src_base;
	char *src_dir; /* trusted part, relative to src_base ("" = the base) */
	char *source;  /* tenant part, relative to src_dir ("" = src_dir itself) */
	enum mountplan_base dst_base;
	char *target;	   /* relative to dst_base ("" = the base) */
	uint64_t attr_set; /* MOUNT_ATTR_* */
	uint64_t attr_clr;
	bool recursive;
	const char *service; /* MP_BIND of a service mount: its name (borrowed from the plan) */
};

struct mountplan {
	char *app_root;	     /* absolute, normalised */
	char *storage_root;  /* absolute, normalised */
	char *instance_dir;  /* relative to storage_root: project/environment/app/instance */
	char **service_dirs; /* relative to storage_root, NULL-terminated */
	char **services;     /* their names, same order */
	bool has_disk;
	uint64_t disk_mb;
	bool readonly_root;
	struct mountplan_op *ops;
	size_t n_ops;
};

struct mountplan_opts {
	const char *storage_root; /* absolute */
	const char *app_root;	  /* absolute; NULL = the worker's app_dir */
	const char *project;	  /* context project */
	const char *environment;  /* context environment */
	const char *instance;	  /* NULL = the worker's name */
	bool writable_root;	  /* leave the rest of the host tree writable */
	bool no_shm;		  /* no private /dev/shm */
};

/*
 * Build the plan.  Returns 0, or -EINVAL with a one-line reason in *err
 * (freshly allocated): a name that cannot key storage, a mount path or
 * source_path that is not clean and relative, two mounts on one path,
 * mounts of different kinds nested, a storage root inside the app root
 * (or the reverse), or an app root that is / or /tmp.
 */
int mountplan_build(const struct worker *w, const struct mountplan_opts *o, struct mountplan *p,
		    char **err);
void mountplan_free(struct mountplan *p);

/* {"storage": {...}, "operations": [{"op", "source", "beneath", "target",
 * "flags"}, ...]} with absolute paths, for `berth show`.  New reference. */
json_t *mountplan_to_json(const struct mountplan *p);

const char *mountplan_kind_name(enum mountplan_kind k);

/* Is s usable as one component of a storage key (not "", ".", "..", no
 * '/', no control characters, at most 255 bytes)? */
bool mountplan_key_ok(const char *s);

#endif
