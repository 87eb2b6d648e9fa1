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
#define MOUNTPLAN_SCRATCH_DIR  "tmp"	   /* OCI containers' tmp mounts (berth run: a tmpfs) */
#define MOUNTPLAN_DISK_IMAGE   "disk.img"  /* the disk bound's ext4 image */
#define MOUNTPLAN_SERVICES_DIR ".services" /* <project>/<environment>/.services/<name> */

/* The worker's /tmp: 1 GiB, or the memory limit when that is lower. */
#define MOUNTPLAN_TMP_SIZE_DEFAULT (1ULL << 30)
#define MOUNTPLAN_TMP_SIZE_MIN	   (1ULL << 20)

enum mountplan_kind {
	MP_PRIVATE,	 /* a mount namespace of its own, "/" made private recursively */
	MP_CGROUPNS,	 /* a cgroup namespace of its own: the worker's cgroups are its roots */
	MP_DISK,	 /* the instance's ext4 image mounted on its local dir */
	MP_NEWROOT,	 /* an empty tmpfs, the worker's root (read-only once pivoted) */
	MP_OS,		 /* a host directory bound read-only at its path, or its symlink
			  * recreated; skipped when the host has neither */
	MP_DEV,		 /* a tmpfs on /dev */
	MP_DEVNODE,	 /* a host device node (checked major:minor) bound into /dev */
	MP_SYMLINK,	 /* a symlink: target -> source */
	MP_SHM,		 /* a fresh tmpfs on /dev/shm */
	MP_DEVPTS,	 /* a new devpts instance on /dev/pts */
	MP_MQUEUE,	 /* a fresh mqueue filesystem on /dev/mqueue */
	MP_MASK,	 /* an empty read-only tmpfs over a directory */
	MP_MASK_FILE,	 /* the new /dev/null bound over a file */
	MP_HOSTS,	 /* the worker's hosts file bound over /etc/hosts */
	MP_RUN,		 /* a private writable tmpfs on /run (the resolv.conf of a
			  * host whose /etc/resolv.conf links into /run copied in) */
	MP_DIR,		 /* an empty directory */
	MP_PROC,	 /* a fresh proc */
	MP_READONLY,	 /* a path of the new root bound onto itself read-only */
	MP_SYS,		 /* a fresh sysfs, read-only */
	MP_CGROUP_TMPFS, /* the read-only tmpfs on /sys/fs/cgroup holding the hierarchies */
	MP_CGROUP,	 /* a cgroup hierarchy, read-only, rooted at the worker's cgroup */
	MP_RO_BIND,	 /* --ro-bind: a host path bound read-only at the same path */
	MP_APP_RO,	 /* the app root at its path, recursively ro,nosuid,nodev */
	MP_BIND,	 /* a storage directory bound onto a target in the app tree */
	MP_TMP,		 /* a fresh bounded tmpfs on /tmp */
	MP_APP_AGAIN,	 /* an app root beneath /tmp bound again inside the private /tmp */
	MP_PIVOT,	 /* pivot_root into the new root, the host's tree detached */
	MP_KIND_COUNT	 /* not a kind: the size of the name table */
};

/* The trusted directory a relative path starts from. */
enum mountplan_base {
	MPB_HOST,    /* "/" of berth's namespace */
	MPB_APP,     /* the app root */
	MPB_STORAGE, /* the storage root */
	MPB_ROOT,    /* the worker's new root */
	MPB_TMP,     /* the worker's private /tmp */
};

struct mountplan_op {
	enum mountplan_kind kind;
	enum mount_source msource; /* MP_BIND: which kind of storage */
	enum mountplan_base src_base;
	/* trusted part, relative to src_base ("" = the base); a tmp mount's is
	 * the OCI containers' scratch directory, berth run's child takes its
	 * source from the private /tmp (MPB_TMP) */
	char *src_dir;
	char *source; /* tenant part, relative to src_dir ("" = src_dir itself);
		       * MP_SYMLINK: the link's text; MP_CGROUP: the fs type */
	enum mountplan_base dst_base;
	char *target;	   /* relative to dst_base ("" = the base) */
	uint64_t attr_set; /* MOUNT_ATTR_* */
	uint64_t attr_clr;
	bool recursive;
	bool optional;	/* skipped when the host or the kernel lacks it */
	char *data;	/* MP_TMP: size in bytes; MP_CGROUP: the hierarchy's options */
	unsigned major; /* MP_DEVNODE: the device the node must be */
	unsigned minor;
	const char *service; /* MP_BIND of a service mount: its name (borrowed from the plan) */
};

/* A cgroup hierarchy the worker sees (computed from berth's mount table). */
struct mountplan_cgroup {
	const char *fstype;  /* "cgroup2" or "cgroup" */
	const char *path;    /* absolute, beneath /sys/fs/cgroup (or it) */
	const char *options; /* v1: the controllers ("cpu,cpuacct"); "" for cgroup2 */
};

struct mountplan {
	char *app_root;	     /* absolute, normalised */
	char *storage_root;  /* absolute, normalised */
	char *instance_dir;  /* relative to storage_root: project/environment/app/instance */
	char **service_dirs; /* relative to storage_root, NULL-terminated */
	char **services;     /* their names, same order */
	bool has_disk;
	uint64_t disk_mb;
	uint64_t tmp_size; /* bytes */
	struct mountplan_op *ops;
	size_t n_ops;
};

struct mountplan_opts {
	const char *storage_root;    /* absolute */
	const char *app_root;	     /* absolute; NULL = the worker's app_dir */
	const char *project;	     /* context project */
	const char *environment;     /* context environment */
	const char *instance;	     /* NULL = the worker's name */
	bool no_shm;		     /* no private /dev/shm */
	uint64_t tmp_size;	     /* /tmp's size; 0 = MOUNTPLAN_TMP_SIZE_DEFAULT */
	const char *const *ro_binds; /* --ro-bind paths (absolute), NULL-terminated or NULL */
	const struct mountplan_cgroup *cgroups; /* the hierarchies to show */
	size_t n_cgroups;
};

/*
 * Build the plan.  Returns 0, or -EINVAL with a one-line reason in *err
 * (freshly allocated): a name that cannot key storage, a mount path or
 * source_path that is not clean and relative, two mounts on one path,
 * mounts of different kinds nested, a storage root inside the app root
 * (or the reverse), an app root that is / or /tmp, a --ro-bind path that
 * is not absolute and clean, is /, lies beneath /tmp, /proc or /sys, or
 * inside the storage root or holds it.
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
