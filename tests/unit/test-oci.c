/* SPDX-License-Identifier: MIT */
/* Unit tests of the OCI parts: the hook's state JSON and config.json
 * parsing (runtimes' variants and bad inputs), /proc status parsing, and
 * the generated config.json (ocispec.c) with its schema field checker. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "hook.h"
#include "ocispec.h"
#include "util.h"

#define S(x) ((char *)(x))

static int parse(const char *text, enum hook_stage stage, struct hook_state *st, char **err)
{
	return hook_state_parse(text, strlen(text), stage, st, err);
}

START_TEST(state_variants)
{
	struct hook_state st;
	char *err = NULL;

	/* runc: creating, annotations */
	ck_assert_int_eq(parse("{\"ociVersion\":\"1.2.0\",\"id\":\"app--queue\",\"status\":"
			       "\"creating\",\"pid\":4422,\"bundle\":\"/run/b\",\"annotations\":"
			       "{\"berth.worker\":\"queue\"}}",
			       HOOK_CREATE_RUNTIME, &st, &err),
			 0);
	ck_assert_str_eq(st.id, "app--queue");
	ck_assert_int_eq(st.pid, 4422);
	ck_assert_str_eq(hook_annotation(&st, NULL, "berth.worker"), "queue");
	hook_state_free(&st);
	/* crun 1.28: escaped slashes, extra keys (root, created), status created */
	ck_assert_int_eq(
		parse("{\"ociVersion\":\"1.0.0\",\"id\":\"t1\",\"pid\":77,\"status\":"
		      "\"created\",\"bundle\":\"\\/tmp\\/b\",\"rootfs\":\"\\/tmp\\/b\\/r\","
		      "\"created\":\"2026-01-01T00:00:00Z\",\"owner\":\"root\"}",
		      HOOK_CREATE_RUNTIME, &st, &err),
		0);
	ck_assert_str_eq(st.bundle, "/tmp/b");
	ck_assert_str_eq(st.status, "created");
	ck_assert_ptr_null(hook_annotation(&st, NULL, "berth.worker"));
	hook_state_free(&st);
	/* podman's poststop: stopped, no pid */
	ck_assert_int_eq(parse("{\"ociVersion\":\"1.0.0\",\"id\":\"x\",\"status\":\"stopped\","
			       "\"bundle\":\"/b\"}",
			       HOOK_POSTSTOP, &st, &err),
			 0);
	ck_assert_int_eq(st.pid, 0);
	hook_state_free(&st);
}
END_TEST

START_TEST(state_bad)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"", "malformed"},
		{"{\"id\":", "malformed"},
		{"[1]", "not an object"},
		{"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"creating\",\"bundle\":\"/b\"}",
		 "needs the container's pid"},
		{"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"creating\",\"bundle\":\"/b\","
		 "\"pid\":0}",
		 "needs the container's pid"},
		{"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"creating\",\"bundle\":\"/b\","
		 "\"pid\":\"12\"}",
		 "pid is not an integer"},
		{"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"creating\",\"bundle\":\"/b\","
		 "\"pid\":-5}",
		 "out of range"},
		{"{\"ociVersion\":\"1\",\"status\":\"creating\",\"bundle\":\"/b\",\"pid\":5}",
		 "id"},
		{"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"creating\",\"bundle\":\"b\","
		 "\"pid\":5}",
		 "bundle"},
		{"{\"id\":\"a\",\"status\":\"creating\",\"bundle\":\"/b\",\"pid\":5}",
		 "ociVersion"},
		{"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"creating\",\"bundle\":\"/b\","
		 "\"pid\":5,\"annotations\":[]}",
		 "annotations"},
		{"{\"ociVersion\":\"1\",\"id\":\"a\",\"id\":\"b\",\"status\":\"creating\","
		 "\"bundle\":\"/b\",\"pid\":5}",
		 "malformed"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct hook_state st;
		char *err = NULL;
		ck_assert_msg(parse(bad[i].text, HOOK_CREATE_RUNTIME, &st, &err) == -EINVAL,
			      "accepted: %s", bad[i].text);
		ck_assert_msg(err && strstr(err, bad[i].msg), "%s: %s", bad[i].text, err);
		ck_assert_ptr_null(st.id);
		free(err);
	}
}
END_TEST

