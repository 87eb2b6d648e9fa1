/* SPDX-License-Identifier: MIT */
/*
 * spawn_worker() on the real kernel, as root: each placement method
 * (clone3 CLONE_INTO_CGROUP on the v2 path forced; on the host's layout,
 * with the child joining the v1 hierarchies itself on hybrid; v1 forced;
 * the handshake; plain clone3 without a cgroup), each checked in every
 * hierarchy of /proc/self/cgroup, the child's setup
 * (cwd from the dirfd, exact environment, .environment sourced, stdin,
 * session), and the exit statuses of a failing pre-exec step.
 */
#include "config.h"

#include <check.h>
#include <seccomp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgtest.h"
#include "cleanup.h"
#include "spawn.h"
#include "util.h"

static char dir[] = "/tmp/berth-spawn.XXXXXX";
static bool no_clone_into; /* run(): place by the handshake */

static void mkapp(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rmapp(void)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Run script in the app dir with env, placed in cg; return the wait status. */
static int run(const struct cgroup *cg, const char *script, char *const *env,
	       const struct exec_step *steps, size_t n_steps, const char **method)
{
	_cleanup_close_ int cwd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *s = spawn_script(script, SIGTERM);
	struct spawn_opts o = {
		.script = s,
		.envp = env,
		.cwd_fd = cwd,
		.stdin_fd = -1,
		.cg = cg,
		.steps = steps,
		.n_steps = n_steps,
		.no_clone_into = no_clone_into,
	};
	struct spawn_result res;
	int status;

	ck_assert_int_ge(cwd, 0);
	ck_assert_int_eq(spawn_worker(&o, &res), 0);
	ck_assert_int_gt(res.pid, 0);
	ck_assert_int_ge(res.pidfd, 0);
	if (method)
		*method = res.method;
	ck_assert_int_eq(waitpid(res.pid, &status, 0), res.pid);
	close(res.pidfd);
	return status;
}

static char *out(const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
	return slurp_whole(p, true);
}

static char env_foo[] = "FOO=bar baz", env_path[] = "PATH=/usr/bin:/bin";
static char *const env[] = {env_foo, env_path, NULL};

/* Is the line of hierarchy `ctl` ("" for cgroup2) of a /proc/PID/cgroup
 * text in cgroup `name`? */
static bool placed_in(const char *text, const char *ctl, const char *name)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *lines = NULL;

	for (char *l = strtok_r(copy, "\n", &lines); l; l = strtok_r(NULL, "\n", &lines)) {
		/* ID:CONTROLLERS:PATH, CONTROLLERS comma-separated, empty on cgroup2 */
		char *ctls = strchr(l, ':'), *path = ctls ? strchr(ctls + 1, ':') : NULL, *one;
		char *names = NULL;
		bool match;

		if (!path)
			continue;
		*path++ = '\0';
		ctls++;
		match = !*ctl && !*ctls;
		for (one = strtok_r(ctls, ",", &names); *ctl && one;
		     one = strtok_r(NULL, ",", &names))
			match = match || strcmp(one, ctl) == 0;
		if (match)
			return strstr(path, name) != NULL;
	}
	return false;
}

/* The child's /proc/self/cgroup names the instance in each of its
 * hierarchies. */
static void assert_placed(const char *text, const struct cgroup *cg, const char *name)
{
	static const char *const v1_name[CG_V1_COUNT] = {
		[CG_V1_FREEZER] = "freezer",
		[CG_V1_MEMORY] = "memory",
		[CG_V1_CPU] = "cpu",
		[CG_V1_PIDS] = "pids",
	};

	ck_assert_ptr_nonnull(text);
	if (cg->v2_fd >= 0)
		ck_assert_msg(placed_in(text, "", name), "not in cgroup2 %s:\n%s", name, text);
	for (int i = 0; i < CG_V1_COUNT; i++)
		if (cg->v1_fd[i] >= 0)
			ck_assert_msg(placed_in(text, v1_name[i], name), "not in v1 %s %s:\n%s",
				      v1_name[i], name, text);
}

