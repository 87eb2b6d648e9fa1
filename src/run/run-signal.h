/* SPDX-License-Identifier: MIT */
/*
 * Signals for the whole worker (the stop signal and SIGCONT; SIGKILL
 * without a cgroup), for run.c: the main process group first, with one
 * kill(2), so that the worker's stop does not wait for berth; then the
 * rest of the cgroup in a frozen sweep that skips that group, or of
 * berth's process tree with --no-cgroup.
 */
#ifndef BERTH_RUN_SIGNAL_H
#define BERTH_RUN_SIGNAL_H

#include <stddef.h>
#include <sys/types.h>

#include "cgroup.h"

/* sigs[0..nsigs) in that order to every process of the worker: of cg, or
 * with cg NULL of berth's process tree but the helpers skip[0..n_skip)
 * and theirs (slirp4netns), and but init itself (berth-init, or 0; its
 * descendants are the worker's orphans).  main_pid: the main process, not yet reaped (its
 * pid is its process group's id), or 0 when there is none.  Each process
 * gets each signal once.  Returns how many processes got them; failures
 * are logged. */
size_t run_signal_all(const struct cgroup *cg, pid_t main_pid, const pid_t *skip, size_t n_skip,
		      pid_t init, const int *sigs, size_t nsigs);

#endif
