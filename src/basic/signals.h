/* SPDX-License-Identifier: MIT */
/*
 * Signal names and numbers: a designated-initializer table of the standard
 * signals, "TERM" / "SIGTERM" / "15" / "RTMIN+3" parsing and the reverse.
 * Pure.
 */
#ifndef BERTH_SIGNALS_H
#define BERTH_SIGNALS_H

/* "TERM", "SIGTERM", "sigterm", "15", "RTMIN", "SIGRTMAX-2".  Stores the
 * number in *sig and returns 0, or -EINVAL for anything else (0, NSIG and
 * beyond included). */
int signals_parse(const char *s, int *sig);

/* "TERM" for SIGTERM (without the SIG prefix), "RTMIN+3" for real-time
 * signals, NULL when sig is not a valid signal number.  Static storage. */
const char *signals_name(int sig);

/* Like signals_name, but formats unknown numbers as "SIG<n>" into buf
 * (>= 16 bytes) and always prefixes "SIG": "SIGTERM". */
const char *signals_fullname(int sig, char *buf, unsigned long size);

#endif
