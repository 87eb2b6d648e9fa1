/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the worker environment: base64, the Python-compatible JSON
 * writer, relationships, PLATFORM_VARIABLES / PLATFORM_APPLICATION, env:
 * variables and their upper-cased aliases, validation and `berth env`
 * output, all against exact strings.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "context.h"
#include "env.h"
#include "envtest.h"
#include "pyjson.h"
#include "relationships.h"
#include "util.h"

/* ---- fixture: the seed example's queue worker, built by hand ---------- */

static const char app_json_text[] =
	"{\"name\": \"app\", \"type\": \"python:3.7\", \"disk\": 2048,"
	" \"relationships\": {\"database\": \"mysqldb:mysql\", \"messages\": "
	"\"rabbitqueue:rabbitmq\"},"
	" \"variables\": {\"env\": {\"type\": \"none\"}},"
	" \"web\": {\"mounts\": {\"uploads\": {\"source\": \"local\", \"source_path\": "
	"\"uploads\"}},"
	"  \"locations\": {\"/\": {\"root\": \"\", \"passthru\": true}}},"
	" \"workers\": {\"queue\": {\"size\": \"M\", \"disk\": 512,"
	"   \"mounts\": {\"scratch\": {\"source\": \"local\", \"source_path\": \"scratch\"}}},"
	"  \"mail\": {\"mounts\": {}}}}";

struct fx {
	struct app app;
	struct worker w;
	struct context ctx;
};

static void add_service(struct app *a, const char *name, const char *type, json_t *conf)
{
	a->services = xrealloc(a->services, (a->n_services + 1) * sizeof(*a->services));
	a->services[a->n_services++] = (struct service){
		.name = xstrdup(name), .type = xstrdup(type), .configuration = conf};
}

static void add_rel(struct worker *w, const char *name, const char *svc, const char *ep)
{
	w->rels = xrealloc(w->rels, (w->n_rels + 1) * sizeof(*w->rels));
	w->rels[w->n_rels++] = (struct relationship){.name = xstrdup(name),
						     .service = xstrdup(svc),
						     .endpoint = ep ? xstrdup(ep) : NULL};
}

static void add_var(struct worker *w, const char *prefix, const char *name, json_t *v)
{
	w->vars = xrealloc(w->vars, (w->n_vars + 1) * sizeof(*w->vars));
	w->vars[w->n_vars++] =
		(struct variable){.prefix = xstrdup(prefix), .name = xstrdup(name), .value = v};
}

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->app.name = xstrdup("app");
	f->app.type = xstrdup("python:3.7");
	f->app.dir = xstrdup("/srv/app");
	f->app.json = json_loads(app_json_text, 0, NULL);
	ck_assert_ptr_nonnull(f->app.json);
	f->app.have_services = true;
	add_service(&f->app, "mysqldb", "mariadb:10.6", NULL);
	add_service(&f->app, "rabbitqueue", "rabbitmq:3.13", NULL);

	f->w.name = xstrdup("queue");
	f->w.app_name = xstrdup("app");
	f->w.app_type = xstrdup("python:3.7");
	f->w.app_dir = xstrdup("/srv/app");
	add_rel(&f->w, "database", "mysqldb", "mysql");
	add_rel(&f->w, "messages", "rabbitqueue", "rabbitmq");
	add_var(&f->w, "env", "type", json_string("worker"));

	f->ctx.project = xstrdup("abcdefgh12345");
	f->ctx.entropy = xstrdup("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij");
	f->ctx.tree_id = xstrdup("9851a01081f3c2f943f75f62c38b67f8bc0ec15c");
	f->ctx.environment = xstrdup("main-abcd123");
	context_defaults(&f->ctx);
}

static void fx_free(struct fx *f)
{
	for (size_t i = 0; i < f->app.n_services; i++) {
		free(f->app.services[i].name);
		free(f->app.services[i].type);
		json_decref(f->app.services[i].configuration);
	}
	free(f->app.services);
	free(f->app.name);
	free(f->app.type);
	free(f->app.dir);
	json_decref(f->app.json);
	for (size_t i = 0; i < f->w.n_rels; i++) {
		free(f->w.rels[i].name);
		free(f->w.rels[i].service);
		free(f->w.rels[i].endpoint);
	}
	free(f->w.rels);
	for (size_t i = 0; i < f->w.n_vars; i++) {
		free(f->w.vars[i].prefix);
		free(f->w.vars[i].name);
		json_decref(f->w.vars[i].value);
	}
	free(f->w.vars);
	free(f->w.name);
	free(f->w.app_name);
	free(f->w.app_type);
	free(f->w.app_dir);
	free(f->w.timezone);
	context_free(&f->ctx);
}

static char **build(struct fx *f, const struct env_options *o)
{
	static const struct env_options none = {0};
	char **envp = NULL;

	ck_assert_int_eq(env_build(&f->app, &f->w, &f->ctx, o ? o : &none, &envp), 0);
	ck_assert_ptr_nonnull(envp);
	return envp;
}

/* ---- base64 ------------------------------------------------------------ */

