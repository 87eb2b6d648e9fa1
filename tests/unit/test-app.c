/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the app model and worker resolution: the inheritance
 * matrix, every accepted form, every rejection with its message and
 * position, and the two seed configurations resolving identically.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "context.h"
#include "relationships.h"

/* Load YAML text as an app; returns app_load_buffer's result. */
static int load(const char *yaml, struct app *app, struct diags *d)
{
	memset(d, 0, sizeof(*d));
	return app_load_buffer("test.yaml", yaml, strlen(yaml), app, d);
}

/* All diagnostics joined by '\n', for assertions. */
static char *joined(const struct diags *d)
{
	struct strbuf sb = {0};
	for (size_t i = 0; i < d->n; i++) {
		char *s = diag_format(&d->v[i]);
		strbuf_printf(&sb, "%s%s", i ? "\n" : "", s);
		free(s);
	}
	return strbuf_detach(&sb);
}

/* Assert that loading fails and that some diagnostic equals `want`. */
static void assert_rejects(const char *yaml, const char *want)
{
	struct app app;
	struct diags d;
	int r = load(yaml, &app, &d);
	char *all = joined(&d);

	ck_assert_msg(r < 0, "accepted: %s", yaml);
	ck_assert_msg(strstr(all, want) != NULL, "wanted '%s'\ngot:\n%s", want, all);
	free(all);
	diags_free(&d);
}

static void resolve_ok(const char *yaml, const char *worker, struct app *app, struct worker *w)
{
	struct diags d;
	int r = load(yaml, app, &d);
	char *all = joined(&d);

	ck_assert_msg(r == 0, "rejected:\n%s", all);
	free(all);
	diags_free(&d);
	ck_assert_int_eq(app_resolve(app, worker, w, &d), 0);
	diags_free(&d);
}

#define HEAD   "name: app\ntype: python:3.11\n"
#define WORKER "workers:\n  q:\n    commands:\n      start: run\n"

/* --- inheritance matrix ------------------------------------------------ */

START_TEST(test_inherit_all)
{
	struct app app;
	struct worker w;

	resolve_ok(HEAD "size: L\ndisk: 300\n"
			"mounts:\n  data: {source: local, source_path: d}\n"
			"relationships:\n  db: 'mysqldb:mysql'\n"
			"variables:\n  env:\n    A: '1'\n"
			"timezone: Europe/Paris\naccess: {ssh: admin}\n"
			"firewall: {outbound: []}\nresources: {base_memory: 64}\n" WORKER,
		   "q", &app, &w);
	ck_assert_int_eq(w.size, SIZE_L);
	ck_assert(!w.overridden.size);
	ck_assert(w.has_disk);
	ck_assert_uint_eq(w.disk_mb, 300);
	ck_assert_uint_eq(w.n_mounts, 1);
	ck_assert_str_eq(w.mounts[0].path, "data");
	ck_assert_str_eq(w.mounts[0].source_path, "d");
	ck_assert_uint_eq(w.n_rels, 1);
	ck_assert_str_eq(w.rels[0].service, "mysqldb");
	ck_assert_str_eq(w.rels[0].endpoint, "mysql");
	ck_assert_uint_eq(w.n_vars, 1);
	ck_assert_str_eq(w.timezone, "Europe/Paris");
	ck_assert_ptr_nonnull(w.access);
	ck_assert_str_eq(json_string_value(json_object_get(w.access, "ssh")), "admin");
	ck_assert_ptr_nonnull(w.firewall);
	ck_assert_ptr_nonnull(w.resources);
	worker_free(&w);
	app_free(&app);
}
END_TEST

