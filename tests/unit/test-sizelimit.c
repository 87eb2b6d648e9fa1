/* SPDX-License-Identifier: MIT */
/* Unit tests of size -> cgroup values (sizelimit.c): the table, units,
 * AUTO, the operator's overrides, --cpus parsing, the per-hierarchy view. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sizelimit.h"

static struct worker worker(enum size_name s, const char *type)
{
	struct worker w = {0};

	w.size = s;
	w.profile = size_profile_for_type(type);
	w.limits = size_lookup(s, w.profile);
	return w;
}

START_TEST(test_table_to_cgroup)
{
	struct sizelimit_overrides o = {0};
	struct cgroup_limits l;
	struct worker w = worker(SIZE_S, "python:3.11");

	sizelimit_for_worker(&w, &o, &l);
	ck_assert_uint_eq(l.memory_bytes, 128ULL << 20); /* MiB, not MB */
	ck_assert_uint_eq(l.cpu_quota_us, 40000);
	ck_assert_uint_eq(l.cpu_period_us, 100000);
	ck_assert_uint_eq(l.pids_max, SIZELIMIT_DEFAULT_PIDS_MAX);

	w = worker(SIZE_4XL, "java:21");
	sizelimit_for_worker(&w, &o, &l);
	ck_assert_uint_eq(l.memory_bytes, 10496ULL << 20);
	ck_assert_uint_eq(l.cpu_quota_us, 300000); /* 3 CPUs */

	w = worker(SIZE_2XL, "php:8.3");
	sizelimit_for_worker(&w, &o, &l);
	ck_assert_uint_eq(l.memory_bytes, 768ULL << 20);
	ck_assert_uint_eq(l.cpu_quota_us, 500000);
}
END_TEST

START_TEST(test_auto)
{
	struct sizelimit_overrides o = {0};
	struct cgroup_limits l;
	struct worker w = worker(SIZE_AUTO, "python:3.11");

	sizelimit_for_worker(&w, &o, &l);
	ck_assert_uint_eq(l.memory_bytes, 0);
	ck_assert_uint_eq(l.cpu_quota_us, 0);
	ck_assert_uint_eq(l.pids_max, SIZELIMIT_DEFAULT_PIDS_MAX); /* fork bombs stay inside */

	o.have_auto_size = true;
	o.auto_size = SIZE_L;
	sizelimit_for_worker(&w, &o, &l);
	ck_assert_uint_eq(l.memory_bytes, 256ULL << 20);
	ck_assert_uint_eq(l.cpu_quota_us, 120000);

	/* --auto-size does not change a worker that has a size */
	w = worker(SIZE_S, "python:3.11");
	sizelimit_for_worker(&w, &o, &l);
	ck_assert_uint_eq(l.memory_bytes, 128ULL << 20);
}
END_TEST

START_TEST(test_overrides)
{
	struct sizelimit_overrides o = {.memory_bytes = 1ULL << 30,
					.cpu_milli = 1500,
					.pids_max = 100,
					.allow_missing = true};
	struct cgroup_limits l;
	struct worker w = worker(SIZE_S, "python:3.11");

	sizelimit_for_worker(&w, &o, &l);
	ck_assert_uint_eq(l.memory_bytes, 1ULL << 30);
	ck_assert_uint_eq(l.cpu_quota_us, 150000);
	ck_assert_uint_eq(l.pids_max, 100);
	ck_assert(l.allow_missing);
	o.no_pids_max = true;
	sizelimit_for_worker(&w, &o, &l);
	ck_assert_uint_eq(l.pids_max, 0);
}
END_TEST

START_TEST(test_parse_cpus)
{
	uint32_t m;

	ck_assert_int_eq(sizelimit_parse_cpus("0.4", &m), 0);
	ck_assert_uint_eq(m, 400);
	ck_assert_int_eq(sizelimit_parse_cpus("2", &m), 0);
	ck_assert_uint_eq(m, 2000);
	ck_assert_int_eq(sizelimit_parse_cpus("1.25", &m), 0);
	ck_assert_uint_eq(m, 1250);
	ck_assert_int_eq(sizelimit_parse_cpus("0.001", &m), 0);
	ck_assert_uint_eq(m, 1);
	const char *bad[] = {"",   "0",	  "0.0",  "0.0001", ".5", "1.",
			     "-1", "1e3", "2048", "1,5",    " 1", "0x10"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(sizelimit_parse_cpus(bad[i], &m) < 0, "accepted '%s'", bad[i]);
}
END_TEST

START_TEST(test_describe)
{
	struct sizelimit_overrides o = {0};
	struct cgroup_limits l;
	struct worker w = worker(SIZE_S, "python:3.11");

	sizelimit_for_worker(&w, &o, &l);
	json_t *j = sizelimit_describe(&l);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(s,
			 "{\"v2\":{\"memory.max\":134217728,\"memory.swap.max\":0,"
			 "\"memory.oom.group\":1,\"cpu.max\":\"40000 100000\",\"pids.max\":4096},"
			 "\"v1\":{\"memory.limit_in_bytes\":134217728,"
			 "\"memory.memsw.limit_in_bytes\":134217728,\"cpu.cfs_quota_us\":40000,"
			 "\"cpu.cfs_period_us\":100000,\"pids.max\":4096},"
			 "\"allow_missing_controllers\":false}");
	free(s);
	json_decref(j);

	w = worker(SIZE_AUTO, "python:3.11");
	o.no_pids_max = true;
	sizelimit_for_worker(&w, &o, &l);
	j = sizelimit_describe(&l);
	s = json_dumps(json_object_get(j, "v2"), JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(s,
			 "{\"memory.max\":\"max\",\"memory.swap.max\":\"max\","
			 "\"memory.oom.group\":0,\"cpu.max\":\"max 100000\",\"pids.max\":\"max\"}");
	free(s);
	json_decref(j);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sizelimit");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_table_to_cgroup);
	tcase_add_test(tc, test_auto);
	tcase_add_test(tc, test_overrides);
	tcase_add_test(tc, test_parse_cpus);
	tcase_add_test(tc, test_describe);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
