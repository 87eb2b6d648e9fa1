/* SPDX-License-Identifier: MIT */
/*
 * Signals for the whole worker: the main process group first, then the
 * rest of the cgroup (frozen sweep, skipping that group) or of berth's
 * process tree.  Why in that order: the worker's main process handles its
 * stop signal at once, as under tini, instead of after berth has frozen,
 * listed, signalled and thawed the cgroup.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "proctree.h"
#include "run-signal.h"

/* sigs in order to the main process group (the main process leads it, by
 * setsid() in spawn): one kill(2) each, which reaches every member and, as
 * the kernel guarantees for a process-group signal, a child that a member
 * is forking meanwhile.  A sched_yield() after the first (the stop signal):
 * a worker woken on berth's CPU handles it now rather than after berth's
 * checks and sweep of the rest, and before SIGCONT, whose handler would
 * otherwise run first (SIGTERM relay about 2x faster on the 2-CPU VM).
 * True when the group got them. */
static bool group_first(pid_t main_pid, const int *sigs, size_t nsigs)
{
	int r = 0;

	if (main_pid <= 0)
		return false;
	/* Not reaped yet, so its pid, the group's id, is not reused. */
	for (size_t j = 0; j < nsigs && r == 0; j++) {
		r = kill(-main_pid, sigs[j]) < 0 ? -errno : 0;
		if (j == 0 && r == 0)
			sched_yield();
	}
	if (r < 0) {
		if (r != -ESRCH)
			log_errno(r, "kill(-%ld)", (long)main_pid);
		return false;
	}
	return true;
}

/* Is pid a member of group pgid (or gone)? */
static bool in_group(pid_t pid, pid_t pgid)
{
	pid_t g = getpgid(pid);

	return g == pgid || (g < 0 && errno == ESRCH);
}

/* Without a cgroup: the group first, then every other descendant of berth
 * but its helpers and the init (the group's members are skipped, so none
 * gets a signal twice). */
static size_t signal_tree(pid_t main_pid, const pid_t *skip, size_t n_skip, pid_t init,
			  const int *sigs, size_t nsigs)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0, count = 0;
	bool group = group_first(main_pid, sigs, nsigs);

	proctree_descendants_except(getpid(), skip, n_skip, &pids, &n);
	proctree_drop(pids, &n, init);
	for (size_t i = 0; i < n; i++) {
		if (group && in_group(pids[i], main_pid)) {
			count++;
			continue;
		}
		for (size_t j = 0; j < nsigs; j++)
			if (kill(pids[i], sigs[j]) == 0 && j == 0)
				count++;
	}
	return count;
}

/* After the group got the signals: is every process of the cgroup in it?
 * Listed without freezing: a process outside the group that exists now is
 * listed (one being forked has a listed parent, or is in the group). */
static bool group_is_all(const struct cgroup *cg, pid_t main_pid, size_t *n)
{
	_cleanup_free_ pid_t *pids = NULL;

	*n = 0;
	/* Often the worker is already gone (it ran on berth's CPU during
	 * the yield): one read of cgroup.events instead of a listing. */
	if (cg->events_fd >= 0 && cgroup_populated(cg) == 0)
		return true;
	if (cgroup_pids(cg, &pids, n) < 0)
		return false;
	for (size_t i = 0; i < *n; i++)
		if (!in_group(pids[i], main_pid))
			return false;
	return true;
}

size_t run_signal_all(const struct cgroup *cg, pid_t main_pid, const pid_t *skip, size_t n_skip,
		      pid_t init, const int *sigs, size_t nsigs)
{
	size_t count = 0, rest = 0;

	if (!cg)
		return signal_tree(main_pid, skip, n_skip, init, sigs, nsigs);
	if (!group_first(main_pid, sigs, nsigs)) {
		cgroup_signal_all_except(cg, sigs, nsigs, 0, &count); /* logs */
		return count;
	}
	/* The usual worker: every process in the main group, no freeze. */
	if (group_is_all(cg, main_pid, &count))
		return count;
	/* Daemons that left the group (setsid): a sweep of the frozen
	 * cgroup, where a fork racing it is caught. */
	cgroup_signal_all_except(cg, sigs, nsigs, main_pid, &rest);
	return rest + 1;
}
