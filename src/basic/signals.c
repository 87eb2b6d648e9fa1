/* SPDX-License-Identifier: MIT */
/* Signal name <-> number table (Linux numbering). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signals.h"
#include "util.h"

static const char *const signal_names[] = {
	[SIGHUP] = "HUP",   [SIGINT] = "INT",	    [SIGQUIT] = "QUIT", [SIGILL] = "ILL",
	[SIGTRAP] = "TRAP", [SIGABRT] = "ABRT",	    [SIGBUS] = "BUS",	[SIGFPE] = "FPE",
	[SIGKILL] = "KILL", [SIGUSR1] = "USR1",	    [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
	[SIGPIPE] = "PIPE", [SIGALRM] = "ALRM",	    [SIGTERM] = "TERM", [SIGSTKFLT] = "STKFLT",
	[SIGCHLD] = "CHLD", [SIGCONT] = "CONT",	    [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
	[SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU",	    [SIGURG] = "URG",	[SIGXCPU] = "XCPU",
	[SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH",
	[SIGIO] = "IO",	    [SIGPWR] = "PWR",	    [SIGSYS] = "SYS",
};

/* Real-time signal names, built once: "RTMIN", "RTMIN+1", ..., "RTMAX". */
static char rt_names[64][12];

static int parse_rt(const char *s, int *sig)
{
	int base, dir;
	uint64_t off = 0;

	if (strncasecmp(s, "RTMIN", 5) == 0) {
		base = SIGRTMIN;
		dir = 1;
	} else if (strncasecmp(s, "RTMAX", 5) == 0) {
		base = SIGRTMAX;
		dir = -1;
	} else {
		return -EINVAL;
	}
	s += 5;
	if (*s) {
		if ((dir > 0 && *s != '+') || (dir < 0 && *s != '-'))
			return -EINVAL;
		if (parse_u64(s + 1, (uint64_t)(SIGRTMAX - SIGRTMIN), &off) < 0)
			return -EINVAL;
	}
	*sig = base + dir * (int)off;
	return 0;
}

int signals_parse(const char *s, int *sig)
{
	uint64_t n;

	if (!s || !*s)
		return -EINVAL;
	if (parse_u64(s, (uint64_t)(NSIG - 1), &n) == 0) {
		if (n == 0 || !signals_name((int)n))
			return -EINVAL;
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
		if (signal_names[i] && strcasecmp(s, signal_names[i]) == 0) {
			*sig = (int)i;
			return 0;
		}
	return parse_rt(s, sig);
}

const char *signals_name(int sig)
{
	if (sig > 0 && (size_t)sig < ARRAY_SIZE(signal_names) && signal_names[sig])
		return signal_names[sig];
	if (sig < SIGRTMIN || sig > SIGRTMAX || sig - SIGRTMIN >= (int)ARRAY_SIZE(rt_names))
		return NULL;
	char *name = rt_names[sig - SIGRTMIN];
	if (!name[0]) {
		if (sig == SIGRTMIN)
			snprintf(name, sizeof(rt_names[0]), "RTMIN");
		else if (sig == SIGRTMAX)
			snprintf(name, sizeof(rt_names[0]), "RTMAX");
		else if (sig - SIGRTMIN <= (SIGRTMAX - SIGRTMIN) / 2)
			snprintf(name, sizeof(rt_names[0]), "RTMIN+%d", sig - SIGRTMIN);
		else
			snprintf(name, sizeof(rt_names[0]), "RTMAX-%d", SIGRTMAX - sig);
	}
	return name;
}

const char *signals_fullname(int sig, char *buf, unsigned long size)
{
	const char *n = signals_name(sig);

	if (n)
		snprintf(buf, size, "SIG%s", n);
	else
		snprintf(buf, size, "SIG%d", sig);
	return buf;
}
