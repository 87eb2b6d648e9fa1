/* SPDX-License-Identifier: MIT */
/*
 * The init of the worker's namespaces ("berth-init"): one small process
 * per `berth run` (or `berth exec`), berth's child, created with new PID,
 * IPC and UTS namespaces and the instance's hostname.  It only reaps the
 * orphans of the worker (they go to it, not to berth) and holds the
 * namespaces across restarts.  The worker itself stays berth's direct
 * child, cloned into the PID namespace (spawn_opts.ns).  When berth dies,
 * even by SIGKILL, the init gets its parent-death SIGKILL, and the kernel
 * then SIGKILLs everything in its PID namespace: nothing of the worker
 * outlives berth.  See doc/isolation.md, "Namespaces".
 */
#ifndef BERTH_NSINIT_H
#define BERTH_NSINIT_H

#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "spawn.h"

#ifndef PIDFD_GET_MNT_NAMESPACE /* linux/pidfd.h of Linux 6.11 */
#define PIDFD_GET_MNT_NAMESPACE _IO(0xFF, 3)
#endif

/* Zeroed: no init. */
struct nsinit {
	pid_t pid;	    /* berth-init, a child of berth's; 0 when none */
	int pidfd;	    /* valid while pid > 0, as are the fds of ns */
	struct spawn_ns ns; /* its PID, IPC, UTS namespaces, berth's own PID namespace */
	bool killed;	    /* SIGKILL sent (nsinit_kill): reap it, nothing more */
	int sock;	    /* berth's end of the init's socket (nsinit_hold_mounts) */
};

/*
 * Create berth-init in new PID, IPC and UTS namespaces, with hostname set
 * there, and wait until it is ready (namespaces opened, hostname set).
 * Call it where the init may live: it stays in berth's cgroup (after the
 * supervisor leaf move on pure v2).  0, or -errno (logged; nothing left).
 */
int nsinit_start(struct nsinit *ni, const char *hostname);

/* Is it still running (pidfd not readable)?  False when there is none. */
bool nsinit_alive(const struct nsinit *ni);

/* The caller (a waitpid(-1) loop) reaped pid: if it was the init, close
 * its fds, leave ni zeroed and return true (its namespace is gone). */
bool nsinit_reaped(struct nsinit *ni, pid_t pid);

/*
 * Hand the init the worker's mount namespace and pidfd (once it runs):
 * the init holds the namespace until the worker exits, so the worker's
 * exit no longer tears it down (it waits for an RCU grace period, 0.3-0.4
 * ms before berth hears of the exit); the init lets it go then, while
 * berth reaps the worker.  Best effort: without PIDFD_GET_MNT_NAMESPACE
 * (Linux 6.11) nothing changes.
 */
void nsinit_hold_mounts(struct nsinit *ni, int worker_pidfd);

/* SIGKILL the init without waiting, so that its exit (the namespace's
 * teardown) runs while berth does something else; nsinit_stop reaps it. */
void nsinit_kill(struct nsinit *ni);

/*
 * SIGKILL the init (the kernel then kills every process of its PID
 * namespace) and reap it.  child: another child of berth's in that
 * namespace, not yet reaped (the worker's main process), or 0; it is
 * reaped first, as the init's exit waits for every pid of its namespace
 * to be freed.  Leaves ni zeroed; nothing when there is no init.
 */
void nsinit_stop(struct nsinit *ni, pid_t child);

#endif
