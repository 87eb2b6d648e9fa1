/* SPDX-License-Identifier: MIT */
/* Unit tests of the pure helpers in util.c and size.c. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "size.h"
#include "util.h"

START_TEST(test_parse_u64)
{
	uint64_t v;

	ck_assert_int_eq(parse_u64("0", 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(parse_u64("4294967295", UINT32_MAX, &v), 0);
	ck_assert_int_eq(parse_u64("4294967296", UINT32_MAX, &v), -ERANGE);
	ck_assert_int_eq(parse_u64("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	const char *bad[] = {"", " 12", "12 ", "-1", "+1", "0x10", "1e3", "12abc"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_int_eq(parse_u64(bad[i], UINT64_MAX, &v), -EINVAL);
}
END_TEST

START_TEST(test_parse_duration)
{
	uint64_t ms;

	ck_assert_int_eq(parse_duration_ms("15", &ms), 0);
	ck_assert_uint_eq(ms, 15000);
	ck_assert_int_eq(parse_duration_ms("300ms", &ms), 0);
	ck_assert_uint_eq(ms, 300);
	ck_assert_int_eq(parse_duration_ms("2m", &ms), 0);
	ck_assert_uint_eq(ms, 120000);
	ck_assert_int_eq(parse_duration_ms("1h", &ms), -EINVAL);
	ck_assert_int_eq(parse_duration_ms("-1", &ms), -EINVAL);
	ck_assert_int_eq(parse_duration_ms("ms", &ms), -EINVAL);
}
END_TEST

START_TEST(test_parse_bytes)
{
	uint64_t b;

	ck_assert_int_eq(parse_bytes("128M", &b), 0);
	ck_assert_uint_eq(b, 128ULL << 20);
	ck_assert_int_eq(parse_bytes("512MB", &b), 0);
	ck_assert_uint_eq(b, 512000000ULL);
	ck_assert_int_eq(parse_bytes("1G", &b), 0);
	ck_assert_uint_eq(b, 1ULL << 30);
	ck_assert_int_eq(parse_bytes("99999999999999999G", &b), -ERANGE);
	ck_assert_int_eq(parse_bytes("12X", &b), -EINVAL);
}
END_TEST

START_TEST(test_strbuf)
{
	struct strbuf sb = {0};

	strbuf_puts(&sb, "a");
	strbuf_printf(&sb, "%d-%s", 42, "x");
	strbuf_putc(&sb, '!');
	char *s = strbuf_detach(&sb);
	ck_assert_str_eq(s, "a42-x!");
	free(s);
	s = strbuf_detach(&sb);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

/* A file longer than one read comes back whole; past max is -EFBIG. */
START_TEST(test_strbuf_read_fd)
{
	struct strbuf sb = {0};
	char chunk[1000];
	int fd = memfd_create("t", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(write(fd, chunk, sizeof(chunk)), (int)sizeof(chunk));
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	ck_assert_int_eq(strbuf_read_fd(&sb, fd, 10000), 0);
	ck_assert_uint_eq(sb.len, 10000);
	ck_assert_uint_eq(strlen(sb.buf), 10000);
	strbuf_release(&sb);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	ck_assert_int_eq(strbuf_read_fd(&sb, fd, 9999), -EFBIG);
	strbuf_release(&sb);
	ck_assert_int_eq(strbuf_read_fd(&sb, -1, 10), -EBADF);
	strbuf_release(&sb);
	close(fd);
}
END_TEST

START_TEST(test_size_table)
{
	enum size_name n;
	struct size_limits l;

	ck_assert_int_eq(size_parse("s", &n), 0);
	ck_assert_int_eq(n, SIZE_S);
	ck_assert_int_eq(size_parse("2xl", &n), 0);
	ck_assert_int_eq(n, SIZE_2XL);
	ck_assert_int_eq(size_parse("Auto", &n), 0);
	ck_assert_int_eq(n, SIZE_AUTO);
	ck_assert_int_eq(size_parse("XXL", &n), -EINVAL);
	ck_assert_int_eq(size_parse("", &n), -EINVAL);

	l = size_lookup(SIZE_S, PROFILE_HIGH_CPU);
	ck_assert_uint_eq(l.cpu_milli, 400);
	ck_assert_uint_eq(l.memory_mib, 128);
	l = size_lookup(SIZE_4XL, PROFILE_HIGH_CPU);
	ck_assert_uint_eq(l.cpu_milli, 10000);
	ck_assert_uint_eq(l.memory_mib, 1536);
	l = size_lookup(SIZE_M, PROFILE_HIGH_MEMORY);
	ck_assert_uint_eq(l.cpu_milli, 250);
	ck_assert_uint_eq(l.memory_mib, 288);
	l = size_lookup(SIZE_AUTO, PROFILE_HIGH_CPU);
	ck_assert_uint_eq(l.cpu_milli, 0);
	ck_assert_uint_eq(l.memory_mib, 0);

	ck_assert_int_eq(size_profile_for_type("java:21"), PROFILE_HIGH_MEMORY);
	ck_assert_int_eq(size_profile_for_type("python:3.7"), PROFILE_HIGH_CPU);
	ck_assert_int_eq(size_profile_for_type("javascript:1"), PROFILE_HIGH_CPU);
	ck_assert_int_eq(size_profile_for_type(NULL), PROFILE_HIGH_CPU);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_parse_u64);
	tcase_add_test(tc, test_parse_duration);
	tcase_add_test(tc, test_parse_bytes);
	tcase_add_test(tc, test_strbuf);
	tcase_add_test(tc, test_strbuf_read_fd);
	tcase_add_test(tc, test_size_table);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
