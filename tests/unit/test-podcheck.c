/* SPDX-License-Identifier: MIT */
/* Unit tests of pod mode's check (podcheck.c): the verdict on what berth
 * saw from inside a container, each guarantee missing in turn and waived,
 * the one line, the waiver names, the parsers of /proc/self/status and of
 * the cgroup's limit files, the environment names a pod passes on. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "podcheck.h"
#include "sizelimit.h"
#include "util.h"

/* The waiver names as the docs list them, in the enum's order. */
static const char *const reference[] = {"caps",	   "no_new_privs", "seccomp", "root",
					"ro_root", "memory",	   "cpu"};

/* Everything an engine with the generated manifest gives: size M's limits. */
static struct podcheck_seen good(void)
{
	struct podcheck_seen s = {
		.have_status = true,
		.no_new_privs = 1,
		.seccomp = 2,
		.uid = {65534, 65534, 65534},
		.have_ro_root = true,
		.ro_root = true,
		.have_memory = true,
		.memory_bytes = 288ULL << 20,
		.have_cpu = true,
		.cpu_quota_us = 50000,
		.cpu_period_us = 100000,
	};
	return s;
}

static const struct cgroup_limits size_m = {
	.memory_bytes = 288ULL << 20, .cpu_quota_us = 50000, .cpu_period_us = 100000};

static char *verdict(const struct podcheck_seen *s, unsigned waive, int want_r)
{
	char *line = NULL;

	ck_assert_int_eq(podcheck_verdict(s, &size_m, waive, 15000, &line), want_r);
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_null(strchr(line, '\n')); /* one line */
	return line;
}

START_TEST(test_all_held)
{
	struct podcheck_seen s = good();
	char *line = verdict(&s, 0, 0);

	ck_assert_str_eq(line, "pod mode: engine: caps none, no_new_privs, seccomp, uid 65534, "
			       "ro root, memory 288M, cpu 0.5; berth: env, restart, stop 15s, "
			       "reap");
	free(line);
	/* the engine may give less than the size */
	s.memory_bytes = 256ULL << 20;
	s.cpu_quota_us = 25000;
	line = verdict(&s, 0, 0);
	ck_assert_ptr_nonnull(strstr(line, "memory 256M, cpu 0.25;"));
	free(line);
	/* the same ratio over another period */
	s.cpu_quota_us = 5000;
	s.cpu_period_us = 10000;
	free(verdict(&s, 0, 0));
}
END_TEST

/* Break guarantee _i: the refusal names it (and what was seen), the
 * waiver of that one name lets berth start and the line says "waived". */
static void breaker(int i, struct podcheck_seen *s)
{
	switch (i) {
	case PODCHECK_CAPS:
		s->cap_bnd = 1ULL << 21; /* CAP_SYS_ADMIN left in the bounding set */
		break;
	case PODCHECK_NO_NEW_PRIVS:
		s->no_new_privs = 0;
		break;
	case PODCHECK_SECCOMP:
		s->seccomp = 0;
		break;
	case PODCHECK_ROOT:
		s->uid[2] = 0; /* a saved uid 0 can become root again */
		break;
	case PODCHECK_RO_ROOT:
		s->ro_root = false;
		break;
	case PODCHECK_MEMORY:
		s->memory_bytes = 0; /* "max" */
		break;
	case PODCHECK_CPU:
		s->cpu_quota_us = 100000; /* 1 CPU above 0.5 */
		break;
	}
}

START_TEST(test_each_missing)
{
	static const char *const seen[] = {
		"caps (CapEff 0000000000000000 CapPrm 0000000000000000 CapBnd 0000000000200000)",
		"no_new_privs (NoNewPrivs 0)",
		"seccomp (Seccomp 0)",
		"root (uid 65534/65534/0)",
		"ro_root (/ is writable)",
		"memory (no limit, the size's is 288M)",
		"cpu (1 above the size's 0.5)",
	};
	struct podcheck_seen s = good();
	char *line, *want;

	breaker(_i, &s);
	line = verdict(&s, 0, -EPERM);
	want = xasprintf("pod mode: refusing to start: the engine does not provide %s; set it in "
			 "the pod's securityContext and resources, or waive it with --pod-waive %s",
			 seen[_i], reference[_i]);
	ck_assert_str_eq(line, want);
	free(line);
	free(want);
	/* another guarantee's waiver does not help */
	free(verdict(&s, ~(1U << _i) & ((1U << PODCHECK_COUNT) - 1), -EPERM));
	line = verdict(&s, 1U << _i, 0);
	ck_assert_msg(strstr(line, " waived (") != NULL, "%s", line);
	ck_assert_ptr_nonnull(strstr(line, "; berth: env, restart, stop 15s, reap"));
	free(line);
}
END_TEST

