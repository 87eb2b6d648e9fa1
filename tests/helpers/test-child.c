/* SPDX-License-Identifier: MIT */
/*
 * A tiny worker for the integration tests.  It runs the commands given as
 * arguments in order, logging one line per fact ("START pid ...",
 * "SIG n <monotonic ns>", ...) to stdout or to --log FILE, and can ignore
 * SIGTERM, drain on it, fork escaping grandchildren, leave orphans and
 * zombies, and exit with a code or a signal.  No dependency on libberth.
 *
 * Usage: test-child [--log FILE] CMD [ARG] ...
 *   start            log "START pid ppid pgid sid monotonic-ns"
 *   ignore-term      SIGTERM is logged and otherwise ignored
 *   drain MS         on SIGTERM/SIGINT: log "DRAIN", wait MS ms, exit 0
 *   escape           fork a grandchild that setsid()s away, ignores SIGTERM
 *                    and runs until killed (logs "ESCAPE pid")
 *   orphans N        leave N orphans that exit after 100 ms (parent gone)
 *   zombies N        fork N children that exit at once and are never reaped
 *   hog MB           allocate and touch MB MiB of memory
 *   spew KB          write KB KiB of 64-byte lines to stderr (blocking while
 *                    stderr is full), then log "SPEWED KB pid"
 *   fds | sigmask | cwd | env | cgroup | tty    print facts about itself
 *                    (sigmask: SigBlk/SigIgn as inherited, printed first)
 *   sleep MS         sleep (signals are logged meanwhile)
 *   exit N           exit with status N
 *   kill SIG         kill itself with signal SIG (number)
 *   wait             wait for signals forever: SIGTERM/SIGINT/SIGHUP end the
 *                    process by that signal unless ignore-term or drain
 *   connect HOST PORT  TCP connect (3 s timeout), log "CONNECT HOST PORT
 *                    OUTCOME MS": connected, ECONNREFUSED (or another errno
 *                    name), timeout, or resolve
 *   udp HOST PORT    send a datagram, wait 2 s for any reply, log "UDP HOST
 *                    PORT OUTCOME MS": reply, an errno name, timeout, resolve
 * After a probe the exit status (unless exit or kill says otherwise) is the
 * last probe's: 0 connected/reply, 10 ECONNREFUSED, 11 timeout, 12 another
 * error, 13 the name did not resolve.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int log_fd = STDOUT_FILENO;
static volatile sig_atomic_t pending[NSIG];
static volatile sig_atomic_t got_any;
static bool ignore_term;
static long drain_ms = -1;

/* Async-signal-safe decimal formatting. */
static char *fmt_u64(char *p, unsigned long long v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static void write_all(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(log_fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static unsigned long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

static void on_signal(int sig)
{
	char line[96], *p = line;
	int saved = errno;

	if (sig != SIGCHLD) {
		memcpy(p, "SIG ", 4);
		p = fmt_u64(p + 4, (unsigned long long)sig);
		*p++ = ' ';
		p = fmt_u64(p, mono_ns());
		*p++ = ' ';
		p = fmt_u64(p, (unsigned long long)getpid());
		*p++ = '\n';
		write_all(line, (size_t)(p - line));
	}
	pending[sig] = 1;
	got_any = 1;
	errno = saved;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	write_all(buf, (size_t)n);
}

static void msleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Act on signals recorded by the handler; returns only if we carry on. */
static void handle_pending(void)
{
	static const int stop[] = {SIGTERM, SIGINT, SIGHUP};

	got_any = 0;
	for (size_t i = 0; i < sizeof(stop) / sizeof(stop[0]); i++) {
		int sig = stop[i];
		if (!pending[sig])
			continue;
		pending[sig] = 0;
		if (sig == SIGTERM && ignore_term)
			continue;
		if (drain_ms >= 0 && sig != SIGHUP) {
			logf_("DRAIN %ld %d", drain_ms, (int)getpid());
			msleep(drain_ms);
			logf_("DRAINED %d", (int)getpid());
			exit(0);
		}
		signal(sig, SIG_DFL);
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, sig);
		sigprocmask(SIG_UNBLOCK, &s, NULL);
		raise(sig);
	}
}

/* Wait up to ms (forever if < 0) while serving signals. */
static void wait_signals(long ms)
{
	sigset_t empty;
	unsigned long long end = ms >= 0 ? mono_ns() + (unsigned long long)ms * 1000000ULL : 0;

	sigemptyset(&empty);
	for (;;) {
		if (ms < 0) {
			sigsuspend(&empty);
		} else {
			unsigned long long now = mono_ns();
			if (now >= end)
				return;
			unsigned long long left = end - now;
			struct timespec ts = {(time_t)(left / 1000000000ULL),
					      (long)(left % 1000000000ULL)};
			sigset_t old;
			sigprocmask(SIG_SETMASK, &empty, &old);
			nanosleep(&ts, NULL);
			sigprocmask(SIG_SETMASK, &old, NULL);
		}
		if (got_any)
			handle_pending();
	}
}

static void print_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	char line[1024];
	size_t len = 0;
	struct dirent *e;

	if (!d) {
		logf_("FDS error %s", strerror(errno));
		return;
	}
	len += (size_t)snprintf(line, sizeof(line), "FDS");
	while ((e = readdir(d))) {
		/* Not the listing's own fd, nor our --log file. */
		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d) ||
		    (log_fd > 2 && atoi(e->d_name) == log_fd))
			continue;
		if (len < sizeof(line) - 16)
			len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", e->d_name);
	}
	closedir(d);
	logf_("%s", line);
}