START_TEST(test_override_all)
{
	struct app app;
	struct worker w;

	resolve_ok(HEAD "size: L\ndisk: 300\n"
			"mounts:\n  data: {source: local, source_path: d}\n"
			"relationships:\n  db: 'mysqldb:mysql'\n"
			"variables:\n  env:\n    A: '1'\n    B: '2'\n"
			"timezone: Europe/Paris\naccess: {ssh: admin}\n"
			"workers:\n  q:\n    commands: {start: run}\n    size: S\n    disk: 100\n"
			"    mounts: {other: {source: tmp}}\n"
			"    relationships: {cache: 'redis:redis'}\n"
			"    variables: {env: {C: '3'}}\n    timezone: UTC\n"
			"    access: {ssh: viewer}\n",
		   "q", &app, &w);
	ck_assert(w.overridden.size && w.overridden.disk && w.overridden.mounts);
	ck_assert_int_eq(w.size, SIZE_S);
	ck_assert_uint_eq(w.disk_mb, 100);
	ck_assert_uint_eq(w.n_mounts, 1);
	ck_assert_str_eq(w.mounts[0].path, "other");
	ck_assert_int_eq(w.mounts[0].source, MOUNT_TMP);
	/* replaced whole, never merged */
	ck_assert_uint_eq(w.n_rels, 1);
	ck_assert_str_eq(w.rels[0].name, "cache");
	ck_assert_uint_eq(w.n_vars, 1);
	ck_assert_str_eq(w.vars[0].name, "C");
	ck_assert_str_eq(w.timezone, "UTC");
	ck_assert_str_eq(json_string_value(json_object_get(w.access, "ssh")), "viewer");
	worker_free(&w);
	app_free(&app);
}
END_TEST

START_TEST(test_clear_with_empty_and_null)
{
	struct app app;
	struct worker w;

	resolve_ok(HEAD "size: L\ndisk: 300\n"
			"mounts:\n  data: {source: local, source_path: d}\n"
			"relationships:\n  db: 'mysqldb:mysql'\n"
			"variables:\n  env:\n    A: '1'\n"
			"timezone: UTC\naccess: {ssh: admin}\n"
			"workers:\n  q:\n    commands: {start: run}\n"
			"    mounts: {}\n    relationships: {}\n    variables: {}\n"
			"    size: null\n    disk: null\n    timezone: null\n    access: null\n",
		   "q", &app, &w);
	ck_assert_uint_eq(w.n_mounts, 0);
	ck_assert_uint_eq(w.n_rels, 0);
	ck_assert_uint_eq(w.n_vars, 0);
	ck_assert_int_eq(w.size, SIZE_AUTO);
	ck_assert(!w.has_disk);
	ck_assert_ptr_null(w.timezone);
	ck_assert_ptr_null(w.access);
	worker_free(&w);
	app_free(&app);

	resolve_ok(HEAD "mounts:\n  x: {source: tmp}\n"
			"workers:\n  q:\n    commands: {start: run}\n    mounts: ~\n",
		   "q", &app, &w);
	ck_assert_uint_eq(w.n_mounts, 0);
	ck_assert(w.overridden.mounts);
	worker_free(&w);
	app_free(&app);
}
END_TEST

/* --- accepted forms ------------------------------------------------------ */

START_TEST(test_forms_mounts)
{
	struct app app;
	struct worker w;

	resolve_ok(HEAD "disk: 512\nmounts:\n"
			"  '/web/uploads/': {source: local}\n"
			"  legacy: 'shared:files/files/legacy'\n"
			"  'tmp/cache': {source: tmp, source_path: cache}\n"
			"  shared: {source: service, service: files, source_path: s}\n"
			"  root: {source: local, source_path: ''}\n" WORKER,
		   "q", &app, &w);
	ck_assert_uint_eq(w.n_mounts, 5);
	/* sorted by path */
	ck_assert_str_eq(w.mounts[0].path, "legacy");
	ck_assert_int_eq(w.mounts[0].source, MOUNT_LOCAL);
	ck_assert(w.mounts[0].legacy);
	ck_assert_str_eq(w.mounts[0].source_path, "files/legacy");
	ck_assert_str_eq(w.mounts[1].path, "root");
	ck_assert_str_eq(w.mounts[1].source_path, "");
	ck_assert_str_eq(w.mounts[2].path, "shared");
	ck_assert_int_eq(w.mounts[2].source, MOUNT_SERVICE);
	ck_assert_str_eq(w.mounts[2].service, "files");
	ck_assert_str_eq(w.mounts[3].path, "tmp/cache");
	ck_assert_int_eq(w.mounts[3].source, MOUNT_TMP);
	ck_assert_str_eq(w.mounts[4].path, "web/uploads");
	ck_assert_str_eq(w.mounts[4].source_path, "web/uploads");
	worker_free(&w);
	app_free(&app);
}
END_TEST