static void placement(enum cgroup_mode force, const char *want_method)
{
	_cleanup_free_ char *name = tname("spawn");
	struct cgroup_layout l;
	struct cgroup cg;
	const char *method = NULL;

	setup();
	mkapp();
	layout(&l, force);
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	int st = run(&cg, "cat /proc/self/cgroup > cgroup", env, NULL, 0, &method);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(method, want_method);
	_cleanup_free_ char *text = out("cgroup");
	assert_placed(text, &cg, name);
	ck_assert(reap_until_empty(&cg, 2000));
	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	cgroup_release(&cg);
	cgroup_layout_free(&l);
	rmapp();
}

START_TEST(test_clone_into_cgroup)
{
	placement(CGROUP_MODE_V2, "clone3+cgroup");
}
END_TEST

/* The host's layout: on hybrid, cgroup2 by CLONE_INTO_CGROUP and the v1
 * hierarchies joined by the child itself. */
START_TEST(test_host_layout)
{
	struct cgroup_layout l;

	layout(&l, CGROUP_MODE_NONE);
	enum cgroup_mode m = l.mode;
	cgroup_layout_free(&l);
	placement(CGROUP_MODE_NONE, m == CGROUP_MODE_V2	  ? "clone3+cgroup"
				    : m == CGROUP_MODE_V1 ? "clone3+tasks"
							  : "clone3+cgroup+tasks");
}
END_TEST

/* v1 only: no cgroup2 directory, the child joins every hierarchy itself. */
START_TEST(test_v1_join)
{
	placement(CGROUP_MODE_V1, "clone3+tasks");
}
END_TEST

/* The handshake (used after cgroup.kill, or where CLONE_INTO_CGROUP is
 * refused): berth moves the waiting child into every hierarchy. */
START_TEST(test_handshake)
{
	no_clone_into = true;
	placement(CGROUP_MODE_NONE, "clone3+handshake");
	no_clone_into = false;
}
END_TEST

/* After cgroup.kill, a child cloned straight into the cgroup is SIGKILLed
 * by this kernel; berth then places restarts by handshake, which works. */
START_TEST(test_after_cgroup_kill)
{
	_cleanup_free_ char *name = tname("killed");
	_cleanup_close_ int cwd = -1;
	struct cgroup_layout l;
	struct cgroup cg;
	size_t n;
	int st;

	setup();
	mkapp();
	cwd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	layout(&l, CGROUP_MODE_V2);
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	st = run(&cg, "true", env, NULL, 0, NULL);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(cgroup_kill_all(&cg, &n), 0);

	_cleanup_free_ char *s = spawn_script("exit 3", SIGTERM);
	struct spawn_opts o = {.script = s,
			       .envp = env,
			       .cwd_fd = cwd,
			       .stdin_fd = -1,
			       .cg = &cg,
			       .no_clone_into = true};
	struct spawn_result res;
	ck_assert_int_eq(spawn_worker(&o, &res), 0);
	ck_assert_str_eq(res.method, "clone3+handshake");
	ck_assert_int_eq(waitpid(res.pid, &st, 0), res.pid);
	close(res.pidfd);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 3);

	o.no_clone_into = false;
	ck_assert_int_eq(spawn_worker(&o, &res), 0);
	ck_assert_int_eq(waitpid(res.pid, &st, 0), res.pid);
	close(res.pidfd);
	if (WIFSIGNALED(st))
		fprintf(stderr, "note: CLONE_INTO_CGROUP after cgroup.kill: child killed by %d\n",
			WTERMSIG(st));
	ck_assert(reap_until_empty(&cg, 2000));
	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	cgroup_release(&cg);
	cgroup_layout_free(&l);
	rmapp();
}
END_TEST

/* clone3 filtered out (as Docker's default seccomp profile does, with
 * ENOSYS): fork + pidfd_open, placed by the handshake. */
