/* SPDX-License-Identifier: MIT */
/* One step of the box that the worker's child runs before execve. */
#ifndef BERTH_EXECSTEP_H
#define BERTH_EXECSTEP_H

/*
 * A step run in the child after its own setup (session, signals, stdin,
 * cwd) and before the fds are closed and the shell is executed, in array
 * order: the mounts, the network, the user switch, capabilities, Landlock
 * and (last) seccomp, whose filter must still allow close_range and
 * execve.  run() returns 0 or -errno and may only use
 * async-signal-safe calls (it runs in a copy of berth's address space).
 */
struct exec_step {
	const char *name; /* for the error message: "mounts" */
	int (*run)(void *data);
	void *data;
};

#endif
