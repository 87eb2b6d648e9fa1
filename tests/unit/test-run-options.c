/* SPDX-License-Identifier: MIT */
/*
 * `berth run`'s options (run-options.c): each spelling parsed by the one
 * table, its value where the run takes it from, bad values refused with
 * the usage status; the environment twins fill only what the command
 * line left; every option and twin is in --help.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "exitcodes.h"
#include "run-options.h"

/* A modifiable string, as getopt_long() wants argv. */
#define S(s) ((char[]){s})

static struct run_cli rc;

static void setup(void)
{
	memset(&rc, 0, sizeof(rc));
	run_opts_init(&rc.o);
}

static void teardown(void)
{
	strv_free(rc.pass);
	strv_free(rc.ro_binds);
	sandbox_opts_free(&rc.so);
}

static void good(const char *name, const char *value)
{
	ck_assert_msg(run_cli_set(&rc, name, value) == CMD_CONTINUE, "--%s %s refused", name,
		      value ? value : "");
}

static void bad(const char *name, const char *value)
{
	ck_assert_msg(run_cli_set(&rc, name, value) == BERTH_EXIT_USAGE, "--%s %s accepted", name,
		      value ? value : "");
}

START_TEST(test_policy)
{
	const struct supervise_policy *p = &rc.o.policy;

	good("stop-timeout", "300ms");
	ck_assert_uint_eq(p->stop_timeout_ms, 300);
	good("stop-timeout", "20");
	ck_assert_uint_eq(p->stop_timeout_ms, 20000);
	good("stop-timeout", "0");
	bad("stop-timeout", "soon");
	bad("stop-timeout", "25h");
	good("restart-min", "1s");
	ck_assert_uint_eq(p->restart_min_ms, 1000);
	bad("restart-min", "0");
	good("restart-max", "2m");
	ck_assert_uint_eq(p->restart_max_ms, 120000);
	good("restart-reset", "1m");
	ck_assert_uint_eq(p->restart_reset_ms, 60000);
	good("restart-window", "30s");
	ck_assert_uint_eq(p->restart_window_ms, 30000);
	good("stop-signal", "SIGINT");
	ck_assert_int_eq(p->stop_signal, SIGINT);
	bad("stop-signal", "KILL");
	bad("stop-signal", "STOP");
	good("kill-mode", "process");
	ck_assert_int_eq(p->kill_mode, SUP_KILL_PROCESS);
	bad("kill-mode", "all");
	good("leftover", "restart");
	ck_assert_int_eq(p->leftover, SUP_LEFTOVER_RESTART);
	bad("leftover", "keep");
	good("max-restarts", "5");
	ck_assert_int_eq(p->max_restarts, 5);
	bad("max-restarts", "1001");
	bad("max-restarts", "-1");
	good("stop-on-quit", NULL);
	ck_assert(p->quit_stops);
	bad("stop-timeout", NULL); /* needs a value */
	bad("no-such", "1");
}
END_TEST

START_TEST(test_limits_and_view)
{
	good("memory", "1G");
	ck_assert_uint_eq(rc.lo.memory_bytes, 1ULL << 30);
	bad("memory", "1M");
	good("cpus", "0.5");
	ck_assert_uint_eq(rc.lo.cpu_milli, 500);
	bad("cpus", "0");
	good("pids-max", "max");
	ck_assert(rc.lo.no_pids_max);
	good("pids-max", "77");
	ck_assert_uint_eq(rc.lo.pids_max, 77);
	bad("pids-max", "0");
	good("auto-size", "L");
	ck_assert(rc.lo.have_auto_size);
	bad("auto-size", "AUTO");
	good("allow-missing-controllers", NULL);
	ck_assert(rc.lo.allow_missing);
	good("no-cgroup", NULL);
	ck_assert(rc.o.no_cgroup);
	good("cgroup-parent", "a/b");
	ck_assert_str_eq(rc.o.cgroup_parent, "a/b");
	good("storage-root", "/s");
	ck_assert_str_eq(rc.vo.storage_root, "/s");
	bad("storage-root", "rel");
	good("require-disk-quota", NULL);
	ck_assert(rc.vo.require_quota);
	good("tmp-size", "2G");
	ck_assert_uint_eq(rc.tmp_size, 2ULL << 30);
	bad("tmp-size", "1K");
	good("ro-bind", "/usr");
	good("ro-bind", "/etc");
	ck_assert_uint_eq(rc.n_ro_binds, 2);
	bad("ro-bind", "rel");
	bad("ro-bind", "/a/../b");
	good("pass-env", "A");
	good("pass-env", "B,C");
	ck_assert_uint_eq(rc.npass, 3);
	good("unconfined", NULL);
	ck_assert(rc.unconfined);
}
END_TEST

