/* SPDX-License-Identifier: MIT */
/*
 * berth-init, the init of the worker's PID, IPC and UTS namespaces: its
 * creation (clone3, else clone, with the three CLONE_NEW* flags), its
 * short setup in the child (parent-death signal, hostname, its namespaces
 * handed to berth over a socket), and its life: reaping orphans, and
 * holding the running worker's mount namespace (sent over that socket at
 * each start) until the worker exits, with no other wakeup.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "nsinit.h"
#include "pidfd.h"
#include "proctree.h"
#include "util.h"

#define INIT_NAME "berth-init"

/* What the init reports once: 0, or the step that failed and errno; its
 * namespaces ride along (SCM_RIGHTS) on success. */
enum init_step { INIT_OK, INIT_PDEATHSIG, INIT_HOSTNAME, INIT_NSFDS, INIT_STEP_COUNT };

struct init_report {
	int step;
	int err;
};

/* In the enum's order (positional: the assertion counts them). */
static const char *const init_steps[] = {
	"start",		       /* INIT_OK: reported with err 0 */
	"set its parent-death signal", /* INIT_PDEATHSIG */
	"set the hostname",	       /* INIT_HOSTNAME */
	"open its namespaces",	       /* INIT_NSFDS */
};
_Static_assert(ARRAY_SIZE(init_steps) == INIT_STEP_COUNT, "a name for every init_step");

/* pid, ipc, uts: the order of the fds in the report */
static const char *const ns_names[] = {"pid", "ipc", "uts"};

/* The argv area, for /proc/PID/cmdline: fields 48 and 49 of
 * /proc/self/stat.  Zeroes when unknown. */
static void arg_area(unsigned long *start, unsigned long *end)
{
	unsigned long long f[2];

	*start = *end = 0;
	if (proctree_stat(0, 48, f, 2) == 0 && f[1] > f[0]) {
		*start = (unsigned long)f[0];
		*end = (unsigned long)f[1];
	}
}

/* Make `ps` and /proc/1/cmdline say "berth-init": overwrite the argv
 * strings inherited from berth (this is a copy of berth's memory) and end
 * the area after the name (PR_SET_MM needs CAP_SYS_RESOURCE: best
 * effort). */
static void set_cmdline(unsigned long start, unsigned long end)
{
	size_t len = end - start, n = sizeof(INIT_NAME);

	if (!start || len < 2)
		return;
	if (n > len)
		n = len;
	memset((void *)start, 0, len);
	memcpy((void *)start, INIT_NAME, n - 1);
	prctl(PR_SET_MM, PR_SET_MM_ARG_END, start + n, 0, 0);
}

static void send_report(int sock, enum init_step step, int err, const int *fds, size_t nfds,
			int flags)
{
	struct init_report rep = {.step = step, .err = err};
	struct iovec iov = {.iov_base = &rep, .iov_len = sizeof(rep)};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 3)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds) {
		struct cmsghdr *cm;
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	while (sendmsg(sock, &msg, MSG_NOSIGNAL | flags) < 0 && errno == EINTR)
		;
}

static _Noreturn void init_fail(int sock, enum init_step step, int err)
{
	send_report(sock, step, err, NULL, 0, 0);
	_exit(1);
}

/* Every fd but its socket closed, berth's stdout and stderr too: the init
 * must not keep a pipe of whoever started berth open. */
static void close_all_fds(int keep)
{
	if ((keep == 0 || syscall(SYS_close_range, 0U, (unsigned)keep - 1, 0U) == 0) &&
	    syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) == 0)
		return;
	for (int fd = 0; fd < 1024; fd++)
		if (fd != keep)
			close(fd);
}

/* Close what is held: the worker's mount namespace and its pidfd. */
static void drop_held(int held[2])
{
	for (int i = 0; i < 2; i++)
		if (held[i] >= 0)
			close(held[i]);
	held[0] = held[1] = -1;
}

/* One report, and its nfds (at most 3) descriptors when it carries
 * exactly those (*got).  The bytes read (0: the other end is closed) or
 * -errno. */
static ssize_t recv_report(int sock, int flags, struct init_report *rep, int *fds, size_t nfds,
			   bool *got)
{
	struct iovec iov = {.iov_base = rep, .iov_len = sizeof(*rep)};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 3)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = CMSG_SPACE(sizeof(int) * nfds)};
	ssize_t n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
	struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;

	*got = cm && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof(int) * nfds);
	if (*got)
		memcpy(fds, CMSG_DATA(cm), sizeof(int) * nfds);
	return n < 0 ? -errno : n;
}

