/* SPDX-License-Identifier: MIT */
/*
 * The stop guard's pure parts: the tracepoint filter it installs and the
 * kernel's CPU list format (one perf event per online CPU).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "cleanup.h"
#include "stopguard.h"

START_TEST(test_filter)
{
	const int sigs[] = {SIGTERM, SIGINT, SIGQUIT};
	_cleanup_free_ char *one = stopguard_filter(42, sigs, 1);
	_cleanup_free_ char *three = stopguard_filter(123456, sigs, 3);

	ck_assert_str_eq(one, "pid == 42 && (sig == 15)");
	ck_assert_str_eq(three, "pid == 123456 && (sig == 15 || sig == 2 || sig == 3)");
}
END_TEST

static void cpus_are(const char *text, const int *want, size_t n)
{
	_cleanup_free_ int *cpus = NULL;
	size_t got;

	ck_assert_int_eq(stopguard_parse_cpus(text, &cpus, &got), 0);
	ck_assert_uint_eq(got, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(cpus[i], want[i]);
}

START_TEST(test_cpus)
{
	cpus_are("0\n", (const int[]){0}, 1);
	cpus_are("0-1\n", (const int[]){0, 1}, 2);
	cpus_are("0-2,4,6-7", (const int[]){0, 1, 2, 4, 6, 7}, 6);
	cpus_are("3", (const int[]){3}, 1);
}
END_TEST

START_TEST(test_cpus_bad)
{
	static const char *const bad[] = {"",	 "\n",	 "a",	"1-",	   "-1",
					  "3-1", "1,,2", "1 2", "0-70000", "1,"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int *cpus = (int *)1;
		size_t n = 7;
		ck_assert_msg(stopguard_parse_cpus(bad[i], &cpus, &n) == -EINVAL, "'%s'", bad[i]);
		ck_assert_ptr_null(cpus);
		ck_assert_uint_eq(n, 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stopguard");
	TCase *tc = tcase_create("pure");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_filter);
	tcase_add_test(tc, test_cpus);
	tcase_add_test(tc, test_cpus_bad);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
