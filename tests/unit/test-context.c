/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the runtime context: the strict context file, the
 * defaults, the project id and entropy kept in the state directory, and
 * the git tree id.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context.h"
#include "util.h"

static int parse(const char *text, struct context *ctx)
{
	json_t *j = json_loads(text, JSON_ALLOW_NUL, NULL);
	int r;

	ck_assert_msg(j != NULL, "bad test JSON: %s", text);
	memset(ctx, 0, sizeof(*ctx));
	r = context_parse(j, "ctx.json", ctx);
	json_decref(j);
	return r;
}

START_TEST(test_parse_full)
{
	struct context c;

	ck_assert_int_eq(
		parse("{\"project\": \"abcdef1234567\", \"entropy\": \"E\","
		      " \"tree_id\": \"9851a01081f3c2f943f75f62c38b67f8bc0ec15c\","
		      " \"branch\": \"feature/x\", \"environment\": \"feature-x-t6dnbai\","
		      " \"environment_type\": \"staging\", \"smtp_host\": \"10.0.0.9\","
		      " \"app_dir\": \"/app\","
		      " \"routes\": {\"https://example.com/\": {\"primary\": true}},"
		      " \"variables\": {\"env:FOO\": \"bar\", \"stuff:x\": [1]},"
		      " \"services\": {\"mysqldb\": {\"ip\": \"10.0.0.2\", \"port\": 3306,"
		      "   \"instance_ips\": [\"10.0.0.2\"], \"query\": {\"is_master\": true},"
		      "   \"endpoints\": {\"mysql\": {\"password\": \"pw\"}}}},"
		      " \"relationships\": {\"database\": {\"host\": \"db\", \"public\": false,"
		      "   \"username\": null, \"epoch\": 3}}}",
		      &c),
		0);
	ck_assert_str_eq(c.project, "abcdef1234567");
	ck_assert_str_eq(c.entropy, "E");
	ck_assert_str_eq(c.branch, "feature/x");
	ck_assert_str_eq(c.environment, "feature-x-t6dnbai");
	ck_assert_str_eq(c.environment_type, "staging");
	ck_assert_str_eq(c.smtp_host, "10.0.0.9");
	ck_assert_str_eq(c.app_dir, "/app");
	ck_assert_uint_eq(json_object_size(c.routes), 1);
	ck_assert_uint_eq(json_object_size(c.variables), 2);
	ck_assert_ptr_nonnull(json_object_get(c.services, "mysqldb"));
	ck_assert_ptr_nonnull(json_object_get(c.relationships, "database"));
	context_defaults(&c); /* keeps what was given */
	ck_assert_str_eq(c.branch, "feature/x");
	ck_assert_str_eq(c.environment, "feature-x-t6dnbai");
	context_free(&c);

	/* An empty SMTP host, or null, means no mail. */
	ck_assert_int_eq(parse("{\"smtp_host\": \"\"}", &c), 0);
	ck_assert_ptr_null(c.smtp_host);
	context_free(&c);
	ck_assert_int_eq(parse("{\"smtp_host\": null}", &c), 0);
	ck_assert_ptr_null(c.smtp_host);
	context_free(&c);
}
END_TEST

START_TEST(test_parse_strict)
{
	static const char *const bad[] = {
		"[]",
		"{\"projects\": \"x\"}",
		"{\"project\": 5}",
		"{\"project\": \"\"}",
		"{\"project\": \"../etc\"}",
		"{\"environment\": \"a/b\"}",
		"{\"entropy\": \"a\\nb\"}",
		"{\"entropy\": \"a\\u0000b\"}",
		"{\"tree_id\": \"abc\"}",
		"{\"tree_id\": \"9851A01081F3C2F943F75F62C38B67F8BC0EC15C\"}",
		"{\"environment_type\": \"prod\"}",
		"{\"branch\": true}",
		"{\"smtp_host\": 25}",
		"{\"app_dir\": \"app\"}",
		"{\"routes\": []}",
		"{\"variables\": {\"nocolon\": 1}}",
		"{\"variables\": {\":x\": 1}}",
		"{\"variables\": []}",
		"{\"services\": {\"s\": []}}",
		"{\"services\": {\"s\": {\"port\": \"3306\"}}}",
		"{\"services\": {\"s\": {\"port\": 70000}}}",
		"{\"services\": {\"s\": {\"bogus\": 1}}}",
		"{\"services\": {\"s\": {\"instance_ips\": [1]}}}",
		"{\"services\": {\"s\": {\"endpoints\": {\"e\": {\"endpoints\": {}}}}}}",
		"{\"services\": {\"s\": {\"endpoints\": []}}}",
		"{\"relationships\": {\"r\": {\"endpoints\": {}}}}",
		"{\"relationships\": {\"r\": {\"public\": \"no\"}}}",
		"{\"relationships\": {\"r\": {\"query\": []}}}",
		"{\"relationships\": {\"r\": {\"username\": 1}}}",
	};
	struct context c;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_msg(parse(bad[i], &c) == -EINVAL, "accepted: %s", bad[i]);
		context_free(&c);
	}
}
END_TEST

