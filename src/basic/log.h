/* SPDX-License-Identifier: MIT */
/*
 * One line per event on stderr: RFC 3339 UTC timestamp, program, worker,
 * level, message; or the same as one JSON object per line.  The settings
 * are private to log.c and set once by main through log_setup().
 *
 * Convention: a function that fails logs once, where the failure is
 * known, and returns -errno; its callers only pass the code on.
 */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

#include <jansson.h>
#include <stdbool.h>

#include "util.h"

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG, LOG_LVL_COUNT };
enum log_format { LOG_FMT_TEXT, LOG_FMT_JSON };

/* worker may be NULL; the string is copied. */
void log_setup(enum log_format fmt, enum log_level max, const char *worker);
int log_parse_format(const char *s, enum log_format *out);
/* $JOURNAL_STREAM ("DEV:INODE", or NULL): when it names berth's stderr,
 * the journal reads it, which stamps each line with its own time and pid:
 * text lines are then "<PRIORITY>worker: message" (sd-daemon(3)'s
 * prefixes), without berth's timestamp and pid.  JSON lines keep theirs. */
void log_journal(const char *journal_stream);
/* Every line also to fd (an append-only log file), or to nothing more
 * with -1.  The fd stays the caller's. */
void log_copy_to(int fd);

/*
 * From now on no log line waits for stderr (berth run: the supervisor's
 * deadlines must hold when the reader of its stderr stalls).  The worker's
 * fd 2 is left as it is.  A line that cannot be written whole is dropped
 * and counted; the next line that can be written is preceded by
 * "N log lines dropped (stderr was full)" (event "dropped-logs", count).
 * Lines are then at most PIPE_BUF bytes (longer ones are cut, "truncated").
 * 0, or -errno (logged; lines are then written as before).
 */
int log_stderr_nonblocking(void);

/* event is a stable key for machine readers ("started", "exited", ...),
 * or NULL for plain messages. */
void log_msg(enum log_level lvl, const char *event, const char *fmt, ...) ATTR_PRINTF(3, 4);

/* True with --log-format json: build an event's fields only then. */
bool log_json(void);
/* log_msg with the event's fields for JSON readers: the members of
 * `fields` (an object, or NULL; taken over) join the line's object after
 * time, level, pid, msg, worker and event, which they cannot replace.  The
 * text line is the message alone.  Field names are stable (berth(1)). */
void log_event(enum log_level lvl, const char *event, json_t *fields, const char *fmt, ...)
	ATTR_PRINTF(4, 5);

#define log_error(...) log_msg(LOG_LVL_ERROR, NULL, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, NULL, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, NULL, __VA_ARGS__)

/* Log "<message>: strerror(-err)" at error level and return err (< 0).
 * Use as: return log_errno(-errno, "open %s", path); */
int log_errno(int err, const char *fmt, ...) ATTR_PRINTF(2, 3);

/* Format CLOCK_REALTIME as RFC 3339 UTC with milliseconds into buf (>= 32). */
void log_timestamp(char *buf, unsigned long size);

#endif
