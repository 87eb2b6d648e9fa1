/* SPDX-License-Identifier: MIT */
/*
 * Limits on the instance cgroup: memory with swap 0, CPU quota,
 * pids, the whole-group OOM kill on v2; each value read back after writing.
 * v2 files on pure v2, the v1 memory/cpu/pids hierarchies otherwise.  Also
 * the OOM-kill counter, and the fd that signals an OOM kill as it happens.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

#define DEFAULT_CPU_PERIOD_US 100000

/* The directory a controller's files are in, or -1 (then *why says why). */
static int ctl_dir(const struct cgroup *cg, unsigned bit, int v1, const char **path,
		   const char **why)
{
	if (!(cg->ctl_usable & bit)) {
		*why = cg->mode == CGROUP_MODE_V2
			       ? "it is not delegated to berth's cgroup or cannot be enabled in "
				 "the parent's cgroup.subtree_control"
			       : "no cgroup v1 hierarchy carries it (see /proc/self/mountinfo)";
		return -1;
	}
	if (cg->mode == CGROUP_MODE_V2) {
		*path = cg->v2_path;
		return cg->v2_fd;
	}
	*path = cg->v1_path[v1];
	return cg->v1_fd[v1];
}

static int missing(const struct cgroup_limits *lim, const char *cgname, const char *ctl,
		   const char *why)
{
	if (lim->allow_missing) {
		log_warn("cgroup %s: controller '%s' is missing (%s); its limit is not applied "
			 "(--allow-missing-controllers)",
			 cgname, ctl, why);
		return 0;
	}
	log_error("cgroup %s: controller '%s' is missing: %s", cgname, ctl, why);
	return -ENOENT;
}

/* Write `val` to dir/file, read it back and compare with `expect`. */
static int put(int dirfd, const char *path, const char *file, const char *val, const char *expect)
{
	_cleanup_free_ char *got = NULL;
	int r = cgfs_write(dirfd, file, val);

	if (r < 0)
		return r == -ENOENT ? r : log_errno(r, "write '%s' to %s/%s", val, path, file);
	r = cgfs_read(dirfd, file, &got);
	if (r < 0)
		return log_errno(r, "read back %s/%s", path, file);
	got[strcspn(got, "\n")] = '\0';
	if (strcmp(got, expect) != 0) {
		log_error("%s/%s reads '%s' after writing '%s'", path, file, got, val);
		return -EIO;
	}
	return 0;
}

static int put_u64(int dirfd, const char *path, const char *file, uint64_t v, uint64_t expect)
{
	char val[32], exp[32];

	snprintf(val, sizeof(val), "%" PRIu64, v);
	snprintf(exp, sizeof(exp), "%" PRIu64, expect);
	return put(dirfd, path, file, val, exp);
}

static int memory_limits(const struct cgroup *cg, const struct cgroup_limits *lim)
{
	const char *path = NULL, *why = NULL;
	int fd = ctl_dir(cg, CG_CTL_MEMORY, CG_V1_MEMORY, &path, &why);
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t bytes = lim->memory_bytes / page * page; /* the kernel keeps pages */
	int r;

	if (fd < 0)
		return missing(lim, cg->name, "memory", why);
	if (cg->mode == CGROUP_MODE_V2) {
		r = put_u64(fd, path, "memory.max", lim->memory_bytes, bytes);
		if (r == 0)
			r = put(fd, path, "memory.swap.max", "0", "0");
		if (r == -ENOENT) /* no swap accounting: nothing can swap */
			log_debug("%s: no memory.swap.max (swap accounting off)", path);
		if (r == 0 || r == -ENOENT)
			r = put(fd, path, "memory.oom.group", "1", "1");
	} else {
		/* memsw >= limit at all times: on EINVAL write them the other way round. */
		r = put_u64(fd, path, "memory.limit_in_bytes", lim->memory_bytes, bytes);
		if (r == 0 || r == -EINVAL) {
			int q = put_u64(fd, path, "memory.memsw.limit_in_bytes", lim->memory_bytes,
					bytes);

			if (q == -ENOENT)
				log_debug(
					"%s: no memory.memsw.limit_in_bytes (swap accounting off)",
					path);
			else if (r == -EINVAL && q == 0)
				r = put_u64(fd, path, "memory.limit_in_bytes", lim->memory_bytes,
					    bytes);
			else if (q < 0)
				r = q;
		}
	}
	if (r == -ENOENT)
		return log_errno(r, "cgroup %s: memory controller files missing", path);
	return r;
}

