/* SPDX-License-Identifier: MIT */
/*
 * The worker's Landlock domain (see landlock.h): the ruleset is created in
 * the parent, enforced in the child with landlock_restrict_self().  The
 * UAPI structure is declared here: Debian 12's headers predate ABI 4 and 6.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
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

/* struct landlock_ruleset_attr as of ABI 6: handled_access_net came with
 * ABI 4, scoped with ABI 6.  The kernel is given the size of the fields it
 * knows (an older one refuses a bigger struct whose tail is not zero). */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

int landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);

	return v < 0 ? -errno : (int)v;
}

void landlock_plan_for(int abi, bool allow_tcp_bind, struct landlock_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->abi = abi;
	if (abi < 1)
		return;
	p->fs = LANDLOCK_FS_MAKE_CHAR | LANDLOCK_FS_MAKE_BLOCK;
	if (abi >= LANDLOCK_NET_MIN_ABI && !allow_tcp_bind)
		p->net = LANDLOCK_NET_BIND_TCP;
	if (abi >= LANDLOCK_SCOPE_MIN_ABI)
		p->scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX | LANDLOCK_SCOPE_SIG;
}

static size_t attr_size(int abi)
{
	if (abi >= LANDLOCK_SCOPE_MIN_ABI)
		return sizeof(struct ll_ruleset_attr);
	if (abi >= LANDLOCK_NET_MIN_ABI)
		return offsetof(struct ll_ruleset_attr, scoped);
	return offsetof(struct ll_ruleset_attr, handled_access_net);
}

int landlock_prepare(struct landlock_plan *p, bool allow_tcp_bind)
{
	struct ll_ruleset_attr attr;
	int abi = landlock_abi();
	long fd;

	landlock_plan_for(abi, allow_tcp_bind, p);
	if (abi < 1) {
		log_info("Landlock unavailable (%s): the worker's namespaces are the barrier "
			 "between workers",
			 strerror(abi < 0 ? -abi : EOPNOTSUPP));
		return 0;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = p->fs; /* handled, never allowed: no rule is added */
	attr.handled_access_net = p->net;
	attr.scoped = p->scoped;
	fd = syscall(SYS_landlock_create_ruleset, &attr, attr_size(abi), 0);
	if (fd < 0)
		return log_errno(-errno, "landlock_create_ruleset (ABI %d)", abi);
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