START_TEST(test_forms_relationships)
{
	struct app app;
	struct worker w;

	resolve_ok(HEAD "relationships:\n"
			"  database: 'mysqldb:mysql'\n"
			"  mariadb:\n"
			"  cache: {service: redis}\n"
			"  search: {service: es, endpoint: elasticsearch}\n"
			"  plain: 'queue'\n" WORKER,
		   "q", &app, &w);
	ck_assert_uint_eq(w.n_rels, 5);
	ck_assert_str_eq(w.rels[0].name, "database");
	ck_assert_str_eq(w.rels[0].service, "mysqldb");
	ck_assert_str_eq(w.rels[0].endpoint, "mysql");
	ck_assert_str_eq(w.rels[1].service, "mariadb");
	ck_assert_ptr_null(w.rels[1].endpoint);
	ck_assert_str_eq(w.rels[2].service, "redis");
	ck_assert_ptr_null(w.rels[2].endpoint);
	ck_assert_str_eq(w.rels[3].endpoint, "elasticsearch");
	ck_assert_str_eq(w.rels[4].service, "queue");
	ck_assert_ptr_null(w.rels[4].endpoint);
	worker_free(&w);
	app_free(&app);
}
END_TEST

START_TEST(test_forms_sizes_and_variables)
{
	struct app app;
	struct worker w;

	resolve_ok(HEAD "size: 2xl\nvariables:\n  env: {X: 1, 'lower_case': yes}\n"
			"  d8config: {'system.site:name': {a: [1, 2]}}\n" WORKER,
		   "q", &app, &w);
	ck_assert_int_eq(w.size, SIZE_2XL);
	ck_assert_uint_eq(w.limits.cpu_milli, 5000);
	ck_assert_uint_eq(w.limits.memory_mib, 768);
	ck_assert_uint_eq(w.n_vars, 3);
	ck_assert_str_eq(w.vars[0].prefix, "env");
	ck_assert(json_is_integer(w.vars[0].value));
	ck_assert(json_is_true(w.vars[1].value));
	ck_assert_str_eq(w.vars[2].prefix, "d8config");
	ck_assert_str_eq(w.vars[2].name, "system.site:name");
	ck_assert(json_is_object(w.vars[2].value));
	worker_free(&w);
	app_free(&app);

	resolve_ok("name: app\ntype: 'java:21'\nsize: M\n" WORKER, "q", &app, &w);
	ck_assert_int_eq(w.profile, PROFILE_HIGH_MEMORY);
	ck_assert_uint_eq(w.limits.memory_mib, 288);
	worker_free(&w);
	app_free(&app);
}
END_TEST

/* --- rejections ---------------------------------------------------------- */

START_TEST(test_reject_names)
{
	assert_rejects(HEAD "workers:\n  Queue:\n    commands: {start: x}\n",
		       "test.yaml:4:3: workers.Queue: worker name 'Queue' may only contain "
		       "lowercase letters, digits, '_' and '-'");
	assert_rejects(HEAD "workers:\n  a--b:\n    commands: {start: x}\n",
		       "worker name 'a--b' must not contain '--'");
	assert_rejects(HEAD "workers:\n  -ab:\n    commands: {start: x}\n",
		       "worker name '-ab' must start and end with a letter or digit");
	assert_rejects(HEAD "workers:\n  abcdefghijabcdefghijabcdefghijabc:\n"
			    "    commands: {start: x}\n",
		       "must be at most 32 characters");
	assert_rejects("name: My_App\ntype: python:3.11\n",
		       "test.yaml:1:7: name: app name 'My_App' may only contain");
	assert_rejects("name: app\n", "type: type is required");
}
END_TEST