START_TEST(test_unknown_is_missing)
{
	struct podcheck_seen s = {.no_new_privs = -1, .seccomp = -1};
	char *line = verdict(&s, 0, -EPERM);

	ck_assert_str_eq(line, "pod mode: refusing to start: the engine does not provide caps, "
			       "no_new_privs (NoNewPrivs -1), seccomp (Seccomp -1), root, ro_root "
			       "(/ cannot be inspected), memory (its cgroup's limit cannot be "
			       "read), cpu (its cgroup's limit cannot be read); set it in the "
			       "pod's securityContext and resources, or waive it with --pod-waive "
			       "caps,no_new_privs,seccomp,root,ro_root,memory,cpu");
	free(line);
	free(verdict(&s, (1U << PODCHECK_COUNT) - 1, 0));
}
END_TEST

START_TEST(test_limits)
{
	struct podcheck_seen s = good();
	struct cgroup_limits none = {0};
	char *line = NULL;

	s.memory_bytes = (288ULL << 20) + 4096;
	line = verdict(&s, 0, -EPERM);
	ck_assert_ptr_nonnull(strstr(line, "memory (294916k above the size's 288M)"));
	free(line);
	/* a size without limits (AUTO without a meaning) checks none */
	s.memory_bytes = 0;
	s.have_cpu = false;
	ck_assert_int_eq(podcheck_verdict(&s, &none, 0, 300, &line), 0);
	ck_assert_ptr_nonnull(
		strstr(line, "memory max, cpu unknown; berth: env, restart, stop 300ms"));
	free(line);
	/* the table's own numbers: size S of a python app */
	struct worker w = {.size = SIZE_S};
	struct sizelimit_overrides o = {0};
	struct cgroup_limits l;

	w.profile = size_profile_for_type("python:3.11");
	w.limits = size_lookup(SIZE_S, w.profile);
	sizelimit_for_worker(&w, &o, &l);
	s = good();
	s.memory_bytes = 128ULL << 20;
	s.cpu_quota_us = 40000;
	ck_assert_int_eq(podcheck_verdict(&s, &l, 0, 15000, &line), 0);
	free(line);
	s.cpu_quota_us = 50000;
	ck_assert_int_eq(podcheck_verdict(&s, &l, 0, 15000, &line), -EPERM);
	ck_assert_ptr_nonnull(strstr(line, "cpu (0.5 above the size's 0.4)"));
	free(line);
}
END_TEST

START_TEST(test_waive_names)
{
	const char *bad = NULL;
	size_t n = 0;
	unsigned m = 0;

	ck_assert_int_eq((int)ARRAY_SIZE(reference), PODCHECK_COUNT);
	for (int i = 0; i < PODCHECK_COUNT; i++) {
		ck_assert_str_eq(podcheck_name(i), reference[i]);
		ck_assert_int_eq(podcheck_parse_waive(reference[i], &m, &bad, &n), 0);
		ck_assert_uint_eq(m, 1U << i);
	}
	ck_assert_ptr_null(podcheck_name(PODCHECK_COUNT));
	ck_assert_int_eq(podcheck_parse_waive("caps,,seccomp,", &m, &bad, &n), 0);
	ck_assert_uint_eq(m, (1U << PODCHECK_CAPS) | (1U << PODCHECK_SECCOMP));
	ck_assert_int_eq(podcheck_parse_waive("", &m, &bad, &n), 0);
	ck_assert_uint_eq(m, 0);
	ck_assert_int_eq(podcheck_parse_waive("caps,uid,cpu", &m, &bad, &n), -EINVAL);
	ck_assert_int_eq((int)n, 3);
	ck_assert(strncmp(bad, "uid", n) == 0);
	ck_assert_int_eq(podcheck_parse_waive("cap", &m, &bad, &n), -EINVAL);
	ck_assert_int_eq(podcheck_parse_waive("capss", &m, &bad, &n), -EINVAL);
	ck_assert_int_eq(podcheck_parse_waive("no-new-privs", &m, &bad, &n), -EINVAL);
}
END_TEST

