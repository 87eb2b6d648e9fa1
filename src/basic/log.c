/* SPDX-License-Identifier: MIT */
/* Lifecycle and error logging to stderr, text or JSON lines. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

/* How a line reaches stderr: a plain write(2) to fd 2 (blocking, as
 * inherited), a write to berth's own non-blocking reopening of it, or a
 * send(2) with MSG_DONTWAIT on fd 2 (a socket). */
enum log_out { OUT_BLOCKING, OUT_REOPENED, OUT_SOCKET };

static struct {
	enum log_format fmt;
	enum log_level max;
	char worker[64];
	int copy_fd;
	enum log_out out;
	int out_fd;	       /* fd 2, or the reopened one (OUT_REOPENED) */
	unsigned long dropped; /* lines not written since the last one that was */
	bool torn;	       /* the last line was cut short: end it first */
	bool journal;	       /* stderr is the journal's stream (log_journal) */
} log_cfg = {LOG_FMT_TEXT, LOG_LVL_INFO, "", -1, OUT_BLOCKING, STDERR_FILENO, 0, false, false};

/* In the enum's order (positional: the assertion counts them). */
static const char *const level_names[] = {
	"error",   /* LOG_LVL_ERROR */
	"warning", /* LOG_LVL_WARN */
	"info",	   /* LOG_LVL_INFO */
	"debug",   /* LOG_LVL_DEBUG */
};
_Static_assert(ARRAY_SIZE(level_names) == LOG_LVL_COUNT, "a name for every log level");

void log_setup(enum log_format fmt, enum log_level max, const char *worker)
{
	log_cfg.fmt = fmt;
	log_cfg.max = max;
	snprintf(log_cfg.worker, sizeof(log_cfg.worker), "%s", worker ? worker : "");
}

void log_journal(const char *journal_stream)
{
	unsigned long long dev, ino;
	struct stat st;
	char end;

	log_cfg.journal = journal_stream &&
			  sscanf(journal_stream, "%llu:%llu%c", &dev, &ino, &end) == 2 &&
			  fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
			  (unsigned long long)st.st_ino == ino;
}

void log_copy_to(int fd)
{
	log_cfg.copy_fd = fd;
}

int log_stderr_nonblocking(void)
{
	struct stat st;
	int fd;

	if (log_cfg.out != OUT_BLOCKING)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return -errno; /* no stderr: the writes fail at once anyway */
	/* A regular file or a block device never waits for a reader. */
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return 0;
	/* A socket cannot be reopened through /proc; MSG_DONTWAIT makes one
	 * send non-blocking without touching the shared file description. */
	if (S_ISSOCK(st.st_mode)) {
		log_cfg.out = OUT_SOCKET;
		return 0;
	}
	/* A pipe, FIFO or terminal: O_NONBLOCK is a flag of the file
	 * description, which the worker shares through the fd 2 it inherits
	 * (setting it there would hand the worker EAGAIN on its own writes).
	 * Opening /proc/self/fd/2 makes a new description of the same pipe or
	 * terminal, berth's alone, which can be non-blocking. */
	fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		log_warn("cannot reopen stderr (/proc/self/fd/2) non-blocking: %s; log lines "
			 "wait for its reader",
			 strerror(e));
		return -e;
	}
	log_cfg.out_fd = fd;
	log_cfg.out = OUT_REOPENED;
	return 0;
}

/* write(2) or send(2) with MSG_DONTWAIT: n, or -1 with errno. */
static ssize_t out_write(const char *p, size_t len)
{
	if (log_cfg.out == OUT_SOCKET)
		return send(log_cfg.out_fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(log_cfg.out_fd, p, len);
}

/*
 * A line on a non-blocking stderr: whole, or not at all (false: dropped).
 * Lines are at most PIPE_BUF bytes (log_emit), which a pipe takes whole or
 * refuses with EAGAIN.  A socket or a terminal may take part of one: the
 * rest then gets a short wait (the reader is there, it is taking data);
 * when even that is not enough the line is cut, and the next one starts
 * with a newline of its own.
 */
static bool out_line(const char *line, size_t len)
{
	size_t off = 0;
	int waits = 0;

	if (log_cfg.torn) {
		if (out_write("\n", 1) != 1)
			return false;
		log_cfg.torn = false;
	}
	while (off < len) {
		ssize_t n = out_write(line + off, len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && off > 0 && waits++ < 10) {
			struct pollfd pfd = {.fd = log_cfg.out_fd, .events = POLLOUT};
			poll(&pfd, 1, 10);
			continue;
		}
		if (off > 0)
			log_cfg.torn = true;
		return false;
	}
	return true;
}

static void write_all(int fd, const char *line, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

int log_parse_format(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_FMT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_FMT_JSON;
	else
		return -EINVAL;
	return 0;
}

void log_timestamp(char *buf, unsigned long size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

bool log_json(void)
{
	return log_cfg.fmt == LOG_FMT_JSON;
}

/* sd-daemon(3)'s prefixes, which the journal takes as the priority and
 * strips: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
static const char *const journal_prio[] = {
	"<3>", /* LOG_LVL_ERROR */
	"<4>", /* LOG_LVL_WARN */
	"<6>", /* LOG_LVL_INFO */
	"<7>", /* LOG_LVL_DEBUG */
};
_Static_assert(ARRAY_SIZE(journal_prio) == LOG_LVL_COUNT, "a priority for every log level");

static char *format_json(enum log_level lvl, const char *event, json_t *fields, const char *msg,
			 bool truncated, const char *ts)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:s}", "time", ts, "level", level_names[lvl], "pid",
			      (json_int_t)getpid(), "msg", msg);
	char *body;

	if (!o)
		return NULL;
	if (log_cfg.worker[0])
		json_object_set_new(o, "worker", json_string(log_cfg.worker));
	if (event)
		json_object_set_new(o, "event", json_string(event));
	if (truncated)
		json_object_set_new(o, "truncated", json_true());
	if (fields)
		json_object_update_missing(o, fields);
	body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return body;
}

