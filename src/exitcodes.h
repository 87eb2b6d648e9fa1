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
	BERTH_EXIT_FAILURE = 1,     /* generic failure of a debugging command */
	BERTH_EXIT_USAGE = 2,       /* bad command line or configuration */
	BERTH_EXIT_SETUP = 125,     /* a setup step (cgroup, mount, ...) failed */
	BERTH_EXIT_NOEXEC = 126,    /* the shell could not be executed */
	BERTH_EXIT_NOTFOUND = 127,  /* the shell was not found */
	BERTH_EXIT_SIGBASE = 128,   /* + signal number */
	BERTH_EXIT_KILLED = 137,    /* stop escalated to SIGKILL */
};

#endif
