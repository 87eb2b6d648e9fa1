/* SPDX-License-Identifier: MIT */
/* clone3, pidfd_open and pidfd_send_signal, which glibc 2.36 does not wrap. */
#ifndef BERTH_PIDFD_H
#define BERTH_PIDFD_H

#include <stdint.h>
#include <sys/types.h>

/* clone3(2), fork-like (the child goes on on a copy of the caller's
 * stack), SIGCHLD at its exit; the cgroup fd is used with
 * CLONE_INTO_CGROUP, *pidfd is set with CLONE_PIDFD.  0 in the child, the
 * child's pid, or -1 with errno (ENOSYS: no clone3, or a filter). */
pid_t pidfd_clone3(uint64_t flags, int cgroup_fd, int *pidfd);

/* pidfd_send_signal(2) and pidfd_open(2), which glibc 2.36 lacks. */
int pidfd_signal(int pidfd, int sig);
int pidfd_open_pid(pid_t pid);

#endif