START_TEST(test_base64_vectors)
{
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar", "{}"};
	static const char *const out[] = {"",	      "Zg==",	  "Zm8=",     "Zm9v",
					  "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy", "e30="};

	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		char *e = base64_encode(in[i], strlen(in[i]));
		unsigned char *d;
		size_t len;

		ck_assert_str_eq(e, out[i]);
		ck_assert_int_eq(base64_decode(e, strlen(e), &d, &len), 0);
		ck_assert_uint_eq(len, strlen(in[i]));
		ck_assert_mem_eq(d, in[i], len);
		free(d);
		free(e);
	}
	/* All 256 byte values, both high-bit alphabet characters. */
	unsigned char all[256];

	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	char *e = base64_encode("\xfb\xff\xfe", 3);

	ck_assert_str_eq(e, "+//+");
	free(e);
	e = base64_encode(all, sizeof(all));
	ck_assert_uint_eq(strlen(e), 344);
	ck_assert_ptr_null(strchr(e, '\n'));
	ck_assert_str_eq(e + 340, "/w==");
	unsigned char *d;
	size_t len;

	ck_assert_int_eq(base64_decode(e, strlen(e), &d, &len), 0);
	ck_assert_uint_eq(len, 256);
	ck_assert_mem_eq(d, all, 256);
	free(d);
	free(e);
}
END_TEST

START_TEST(test_base64_strict)
{
	static const char *const bad[] = {"Zg",	  "Zg=",  "Zg=a", "Z===", "Zm9v\n",   "Zh==",
					  "Zm9=", "Zm-v", "Zm_v", "=Zm9", "Zg==Zg==", " Zm9v"};
	unsigned char *d;
	size_t len;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(base64_decode(bad[i], strlen(bad[i]), &d, &len) == -EINVAL, "%s",
			      bad[i]);
}
END_TEST

/* ---- Python-compatible JSON -------------------------------------------- */

static void assert_dumps(const char *json_in, const char *want)
{
	json_t *v = json_loads(json_in, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	char *s;

	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(pyjson_dumps(v, &s), 0);
	ck_assert_str_eq(s, want);
	free(s);
	json_decref(v);
}

START_TEST(test_pyjson)
{
	/* Every expected string below is Python 3's json.dumps(v, sort_keys=True). */
	assert_dumps("{\"b\": 1, \"a\": {\"d\": [], \"c\": {}}}",
		     "{\"a\": {\"c\": {}, \"d\": []}, \"b\": 1}");
	assert_dumps("{\"milk\": \"1 liter\", \"cookies\": \"1 kg\"}",
		     "{\"cookies\": \"1 kg\", \"milk\": \"1 liter\"}");
	assert_dumps("[\"peanut butter\", \"jelly\"]", "[\"peanut butter\", \"jelly\"]");
	assert_dumps("[true, false, null, -5, 0]", "[true, false, null, -5, 0]");
	assert_dumps("\"\\u007f \\u0000\\u001f \\u00e9 \\ud83d\\ude00\"",
		     "\"\\u007f \\u0000\\u001f \\u00e9 \\ud83d\\ude00\"");
	assert_dumps("\"a\\\"\\\\/\\b\\f\\n\\r\\t~\"", "\"a\\\"\\\\/\\b\\f\\n\\r\\t~\"");
	assert_dumps("{\"\\u00e9\": 1, \"z\": 2, \"A\": 3}",
		     "{\"A\": 3, \"z\": 2, \"\\u00e9\": 1}");
	assert_dumps("[1.0, 1e16, 1e15, 0.0001, 0.00001, -0.0, 1.5e-07, 123456789012345678.0,"
		     " 0.30000000000000004, 1e22, 5e-324, 2.5, 100.0, 1.7976931348623157e308]",
		     "[1.0, 1e+16, 1000000000000000.0, 0.0001, 1e-05, -0.0, 1.5e-07, "
		     "1.2345678901234568e+17, 0.30000000000000004, 1e+22, 5e-324, 2.5, 100.0, "
		     "1.7976931348623157e+308]");

	/* A string that is not UTF-8 is refused, not mangled. */
	json_t *bad = json_stringn_nocheck("\xff", 1);
	char *s;

	ck_assert_int_eq(pyjson_dumps(bad, &s), -EINVAL);
	json_decref(bad);
}
END_TEST

START_TEST(test_env_value_string)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{"\"a string\"", "a string"},
		{"null", ""},
		{"true", "true"},
		{"false", "false"},
		{"5", "5"},
		{"2.0", "2.0"},
		{"[\"peanut butter\", \"jelly\"]", "[\"peanut butter\", \"jelly\"]"},
		{"{\"milk\": \"1 liter\", \"cookies\": \"1 kg\"}",
		 "{\"cookies\": \"1 kg\", \"milk\": \"1 liter\"}"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		char *s;

		ck_assert_int_eq(env_value_string(v, &s), 0);
		ck_assert_str_eq(s, cases[i].want);
		free(s);
		json_decref(v);
	}
	json_t *nul = json_stringn("a\0b", 3);
	char *s;

	ck_assert_int_eq(env_value_string(nul, &s), -EINVAL);
	json_decref(nul);
}
END_TEST

/* ---- relationships ----------------------------------------------------- */

