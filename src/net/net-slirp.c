/* SPDX-License-Identifier: MIT */
/*
 * slirp4netns: user-mode egress for --network=private's new namespace.
 * berth starts it as a child of its own, in a new session and a new PID
 * namespace, with SIGKILL as its parent-death signal, waits for its
 * --ready-fd, and SIGKILLs it at release without waiting.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "pidfd.h"
#include "util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* The child's fds: the namespace, the ready pipe's write end. */
#define SLIRP_NS_FD    3
#define SLIRP_READY_FD 4

/* slirp4netns as berth's child: --configure gives the namespace
 * 10.0.2.100/24, lo up and the default route via 10.0.2.2, which slirp
 * maps to this host's loopback; no --api-socket, so no port is ever
 * forwarded into the namespace; --enable-sandbox (as root: every
 * capability but CAP_NET_BIND_SERVICE dropped, a new mount namespace
 * with only /etc and /run of the host) and --enable-seccomp (a syscall
 * allow-list) once set up.  No --enable-ipv6 (doc/isolation.md).
 * Its sandbox detaches the old root after pivot_root: in berth's mount
 * namespace, where /run/netns is shared, that unmount propagates and
 * takes every `ip netns` name away.  So it starts in a mount namespace of
 * its own, every mount private, from which nothing propagates back. */
static _Noreturn void exec_slirp(const char *slirp, int nsfd, int ready_wr, int out, int alive_rd)
{
	static const char *const args[] = {
		"--configure",	"--mtu=65520",	     "--enable-sandbox", "--enable-seccomp",
		"--ready-fd=4", "--netns-type=path", "/proc/self/fd/3",	 "tap0",
	};
	char *argv[ARRAY_SIZE(args) + 2];
	char *const envp[] = {NULL};
	struct pollfd pf = {.fd = alive_rd, .events = POLLIN};
	sigset_t none;
	/* above 4 first, so that no fd is lost to another */
	int ns = fcntl(nsfd, F_DUPFD_CLOEXEC, 10);
	int rd = fcntl(ready_wr, F_DUPFD_CLOEXEC, 10);
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

	/* berth holds the pipe's other end: a hangup means it died before
	 * the parent-death signal was set */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || poll(&pf, 1, 0) != 0)
		_exit(125);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		_exit(126);
	argv[0] = (char *)slirp;
	for (size_t i = 0; i < ARRAY_SIZE(args); i++)
		argv[i + 1] = (char *)args[i];
	argv[ARRAY_SIZE(args) + 1] = NULL;
	/* 0 /dev/null, 1 and 2 the memfd berth reads on failure, the
	 * namespace as 3, the ready pipe as 4 (not close-on-exec); no
	 * signal blocked */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 || setsid() < 0 || ns < 0 || rd < 0 ||
	    nul < 0 || dup2(nul, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 ||
	    dup2(ns, SLIRP_NS_FD) < 0 || dup2(rd, SLIRP_READY_FD) < 0)
		_exit(125);
	execve(slirp, argv, envp);
	_exit(127);
}

/* The last line slirp4netns wrote (out, a memfd), for a failure's
 * message. */
static void last_line(int out, char *buf, size_t size)
{
	ssize_t n = pread(out, buf, size - 1, 0);
	char *p;

	buf[n > 0 ? n : 0] = '\0';
	while ((p = strrchr(buf, '\n')) && p[1] == '\0')
		*p = '\0';
	p = strrchr(buf, '\n');
	if (p)
		memmove(buf, p + 1, strlen(p + 1) + 1);
}

/* Wait for "1" on the ready pipe; -errno (logged) when slirp4netns
 * exits or closes it first, or does not get there within
 * NET_SLIRP_TIMEOUT_MS. */
