/* SPDX-License-Identifier: MIT */
/*
 * Every enum with a name table names every value: berth show, the logs
 * and the option parsers print and read these names, and a gap in a
 * designated-initializer table is a NULL that silently drops a JSON
 * member (an "op" of the mount plan was lost that way).  Each table is
 * sized by its enum's _COUNT member; this walks every value of every
 * table a module exports a name function for.  A table private to its
 * file is positional and counted by a _Static_assert there (spawn.c,
 * nsinit.c, env.c, context.c, egress-rules.c, cgroup-fs.c, log.c).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cgroup-internal.h"
#include "hook.h"
#include "mountplan.h"
#include "net.h"
#include "size.h"
#include "supervise.h"

/* names[0..n) all set, none "?", no two alike. */
static void all_named(const char *what, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(names[i] && *names[i] && strcmp(names[i], "?") != 0,
			      "%s value %zu has no name", what, i);
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(strcmp(names[i], names[j]) != 0,
				      "%s values %zu and %zu are both '%s'", what, j, i, names[i]);
	}
}

START_TEST(test_mountplan_kinds)
{
	const char *names[MP_KIND_COUNT];

	for (int k = 0; k < MP_KIND_COUNT; k++)
		names[k] = mountplan_kind_name((enum mountplan_kind)k);
	all_named("mountplan_kind", names, MP_KIND_COUNT);
	ck_assert_str_eq(mountplan_kind_name(MP_APP_AGAIN), "app-again");
	ck_assert_str_eq(mountplan_kind_name(MP_KIND_COUNT), "?");
}
END_TEST

START_TEST(test_hook_stages)
{
	const char *names[HOOK_STAGE_COUNT];
	enum hook_stage back;

	for (int s = 0; s < HOOK_STAGE_COUNT; s++) {
		names[s] = hook_stage_name((enum hook_stage)s);
		ck_assert_int_eq(hook_stage_parse(names[s], &back), 0);
		ck_assert_int_eq(back, s);
	}
	all_named("hook_stage", names, HOOK_STAGE_COUNT);
	ck_assert_int_eq(hook_stage_parse("?", &back), -EINVAL);
}
END_TEST

START_TEST(test_net_modes)
{
	const char *names[NET_MODE_COUNT], *msg;
	struct net_opts o;

	for (int m = 0; m < NET_MODE_COUNT; m++) {
		names[m] = net_mode_name((enum net_mode)m);
		if (m == NET_NETNS)
			continue; /* "netns:PATH" */
		ck_assert_int_eq(net_parse_mode(names[m], &o, &msg), 0);
		ck_assert_int_eq(o.mode, m);
		net_opts_free(&o);
	}
	all_named("net_mode", names, NET_MODE_COUNT);
	ck_assert_int_eq(net_parse_mode("netns:/run/netns/x", &o, &msg), 0);
	ck_assert_int_eq(o.mode, NET_NETNS);
	net_opts_free(&o);
}
END_TEST

START_TEST(test_supervise_names)
{
	const char *states[SUP_STATE_COUNT], *modes[SUP_KILL_MODE_COUNT],
		*leftovers[SUP_LEFTOVER_COUNT];
	enum supervise_kill_mode km;
	enum supervise_leftover lo;

	for (int s = 0; s < SUP_STATE_COUNT; s++)
		states[s] = supervise_state_name((enum supervise_state)s);
	all_named("supervise_state", states, SUP_STATE_COUNT);
	for (int m = 0; m < SUP_KILL_MODE_COUNT; m++) {
		modes[m] = supervise_kill_mode_name((enum supervise_kill_mode)m);
		ck_assert_int_eq(supervise_kill_mode_parse(modes[m], &km), 0);
		ck_assert_int_eq(km, m);
	}
	all_named("supervise_kill_mode", modes, SUP_KILL_MODE_COUNT);
	for (int l = 0; l < SUP_LEFTOVER_COUNT; l++) {
		leftovers[l] = supervise_leftover_name((enum supervise_leftover)l);
		ck_assert_int_eq(supervise_leftover_parse(leftovers[l], &lo), 0);
		ck_assert_int_eq(lo, l);
	}
	all_named("supervise_leftover", leftovers, SUP_LEFTOVER_COUNT);
}
END_TEST

START_TEST(test_kill_reasons)
{
	const char *names[SUP_KILL_REASON_COUNT];

	for (int r = 0; r < SUP_KILL_REASON_COUNT; r++)
		names[r] = supervise_kill_reason_name((enum supervise_kill_reason)r);
	all_named("supervise_kill_reason", names, SUP_KILL_REASON_COUNT);
	/* the "killed" line's reason (doc/supervision.md: reason `oom`) */
	ck_assert_str_eq(supervise_kill_reason_name(SUP_KILL_DEADLINE), "deadline");
	ck_assert_str_eq(supervise_kill_reason_name(SUP_KILL_OOM), "oom");
	ck_assert_str_eq(supervise_kill_reason_name(SUP_KILL_REASON_COUNT), "?");
}
END_TEST

START_TEST(test_cgroup_v1_controllers)
{
	all_named("cgroup_v1_ctl", cgfs_v1_name, CG_V1_COUNT);
	ck_assert_str_eq(cgfs_v1_name[CG_V1_FREEZER], "freezer");
	ck_assert_str_eq(cgfs_v1_name[CG_V1_PIDS], "pids");
}
END_TEST

START_TEST(test_sizes)
{
	const char *names[SIZE_COUNT];
	enum size_name back;

	for (int i = 0; i < SIZE_COUNT; i++) {
		names[i] = size_to_string((enum size_name)i);
		ck_assert_int_eq(size_parse(names[i], &back), 0);
		ck_assert_int_eq(back, i);
	}
	all_named("size_name", names, SIZE_COUNT);
}
END_TEST

START_TEST(test_mount_sources)
{
	const char *names[] = {mount_source_to_string(MOUNT_LOCAL),
			       mount_source_to_string(MOUNT_TMP),
			       mount_source_to_string(MOUNT_SERVICE)};

	all_named("mount_source", names, 3);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_mountplan_kinds);
	tcase_add_test(tc, test_hook_stages);
	tcase_add_test(tc, test_net_modes);
	tcase_add_test(tc, test_supervise_names);
	tcase_add_test(tc, test_kill_reasons);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_cgroup_v1_controllers);
	tcase_add_test(tc, test_mount_sources);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