START_TEST(test_environment_name)
{
	const char *entropy = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij";
	char *a = context_environment_name("main", entropy);
	char *b = context_environment_name("main", entropy);
	char *c = context_environment_name("Feature/Foo_Bar", entropy);
	char *d = context_environment_name("main", "other");
	char *e = context_environment_name("///", entropy);

	/* Fixed forever: the name keys each instance's storage. */
	ck_assert_str_eq(a, "main-ubz7sqn");
	ck_assert_str_eq(a, b);
	ck_assert_uint_eq(strlen(c), strlen("feature-foo-bar-") + 7);
	ck_assert(str_has_prefix(c, "feature-foo-bar-"));
	ck_assert_str_ne(a, d);
	ck_assert(str_has_prefix(e, "env-"));
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
}
END_TEST

START_TEST(test_defaults)
{
	struct context c = {.project = xstrdup("p"), .entropy = xstrdup("e")};

	context_defaults(&c);
	ck_assert_str_eq(c.branch, "main");
	ck_assert(str_has_prefix(c.environment, "main-"));
	ck_assert_uint_eq(strlen(c.environment), 12);
	ck_assert_str_eq(c.environment_type, "development");
	ck_assert(json_is_object(c.routes));
	ck_assert_uint_eq(json_object_size(c.routes), 0);
	ck_assert_ptr_null(c.smtp_host);
	context_free(&c);
}
END_TEST

