/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's worker (bench/run compiles it with cc -O2 into
 * bench/.work/bzprobe).  It stamps CLOCK_MONOTONIC first thing in main()
 * and inside its signal handlers, and writes "BZP START <ns>" and
 * "BZP SIG <n> <ns>" lines to fd 1 with write(2) (async-signal-safe).
 *
 * Modes:
 *   wait         START, then sleep; SIGTERM: stamp it and die of it at once
 *                (as PID 1 of a pid namespace, where raising SIGTERM with the
 *                default action is a no-op, exit 143 instead)
 *   ignore-term  START, then sleep; SIGTERM: stamp it and carry on (only
 *                SIGKILL ends it)
 *   exit         START, then exit 0
 * Every other catchable signal the launchers may relay is stamped and
 * otherwise ignored.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t term_exits = 1;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* "BZP WHAT [N] NS\n", formatted by hand: no stdio in a signal handler. */
static void emit(const char *what, int n, uint64_t ns)
{
	char buf[96], num[24];
	size_t len = 0, k;
	int i;

	memcpy(buf, "BZP ", 4);
	len = 4;
	k = strlen(what);
	memcpy(buf + len, what, k);
	len += k;
	if (n >= 0) {
		buf[len++] = ' ';
		i = 0;
		do {
			num[i++] = (char)('0' + n % 10);
			n /= 10;
		} while (n);
		while (i)
			buf[len++] = num[--i];
	}
	buf[len++] = ' ';
	i = 0;
	do {
		num[i++] = (char)('0' + ns % 10);
		ns /= 10;
	} while (ns);
	while (i)
		buf[len++] = num[--i];
	buf[len++] = '\n';
	while (write(1, buf, len) < 0 && errno == EINTR)
		;
}

static void on_signal(int sig)
{
	uint64_t t = now_ns();
	int saved = errno;

	emit("SIG", sig, t);
	if (sig == SIGTERM && term_exits) {
		if (getpid() == 1)
			_exit(128 + SIGTERM);
		signal(SIGTERM, SIG_DFL);
		raise(SIGTERM); /* blocked until the handler returns, then fatal */
	}
	errno = saved;
}

int main(int argc, char **argv)
{
	static const int sigs[] = {SIGHUP,  SIGINT,  SIGQUIT,  SIGUSR1, SIGUSR2,
				   SIGTERM, SIGALRM, SIGWINCH, SIGCONT, SIGPIPE};
	uint64_t start = now_ns();
	const char *mode = argc > 1 ? argv[1] : "wait";
	struct sigaction sa;
	sigset_t none;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (strcmp(mode, "ignore-term") == 0)
		term_exits = 0;
	emit("START", -1, start);
	if (strcmp(mode, "exit") == 0)
		return 0;
	for (;;)
		pause();
}
