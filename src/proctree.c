/* SPDX-License-Identifier: MIT */
/* Walking /proc: descendants of a process, process names. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

static pid_t read_ppid(pid_t pid)
{
	char path[64], buf[512];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may contain spaces and parens. */
	char *p = strrchr(buf, ')');
	long ppid;
	char state;
	if (!p || sscanf(p + 1, " %c %ld", &state, &ppid) != 2)
		return -1;
	return (pid_t)ppid;
}

int proctree_descendants(pid_t root, pid_t **pids, size_t *n)
{
	DIR *d = opendir("/proc");
	struct pp *all = NULL;
	size_t n_all = 0, cap = 0, out_cap = 0;
	struct dirent *e;

	*pids = NULL;
	*n = 0;
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
			if (all[i].ppid == parent && all[i].pid != root) {
				xgrow(pids, &out_cap, *n + 1, sizeof(**pids));
				(*pids)[(*n)++] = all[i].pid;
			}
	}
	free(all);
	return 0;
}

const char *proctree_comm(pid_t pid, char *buf, size_t size)
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
