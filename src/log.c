/* SPDX-License-Identifier: MIT */
/* Lifecycle and error logging to stderr, text or JSON lines. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static struct {
	enum log_format fmt;
	enum log_level max;
	char worker[64];
	int copy_fd;
} log_cfg = {LOG_FMT_TEXT, LOG_LVL_INFO, "", -1};

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

void log_setup(enum log_format fmt, enum log_level max, const char *worker)
{
	log_cfg.fmt = fmt;
	log_cfg.max = max;
	snprintf(log_cfg.worker, sizeof(log_cfg.worker), "%s", worker ? worker : "");
}

void log_copy_to(int fd)
{
	log_cfg.copy_fd = fd;
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
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000000);
}

bool log_json(void)
{
	return log_cfg.fmt == LOG_FMT_JSON;
}

static void log_emit(enum log_level lvl, const char *event, json_t *fields, const char *msg)
{
	char ts[40];
	char *line = NULL;

	log_timestamp(ts, sizeof(ts));
	if (log_cfg.fmt == LOG_FMT_JSON) {
		json_t *o = json_pack("{s:s, s:s, s:I, s:s}", "time", ts, "level",
				      level_names[lvl], "pid", (json_int_t)getpid(),
				      "msg", msg);
		if (o && log_cfg.worker[0])
			json_object_set_new(o, "worker", json_string(log_cfg.worker));
		if (o && event)
			json_object_set_new(o, "event", json_string(event));
		if (o && fields)
			json_object_update_missing(o, fields);
		char *body = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(o);
		if (body) {
			line = xasprintf("%s\n", body);
			free(body);
		}
	}
	if (!line) {
		const char *lv = lvl == LOG_LVL_INFO ? "" : level_names[lvl];
		line = xasprintf("%s berth[%ld]%s%s: %s%s%s\n", ts, (long)getpid(),
				 log_cfg.worker[0] ? " " : "", log_cfg.worker, lv,
				 *lv ? ": " : "", msg);
	}
	/* One write(2) per line so concurrent writers never interleave. */
	write_all(STDERR_FILENO, line, strlen(line));
	if (log_cfg.copy_fd >= 0)
		write_all(log_cfg.copy_fd, line, strlen(line));
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
