/* SPDX-License-Identifier: MIT */
/* Unit tests of the pure cgroup parsers: mountinfo of pure v2, hybrid and
 * v1-only hosts (and containers), /proc/<pid>/cgroup, layout narrowing. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "cleanup.h"

/* Debian 12, systemd 252: pure v2. */
static const char mi_v2[] =
	"22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
	"23 28 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	"24 28 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=4008264k,"
	"nr_inodes=1002066,mode=755,inode64\n"
	"28 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
	"26 22 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
	"rw,nsdelegate,memory_recursiveprot\n"
	"27 22 0:25 / /sys/fs/pstore rw,nosuid,nodev,noexec,relatime shared:10 - pstore pstore "
	"rw\n";

/* This VM (kernel 6.18): v1 controllers, cpu and cpuacct apart, cgroup2 at
 * /sys/fs/cgroup/unified; no optional fields before the separator. */
static const char mi_hybrid_vm[] =
	"23 1 253:0 / / rw,relatime - ext4 /dev/vda rw\n"
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
	"34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
	"37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
	"38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
	"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* Ubuntu 20.04, systemd 245: hybrid with cpu,cpuacct together. */
static const char mi_hybrid_ubuntu[] =
	"25 23 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
	"26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 "
	"cgroup2 rw,nsdelegate\n"
	"27 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup "
	"cgroup rw,xattr,name=systemd\n"
	"30 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - "
	"cgroup cgroup rw,cpu,cpuacct\n"
	"31 25 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup "
	"cgroup rw,memory\n"
	"32 25 0:30 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:17 - "
	"cgroup cgroup rw,net_cls,net_prio\n"
	"33 25 0:31 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:18 - cgroup "
	"cgroup rw,freezer\n"
	"34 25 0:32 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:19 - cgroup "
	"cgroup rw,pids\n";

/* CentOS 7, systemd 219: v1 only, "cpuacct,cpu" in that order. */
static const char mi_v1[] =
	"24 18 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755\n"
	"25 24 0:21 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup "
	"cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd\n"
	"28 24 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - "
	"cgroup cgroup rw,cpuacct,cpu\n"
	"29 24 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup "
	"cgroup rw,memory\n"
	"31 24 0:27 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:15 - cgroup "
	"cgroup rw,freezer\n"
	"33 24 0:29 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:17 - cgroup "
	"cgroup rw,pids\n"
	"34 24 0:30 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:18 - cgroup "
	"cgroup rw,cpuset\n";

/* Docker on a v1 host: the container's own cgroups bind-mounted read-only. */
static const char mi_v1_container[] =
	"1021 1003 0:90 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs "
	"rw,mode=755\n"
	"1024 1021 0:29 /docker/4a1b /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime "
	"master:16 - cgroup memory rw,memory\n"
	"1025 1021 0:31 /docker/4a1b /sys/fs/cgroup/freezer ro,nosuid,nodev,noexec,relatime "
	"master:18 - cgroup freezer rw,freezer\n";

START_TEST(test_mountinfo_v2)
{
	struct cgroup_layout l;

	ck_assert_int_eq(cgroup_parse_mountinfo(mi_v2, &l), 0);
	ck_assert_int_eq(l.mode, CGROUP_MODE_V2);
	ck_assert_str_eq(l.unified_mnt, "/sys/fs/cgroup");
	ck_assert_str_eq(l.unified_root, "/");
	for (int i = 0; i < CG_V1_COUNT; i++)
		ck_assert_ptr_null(l.v1_mnt[i]);
	ck_assert_str_eq(cgroup_mode_to_string(l.mode), "v2");
	cgroup_layout_free(&l);
}
END_TEST

