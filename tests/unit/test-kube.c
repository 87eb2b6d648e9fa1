/* SPDX-License-Identifier: MIT */
/* Unit tests of `berth kube`'s objects (kube.c, kube-context.c,
 * kube-yaml.c) for the fixture app tests/data/kube and the example app:
 * sizes to resources, mounts to volumes and claims, the grace period, the
 * securityContext, the context, the refusals, the same bytes twice. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kube.h"
#include "util.h"

#define S(x)	((char *)(x))
#define FIXTURE TEST_DATA_DIR "/kube"
#define EXAMPLE TEST_DATA_DIR "/../../contrib/examples"

static struct kube_opts opts(void)
{
	return (struct kube_opts){.image = "registry.example/shop:1",
				  .ns = "default",
				  .app_root = "/app",
				  .instances = 1,
				  .uid = 65534,
				  .gid = 65534,
				  .stop_timeout_ms = 15000};
}

static void load(const char *dir, struct app *app)
{
	struct app_locator loc = {.cwd = dir};
	struct diags d = {0};

	ck_assert_int_eq(app_load(&loc, app, &d), 0);
	diags_free(&d);
}

static void resolve(const struct app *app, const char *name, struct worker *w)
{
	struct diags d = {0};

	ck_assert_int_eq(app_resolve(app, name, w, &d), 0);
	diags_free(&d);
}

/* kube_worker_objects() of w's box plan, as berth kube builds it (an
 * empty context). */
static int worker_objects(const struct app *app, const struct worker *w, const struct kube_opts *o,
			  const char *cj, json_t *docs, struct diags *d)
{
	struct context ctx = {0};
	struct boxplan_request rq = kube_plan_request(app, w, &ctx, o);
	struct boxplan bp;
	int r;

	ck_assert_int_eq(boxplan_build(&rq, &bp), 0);
	r = kube_worker_objects(app, &bp, o, cj, docs, d);
	boxplan_free(&bp);
	return r;
}

/* The worker's four objects, or NULL with *d holding why. */
static json_t *objects(const char *dir, const char *name, const struct kube_opts *o,
		       struct diags *d)
{
	struct app app;
	struct worker w;
	json_t *docs = json_array();

	load(dir, &app);
	resolve(&app, name, &w);
	if (worker_objects(&app, &w, o, "{}\n", docs, d) < 0) {
		ck_assert_uint_eq(json_array_size(docs), 0);
		json_decref(docs);
		docs = NULL;
	}
	worker_free(&w);
	app_free(&app);
	return docs;
}

static json_t *kind(json_t *docs, const char *k)
{
	size_t i;
	json_t *doc;

	json_array_foreach(docs, i, doc)
	{
		if (strcmp(json_string_value(json_object_get(doc, "kind")), k) == 0)
			return doc;
	}
	ck_abort_msg("no %s", k);
	return NULL;
}

static json_t *at(json_t *v, const char *path)
{
	char *p = xstrdup(path), *save = NULL;

	for (char *t = strtok_r(p, ".", &save); t && v; t = strtok_r(NULL, ".", &save))
		v = json_is_array(v) ? json_array_get(v, strtoul(t, NULL, 10))
				     : json_object_get(v, t);
	free(p);
	ck_assert_msg(v != NULL, "no %s", path);
	return v;
}

static const char *str(json_t *v, const char *path)
{
	return json_string_value(at(v, path));
}

#define POD	  "spec.template.spec."
#define CONTAINER POD "containers.0."

START_TEST(sizes_to_resources)
{
	static const struct {
		const char *dir, *worker, *cpu, *memory;
		enum size_name auto_size;
	} want[] = {
		/* Platform.sh's HIGH_CPU table, written out here */
		{EXAMPLE, "queue", "400m", "128Mi", SIZE_AUTO},	   /* M */
		{EXAMPLE, "mail", "400m", "128Mi", SIZE_AUTO},	   /* S */
		{FIXTURE, "indexer", "1200m", "256Mi", SIZE_AUTO}, /* L */
		{FIXTURE, "cron_auto", "2500m", "384Mi", SIZE_XL}, /* AUTO as XL */
	};

	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		struct kube_opts o = opts();
		struct diags d = {0};
		struct cgroup_limits l;
		struct app app;
		struct worker w;

		o.lo.have_auto_size = want[i].auto_size != SIZE_AUTO;
		o.lo.auto_size = want[i].auto_size;
		json_t *docs = objects(want[i].dir, want[i].worker, &o, &d);
		ck_assert_ptr_nonnull(docs);
		json_t *ss = kind(docs, "StatefulSet");
		ck_assert_str_eq(str(ss, CONTAINER "resources.limits.cpu"), want[i].cpu);
		ck_assert_str_eq(str(ss, CONTAINER "resources.limits.memory"), want[i].memory);
		ck_assert(json_equal(at(ss, CONTAINER "resources.limits"),
				     at(ss, CONTAINER "resources.requests")));
		/* the numbers berth writes to its cgroups: memory.max, cpu.max */
		load(want[i].dir, &app);
		resolve(&app, want[i].worker, &w);
		sizelimit_for_worker(&w, &o.lo, &l);
		ck_assert_uint_eq(strtoull(str(ss, CONTAINER "resources.limits.memory"), NULL, 10)
					  << 20,
				  l.memory_bytes);
		ck_assert_uint_eq(strtoull(str(ss, CONTAINER "resources.limits.cpu"), NULL, 10) *
					  l.cpu_period_us / 1000,
				  l.cpu_quota_us);
		worker_free(&w);
		app_free(&app);
		json_decref(docs);
	}
}
END_TEST

