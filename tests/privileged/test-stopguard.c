/* SPDX-License-Identifier: MIT */
/*
 * The stop guard on the real kernel, as root, without a runtime: the init
 * of a new pid namespace stands for a container's.  A SIGTERM it ignores
 * is seen and SIGKILL follows at the deadline; a prompt exit ends the
 * guard; the stop signal reaches the namespace's other processes; signals
 * that are not stop signals, or that go to another process, start
 * nothing; a dead init is refused at start.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "pidfd.h"
#include "spawn.h"
#include "stopguard.h"
#include "util.h"

enum init_mode { IGNORE_TERM, EXIT_ON_TERM, RELAY_TO_CHILD };

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static void child_on_term(int sig)
{
	(void)sig;
	if (write(4, "T", 1) < 0)
		_exit(2);
	_exit(0);
}

/* The init of a new pid namespace; it writes "R" on fd 4 once set up
 * (and the relay child "T" when it gets SIGTERM). */
static _Noreturn void init_main(enum init_mode mode)
{
	/* Not Check's handlers (its SIGINT handler kills its process group). */
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	signal(SIGUSR1, SIG_IGN);
	if (mode == EXIT_ON_TERM) {
		signal(SIGTERM, on_term);
	} else {
		signal(SIGTERM, SIG_IGN);
	}
	if (mode == RELAY_TO_CHILD) {
		pid_t c = fork();
		if (c == 0) {
			signal(SIGTERM, child_on_term);
			for (;;)
				pause();
		}
	}
	if (write(4, "R", 1) < 0)
		_exit(2);
	for (;;)
		pause();
}

/* Clone the init; *pidfd pins it; *rd gets its reports. */
static pid_t start_init(enum init_mode mode, int *pidfd, int *rd)
{
	struct clone_args ca = {.flags = CLONE_NEWPID | CLONE_PIDFD,
				.pidfd = (uint64_t)(uintptr_t)pidfd,
				.exit_signal = SIGCHLD};
	int p[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], 4) < 0)
			_exit(2);
		init_main(mode);
	}
	close(p[1]);
	*rd = p[0];
	ck_assert_int_eq(read(*rd, &c, 1), 1);
	ck_assert_int_eq(c, 'R');
	return pid;
}

static bool readable(int fd, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return poll(&pfd, 1, timeout_ms) == 1;
}

static struct stopguard_opts opts(pid_t pid, int pidfd, uint64_t timeout_ms, int logfd)
{
	struct stopguard_opts o = {.id = "test",
				   .pid = pid,
				   .pidfd = pidfd,
				   .watch = {SIGTERM, SIGINT},
				   .n_watch = 2,
				   .stop_signal = SIGTERM,
				   .relay = true,
				   .timeout_ms = timeout_ms,
				   .log_fd = logfd};
	return o;
}

static int temp_log(void)
{
	char path[] = "/tmp/berth-test-stopguard-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	return fd;
}

static char *log_text(int fd)
{
	char buf[8192];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return xstrdup(buf);
}

static bool same_mntns(pid_t pid)
{
	char a[64], b[64], p[64];
	ssize_t n, m;

	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", (int)pid);
	n = readlink(p, a, sizeof(a) - 1);
	m = readlink("/proc/self/ns/mnt", b, sizeof(b) - 1);
	if (n < 0 || m < 0)
		return false;
	a[n] = b[m] = '\0';
	return strcmp(a, b) == 0;
}

/* Wait for the guard to end (its pidfd turns readable). */
static void guard_ends(pid_t guard, int timeout_ms)
{
	_cleanup_close_ int gfd = pidfd_open_pid(guard);

	if (gfd < 0) {
		ck_assert_int_eq(errno, ESRCH); /* gone already */
		return;
	}
	ck_assert_msg(readable(gfd, timeout_ms), "the guard %d is still running", (int)guard);
}

START_TEST(test_deadline)
{
	int pidfd, rd, logfd = temp_log();
	pid_t pid = start_init(IGNORE_TERM, &pidfd, &rd), guard;
	struct stopguard_opts o = opts(pid, pidfd, 300, logfd);
	_cleanup_free_ char *text = NULL;
	siginfo_t si = {0};
	int64_t t0;

	ck_assert_int_eq(stopguard_start(&o, &guard), 0);
	/* Back in the mount namespace it came from, tracefs or not. */
	ck_assert(same_mntns(guard));
	t0 = now_ms();
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	/* the kill at 300 ms: generous above for a loaded 2-core CI (a guard
	 * that never kills fails readable()) */
	ck_assert(readable(pidfd, 10000));
	ck_assert_int_ge(now_ms() - t0, 290);
	ck_assert_int_le(now_ms() - t0, 1200 + 1800);
	ck_assert_int_eq(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED), 0);
	ck_assert_int_eq(si.si_code, CLD_KILLED);
	ck_assert_int_eq(si.si_status, SIGKILL);
	guard_ends(guard, 2000);
	text = log_text(logfd);
	ck_assert_msg(strstr(text, "a stop signal reached its init") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "stop timeout (300 ms) reached: killed") != NULL, "%s", text);
	close(rd);
	close(pidfd);
	close(logfd);
}
END_TEST

