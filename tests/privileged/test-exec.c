/* SPDX-License-Identifier: MIT */
/*
 * `berth exec` (cmd_exec) as root on the real kernel: a command runs in the
 * worker's view as its user, in the app root, with its storage (persisting
 * between execs), the app tree read-only, and berth's exit status is the
 * command's.  Everything under /var/tmp, removed afterwards.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "storage.h"
#include "util.h"

#include "looptest.h"

static char S_EXEC[] = "exec", S_SR[] = "--storage-root", S_USER[] = "--user",
	    S_NOBODY[] = "nobody", S_WORKER[] = "queue", S_DASHES[] = "--", S_SH[] = "sh",
	    S_C[] = "-c";
static pid_t main_pid;
static char base[64];
static char *cfg, *sroot, *state;

static const char app_yaml[] = "name: app\n"
			       "type: python:3.11\n"
			       "disk: 16\n"
			       "mounts:\n"
			       "  data: {source: local, source_path: d}\n"
			       "workers:\n"
			       "  queue:\n"
			       "    commands: {start: 'sleep 1000'}\n";

static void setup(void)
{
	snprintf(base, sizeof(base), "/var/tmp/berth-exec-%d-XXXXXX", (int)main_pid);
	ck_assert_ptr_nonnull(mkdtemp(base));
	ck_assert_int_eq(chmod(base, 0755), 0);
	_cleanup_free_ char *app = xasprintf("%s/app", base);
	ck_assert_int_eq(mkdir(app, 0755), 0);
	_cleanup_free_ char *data = xasprintf("%s/app/data", base);
	ck_assert_int_eq(mkdir(data, 0755), 0);
	cfg = xasprintf("%s/.platform.app.yaml", app);
	FILE *f = fopen(cfg, "we");
	ck_assert_ptr_nonnull(f);
	fputs(app_yaml, f);
	fclose(f);
	sroot = xasprintf("%s/storage", base);
	state = xasprintf("%s/state", base);
}

static void teardown(void)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", base);
	ck_assert_int_eq(system(cmd), 0);
	free(cfg);
	free(sroot);
	free(state);
}

static int berth_exec(const char *script)
{
	struct cli_global g = {
		.app_config = cfg,
		.state_dir = state,
		.log_format = LOG_FMT_TEXT,
		.log_level = LOG_LVL_ERROR,
	};
	char *argv[] = {S_EXEC,	  S_SR, sroot, S_USER,	       S_NOBODY, S_WORKER,
			S_DASHES, S_SH, S_C,   (char *)script, NULL};
	return cmd_exec(&g, (int)ARRAY_SIZE(argv) - 1, argv);
}

START_TEST(test_exec)
{
	_cleanup_free_ char *ok = xasprintf(
		"set -e; test \"$(id -u)\" = 65534; test \"$(pwd)\" = '%s/app'; "
		"echo hi > data/f; echo t > /tmp/t; if (echo x > x) 2>/dev/null; then exit 3; fi; "
		"test \"$PLATFORM_APPLICATION_NAME\" = app",
		base);
	ck_assert_int_eq(berth_exec(ok), 0);
	ck_assert_int_eq(berth_exec("set -e; test \"$(cat data/f)\" = hi; test ! -e /tmp/t"), 0);
	ck_assert_int_eq(berth_exec("exit 7"), 7);
}
END_TEST

int main(void)
{
	char sweep[128];

	main_pid = getpid();
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_exec);
	suite_add_tcase(s, tc);
	snprintf(sweep, sizeof(sweep), "/var/tmp/berth-exec-%d-*", (int)main_pid);
	return looptest_main(s, "test-exec", sweep);
}