START_TEST(test_relationships_seed)
{
	struct fx f;

	fx_init(&f);
	char **envp = build(&f, NULL);
	char *rels = envtest_get_decoded(envp, "PLATFORM_RELATIONSHIPS");

	ck_assert_str_eq(rels, envtest_rels_queue);
	/* The same bytes Python's base64.b64encode gives, padded, one line. */
	char *want = base64_encode(envtest_rels_queue, strlen(envtest_rels_queue));

	ck_assert_str_eq(envtest_get(envp, "PLATFORM_RELATIONSHIPS"), want);
	/* Python: base64.b64encode(json.dumps(rels, sort_keys=True).encode()) */
	ck_assert_str_eq(
		want,
		"eyJkYXRhYmFzZSI6IFt7ImNsdXN0ZXIiOiAiYWJjZGVmZ2gxMjM0NS1tYWluLWFiY2QxMjMiLCAiZXBv"
		"Y2giOiAwLCAiZnJhZ21lbnQiOiBudWxsLCAiaG9zdCI6ICJkYXRhYmFzZS5pbnRlcm5hbCIsICJob3N0"
		"X21hcHBlZCI6IGZhbHNlLCAiaG9zdG5hbWUiOiAiZGF0YWJhc2UuaW50ZXJuYWwiLCAiaW5zdGFuY2Vf"
		"aXBzIjogWyIxMjcuMC4wLjEiXSwgImlwIjogIjEyNy4wLjAuMSIsICJwYXNzd29yZCI6ICIiLCAicGF0"
		"aCI6ICJtYWluIiwgInBvcnQiOiAzMzA2LCAicHVibGljIjogZmFsc2UsICJxdWVyeSI6IHsiaXNfbWFz"
		"dGVyIjogdHJ1ZX0sICJyZWwiOiAibXlzcWwiLCAic2NoZW1lIjogIm15c3FsIiwgInNlcnZpY2UiOiAi"
		"bXlzcWxkYiIsICJ0eXBlIjogIm1hcmlhZGI6MTAuNiIsICJ1c2VybmFtZSI6ICJ1c2VyIn1dLCAibWVz"
		"c2FnZXMiOiBbeyJjbHVzdGVyIjogImFiY2RlZmdoMTIzNDUtbWFpbi1hYmNkMTIzIiwgImVwb2NoIjog"
		"MCwgImZyYWdtZW50IjogbnVsbCwgImhvc3QiOiAibWVzc2FnZXMuaW50ZXJuYWwiLCAiaG9zdF9tYXBw"
		"ZWQiOiBmYWxzZSwgImhvc3RuYW1lIjogIm1lc3NhZ2VzLmludGVybmFsIiwgImluc3RhbmNlX2lwcyI6"
		"IFsiMTI3LjAuMC4xIl0sICJpcCI6ICIxMjcuMC4wLjEiLCAicGFzc3dvcmQiOiAiZ3Vlc3QiLCAicGF0"
		"aCI6IG51bGwsICJwb3J0IjogNTY3MiwgInB1YmxpYyI6IGZhbHNlLCAicXVlcnkiOiB7fSwgInJlbCI6"
		"ICJyYWJiaXRtcSIsICJzY2hlbWUiOiAiYW1xcCIsICJzZXJ2aWNlIjogInJhYmJpdHF1ZXVlIiwgInR5"
		"cGUiOiAicmFiYml0bXE6My4xMyIsICJ1c2VybmFtZSI6ICJndWVzdCJ9XX0=");
	free(want);
	free(rels);
	strv_free(envp);
	fx_free(&f);
}
END_TEST

/* One relationship of the given type; returns its endpoint object. */
static json_t *one_rel(const char *type, const char *ep, json_t *conf, const struct context *c)
{
	struct fx f;
	json_t *out = NULL, *rels;

	fx_init(&f);
	add_service(&f.app, "svc", type, conf);
	struct relationship *keep = f.w.rels;
	struct relationship r = {
		.name = (char *)"rel", .service = (char *)"svc", .endpoint = (char *)ep};

	f.w.rels = &r;
	f.w.n_rels = 1;
	if (relationships_build(&f.app, &f.w, c ? c : &f.ctx, NULL, NULL, &rels) == 0) {
		out = json_incref(json_array_get(json_object_get(rels, "rel"), 0));
		json_decref(rels);
	}
	f.w.rels = keep;
	f.w.n_rels = 2;
	fx_free(&f);
	return out;
}

static void assert_rel(json_t *o, const char *scheme, const char *rel, int port, const char *user,
		       const char *pass, const char *path)
{
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_string_value(json_object_get(o, "scheme")), scheme);
	ck_assert_str_eq(json_string_value(json_object_get(o, "rel")), rel);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "port")), port);
	ck_assert_str_eq(json_string_value(json_object_get(o, "host")), "rel.internal");
	ck_assert_uint_eq(json_object_size(o), 18);
#define CHECK_NULLABLE(key, want)                                                                  \
	if (want)                                                                                  \
		ck_assert_str_eq(json_string_value(json_object_get(o, key)), want);                \
	else                                                                                       \
		ck_assert(json_is_null(json_object_get(o, key)));
	CHECK_NULLABLE("username", user);
	CHECK_NULLABLE("password", pass);
	CHECK_NULLABLE("path", path);
