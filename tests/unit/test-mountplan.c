/* SPDX-License-Identifier: MIT */
/* Unit tests of the mount plan (mountplan.c) and the lexical path checks
 * of safepath.c. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "mountplan.h"
#include "safepath.h"
#include "util.h"
#include "view.h"

#define S(x) ((char *)(x))

static struct mount mounts[4];
static struct worker w;
static struct mountplan_opts o;

static void setup(void)
{
	memset(&w, 0, sizeof(w));
	memset(mounts, 0, sizeof(mounts));
	/* sorted by path, as app_resolve leaves them */
	mounts[0] =
		(struct mount){.path = S("cache"), .source = MOUNT_TMP, .source_path = S("cache")};
	mounts[1] = (struct mount){.path = S("shared"),
				   .source = MOUNT_SERVICE,
				   .source_path = S(""),
				   .service = S("files")};
	mounts[2] = (struct mount){
		.path = S("web/uploads"), .source = MOUNT_LOCAL, .source_path = S("uploads")};
	mounts[3] = (struct mount){.path = S("web/uploads/thumbs"),
				   .source = MOUNT_LOCAL,
				   .source_path = S("uploads/thumbs")};
	w.name = S("queue");
	w.app_name = S("app");
	w.app_dir = S("/srv/app");
	w.has_disk = true;
	w.disk_mb = 512;
	w.mounts = mounts;
	w.n_mounts = 4;
	memset(&o, 0, sizeof(o));
	o.storage_root = "/var/lib/berth/storage/";
	o.project = "proj1";
	o.environment = "main-abc1234";
}

static int build(struct mountplan *p, char **err)
{
	return mountplan_build(&w, &o, p, err);
}

static void expect_fail(const char *needle);

/* The index of the first op of that kind (and target, unless NULL), or -1. */
static int find(const struct mountplan *p, enum mountplan_kind k, const char *target)
{
	for (size_t i = 0; i < p->n_ops; i++)
		if (p->ops[i].kind == k && (!target || strcmp(p->ops[i].target, target) == 0))
			return (int)i;
	return -1;
}

