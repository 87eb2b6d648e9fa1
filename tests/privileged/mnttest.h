/* SPDX-License-Identifier: MIT */
/*
 * Shared by the privileged mount tests (mnttest.c): a per-test directory
 * under /var/tmp (app tree, storage root, an "outside" directory), a
 * worker with cache (tmp), data (local), shared (service) and web/uploads
 * (local) mounts and disk 32, the plan/storage/mount context, and a child
 * that applies the view, drops to nobody and runs a body.  The teardown
 * checks the host's mount table is as before and no loop device is left.
 */
#ifndef BERTH_MNTTEST_H
#define BERTH_MNTTEST_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "app.h"
#include "mount.h"
#include "mountplan.h"
#include "storage.h"

/* paths here are short; the buffers are PATH_MAX */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define NOBODY 65534
#define S(x)   ((char *)(x))

extern pid_t main_pid;
extern char base[64], app[128], sroot[128], outside[128];
extern struct mount mounts[4];
extern struct worker w;
extern struct mountplan_opts po;
extern struct storage_opts so;
extern bool quiet; /* no message when apply fails */

struct env {
	struct mountplan plan;
	struct storage st;
	struct mount_ctx m;
};

typedef int (*body_fn)(void *arg);

char *slurp_file(const char *path);
void mkdirs(const char *path);
void setup(void);
void teardown(void);
int open_env(struct env *e);
void close_env(struct env *e);
/* In a child: apply, drop to nobody (unless as_root), run body; its exit
 * status.  201 ELOOP, 202 ENOTDIR, 203 ENOENT, 209 other when apply failed. */
int run_worker_body(struct env *e, body_fn body, void *arg, bool as_root);
bool can_write(const char *dir, const char *name);
bool has(const char *dir, const char *name);
/* Skip (77) without root, loop devices or e2fsprogs; run; sweep. */
int mnttest_main(Suite *s, const char *name);

#endif
