/* SPDX-License-Identifier: MIT */
/*
 * The notify protocol against real AF_UNIX datagram sockets: the
 * $NOTIFY_SOCKET forms (a path, "@abstract"; vsock and relative paths
 * refused), one datagram per message, READY=1 only the first time, and a
 * socket nobody reads never blocks the sender.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

/* A bound datagram socket at name (a path, or "@abstract"). */
static int listener(const char *name)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(notify_parse_address(name, &sa, &len), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

static void expect(int fd, const char *want)
{
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

START_TEST(test_parse)
{
	struct sockaddr_un sa;
	socklen_t len;
	char longpath[200];

	ck_assert_int_eq(notify_parse_address("/run/systemd/notify", &sa, &len), 0);
	ck_assert_str_eq(sa.sun_path, "/run/systemd/notify");
	ck_assert_int_eq(len, offsetof(struct sockaddr_un, sun_path) + 20);
	ck_assert_int_eq(notify_parse_address("@abc", &sa, &len), 0);
	ck_assert_int_eq(sa.sun_path[0], '\0');
	ck_assert_int_eq(memcmp(sa.sun_path + 1, "abc", 3), 0);
	ck_assert_int_eq(len, offsetof(struct sockaddr_un, sun_path) + 4);
	ck_assert_int_eq(notify_parse_address("vsock:2:9", &sa, &len), -EAFNOSUPPORT);
	ck_assert_int_eq(notify_parse_address("run/notify", &sa, &len), -EINVAL);
	ck_assert_int_eq(notify_parse_address("", &sa, &len), -EINVAL);
	ck_assert_int_eq(notify_parse_address("@", &sa, &len), -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_eq(notify_parse_address(longpath, &sa, &len), -EINVAL);
}
END_TEST

START_TEST(test_ready_once_path)
{
	char dir[] = "/tmp/test-notify.XXXXXX", path[64];
	struct notify n;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listener(path);
	ck_assert_int_eq(notify_open(path, &n), 0);
	notify_running(&n, "worker queue running (process 7)");
	expect(fd, "READY=1\nSTATUS=worker queue running (process 7)");
	notify_running(&n, "worker queue running (process 8)");
	expect(fd, "STATUS=worker queue running (process 8)");
	notify_send(&n, "STOPPING=1\nSTATUS=%s", "stopping");
	expect(fd, "STOPPING=1\nSTATUS=stopping");
	notify_close(&n);
	notify_close(&n); /* twice is safe */
	close(fd);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_abstract_and_full)
{
	char name[64];
	struct notify n;
	int fd, i;

	snprintf(name, sizeof(name), "@test-notify-%ld", (long)getpid());
	fd = listener(name);
	ck_assert_int_eq(notify_open(name, &n), 0);
	notify_send(&n, "STATUS=%s", "one");
	expect(fd, "STATUS=one");
	/* nobody reads: the queue fills, the sender goes on */
	for (i = 0; i < 10000; i++)
		notify_send(&n, "STATUS=%d", i);
	expect(fd, "STATUS=0");
	notify_close(&n);
	close(fd);
}
END_TEST

START_TEST(test_none_and_bad)
{
	struct notify n;

	ck_assert_int_eq(notify_open(NULL, &n), 0);
	ck_assert_int_eq(n.fd, -1);
	notify_running(&n, "nobody listens"); /* a no-op */
	ck_assert_int_eq(notify_open("", &n), 0);
	ck_assert_int_eq(n.fd, -1);
	ck_assert_int_eq(notify_open("relative", &n), -EINVAL);
	ck_assert_int_eq(n.fd, -1);
	ck_assert_int_eq(notify_open("vsock:1:2", &n), -EAFNOSUPPORT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_ready_once_path);
	tcase_add_test(tc, test_abstract_and_full);
	tcase_add_test(tc, test_none_and_bad);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
