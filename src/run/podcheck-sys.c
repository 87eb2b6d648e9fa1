/* SPDX-License-Identifier: MIT */
/*
 * Pod mode's check, the reading (see podcheck.h): /proc/self/status, the
 * root's mount flags, the memory and CPU limit of berth's own cgroup
 * (found through /proc/self/cgroup and the mount table, as the engine
 * shows them: cgroup v2, else the v1 memory and cpu hierarchies).  What
 * cannot be read is left unknown, which the verdict counts as missing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "podcheck.h"
#include "util.h"

/* The whole of a small text file (freshly allocated), or NULL. */
static char *read_text(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct strbuf sb = {0};
	char buf[4096];
	ssize_t n;

	if (fd < 0)
		return NULL;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	if (n < 0 || sb.len > (1 << 20)) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb);
}

/* mnt + (path relative to the mount's root, mountinfo's field 4). */
static char *hier_dir(const char *mnt, const char *root, const char *path)
{
	size_t rl = root ? strlen(root) : 0;

	if (rl > 1 && strncmp(path, root, rl) == 0 && (path[rl] == '/' || !path[rl]))
		path += rl;
	return xasprintf("%s%s", mnt, strcmp(path, "/") == 0 ? "" : path);
}

/* One limit of the directory dir: 0 or -errno. */
typedef int (*limit_fn)(const char *dir, uint64_t *a, uint64_t *b);

static int mem_v2(const char *dir, uint64_t *bytes, uint64_t *unused)
{
	_cleanup_free_ char *p = xasprintf("%s/memory.max", dir), *t = read_text(p);

	(void)unused;
	return t ? podcheck_parse_memory(t, bytes) : -ENOENT;
}

static int mem_v1(const char *dir, uint64_t *bytes, uint64_t *unused)
{
	_cleanup_free_ char *p = xasprintf("%s/memory.limit_in_bytes", dir), *t = read_text(p);

	(void)unused;
	return t ? podcheck_parse_memory(t, bytes) : -ENOENT;
}

static int cpu_v2(const char *dir, uint64_t *quota, uint64_t *period)
{
	_cleanup_free_ char *p = xasprintf("%s/cpu.max", dir), *t = read_text(p);

	return t ? podcheck_parse_cpu_max(t, quota, period) : -ENOENT;
}

static int cpu_v1(const char *dir, uint64_t *quota, uint64_t *period)
{
	_cleanup_free_ char *q = xasprintf("%s/cpu.cfs_quota_us", dir), *tq = read_text(q);
	_cleanup_free_ char *p = xasprintf("%s/cpu.cfs_period_us", dir), *tp = read_text(p);

	return tq && tp ? podcheck_parse_cfs(tq, tp, quota, period) : -ENOENT;
}

/* The lowest limit of dir and its ancestors up to mnt, by fn: *a (bytes,
 * or a quota over *b); 0 for none.  True when dir's own could be read. */
static bool lowest(const char *mnt, char *dir, limit_fn fn, bool ratio, uint64_t *a, uint64_t *b)
{
	size_t ml = strlen(mnt);
	bool first = true, seen = false;

	*a = *b = 0;
	for (;;) {
		uint64_t x = 0, y = 0;
		int r = fn(dir, &x, &y);

		if (first)
			seen = r == 0;
		first = false;
		/* lower: a memory below; a CPU ratio x/y below *a / *b */
		if (r == 0 && x &&
		    (!*a ||
		     (ratio ? (unsigned __int128)x * *b < (unsigned __int128)*a * y : x < *a))) {
			*a = x;
			*b = y;
		}
		char *slash = strrchr(dir, '/');
		if (strlen(dir) <= ml || !slash || (size_t)(slash - dir) < ml)
			break;
		*slash = '\0';
	}
	return seen;
}

static void read_limits(struct podcheck_seen *s)
{
	struct cgroup_layout l = {0};
	_cleanup_free_ char *text = read_text("/proc/self/cgroup");
	uint64_t unused;

	if (!text || cgroup_detect(&l) < 0)
		return;
	if (l.mode == CGROUP_MODE_V2) {
		_cleanup_free_ char *path = NULL, *dir = NULL;

		if (cgroup_parse_proc_cgroup(text, NULL, &path) == 0) {
			dir = hier_dir(l.unified_mnt, l.unified_root, path);
			s->have_memory = lowest(l.unified_mnt, dir, mem_v2, false, &s->memory_bytes,
						&unused);
			free(dir);
			dir = hier_dir(l.unified_mnt, l.unified_root, path);
			s->have_cpu = lowest(l.unified_mnt, dir, cpu_v2, true, &s->cpu_quota_us,
					     &s->cpu_period_us);
		}
	} else if (l.mode != CGROUP_MODE_NONE) {
		_cleanup_free_ char *mpath = NULL, *cpath = NULL, *mdir = NULL, *cdir = NULL;

		if (l.v1_mnt[CG_V1_MEMORY] &&
		    cgroup_parse_proc_cgroup(text, "memory", &mpath) == 0) {
			mdir = hier_dir(l.v1_mnt[CG_V1_MEMORY], l.v1_root[CG_V1_MEMORY], mpath);
			s->have_memory = lowest(l.v1_mnt[CG_V1_MEMORY], mdir, mem_v1, false,
						&s->memory_bytes, &unused);
		}
		if (l.v1_mnt[CG_V1_CPU] && cgroup_parse_proc_cgroup(text, "cpu", &cpath) == 0) {
			cdir = hier_dir(l.v1_mnt[CG_V1_CPU], l.v1_root[CG_V1_CPU], cpath);
			s->have_cpu = lowest(l.v1_mnt[CG_V1_CPU], cdir, cpu_v1, true,
					     &s->cpu_quota_us, &s->cpu_period_us);
		}
	}
	cgroup_layout_free(&l);
}

void podcheck_read(struct podcheck_seen *s)
{
	_cleanup_free_ char *status = read_text("/proc/self/status");
	struct statvfs sv;

	memset(s, 0, sizeof(*s));
	s->no_new_privs = s->seccomp = -1;
	if (status)
		(void)podcheck_parse_status(status, s);
	if (statvfs("/", &sv) == 0) {
		s->have_ro_root = true;
		s->ro_root = (sv.f_flag & ST_RDONLY) != 0;
	}
	read_limits(s);
}

int podcheck_run(const struct cgroup_limits *want, unsigned waive, uint64_t stop_ms)
{
	struct podcheck_seen s;
	_cleanup_free_ char *line = NULL;
	int r;

	podcheck_read(&s);
	r = podcheck_verdict(&s, want, waive, stop_ms, &line);
	if (r < 0)
		log_error("%s", line);
	else
		log_info("%s", line);
	return r;
}
