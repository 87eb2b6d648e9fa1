/* SPDX-License-Identifier: MIT */
/*
 * Landlock "no TCP bind" for the worker: the ruleset is created in the
 * parent, enforced in the child with landlock_restrict_self().  The UAPI
 * structure is declared here: Debian 12's headers predate ABI 4.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock.h"
#include "log.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_ACCESS_NET_BIND_TCP (1ULL << 0)

/* struct landlock_ruleset_attr as of ABI 4 (handled_access_net added) */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
};

int landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);

	return v < 0 ? -errno : (int)v;
}

int landlock_prepare(struct landlock_plan *p)
{
	struct ll_ruleset_attr attr;
	long fd;

	p->fd = -1;
	p->abi = landlock_abi();
	if (p->abi < LANDLOCK_NET_MIN_ABI) {
		if (p->abi < 0)
			log_info("Landlock unavailable (%s): no TCP bind restriction (the ruleset "
				 "and the syscall filter still hold)",
				 strerror(-p->abi));
		else
			log_info("Landlock ABI %d < %d: no TCP bind restriction (the ruleset and "
				 "the syscall filter still hold)",
				 p->abi, LANDLOCK_NET_MIN_ABI);
		return 0;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_net = LL_ACCESS_NET_BIND_TCP; /* handled, never allowed */
	fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return log_errno(-errno, "landlock_create_ruleset");
	p->fd = (int)fd; /* the kernel makes it O_CLOEXEC */
	return 0;
}

void landlock_release(struct landlock_plan *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

int landlock_step(void *data)
{
	const struct landlock_plan *p = data;

	if (p->fd < 0)
		return 0;
	return syscall(SYS_landlock_restrict_self, p->fd, 0) < 0 ? -errno : 0;
}