START_TEST(mounts_to_volumes)
{
	struct kube_opts o = opts();
	struct diags d = {0};
	json_t *docs = objects(FIXTURE, "indexer", &o, &d);
	json_t *ss = kind(docs, "StatefulSet"), *vm = at(ss, CONTAINER "volumeMounts");
	static const char *const want[][3] = {
		{"run", "/run", NULL},
		{"context", KUBE_CONTEXT_DIR, NULL},
		{"tmp", "/tmp", NULL},
		{"scratch", "/app/var/cache", "cache"},
		{"storage", "/app/var/data", "data"},
		{"storage", "/app/var/log", "logs"},
		{"shared-files", "/app/web/files", "uploads"},
	};

	ck_assert_uint_eq(json_array_size(vm), ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		json_t *m = json_array_get(vm, i);
		ck_assert_str_eq(json_string_value(json_object_get(m, "name")), want[i][0]);
		ck_assert_str_eq(json_string_value(json_object_get(m, "mountPath")), want[i][1]);
		if (want[i][2])
			ck_assert_str_eq(json_string_value(json_object_get(m, "subPath")),
					 want[i][2]);
		else
			ck_assert_ptr_null(json_object_get(m, "subPath"));
	}
	ck_assert(json_is_true(json_object_get(json_array_get(vm, 1), "readOnly")));
	/* one claim per instance, `disk` MB, its own (ReadWriteOnce) */
	ck_assert_uint_eq(json_array_size(at(ss, "spec.volumeClaimTemplates")), 1);
	ck_assert_str_eq(str(ss, "spec.volumeClaimTemplates.0.metadata.name"), "storage");
	ck_assert_str_eq(str(ss, "spec.volumeClaimTemplates.0.spec.resources.requests.storage"),
			 "300M");
	ck_assert_str_eq(str(ss, "spec.volumeClaimTemplates.0.spec.accessModes.0"),
			 "ReadWriteOnce");
	ck_assert_str_eq(str(ss, POD "volumes.3.name"), "scratch");
	ck_assert_str_eq(str(ss, POD "volumes.3.emptyDir.medium"), "Memory");
	ck_assert_str_eq(str(ss, POD "volumes.4.persistentVolumeClaim.claimName"), "files");
	ck_assert_str_eq(str(ss, POD "volumes.1.secret.secretName"), "shop-indexer-context");
	json_decref(docs);

	/* no local mount: no claim */
	docs = objects(FIXTURE, "media_sync", &o, &d);
	ss = kind(docs, "StatefulSet");
	ck_assert_ptr_null(json_object_get(at(ss, "spec"), "volumeClaimTemplates"));
	ck_assert_str_eq(str(ss, "metadata.name"), "shop-media-sync");
	ck_assert_str_eq(str(ss, CONTAINER "name"), "media-sync");
	ck_assert_str_eq(str(ss, CONTAINER "args.8"), "media_sync");
	json_decref(docs);
}
END_TEST

START_TEST(service_claims)
{
	struct kube_opts o = opts();
	struct diags d = {0};
	struct worker ws[2];
	struct app app;
	json_t *docs = json_array();

	load(FIXTURE, &app);
	resolve(&app, "indexer", &ws[0]);
	resolve(&app, "media_sync", &ws[1]);
	o.shared_class = "nfs";
	/* two workers mount `files`: one claim, shared */
	ck_assert_int_eq(kube_service_claims(&app, ws, 2, &o, docs, &d), 0);
	ck_assert_uint_eq(json_array_size(docs), 1);
	json_t *pvc = json_array_get(docs, 0);
	ck_assert_str_eq(str(pvc, "kind"), "PersistentVolumeClaim");
	ck_assert_str_eq(str(pvc, "metadata.name"), "files");
	ck_assert_str_eq(str(pvc, "spec.accessModes.0"), "ReadWriteMany");
	ck_assert_str_eq(str(pvc, "spec.storageClassName"), "nfs");
	ck_assert_str_eq(str(pvc, "spec.resources.requests.storage"), "4096M");
	json_array_clear(docs);
	/* without a disk in services.yaml: refused, naming it */
	for (size_t i = 0; i < app.n_services; i++)
		app.services[i].has_disk = false;
	ck_assert_int_eq(kube_service_claims(&app, ws, 2, &o, docs, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0].msg, "files.disk: the network-storage service needs a disk (MB) "
				     "for its shared claim");
	diags_free(&d);
	json_decref(docs);
	worker_free(&ws[0]);
	worker_free(&ws[1]);
	app_free(&app);
}
END_TEST