START_TEST(test_reject_commands)
{
	assert_rejects(HEAD "workers:\n  q:\n    size: S\n",
		       "test.yaml:4:3: workers.q: commands.start is required");
	assert_rejects(HEAD "workers:\n  q:\n    commands: {pre_start: x}\n",
		       "test.yaml:5:15: workers.q.commands: commands.start is required");
	assert_rejects(HEAD "workers:\n  q:\n    commands:\n      start: yes\n",
		       "test.yaml:6:14: workers.q.commands.start: commands.start must be a "
		       "string, not boolean");
	assert_rejects(HEAD "workers:\n  q:\n    commands:\n      start: 42\n",
		       "commands.start must be a string, not integer");
	assert_rejects(HEAD "workers:\n  q:\n    commands:\n      start: '  \n'\n",
		       "commands.start is empty");
	assert_rejects(HEAD "workers:\n  q:\n    commands:\n      start: [a]\n",
		       "must be a string, not sequence");
	assert_rejects(HEAD "workers:\n  q:\n    commands: {start: x, stop: y}\n",
		       "unknown command 'stop'");
	assert_rejects(HEAD "workers:\n  q:\n    commands: {start: x, pre_start: 3}\n",
		       "commands.pre_start must be a string, not integer");
	/* pre_start has start's bound (64 KiB) */
	for (int which = 0; which < 2; which++) {
		size_t n = 64 * 1024 + 1;
		char *big = malloc(n + 1), *yaml;
		memset(big, 'x', n);
		big[n] = '\0';
		yaml = xasprintf(HEAD "workers:\n  q:\n    commands: {start: %s%s}\n",
				 which ? "x, pre_start: " : "", big);
		assert_rejects(yaml, which ? "test.yaml:5:37: workers.q.commands.pre_start: "
					     "commands.pre_start is longer than 65536 bytes"
					   : "commands.start is longer than 65536 bytes");
		free(yaml);
		free(big);
	}
}
END_TEST

START_TEST(test_reject_worker_keys_and_size)
{
	assert_rejects(HEAD "workers:\n  q:\n    commands: {start: x}\n    web: {}\n",
		       "test.yaml:6:5: workers.q.web: unknown worker key 'web'");
	assert_rejects(HEAD "workers:\n  q:\n    commands: {start: x}\n    size: XXL\n",
		       "test.yaml:6:11: workers.q.size: unknown size 'XXL' (expected AUTO, S, "
		       "M, L, XL, 2XL or 4XL)");
	assert_rejects(HEAD "size: 3\n" WORKER, "size: size must be a string, not integer");
	assert_rejects(HEAD "disk: -5\n" WORKER, "disk: disk must be a positive number of MB");
	assert_rejects(HEAD "disk: 1.5\n" WORKER,
		       "disk must be an integer number of MB, not float");
	/* MB -> bytes would wrap to 446464 bytes */
	assert_rejects(HEAD "disk: 18446744073710\n" WORKER,
		       "test.yaml:3:7: disk: disk must be at most 1000000000 MB (1 PB), not "
		       "18446744073710");
	assert_rejects(HEAD "disk: 1000000001\n" WORKER, "disk must be at most 1000000000 MB");
	assert_rejects(HEAD
		       "workers:\n  q:\n    commands: {start: x}\n    disk: 9223372036854775807\n",
		       "test.yaml:6:11: workers.q.disk: disk must be at most 1000000000 MB");
	assert_rejects(HEAD "workers: [a]\n", "workers must be a mapping of worker names");
}
END_TEST