#undef CHECK_NULLABLE
	json_decref(o);
}

START_TEST(test_relationship_types)
{
	assert_rel(one_rel("mysql:10.6", NULL, NULL, NULL), "mysql", "mysql", 3306, "user", "",
		   "main");
	assert_rel(one_rel("oracle-mysql:8.0", NULL, NULL, NULL), "mysql", "mysql", 3306, "user",
		   "", "main");
	assert_rel(one_rel("postgresql:15", NULL, NULL, NULL), "pgsql", "postgresql", 5432, "main",
		   "main", "main");
	assert_rel(one_rel("redis:7.2", NULL, NULL, NULL), "redis", "redis", 6379, NULL, NULL,
		   NULL);
	assert_rel(one_rel("valkey:8.0", NULL, NULL, NULL), "valkey", "valkey", 6379, NULL, NULL,
		   NULL);
	assert_rel(one_rel("memcached:1.6", NULL, NULL, NULL), "memcached", "memcached", 11211,
		   NULL, NULL, NULL);
	assert_rel(one_rel("rabbitmq:3.13", NULL, NULL, NULL), "amqp", "rabbitmq", 5672, "guest",
		   "guest", NULL);
	assert_rel(one_rel("solr:9.4", NULL, NULL, NULL), "solr", "solr", 8080, NULL, NULL,
		   "solr/collection1");
	assert_rel(one_rel("elasticsearch:7.10", NULL, NULL, NULL), "http", "elasticsearch", 9200,
		   NULL, NULL, NULL);
	assert_rel(one_rel("opensearch:2", NULL, NULL, NULL), "http", "opensearch", 9200, NULL,
		   NULL, NULL);
	assert_rel(one_rel("mongodb:3.6", NULL, NULL, NULL), "mongodb", "mongodb", 27017, "main",
		   "main", "main");
	assert_rel(one_rel("influxdb:2.7", NULL, NULL, NULL), "http", "influxdb", 8086, "admin", "",
		   NULL);
	assert_rel(one_rel("kafka:3.7", NULL, NULL, NULL), "kafka", "kafka", 9092, NULL, NULL,
		   NULL);
	assert_rel(one_rel("chrome-headless:120", NULL, NULL, NULL), "http", "http", 9222, NULL,
		   NULL, NULL);

	json_t *mongo = one_rel("mongodb:3.6", NULL, NULL, NULL);
	char *q;

	ck_assert_int_eq(pyjson_dumps(json_object_get(mongo, "query"), &q), 0);
	ck_assert_str_eq(q, "{\"is_master\": true}");
	free(q);
	json_decref(mongo);
}
END_TEST

START_TEST(test_relationship_endpoints)
{
	json_t *conf = json_loads("{\"schemas\": [\"main\", \"legacy\"], \"endpoints\": {"
				  "\"admin\": {\"default_schema\": \"main\"},"
				  "\"reporter\": {\"privileges\": {\"main\": \"ro\"}}}}",
				  0, NULL);

	json_incref(conf);
	json_incref(conf);
	assert_rel(one_rel("mariadb:10.6", "admin", conf, NULL), "mysql", "admin", 3306, "admin",
		   "", "main");
	assert_rel(one_rel("mariadb:10.6", "reporter", conf, NULL), "mysql", "reporter", 3306,
		   "reporter", "", NULL);
	/* With endpoints declared there is no default "mysql" endpoint. */
	ck_assert_ptr_null(one_rel("mariadb:10.6", NULL, conf, NULL));

	json_t *solr = json_loads("{\"endpoints\": {\"main\": {\"core\": \"books\"}}}", 0, NULL);

	assert_rel(one_rel("solr:9.4", "main", solr, NULL), "solr", "main", 8080, NULL, NULL,
		   "solr/books");
}
END_TEST

START_TEST(test_relationship_context)
{
	struct fx f;

	fx_init(&f);
	json_t *file = json_loads(
		"{\"services\": {\"svc\": {\"ip\": \"10.0.0.5\", \"password\": \"s3cret\","
		"  \"endpoints\": {\"mysql\": {\"username\": \"main_user\"}}}},"
		" \"relationships\": {\"rel\": {\"port\": 3307}}}",
		0, NULL);

	ck_assert_int_eq(context_parse(file, "ctx.json", &f.ctx), 0);
	json_decref(file);
	json_t *o = one_rel("mariadb:10.6", NULL, NULL, &f.ctx);

	ck_assert_str_eq(json_string_value(json_object_get(o, "ip")), "10.0.0.5");
	ck_assert_str_eq(json_string_value(json_object_get(o, "password")), "s3cret");
	ck_assert_str_eq(json_string_value(json_object_get(o, "username")), "main_user");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "port")), 3307);
	char *ips;

	ck_assert_int_eq(pyjson_dumps(json_object_get(o, "instance_ips"), &ips), 0);
	ck_assert_str_eq(ips, "[\"10.0.0.5\"]");
	ck_assert_uint_eq(json_object_size(o), 18);
	free(ips);
	json_decref(o);
	fx_free(&f);
}
END_TEST