static void print_status_lines(const char *file, const char *const *keys, const char *tag)
{
	FILE *f = fopen(file, "re");
	char buf[512];

	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		for (const char *const *k = keys; *k; k++)
			if (!keys[0][0] || strncmp(buf, *k, strlen(*k)) == 0) {
				logf_("%s %s", tag, buf);
				break;
			}
	}
	fclose(f);
}

static void escape(void)
{
	pid_t p = fork();

	if (p == 0) {
		setsid();
		if (fork() == 0) {
			signal(SIGTERM, SIG_IGN);
			signal(SIGINT, SIG_IGN);
			signal(SIGHUP, SIG_IGN);
			sigset_t empty;
			sigemptyset(&empty);
			sigprocmask(SIG_SETMASK, &empty, NULL);
			logf_("ESCAPE %d", (int)getpid());
			for (;;)
				pause();
		}
		_exit(0);
	}
	if (p > 0)
		waitpid(p, NULL, 0);
	msleep(20); /* let the grandchild log first */
}

static void orphans(int n)
{
	pid_t p = fork();

	if (p == 0) {
		for (int i = 0; i < n; i++)
			if (fork() == 0) {
				msleep(100);
				_exit(0);
			}
		_exit(0);
	}
	if (p > 0)
		waitpid(p, NULL, 0);
	logf_("ORPHANS %d", n);
}

static void zombies(int n)
{
	for (int i = 0; i < n; i++)
		if (fork() == 0)
			_exit(0);
	logf_("ZOMBIES %d", n);
}

enum { PROBE_OK = 0, PROBE_REFUSED = 10, PROBE_TIMEOUT = 11, PROBE_ERROR = 12, PROBE_RESOLVE = 13 };

static int probe_status(int err)
{
	if (err == 0)
		return PROBE_OK;
	if (err == ECONNREFUSED)
		return PROBE_REFUSED;
	return err == ETIMEDOUT ? PROBE_TIMEOUT : PROBE_ERROR;
}

/* Wait up to ms for fd to become ready for events; 0, or the pending
 * error, or ETIMEDOUT. */
static int probe_wait(int fd, short events, long ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int err = 0, n;
	socklen_t len = sizeof(err);

	do
		n = poll(&p, 1, (int)ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	if (n == 0)
		return ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

/* One TCP connect or one UDP request to host:port, logged as
 * "TAG HOST PORT OUTCOME MS"; returns the probe status. */
static int probe(const char *tag, const char *host, const char *port, bool udp)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM};
	struct addrinfo *ai = NULL;
	unsigned long long t0 = mono_ns();
	const char *outcome;
	int fd, err;
	char buf[64];

	if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) {
		logf_("%s %s %s resolve 0", tag, host, port);
		return PROBE_RESOLVE;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
	} else if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		err = errno == EINPROGRESS ? probe_wait(fd, POLLOUT, 3000) : errno;
	} else if (!udp) {
		err = 0;
	} else if (send(fd, "ping", 4, 0) < 0) {
		err = errno;
	} else {
		err = probe_wait(fd, POLLIN, 2000);
		if (err == 0 && recv(fd, buf, sizeof(buf), 0) < 0)
			err = errno;
	}
	freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	if (err == 0)
		outcome = udp ? "reply" : "connected";
	else
		outcome = err == ETIMEDOUT ? "timeout" : strerrorname_np(err);
	logf_("%s %s %s %s %llu", tag, host, port, outcome, (mono_ns() - t0) / 1000000ULL);
	return probe_status(err);
}

