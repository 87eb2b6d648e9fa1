/* SPDX-License-Identifier: MIT */
/*
 * The worker's Landlock domain.  Being in a domain is itself a barrier: a
 * process in one cannot ptrace, or open /proc/PID/environ, mem, root... of,
 * a process outside it, so one worker cannot reach another of the same
 * uid.  The domain therefore exists on every kernel with Landlock (ABI
 * >= 1), whatever the other options, and handles:
 *
 *   fs      MAKE_CHAR | MAKE_BLOCK, never granted (a worker has no use for
 *           device nodes; it also makes the ruleset valid on every ABI)
 *   net     BIND_TCP, never granted (ABI >= 4, unless TCP bind is wanted:
 *           --allow-local-listen), so an explicit TCP bind() fails with
 *           EACCES.  Never relied on alone: listen() autobinds, MPTCP and
 *           UDP are not covered.
 *   scoped  ABSTRACT_UNIX_SOCKET | SIGNAL (ABI >= 6): no connecting to an
 *           abstract UNIX socket, no signal, to a process outside.
 */
#ifndef BERTH_LANDLOCK_H
#define BERTH_LANDLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define LANDLOCK_NET_MIN_ABI   4
#define LANDLOCK_SCOPE_MIN_ABI 6

#define LANDLOCK_FS_MAKE_CHAR	     (1ULL << 6)
#define LANDLOCK_FS_MAKE_BLOCK	     (1ULL << 11)
#define LANDLOCK_NET_BIND_TCP	     (1ULL << 0)
#define LANDLOCK_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define LANDLOCK_SCOPE_SIG	     (1ULL << 1)

struct landlock_plan {
	int fd;		 /* the ruleset, O_CLOEXEC; -1: nothing to apply */
	int abi;	 /* the kernel's Landlock ABI, or -errno when it has none */
	uint64_t fs;	 /* handled_access_fs */
	uint64_t net;	 /* handled_access_net */
	uint64_t scoped; /* scoped */
};

/* The kernel's Landlock ABI version, or -errno (-EOPNOTSUPP: disabled). */
int landlock_abi(void);

/* What the domain holds on a kernel of this abi (< 1: nothing), with TCP
 * bind allowed or not; p->fd is left -1.  Pure. */
void landlock_plan_for(int abi, bool allow_tcp_bind, struct landlock_plan *p);

/* In the parent: the kernel's ABI, the plan for it, and the ruleset
 * (p->fd >= 0) when the kernel has Landlock, else p->fd = -1 and one info
 * line saying which barrier holds instead.  0 or -errno (logged). */
int landlock_prepare(struct landlock_plan *p, bool allow_tcp_bind);
void landlock_release(struct landlock_plan *p);

/* A exec_step run() (data: const struct landlock_plan *): restrict the
 * calling process.  Needs no_new_privs (after caps_drop); async-signal-safe. */
int landlock_step(void *data);

#endif
