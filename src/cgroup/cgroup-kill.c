/* SPDX-License-Identifier: MIT */
/*
 * Every process of an instance cgroup: listing (recursive), emptiness,
 * signalling while frozen, and SIGKILL for all: cgroup.kill on v2, else
 * crun's pattern (freeze, signal each pid, thaw on every path) repeated
 * until a pass finds no new process, as systemd's cg_kill does.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

#define FREEZE_TIMEOUT_MS 1000
#define KILL_PASSES	  100
#define MAX_DEPTH	  32

struct pidv {
	pid_t *v;
	size_t n, cap;
};

static void pidv_add(struct pidv *p, pid_t pid)
{
	xgrow(&p->v, &p->cap, p->n + 1, sizeof(*p->v));
	p->v[p->n++] = pid;
}

static bool pidv_has(const struct pidv *p, pid_t pid)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i] == pid)
			return true;
	return false;
}

/* cgroup.procs of dirfd and of every cgroup beneath it. */
static int list_tree(int dirfd, const char *path, struct pidv *out, int depth)
{
	_cleanup_free_ char *text = NULL;
	int fd, r;
	DIR *d;
	struct dirent *e;

	r = cgfs_read(dirfd, "cgroup.procs", &text);
	if (r == -ENOENT || r == -ENODEV)
		return depth > 0 ? 0 : log_errno(r, "read %s/cgroup.procs", path);
	if (r < 0)
		return log_errno(r, "read %s/cgroup.procs", path);
	for (char *p = text, *nl; *p; p = nl + 1) {
		uint64_t v;

		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (parse_u64(p, INT_MAX, &v) == 0 && v > 0)
			pidv_add(out, (pid_t)v);
	}
	if (depth >= MAX_DEPTH)
		return 0;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		return log_errno(r, "list %s", path);
	}
	while (r == 0 && (e = readdir(d))) {
		if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0)
			continue;
		_cleanup_close_ int sub = cgfs_open(dirfd, e->d_name, O_PATH | O_DIRECTORY);
		_cleanup_free_ char *subpath = xasprintf("%s/%s", path, e->d_name);

		if (sub == -ENOENT)
			continue;
		r = sub < 0 ? log_errno(sub, "open %s", subpath)
			    : list_tree(sub, subpath, out, depth + 1);
	}
	closedir(d);
	return r;
}

static int list_pids(const struct cgroup *cg, struct pidv *out)
{
	const char *path;
	int fd = cgfs_tracking_fd(cg, &path);

	if (fd < 0) {
		log_error("cgroup %s: not created or already removed", cg->name ? cg->name : "?");
		return -EBADF;
	}
	return list_tree(fd, path, out, 0);
}

int cgroup_pids(const struct cgroup *cg, pid_t **pids, size_t *n)
{
	struct pidv p = {0};
	int r = list_pids(cg, &p);

	if (r < 0) {
		free(p.v);
		return r;
	}
	*pids = p.v;
	*n = p.n;
	return 0;
}

static void read_comm(pid_t pid, char comm[16])
{
	char path[40];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, comm, 15) : -1;
	if (n <= 0) {
		strcpy(comm, "?");
		return;
	}
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

int cgroup_procs(const struct cgroup *cg, struct cgroup_proc **procs, size_t *n)
{
	struct pidv p = {0};
	int r = list_pids(cg, &p);

	if (r < 0) {
		free(p.v);
		return r;
	}
	*procs = xcalloc(p.n ? p.n : 1, sizeof(**procs));
	for (size_t i = 0; i < p.n; i++) {
		(*procs)[i].pid = p.v[i];
		read_comm(p.v[i], (*procs)[i].comm);
	}
	*n = p.n;
	free(p.v);
	return 0;
}

int cgroup_populated(const struct cgroup *cg)
{
	char buf[256];
	struct pidv p = {0};
	uint64_t v;
	int fd, r;

	if (cg->v2_fd < 0) {
		r = list_pids(cg, &p);
		free(p.v);
		return r < 0 ? r : p.n > 0;
	}
	/* Reading through events_fd also re-arms its POLLPRI. */
	fd = cg->events_fd >= 0 ? cg->events_fd : cgfs_open(cg->v2_fd, "cgroup.events", O_RDONLY);
	r = fd < 0 ? fd : cgfs_read_small(fd, buf, sizeof(buf));
	if (fd >= 0 && fd != cg->events_fd)
		close(fd);
	if (r < 0)
		return log_errno(r, "read %s/cgroup.events", cg->v2_path);
	r = cgfs_kv(buf, "populated", &v);
	if (r < 0)
		return log_errno(r, "%s/cgroup.events: no 'populated' line", cg->v2_path);
	return v != 0;
}

/* ---- freezing ------------------------------------------------------------- */

/* v2: wait for "frozen 1", woken by cgroup.events' POLLPRI. */
static int wait_frozen_v2(const struct cgroup *cg)
{
	_cleanup_close_ int fd = cgfs_open(cg->v2_fd, "cgroup.events", O_RDONLY);
	int64_t deadline = (int64_t)monotonic_ms() + FREEZE_TIMEOUT_MS;

	if (fd < 0)
		return fd;
	for (;;) {
		_cleanup_free_ char *text = NULL;
		struct pollfd pfd = {.fd = fd, .events = POLLPRI};
		uint64_t v = 0;
		int64_t left;

		if (cgfs_read_fd(fd, &text) == 0 && cgfs_kv(text, "frozen", &v) == 0 && v == 1)
			return 0;
		left = deadline - (int64_t)monotonic_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
	}
}