static long need_num(int argc, char **argv, int i)
{
	if (i >= argc) {
		fprintf(stderr, "test-child: %s needs an argument\n", argv[i - 1]);
		exit(2);
	}
	return strtol(argv[i], NULL, 10);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t all;
	int i = 1, status = 0;

	if (argc > 2 && strcmp(argv[1], "--log") == 0) {
		log_fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (log_fd < 0) {
			perror(argv[2]);
			return 2;
		}
		i = 3;
	}
	/* The signal state inherited through execve, before we change it. */
	for (int j = i; j < argc; j++)
		if (strcmp(argv[j], "sigmask") == 0) {
			static const char *const k[] = {"SigBlk", "SigIgn", NULL};
			print_status_lines("/proc/self/status", k, "STATUS");
			break;
		}
	/* Record every catchable signal; deliver them only while waiting. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP && s != SIGSEGV && s != SIGBUS && s != SIGFPE &&
		    s != SIGILL && s != SIGABRT && s != SIGTTIN && s != SIGTTOU && s != SIGTSTP)
			sigaction(s, &sa, NULL);

	for (; i < argc; i++) {
		const char *c = argv[i];
		if (strcmp(c, "start") == 0) {
			logf_("START %d %d %d %d %llu", (int)getpid(), (int)getppid(),
			      (int)getpgid(0), (int)getsid(0), mono_ns());
		} else if (strcmp(c, "ignore-term") == 0) {
			ignore_term = true;
		} else if (strcmp(c, "drain") == 0) {
			drain_ms = need_num(argc, argv, ++i);
		} else if (strcmp(c, "escape") == 0) {
			escape();
		} else if (strcmp(c, "orphans") == 0) {
			orphans((int)need_num(argc, argv, ++i));
		} else if (strcmp(c, "zombies") == 0) {
			zombies((int)need_num(argc, argv, ++i));
		} else if (strcmp(c, "hog") == 0) {
			long mb = need_num(argc, argv, ++i);
			logf_("HOG %ld %d", mb, (int)getpid());
			for (long k = 0; k < mb; k++) {
				char *m = malloc(1 << 20);
				if (!m)
					break;
				memset(m, 1, 1 << 20); /* touched: resident */
			}
			logf_("HOGGED %ld %d", mb, (int)getpid());
		} else if (strcmp(c, "spew") == 0) {
			char line[64];
			memset(line, 's', sizeof(line) - 1);
			line[sizeof(line) - 1] = '\n';
			long kb = need_num(argc, argv, ++i);
			for (long k = 0; k < kb * 16; k++)
				if (write(STDERR_FILENO, line, sizeof(line)) !=
				    (ssize_t)sizeof(line))
					break;
			logf_("SPEWED %ld %d", kb, (int)getpid());
		} else if (strcmp(c, "fds") == 0) {
			print_fds();
		} else if (strcmp(c, "sigmask") == 0) {
			/* printed at startup */
		} else if (strcmp(c, "cgroup") == 0) {
			static const char *const k[] = {"", NULL};
			print_status_lines("/proc/self/cgroup", k, "CGROUP");
		} else if (strcmp(c, "cwd") == 0) {
			char buf[4096];
			logf_("CWD %s", getcwd(buf, sizeof(buf)) ? buf : strerror(errno));
		} else if (strcmp(c, "env") == 0) {
			for (char **e = environ; *e; e++)
				logf_("ENV %s", *e);
		} else if (strcmp(c, "tty") == 0) {
			int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
			logf_("TTY isatty0=%d devtty=%s", isatty(0), fd >= 0 ? "yes" : "no");
			if (fd >= 0)
				close(fd);
		} else if (strcmp(c, "sleep") == 0) {
			wait_signals(need_num(argc, argv, ++i));
		} else if (strcmp(c, "exit") == 0) {
			int code = (int)need_num(argc, argv, ++i);
			logf_("EXIT %d %d", code, (int)getpid());
			exit(code);
		} else if (strcmp(c, "kill") == 0) {
			int sig = (int)need_num(argc, argv, ++i);
			logf_("KILL %d %d", sig, (int)getpid());
			signal(sig, SIG_DFL);
			sigset_t s;
			sigemptyset(&s);
			sigaddset(&s, sig);
			sigprocmask(SIG_UNBLOCK, &s, NULL);
			raise(sig);
			_exit(100);
		} else if (strcmp(c, "wait") == 0) {
			wait_signals(-1);
		} else if (strcmp(c, "connect") == 0 || strcmp(c, "udp") == 0) {
			if (i + 2 >= argc) {
				fprintf(stderr, "test-child: %s needs HOST PORT\n", c);
				return 2;
			}
			status = probe(c[0] == 'c' ? "CONNECT" : "UDP", argv[i + 1], argv[i + 2],
				       c[0] == 'u');
			i += 2;
		} else {
			fprintf(stderr, "test-child: unknown command %s\n", c);
			return 2;
		}
	}
	return status;
}
