/* SPDX-License-Identifier: MIT */
/*
 * The stop guard (stopguard.h).  One epoll over the init's pidfd, a perf
 * event per online CPU on the signal_generate tracepoint, a timerfd for
 * the deadline and a signalfd for the guard's own SIGTERM; it never wakes
 * while the container runs.  The tracepoint's id is read from tracefs,
 * mounted for that moment in a mount namespace of the guard's own when the
 * host has not mounted it.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "pidfd.h"
#include "proctree.h"
#include "signals.h"
#include "spawn.h"
#include "stopguard.h"
#include "util.h"

#define TRACEFS	 "/sys/kernel/tracing"
#define TP_ID	 "events/signal/signal_generate/id"
#define LOG_PIDS 20

enum { TAG_INIT, TAG_TIMER, TAG_SIGNAL, TAG_PERF };

/* ---- pure ------------------------------------------------------------------ */

char *stopguard_filter(pid_t pid, const int *sigs, size_t n)
{
	struct strbuf sb = {0};

	strbuf_printf(&sb, "pid == %d && (", (int)pid);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&sb, "%ssig == %d", i ? " || " : "", sigs[i]);
	strbuf_putc(&sb, ')');
	return strbuf_detach(&sb);
}

int stopguard_parse_cpus(const char *text, int **cpus, size_t *n)
{
	const char *p = text;
	size_t cap = 0;

	*cpus = NULL;
	*n = 0;
	while (*p && *p != '\n') {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p || a < 0 || a > 65535)
			goto bad;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a || b > 65535)
				goto bad;
			p = end;
		}
		for (long c = a; c <= b; c++) {
			xgrow(cpus, &cap, *n + 1, sizeof(**cpus));
			(*cpus)[(*n)++] = (int)c;
		}
		if (*p == ',' && p[1] >= '0' && p[1] <= '9')
			p++;
		else if (*p && *p != '\n')
			goto bad;
	}
	if (*n > 0)
		return 0;
bad:
	free(*cpus);
	*cpus = NULL;
	*n = 0;
	return -EINVAL;
}

/* ---- the tracepoint --------------------------------------------------------- */

static int read_small(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* The id from a tracefs mounted for the purpose in a mount namespace of
 * the guard's own, which it leaves again at once (a long-lived copy of the
 * host's mounts would keep whatever the host unmounts meanwhile busy).
 * *step names what failed. */
static int private_tracefs_id(char *buf, size_t size, const char **step)
{
	_cleanup_close_ int home = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	int r = 0;

	*step = "open /proc/self/ns/mnt";
	if (home < 0)
		return -errno;
	*step = "unshare(CLONE_NEWNS) to mount tracefs";
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		r = -errno;
		*step = "make the guard's mounts private";
	} else if (mount("tracefs", TRACEFS, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) <
		   0) {
		r = -errno;
		*step = "mount tracefs on " TRACEFS;
	} else {
		r = read_small(TRACEFS "/" TP_ID, buf, size);
		*step = "read the id of the signal:signal_generate tracepoint";
	}
	if (setns(home, CLONE_NEWNS) < 0) {
		*step = "return to the host's mount namespace";
		return -errno;
	}
	return r;
}

/* signal_generate's id, from the host's tracefs, else from one the guard
 * mounts (the host's mounts stay as they are). */
static int tracepoint_id(uint64_t *id)
{
	const char *step = "read the id of the signal:signal_generate tracepoint";
	char buf[32];
	int r = read_small(TRACEFS "/" TP_ID, buf, sizeof(buf));

	if (r == -ENOENT)
		r = read_small("/sys/kernel/debug/tracing/" TP_ID, buf, sizeof(buf));
	if (r == -ENOENT)
		r = private_tracefs_id(buf, sizeof(buf), &step);
	if (r < 0)
		return log_errno(r, "%s", step);
	buf[strcspn(buf, "\n")] = '\0';
	if (parse_u64(buf, UINT64_MAX, id) < 0) {
		log_error("signal:signal_generate: bad tracepoint id '%s'", buf);
		return -EINVAL;
	}
	return 0;
}

/* ---- the guard -------------------------------------------------------------- */

struct guard {
	const struct stopguard_opts *o;
	struct stat ns; /* the init's pid namespace */
	int epfd, tfd, sfd;
	int *perf_fd; /* one per online CPU */
	void **ring;  /* its mmap()ed ring: a control page and a data page */
	size_t n_cpu;
	size_t page;
	uint64_t stop_at; /* CLOCK_MONOTONIC ms when the stop began, 0: not yet */
};