/* v1: freezer.state goes FREEZING -> FROZEN with no notification; the wait
 * is bounded (runc calls the v1 freezer "a game of chances"). */
static int wait_frozen_v1(int fd)
{
	for (int i = 0; i < FREEZE_TIMEOUT_MS; i++) {
		_cleanup_free_ char *state = NULL;
		struct timespec ms = {0, 1000000};

		if (cgfs_read(fd, "freezer.state", &state) == 0 && str_has_prefix(state, "FROZEN"))
			return 0;
		nanosleep(&ms, NULL);
	}
	return -ETIMEDOUT;
}

/* Freeze the cgroup.  True when a thaw is owed (even if the freeze did
 * not complete in time: the pass then goes on, racy but bounded). */
static bool freeze(const struct cgroup *cg)
{
	int v1 = cg->v1_fd[CG_V1_FREEZER];
	int r;

	if (cg->v2_fd >= 0) {
		r = cgfs_write(cg->v2_fd, "cgroup.freeze", "1");
		if (r == 0)
			r = wait_frozen_v2(cg);
	} else if (v1 >= 0) {
		r = cgfs_write(v1, "freezer.state", "FROZEN");
		if (r == 0)
			r = wait_frozen_v1(v1);
	} else {
		return false;
	}
	if (r == -ETIMEDOUT)
		log_warn("cgroup %s did not freeze within %d ms", cg->name, FREEZE_TIMEOUT_MS);
	else if (r < 0)
		log_debug("cgroup %s: cannot freeze: %s", cg->name, strerror(-r));
	return r == 0 || r == -ETIMEDOUT;
}

static void thaw(const struct cgroup *cg)
{
	int r = cg->v2_fd >= 0 ? cgfs_write(cg->v2_fd, "cgroup.freeze", "0")
			       : cgfs_write(cg->v1_fd[CG_V1_FREEZER], "freezer.state", "THAWED");

	if (r < 0 && r != -ENODEV)
		log_errno(r, "thaw cgroup %s", cg->name);
}

/* ---- signalling ----------------------------------------------------------- */

int cgroup_signal_all_except(const struct cgroup *cg, const int *sigs, size_t nsigs, pid_t pgid,
			     size_t *count)
{
	struct pidv p = {0};
	bool frozen = freeze(cg);
	int r;

	*count = 0;
	r = list_pids(cg, &p);
	if (r < 0)
		goto thaw;
	for (size_t i = 0; i < p.n; i++) {
		/* Frozen: nobody changes its process group meanwhile. */
		if (pgid > 0 && getpgid(p.v[i]) == pgid)
			continue;
		for (size_t j = 0; j < nsigs; j++) {
			if (kill(p.v[i], sigs[j]) == 0) {
				if (j == 0)
					(*count)++;
			} else if (errno == ESRCH) {
				break;
			} else {
				r = log_errno(-errno, "kill(%d, %d)", (int)p.v[i], sigs[j]);
			}
		}
	}
thaw:
	if (frozen)
		thaw(cg);
	free(p.v);
	return r;
}

int cgroup_signal_all(const struct cgroup *cg, int sig, size_t *count)
{
	return cgroup_signal_all_except(cg, &sig, 1, 0, count);
}

/* freeze, SIGKILL each pid not yet killed, thaw; until nothing new shows. */
static int kill_passes(const struct cgroup *cg, struct cgroup_proc **procs, size_t *n)
{
	struct pidv done = {0};
	size_t cap = 0;
	int r = 0;

	*procs = NULL;
	*n = 0;
	for (int pass = 0; pass < KILL_PASSES; pass++) {
		struct pidv now = {0};
		bool frozen = freeze(cg);
		size_t fresh = 0;

		r = list_pids(cg, &now);
		for (size_t i = 0; r == 0 && i < now.n; i++) {
			pid_t pid = now.v[i];

			if (pidv_has(&done, pid))
				continue;
			pidv_add(&done, pid);
			fresh++;
			xgrow(procs, &cap, *n + 1, sizeof(**procs));
			(*procs)[*n].pid = pid;
			read_comm(pid, (*procs)[*n].comm);
			if (kill(pid, SIGKILL) == 0)
				(*n)++;
			else if (errno != ESRCH)
				r = log_errno(-errno, "kill(%d, SIGKILL)", (int)pid);
		}
		if (frozen)
			thaw(cg);
		free(now.v);
		if (r < 0 || fresh == 0)
			break;
	}
	free(done.v);
	if (!*procs)
		*procs = xcalloc(1, sizeof(**procs));
	return r;
}

int cgroup_kill_all_procs(const struct cgroup *cg, struct cgroup_proc **procs, size_t *n)
{
	int r;

	if (cg->v2_fd >= 0) {
		r = cgroup_procs(cg, procs, n);
		if (r < 0)
			return r;
		r = cgfs_write(cg->v2_fd, "cgroup.kill", "1");
		if (r == 0)
			return 0;
		free(*procs);
		if (r != -ENOENT)
			log_warn("write %s/cgroup.kill: %s; killing pid by pid", cg->v2_path,
				 strerror(-r));
	}
	return kill_passes(cg, procs, n);
}

int cgroup_kill_all(const struct cgroup *cg, size_t *count)
{
	struct cgroup_proc *procs = NULL;
	int r = cgroup_kill_all_procs(cg, &procs, count);

	free(procs);
	return r;
}
