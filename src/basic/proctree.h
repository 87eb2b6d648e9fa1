/* SPDX-License-Identifier: MIT */
/*
 * The process tree from /proc: a process's descendants (for --no-cgroup,
 * where berth, as subreaper or PID 1, is the root of everything the worker
 * left), and process names for the lifecycle log.
 */
#ifndef BERTH_PROCTREE_H
#define BERTH_PROCTREE_H

#include <stddef.h>
#include <sys/types.h>

/* Every live descendant of root (root excluded), freshly allocated, from
 * the per-thread children files (cost grows with the tree, not with the
 * machine), else from a scan of all of /proc.  Returns 0 or -errno
 * (-EXDEV: /proc belongs to another pid namespace). */
int proctree_descendants(pid_t root, pid_t **pids, size_t *n);
/* The same without the skip pids and their descendants (berth's own
 * helpers, which are not the worker's). */
int proctree_descendants_except(pid_t root, const pid_t *skip, size_t n_skip, pid_t **pids,
				size_t *n);

/* Remove pid from pids[0..*n) (nothing when it is not there or <= 0):
 * berth-init, whose descendants are the worker's but which is not. */
void proctree_drop(pid_t *pids, size_t *n, pid_t pid);

/*
 * Fields first .. first+n-1 of /proc/PID/stat (numbered as in proc(5):
 * 4 is the parent's pid, 22 the start time), PID 0 for this process; the
 * command name before them may hold spaces and parentheses.  0, or
 * -errno (-ENOENT: no such process; -EINVAL: a field missing).  Only
 * numeric fields from 4 on.
 */
int proctree_stat(pid_t pid, int first, unsigned long long *out, size_t n);

/* "123 (sleep), 456 (sh)" for at most max pids, "..." after.  Allocated. */
char *proctree_describe(const pid_t *pids, size_t n, size_t max);

#endif
