/* SPDX-License-Identifier: MIT */
/*
 * Optional third ingress layer (security.md §4.2): a Landlock ruleset that
 * handles LANDLOCK_ACCESS_NET_BIND_TCP with no rule, so that an explicit
 * TCP bind() fails with EACCES.  Only on kernels with Landlock ABI >= 4
 * (6.7+); elsewhere it is skipped and logged.  Never relied on alone
 * (listen() autobinds, MPTCP and UDP are not covered).
 */
#ifndef BERTH_LANDLOCK_H
#define BERTH_LANDLOCK_H

#include <stdbool.h>

#define LANDLOCK_NET_MIN_ABI 4

struct landlock_plan {
	int fd;  /* the ruleset, O_CLOEXEC; -1: nothing to apply */
	int abi; /* the kernel's Landlock ABI, or -errno when it has none */
};

/* The kernel's Landlock ABI version, or -errno (-EOPNOTSUPP: disabled). */
int landlock_abi(void);

/* In the parent: the ruleset when the kernel can enforce it (p->fd >= 0),
 * else p->fd = -1 (logged at info level).  0 or -errno (logged). */
int landlock_prepare(struct landlock_plan *p);
void landlock_release(struct landlock_plan *p);

/* A spawn_step run() (data: const struct landlock_plan *): restrict the
 * calling process.  Needs no_new_privs (after caps_drop); async-signal-safe. */
int landlock_step(void *data);

#endif
