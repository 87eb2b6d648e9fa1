/* SPDX-License-Identifier: MIT */
/*
 * log_stderr_nonblocking() on real pipes: with stderr a one-page pipe that
 * nobody reads, lines that do not fit are dropped whole and counted, and
 * once the pipe is drained the next line is preceded by "N log lines
 * dropped (stderr was full)"; the shared fd 2 keeps its blocking file
 * description; a line longer than PIPE_BUF is cut to fit, marked as
 * truncated, and stays valid JSON; a regular file is written as before.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

/* Everything readable from fd now (non-blocking), appended to buf. */
static size_t drain(int fd, char *buf, size_t size, size_t len)
{
	ssize_t n;
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	fcntl(fd, F_SETFL, fl);
	buf[len] = '\0';
	return len;
}

static int wait_child(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

START_TEST(test_dropped_then_reported)
{
	static char buf[65536];
	char msg[1991], c; /* two lines fill the page to within 30 bytes */
	int p[2], go[2], ready[2];
	size_t len;
	pid_t pid;

	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	/* one page: two 2 KB lines fit, nothing more (not even the report) */
	ck_assert_int_ge(fcntl(p[1], F_SETPIPE_SZ, 4096), 4096);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (dup2(p[1], STDERR_FILENO) < 0)
			_exit(10);
		log_setup(LOG_FMT_TEXT, LOG_LVL_INFO, "w");
		if (log_stderr_nonblocking() < 0)
			_exit(11);
		/* the shared description stays blocking (the worker's) */
		if (fcntl(STDERR_FILENO, F_GETFL) & O_NONBLOCK)
			_exit(12);
		for (int i = 0; i < 4; i++)
			log_info("line %d %s", i, msg); /* 2 and 3 dropped, at once */
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(13);
		log_info("after the drain");
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	len = drain(p[0], buf, sizeof(buf), 0);
	ck_assert_ptr_nonnull(strstr(buf, "line 0 mmm"));
	ck_assert_ptr_nonnull(strstr(buf, "line 1 mmm"));
	ck_assert_ptr_null(strstr(buf, "line 2"));
	ck_assert_ptr_null(strstr(buf, "dropped"));
	ck_assert_int_eq(buf[len - 1], '\n'); /* whole lines only */
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	ck_assert_int_eq(wait_child(pid), 0);
	len = drain(p[0], buf, sizeof(buf), 0);
	char *drop = strstr(buf, "w: warning: 2 log lines dropped (stderr was full)\n");
	char *after = strstr(buf, "w: after the drain\n");
	ck_assert_ptr_nonnull(drop);
	ck_assert_ptr_nonnull(after);
	ck_assert(drop < after);
	ck_assert_ptr_null(strstr(buf, "line 3"));
	for (int i = 0; i < 2; i++) {
		close(p[i]);
		close(go[i]);
		close(ready[i]);
	}
}
END_TEST

START_TEST(test_long_line_cut_to_pipe_buf)
{
	static char buf[65536];
	static char msg[10001];
	json_error_t je;
	json_t *o;
	int p[2];
	pid_t pid;

	memset(msg, 'x', sizeof(msg) - 1);
	msg[3000] = '\xc3'; /* a two-byte UTF-8 character across the likely cut */
	msg[3001] = '\xa9';
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		log_setup(LOG_FMT_JSON, LOG_LVL_INFO, "w");
		if (log_stderr_nonblocking() < 0)
			_exit(11);
		log_event(LOG_LVL_INFO, "killed", json_pack("{s:i}", "count", 7), "%s", msg);
		log_setup(LOG_FMT_TEXT, LOG_LVL_INFO, "w");
		log_info("%s", msg);
		_exit(0);
	}
	ck_assert_int_eq(wait_child(pid), 0);
	drain(p[0], buf, sizeof(buf), 0);
	char *nl = strchr(buf, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_int_le(nl + 1 - buf, PIPE_BUF);
	*nl = '\0';
	o = json_loads(buf, 0, &je);
	ck_assert_msg(o != NULL, "not JSON: %s", je.text);
	ck_assert(json_is_true(json_object_get(o, "truncated")));
	ck_assert_str_eq(json_string_value(json_object_get(o, "event")), "killed");
	ck_assert_ptr_null(json_object_get(o, "count")); /* the fields went first */
	ck_assert_int_gt(strlen(json_string_value(json_object_get(o, "msg"))), 1000);
	json_decref(o);
	char *text = nl + 1, *end = strchr(text, '\n');
	ck_assert_ptr_nonnull(end);
	ck_assert_int_le(end + 1 - text, PIPE_BUF);
	ck_assert(end - text > 12 && strncmp(end - 12, " [truncated]", 12) == 0);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_regular_file_unchanged)
{
	char path[] = "/tmp/test-log.XXXXXX";
	static char msg[10001], buf[20000];
	int fd = mkstemp(path);
	ssize_t n;
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	memset(msg, 'y', sizeof(msg) - 1);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fd, STDERR_FILENO);
		log_setup(LOG_FMT_TEXT, LOG_LVL_INFO, NULL);
		if (log_stderr_nonblocking() < 0)
			_exit(11);
		log_info("%s", msg);
		_exit(0);
	}
	ck_assert_int_eq(wait_child(pid), 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 10000);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, msg));
	ck_assert_ptr_null(strstr(buf, "truncated"));
	close(fd);
	unlink(path);
}
END_TEST

