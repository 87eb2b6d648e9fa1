/* SPDX-License-Identifier: MIT */
/*
 * The stop guard of `berth hook`: a process outside an OCI container that
 * gives a plain bundle berth's stop.  The engine's stop signal to the
 * container's init is seen through the kernel's signal_generate tracepoint
 * (a perf event per CPU, filtered on the init's pid: even a signal the
 * init ignores is seen); the worker's stop signal then goes to the
 * container's other processes (kill mode control-group), and at the
 * deadline the init is SIGKILLed through a pidfd, which ends its pid
 * namespace and everything in it.  The guard ends with the init.
 */
#ifndef BERTH_STOPGUARD_H
#define BERTH_STOPGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How long berth hook waits for the guard to report that it watches. */
#define STOPGUARD_START_TIMEOUT_MS 5000
/* The most signals that start the stop. */
#define STOPGUARD_MAX_WATCH 4

struct stopguard_opts {
	const char *id;			/* the container's id, for the log */
	pid_t pid;			/* its init, as the host's pid namespace numbers it */
	int pidfd;			/* a pidfd of the init, verified by the caller */
	int watch[STOPGUARD_MAX_WATCH]; /* signals to the init that start the stop */
	size_t n_watch;
	int stop_signal;     /* sent with SIGCONT to the other processes */
	bool relay;	     /* kill mode control-group: send it at all */
	uint64_t timeout_ms; /* first stop signal -> SIGKILL */
	int log_fd;	     /* the guard's stderr (the hook log), or -1 */
};

/* The tracepoint filter: "pid == P && (sig == A || sig == B)".  Pure;
 * allocated. */
char *stopguard_filter(pid_t pid, const int *sigs, size_t n);

/* A kernel CPU list ("0-3,8,10-11\n", as in /sys/devices/system/cpu/online)
 * into *cpus (allocated).  Pure; 0 or -EINVAL. */
int stopguard_parse_cpus(const char *text, int **cpus, size_t *n);

/*
 * Start the guard: a grandchild in a session of its own, with fds 0 and 1
 * on /dev/null, stderr on o->log_fd, and no other descriptor of the
 * caller's but the pidfd.  Returns once the guard watches (it reports
 * through a pipe within STOPGUARD_START_TIMEOUT_MS), with its pid in
 * *guard: 0, or -errno (logged; the guard, if any, is gone).
 */
int stopguard_start(const struct stopguard_opts *o, pid_t *guard);

#endif