START_TEST(test_mountinfo_hybrid)
{
	struct cgroup_layout l;

	ck_assert_int_eq(cgroup_parse_mountinfo(mi_hybrid_vm, &l), 0);
	ck_assert_int_eq(l.mode, CGROUP_MODE_HYBRID);
	ck_assert_str_eq(l.unified_mnt, "/sys/fs/cgroup/unified");
	ck_assert_str_eq(l.v1_mnt[CG_V1_CPU], "/sys/fs/cgroup/cpu"); /* not cpuacct, cpuset */
	ck_assert_str_eq(l.v1_mnt[CG_V1_MEMORY], "/sys/fs/cgroup/memory");
	ck_assert_str_eq(l.v1_mnt[CG_V1_PIDS], "/sys/fs/cgroup/pids");
	ck_assert_str_eq(l.v1_mnt[CG_V1_FREEZER], "/sys/fs/cgroup/freezer");
	ck_assert_str_eq(cgroup_mode_to_string(l.mode), "hybrid");
	cgroup_layout_free(&l);

	ck_assert_int_eq(cgroup_parse_mountinfo(mi_hybrid_ubuntu, &l), 0);
	ck_assert_int_eq(l.mode, CGROUP_MODE_HYBRID);
	ck_assert_str_eq(l.unified_mnt, "/sys/fs/cgroup/unified");
	ck_assert_str_eq(l.v1_mnt[CG_V1_CPU], "/sys/fs/cgroup/cpu,cpuacct");
	ck_assert_str_eq(l.v1_mnt[CG_V1_FREEZER], "/sys/fs/cgroup/freezer");
	cgroup_layout_free(&l);
}
END_TEST

START_TEST(test_mountinfo_v1)
{
	struct cgroup_layout l;

	ck_assert_int_eq(cgroup_parse_mountinfo(mi_v1, &l), 0);
	ck_assert_int_eq(l.mode, CGROUP_MODE_V1);
	ck_assert_ptr_null(l.unified_mnt);
	ck_assert_str_eq(l.v1_mnt[CG_V1_CPU], "/sys/fs/cgroup/cpu,cpuacct");
	ck_assert_str_eq(l.v1_mnt[CG_V1_MEMORY], "/sys/fs/cgroup/memory");
	ck_assert_str_eq(l.v1_mnt[CG_V1_FREEZER], "/sys/fs/cgroup/freezer");
	ck_assert_str_eq(l.v1_mnt[CG_V1_PIDS], "/sys/fs/cgroup/pids");
	cgroup_layout_free(&l);

	ck_assert_int_eq(cgroup_parse_mountinfo(mi_v1_container, &l), 0);
	ck_assert_int_eq(l.mode, CGROUP_MODE_V1);
	ck_assert_str_eq(l.v1_root[CG_V1_MEMORY], "/docker/4a1b");
	ck_assert_ptr_null(l.v1_mnt[CG_V1_PIDS]);
	cgroup_layout_free(&l);
}
END_TEST

START_TEST(test_mountinfo_none_and_odd)
{
	struct cgroup_layout l;
	/* crun's workaround: a tmpfs over the cgroup2 mount hides it. */
	static const char hidden[] =
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
		"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
		"90 41 0:60 / /sys/fs/cgroup/unified rw,relatime - tmpfs tmpfs rw\n";
	/* Escaped blanks in the mount point; garbage lines are ignored. */
	static const char escaped[] = "garbage\n\n"
				      "50 1 0:40 / /mnt/my\\040cg rw - cgroup2 none rw\n"
				      "51 1 0:41 / /x rw shared:1 -\n";
	/* A tmpfs over /sys/fs/cgroup itself hides everything beneath. */
	static const char over_parent[] =
		"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
		"91 23 0:61 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw\n";

	ck_assert_int_eq(cgroup_parse_mountinfo("", &l), 0);
	ck_assert_int_eq(l.mode, CGROUP_MODE_NONE);
	ck_assert_str_eq(cgroup_mode_to_string(l.mode), "none");
	cgroup_layout_free(&l);

	ck_assert_int_eq(cgroup_parse_mountinfo(hidden, &l), 0);
	ck_assert_int_eq(l.mode, CGROUP_MODE_V1);
	ck_assert_ptr_null(l.unified_mnt);
	cgroup_layout_free(&l);

	ck_assert_int_eq(cgroup_parse_mountinfo(escaped, &l), 0);
	ck_assert_int_eq(l.mode, CGROUP_MODE_V2);
	ck_assert_str_eq(l.unified_mnt, "/mnt/my cg");
	cgroup_layout_free(&l);

	ck_assert_int_eq(cgroup_parse_mountinfo(over_parent, &l), 0);
	ck_assert_int_eq(l.mode, CGROUP_MODE_NONE);
	cgroup_layout_free(&l);

	/* Without a trailing newline. */
	ck_assert_int_eq(cgroup_parse_mountinfo("1 1 0:1 / /cg rw - cgroup2 c rw", &l), 0);
	ck_assert_str_eq(l.unified_mnt, "/cg");
	cgroup_layout_free(&l);
}
END_TEST

