/* SPDX-License-Identifier: MIT */
/*
 * Walking /proc: children and descendants of a process (through the
 * per-thread "children" files, a whole-/proc scan where the kernel lacks
 * them), process names.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "proctree.h"
#include "util.h"

struct pp {
	pid_t pid, ppid;
};

int proctree_stat(pid_t pid, int first, unsigned long long *out, size_t n)
{
	char path[40], buf[1024], *p, *end;
	_cleanup_close_ int fd = -1;
	ssize_t len;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/stat");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	if (len <= 0)
		return len < 0 ? -errno : -ENOENT;
	buf[len] = '\0';
	p = strrchr(buf, ')'); /* the end of field 2, the name */
	if (!p || first < 4)
		return -EINVAL;
	p++;
	for (int field = 3; field < first + (int)n; field++) {
		p += strspn(p, " ");
		if (!*p)
			return -EINVAL;
		if (field >= first) {
			out[field - first] = strtoull(p, &end, 10);
			if (end == p)
				return -EINVAL;
		}
		p += strcspn(p, " ");
	}
	return 0;
}

static pid_t read_ppid(pid_t pid)
{
	unsigned long long ppid;

	return proctree_stat(pid, 4, &ppid, 1) < 0 ? -1 : (pid_t)ppid;
}

/* Append the pids listed in /proc/PID/task/TID/children ("1 2 3 "). */
static int read_children(int taskfd, const char *tid, pid_t **pids, size_t *n, size_t *cap)
{
	char path[64], buf[4096];
	struct strbuf text = {0};
	_cleanup_close_ int fd = -1;
	ssize_t k;
	int r = 0;

	snprintf(path, sizeof(path), "%s/children", tid);
	fd = openat(taskfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno; /* ENOENT: the thread is gone, or no CONFIG_PROC_CHILDREN */
	while ((k = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[k] = '\0';
		strbuf_puts(&text, buf);
	}
	if (k < 0)
		r = -errno;
	for (char *p = text.buf, *end; r == 0 && p && *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0) {
			xgrow(pids, cap, *n + 1, sizeof(**pids));
			(*pids)[(*n)++] = (pid_t)pid;
		}
	}
	free(text.buf);
	return r;
}

/* The children of every thread of pid, appended to *pids. */
static int append_children(pid_t pid, pid_t **pids, size_t *n, size_t *cap)
{
	char path[64];
	struct dirent *e;
	bool any = false;
	int fd, r = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		int q = read_children(dirfd(d), e->d_name, pids, n, cap);
		if (q == 0)
			any = true;
		else if (q != -ENOENT && q != -ESRCH)
			r = q;
	}
	closedir(d);
	/* Not one thread with a children file: the process is gone (ESRCH),
	 * or the kernel has no CONFIG_PROC_CHILDREN (ENOENT). */
	if (r == 0 && !any)
		r = access(path, F_OK) == 0 ? -ENOENT : -ESRCH;
	return r;
}

/* Does /proc show our own pid namespace (/proc/self is getpid())? */
static bool proc_is_ours(void)
{
	char buf[32];
	ssize_t k = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (k <= 0)
		return false;
	buf[k] = '\0';
	return strtol(buf, NULL, 10) == (long)getpid();
}

static bool skipped(pid_t pid, const pid_t *skip, size_t n_skip)
{
	for (size_t k = 0; k < n_skip; k++)
		if (skip[k] == pid)
			return true;
	return false;
}

/* Drop the skipped pids among pids[from..*n): their subtrees are never
 * walked. */
static void drop_skipped(pid_t *pids, size_t from, size_t *n, const pid_t *skip, size_t n_skip)
{
	size_t w = from;

	for (size_t i = from; i < *n; i++)
		if (!skipped(pids[i], skip, n_skip))
			pids[w++] = pids[i];
	*n = w;
}

/* Breadth-first through the children files; *pids doubles as the queue. */
static int descendants_fast(pid_t root, const pid_t *skip, size_t n_skip, pid_t **pids, size_t *n)
{
	size_t cap = 0;
	int r = append_children(root, pids, n, &cap);

	if (r < 0)
		return r;
	drop_skipped(*pids, 0, n, skip, n_skip);
	for (size_t head = 0; head < *n; head++) {
		size_t before = *n;
		/* ESRCH: it exited meanwhile; its children come back to the
		 * subreaper, possibly after we read its list: racy by nature.
		 * ENOENT: no children files after all. */
		r = append_children((*pids)[head], pids, n, &cap);
		if (r == -ENOENT)
			return r;
		drop_skipped(*pids, before, n, skip, n_skip);
	}
	return 0;
}

int proctree_descendants(pid_t root, pid_t **pids, size_t *n)
{
	return proctree_descendants_except(root, NULL, 0, pids, n);
}

int proctree_descendants_except(pid_t root, const pid_t *skip, size_t n_skip, pid_t **pids,
				size_t *n)
{
	DIR *d;
	struct pp *all = NULL;
	size_t n_all = 0, cap = 0, out_cap = 0;
	struct dirent *e;

	*pids = NULL;
	*n = 0;
	/* A /proc of another pid namespace (PID 1 without its own /proc)
	 * would name other processes: refuse it. */
	if (!proc_is_ours())
		return -EXDEV;
	if (descendants_fast(root, skip, n_skip, pids, n) == 0)
		return 0;
	free(*pids);
	*pids = NULL;
	*n = 0;
	/* Fallback: every process's parent from /proc/PID/stat. */
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		pid_t ppid = read_ppid((pid_t)pid);
		if (ppid < 0)
			continue;
		xgrow(&all, &cap, n_all + 1, sizeof(*all));
		all[n_all++] = (struct pp){(pid_t)pid, ppid};
	}
	closedir(d);
	/* Breadth-first: *pids doubles as the queue. */
	for (size_t head = 0;; head++) {
		pid_t parent = head == 0 ? root : (*pids)[head - 1];
		if (head > *n)
			break;
		for (size_t i = 0; i < n_all; i++)
			if (all[i].ppid == parent && all[i].pid != root &&
			    !skipped(all[i].pid, skip, n_skip)) {
				xgrow(pids, &out_cap, *n + 1, sizeof(**pids));
				(*pids)[(*n)++] = all[i].pid;
			}
	}
	free(all);
	return 0;
}

void proctree_drop(pid_t *pids, size_t *n, pid_t pid)
{
	if (pid > 0)
		drop_skipped(pids, 0, n, &pid, 1);
}

/* The process's name (/proc/PID/comm) into buf, "?" when gone. */
static const char *proctree_comm(pid_t pid, char *buf, size_t size)
{
	char path[64];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, size - 1) : -1;
	if (n <= 0) {
		snprintf(buf, size, "?");
		return buf;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

char *proctree_describe(const pid_t *pids, size_t n, size_t max)
{
	struct strbuf sb = {0};
	char comm[32];

	for (size_t i = 0; i < n && i < max; i++)
		strbuf_printf(&sb, "%s%ld (%s)", i ? ", " : "", (long)pids[i],
			      proctree_comm(pids[i], comm, sizeof(comm)));
	if (n > max)
		strbuf_puts(&sb, ", ...");
	return strbuf_detach(&sb);
}