static int cpu_limits(const struct cgroup *cg, const struct cgroup_limits *lim)
{
	const char *path = NULL, *why = NULL;
	int fd = ctl_dir(cg, CG_CTL_CPU, CG_V1_CPU, &path, &why);
	uint64_t period = lim->cpu_period_us ? lim->cpu_period_us : DEFAULT_CPU_PERIOD_US;
	int r;

	if (fd < 0)
		return missing(lim, cg->name, "cpu", why);
	if (cg->mode == CGROUP_MODE_V2) {
		char val[64];

		snprintf(val, sizeof(val), "%" PRIu64 " %" PRIu64, lim->cpu_quota_us, period);
		r = put(fd, path, "cpu.max", val, val);
	} else {
		r = put_u64(fd, path, "cpu.cfs_period_us", period, period);
		if (r == 0)
			r = put_u64(fd, path, "cpu.cfs_quota_us", lim->cpu_quota_us,
				    lim->cpu_quota_us);
	}
	if (r == -ENOENT)
		return log_errno(r, "cgroup %s: cpu controller files missing", path);
	return r;
}

static int pids_limit(const struct cgroup *cg, const struct cgroup_limits *lim)
{
	const char *path = NULL, *why = NULL;
	int fd = ctl_dir(cg, CG_CTL_PIDS, CG_V1_PIDS, &path, &why);
	int r;

	if (fd < 0)
		return missing(lim, cg->name, "pids", why);
	r = put_u64(fd, path, "pids.max", lim->pids_max, lim->pids_max);
	if (r == -ENOENT)
		return log_errno(r, "cgroup %s: pids controller files missing", path);
	return r;
}

int cgroup_apply_limits(const struct cgroup *cg, const struct cgroup_limits *lim)
{
	int r = 0;

	if (lim->memory_bytes)
		r = memory_limits(cg, lim);
	if (r == 0 && lim->cpu_quota_us)
		r = cpu_limits(cg, lim);
	if (r == 0 && lim->pids_max)
		r = pids_limit(cg, lim);
	return r;
}

/* Open the OOM counter's file once (cg->oom_fd): it is read at every OOM
 * notice and every exit of the worker, and on v2 it is the notice itself. */
static int oom_open(struct cgroup *cg, const char **path, const char **file)
{
	const char *why = NULL;
	int fd = ctl_dir(cg, CG_CTL_MEMORY, CG_V1_MEMORY, path, &why);
	int r;

	if (fd < 0)
		return -ENOENT;
	*file = cg->mode == CGROUP_MODE_V2 ? "memory.events" : "memory.oom_control";
	if (cg->oom_fd < 0 && (cg->oom_fd = cgfs_open(fd, *file, O_RDONLY)) < 0) {
		r = cg->oom_fd;
		cg->oom_fd = -1;
		return log_errno(r, "open %s/%s", *path, *file);
	}
	return 0;
}

const char *cgroup_memory_path(const struct cgroup *cg)
{
	const char *path = NULL, *why = NULL;

	return ctl_dir(cg, CG_CTL_MEMORY, CG_V1_MEMORY, &path, &why) < 0 ? NULL : path;
}

int cgroup_oom_kills(struct cgroup *cg, uint64_t *count)
{
	const char *path = NULL, *file = NULL;
	char text[512];
	uint64_t ticks;
	int r = oom_open(cg, &path, &file);

	if (r < 0)
		return r;
	/* A v1 notice is consumed here, so that the eventfd is quiet until
	 * the next one (its counter is not needed: the kill count is). */
	if (cg->oom_event_fd >= 0 && read(cg->oom_event_fd, &ticks, sizeof(ticks)) < 0 &&
	    errno != EAGAIN)
		log_debug("read the OOM eventfd: %s", strerror(errno));
	/* On v2 this read also re-arms memory.events' POLLPRI. */
	r = cgfs_read_small(cg->oom_fd, text, sizeof(text));
	if (r < 0)
		return log_errno(r, "read %s/%s", path, file);
	r = cgfs_kv(text, "oom_kill", count);
	if (r < 0)
		return log_errno(r, "%s/%s: no oom_kill counter", path, file);
	return 0;
}

int cgroup_oom_watch(struct cgroup *cg, uint32_t *events)
{
	const char *path = NULL, *file = NULL;
	_cleanup_close_ int efd = -1;
	char line[64];
	int r = oom_open(cg, &path, &file);

	if (r < 0)
		return r;
	if (cg->mode == CGROUP_MODE_V2) {
		*events = EPOLLPRI;
		return cg->oom_fd;
	}
	if (cg->oom_event_fd >= 0) {
		*events = EPOLLIN;
		return cg->oom_event_fd;
	}
	/* v1 has no memory.events: the memcg signals an eventfd registered as
	 * "<eventfd> <fd of memory.oom_control>" in cgroup.event_control.  The
	 * registration lasts until the eventfd is closed or the cgroup goes. */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return log_errno(-errno, "eventfd");
	snprintf(line, sizeof(line), "%d %d", efd, cg->oom_fd);
	r = cgfs_write(cg->v1_fd[CG_V1_MEMORY], "cgroup.event_control", line);
	if (r < 0)
		return log_errno(r, "register an OOM eventfd in %s/cgroup.event_control", path);
	cg->oom_event_fd = TAKE_FD(efd);
	*events = EPOLLIN;
	return cg->oom_event_fd;
}