START_TEST(test_order)
{
	struct mountplan p;
	char *err = NULL;

	ck_assert_int_eq(build(&p, &err), 0);
	ck_assert_ptr_null(err);
	ck_assert_str_eq(p.storage_root, "/var/lib/berth/storage");
	ck_assert_str_eq(p.instance_dir, "proj1/main-abc1234/app/queue");
	/* namespaces, disk, the new root's parts, the app and its storage,
	 * /tmp and the tmp binds, the pivot last */
	ck_assert_int_eq(p.ops[0].kind, MP_PRIVATE);
	ck_assert_int_eq(p.ops[1].kind, MP_CGROUPNS);
	ck_assert_int_eq(p.ops[2].kind, MP_DISK);
	ck_assert_int_eq(p.ops[3].kind, MP_NEWROOT);
	ck_assert_int_eq(p.ops[p.n_ops - 1].kind, MP_PIVOT);
	int app = find(&p, MP_APP_RO, NULL), tmp = find(&p, MP_TMP, NULL);
	ck_assert_int_gt(app, find(&p, MP_SYS, NULL));
	ck_assert_int_gt(find(&p, MP_MASK_FILE, "etc/shadow"), find(&p, MP_DEVNODE, "dev/null"));
	ck_assert_int_gt(find(&p, MP_MASK_FILE, "proc/kcore"), find(&p, MP_PROC, NULL));
	ck_assert_int_eq(find(&p, MP_APP_AGAIN, NULL), -1);
	ck_assert_int_eq(find(&p, MP_MASK, "var/lib/berth/storage"), -1);
	ck_assert_str_eq(p.ops[app].target, "srv/app");
	ck_assert_uint_eq(p.ops[app].attr_set,
			  MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	ck_assert(p.ops[app].recursive);
	/* local and service binds after the app, the tmp one after /tmp */
	ck_assert_int_eq(p.ops[app + 1].kind, MP_BIND);
	ck_assert_str_eq(p.ops[app + 1].src_dir, "proj1/main-abc1234/.services/files");
	ck_assert_str_eq(p.ops[app + 1].source, "");
	ck_assert_str_eq(p.ops[app + 1].service, "files");
	const struct mountplan_op *b = &p.ops[app + 2];
	ck_assert_str_eq(b->src_dir, "proj1/main-abc1234/app/queue/local");
	ck_assert_str_eq(b->source, "uploads");
	ck_assert_int_eq(b->dst_base, MPB_APP);
	ck_assert_uint_eq(b->attr_set, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	ck_assert_uint_eq(b->attr_clr, MOUNT_ATTR_RDONLY);
	ck_assert(!b->recursive);
	ck_assert_str_eq(p.ops[app + 3].target, "web/uploads/thumbs");
	ck_assert_int_eq(tmp, app + 4);
	ck_assert_str_eq(p.ops[tmp].data, "1073741824");
	b = &p.ops[tmp + 1];
	ck_assert_int_eq(b->kind, MP_BIND);
	ck_assert_int_eq(b->msource, MOUNT_TMP);
	ck_assert_str_eq(b->source, "cache");
	ck_assert_str_eq(b->target, "cache");
	ck_assert_str_eq(p.ops[2].target, "proj1/main-abc1234/app/queue/local");
	ck_assert_str_eq(p.ops[2].source, "disk.img");
	ck_assert_str_eq(p.service_dirs[0], "proj1/main-abc1234/.services/files");
	ck_assert_ptr_null(p.service_dirs[1]);
	mountplan_free(&p);
}
END_TEST

START_TEST(test_new_root)
{
	struct mountplan p;
	char *err = NULL;
	const struct mountplan_cgroup cg[] = {{"cgroup2", "/sys/fs/cgroup/unified", ""},
					      {"cgroup", "/sys/fs/cgroup/cpu", "cpu,cpuacct"}};

	o.cgroups = cg;
	o.n_cgroups = 2;
	ck_assert_int_eq(build(&p, &err), 0);
	/* the OS, when present, read-only; secrets and kernel files masked */
	const char *os[] = {"usr", "etc", "opt", "bin", "sbin", "lib", "lib64"};
	for (size_t i = 0; i < ARRAY_SIZE(os); i++) {
		int k = find(&p, MP_OS, os[i]);
		ck_assert_int_ge(k, 0);
		ck_assert(p.ops[k].optional && p.ops[k].recursive);
		ck_assert(p.ops[k].attr_set & MOUNT_ATTR_RDONLY);
	}
	const char *files[] = {"etc/shadow", "etc/gshadow", "proc/kcore", "proc/keys",
			       "proc/sched_debug"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		ck_assert_int_ge(find(&p, MP_MASK_FILE, files[i]), 0);
	ck_assert_int_ge(find(&p, MP_MASK, "sys/firmware"), 0);
	ck_assert_int_ge(find(&p, MP_READONLY, "proc/sys"), 0);
	ck_assert_int_ge(find(&p, MP_HOSTS, "etc/hosts"), 0);
	ck_assert_int_ge(find(&p, MP_DEVNODE, "dev/urandom"), 0);
	ck_assert_int_eq(find(&p, MP_SYMLINK, "dev/core"), -1);
	ck_assert_str_eq(p.ops[find(&p, MP_SYMLINK, "var/tmp")].source, "/tmp");
	/* the cgroup hierarchies in their tmpfs, after the read-only sysfs */
	int t = find(&p, MP_CGROUP_TMPFS, "sys/fs/cgroup");
	ck_assert_int_gt(t, find(&p, MP_SYS, "sys"));
	ck_assert_int_eq(p.ops[t + 1].kind, MP_CGROUP);
	ck_assert_str_eq(p.ops[t + 1].target, "sys/fs/cgroup/unified");
	ck_assert_str_eq(p.ops[t + 2].source, "cgroup");
	ck_assert_str_eq(p.ops[t + 2].data, "cpu,cpuacct");
	mountplan_free(&p);
	/* pure v2: cgroup2 on /sys/fs/cgroup itself, no tmpfs */
	o.n_cgroups = 1;
	const struct mountplan_cgroup v2[] = {{"cgroup2", "/sys/fs/cgroup", ""}};
	o.cgroups = v2;
	ck_assert_int_eq(build(&p, &err), 0);
	ck_assert_int_eq(find(&p, MP_CGROUP_TMPFS, NULL), -1);
	ck_assert_int_ge(find(&p, MP_CGROUP, "sys/fs/cgroup"), 0);
	mountplan_free(&p);
	/* a storage root inside the OS stays hidden */
	o.storage_root = "/opt/berth/storage";
	ck_assert_int_eq(build(&p, &err), 0);
	ck_assert_int_gt(find(&p, MP_MASK, "opt/berth/storage"), find(&p, MP_OS, "opt"));
	mountplan_free(&p);
}
END_TEST

START_TEST(test_ro_bind)
{
	struct mountplan p;
	char *err = NULL;
	const char *ok[] = {"/srv/data", "/run/x.sock", NULL};

	o.ro_binds = ok;
	o.tmp_size = 64 << 20;
	ck_assert_int_eq(build(&p, &err), 0);
	int k = find(&p, MP_RO_BIND, "srv/data");
	ck_assert_int_ge(k, 0);
	ck_assert_str_eq(p.ops[k].source, "srv/data");
	ck_assert(p.ops[k].attr_set & MOUNT_ATTR_RDONLY);
	ck_assert_int_lt(k, find(&p, MP_APP_RO, NULL));
	ck_assert_str_eq(p.ops[find(&p, MP_TMP, NULL)].data, "67108864");
	mountplan_free(&p);
	const char *bad[][2] = {
		{"relative", "not an absolute"},
		{"/srv/../etc", "not an absolute"},
		{"/", "host's root"},
		{"/tmp/x", "its own"},
		{"/proc", "its own"},
		{"/var/lib/berth/storage/p", "inside the storage root"},
		{"/var/lib", "holds the storage root"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *one[] = {bad[i][0], NULL};
		o.ro_binds = one;
		expect_fail(bad[i][1]);
	}
}
END_TEST

START_TEST(test_web_is_another_instance)
{
	struct mountplan p, q;
	char *err = NULL;

	ck_assert_int_eq(build(&p, &err), 0);
	o.instance = "web";
	ck_assert_int_eq(build(&q, &err), 0);
	ck_assert_str_ne(p.instance_dir, q.instance_dir);
	ck_assert_str_eq(q.instance_dir, "proj1/main-abc1234/app/web");
	/* the service directory is shared */
	ck_assert_str_eq(p.service_dirs[0], q.service_dirs[0]);
	mountplan_free(&p);
	mountplan_free(&q);
}
END_TEST

START_TEST(test_options)
{
	struct mountplan p;
	char *err = NULL;

	w.has_disk = false;
	w.n_mounts = 1;
	o.no_shm = true;
	ck_assert_int_eq(build(&p, &err), 0);
	ck_assert_int_eq(find(&p, MP_DISK, NULL), -1);
	ck_assert_int_eq(find(&p, MP_SHM, NULL), -1);
	ck_assert_int_eq(find(&p, MP_BIND, NULL), find(&p, MP_TMP, NULL) + 1);
	mountplan_free(&p);
}
END_TEST

static void expect_fail(const char *needle)
{
	struct mountplan p;
	char *err = NULL;

	ck_assert_int_eq(build(&p, &err), -EINVAL);
	ck_assert_ptr_nonnull(err);
	if (!strstr(err, needle))
		ck_abort_msg("message '%s' lacks '%s'", err, needle);
	free(err);
}

START_TEST(test_bad_keys)
{
	const char *bad[] = {"", ".", "..", "a/b", "x\ny"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		setup();
		o.project = bad[i];
		expect_fail("project");
		setup();
		o.environment = bad[i];
		expect_fail("environment");
		setup();
		o.instance = bad[i];
		expect_fail("instance");
	}
	setup();
	o.project = NULL;
	expect_fail("project");
	setup();
	o.instance = ".services";
	expect_fail("starts with a dot");
}
END_TEST

START_TEST(test_bad_paths)
{
	const char *bad[] = {"../etc", "a/../../b", "/abs", "a//b", "a/./b", "a/", ""};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		setup();
		mounts[2].path = (char *)bad[i];
		w.n_mounts = 3;
		expect_fail("not a clean relative path");
		setup();
		if (!*bad[i])
			continue; /* "" is the volume root: allowed as source_path */
		mounts[2].source_path = (char *)bad[i];
		expect_fail("not a clean relative path");
	}
	setup();
	mounts[1].service = S("../x");
	expect_fail("service name");
}
END_TEST

START_TEST(test_conflicts)
{
	mounts[3].path = S("web/uploads");
	expect_fail("two mounts on 'web/uploads'");
	setup();
	mounts[3].source = MOUNT_TMP;
	expect_fail("nested in mount 'web/uploads' of another kind");
	setup();
	o.storage_root = "/srv/app/storage";
	expect_fail("must not contain each other");
	setup();
	o.storage_root = "/srv";
	expect_fail("must not contain each other");
	setup();
	o.storage_root = "/";
	expect_fail("must not contain each other");
	setup();
	o.storage_root = "relative/dir";
	expect_fail("must be absolute");
	setup();
	o.app_root = "/srv/../etc";
	expect_fail("must be absolute");
	setup();
	o.app_root = "/tmp";
	expect_fail("cannot be /tmp");
	setup();
	o.app_root = "/tmpfoo/app";
	struct mountplan p;
	char *err = NULL;
	ck_assert_int_eq(build(&p, &err), 0);
	ck_assert_int_eq(find(&p, MP_APP_AGAIN, NULL), -1);
	mountplan_free(&p);
	/* beneath /tmp: bound again inside the private /tmp, after it and
	 * the tmp binds, before the pivot */
	o.app_root = "/tmp/x/app";
	ck_assert_int_eq(build(&p, &err), 0);
	ck_assert_int_eq(p.ops[p.n_ops - 2].kind, MP_APP_AGAIN);
	ck_assert_str_eq(p.ops[p.n_ops - 2].target, "tmp/x/app");
	ck_assert_int_eq(p.ops[p.n_ops - 3].kind, MP_BIND);
	ck_assert_int_eq(p.ops[p.n_ops - 4].kind, MP_TMP);
	ck_assert_str_eq(mountplan_kind_name(MP_APP_AGAIN), "app-again");
	mountplan_free(&p);
}
END_TEST

START_TEST(test_json)
{
	struct mountplan p;
	char *err = NULL;

	ck_assert_int_eq(build(&p, &err), 0);
	json_t *j = mountplan_to_json(&p);
	json_t *st = json_object_get(j, "storage");
	ck_assert_str_eq(json_string_value(json_object_get(st, "instance")),
			 "/var/lib/berth/storage/proj1/main-abc1234/app/queue");
	ck_assert_int_eq(json_integer_value(json_object_get(st, "disk_mb")), 512);
	json_t *ops = json_object_get(j, "operations");
	ck_assert_uint_eq(json_array_size(ops), p.n_ops);
	/* every op has a name */
	for (size_t i = 0; i < p.n_ops; i++)
		ck_assert_str_ne(json_string_value(json_object_get(json_array_get(ops, i), "op")),
				 "?");
	int app = find(&p, MP_APP_RO, NULL);
	json_t *b = json_array_get(ops, (size_t)app + 2);
	ck_assert_str_eq(json_string_value(json_object_get(b, "op")), "bind");
	ck_assert_str_eq(json_string_value(json_object_get(b, "kind")), "local");
	ck_assert_str_eq(json_string_value(json_object_get(b, "source")),
			 "/var/lib/berth/storage/proj1/main-abc1234/app/queue/local/uploads");
	ck_assert_str_eq(json_string_value(json_object_get(b, "beneath")),
			 "/var/lib/berth/storage/proj1/main-abc1234/app/queue/local");
	ck_assert_str_eq(json_string_value(json_object_get(b, "target")), "/srv/app/web/uploads");
	char *flags = json_dumps(json_object_get(b, "flags"), JSON_COMPACT);
	ck_assert_str_eq(flags, "[\"rw\",\"nosuid\",\"nodev\"]");
	free(flags);
	b = json_array_get(ops, (size_t)app);
	ck_assert_str_eq(json_string_value(json_object_get(b, "target")), "/srv/app");
	flags = json_dumps(json_object_get(b, "flags"), JSON_COMPACT);
	ck_assert_str_eq(flags, "[\"ro\",\"nosuid\",\"nodev\",\"recursive\"]");
	free(flags);
	b = json_array_get(ops, (size_t)find(&p, MP_TMP, NULL));
	ck_assert_str_eq(json_string_value(json_object_get(b, "target")), "/tmp");
	flags = json_dumps(json_object_get(b, "flags"), JSON_COMPACT);
	ck_assert_str_eq(flags, "[\"tmpfs\",\"rw\",\"nosuid\",\"nodev\",\"size=1073741824\"]");
	free(flags);
	/* a tmp mount's source is in the private /tmp */
	b = json_array_get(ops, (size_t)find(&p, MP_TMP, NULL) + 1);
	ck_assert_str_eq(json_string_value(json_object_get(b, "source")), "/tmp/cache");
	b = json_array_get(ops, (size_t)find(&p, MP_DEVNODE, "dev/null"));
	ck_assert_str_eq(json_string_value(json_object_get(b, "source")), "/dev/null");
	ck_assert_str_eq(json_string_value(json_object_get(b, "device")), "1:3");
	b = json_array_get(ops, (size_t)find(&p, MP_MASK_FILE, "etc/shadow"));
	ck_assert_str_eq(json_string_value(json_object_get(b, "target")), "/etc/shadow");
	json_decref(j);
	mountplan_free(&p);
}
END_TEST

START_TEST(test_view_options)
{
	uint64_t v;
	char **paths = NULL;
	size_t n = 0;

	/* /tmp: 1G, or the memory limit when lower; --tmp-size wins */
	ck_assert_uint_eq(view_tmp_size(0, 0), 1ULL << 30);
	ck_assert_uint_eq(view_tmp_size(0, 256ULL << 20), 256ULL << 20);
	ck_assert_uint_eq(view_tmp_size(0, 4ULL << 30), 1ULL << 30);
	ck_assert_uint_eq(view_tmp_size(2ULL << 30, 256ULL << 20), 2ULL << 30);
	ck_assert_int_eq(view_parse_tmp_size("512M", &v), 0);
	ck_assert_uint_eq(v, 512ULL << 20);
	ck_assert_int_eq(view_parse_tmp_size("10K", &v), -EINVAL);
	ck_assert_int_eq(view_parse_tmp_size("lots", &v), -EINVAL);
	/* --ro-bind PATH, BERTH_RO_BIND=PATH:PATH */
	ck_assert_int_eq(view_ro_bind_add(&paths, &n, "/srv/a", false), 0);
	ck_assert_int_eq(view_ro_bind_add(&paths, &n, "/b:/c/d", true), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(paths[1], "/b");
	ck_assert_str_eq(paths[2], "/c/d");
	ck_assert_ptr_null(paths[3]);
	const char *bad[] = {"rel", "/a/../b", "/a/./b", "/a//b", "/a/", ""};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(view_ro_bind_add(&paths, &n, bad[i], false) == -EINVAL, "%s", bad[i]);
	ck_assert_int_eq(view_ro_bind_add(&paths, &n, "/a:rel", true), -EINVAL);
	strv_free(paths);
}
END_TEST

START_TEST(test_var_tmp)
{
	struct mountplan p;
	char *err = NULL;
	const char *rb[] = {"/var/tmp/shared", NULL};

	ck_assert_int_eq(build(&p, &err), 0);
	ck_assert_int_ge(find(&p, MP_SYMLINK, "var/tmp"), 0);
	mountplan_free(&p);
	/* a --ro-bind path or the app root beneath /var/tmp: a directory */
	o.ro_binds = rb;
	ck_assert_int_eq(build(&p, &err), 0);
	ck_assert_int_eq(find(&p, MP_SYMLINK, "var/tmp"), -1);
	mountplan_free(&p);
	o.ro_binds = NULL;
	o.app_root = "/var/tmp/app";
	ck_assert_int_eq(build(&p, &err), 0);
	ck_assert_int_eq(find(&p, MP_SYMLINK, "var/tmp"), -1);
	mountplan_free(&p);
}
END_TEST

START_TEST(test_rel_ok)
{
	ck_assert(safepath_rel_ok("a", false));
	ck_assert(safepath_rel_ok("a/b.c/..d", false));
	ck_assert(safepath_rel_ok("", true));
	ck_assert(!safepath_rel_ok("", false));
	const char *bad[] = {"/a", "a/", "a//b", ".", "..", "a/..", "./a", "a\x01", "a\x7f"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(!safepath_rel_ok(bad[i], true), "%s", bad[i]);
	char *longname = xmalloc(300);
	memset(longname, 'x', 299);
	longname[299] = '\0';
	ck_assert(!safepath_rel_ok(longname, false));
	free(longname);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mountplan");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_new_root);
	tcase_add_test(tc, test_ro_bind);
	tcase_add_test(tc, test_view_options);
	tcase_add_test(tc, test_var_tmp);
	tcase_add_test(tc, test_web_is_another_instance);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_bad_keys);
	tcase_add_test(tc, test_bad_paths);
	tcase_add_test(tc, test_conflicts);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_rel_ok);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