static int add(struct guard *g, int fd, uint32_t events, uint32_t tag)
{
	struct epoll_event ev = {.events = events, .data.u32 = tag};

	if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return log_errno(-errno, "epoll_ctl");
	return 0;
}

/* Opened disabled, filtered, mapped, then enabled: no event but the
 * filtered ones ever reaches the ring. */
static int open_event(struct guard *g, uint64_t id, int cpu, const char *filter, size_t i)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(a),
		.config = id,
		.sample_period = 1,
		.sample_type = PERF_SAMPLE_TIME,
		.wakeup_events = 1,
		.disabled = 1,
	};
	int fd = (int)syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd < 0)
		return log_errno(-errno, "perf_event_open(signal:signal_generate, cpu %d)", cpu);
	g->perf_fd[i] = fd;
	if (ioctl(fd, PERF_EVENT_IOC_SET_FILTER, filter) < 0)
		return log_errno(-errno, "set the tracepoint filter '%s'", filter);
	g->ring[i] = mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (g->ring[i] == MAP_FAILED) {
		g->ring[i] = NULL;
		return log_errno(-errno, "mmap the perf ring of cpu %d", cpu);
	}
	if (ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) < 0)
		return log_errno(-errno, "enable the perf event of cpu %d", cpu);
	return add(g, fd, EPOLLIN, TAG_PERF + (uint32_t)i);
}

static int open_events(struct guard *g)
{
	_cleanup_free_ char *filter = stopguard_filter(g->o->pid, g->o->watch, g->o->n_watch);
	_cleanup_free_ int *cpus = NULL;
	char buf[4096];
	uint64_t id;
	int r;

	if ((r = tracepoint_id(&id)) < 0)
		return r;
	if ((r = read_small("/sys/devices/system/cpu/online", buf, sizeof(buf))) < 0)
		return log_errno(r, "read /sys/devices/system/cpu/online");
	if (stopguard_parse_cpus(buf, &cpus, &g->n_cpu) < 0) {
		log_error("/sys/devices/system/cpu/online: cannot read '%s'", buf);
		return -EINVAL;
	}
	g->perf_fd = xmalloc(g->n_cpu * sizeof(*g->perf_fd));
	g->ring = xmalloc(g->n_cpu * sizeof(*g->ring));
	for (size_t i = 0; i < g->n_cpu; i++) {
		g->perf_fd[i] = -1;
		g->ring[i] = NULL;
	}
	for (size_t i = 0; i < g->n_cpu; i++)
		if ((r = open_event(g, id, cpus[i], filter, i)) < 0)
			return r;
	return 0;
}

/* Consume what the ring holds: true when a sample arrived. */
static bool drain(struct guard *g, size_t i)
{
	struct perf_event_mmap_page *m = g->ring[i];
	uint64_t head = __atomic_load_n(&m->data_head, __ATOMIC_ACQUIRE);
	bool any = head != m->data_tail;

	__atomic_store_n(&m->data_tail, head, __ATOMIC_RELEASE);
	return any;
}

struct members {
	pid_t *pid;
	int *pidfd; /* -1 for the init */
	size_t n, cap, cap_fd;
};

static void members_add(struct members *m, pid_t pid, int fd)
{
	xgrow(&m->pid, &m->cap, m->n + 1, sizeof(*m->pid));
	xgrow(&m->pidfd, &m->cap_fd, m->n + 1, sizeof(*m->pidfd));
	m->pid[m->n] = pid;
	m->pidfd[m->n++] = fd;
}

static void members_free(struct members *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->pidfd[i] >= 0)
			close(m->pidfd[i]);
	free(m->pid);
	free(m->pidfd);
}

/* The processes of the init's pid namespace, the init first when
 * with_init; each other one pinned by a pidfd before its namespace is
 * checked. */
static void members(const struct guard *g, bool with_init, struct members *m)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	*m = (struct members){0};
	if (with_init)
		members_add(m, g->o->pid, -1);
	while (d && (e = readdir(d))) {
		char path[64];
		struct stat st;
		uint64_t v;
		int fd;

		if (parse_u64(e->d_name, INT32_MAX, &v) < 0 || (pid_t)v == g->o->pid)
			continue;
		if ((fd = pidfd_open_pid((pid_t)v)) < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)v);
		if (stat(path, &st) < 0 || st.st_dev != g->ns.st_dev || st.st_ino != g->ns.st_ino)
			close(fd);
		else
			members_add(m, (pid_t)v, fd);
	}
	if (d)
		closedir(d);
}