START_TEST(test_parse_status)
{
	/* an excerpt of a real /proc/self/status under podman --cap-drop all
	 * --security-opt no-new-privileges --user 65534 */
	static const char text[] = "Name:\tcat\nUmask:\t0022\nState:\tR (running)\n"
				   "Uid:\t65534\t65534\t65534\t65534\n"
				   "Gid:\t65534\t65534\t65534\t65534\n"
				   "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
				   "CapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\n"
				   "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n"
				   "Seccomp_filters:\t1\n";
	struct podcheck_seen s = {0};

	ck_assert_int_eq(podcheck_parse_status(text, &s), 0);
	ck_assert(s.have_status);
	ck_assert_uint_eq(s.cap_eff, 0);
	ck_assert_uint_eq(s.cap_prm, 0);
	ck_assert_uint_eq(s.cap_bnd, 0xa80425fbULL);
	ck_assert_int_eq(s.no_new_privs, 1);
	ck_assert_int_eq(s.seccomp, 2);
	ck_assert_uint_eq(s.uid[0], 65534);
	ck_assert_uint_eq(s.uid[2], 65534);
	/* "Seccomp_filters" is not "Seccomp"; a missing field, a bad value */
	ck_assert_int_eq(podcheck_parse_status("CapEff:\t0\nCapPrm:\t0\nCapBnd:\t0\nUid:\t1 1 1 1\n"
					       "Seccomp_filters:\t1\n",
					       &s),
			 0);
	ck_assert_int_eq(s.seccomp, -1);
	ck_assert_int_eq(podcheck_parse_status("CapEff:\t0\nCapPrm:\t0\nUid:\t1 1 1 1\n", &s),
			 -ENOENT);
	ck_assert(!s.have_status);
	ck_assert_int_eq(podcheck_parse_status("CapEff:\tzz\nCapPrm:\t0\nCapBnd:\t0\n", &s),
			 -EINVAL);
	ck_assert_int_eq(podcheck_parse_status("CapEff:\t0\nCapPrm:\t0\nCapBnd:\t0\n"
					       "Seccomp:\t7\nUid:\t1 1 1 1\n",
					       &s),
			 -EINVAL);
}
END_TEST

START_TEST(test_parse_limits)
{
	uint64_t a = 1, b = 1;

	ck_assert_int_eq(podcheck_parse_memory("max\n", &a), 0);
	ck_assert_uint_eq(a, 0);
	ck_assert_int_eq(podcheck_parse_memory("301989888\n", &a), 0);
	ck_assert_uint_eq(a, 288ULL << 20);
	ck_assert_int_eq(podcheck_parse_memory("9223372036854771712\n", &a), 0); /* v1 none */
	ck_assert_uint_eq(a, 0);
	ck_assert_int_eq(podcheck_parse_memory("", &a), -EINVAL);
	ck_assert_int_eq(podcheck_parse_memory("12 \n", &a), -EINVAL);
	ck_assert_int_eq(podcheck_parse_memory("12\n13\n", &a), -EINVAL);

	ck_assert_int_eq(podcheck_parse_cpu_max("50000 100000\n", &a, &b), 0);
	ck_assert_uint_eq(a, 50000);
	ck_assert_uint_eq(b, 100000);
	ck_assert_int_eq(podcheck_parse_cpu_max("max 100000\n", &a, &b), 0);
	ck_assert_uint_eq(a, 0);
	ck_assert_int_eq(podcheck_parse_cpu_max("max\n", &a, &b), -EINVAL);
	ck_assert_int_eq(podcheck_parse_cpu_max("5 0\n", &a, &b), -EINVAL);

	ck_assert_int_eq(podcheck_parse_cfs("-1\n", "100000\n", &a, &b), 0);
	ck_assert_uint_eq(a, 0);
	ck_assert_uint_eq(b, 100000);
	ck_assert_int_eq(podcheck_parse_cfs("40000\n", "100000\n", &a, &b), 0);
	ck_assert_uint_eq(a, 40000);
	ck_assert_int_eq(podcheck_parse_cfs("-2\n", "100000\n", &a, &b), -EINVAL);
}
END_TEST

START_TEST(test_env_names)
{
	static const char *const env_c[] = {"FOO=1",
					    "BERTH_POD=1",
					    "BERTH_CONTEXT=/etc/berth/context.json",
					    "KUBERNETES_SERVICE_HOST=10.0.0.1",
					    "HOSTNAME=queue-0",
					    "container=podman",
					    "PATH=/bin",
					    "HOME=/",
					    "TERM=xterm",
					    "MY_PATH=/x",
					    "BERTHA=2",
					    "bad-name=3",
					    "NOEQUALS",
					    "DB_PORT=3306",
					    NULL};
	char **names = NULL, *env[ARRAY_SIZE(env_c)];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(env_c); i++)
		env[i] = env_c[i] ? xstrdup(env_c[i]) : NULL;
	podcheck_env_names(env, &names, &n);
	for (size_t i = 0; i < ARRAY_SIZE(env_c); i++)
		free(env[i]);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(names[0], "FOO");
	ck_assert_str_eq(names[1], "MY_PATH");
	ck_assert_str_eq(names[2], "BERTHA");
	ck_assert_str_eq(names[3], "DB_PORT");
	ck_assert_ptr_null(names[4]);
	strv_free(names);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("podcheck");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_all_held);
	tcase_add_loop_test(tc, test_each_missing, 0, PODCHECK_COUNT);
	tcase_add_test(tc, test_unknown_is_missing);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_waive_names);
	tcase_add_test(tc, test_parse_status);
	tcase_add_test(tc, test_parse_limits);
	tcase_add_test(tc, test_env_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
