/* SPDX-License-Identifier: MIT */
/*
 * Without a cgroup, in the worker's PID namespace: what is left of the
 * worker once its main process is gone (a shell's child that outlives the
 * shell) belongs to berth-init, whose reaping wakes nothing in berth.  A
 * pidfd for each of those processes in the epoll set does: any of them
 * exiting makes berth look again (and watch the new set), so a stop or a
 * leftover wait ends when the last one does, not at the deadline.
 * Also the two things every step of the loop reads: the worker's process
 * tree (run_tree_pids) and the clock (run_now_ms).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "pidfd.h"
#include "proctree.h"
#include "run-internal.h"
#include "spawn.h"

/* More than this many leftovers: the rest are seen when one of these ends
 * (or at the deadline, if all of these outlive them). */
#define WATCH_MAX 256
/* Scans in a row while processes die during them. */
#define WATCH_SCANS 4

void run_watch_clear(struct run_ctx *c)
{
	for (size_t i = 0; i < c->n_watch; i++)
		close(c->watch[i]); /* and out of the epoll set */
	free(c->watch);
	c->watch = NULL;
	c->n_watch = 0;
}

/* A pidfd for pid in the epoll set: 1, 0 when it has exited already (a
 * zombie: berth-init reaps it; or gone), or -errno (logged). */
static int watch_one(struct run_ctx *c, pid_t pid)
{
	struct epoll_event ee = {.events = EPOLLIN, .data.u32 = TAG_WATCH};
	int fd = pidfd_open_pid(pid);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	if (fd < 0)
		return 0;
	if (poll(&pfd, 1, 0) != 0) {
		close(fd);
		return 0;
	}
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
		int r = log_errno(-errno, "epoll_ctl(pidfd of process %ld)", (long)pid);
		close(fd);
		return r;
	}
	c->watch[c->n_watch++] = fd;
	return 1;
}

/* One scan: every live process of the tree watched; true when one had
 * exited (its children may have moved after the scan saw the parent). */
static int watch_scan(struct run_ctx *c, bool *died)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r;

	run_watch_clear(c);
	*died = false;
	r = run_tree_pids(c, &pids, &n);
	if (r < 0)
		return r;
	if (n > WATCH_MAX)
		n = WATCH_MAX;
	c->watch = xcalloc(n ? n : 1, sizeof(*c->watch));
	for (size_t i = 0; i < n; i++) {
		r = watch_one(c, pids[i]);
		if (r < 0)
			return r;
		if (r == 0)
			*died = true;
	}
	return 0;
}

int run_watch_tree(struct run_ctx *c)
{
	bool died = true;
	int r = 0;

	for (int i = 0; i < WATCH_SCANS && died && r == 0; i++)
		r = watch_scan(c, &died);
	return r < 0 ? r : (int)c->n_watch;
}

/* Rounded up, so that a deadline run_now_ms() + T never comes before T has
 * fully elapsed (the timerfd fires at the deadline's exact ms). */
uint64_t run_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ((uint64_t)ts.tv_nsec + 999999) / 1000000;
}

int run_tree_pids(const struct run_ctx *c, pid_t **pids, size_t *n)
{
	int r = proctree_descendants_except(getpid(), c->o->helpers, c->o->n_helpers, pids, n);

	proctree_drop(*pids, n, c->ns.pid);
	return r;
}