START_TEST(test_prompt_exit)
{
	int pidfd, rd, logfd = temp_log();
	pid_t pid = start_init(EXIT_ON_TERM, &pidfd, &rd), guard;
	struct stopguard_opts o = opts(pid, pidfd, 10000, logfd);
	_cleanup_free_ char *text = NULL;
	siginfo_t si = {0};

	ck_assert_int_eq(stopguard_start(&o, &guard), 0);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert(readable(pidfd, 2000));
	ck_assert_int_eq(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED), 0);
	ck_assert_int_eq(si.si_code, CLD_EXITED);
	guard_ends(guard, 2000);
	text = log_text(logfd);
	ck_assert_msg(strstr(text, "container test: stopped in") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "killed") == NULL, "%s", text);
	close(rd);
	close(pidfd);
	close(logfd);
}
END_TEST

START_TEST(test_relay)
{
	int pidfd, rd, logfd = temp_log();
	pid_t pid = start_init(RELAY_TO_CHILD, &pidfd, &rd), guard;
	struct stopguard_opts o = opts(pid, pidfd, 600, logfd);
	_cleanup_free_ char *text = NULL;
	char c = 0;

	ck_assert_int_eq(stopguard_start(&o, &guard), 0);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	/* The init ignores it; the guard sends it to the init's child. */
	ck_assert(readable(rd, 2000));
	ck_assert_int_eq(read(rd, &c, 1), 1);
	ck_assert_int_eq(c, 'T');
	ck_assert(readable(pidfd, 3000));
	guard_ends(guard, 2000);
	text = log_text(logfd);
	ck_assert_msg(strstr(text, "SIGTERM to 1 other processes") != NULL, "%s", text);
	waitpid(pid, NULL, 0);
	close(rd);
	close(pidfd);
	close(logfd);
}
END_TEST

START_TEST(test_other_signals_start_nothing)
{
	int pidfd, rd, logfd = temp_log();
	pid_t pid = start_init(IGNORE_TERM, &pidfd, &rd), guard, other;
	struct stopguard_opts o = opts(pid, pidfd, 200, logfd);
	_cleanup_free_ char *text = NULL;

	int p[2];
	char c;

	ck_assert_int_eq(stopguard_start(&o, &guard), 0);
	ck_assert_int_eq(pipe(p), 0);
	other = fork();
	ck_assert_int_ge(other, 0);
	if (other == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_IGN);
		if (write(p[1], "R", 1) < 0)
			_exit(2);
		for (;;)
			pause();
	}
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	close(p[1]);
	ck_assert_int_eq(kill(pid, SIGUSR1), 0);   /* not a stop signal */
	ck_assert_int_eq(kill(other, SIGTERM), 0); /* not the init */
	ck_assert(!readable(pidfd, 700));	   /* no deadline ran */
	text = log_text(logfd);
	ck_assert_msg(strstr(text, "stopping") == NULL && strstr(text, "reached") == NULL, "%s",
		      text);
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
	/* SIGINT is a stop signal too. */
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	ck_assert(readable(pidfd, 3000));
	guard_ends(guard, 2000);
	waitpid(pid, NULL, 0);
	close(rd);
	close(pidfd);
	close(logfd);
}
END_TEST

START_TEST(test_dead_init_refused)
{
	int pidfd, rd;
	pid_t pid = start_init(EXIT_ON_TERM, &pidfd, &rd), guard = 0;
	struct stopguard_opts o = opts(pid, pidfd, 200, -1);

	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert_int_lt(stopguard_start(&o, &guard), 0);
	ck_assert_int_eq(guard, 0);
	close(rd);
	close(pidfd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stopguard");
	TCase *tc = tcase_create("guard");
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr, "test-stopguard: needs root (perf events, pid namespaces)\n");
		return getenv("BERTH_STRICT") ? 1 : 77;
	}
	log_setup(LOG_FMT_TEXT, LOG_LVL_INFO, NULL);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_deadline);
	tcase_add_test(tc, test_prompt_exit);
	tcase_add_test(tc, test_relay);
	tcase_add_test(tc, test_other_signals_start_nothing);
	tcase_add_test(tc, test_dead_init_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