/* The line for an event, newline included; freshly allocated.  fields are
 * borrowed.  journal: for the journal's stream (log_journal()). */
static char *format_line(enum log_level lvl, const char *event, json_t *fields, const char *msg,
			 bool truncated, bool journal)
{
	const char *prio = journal ? journal_prio[lvl] : "";
	const char *cut = truncated ? " [truncated]" : "";
	const char *lv = lvl == LOG_LVL_INFO ? "" : level_names[lvl];
	char ts[40];

	log_timestamp(ts, sizeof(ts));
	if (log_cfg.fmt == LOG_FMT_JSON) {
		_cleanup_free_ char *body = format_json(lvl, event, fields, msg, truncated, ts);
		if (body)
			return xasprintf("%s%s\n", prio, body);
	}
	/* the journal has the time and the pid of each line already */
	if (journal)
		return xasprintf("%s%s%s%s%s%s%s\n", prio, log_cfg.worker,
				 log_cfg.worker[0] ? ": " : "", lv, *lv ? ": " : "", msg, cut);
	return xasprintf("%s berth[%ld]%s%s: %s%s%s%s\n", ts, (long)getpid(),
			 log_cfg.worker[0] ? " " : "", log_cfg.worker, lv, *lv ? ": " : "", msg,
			 cut);
}

/* The line, at most PIPE_BUF bytes when stderr is non-blocking (a pipe
 * takes that much whole or not at all): past that, the event's fields go
 * and the message is cut (at a UTF-8 boundary), marked as truncated. */
static char *bounded_line(enum log_level lvl, const char *event, json_t *fields, const char *msg)
{
	char *line = format_line(lvl, event, fields, msg, false, log_cfg.journal);
	size_t keep = strlen(msg);

	while (log_cfg.out != OUT_BLOCKING && strlen(line) > PIPE_BUF && keep > 0) {
		_cleanup_free_ char *cut = NULL;
		keep = keep > PIPE_BUF / 2 ? PIPE_BUF / 2 : keep / 2;
		while (keep > 0 && ((unsigned char)msg[keep] & 0xC0) == 0x80)
			keep--;
		cut = xstrndup(msg, keep);
		free(line);
		line = format_line(lvl, event, NULL, cut, true, log_cfg.journal);
	}
	return line;
}

/* Write a line to stderr; on a non-blocking one, after the count of the
 * lines dropped before it, or count it as dropped too. */
static void emit_stderr(const char *line)
{
	if (log_cfg.out == OUT_BLOCKING) {
		/* One write(2) per line so concurrent writers never interleave. */
		write_all(STDERR_FILENO, line, strlen(line));
		return;
	}
	if (log_cfg.dropped) {
		_cleanup_free_ char *msg =
			xasprintf("%lu log lines dropped (stderr was full)", log_cfg.dropped);
		_cleanup_(json_decrefp) json_t *f =
			json_pack("{s:I}", "count", (json_int_t)log_cfg.dropped);
		_cleanup_free_ char *notice =
			format_line(LOG_LVL_WARN, "dropped-logs", f, msg, false, log_cfg.journal);
		if (!out_line(notice, strlen(notice))) {
			log_cfg.dropped++;
			return;
		}
		log_cfg.dropped = 0;
	}
	if (!out_line(line, strlen(line)))
		log_cfg.dropped++;
}

static void log_emit(enum log_level lvl, const char *event, json_t *fields, const char *msg)
{
	char *line = bounded_line(lvl, event, fields, msg);

	emit_stderr(line);
	if (log_cfg.copy_fd >= 0 && log_cfg.journal) {
		/* the copy is a file of its own: timestamps and pid stay */
		_cleanup_free_ char *own = format_line(lvl, event, fields, msg, false, false);
		write_all(log_cfg.copy_fd, own, strlen(own));
	} else if (log_cfg.copy_fd >= 0) {
		write_all(log_cfg.copy_fd, line, strlen(line));
	}
	free(line);
}

static void log_vemit(enum log_level lvl, const char *event, json_t *fields, const char *fmt,
		      va_list ap)
{
	char *msg;
	int saved = errno;

	if (lvl <= log_cfg.max) {
		if (vasprintf(&msg, fmt, ap) < 0)
			msg = NULL;
		log_emit(lvl, event, fields, msg ? msg : fmt);
		free(msg);
	}
	json_decref(fields);
	errno = saved;
}

void log_event(enum log_level lvl, const char *event, json_t *fields, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(lvl, event, fields, fmt, ap);
	va_end(ap);
}

void log_msg(enum log_level lvl, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(lvl, event, NULL, fmt, ap);
	va_end(ap);
}

int log_errno(int err, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	log_msg(LOG_LVL_ERROR, NULL, "%s: %s", msg ? msg : fmt, strerror(err < 0 ? -err : err));
	free(msg);
	return err < 0 ? err : -err;
}
