/* SPDX-License-Identifier: MIT */
/*
 * berth's exit status, a contract documented in berth(1) and README.
 * Codes that come from the worker (its own status, 128+signal) pass
 * through unchanged; berth's own failures use the values below.
 */
#ifndef BERTH_EXITCODES_H
#define BERTH_EXITCODES_H

enum berth_exit {
	BERTH_EXIT_OK = 0,
	BERTH_EXIT_FAILURE = 1, /* generic failure of a debugging command */
	BERTH_EXIT_USAGE = 2,	/* bad command line or configuration */
	/* run: the crash budget was spent and the last run ended in an OOM
	 * kill.  Without it that run's status would be 137 (128 + SIGKILL),
	 * the code of a stop that escalated.  90 is none of the codes that
	 * mean something else already: not the shell's 126/127, not 128+N
	 * (signals go up to 64: 129-192), not timeout(1)'s 124/125, not one
	 * that systemd names in its unit status (1-8 after LSB, 64-78 after
	 * sysexits.h, 200-245 its own).  A worker may still exit 90 itself:
	 * the gave-up line says which it was. */
	BERTH_EXIT_OOM = 90,
	/* run: commands.pre_start failed (exit status not 0, or killed), so
	 * the worker was not started; chosen as 90 was.  Its status is on
	 * the prestart-failed line. */
	BERTH_EXIT_PRESTART = 91,
	BERTH_EXIT_SETUP = 125, /* a setup step (cgroup, mount, ...) failed */
	/* the shell, or the start command's program when it is executed
	 * directly, could not be executed / was not found (as the shell
	 * itself exits for its command) */
	BERTH_EXIT_NOEXEC = 126,
	BERTH_EXIT_NOTFOUND = 127,
	BERTH_EXIT_SIGBASE = 128, /* + signal number */
	BERTH_EXIT_KILLED = 137,  /* stop escalated to SIGKILL */
};

#endif
