/* SPDX-License-Identifier: MIT */
/*
 * The worker environment from the real YAML: the seed example of
 * contrib/examples and the two seed configurations of tests/data/seed,
 * loaded through app_load() and app_resolve(), with a fixed context.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "context.h"
#include "env.h"
#include "envtest.h"
#include "pyjson.h"
#include "util.h"

#define EXAMPLE TEST_DATA_DIR "/../../contrib/examples/.platform.app.yaml"
#define SEED	TEST_DATA_DIR "/seed"

static void fixed_context(struct context *c)
{
	memset(c, 0, sizeof(*c));
	c->project = xstrdup("abcdefgh12345");
	c->entropy = xstrdup("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij");
	c->tree_id = xstrdup("9851a01081f3c2f943f75f62c38b67f8bc0ec15c");
	c->environment = xstrdup("main-abcd123");
	c->app_dir = xstrdup("/app");
	context_defaults(c);
}

/* The environment of worker in file, with the fixed context. */
static char **env_of(const char *file, const char *worker)
{
	struct app_locator loc = {.app_config = file};
	struct app app;
	struct worker w;
	struct diags d = {0};
	struct context c;
	struct env_options o = {0};
	char **envp = NULL;

	ck_assert_int_eq(app_load(&loc, &app, &d), 0);
	ck_assert_int_eq(app_resolve(&app, worker, &w, &d), 0);
	fixed_context(&c);
	ck_assert_int_eq(env_build(&app, &w, &c, &o, &envp), 0);
	context_free(&c);
	worker_free(&w);
	app_free(&app);
	diags_free(&d);
	return envp;
}

START_TEST(test_example_queue)
{
	char **envp = env_of(EXAMPLE, "queue");
	json_t *rels = envtest_get_json(envp, "PLATFORM_RELATIONSHIPS");
	char *s;

	ck_assert_str_eq(envtest_get(envp, "TYPE"), "worker");
	ck_assert_str_eq(envtest_get(envp, "type"), "worker");
	ck_assert_str_eq(envtest_get(envp, "PLATFORM_APPLICATION_NAME"), "app");
	ck_assert_str_eq(envtest_get(envp, "PLATFORM_APP_DIR"), "/app");
	ck_assert_str_eq(envtest_get(envp, "PLATFORM_DOCUMENT_ROOT"), "/app");
	ck_assert_str_eq(envtest_get(envp, "PLATFORM_VARIABLES"), "e30=");
	ck_assert_ptr_null(envtest_get(envp, "PLATFORM_SMTP_HOST"));
	ck_assert_ptr_null(envtest_get(envp, "PORT"));
	ck_assert_int_eq(pyjson_dumps(rels, &s), 0);
	ck_assert_str_eq(s, envtest_rels_queue);
	free(s);
	json_decref(rels);

	/* The whole app config, workers included, mount keys with '/'. */
	json_t *app = envtest_get_json(envp, "PLATFORM_APPLICATION");
	json_t *workers = json_object_get(app, "workers");

	ck_assert_str_eq(json_string_value(json_object_get(app, "name")), "app");
	ck_assert_ptr_nonnull(json_object_get(workers, "mail"));
	ck_assert_ptr_nonnull(json_object_get(
		json_object_get(json_object_get(workers, "queue"), "mounts"), "/scratch"));
	ck_assert_ptr_nonnull(json_object_get(
		json_object_get(json_object_get(app, "web"), "mounts"), "/uploads"));
	json_decref(app);
	strv_free(envp);
}
END_TEST

START_TEST(test_example_mail)
{
	char **envp = env_of(EXAMPLE, "mail");
	json_t *rels = envtest_get_json(envp, "PLATFORM_RELATIONSHIPS");

	ck_assert_uint_eq(json_object_size(rels), 1);
	ck_assert_ptr_null(json_object_get(rels, "database"));
	json_t *e = json_array_get(json_object_get(rels, "emails"), 0);

	ck_assert_str_eq(json_string_value(json_object_get(e, "host")), "emails.internal");
	ck_assert_str_eq(json_string_value(json_object_get(e, "service")), "rabbitqueue");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "port")), 5672);
	ck_assert_str_eq(envtest_get(envp, "TYPE"), "worker");
	json_decref(rels);
	strv_free(envp);
}
END_TEST

START_TEST(test_seed_identical)
{
	/* The two seed configurations give identical workers, so identical
	 * environments but for PLATFORM_APPLICATION (the config as written). */
	static const char *const workers[] = {"queue", "mail"};

	for (size_t i = 0; i < ARRAY_SIZE(workers); i++) {
		char **a = env_of(SEED "/inherit.app.yaml", workers[i]);
		char **b = env_of(SEED "/explicit.app.yaml", workers[i]);
		size_t n = 0;

		for (; a[n] && b[n]; n++)
			if (!str_has_prefix(a[n], "PLATFORM_APPLICATION="))
				ck_assert_str_eq(a[n], b[n]);
		ck_assert_ptr_null(a[n]);
		ck_assert_ptr_null(b[n]);
		ck_assert_ptr_nonnull(envtest_get(a, "PLATFORM_RELATIONSHIPS"));
		strv_free(a);
		strv_free(b);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("env-app");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_example_queue);
	tcase_add_test(tc, test_example_mail);
	tcase_add_test(tc, test_seed_identical);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
