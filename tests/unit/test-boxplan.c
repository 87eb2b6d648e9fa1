/* SPDX-License-Identifier: MIT */
/*
 * The box plan (boxplan.h): what boxplan_build() decides from a worker,
 * its context and a command's options, and what boxplan_describe() puts
 * under `berth show`'s plan.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boxplan.h"
#include "cleanup.h"
#include "context.h"
#include "util.h"

static const char app_yaml[] = "name: app\n"
			       "type: \"python:3.11\"\n"
			       "disk: 64\n"
			       "relationships:\n"
			       "  database: \"mysqldb:mysql\"\n"
			       "mounts:\n"
			       "  data: {source: local, source_path: data}\n"
			       "firewall:\n"
			       "  outbound:\n"
			       "    - {domains: [example.com], ports: [443]}\n"
			       "workers:\n"
			       "  queue:\n"
			       "    size: S\n"
			       "    commands: {start: sleep 1}\n"
			       "  auto:\n"
			       "    size: AUTO\n"
			       "    commands: {start: sleep 1}\n";

struct fx {
	char dir[64];
	struct app app;
	struct worker w;
	struct context ctx;
	struct boxplan_request rq;
	struct boxplan p;
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void fx_init(struct fx *f, const char *worker)
{
	struct diags d = {0};

	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/test-boxplan.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	char *p = xasprintf("%s/.platform", f->dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	p = xasprintf("%s/.platform/services.yaml", f->dir);
	write_file(p, "mysqldb:\n  type: mariadb:10.6\n");
	free(p);
	p = xasprintf("%s/.platform.app.yaml", f->dir);
	write_file(p, app_yaml);
	struct app_locator loc = {.app_config = p, .cwd = f->dir};
	ck_assert_int_eq(app_load(&loc, &f->app, &d), 0);
	free(p);
	ck_assert_int_eq(app_resolve(&f->app, worker, &f->w, &d), 0);
	diags_free(&d);
	ck_assert_int_eq(context_load_nostate(NULL, &f->ctx), 0);
	f->rq = (struct boxplan_request){
		.app = &f->app, .w = &f->w, .ctx = &f->ctx, .state_dir = "/var/lib/x"};
}

static void fx_free(struct fx *f)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", f->dir);

	boxplan_free(&f->p);
	context_free(&f->ctx);
	worker_free(&f->w);
	app_free(&f->app);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_build_default)
{
	struct cgroup_limits want;
	struct sizelimit_overrides none = {0};
	struct fx f;

	fx_init(&f, "queue");
	ck_assert_int_eq(boxplan_build(&f.rq, &f.p), 0);
	sizelimit_for_worker(&f.w, &none, &want);
	ck_assert_uint_eq(f.p.limits.memory_bytes, want.memory_bytes);
	ck_assert_uint_eq(f.p.limits.cpu_quota_us, want.cpu_quota_us);
	/* /tmp is bounded by the memory limit when that is lower */
	ck_assert_uint_eq(f.p.view.tmp_size, view_tmp_size(0, want.memory_bytes));
	ck_assert_uint_lt(f.p.view.tmp_size, MOUNTPLAN_TMP_SIZE_DEFAULT);
	ck_assert_str_eq(f.p.view.project, f.ctx.project);
	ck_assert_str_eq(f.p.view.environment, f.ctx.environment);
	ck_assert_str_eq(f.p.view.state_dir, "/var/lib/x");
	ck_assert_uint_eq(f.p.view.uid, (uid_t)-1); /* until boxplan_user */
	/* the egress inputs: the plan's relationships and services, the
	 * worker's firewall */
	ck_assert_ptr_nonnull(f.p.relationships);
	ck_assert_ptr_nonnull(json_object_get(f.p.relationships, "database"));
	ck_assert_ptr_eq(f.p.sandbox.relationships, f.p.relationships);
	ck_assert_ptr_eq(f.p.sandbox.services, f.p.services);
	ck_assert_ptr_eq(f.p.sandbox.firewall, f.w.firewall);
	ck_assert_ptr_nonnull(f.p.sandbox.firewall);
	ck_assert(!f.p.sandbox.no_network);
	ck_assert_str_eq(f.p.hostname, "app--queue");
	fx_free(&f);
}
END_TEST