START_TEST(test_proc_cgroup)
{
	static const char v2[] = "0::/user.slice/user-1000.slice/session-2.scope\n";
	static const char hybrid[] = "12:pids:/user.slice/user-1000.slice/user@1000.service\n"
				     "5:freezer:/\n"
				     "4:cpu,cpuacct:/user.slice\n"
				     "3:memory:/process_api/f74bd3e8\n"
				     "1:name=systemd:/user.slice/user-1000.slice/session-1.scope\n"
				     "0::/user.slice/user-1000.slice/session-1.scope";
	char *p = NULL;

	ck_assert_int_eq(cgroup_parse_proc_cgroup(v2, NULL, &p), 0);
	ck_assert_str_eq(p, "/user.slice/user-1000.slice/session-2.scope");
	free(p);
	ck_assert_int_eq(cgroup_parse_proc_cgroup(v2, "memory", &p), -ENOENT);

	ck_assert_int_eq(cgroup_parse_proc_cgroup(hybrid, NULL, &p), 0);
	ck_assert_str_eq(p, "/user.slice/user-1000.slice/session-1.scope");
	free(p);
	ck_assert_int_eq(cgroup_parse_proc_cgroup(hybrid, "cpu", &p), 0);
	ck_assert_str_eq(p, "/user.slice");
	free(p);
	ck_assert_int_eq(cgroup_parse_proc_cgroup(hybrid, "memory", &p), 0);
	ck_assert_str_eq(p, "/process_api/f74bd3e8");
	free(p);
	ck_assert_int_eq(cgroup_parse_proc_cgroup(hybrid, "freezer", &p), 0);
	ck_assert_str_eq(p, "/");
	free(p);
	ck_assert_int_eq(cgroup_parse_proc_cgroup(hybrid, "systemd", &p), -ENOENT);
	ck_assert_int_eq(cgroup_parse_proc_cgroup(hybrid, "cpuset", &p), -ENOENT);
	/* "cpu" must not match "cpuacct" alone. */
	ck_assert_int_eq(cgroup_parse_proc_cgroup("2:cpuacct:/a\n", "cpu", &p), -ENOENT);
	ck_assert_int_eq(cgroup_parse_proc_cgroup("bogus\n", NULL, &p), -EINVAL);
	ck_assert_int_eq(cgroup_parse_proc_cgroup("0::relative\n", NULL, &p), -EINVAL);
	ck_assert_int_eq(cgroup_parse_proc_cgroup("", NULL, &p), -ENOENT);
}
END_TEST

START_TEST(test_layout_force)
{
	struct cgroup_layout l;

	cgroup_parse_mountinfo(mi_hybrid_vm, &l);
	ck_assert_int_eq(cgroup_layout_force(&l, CGROUP_MODE_V2), 0);
	ck_assert_int_eq(l.mode, CGROUP_MODE_V2);
	ck_assert_str_eq(l.unified_mnt, "/sys/fs/cgroup/unified");
	ck_assert_ptr_null(l.v1_mnt[CG_V1_MEMORY]);
	cgroup_layout_free(&l);

	cgroup_parse_mountinfo(mi_hybrid_vm, &l);
	ck_assert_int_eq(cgroup_layout_force(&l, CGROUP_MODE_V1), 0);
	ck_assert_ptr_null(l.unified_mnt);
	ck_assert_str_eq(l.v1_mnt[CG_V1_FREEZER], "/sys/fs/cgroup/freezer");
	cgroup_layout_free(&l);

	cgroup_parse_mountinfo(mi_v2, &l);
	ck_assert_int_eq(cgroup_layout_force(&l, CGROUP_MODE_HYBRID), -ENOENT);
	cgroup_layout_free(&l);
	cgroup_parse_mountinfo(mi_v2, &l);
	ck_assert_int_eq(cgroup_layout_force(&l, CGROUP_MODE_V1), -ENOENT);
	cgroup_layout_free(&l);
}
END_TEST

static Suite *cgroup_parse_suite(void)
{
	Suite *s = suite_create("cgroup-parse");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_mountinfo_v2);
	tcase_add_test(tc, test_mountinfo_hybrid);
	tcase_add_test(tc, test_mountinfo_v1);
	tcase_add_test(tc, test_mountinfo_none_and_odd);
	tcase_add_test(tc, test_proc_cgroup);
	tcase_add_test(tc, test_layout_force);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cgroup_parse_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