START_TEST(grace_and_security)
{
	static const struct {
		uint64_t stop_ms;
		long long grace;
		const char *arg;
	} want[] = {{15000, 30, "15s"}, {20000, 35, "20s"}, {1500, 17, "1500ms"}, {0, 15, "0s"}};
	struct kube_opts o = opts();
	struct diags d = {0};

	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		o.stop_timeout_ms = want[i].stop_ms;
		json_t *docs = objects(EXAMPLE, "queue", &o, &d);
		json_t *ss = kind(docs, "StatefulSet");
		ck_assert_int_eq(json_integer_value(at(ss, POD "terminationGracePeriodSeconds")),
				 want[i].grace);
		ck_assert_str_eq(str(ss, CONTAINER "args.6"), "--stop-timeout");
		ck_assert_str_eq(str(ss, CONTAINER "args.7"), want[i].arg);
		json_decref(docs);
	}
	o = opts();
	json_t *docs = objects(EXAMPLE, "queue", &o, &d), *ss = kind(docs, "StatefulSet");
	json_t *sc = at(ss, CONTAINER "securityContext");
	json_t *ref = json_loads("{\"runAsNonRoot\": true, \"runAsUser\": 65534, \"runAsGroup\": "
				 "65534, \"allowPrivilegeEscalation\": false, \"privileged\": "
				 "false, \"readOnlyRootFilesystem\": true, \"capabilities\": "
				 "{\"drop\": [\"ALL\"]}, \"seccompProfile\": {\"type\": "
				 "\"RuntimeDefault\"}}",
				 0, NULL);
	ck_assert(json_equal(sc, ref));
	ck_assert(json_is_false(at(ss, POD "automountServiceAccountToken")));
	ck_assert_str_eq(str(ss, CONTAINER "env.0.name"), "BERTH_POD");
	ck_assert_str_eq(str(ss, CONTAINER "env.0.value"), "1");
	ck_assert_str_eq(str(ss, CONTAINER "args.5"), "--pod");
	json_decref(ref);
	json_decref(docs);
	/* root only when asked */
	o.uid = o.gid = 0;
	docs = objects(EXAMPLE, "queue", &o, &d);
	ss = kind(docs, "StatefulSet");
	ck_assert(json_is_false(at(ss, CONTAINER "securityContext.runAsNonRoot")));
	ck_assert_int_eq(json_integer_value(at(ss, CONTAINER "securityContext.runAsUser")), 0);
	json_decref(docs);
}
END_TEST

START_TEST(ingress_and_labels)
{
	struct kube_opts o = opts();
	struct diags d = {0};
	json_t *docs = objects(EXAMPLE, "mail", &o, &d), *np = kind(docs, "NetworkPolicy");

	ck_assert_uint_eq(json_array_size(docs), 4);
	ck_assert_str_eq(str(json_array_get(docs, 0), "kind"), "Secret");
	ck_assert_str_eq(str(json_array_get(docs, 1), "kind"), "Service");
	ck_assert_str_eq(str(json_array_get(docs, 2), "kind"), "NetworkPolicy");
	ck_assert_str_eq(str(json_array_get(docs, 3), "kind"), "StatefulSet");
	/* Ingress only among the policy types, and no rule: none allowed */
	ck_assert_uint_eq(json_array_size(at(np, "spec.policyTypes")), 1);
	ck_assert_str_eq(str(np, "spec.policyTypes.0"), "Ingress");
	ck_assert_ptr_null(json_object_get(at(np, "spec"), "ingress"));
	ck_assert(json_equal(at(np, "spec.podSelector.matchLabels"),
			     at(kind(docs, "StatefulSet"), "spec.selector.matchLabels")));
	ck_assert_str_eq(json_string_value(json_object_get(at(np, "metadata.labels"),
							   "app.kubernetes.io/managed-by")),
			 "berth");
	json_decref(docs);
}
END_TEST