START_TEST(test_build_skips)
{
	struct fx f;

	/* --unconfined: no egress inputs; --no-cgroup: /tmp unbounded by memory */
	fx_init(&f, "queue");
	f.rq.unconfined = true;
	f.rq.no_cgroup = true;
	ck_assert_int_eq(boxplan_build(&f.rq, &f.p), 0);
	ck_assert(f.p.unconfined && f.p.no_cgroup);
	ck_assert_ptr_null(f.p.relationships);
	ck_assert_ptr_null(f.p.sandbox.relationships);
	ck_assert_uint_eq(f.p.view.tmp_size, MOUNTPLAN_TMP_SIZE_DEFAULT);
	json_t *o = json_object();
	ck_assert_int_eq(boxplan_describe(&f.p, o), 0);
	ck_assert(json_is_null(json_object_get(o, "cgroup")));
	ck_assert(json_is_null(json_object_get(o, "mounts")));
	ck_assert(json_is_null(json_object_get(o, "sandbox")));
	json_decref(o);
	fx_free(&f);

	/* exec's: no limits, berth's network */
	fx_init(&f, "queue");
	f.rq.no_limits = true;
	f.rq.no_network = true;
	f.rq.view.tmp_size = 64 << 20;
	ck_assert_int_eq(boxplan_build(&f.rq, &f.p), 0);
	ck_assert_uint_eq(f.p.limits.memory_bytes, 0);
	ck_assert_uint_eq(f.p.limits.pids_max, 0);
	ck_assert_uint_eq(f.p.view.tmp_size, 64 << 20);
	ck_assert(f.p.sandbox.no_network);
	ck_assert_ptr_null(f.p.relationships);
	fx_free(&f);
}
END_TEST

START_TEST(test_build_auto_size)
{
	struct sizelimit_overrides m = {.have_auto_size = true, .auto_size = SIZE_M};
	struct sizelimit_overrides none = {0};
	struct cgroup_limits want, unlimited;
	struct fx f;

	/* AUTO: what the context says, unless --auto-size */
	fx_init(&f, "auto");
	sizelimit_for_worker(&f.w, &m, &want);
	sizelimit_for_worker(&f.w, &none, &unlimited);
	ck_assert_uint_ne(want.memory_bytes, unlimited.memory_bytes);
	f.ctx.auto_size = xstrdup("M");
	ck_assert_int_eq(boxplan_build(&f.rq, &f.p), 0);
	ck_assert_uint_eq(f.p.limits.memory_bytes, want.memory_bytes);
	boxplan_free(&f.p);
	f.rq.limits = (struct sizelimit_overrides){.have_auto_size = true, .auto_size = SIZE_L};
	ck_assert_int_eq(boxplan_build(&f.rq, &f.p), 0);
	ck_assert_uint_gt(f.p.limits.memory_bytes, want.memory_bytes);
	boxplan_free(&f.p);
	free(f.ctx.auto_size);
	f.ctx.auto_size = NULL;
	f.rq.limits = none;
	ck_assert_int_eq(boxplan_build(&f.rq, &f.p), 0);
	ck_assert_uint_eq(f.p.limits.memory_bytes, unlimited.memory_bytes);
	fx_free(&f);
}
END_TEST

START_TEST(test_describe)
{
	struct sandbox_opts so = {.user = "0"};
	const char *key;
	json_t *v, *o = json_object();
	const char *order[] = {"cgroup", "mounts", "sandbox"};
	size_t i = 0;
	struct fx f;

	/* what show prints under plan, in its order */
	fx_init(&f, "queue");
	f.rq.sandbox = &so;
	ck_assert_int_eq(boxplan_build(&f.rq, &f.p), 0);
	ck_assert_int_eq(boxplan_describe(&f.p, o), 0);
	json_object_foreach(o, key, v)
	{
		ck_assert_uint_lt(i, 3);
		ck_assert_str_eq(key, order[i++]);
		ck_assert(json_is_object(v) || json_is_array(v));
	}
	ck_assert_uint_eq(i, 3);
	v = json_object_get(json_object_get(o, "sandbox"), "user");
	ck_assert_int_eq(json_integer_value(json_object_get(v, "uid")), 0);
	json_decref(o);
	fx_free(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("boxplan");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_build_default);
	tcase_add_test(tc, test_build_skips);
	tcase_add_test(tc, test_build_auto_size);
	tcase_add_test(tc, test_describe);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