START_TEST(test_fork_fallback)
{
	_cleanup_free_ char *name = tname("fork");
	struct cgroup_layout l;
	struct cgroup cg;
	const char *method = NULL;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0), 0);
	ck_assert_int_eq(seccomp_load(ctx), 0); /* this forked test process only */
	seccomp_release(ctx);
	setup();
	mkapp();
	layout(&l, CGROUP_MODE_NONE);
	ck_assert_int_eq(cgroup_create(&l, NULL, name, &cg), 0);
	int st = run(&cg, "cat /proc/self/cgroup > cgroup", env, NULL, 0, &method);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(method, l.mode == CGROUP_MODE_V1 ? "fork+tasks" : "fork");
	_cleanup_free_ char *text = out("cgroup");
	assert_placed(text, &cg, name);
	ck_assert(reap_until_empty(&cg, 2000));
	ck_assert_int_eq(cgroup_destroy(&cg), 0);
	cgroup_release(&cg);
	cgroup_layout_free(&l);
	rmapp();
}
END_TEST

START_TEST(test_child_setup)
{
	const char *method = NULL;

	mkapp();
	_cleanup_free_ char *envfile = xasprintf("%s/.environment", dir);
	FILE *f = fopen(envfile, "w");
	ck_assert_ptr_nonnull(f);
	fputs("export FROM_ENVIRONMENT=yes\n", f);
	fclose(f);
	int st = run(NULL,
		     "pwd -P > cwd\n"
		     "env | grep -v '^PWD=' | sort > env\n"
		     "readlink /proc/self/fd/0 > stdin\n"
		     "cut -d' ' -f6 /proc/$$/stat > sid; echo $$ > pid\n"
		     "exit 7",
		     env, NULL, 0, &method);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 7);
	ck_assert_str_eq(method, "clone3");
	_cleanup_free_ char *cwd = out("cwd"), *e = out("env"), *in = out("stdin");
	_cleanup_free_ char *sid = out("sid"), *pid = out("pid");
	_cleanup_free_ char *want_cwd = xasprintf("%s\n", dir);
	ck_assert_str_eq(cwd, want_cwd);
	ck_assert_str_eq(e, "FOO=bar baz\nFROM_ENVIRONMENT=yes\nPATH=/usr/bin:/bin\n");
	ck_assert_str_eq(in, "/dev/null\n");
	ck_assert_str_eq(sid, pid); /* session leader */
	ck_assert_str_ne(sid, "");
	rmapp();
}
END_TEST

static int fail_step(void *data)
{
	return -*(int *)data;
}

START_TEST(test_failures)
{
	int err = EPERM;
	struct exec_step steps[] = {{"a test step", fail_step, &err}};

	mkapp();
	/* A pre-exec step fails: 125, nothing of the script runs. */
	int st = run(NULL, "touch ran", env, steps, 1, NULL);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 125);
	_cleanup_free_ char *p = xasprintf("%s/ran", dir);
	ck_assert(!exists(p));
	/* Command not found / not executable: the shell's 127 / 126. */
	st = run(NULL, "./nonexistent", env, NULL, 0, NULL);
	ck_assert_int_eq(WEXITSTATUS(st), 127);
	_cleanup_free_ char *x = xasprintf("%s/noexec", dir);
	close(open(x, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	st = run(NULL, "./noexec", env, NULL, 0, NULL);
	ck_assert_int_eq(WEXITSTATUS(st), 126);
	rmapp();
}
END_TEST

START_TEST(test_script)
{
	_cleanup_free_ char *s = spawn_script("exec x", SIGHUP);

	ck_assert_str_eq(s, "trap : USR1 USR2 WINCH QUIT\n"
			    "if [ -r ./.environment ]; then . ./.environment; fi\n"
			    "exec x");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("spawn");
	TCase *tc = tcase_create("spawn");

	tcase_add_test(tc, test_script);
	tcase_add_test(tc, test_clone_into_cgroup);
	tcase_add_test(tc, test_host_layout);
	tcase_add_test(tc, test_handshake);
	tcase_add_test(tc, test_fork_fallback);
	tcase_add_test(tc, test_after_cgroup_kill);
	tcase_add_test(tc, test_child_setup);
	tcase_add_test(tc, test_failures);
	struct cgroup_layout l;
	if (cgroup_detect(&l) == 0 && l.v1_mnt[CG_V1_FREEZER]) /* v1 can be forced */
		tcase_add_test(tc, test_v1_join);
	cgroup_layout_free(&l);
	suite_add_tcase(s, tc);
	return cgtest_main(s);
}