static void start_stop(struct guard *g)
{
	struct itimerspec its = {0};
	struct members m = {0};
	size_t sent = 0;
	char sb[24];

	g->stop_at = monotonic_ms();
	if (g->o->relay) {
		members(g, false, &m);
		for (size_t i = 0; i < m.n; i++) {
			if (pidfd_signal(m.pidfd[i], g->o->stop_signal) == 0)
				sent++;
			pidfd_signal(m.pidfd[i], SIGCONT);
		}
		members_free(&m);
	}
	its.it_value.tv_sec = (time_t)(g->o->timeout_ms / 1000);
	its.it_value.tv_nsec = (long)(g->o->timeout_ms % 1000) * 1000000;
	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;
	if (timerfd_settime(g->tfd, 0, &its, NULL) < 0)
		log_errno(-errno, "arm the deadline");
	log_msg(LOG_LVL_INFO, "stopping",
		"container %s: a stop signal reached its init (pid %d): stopping (%s to %zu other "
		"processes), SIGKILL after %llu ms",
		g->o->id, (int)g->o->pid,
		g->o->relay ? signals_fullname(g->o->stop_signal, sb, sizeof(sb)) : "nothing", sent,
		(unsigned long long)g->o->timeout_ms);
}

static void deadline(struct guard *g)
{
	_cleanup_free_ char *who = NULL;
	struct members m;

	members(g, true, &m);
	/* SIGKILL to a pid namespace's init ends every process in it. */
	if (pidfd_signal(g->o->pidfd, SIGKILL) < 0 && errno != ESRCH)
		log_errno(-errno, "SIGKILL the init of container %s", g->o->id);
	who = proctree_describe(m.pid, m.n, LOG_PIDS);
	log_msg(LOG_LVL_WARN, "killed",
		"container %s: stop timeout (%llu ms) reached: killed %zu processes: %s", g->o->id,
		(unsigned long long)g->o->timeout_ms, m.n, who);
	members_free(&m);
}

static int guard_loop(struct guard *g)
{
	for (;;) {
		struct epoll_event evs[8];
		int nev = epoll_wait(g->epfd, evs, ARRAY_SIZE(evs), -1);

		if (nev < 0) {
			if (errno == EINTR)
				continue;
			return log_errno(-errno, "epoll_wait");
		}
		for (int i = 0; i < nev; i++) {
			uint32_t tag = evs[i].data.u32;

			if (tag == TAG_INIT) {
				if (g->stop_at)
					log_msg(LOG_LVL_INFO, "stopped",
						"container %s: stopped in %llu ms", g->o->id,
						(unsigned long long)(monotonic_ms() - g->stop_at));
				return 0;
			} else if (tag == TAG_SIGNAL) {
				log_info("container %s: the stop guard was told to end", g->o->id);
				return 0;
			} else if (tag == TAG_TIMER) {
				uint64_t ticks;
				if (read(g->tfd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks))
					deadline(g);
			} else if (drain(g, tag - TAG_PERF)) {
				if (!g->stop_at)
					start_stop(g);
				else
					log_info("container %s: stop signal again; deadline "
						 "unchanged",
						 g->o->id);
			}
		}
	}
}

static void guard_free(struct guard *g)
{
	for (size_t i = 0; i < g->n_cpu; i++) {
		if (g->ring && g->ring[i])
			munmap(g->ring[i], 2 * g->page);
		if (g->perf_fd && g->perf_fd[i] >= 0)
			close(g->perf_fd[i]);
	}
	free(g->ring);
	free(g->perf_fd);
	if (g->epfd >= 0)
		close(g->epfd);
	if (g->tfd >= 0)
		close(g->tfd);
	if (g->sfd >= 0)
		close(g->sfd);
}

static int guard_setup(struct guard *g)
{
	char path[64];
	sigset_t ss;
	int r;

	/* Still the init the caller verified, before and after its pid
	 * namespace is read (its pid cannot have been reused meanwhile). */
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)g->o->pid);
	if (pidfd_signal(g->o->pidfd, 0) < 0 || stat(path, &g->ns) < 0 ||
	    pidfd_signal(g->o->pidfd, 0) < 0)
		return log_errno(-errno, "container %s: its init (pid %d)", g->o->id,
				 (int)g->o->pid);
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	if (sigprocmask(SIG_SETMASK, &ss, NULL) < 0)
		return log_errno(-errno, "sigprocmask");
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	g->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	g->sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	if (g->epfd < 0 || g->tfd < 0 || g->sfd < 0)
		return log_errno(-errno, "epoll, timerfd or signalfd");
	if ((r = add(g, g->o->pidfd, EPOLLIN, TAG_INIT)) < 0 ||
	    (r = add(g, g->tfd, EPOLLIN, TAG_TIMER)) < 0 ||
	    (r = add(g, g->sfd, EPOLLIN, TAG_SIGNAL)) < 0)
		return r;
	return open_events(g);
}