START_TEST(test_relationship_unknown_service)
{
	struct fx f;
	json_t *rels, *o;

	fx_init(&f);
	/* Not in services.yaml, an endpoint nobody knows: refused. */
	free(f.w.rels[0].service);
	f.w.rels[0].service = xstrdup("nosuch");
	free(f.w.rels[0].endpoint);
	f.w.rels[0].endpoint = xstrdup("custom");
	ck_assert_int_eq(relationships_build(&f.app, &f.w, &f.ctx, NULL, NULL, &rels), -EINVAL);

	/* A well-known endpoint says what the service is. */
	free(f.w.rels[0].endpoint);
	f.w.rels[0].endpoint = xstrdup("mysql");
	ck_assert_int_eq(relationships_build(&f.app, &f.w, &f.ctx, NULL, NULL, &rels), 0);
	o = json_array_get(json_object_get(rels, "database"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "type")), "mariadb");
	ck_assert_str_eq(json_string_value(json_object_get(o, "service")), "nosuch");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "port")), 3306);
	json_decref(rels);

	/* endpoint http: another app of the project. */
	free(f.w.rels[0].endpoint);
	f.w.rels[0].endpoint = xstrdup("http");
	ck_assert_int_eq(relationships_build(&f.app, &f.w, &f.ctx, NULL, NULL, &rels), 0);
	o = json_array_get(json_object_get(rels, "database"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "scheme")), "http");
	ck_assert_str_eq(json_string_value(json_object_get(o, "rel")), "http");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "port")), 80);
	ck_assert_uint_eq(json_object_size(o), 18);
	json_decref(rels);

	/* The context can describe a service services.yaml does not have. */
	free(f.w.rels[0].endpoint);
	f.w.rels[0].endpoint = xstrdup("custom");
	f.ctx.services = json_loads("{\"nosuch\": {\"type\": \"redis:7.2\", \"ip\": \"10.1.1.1\"}}",
				    0, NULL);
	ck_assert_int_eq(relationships_build(&f.app, &f.w, &f.ctx, NULL, NULL, &rels), 0);
	o = json_array_get(json_object_get(rels, "database"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "scheme")), "redis");
	ck_assert_str_eq(json_string_value(json_object_get(o, "rel")), "custom");
	ck_assert_str_eq(json_string_value(json_object_get(o, "ip")), "10.1.1.1");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "port")), 6379);
	json_decref(rels);
	fx_free(&f);
}
END_TEST

START_TEST(test_relationships_none)
{
	struct fx f;

	fx_init(&f);
	f.w.n_rels = 0;
	char **envp = build(&f, NULL);

	ck_assert_str_eq(envtest_get(envp, "PLATFORM_RELATIONSHIPS"), "e30=");
	f.w.n_rels = 2;
	strv_free(envp);
	fx_free(&f);
}
END_TEST

/* ---- variables --------------------------------------------------------- */

START_TEST(test_variables)
{
	struct fx f;

	fx_init(&f);
	add_var(&f.w, "d8config", "system.site:name", json_string("Caf\xc3\xa9"));
	add_var(&f.w, "stuff", "list", json_loads("[1, \"b\", 2.5]", 0, NULL));
	add_var(&f.w, "env", "nested", json_loads("{\"b\": 1, \"a\": [true, null]}", 0, NULL));
	add_var(&f.w, "env", "Mixed_Case", json_integer(7));
	add_var(&f.w, "env", "nothing", json_null());
	char **envp = build(&f, NULL);
	char *vars = envtest_get_decoded(envp, "PLATFORM_VARIABLES");

	ck_assert_str_eq(vars, "{\"d8config:system.site:name\": \"Caf\\u00e9\", "
			       "\"stuff:list\": [1, \"b\", 2.5]}");
	ck_assert_str_eq(
		envtest_get(envp, "PLATFORM_VARIABLES"),
		"eyJkOGNvbmZpZzpzeXN0ZW0uc2l0ZTpuYW1lIjogIkNhZlx1MDBlOSIsICJzdHVmZjpsaXN0Ij"
		"ogWzEsICJiIiwgMi41XX0=");
	ck_assert_ptr_null(strstr(vars, "env:"));
	ck_assert_str_eq(envtest_get(envp, "type"), "worker");
	ck_assert_str_eq(envtest_get(envp, "TYPE"), "worker");
	ck_assert_str_eq(envtest_get(envp, "nested"), "{\"a\": [true, null], \"b\": 1}");
	ck_assert_str_eq(envtest_get(envp, "NESTED"), "{\"a\": [true, null], \"b\": 1}");
	ck_assert_str_eq(envtest_get(envp, "Mixed_Case"), "7");
	ck_assert_str_eq(envtest_get(envp, "MIXED_CASE"), "7");
	ck_assert_str_eq(envtest_get(envp, "nothing"), "");
	free(vars);
	strv_free(envp);
	fx_free(&f);
}
END_TEST