/* A message from berth: the worker's mount namespace and pidfd, which
 * replace the ones held.  False once berth's end is closed. */
static bool take_mounts(int sock, int held[2])
{
	struct init_report rep;
	int fds[2];
	bool got;
	ssize_t n = recv_report(sock, MSG_DONTWAIT, &rep, fds, 2, &got);

	if (n < 0)
		return n == -EINTR || n == -EAGAIN;
	if (got) {
		drop_held(held);
		memcpy(held, fds, sizeof(fds));
	}
	return n > 0;
}

/*
 * Reap until killed.  SIGCHLD is the one blocked signal: it waits,
 * queued, for the signalfd (sigwaitinfo without one).  Every other one
 * keeps its default action, which for a namespace's init means the kernel drops it at the sender
 * (only SIGKILL and SIGSTOP from an ancestor namespace get through), so
 * the worker can neither kill this process nor queue signals to it.
 */
static _Noreturn void reap_forever(int sock)
{
	struct sigaction dfl;
	sigset_t chld;
	int sfd, held[2] = {-1, -1};

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL); /* glibc's reserved ones fail: unused */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_SETMASK, &chld, NULL);
	/* SIGCHLD, berth's messages (nsinit_hold_mounts) and the exit of
	 * the worker whose mount namespace is held: then it is let go, and
	 * its teardown runs here while berth reaps the worker */
	sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		close(sock); /* berth's sends fail: nothing is held */
	for (;;) {
		struct pollfd p[3] = {{.fd = sfd, .events = POLLIN},
				      {.fd = sfd < 0 ? -1 : sock, .events = POLLIN},
				      {.fd = held[1], .events = POLLIN}};
		struct signalfd_siginfo si;

		while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
			;
		if (sfd < 0) {
			sigwaitinfo(&chld, NULL);
			continue;
		}
		if (poll(p, ARRAY_SIZE(p), -1) < 0)
			continue;
		while (read(sfd, &si, sizeof(si)) > 0)
			;
		if (p[2].revents)
			drop_held(held);
		if (p[1].revents && !take_mounts(sock, held)) {
			close(sock);
			sock = -1;
		}
	}
}

/* The child: pid 1 of its namespaces.  Async-signal-safe calls only, but
 * for malloc_trim() once its setup is done (see there). */
static _Noreturn void init_main(int sock, const char *hostname, unsigned long arg_start,
				unsigned long arg_end)
{
	struct pollfd pfd = {.fd = sock, .events = 0};
	int fds[3];
	char path[32];

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		init_fail(sock, INIT_PDEATHSIG, errno);
	/* berth holds the other end until this reports: a hangup means it
	 * died before the prctl (getppid() is 0 here, it cannot tell). */
	if (poll(&pfd, 1, 0) != 0)
		_exit(1);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* inherited from berth; stated */
	if (sethostname(hostname, strlen(hostname)) < 0)
		init_fail(sock, INIT_HOSTNAME, errno);
	/* /proc/self is this process in any /proc of an ancestor namespace,
	 * where berth's /proc/<pid> could name another process. */
	for (size_t i = 0; i < ARRAY_SIZE(ns_names); i++) {
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_names[i]);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			init_fail(sock, INIT_NSFDS, errno);
	}
	prctl(PR_SET_NAME, INIT_NAME, 0, 0, 0);
	set_cmdline(arg_start, arg_end);
	send_report(sock, INIT_OK, 0, fds, ARRAY_SIZE(fds), 0);
	close_all_fds(sock);
	/* The heap is a copy of berth's, which berth trims once the worker
	 * runs: its free pages would otherwise stay here.  berth
	 * has no threads, so malloc's lock is free in this copy. */
	malloc_trim(0);
	reap_forever(sock);
}

/* Receive the init's report and its namespace fds into ni->ns. */
static int receive_report(int sock, struct nsinit *ni)
{
	struct init_report rep;
	int fds[3];
	bool got;
	ssize_t n;

	do
		n = recv_report(sock, 0, &rep, fds, ARRAY_SIZE(fds), &got);
	while (n == -EINTR);
	if (n < 0)
		return log_errno((int)n, "read the report of " INIT_NAME);
	if (n != (ssize_t)sizeof(rep))
		return log_errno(-ECHILD, INIT_NAME " exited during its setup");
	if (rep.step != INIT_OK) {
		const char *what = rep.step > 0 && (size_t)rep.step < ARRAY_SIZE(init_steps)
					   ? init_steps[rep.step]
					   : "set up";
		return log_errno(-rep.err, INIT_NAME " could not %s", what);
	}
	if (!got)
		return log_errno(-EPROTO, INIT_NAME " sent no namespaces");
	ni->ns.pid_fd = fds[0];
	ni->ns.ipc_fd = fds[1];
	ni->ns.uts_fd = fds[2];
	return 0;
}

