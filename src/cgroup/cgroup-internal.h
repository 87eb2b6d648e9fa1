/* SPDX-License-Identifier: MIT */
/*
 * Shared by the cgroup*.c files only (implemented in cgroup-fs.c): cgroupfs file
 * access relative to a cgroup dirfd, every fd checked to be on cgroupfs
 * (fstatfs magic), and "key value" parsing of cgroup.events & co.
 * These helpers do not log: their callers know the path and log once.
 */
#ifndef BERTH_CGROUP_INTERNAL_H
#define BERTH_CGROUP_INTERNAL_H

#include <stdint.h>

#include "cgroup.h"

/* Names of the v1 controllers, indexed by enum cgroup_v1_ctl. */
extern const char *const cgfs_v1_name[CG_V1_COUNT];

/* 0 when fd is on cgroup2 or cgroup v1, else -EXDEV. */
int cgfs_check(int fd);
/* openat(dirfd, name, flags | O_CLOEXEC | O_NOFOLLOW), checked: fd or -errno. */
int cgfs_open(int dirfd, const char *name, int flags);
/* Write s to dirfd/name in one write(2): 0 or -errno. */
int cgfs_write(int dirfd, const char *name, const char *s);
/* The whole content of dirfd/name (NUL-terminated, freshly allocated). */
int cgfs_read(int dirfd, const char *name, char **out);
/* The whole content of an open cgroupfs file, read from offset 0. */
int cgfs_read_fd(int fd, char **out);
/* A small file that the kernel prints as one seq_file record
 * (cgroup.events, memory.events, memory.oom_control) in one pread(2) from
 * offset 0: a read returns such a record whole when it fits.  NUL-
 * terminated in buf; -EOVERFLOW when it may not have fitted. */
int cgfs_read_small(int fd, char *buf, size_t size);
/* The whole of a (procfs) text file; logs on failure. */
int cgfs_read_text(const char *path, char **out);
/* From "key value\n" lines, the value of key: 0, -ENOENT or -EINVAL. */
int cgfs_kv(const char *text, const char *key, uint64_t *val);
/* The dirfd processes are listed from: cgroup2, else the v1 freezer, else
 * any v1 hierarchy; -1 when there is none.  *path gets its path. */
int cgfs_tracking_fd(const struct cgroup *cg, const char **path);

/* Helpers of cgroup.c and cgroup-leaf.c (cgroup-fs.c, cgroup.c). */
/* A relative path without empty, "." or ".." components ("" is fine). */
bool cgfs_relpath_ok(const char *p);
unsigned cgfs_ctl_mask(const char *list);
char *cgfs_ctl_list(unsigned mask, const char *prefix);
int cgfs_move_pid(int dirfd, pid_t pid);
int cgfs_count_children(int dirfd, const char *except);
bool cgfs_holds_pid(int dirfd, pid_t pid);
int cgfs_make_dir(int pfd, const char *ppath, const char *name, int *fd_out, char **path_out);

/* berth's supervisor leaf on pure v2 (cgroup-leaf.c). */
/* rel (relative to the cgroup2 mount) is berth's leaf: P's relative path;
 * else NULL. */
const char *cgleaf_home_of(const char *rel);
/* The leaf's absolute path (freshly allocated), or NULL when berth is in none. */
char *cgleaf_path(void);
/* ppath is the P berth left for its leaf. */
bool cgleaf_is_home(const char *ppath);
/* Move berth (and its helpers) back to P and remove the leaf, turning off
 * the controllers it enabled, once no other child of P is left. */
int cgleaf_leave(int pfd);
/* Enable the controllers o wants that P offers in P's subtree_control,
 * moving berth and o's companions into its leaf when it is in P. */
void cgleaf_enable_controllers(struct cgroup *cg, int pfd, const char *ppath, const char *mnt,
			       const struct cgroup_create_opts *o);

#endif