static char *tmpdir(void)
{
	char *d = xstrdup("/tmp/test-context-XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

static void rmrf(const char *d)
{
	char *cmd = xasprintf("rm -rf '%s'", d);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static bool alnum_len(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

START_TEST(test_state_project)
{
	char *d = tmpdir();
	char *state = xasprintf("%s/state", d);
	char *p1, *e1, *p2, *e2;

	/* Created once (with the state directory), then read back. */
	ck_assert_int_eq(context_state_project(state, &p1, &e1), 0);
	ck_assert(alnum_len(p1, 13));
	ck_assert(alnum_len(e1, 56));
	ck_assert_int_eq(context_state_project(state, &p2, &e2), 0);
	ck_assert_str_eq(p1, p2);
	ck_assert_str_eq(e1, e2);
	free(p2);
	free(e2);

	char *file = xasprintf("%s/%s", state, CONTEXT_PROJECT_FILE);
	struct stat st;

	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);

	/* Another directory, another project. */
	char *state2 = xasprintf("%s/state2", d);
	char *p3, *e3;

	ck_assert_int_eq(context_state_project(state2, &p3, &e3), 0);
	ck_assert_str_ne(p1, p3);

	/* A corrupt file is refused, not silently replaced. */
	FILE *f = fopen(file, "w");

	fputs("{\"project\": \"short\", \"entropy\": \"x\"}", f);
	fclose(f);
	ck_assert_int_eq(context_state_project(state, &p2, &e2), -EINVAL);

	/* A symlink is not followed. */
	unlink(file);
	ck_assert_int_eq(symlink("/etc/passwd", file), 0);
	ck_assert_int_lt(context_state_project(state, &p2, &e2), 0);

	/* No parent directory: a clear error. */
	char *deep = xasprintf("%s/no/such/dir", d);

	ck_assert_int_eq(context_state_project(deep, &p2, &e2), -ENOENT);

	rmrf(d);
	free(p1);
	free(e1);
	free(p3);
	free(e3);
	free(file);
	free(state);
	free(state2);
	free(deep);
	free(d);
}
END_TEST

START_TEST(test_git_tree)
{
	if (access(CONTEXT_GIT, X_OK) < 0) {
		/* no git on this machine: nothing to compare with; said, and a
		 * failure where nothing may be skipped */
		const char *strict = getenv("BERTH_STRICT");
		ck_assert_msg(!strict || strcmp(strict, "1") != 0,
			      "no %s (BERTH_STRICT=1 forbids skipping)", CONTEXT_GIT);
		fprintf(stderr, "test_git_tree: SKIPPED: no %s\n", CONTEXT_GIT);
		return;
	}
	char *d = tmpdir();
	char *cmd = xasprintf("cd '%s' && mkdir app && echo hi > app/f && echo top > g && "
			      "git init -q . && git add . && "
			      "git -c user.name=t -c user.email=t@t commit -q -m m && "
			      "git rev-parse HEAD:app > want && git rev-parse HEAD:./ > want-top",
			      d);

	ck_assert_int_eq(system(cmd), 0);
	char *app = xasprintf("%s/app", d);
	char *tree = NULL, *want = xasprintf("%s/want", d), buf[80] = "";
	FILE *f = fopen(want, "r");

	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	struct context_git cg = {.git = CONTEXT_GIT, .app_dir = app}; /* no cache */

	ck_assert_int_eq(context_tree_id(&cg, &tree), 0);
	/* The app directory's own tree, not the repository's. */
	ck_assert_str_eq(tree, buf);
	free(tree);

	ck_assert_int_eq(context_git_tree(CONTEXT_GIT, app, "HEAD:./", &tree), 0);
	ck_assert_str_eq(tree, buf);
	free(tree);
	cg.git = "/nonexistent/git";
	ck_assert_int_eq(context_tree_id(&cg, &tree), -ENOENT);
	char *plain = tmpdir();

	cg.git = CONTEXT_GIT;
	cg.app_dir = plain;
	ck_assert_int_eq(context_tree_id(&cg, &tree), -ENOENT);
	rmrf(plain);
	rmrf(d);
	free(plain);
	free(app);
	free(want);
	free(cmd);
	free(d);
}
END_TEST

START_TEST(test_load)
{
	char *d = tmpdir();
	char *file = xasprintf("%s/ctx.json", d);
	char *state = xasprintf("%s/state", d);
	FILE *f = fopen(file, "w");
	struct context c;

	fputs("{\"project\": \"abcdef1234567\", \"entropy\": \"x\", \"branch\": \"master\"}", f);
	fclose(f);
	struct context_options o = {
		.file = file, .state_dir = state, .app_dir = d, .git = "/nonexistent/git"};

	ck_assert_int_eq(context_load(&o, &c), 0);
	ck_assert_str_eq(c.project, "abcdef1234567");
	ck_assert_str_eq(c.branch, "master");
	ck_assert(str_has_prefix(c.environment, "master-"));
	ck_assert_str_eq(c.tree_id, CONTEXT_DEFAULT_TREE_ID);
	/* The context gave project and entropy: the state directory is untouched. */
	ck_assert_int_eq(access(state, F_OK), -1);
	context_free(&c);

	/* Without a file everything has a default. */
	o.file = NULL;
	ck_assert_int_eq(context_load(&o, &c), 0);
	ck_assert(alnum_len(c.project, 13));
	ck_assert_str_eq(c.branch, "main");
	ck_assert_str_eq(c.environment_type, "development");
	context_free(&c);

	/* Errors name the file; a missing file is an error. */
	f = fopen(file, "w");
	fputs("{\"project\": \"abcdef1234567\", \"extra\": 1}", f);
	fclose(f);
	o.file = file;
	ck_assert_int_eq(context_load(&o, &c), -EINVAL);
	f = fopen(file, "w");
	fputs("{\"project\": \"a\", \"project\": \"b\"}", f);
	fclose(f);
	ck_assert_int_eq(context_load(&o, &c), -EINVAL);
	f = fopen(file, "w");
	fputs("{", f);
	fclose(f);
	ck_assert_int_eq(context_load(&o, &c), -EINVAL);
	o.file = "/nonexistent/ctx.json";
	ck_assert_int_eq(context_load(&o, &c), -ENOENT);
	o.file = d;
	ck_assert_int_eq(context_load(&o, &c), -EINVAL);

	rmrf(d);
	free(file);
	free(state);
	free(d);
}
END_TEST

/* Only a regular file (a symlink to one included) is read; a FIFO is
 * refused at once, not waited on (check's 4 s timeout fails a hang). */
START_TEST(test_load_not_regular)
{
	char *d = tmpdir();
	char *file = xasprintf("%s/ctx.json", d);
	char *link = xasprintf("%s/link.json", d);
	char *fifo = xasprintf("%s/fifo", d);
	FILE *f = fopen(file, "w");
	struct context_options o = {.state_dir = d, .app_dir = d, .git = "/nonexistent/git"};
	struct context c;

	fputs("{\"project\": \"abcdef1234567\", \"entropy\": \"x\"}", f);
	fclose(f);
	ck_assert_int_eq(symlink(file, link), 0);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);

	o.file = link; /* how Kubernetes mounts a secret */
	ck_assert_int_eq(context_load(&o, &c), 0);
	ck_assert_str_eq(c.project, "abcdef1234567");
	context_free(&c);
	o.file = fifo;
	ck_assert_int_eq(context_load(&o, &c), -EINVAL);
	o.file = "/dev/null";
	ck_assert_int_eq(context_load(&o, &c), -EINVAL);
	o.file = d;
	ck_assert_int_eq(context_load(&o, &c), -EINVAL);

	rmrf(d);
	free(file);
	free(link);
	free(fifo);
	free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("context");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_parse_full);
	tcase_add_test(tc, test_parse_strict);
	tcase_add_test(tc, test_environment_name);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_state_project);
	tcase_add_test(tc, test_git_tree);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_load_not_regular);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