/* clone3, else the raw clone (fork-like: no stack given), with pidfd_open. */
static pid_t clone_init(int *pidfd)
{
	const uint64_t flags = CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
	pid_t pid = pidfd_clone3(flags | CLONE_PIDFD, -1, pidfd);

	if (pid >= 0 || (errno != ENOSYS && errno != E2BIG))
		return pid;
	pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid > 0) {
		*pidfd = pidfd_open_pid(pid);
		if (*pidfd < 0) {
			errno = -*pidfd;
			kill(pid, SIGKILL); /* not reaped yet: the pid is ours */
			waitpid(pid, NULL, 0);
			return -1;
		}
	}
	return pid;
}

static void release(struct nsinit *ni)
{
	int *fds[] = {&ni->pidfd,     &ni->ns.pid_fd, &ni->ns.own_pid_fd,
		      &ni->ns.ipc_fd, &ni->ns.uts_fd, &ni->sock};

	for (size_t i = 0; ni->pid > 0 && i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	memset(ni, 0, sizeof(*ni));
}

int nsinit_start(struct nsinit *ni, const char *hostname)
{
	_cleanup_close_ int berth_end = -1, init_end = -1, own = -1, pidfd = -1;
	unsigned long arg_start, arg_end;
	int sv[2], r;
	pid_t pid;

	memset(ni, 0, sizeof(*ni));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return log_errno(-errno, "socketpair");
	berth_end = sv[0];
	init_end = sv[1];
	own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (own < 0)
		return log_errno(-errno, "open /proc/self/ns/pid");
	arg_area(&arg_start, &arg_end);

	pid = clone_init(&pidfd);
	if (pid < 0)
		return log_errno(-errno, "cannot create " INIT_NAME " in new PID, IPC and UTS "
					 "namespaces");
	if (pid == 0)
		init_main(init_end, hostname, arg_start, arg_end);
	close(TAKE_FD(init_end));
	ni->pid = pid;
	ni->pidfd = TAKE_FD(pidfd);
	ni->ns.own_pid_fd = TAKE_FD(own);
	ni->ns.pid_fd = ni->ns.ipc_fd = ni->ns.uts_fd = ni->sock = -1;
	r = receive_report(berth_end, ni);
	if (r < 0) {
		nsinit_stop(ni, 0);
		return r;
	}
	ni->sock = TAKE_FD(berth_end);
	log_debug(INIT_NAME " is process %ld, hostname %s", (long)pid, hostname);
	return 0;
}

bool nsinit_alive(const struct nsinit *ni)
{
	struct pollfd p = {.fd = ni->pidfd, .events = POLLIN};

	return ni->pid > 0 && poll(&p, 1, 0) == 0;
}

bool nsinit_reaped(struct nsinit *ni, pid_t pid)
{
	if (ni->pid <= 0 || pid != ni->pid)
		return false;
	release(ni);
	return true;
}

void nsinit_hold_mounts(struct nsinit *ni, int worker_pidfd)
{
	int fd;

	if (ni->pid <= 0 || ni->sock < 0)
		return;
	fd = ioctl(worker_pidfd, PIDFD_GET_MNT_NAMESPACE, 0);
	if (fd < 0) {
		log_debug("the worker's mount namespace stays its own: %s", strerror(errno));
		return;
	}
	send_report(ni->sock, INIT_OK, 0, (const int[]){fd, worker_pidfd}, 2, MSG_DONTWAIT);
	close(fd);
}

void nsinit_kill(struct nsinit *ni)
{
	if (ni->pid <= 0 || ni->killed)
		return;
	if (pidfd_signal(ni->pidfd, SIGKILL) < 0 && errno != ESRCH)
		log_errno(-errno, "kill " INIT_NAME " (process %ld)", (long)ni->pid);
	ni->killed = true;
}

void nsinit_stop(struct nsinit *ni, pid_t child)
{
	if (ni->pid <= 0)
		return;
	nsinit_kill(ni);
	if (child > 0)
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
	while (waitpid(ni->pid, NULL, 0) < 0 && errno == EINTR)
		;
	release(ni);
}
