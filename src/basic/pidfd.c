/* SPDX-License-Identifier: MIT */
/*
 * The process syscalls glibc 2.36 has no wrapper for: clone3(2) with a
 * pidfd and a target cgroup, pidfd_open(2), pidfd_send_signal(2).
 */
#include "config.h"

#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pidfd.h"

pid_t pidfd_clone3(uint64_t flags, int cgroup_fd, int *pidfd)
{
	struct clone_args args;

	memset(&args, 0, sizeof(args));
	args.flags = flags;
	args.pidfd = (uint64_t)(uintptr_t)pidfd;
	args.exit_signal = SIGCHLD;
	if (flags & CLONE_INTO_CGROUP)
		args.cgroup = (uint64_t)cgroup_fd;
	/* The smallest size that carries the fields in use, so kernels from
	 * before CLONE_INTO_CGROUP (5.3 to 5.6) accept the plain call. */
	return (pid_t)syscall(SYS_clone3, &args,
			      flags & CLONE_INTO_CGROUP ? CLONE_ARGS_SIZE_VER2
							: CLONE_ARGS_SIZE_VER0);
}

int pidfd_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int pidfd_open_pid(pid_t pid)
{
	long fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : (int)fd;
}