START_TEST(test_reject_mounts)
{
	assert_rejects(HEAD "disk: 1\nmounts:\n  '../x': {source: local}\n" WORKER,
		       "test.yaml:5:3: mounts.../x: mount path '../x' contains a '..' component");
	assert_rejects(HEAD "disk: 1\nmounts:\n  'a/../../b': {source: local}\n" WORKER,
		       "contains a '..' component");
	assert_rejects(HEAD "disk: 1\nmounts:\n  '/': {source: local}\n" WORKER,
		       "mount path '/' names the app root itself");
	assert_rejects(HEAD "disk: 1\nmounts:\n  \"a\\tb\": {source: local}\n" WORKER,
		       "contains a control character");
	assert_rejects(HEAD "disk: 1\nmounts:\n  var: {source: local}\n  '/var/': {source: local}\n"
			    "  'var': {source: tmp}\n" WORKER,
		       "duplicate key");
	assert_rejects(
		HEAD
		"disk: 1\nmounts:\n  var: {source: local}\n  '/var/': {source: local}\n" WORKER,
		"test.yaml:6:3: mounts./var/: mount path '/var/' is the same as 'var' "
		"after normalisation");
	assert_rejects(HEAD "disk: 1\nmounts:\n  x: {source: local, source_path: /abs}\n" WORKER,
		       "source_path '/abs' must be relative");
	assert_rejects(HEAD "disk: 1\nmounts:\n  x: {source: local, source_path: a/../..}\n" WORKER,
		       "source_path 'a/../..' contains a '..' component");
	assert_rejects(HEAD "disk: 1\nmounts:\n  x: {source: nfs}\n" WORKER,
		       "unknown mount source 'nfs' (expected local, tmp or service)");
	assert_rejects(HEAD "disk: 1\nmounts:\n  x: {source_path: a}\n" WORKER,
		       "mount has no 'source'");
	assert_rejects(HEAD "disk: 1\nmounts:\n  x: {source: local, size: 3}\n" WORKER,
		       "unknown mount key 'size'");
	assert_rejects(HEAD "mounts:\n  x: {source: service}\n" WORKER,
		       "a 'service' mount needs the name of its network-storage service");
	assert_rejects(HEAD "disk: 1\nmounts:\n  x: 'files/x'\n" WORKER,
		       "or the legacy 'shared:files/PATH', not 'files/x'");
	assert_rejects(HEAD "disk: 1\nmounts:\n  .hidden: {source: local}\n" WORKER,
		       "mount path starts with '.', which Platform.sh ignores; write '/.hidden'");
	assert_rejects(HEAD "disk: 1\nmounts:\n  var: {source: service, service: s}\n"
			    "  var/cache: {source: local}\n" WORKER,
		       "mount 'var/cache' (local) is nested in mount 'var' (service) of another "
		       "type");
	assert_rejects(HEAD "mounts:\n  data: {source: local}\n" WORKER,
		       "workers.q.mounts: local mount 'data' needs 'disk'");
}
END_TEST

START_TEST(test_reject_relationships_and_variables)
{
	assert_rejects(HEAD "relationships:\n  db: [a]\n" WORKER,
		       "relationship must be 'service:endpoint', null or {service, endpoint}");
	assert_rejects(HEAD "relationships:\n  db: {endpoint: x}\n" WORKER,
		       "relationship needs a 'service'");
	assert_rejects(HEAD "relationships:\n  db: {service: x, port: 3}\n" WORKER,
		       "unknown relationship key 'port'");
	assert_rejects(HEAD "relationships:\n  db: 'Bad Service:x'\n" WORKER,
		       "service name 'Bad Service'");
	assert_rejects(HEAD "variables:\n  env:\n    '1ABC': x\n" WORKER,
		       "test.yaml:5:5: variables.env.1ABC: '1ABC' cannot be an environment "
		       "variable name");
	assert_rejects(HEAD "variables:\n  env:\n    'A=B': x\n" WORKER,
		       "'A=B' cannot be an environment variable name");
	assert_rejects(HEAD "variables:\n  env: 'x'\n" WORKER,
		       "a variables prefix block must be a mapping, not string");
}
END_TEST

START_TEST(test_every_error_reported)
{
	struct app app;
	struct diags d;

	ck_assert_int_lt(load(HEAD "size: huge\n"
				   "workers:\n  a:\n    commands: {start: 1}\n"
				   "  b:\n    size: tiny\n",
			      &app, &d),
			 0);
	/* top-level size once, a's start, b's size and b's missing start */
	ck_assert_uint_eq(d.n, 4);
	diags_free(&d);
}
END_TEST