/* ---- starting it ------------------------------------------------------------ */

/* The guard reports twice: {1, pid} at once, then {0 or -errno, pid}
 * once it watches (or could not). */
struct report {
	int status;
	pid_t pid;
};

/* Close every descriptor above 3 but the two kept ones. */
static void close_except(int a, int b)
{
	unsigned lo = (unsigned)(a < b ? a : b), hi = (unsigned)(a < b ? b : a);

	if (lo > 4)
		close_range(4, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0U, 0);
}

static _Noreturn void guard_main(const struct stopguard_opts *o, int report_fd)
{
	struct stopguard_opts go = *o;
	struct guard g = {
		.o = &go, .epfd = -1, .tfd = -1, .sfd = -1, .page = (size_t)sysconf(_SC_PAGESIZE)};
	struct report rep;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC), logfd, rfd;

	/* What it keeps goes above 9 first, then 0 and 1 to /dev/null and
	 * the hook log to 3.  Setup errors go to the hook's stderr, the
	 * runtime's hook output, like the hook's own; once it watches, the
	 * guard logs to the hook log (it outlives the hook's output). */
	if (devnull < 0)
		_exit(1);
	go.pidfd = fcntl(o->pidfd, F_DUPFD_CLOEXEC, 10);
	rfd = fcntl(report_fd, F_DUPFD_CLOEXEC, 10);
	logfd = fcntl(o->log_fd >= 0 ? o->log_fd : devnull, F_DUPFD_CLOEXEC, 10);
	if (go.pidfd < 0 || rfd < 0 || logfd < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 ||
	    dup2(logfd, 3) < 0)
		_exit(1);
	close_except(go.pidfd, rfd);
	log_copy_to(-1); /* the caller's copy of its log is closed now */
	if (chdir("/") < 0)
		_exit(1);
	rep = (struct report){.status = 1, .pid = getpid()};
	if (write(rfd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
		_exit(1);
	rep.status = guard_setup(&g);
	if (write(rfd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep) || rep.status < 0)
		_exit(1);
	close(rfd);
	if (dup2(3, 2) < 0)
		_exit(1);
	close(3);
	log_info("container %s: stop guard (pid %d) watches its init (pid %d) on %zu CPUs: a "
		 "stop signal starts the %llu ms stop",
		 go.id, (int)rep.pid, (int)go.pid, g.n_cpu, (unsigned long long)go.timeout_ms);
	rep.status = guard_loop(&g);
	guard_free(&g);
	_exit(rep.status < 0 ? 1 : 0);
}

/* One report within the time left; the remaining time is updated. */
static int read_report(int fd, struct report *rep, int64_t *left_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	uint64_t t0 = monotonic_ms();
	int n = poll(&pfd, 1, (int)(*left_ms > 0 ? *left_ms : 0));

	*left_ms -= (int64_t)(monotonic_ms() - t0);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return read(fd, rep, sizeof(*rep)) == (ssize_t)sizeof(*rep) ? 0 : -EIO;
}

int stopguard_start(const struct stopguard_opts *o, pid_t *guard)
{
	struct report rep;
	int64_t left = STOPGUARD_START_TIMEOUT_MS;
	int p[2], status, r, gfd = -1;
	pid_t mid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return log_errno(-errno, "pipe2");
	mid = fork();
	if (mid < 0) {
		close(p[0]);
		close(p[1]);
		return log_errno(-errno, "fork the stop guard");
	}
	if (mid == 0) {
		/* The runtime waits for the hook, not for the guard: the
		 * guard is a grandchild in a session of its own. */
		close(p[0]);
		if (setsid() < 0)
			_exit(1);
		pid_t gp = fork();
		if (gp == 0)
			guard_main(o, p[1]);
		_exit(gp < 0 ? 1 : 0);
	}
	close(p[1]);
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
		;
	r = read_report(p[0], &rep, &left);
	if (r == 0) {
		/* Pinned before it can have ended and been reaped. */
		gfd = pidfd_open_pid(rep.pid);
		r = read_report(p[0], &rep, &left);
	}
	close(p[0]);
	if (r == 0 && rep.status == 0) {
		*guard = rep.pid;
		if (gfd >= 0)
			close(gfd);
		return 0;
	}
	if (gfd >= 0) {
		pidfd_signal(gfd, SIGKILL);
		close(gfd);
	}
	if (r < 0)
		return log_errno(r, "container %s: no report from the stop guard within %d ms",
				 o->id, STOPGUARD_START_TIMEOUT_MS);
	/* The guard wrote the details to the same stderr. */
	return log_errno(rep.status, "container %s: the stop guard could not start", o->id);
}
