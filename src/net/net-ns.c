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

/* The helper: enter, run, report; with a new namespace, stay until the
 * parent has opened it (go closes). */
static _Noreturn void helper(int nsfd, int (*fn)(void *arg), void *arg, int wr, int go)
{
	ssize_t n;
	char c;
	int r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (nsfd >= 0)
		r = setns(nsfd, CLONE_NEWNET) < 0 ? log_errno(-errno, "setns") : 0;
	else
		r = unshare(CLONE_NEWNET) < 0 ? log_errno(-errno, "unshare(CLONE_NEWNET)") : 0;
	if (r == 0)
		r = fn(arg);
	n = write(wr, &r, sizeof(r));
	if (go >= 0)
		(void)!read(go, &c, 1);
	_exit(r >= 0 && n == sizeof(r) ? 0 : 1);
}

int net_in_ns(int nsfd, int (*fn)(void *arg), void *arg, int *new_fd, int *status)
{
	_cleanup_close_ int rd = -1, wr = -1, go_rd = -1, go_wr = -1;
	int p[2], r;
	pid_t pid;

	*status = 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return log_errno(-errno, "pipe2");
	rd = p[0];
	wr = p[1];
	if (new_fd) {
		*new_fd = -1;
		if (pipe2(p, O_CLOEXEC) < 0)
			return log_errno(-errno, "pipe2");
		go_rd = p[0];
		go_wr = p[1];
	}
	pid = fork();
	if (pid < 0)
		return log_errno(-errno, "fork");
	if (pid == 0) {
		close(rd);
		if (go_wr >= 0)
			close(go_wr);
		helper(nsfd, fn, arg, wr, go_rd);
	}
	close(TAKE_FD(wr));
	if (go_rd >= 0)
		close(TAKE_FD(go_rd));
	if (read(rd, &r, sizeof(r)) != sizeof(r))
		r = -EIO; /* it died first (libnftables exit()s on some errors) */
	if (r >= 0 && new_fd) {
		_cleanup_free_ char *path = xasprintf("/proc/%d/ns/net", (int)pid);
		*new_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*new_fd < 0)
			r = log_errno(-errno, "open %s", path);
	}
	if (go_wr >= 0)
		close(TAKE_FD(go_wr));
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	if (r >= 0 && !(WIFEXITED(*status) && WEXITSTATUS(*status) == 0))
		r = -EIO;
	if (r < 0 && new_fd && *new_fd >= 0)
		close(TAKE_FD(*new_fd));
	return r;
}