START_TEST(stages)
{
	enum hook_stage s;

	ck_assert_int_eq(hook_stage_parse("createRuntime", &s), 0);
	ck_assert_int_eq(s, HOOK_CREATE_RUNTIME);
	ck_assert_int_eq(hook_stage_parse("poststop", &s), 0);
	ck_assert(!hook_stage_needs_pid(s));
	ck_assert_int_eq(hook_stage_parse("createruntime", &s), -EINVAL);
	ck_assert_int_eq(hook_stage_parse(NULL, &s), -EINVAL);
}
END_TEST

START_TEST(bundle_config)
{
	struct hook_bundle b;
	struct hook_state st;
	char *err = NULL;

	ck_assert_int_eq(hook_bundle_parse("{\"root\":{\"path\":\"rootfs\"},\"process\":{\"user\":"
					   "{\"uid\":65534,\"gid\":65534}},\"annotations\":{"
					   "\"berth.worker\":\"web\"},\"linux\":{\"namespaces\":["
					   "{\"type\":\"pid\"},{\"type\":\"network\",\"path\":"
					   "\"/run/netns/x\"},{\"type\":\"ipc\"}]}}",
					   "/b", &b, &err),
			 0);
	ck_assert_str_eq(b.root, "/b/rootfs");
	ck_assert_int_eq(b.uid, 65534);
	ck_assert(b.ns_new[HOOK_NS_PID] && b.ns_listed[HOOK_NS_PID]);
	ck_assert_str_eq(b.ns_path[HOOK_NS_NET], "/run/netns/x");
	ck_assert(!b.ns_listed[HOOK_NS_MNT]);
	/* the state's annotation wins over config.json's */
	ck_assert_int_eq(parse("{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"creating\","
			       "\"bundle\":\"/b\",\"pid\":5,\"annotations\":{\"berth.worker\":"
			       "\"queue\"}}",
			       HOOK_CREATE_RUNTIME, &st, &err),
			 0);
	ck_assert_str_eq(hook_annotation(&st, &b, "berth.worker"), "queue");
	ck_assert_str_eq(hook_annotation(NULL, &b, "berth.worker"), "web");
	hook_state_free(&st);
	hook_bundle_free(&b);
	ck_assert_int_eq(hook_bundle_parse("{\"root\":{}}", "/b", &b, &err), -EINVAL);
	ck_assert(strstr(err, "root.path"));
	free(err);
	ck_assert_int_eq(hook_bundle_parse("{", "/b", &b, &err), -EINVAL);
	free(err);
}
END_TEST

START_TEST(bundle_mounts)
{
	struct hook_bundle b;
	char *err = NULL;

	ck_assert_int_eq(hook_bundle_parse("{\"root\":{\"path\":\"/r\"},\"mounts\":[{"
					   "\"destination\":\"/app/data/\"},{\"type\":\"x\"}]}",
					   "/b", &b, &err),
			 0);
	ck_assert(hook_bundle_mounts(&b, "/app/data"));
	ck_assert(hook_bundle_mounts(&b, "/app/data//"));
	ck_assert(!hook_bundle_mounts(&b, "/app"));
	ck_assert(!hook_bundle_mounts(&b, "/app/dat"));
	hook_bundle_free(&b);
	ck_assert_int_eq(hook_bundle_parse("{\"root\":{\"path\":\"/r\"}}", "/b", &b, &err), 0);
	ck_assert(!hook_bundle_mounts(&b, "/app/data"));
	hook_bundle_free(&b);
}
END_TEST

START_TEST(proc_status)
{
	pid_t ppid = 0, nspid = 0;
	int levels;

	ck_assert_int_eq(hook_parse_status("Name:\tsh\nPPid:\t4400\nNSpid:\t4422\t1\n", &ppid,
					   &nspid, &levels),
			 0);
	ck_assert_int_eq(ppid, 4400);
	ck_assert_int_eq(nspid, 1);
	ck_assert_int_eq(levels, 2);
	ck_assert_int_eq(hook_parse_status("PPid:\t1\nNSpid:\t99\n", &ppid, &nspid, &levels), 0);
	ck_assert_int_eq(levels, 1);
	ck_assert_int_eq(hook_parse_status("Name:\tx\n", &ppid, &nspid, &levels), -EINVAL);
}
END_TEST

/* ---- ocispec ---- */