START_TEST(test_sandbox)
{
	good("network", "netns:/run/netns/a");
	ck_assert_int_eq(rc.so.net.mode, NET_NETNS);
	good("network", "none");
	ck_assert_int_eq(rc.so.net.mode, NET_NONE);
	bad("network", "bogus");
	bad("network", "netns:");
	good("seccomp", "off");
	ck_assert(rc.so.filter.off);
	good("seccomp", "on");
	ck_assert(!rc.so.filter.off);
	bad("seccomp", "no");
	good("allow-local-listen", NULL);
	ck_assert(rc.so.filter.allow_local_listen);
	good("user", "1000:1000");
	ck_assert_str_eq(rc.so.user, "1000:1000");
	bad("user", "");
}
END_TEST

static const char *const twins[] = {
	"BERTH_NETWORK",   "BERTH_USER",     "BERTH_SECCOMP", "BERTH_STOP_TIMEOUT",
	"BERTH_KILL_MODE", "BERTH_PASS_ENV", "BERTH_RO_BIND", "BERTH_ALLOW_LOCAL_LISTEN",
	"BERTH_NO_CGROUP"};

static void twins_unset(void)
{
	for (size_t i = 0; i < sizeof(twins) / sizeof(twins[0]); i++)
		unsetenv(twins[i]);
}

/* What show reads: every twin but BERTH_PASS_ENV, which is run's. */
START_TEST(test_twins)
{
	twins_unset();
	setenv("BERTH_NETWORK", "private", 1);
	setenv("BERTH_USER", "nobody", 1);
	setenv("BERTH_SECCOMP", "off", 1);
	setenv("BERTH_STOP_TIMEOUT", "3s", 1);
	setenv("BERTH_KILL_MODE", "mixed", 1);
	setenv("BERTH_PASS_ENV", "A,B", 1);
	setenv("BERTH_RO_BIND", "/usr:/etc", 1);
	setenv("BERTH_ALLOW_LOCAL_LISTEN", "yes", 1); /* only "1" counts */
	setenv("BERTH_NO_CGROUP", "1", 1);
	ck_assert_int_eq(run_env_twins_apply(&rc, NULL), CMD_CONTINUE);
	ck_assert_int_eq(rc.so.net.mode, NET_PRIVATE);
	ck_assert_str_eq(rc.so.user, "nobody");
	ck_assert(rc.so.filter.off);
	ck_assert_uint_eq(rc.o.policy.stop_timeout_ms, 3000);
	ck_assert_int_eq(rc.o.policy.kill_mode, SUP_KILL_MIXED);
	ck_assert_uint_eq(rc.npass, 0);
	ck_assert_uint_eq(rc.n_ro_binds, 2);
	ck_assert(!rc.so.filter.allow_local_listen);
	ck_assert(rc.o.no_cgroup);
	setenv("BERTH_NETWORK", "nowhere", 1);
	ck_assert_int_eq(run_env_twins_apply(&rc, NULL), BERTH_EXIT_USAGE);
	twins_unset();
}
END_TEST

/* The command line wins over the twins; run reads BERTH_PASS_ENV. */
START_TEST(test_parse)
{
	char *argv[] = {S("run"),	 S("--network"), S("none"),  S("--stop-timeout=1s"),
			S("--pass-env"), S("X"),	 S("queue"), NULL};
	int wi = 0;

	twins_unset();
	setenv("BERTH_NETWORK", "bogus", 1);
	setenv("BERTH_STOP_TIMEOUT", "bogus", 1);
	setenv("BERTH_KILL_MODE", "process", 1);
	setenv("BERTH_PASS_ENV", "A,B", 1);
	ck_assert_int_eq(cmd_run_parse(7, argv, &rc, &wi), CMD_CONTINUE);
	ck_assert_int_eq(wi, 6);
	ck_assert_int_eq(rc.so.net.mode, NET_NONE);
	ck_assert_uint_eq(rc.o.policy.stop_timeout_ms, 1000);
	ck_assert_int_eq(rc.o.policy.kill_mode, SUP_KILL_PROCESS);
	ck_assert_uint_eq(rc.npass, 1);
	ck_assert_str_eq(rc.pass[0], "X");
	twins_unset();
}
END_TEST