static int wait_slirp(const char *slirp, int ready, int pidfd, pid_t pid, int out)
{
	struct pollfd pf[2] = {{.fd = ready, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
	uint64_t end = monotonic_ms() + NET_SLIRP_TIMEOUT_MS;
	char msg[512];
	int status = 0;

	for (;;) {
		uint64_t now = monotonic_ms();
		int n = now < end ? poll(pf, 2, (int)(end - now)) : 0;
		char c = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return log_errno(-errno, "poll");
		if (n == 0)
			return log_errno(-ETIMEDOUT, "%s not ready within %d ms", slirp,
					 NET_SLIRP_TIMEOUT_MS);
		if (pf[0].revents && read(ready, &c, 1) == 1 && c == '1')
			return 0;
		if (pf[0].revents || pf[1].revents)
			break; /* closed without "1", or dead */
	}
	/* dead, or alive without its network: its status either way */
	pidfd_signal(pidfd, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	last_line(out, msg, sizeof(msg));
	return log_errno(-EIO, "%s failed (status %#x)%s%s", slirp, (unsigned)status,
			 *msg ? ": " : "", msg);
}

/* fork-like, into a new PID namespace, with a pidfd; without clone3 (a
 * filter's ENOSYS), a fork in berth's own PID namespace */
static pid_t clone_helper(int *pidfd)
{
	pid_t pid = pidfd_clone3(CLONE_NEWPID | CLONE_PIDFD, -1, pidfd);

	if (pid < 0 && errno == ENOSYS) {
		log_debug("clone3: %s; slirp4netns shares berth's PID namespace", strerror(errno));
		pid = fork();
		if (pid > 0)
			*pidfd = pidfd_open_pid(pid);
	}
	return pid;
}

int net_slirp_start(const struct net_opts *o, struct net_handle *h)
{
	const char *slirp = o->slirp ? o->slirp : NET_SLIRP;
	int alive[2] = {-1, -1}, ready[2] = {-1, -1}, out, pidfd = -1, r;
	pid_t pid;

	if (access(slirp, X_OK) < 0)
		return log_errno(-errno,
				 "--network=private needs %s (Debian package slirp4netns); "
				 "or use --network=none",
				 slirp);
	out = memfd_create("berth-slirp4netns", MFD_CLOEXEC);
	if (out < 0)
		return log_errno(-errno, "memfd_create");
	if (pipe2(alive, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0) {
		r = log_errno(-errno, "pipe2");
		goto out;
	}
	pid = clone_helper(&pidfd);
	if (pid == 0) {
		close(alive[1]);
		close(ready[0]);
		exec_slirp(slirp, h->nsfd, ready[1], out, alive[0]);
	}
	close(ready[1]);
	ready[1] = -1;
	if (pid < 0) {
		r = log_errno(-errno, "clone3(CLONE_NEWPID) or fork for %s", slirp);
	} else if (pidfd < 0) {
		r = log_errno(pidfd, "pidfd_open slirp4netns %d", (int)pid);
		kill(pid, SIGKILL); /* our child, not reaped: the pid is its own */
		waitpid(pid, NULL, 0);
	} else {
		h->slirp_pid = pid;
		h->slirp_pidfd = pidfd;
		r = wait_slirp(slirp, ready[0], pidfd, pid, out);
	}
	if (r == 0)
		log_debug("slirp4netns %d serves the worker's network namespace", (int)pid);
out:
	for (int i = 0; i < 2; i++) {
		if (alive[i] >= 0)
			close(alive[i]);
		if (ready[i] >= 0)
			close(ready[i]);
	}
	close(out);
	return r;
}

void net_slirp_stop(struct net_handle *h)
{
	siginfo_t si;

	if (h->slirp_pidfd < 0)
		return;
	pidfd_signal(h->slirp_pidfd, SIGKILL);
	/* berth's child; through the pidfd, so that a recycled pid is never
	 * waited for (ECHILD when the run loop reaped it).  Not waited for:
	 * its exit closes the tap device, and the kernel unregisters it after
	 * RCU grace periods that berth's stop would wait for.  SIGKILLed, it
	 * ends all the same, and berth's parent (or init) reaps it after
	 * berth. */
	(void)waitid(P_PIDFD, (id_t)h->slirp_pidfd, &si, WEXITED | WNOHANG);
	close(h->slirp_pidfd);
	h->slirp_pidfd = -1;
	h->slirp_pid = 0;
}