START_TEST(test_variables_empty_and_alias_rules)
{
	struct fx f;

	fx_init(&f);
	/* Both spellings written: each keeps its own value. */
	add_var(&f.w, "env", "TYPE", json_string("upper"));
	/* An alias never replaces a name written in the config, but does
	 * replace a default (PATH). */
	add_var(&f.w, "env", "path", json_string("/opt/bin"));
	char **envp = build(&f, NULL);

	ck_assert_str_eq(envtest_get(envp, "type"), "worker");
	ck_assert_str_eq(envtest_get(envp, "TYPE"), "upper");
	ck_assert_str_eq(envtest_get(envp, "PATH"), "/opt/bin");
	ck_assert_str_eq(envtest_get(envp, "PLATFORM_VARIABLES"), "e30=");
	strv_free(envp);
	fx_free(&f);
}
END_TEST

START_TEST(test_variables_context)
{
	struct fx f;

	fx_init(&f);
	add_var(&f.w, "stuff", "a", json_string("config"));
	f.ctx.variables = json_loads("{\"stuff:a\": \"context\", \"env:type\": \"ctx\","
				     " \"env:EXTRA\": \"x\"}",
				     0, NULL);
	char **envp = build(&f, NULL);
	char *vars = envtest_get_decoded(envp, "PLATFORM_VARIABLES");

	ck_assert_str_eq(vars, "{\"stuff:a\": \"context\"}");
	ck_assert_str_eq(envtest_get(envp, "type"), "ctx");
	ck_assert_str_eq(envtest_get(envp, "TYPE"), "ctx");
	ck_assert_str_eq(envtest_get(envp, "EXTRA"), "x");
	free(vars);
	strv_free(envp);
	fx_free(&f);
}
END_TEST

START_TEST(test_bad_env_name)
{
	struct fx f;
	char **envp = NULL;
	static const struct env_options o = {0};

	fx_init(&f);
	add_var(&f.w, "env", "my-var", json_string("x"));
	ck_assert_int_eq(env_build(&f.app, &f.w, &f.ctx, &o, &envp), -EINVAL);
	ck_assert_ptr_null(envp);
	fx_free(&f);

	fx_init(&f);
	add_var(&f.w, "env", "A", json_stringn("a\0b", 3));
	ck_assert_int_eq(env_build(&f.app, &f.w, &f.ctx, &o, &envp), -EINVAL);
	fx_free(&f);

	ck_assert(env_name_ok("_a1"));
	ck_assert(env_name_ok("TYPE"));
	ck_assert(!env_name_ok("1a"));
	ck_assert(!env_name_ok("a=b"));
	ck_assert(!env_name_ok(""));
	ck_assert(!env_name_ok("a.b"));
}
END_TEST

/* ---- the whole environment --------------------------------------------- */

START_TEST(test_env_whole)
{
	struct fx f;

	fx_init(&f);
	char **envp = build(&f, NULL);
	static const char *const want[] = {
		"HOME=/srv/app",
		"LANG=C.UTF-8",
		"PATH=" ENV_DEFAULT_PATH,
		"PLATFORM_APPLICATION=",
		"PLATFORM_APPLICATION_NAME=app",
		"PLATFORM_APP_DIR=/srv/app",
		"PLATFORM_BRANCH=main",
		"PLATFORM_DOCUMENT_ROOT=/srv/app",
		"PLATFORM_ENVIRONMENT=main-abcd123",
		"PLATFORM_ENVIRONMENT_TYPE=development",
		"PLATFORM_PROJECT=abcdefgh12345",
		"PLATFORM_PROJECT_ENTROPY=0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij",
		"PLATFORM_RELATIONSHIPS=",
		"PLATFORM_ROUTES=e30=",
		"PLATFORM_TREE_ID=9851a01081f3c2f943f75f62c38b67f8bc0ec15c",
		"PLATFORM_VARIABLES=e30=",
		"SHELL=/bin/sh",
		"TYPE=worker",
		"TZ=UTC",
		"USER=web",
		"type=worker",
	};
	size_t n = 0;

	for (; envp[n]; n++) {
		ck_assert_uint_lt(n, ARRAY_SIZE(want));
		if (want[n][strlen(want[n]) - 1] == '=')
			ck_assert(str_has_prefix(envp[n], want[n]));
		else
			ck_assert_str_eq(envp[n], want[n]);
	}
	ck_assert_uint_eq(n, ARRAY_SIZE(want));
	ck_assert_ptr_null(envtest_get(envp, "PLATFORM_SMTP_HOST"));
	ck_assert_ptr_null(envtest_get(envp, "PORT"));
	ck_assert_ptr_null(envtest_get(envp, "SOCKET"));
	strv_free(envp);
	fx_free(&f);
}
END_TEST

START_TEST(test_application_json)
{
	struct fx f;

	fx_init(&f);
	char **envp = build(&f, NULL);
	char *app = envtest_get_decoded(envp, "PLATFORM_APPLICATION");

	ck_assert_str_eq(
		app,
		"{\"disk\": 2048, \"name\": \"app\", \"relationships\": {\"database\": "
		"\"mysqldb:mysql\", \"messages\": \"rabbitqueue:rabbitmq\"}, \"type\": "
		"\"python:3.7\", \"variables\": {\"env\": {\"type\": \"none\"}}, \"web\": "
		"{\"locations\": {\"/\": {\"passthru\": true, \"root\": \"\"}}, \"mounts\": "
		"{\"/uploads\": {\"source\": \"local\", \"source_path\": \"uploads\"}}}, "
		"\"workers\": {\"mail\": {\"mounts\": {}}, \"queue\": {\"disk\": 512, \"mounts\": "
		"{\"/scratch\": {\"source\": \"local\", \"source_path\": \"scratch\"}}, "
		"\"size\": \"M\"}}}");
	/* app->json itself is untouched. */
	ck_assert_ptr_nonnull(json_object_get(
		json_object_get(json_object_get(f.app.json, "web"), "mounts"), "uploads"));
	free(app);
	strv_free(envp);
	fx_free(&f);
}
END_TEST