static json_t *sample_spec(void)
{
	static char *envp[] = {S("PATH=/bin"), S("PLATFORM_APP_DIR=/app"), NULL};
	struct worker w = {.name = S("queue"), .app_name = S("shop"), .app_dir = S("/app")};
	struct cgroup_limits l = {
		.memory_bytes = 128 << 20, .cpu_quota_us = 40000, .pids_max = 4096};
	struct filter_opts fo = {0};
	struct ocispec_input in = {.w = &w,
				   .envp = envp,
				   .script = "exec sleep 1",
				   .uid = 65534,
				   .gid = 65534,
				   .limits = &l,
				   .filter = &fo,
				   .rootfs = "rootfs",
				   .hook_path = "/usr/bin/berth",
				   .app_config = "/app/.platform.app.yaml",
				   .stop_timeout_s = 15};
	return ocispec_build(&in);
}

START_TEST(spec_valid)
{
	json_t *spec = sample_spec(), *sc, *e;
	char *err = NULL;
	size_t i;
	bool listen = false;

	ck_assert_int_eq(ocispec_check(spec, &err), 0);
	ck_assert_str_eq(json_string_value(json_object_get(spec, "ociVersion")), OCISPEC_VERSION);
	/* berth run's hostname */
	ck_assert_str_eq(json_string_value(json_object_get(spec, "hostname")), "shop--queue");
	ck_assert(json_is_true(json_object_get(json_object_get(spec, "root"), "readonly")));
	ck_assert(
		json_is_true(json_object_get(json_object_get(spec, "process"), "noNewPrivileges")));
	ck_assert_int_eq(json_array_size(json_object_get(
				 json_object_get(json_object_get(spec, "process"), "capabilities"),
				 "bounding")),
			 0);
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(json_object_get(json_object_get(spec, "linux"),
								 "resources"),
						 "memory"),
				 "swap")),
			 128 << 20);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(spec, "annotations"),
							   OCISPEC_ANN_WORKER)),
			 "queue");
	sc = json_object_get(json_object_get(spec, "linux"), "seccomp");
	ck_assert_str_eq(json_string_value(json_object_get(sc, "defaultAction")), "SCMP_ACT_ALLOW");
	json_array_foreach(
		json_object_get(sc, "syscalls"), i,
		e) if (strcmp(json_string_value(json_array_get(json_object_get(e, "names"), 0)),
			      "listen") == 0) listen =
		json_integer_value(json_object_get(e, "errnoRet")) == EPERM;
	ck_assert(listen);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(json_object_get(spec, "hooks"),
								"createRuntime"),
						0),
				 "path")),
			 "/usr/bin/berth");
	json_decref(spec);
}
END_TEST

/* With a disk the hooks mount the storage: config.json binds none of it and
 * registers createContainer; without, it binds the storage directory. */