START_TEST(test_parse_errors)
{
	char *order[] = {S("run"), S("--restart-min"), S("2s"), S("--restart-max"),
			 S("1s"),  S("queue"),	       NULL};
	char *two[] = {S("run"), S("queue"), S("mail"), NULL};
	char *none[] = {S("run"), NULL};
	char *unknown[] = {S("run"), S("--nope"), S("queue"), NULL};
	char *value[] = {S("run"), S("--memory"), NULL};
	int wi = 0;

	twins_unset();
	ck_assert_int_eq(cmd_run_parse(6, order, &rc, &wi), BERTH_EXIT_USAGE);
	ck_assert_int_eq(cmd_run_parse(3, two, &rc, &wi), BERTH_EXIT_USAGE);
	ck_assert_int_eq(cmd_run_parse(1, none, &rc, &wi), BERTH_EXIT_USAGE);
	ck_assert_int_eq(cmd_run_parse(3, unknown, &rc, &wi), BERTH_EXIT_USAGE);
	ck_assert_int_eq(cmd_run_parse(2, value, &rc, &wi), BERTH_EXIT_USAGE);
	ck_assert_int_eq(wi, 0);
}
END_TEST

/* Pod mode refuses each option that shapes berth's own box, and keeps
 * those of the supervision and the limits it checks. */
START_TEST(test_pod_conflicts)
{
	static const char *const refused[][2] = {
		{"--unconfined", NULL},		{"--no-cgroup", NULL},
		{"--cgroup-parent", "x"},	{"--network", "none"},
		{"--user", "nobody"},		{"--seccomp", "off"},
		{"--allow-local-listen", NULL}, {"--storage-root", "/srv"},
		{"--require-disk-quota", NULL}, {"--tmp-size", "64M"},
		{"--ro-bind", "/etc"},
	};
	int wi = 0;

	twins_unset();
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char *argv[] = {S("run"),
				S("--pod"),
				(char *)refused[i][0],
				(char *)(refused[i][1] ? refused[i][1] : "queue"),
				S("queue"),
				NULL};
		int argc = refused[i][1] ? 5 : 4;

		teardown();
		setup();
		ck_assert_msg(cmd_run_parse(argc, argv, &rc, &wi) == BERTH_EXIT_USAGE,
			      "--pod %s accepted", refused[i][0]);
	}
	{
		char *argv[] = {S("run"), S("--pod"), S("--memory"), S("1G"), S("--stop-timeout"),
				S("3s"),  S("queue"), NULL};

		teardown();
		setup();
		ck_assert_int_eq(cmd_run_parse(7, argv, &rc, &wi), CMD_CONTINUE);
		ck_assert(rc.pod);
	}
}
END_TEST

/* Every option of the table and its twin in --help, and every option
 * --help names in the table. */
START_TEST(test_help)
{
	const char *name, *env, *p;
	size_t n = 0;

	for (size_t i = 0; run_cli_option(i, &name, &env); i++, n++) {
		char *opt = xasprintf("  --%s ", name), *flag = xasprintf("  --%s\n", name);

		ck_assert_msg(strstr(cmd_run_help_text, opt) || strstr(cmd_run_help_text, flag),
			      "--%s is not in run --help", name);
		ck_assert_msg(!env || strstr(cmd_run_help_text, env), "%s is not in run --help",
			      env ? env : "");
		free(opt);
		free(flag);
	}
	for (p = cmd_run_help_text; (p = strstr(p, "\n  --")); p += 5) {
		size_t len = strcspn(p + 5, " \n");
		bool found = false;

		for (size_t i = 0; run_cli_option(i, &name, &env); i++)
			found |= strlen(name) == len && strncmp(name, p + 5, len) == 0;
		ck_assert_msg(found, "run --help names --%.*s, not in the table", (int)len, p + 5);
		n--;
	}
	ck_assert_uint_eq(n, 1); /* the first line has no "\n" before it */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("run-options");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_policy);
	tcase_add_test(tc, test_limits_and_view);
	tcase_add_test(tc, test_sandbox);
	tcase_add_test(tc, test_twins);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_pod_conflicts);
	tcase_add_test(tc, test_help);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