START_TEST(test_context_and_options)
{
	struct fx f;
	char *const pass[] = {(char *)"HTTP_PROXY", (char *)"ABSENT", (char *)"PLATFORM_BRANCH",
			      NULL};
	char *const caller[] = {(char *)"LD_PRELOAD=/x", (char *)"SECRET=1",
				(char *)"HTTP_PROXY=http://p:3128", (char *)"PLATFORM_BRANCH=evil",
				NULL};
	struct env_options o = {.pass_env = pass,
				.environ = caller,
				.user = "app",
				.home = "/home/app",
				.path = "/bin"};

	fx_init(&f);
	f.ctx.smtp_host = xstrdup("smtp.internal");
	f.ctx.app_dir = xstrdup("/app");
	free(f.w.timezone);
	f.w.timezone = xstrdup("Europe/Paris");
	char **envp = build(&f, &o);

	ck_assert_str_eq(envtest_get(envp, "PLATFORM_SMTP_HOST"), "smtp.internal");
	ck_assert_str_eq(envtest_get(envp, "PLATFORM_APP_DIR"), "/app");
	ck_assert_str_eq(envtest_get(envp, "PLATFORM_DOCUMENT_ROOT"), "/app");
	ck_assert_str_eq(envtest_get(envp, "HOME"), "/home/app");
	ck_assert_str_eq(envtest_get(envp, "USER"), "app");
	ck_assert_str_eq(envtest_get(envp, "PATH"), "/bin");
	/* timezone applies to crons on Platform.sh: the runtime stays UTC */
	ck_assert_str_eq(envtest_get(envp, "TZ"), "UTC");
	ck_assert_str_eq(envtest_get(envp, "HTTP_PROXY"), "http://p:3128");
	ck_assert_str_eq(envtest_get(envp, "PLATFORM_BRANCH"), "main");
	ck_assert_ptr_null(envtest_get(envp, "ABSENT"));
	ck_assert_ptr_null(envtest_get(envp, "LD_PRELOAD"));
	ck_assert_ptr_null(envtest_get(envp, "SECRET"));
	strv_free(envp);

	char *const badpass[] = {(char *)"A=B", NULL};

	o.pass_env = badpass;
	envp = NULL;
	ck_assert_int_eq(env_build(&f.app, &f.w, &f.ctx, &o, &envp), -EINVAL);
	fx_free(&f);
}
END_TEST

START_TEST(test_document_root)
{
	struct fx f;

	fx_init(&f);
	json_object_set_new(
		json_object_get(json_object_get(json_object_get(f.app.json, "web"), "locations"),
				"/"),
		"root", json_string("/public/"));
	char **envp = build(&f, NULL);

	ck_assert_str_eq(envtest_get(envp, "PLATFORM_DOCUMENT_ROOT"), "/srv/app/public");
	strv_free(envp);
	fx_free(&f);
}
END_TEST

START_TEST(test_size_limits)
{
	struct fx f;
	char **envp = NULL;
	struct env_options o = {.max_string = 131072, .max_bytes = 1024};

	fx_init(&f);
	ck_assert_int_eq(env_build(&f.app, &f.w, &f.ctx, &o, &envp), -E2BIG);
	o.max_bytes = 1 << 20;
	char *big = xmalloc(200000);

	memset(big, 'x', 199999);
	big[199999] = '\0';
	add_var(&f.w, "env", "BIG", json_string(big));
	free(big);
	ck_assert_int_eq(env_build(&f.app, &f.w, &f.ctx, &o, &envp), -E2BIG);
	o.max_string = 0;
	o.max_bytes = 0;
	envp = build(&f, &o);
	strv_free(envp);
	fx_free(&f);

	char *const bad1[] = {(char *)"NOEQUALS", NULL};
	char *const bad2[] = {(char *)"A-B=1", NULL};
	char *const good[] = {(char *)"A=", (char *)"B=x=y", NULL};

	ck_assert_int_eq(env_check(bad1, 0, 0), -EINVAL);
	ck_assert_int_eq(env_check(bad2, 0, 0), -EINVAL);
	ck_assert_int_eq(env_check(good, 0, 0), 0);
	/* 3 + 6 bytes of strings and three pointers */
	ck_assert_int_eq(env_check(good, 9 + 3 * sizeof(char *), 0), 0);
	ck_assert_int_eq(env_check(good, 8 + 3 * sizeof(char *), 0), -E2BIG);
	ck_assert_int_eq(env_check(good, 0, 5), -E2BIG);
	ck_assert_int_eq(env_check(good, 0, 6), 0);

	size_t mb, ms;

	env_limits(&mb, &ms);
	ck_assert_uint_ge(mb, 65536);
	ck_assert_uint_ge(ms, 131072);
}
END_TEST