START_TEST(spec_storage_by_hook)
{
	struct worker w = {.name = S("queue"), .app_dir = S("/app")};
	struct mountplan_op op = {.kind = MP_BIND,
				  .msource = MOUNT_LOCAL,
				  .src_base = MPB_STORAGE,
				  .src_dir = S("p/e/app/queue/local"),
				  .source = S("data"),
				  .dst_base = MPB_APP,
				  .target = S("data"),
				  .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
	struct mountplan plan = {.app_root = S("/app"),
				 .storage_root = S("/st"),
				 .has_disk = true,
				 .disk_mb = 64,
				 .ops = &op,
				 .n_ops = 1};
	struct ocispec_input in = {.w = &w,
				   .script = "exec sleep 1",
				   .plan = &plan,
				   .rootfs = "rootfs",
				   .hook_path = "/usr/bin/berth",
				   .stop_timeout_s = 15};
	char *err = NULL;
	json_t *spec, *m;
	size_t i;
	int binds;

	for (int by_hook = 0; by_hook < 2; by_hook++) {
		in.storage_by_hook = by_hook;
		in.require_quota = by_hook;
		spec = ocispec_build(&in);
		ck_assert_int_eq(ocispec_check(spec, &err), 0);
		binds = 0;
		json_array_foreach(json_object_get(spec, "mounts"), i, m)
		{
			if (strcmp(json_string_value(json_object_get(m, "source")),
				   "/st/p/e/app/queue/local/data") == 0) {
				ck_assert_str_eq(
					json_string_value(json_object_get(m, "destination")),
					"/app/data");
				binds++;
			}
		}
		ck_assert_int_eq(binds, by_hook ? 0 : 1);
		ck_assert_int_eq(json_array_size(json_object_get(json_object_get(spec, "hooks"),
								 "createContainer")),
				 by_hook ? 1 : 0);
		ck_assert_int_eq(json_object_get(json_object_get(spec, "annotations"),
						 OCISPEC_ANN_REQUIRE_QUOTA) != NULL,
				 by_hook);
		json_decref(spec);
	}
}
END_TEST

START_TEST(spec_checker_rejects)
{
	static const struct {
		const char *path_set, *json, *msg;
	} bad[] = {
		{"ociVersion", "1", "ociVersion"},
		{"process.args", "[]", "process.args"},
		{"process.cwd", "\"rel\"", "process.cwd"},
		{"process.env", "[\"NOEQUALS\"]", "process.env"},
		{"process.user", "{\"uid\":-1,\"gid\":0}", "process.user"},
		{"root", "{}", "root.path"},
		{"mounts", "[{\"destination\":\"tmp\"}]", "mounts[0].destination"},
		{"hooks", "{\"prestop\":[]}", "unknown stage"},
		{"hooks", "{\"poststop\":[{\"path\":\"berth\"}]}", "path"},
		{"hooks", "{\"poststop\":[{\"path\":\"/b\",\"timeout\":0}]}", "timeout"},
		{"annotations", "{\"a\":1}", "annotations.a"},
		{"annotations", "{\"berth.app-config\":\"./.platform.app.yaml\"}",
		 "annotations.berth.app-config: './.platform.app.yaml' is not an absolute path"},
		{"annotations", "{\"berth.storage-root\":\"storage\"}", "berth.storage-root"},
		{"annotations", "{\"berth.state-dir\":\"\"}", "berth.state-dir"},
		{"linux", "{\"namespaces\":[{\"type\":\"net\"}]}", "namespaces[0].type"},
		{"linux", "{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}", "twice"},
		{"linux", "{\"seccomp\":{\"defaultAction\":\"ALLOW\"}}", "defaultAction"},
		{"linux",
		 "{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{"
		 "\"names\":[\"x\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,"
		 "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}}",
		 "args[0]"},
		{"linux", "{\"resources\":{\"pids\":{}}}", "pids.limit"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		json_t *spec = sample_spec(), *obj = spec;
		char *err = NULL, *path = xstrdup(bad[i].path_set), *dot = strchr(path, '.');
		if (dot) {
			*dot = '\0';
			obj = json_object_get(spec, path);
		}
		json_object_set_new(obj, dot ? dot + 1 : path,
				    json_loads(bad[i].json, JSON_DECODE_ANY, NULL));
		ck_assert_msg(ocispec_check(spec, &err) == -EINVAL, "accepted %s=%s",
			      bad[i].path_set, bad[i].json);
		ck_assert_msg(strstr(err, bad[i].msg), "%s: %s", bad[i].json, err);
		free(err);
		free(path);
		json_decref(spec);
	}
}
END_TEST

/* The app root's bind is read-only, whatever else config.json says: the
 * mount at the app's path has "ro" and no "rw" among its options. */
static bool has_option(const json_t *m, const char *opt)
{
	const json_t *o;
	size_t i;

	json_array_foreach(json_object_get(m, "options"), i, o)
	{
		if (strcmp(json_string_value(o), opt) == 0)
			return true;
	}
	return false;
}

START_TEST(spec_app_read_only)
{
	json_t *spec = sample_spec(), *m, *app = NULL;
	size_t i;

	json_array_foreach(json_object_get(spec, "mounts"), i, m)
	{
		if (strcmp(json_string_value(json_object_get(m, "destination")), "/app") == 0) {
			ck_assert_msg(!app, "two mounts at /app");
			app = m;
		}
	}
	ck_assert_msg(app, "no mount at the app's path");
	ck_assert(has_option(app, "ro"));
	ck_assert(!has_option(app, "rw"));
	json_decref(spec);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("oci");
	TCase *tc = tcase_create("hook");

	tcase_add_test(tc, state_variants);
	tcase_add_test(tc, state_bad);
	tcase_add_test(tc, stages);
	tcase_add_test(tc, bundle_config);
	tcase_add_test(tc, bundle_mounts);
	tcase_add_test(tc, proc_status);
	suite_add_tcase(s, tc);
	tc = tcase_create("spec");
	tcase_add_test(tc, spec_valid);
	tcase_add_test(tc, spec_storage_by_hook);
	tcase_add_test(tc, spec_checker_rejects);
	tcase_add_test(tc, spec_app_read_only);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