START_TEST(test_unknown_worker)
{
	struct app app;
	struct worker w;
	struct diags d;

	ck_assert_int_eq(load(HEAD WORKER, &app, &d), 0);
	ck_assert_int_eq(app_resolve(&app, "nope", &w, &d), -ENOENT);
	char *all = joined(&d);
	ck_assert_str_eq(all, "test.yaml: workers: no worker named 'nope' (workers: q)");
	free(all);
	diags_free(&d);
	app_free(&app);
}
END_TEST

/* --- files: services.yaml, applications.yaml, the seed configurations ---- */

static char *show(const char *file, const char *worker)
{
	struct app_locator loc = {.app_config = file};
	struct app app;
	struct worker w;
	struct diags d = {0};
	char *s;

	ck_assert_int_eq(app_load(&loc, &app, &d), 0);
	ck_assert_int_eq(app_resolve(&app, worker, &w, &d), 0);
	json_t *j = worker_to_json(&w);
	s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(j);
	worker_free(&w);
	app_free(&app);
	diags_free(&d);
	return s;
}

START_TEST(test_seed_identical)
{
	const char *workers[] = {"queue", "mail"};

	for (size_t i = 0; i < 2; i++) {
		char *a = show(TEST_DATA_DIR "/seed/inherit.app.yaml", workers[i]);
		char *b = show(TEST_DATA_DIR "/seed/explicit.app.yaml", workers[i]);
		ck_assert_str_eq(a, b);
		ck_assert_ptr_nonnull(strstr(a, "\"source_path\": \"test\""));
		ck_assert_ptr_nonnull(strstr(a, "\"disk\": 256"));
		free(a);
		free(b);
	}
}
END_TEST

static char *tmpdir_with(const char *const files[][2], size_t n)
{
	char tmpl[] = "/tmp/berth-test-app-XXXXXX";
	char *dir = xstrdup(mkdtemp(tmpl));

	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, files[i][0]);
		char *slash = strrchr(path, '/');
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
		FILE *f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fputs(files[i][1], f);
		fclose(f);
		free(path);
	}
	return dir;
}

