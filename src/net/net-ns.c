/* SPDX-License-Identifier: MIT */
/*
 * One step in another network namespace (see net.h): a forked helper
 * enters it, runs the step and reports the result through a pipe, so
 * that berth's own namespace never changes (setns() would move the whole
 * process, and the supervisor must stay where it is).  Installing the
 * ruleset, refreshing its sets and removing it all go through here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "net.h"
#include "util.h"

/* The helper: enter, run, report; with a new namespace (go >= 0), report
 * it made first, and stay until the parent has opened it (go closes). */
static _Noreturn void helper(int nsfd, int (*fn)(void *arg), void *arg, int wr, int go)
{
	ssize_t n = sizeof(int);
	char c;
	int r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (nsfd >= 0)
		r = setns(nsfd, CLONE_NEWNET) < 0 ? log_errno(-errno, "setns") : 0;
	else
		r = unshare(CLONE_NEWNET) < 0 ? log_errno(-errno, "unshare(CLONE_NEWNET)") : 0;
	if (go >= 0)
		n = write(wr, &r, sizeof(r));
	if (r == 0 && n == sizeof(r))
		r = fn(arg);
	if (n == sizeof(r))
		n = write(wr, &r, sizeof(r));
	if (go >= 0)
		(void)!read(go, &c, 1);
	_exit(r >= 0 && n == sizeof(r) ? 0 : 1);
}

int net_in_ns_start(int nsfd, int (*fn)(void *arg), void *arg, bool new_ns, struct net_job *j)
{
	_cleanup_close_ int wr = -1, go_rd = -1;
	int p[2];

	j->pid = -1;
	j->rd = j->go_wr = -1;
	j->got = false;
	if (pipe2(p, O_CLOEXEC) < 0)
		return log_errno(-errno, "pipe2");
	j->rd = p[0];
	wr = p[1];
	if (new_ns) {
		if (pipe2(p, O_CLOEXEC) < 0) {
			close(TAKE_FD(j->rd));
			return log_errno(-errno, "pipe2");
		}
		go_rd = p[0];
		j->go_wr = p[1];
	}
	j->pid = fork();
	if (j->pid < 0) {
		int r = log_errno(-errno, "fork");
		close(TAKE_FD(j->rd));
		if (j->go_wr >= 0)
			close(TAKE_FD(j->go_wr));
		return r;
	}
	if (j->pid == 0) {
		close(j->rd);
		if (j->go_wr >= 0)
			close(j->go_wr);
		helper(nsfd, fn, arg, wr, go_rd);
	}
	return 0;
}

/* One int from the helper, or -EIO when it died first (libnftables
 * exit()s on some errors). */
static int job_read(struct net_job *j)
{
	ssize_t n;
	int r;

	do
		n = read(j->rd, &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	return n == sizeof(r) ? r : -EIO;
}

int net_in_ns_open(struct net_job *j, int *new_fd)
{
	int r = job_read(j);

	*new_fd = -1;
	if (r >= 0) {
		_cleanup_free_ char *path = xasprintf("/proc/%d/ns/net", (int)j->pid);
		*new_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*new_fd < 0)
			r = log_errno(-errno, "open %s", path);
	}
	close(TAKE_FD(j->go_wr));
	return r;
}

int net_in_ns_result(struct net_job *j)
{
	if (!j->got) {
		j->result = job_read(j);
		j->got = true;
	}
	return j->result;
}

int net_in_ns_finish(struct net_job *j, int *status)
{
	int r = net_in_ns_result(j);

	*status = 0;
	if (j->go_wr >= 0)
		close(TAKE_FD(j->go_wr));
	while (waitpid(j->pid, status, 0) < 0 && errno == EINTR)
		;
	j->pid = -1;
	close(TAKE_FD(j->rd));
	if (r >= 0 && !(WIFEXITED(*status) && WEXITSTATUS(*status) == 0))
		r = -EIO;
	return r;
}

void net_in_ns_cancel(struct net_job *j)
{
	if (j->pid <= 0) /* none (a zeroed job owns no fd 0 either) */
		return;
	kill(j->pid, SIGKILL); /* our child, not reaped: the pid is its own */
	while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(j->rd);
	if (j->go_wr >= 0)
		close(j->go_wr);
	j->pid = j->rd = j->go_wr = -1;
}

int net_in_ns(int nsfd, int (*fn)(void *arg), void *arg, int *new_fd, int *status)
{
	struct net_job j;
	int r = net_in_ns_start(nsfd, fn, arg, new_fd != NULL, &j);

	*status = 0;
	if (new_fd)
		*new_fd = -1;
	if (r < 0)
		return r;
	if (new_fd) {
		r = net_in_ns_open(&j, new_fd);
		if (r < 0) {
			net_in_ns_cancel(&j);
			return r;
		}
	}
	r = net_in_ns_finish(&j, status);
	if (r < 0 && new_fd)
		close(TAKE_FD(*new_fd));
	return r;
}