START_TEST(refusals)
{
	struct kube_opts o = opts();
	struct diags d = {0};
	static const char small[] =
		"name: app\ntype: 'python:3.11'\nworkers:\n  w:\n    size: S\n"
		"    disk: 64\n    mounts:\n      data:\n        source: local\n"
		"        source_path: data\n    commands:\n      start: sleep 1\n";
	struct app app;
	struct worker w;
	json_t *docs = json_array();

	/* AUTO without a meaning */
	ck_assert_ptr_null(objects(FIXTURE, "cron_auto", &o, &d));
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "workers.cron_auto.size: AUTO"));
	diags_free(&d);
	/* a disk too small for its mounts' claim */
	ck_assert_int_eq(app_load_buffer("small.yaml", small, strlen(small), &app, &d), 0);
	resolve(&app, "w", &w);
	ck_assert_int_eq(worker_objects(&app, &w, &o, "{}", docs, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "workers.w.disk: 64 MB is too small"));
	ck_assert_uint_eq(json_array_size(docs), 0);
	diags_free(&d);
	json_decref(docs);
	worker_free(&w);
	app_free(&app);
}
END_TEST

START_TEST(context_file)
{
	struct kube_opts o = opts();
	struct context ctx = {.project = S("proj12345"),
			      .entropy = S("entropy"),
			      .tree_id = S("0123456789012345678901234567890123456789"),
			      .branch = S("main"),
			      .environment = S("main-abcdefg"),
			      .environment_type = S("production")};
	struct context back = {0};
	struct app app;
	struct worker w;

	load(FIXTURE, &app);
	resolve(&app, "media_sync", &w);
	ctx.services = json_pack("{s:{s:s}}", "db", "host", "db.example.net");
	o.ns = "prod";
	o.lo.have_auto_size = true;
	o.lo.auto_size = SIZE_M;
	char *text = kube_context_json(&ctx, &w, &o);
	json_t *j = json_loads(text, 0, NULL);
	/* media_sync's relationships: database (inherited) and cache */
	ck_assert_str_eq(str(j, "services.redis.host"), "redis.prod.svc");
	ck_assert_str_eq(str(j, "services.db.host"), "db.example.net"); /* given: kept */
	ck_assert_str_eq(str(j, "app_dir"), "/app");
	ck_assert_str_eq(str(j, "auto_size"), "M");
	ck_assert_str_eq(str(j, "tree_id"), ctx.tree_id);
	ck_assert_str_eq(str(j, "project"), "proj12345");
	/* a context file berth reads */
	ck_assert_int_eq(context_parse(j, "ctx", &back), 0);
	ck_assert_str_eq(back.environment, "main-abcdefg");
	context_free(&back);
	json_decref(j);
	free(text);
	json_decref(ctx.services);
	worker_free(&w);
	app_free(&app);
}
END_TEST

static char *yaml_of(const char *dir, const char *name)
{
	struct kube_opts o = opts();
	struct diags d = {0};
	json_t *docs = objects(dir, name, &o, &d);
	char *text;
	size_t len;

	ck_assert_int_eq(kube_yaml(docs, &text, &len), 0);
	ck_assert_uint_eq(strlen(text), len);
	json_decref(docs);
	return text;
}

START_TEST(yaml_same_bytes)
{
	char *a = yaml_of(FIXTURE, "indexer"), *b = yaml_of(FIXTURE, "indexer");
	json_t *v = json_pack("[{s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:[]}]", "one", "1", "t",
			      "true", "y", "Yes", "q", "400m", "p", "berth", "n", 5, "b", 1, "e");
	char *text;
	size_t len;

	ck_assert_str_eq(a, b);
	ck_assert(strncmp(a, "---\napiVersion: v1\nkind: Secret\n", 32) == 0);
	ck_assert_ptr_nonnull(strstr(a, "\n---\napiVersion: apps/v1\nkind: StatefulSet\n"));
	/* what a YAML 1.1 reader would take for another type is quoted */
	ck_assert_int_eq(kube_yaml(v, &text, &len), 0);
	ck_assert_str_eq(text, "---\none: \"1\"\nt: \"true\"\n\"y\": \"Yes\"\nq: \"400m\"\n"
			       "p: berth\n\"n\": 5\nb: true\ne: []\n");
	free(text);
	json_decref(v);
	free(a);
	free(b);
}
END_TEST

START_TEST(dns_names)
{
	char *n = kube_dns_name("media_sync");

	ck_assert_str_eq(n, "media-sync");
	free(n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kube");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, sizes_to_resources);
	tcase_add_test(tc, mounts_to_volumes);
	tcase_add_test(tc, service_claims);
	tcase_add_test(tc, grace_and_security);
	tcase_add_test(tc, ingress_and_labels);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, context_file);
	tcase_add_test(tc, yaml_same_bytes);
	tcase_add_test(tc, dns_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