static void rm_rf(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

START_TEST(test_services_checked)
{
	static const char *const files[][2] = {
		{".platform.app.yaml",
		 HEAD "relationships:\n  db: 'mysqldb:mysql'\n"
		      "  other: 'api:http'\n" WORKER "  r:\n    commands: {start: x}\n"
		      "    relationships: {c: 'nosuch:redis'}\n"},
		{".platform/services.yaml", "mysqldb:\n  type: mariadb:10.6\n"},
	};
	char *dir = tmpdir_with(files, ARRAY_SIZE(files));
	struct app_locator loc = {.cwd = dir};
	struct app app;
	struct diags d = {0};

	ck_assert_int_lt(app_load(&loc, &app, &d), 0);
	char *all = joined(&d);
	ck_assert_msg(strstr(all, "workers.r.relationships.c: service 'nosuch' is not defined in"),
		      "%s", all);
	ck_assert_msg(d.n == 1, "%s", all);
	free(all);
	diags_free(&d);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(test_applications_yaml)
{
	static const char *const files[][2] = {
		{".platform/applications.yaml",
		 "api:\n  type: nodejs:20\n  source: {root: api}\n"
		 "  workers:\n    q:\n      commands: {start: x}\n"
		 "web:\n  type: php:8.3\n  workers:\n    w:\n      commands: {start: y}\n"},
		{"api/README", "x"},
	};
	char *dir = tmpdir_with(files, ARRAY_SIZE(files));
	struct app_locator loc = {.cwd = dir, .app_name = "api"};
	struct app app;
	struct diags d = {0};

	ck_assert_int_eq(app_load(&loc, &app, &d), 0);
	ck_assert_str_eq(app.name, "api");
	ck_assert_ptr_nonnull(strstr(app.dir, "/api"));
	ck_assert_str_eq(app.workers[0], "q");
	app_free(&app);

	loc.app_name = NULL;
	ck_assert_int_lt(app_load(&loc, &app, &d), 0);
	char *all = joined(&d);
	ck_assert_msg(strstr(all, "2 apps are defined here: choose one with --app NAME"), "%s",
		      all);
	free(all);
	diags_free(&d);
	rm_rf(dir);
	free(dir);
}
END_TEST

/* An app keyed by name that also sets 'name' is an error, not a note
 * before a successful load. */
START_TEST(test_applications_yaml_map_name)
{
	static const char *const files[][2] = {
		{".platform/applications.yaml", "api:\n  name: other\n  type: nodejs:20\n"
						"  workers:\n    q:\n      commands: {start: x}\n"},
	};
	char *dir = tmpdir_with(files, ARRAY_SIZE(files));
	struct app_locator loc = {.cwd = dir};
	struct app app;
	struct diags d = {0};

	ck_assert_int_eq(app_load(&loc, &app, &d), -EINVAL);
	char *all = joined(&d);
	ck_assert_msg(strstr(all, "api: an app keyed by name must not set 'name'"), "%s", all);
	ck_assert_msg(d.n == 1, "%s", all);
	free(all);
	diags_free(&d);
	rm_rf(dir);
	free(dir);
}
END_TEST

/* An app-to-app relationship has the other app's type, as on Platform.sh. */
START_TEST(test_app_relationship_type)
{
	static const char *const files[][2] = {
		{".platform/applications.yaml",
		 "api:\n  type: nodejs:20\n  workers:\n    q:\n      commands: {start: x}\n"
		 "web:\n  type: php:8.3\n  relationships: {backend: 'api:http'}\n"
		 "  workers:\n    w:\n      commands: {start: y}\n"},
	};
	char *dir = tmpdir_with(files, ARRAY_SIZE(files));
	struct app_locator loc = {.cwd = dir, .app_name = "web"};
	struct context ctx;
	struct app app;
	struct worker w;
	struct diags d = {0};
	json_t *rels;

	ck_assert_int_eq(app_load(&loc, &app, &d), 0);
	ck_assert_int_eq(app_resolve(&app, "w", &w, &d), 0);
	ck_assert_int_eq(context_load_nostate(NULL, &ctx), 0);
	ck_assert_int_eq(relationships_build(&app, &w, &ctx, &d, &d, &rels), 0);
	json_t *o = json_array_get(json_object_get(rels, "backend"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "type")), "nodejs:20");
	ck_assert_str_eq(json_string_value(json_object_get(o, "rel")), "http");
	json_decref(rels);
	context_free(&ctx);
	worker_free(&w);
	app_free(&app);
	diags_free(&d);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(test_applications_yaml_list)
{
	static const char *const files[][2] = {
		{".platform/applications.yaml", "- name: api\n  type: nodejs:20\n  workers:\n    "
						"q:\n      commands: {start: x}\n"},
	};
	char *dir = tmpdir_with(files, ARRAY_SIZE(files));
	struct app_locator loc = {.cwd = dir};
	struct app app;
	struct diags d = {0};

	ck_assert_int_eq(app_load(&loc, &app, &d), 0);
	ck_assert_str_eq(app.name, "api");
	ck_assert_str_eq(app.workers[0], "q");
	ck_assert_str_eq(app.apps[0], "api");
	app_free(&app);
	rm_rf(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("app");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_inherit_all);
	tcase_add_test(tc, test_override_all);
	tcase_add_test(tc, test_clear_with_empty_and_null);
	tcase_add_test(tc, test_forms_mounts);
	tcase_add_test(tc, test_forms_relationships);
	tcase_add_test(tc, test_forms_sizes_and_variables);
	tcase_add_test(tc, test_reject_names);
	tcase_add_test(tc, test_reject_commands);
	tcase_add_test(tc, test_reject_worker_keys_and_size);
	tcase_add_test(tc, test_reject_mounts);
	tcase_add_test(tc, test_reject_relationships_and_variables);
	tcase_add_test(tc, test_every_error_reported);
	tcase_add_test(tc, test_unknown_worker);
	tcase_add_test(tc, test_seed_identical);
	tcase_add_test(tc, test_services_checked);
	tcase_add_test(tc, test_applications_yaml);
	tcase_add_test(tc, test_applications_yaml_list);
	tcase_add_test(tc, test_applications_yaml_map_name);
	tcase_add_test(tc, test_app_relationship_type);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