/* In a child with stderr on a fresh file: log_journal(stream) (NULL: the
 * file's own "DEV:INODE"), one line per level, the copy to copy_fd; the
 * file's text in buf. */
static void journal_lines(const char *stream, enum log_format fmt, int copy_fd, char *buf,
			  size_t size)
{
	char path[] = "/tmp/test-log.XXXXXX";
	int fd = mkstemp(path);
	struct stat st;
	ssize_t n;
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char own[64];
		snprintf(own, sizeof(own), "%llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
		dup2(fd, STDERR_FILENO);
		log_setup(fmt, LOG_LVL_DEBUG, "queue");
		log_journal(stream ? stream : own);
		log_copy_to(copy_fd);
		log_error("e1");
		log_warn("w1");
		log_info("i1");
		log_debug("d1");
		_exit(0);
	}
	ck_assert_int_eq(wait_child(pid), 0);
	n = pread(fd, buf, size - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	close(fd);
	unlink(path);
}

START_TEST(test_journal_prefixes)
{
	char buf[4096], copy[4096];
	char cpath[] = "/tmp/test-log.XXXXXX";
	int cfd = mkstemp(cpath);
	ssize_t n;

	ck_assert_int_ge(cfd, 0);
	journal_lines(NULL, LOG_FMT_TEXT, cfd, buf, sizeof(buf));
	ck_assert_str_eq(buf, "<3>queue: error: e1\n<4>queue: warning: w1\n<6>queue: i1\n"
			      "<7>queue: debug: d1\n");
	/* the copy is a file of its own: time and pid stay there */
	n = pread(cfd, copy, sizeof(copy) - 1, 0);
	ck_assert_int_gt(n, 0);
	copy[n] = '\0';
	ck_assert_ptr_nonnull(strstr(copy, " berth["));
	ck_assert_ptr_nonnull(strstr(copy, "] queue: i1\n"));
	ck_assert_ptr_null(strchr(copy, '<'));
	close(cfd);
	unlink(cpath);

	/* JSON keeps its fields and gains the prefix alone */
	journal_lines(NULL, LOG_FMT_JSON, -1, buf, sizeof(buf));
	ck_assert(strncmp(buf, "<3>{\"time\":", 11) == 0);
	ck_assert_ptr_nonnull(strstr(buf, "\n<6>{\"time\":"));
}
END_TEST

START_TEST(test_journal_other_stream)
{
	char buf[4096];

	/* another file's stream, garbage, nothing: berth's own lines */
	journal_lines("1:2", LOG_FMT_TEXT, -1, buf, sizeof(buf));
	ck_assert_ptr_null(strchr(buf, '<'));
	ck_assert_ptr_nonnull(strstr(buf, " berth["));
	journal_lines("x", LOG_FMT_TEXT, -1, buf, sizeof(buf));
	ck_assert_ptr_null(strchr(buf, '<'));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_dropped_then_reported);
	tcase_add_test(tc, test_long_line_cut_to_pipe_buf);
	tcase_add_test(tc, test_regular_file_unchanged);
	tcase_add_test(tc, test_journal_prefixes);
	tcase_add_test(tc, test_journal_other_stream);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