/* ---- printing ---------------------------------------------------------- */

static char *print(char *const *envp, enum env_format fmt, bool decode, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(env_print(f, envp, fmt, decode), 0);
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

START_TEST(test_print)
{
	char *const envp[] = {(char *)"A=it's", (char *)"B=", (char *)"C=a\nb $x `y` \\ \"q\"",
			      (char *)"PLATFORM_VARIABLES=eyJhOmIiOiAxfQ==", NULL};
	enum env_format fmt;
	char *s;
	size_t len;

	ck_assert_int_eq(env_parse_format("shell", &fmt), 0);
	ck_assert_int_eq(fmt, ENV_FORMAT_SHELL);
	ck_assert_int_eq(env_parse_format("null", &fmt), 0);
	ck_assert_int_eq(fmt, ENV_FORMAT_NULL);
	ck_assert_int_eq(env_parse_format("json", &fmt), 0);
	ck_assert_int_eq(fmt, ENV_FORMAT_JSON);
	ck_assert_int_eq(env_parse_format("yaml", &fmt), -EINVAL);

	s = print(envp, ENV_FORMAT_SHELL, false, NULL);
	ck_assert_str_eq(s, "export A='it'\\''s'\n"
			    "export B=''\n"
			    "export C='a\nb $x `y` \\ \"q\"'\n"
			    "export PLATFORM_VARIABLES='eyJhOmIiOiAxfQ=='\n");
	free(s);

	s = print(envp, ENV_FORMAT_NULL, false, &len);
	ck_assert_uint_eq(len, 7 + 3 + 19 + 36);
	ck_assert_mem_eq(
		s, "A=it's\0B=\0C=a\nb $x `y` \\ \"q\"\0PLATFORM_VARIABLES=eyJhOmIiOiAxfQ==\0",
		len);
	free(s);

	s = print(envp, ENV_FORMAT_JSON, false, NULL);
	ck_assert_str_eq(s, "{\n  \"A\": \"it's\",\n  \"B\": \"\",\n"
			    "  \"C\": \"a\\nb $x `y` \\\\ \\\"q\\\"\",\n"
			    "  \"PLATFORM_VARIABLES\": \"eyJhOmIiOiAxfQ==\"\n}\n");
	free(s);

	s = print(envp, ENV_FORMAT_JSON, true, NULL);
	ck_assert_ptr_nonnull(strstr(s, "\"PLATFORM_VARIABLES\": {\n    \"a:b\": 1\n  }"));
	free(s);
	s = print(envp, ENV_FORMAT_SHELL, true, NULL);
	ck_assert_ptr_nonnull(strstr(s, "export PLATFORM_VARIABLES='{\n  \"a:b\": 1\n}'\n"));
	free(s);

	json_t *names = env_names_json(envp);
	char *t = json_dumps(names, JSON_COMPACT);

	ck_assert_str_eq(t, "[\"A\",\"B\",\"C\",\"PLATFORM_VARIABLES\"]");
	free(t);
	json_decref(names);
}
END_TEST

START_TEST(test_print_shell_eval)
{
	/* Every byte 1-255 survives `eval` of the shell format. */
	char value[256 + 8];
	size_t n = 0;

	n += (size_t)sprintf(value, "V=");
	for (int c = 1; c < 256; c++)
		value[n++] = (char)c;
	value[n] = '\0';
	char *const envp[] = {value, NULL};
	char *s = print(envp, ENV_FORMAT_SHELL, false, NULL);
	char path[] = "/tmp/test-env-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	FILE *f = fdopen(fd, "w");

	fprintf(f, "%sprintf '%%s' \"$V\"\n", s);
	fclose(f);
	char *cmd = xasprintf("/bin/sh %s", path);
	FILE *p = popen(cmd, "r");
	char out[512];
	size_t got = fread(out, 1, sizeof(out), p);

	pclose(p);
	unlink(path);
	ck_assert_uint_eq(got, 255);
	ck_assert_mem_eq(out, value + 2, 255);
	free(cmd);
	free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("env");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_base64_vectors);
	tcase_add_test(tc, test_base64_strict);
	tcase_add_test(tc, test_pyjson);
	tcase_add_test(tc, test_env_value_string);
	tcase_add_test(tc, test_relationships_seed);
	tcase_add_test(tc, test_relationship_types);
	tcase_add_test(tc, test_relationship_endpoints);
	tcase_add_test(tc, test_relationship_context);
	tcase_add_test(tc, test_relationship_unknown_service);
	tcase_add_test(tc, test_relationships_none);
	tcase_add_test(tc, test_variables);
	tcase_add_test(tc, test_variables_empty_and_alias_rules);
	tcase_add_test(tc, test_variables_context);
	tcase_add_test(tc, test_bad_env_name);
	tcase_add_test(tc, test_env_whole);
	tcase_add_test(tc, test_application_json);
	tcase_add_test(tc, test_context_and_options);
	tcase_add_test(tc, test_document_root);
	tcase_add_test(tc, test_size_limits);
	tcase_add_test(tc, test_print);
	tcase_add_test(tc, test_print_shell_eval);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
