/* SPDX-License-Identifier: MIT */
/*
 * --user parsing: strict numbers (CVE-2026-30892: "1" is uid 1), names
 * from the passwd database, groups, uid 0 only when asked for, gid 0
 * refused for anyone else; the default user.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "util.h"

static bool in_groups(const struct caps_user *u, gid_t g)
{
	for (size_t i = 0; i < u->n_groups; i++)
		if (u->groups[i] == g)
			return true;
	return false;
}

START_TEST(test_numeric)
{
	struct caps_user u;
	const char *msg;

	/* "1" is uid 1, never 0 (CVE-2026-30892) */
	ck_assert_int_eq(caps_user_parse("1", &u, &msg), 0);
	ck_assert_uint_eq(u.uid, 1);
	ck_assert(!u.root);
	ck_assert_uint_ne(u.gid, 0);
	ck_assert(in_groups(&u, u.gid));
	caps_user_free(&u);

	ck_assert_int_eq(caps_user_parse("1:2", &u, &msg), 0);
	ck_assert_uint_eq(u.uid, 1);
	ck_assert_uint_eq(u.gid, 2);
	ck_assert_uint_eq(u.n_groups, 1); /* an explicit gid: that group only */
	ck_assert_uint_eq(u.groups[0], 2);
	caps_user_free(&u);

	/* a uid without a passwd entry: gid = uid, no other group */
	ck_assert_int_eq(caps_user_parse("4242", &u, &msg), 0);
	ck_assert_uint_eq(u.uid, 4242);
	ck_assert_uint_eq(u.gid, 4242);
	ck_assert_uint_eq(u.n_groups, 1);
	ck_assert_ptr_null(u.name);
	caps_user_free(&u);

	ck_assert_int_eq(caps_user_parse("4294967294:4294967294", &u, &msg), 0);
	ck_assert_uint_eq(u.uid, 4294967294U);
	caps_user_free(&u);
}
END_TEST

START_TEST(test_bad)
{
	static const char *const bad[] = {
		"",
		"-1",
		"+1",
		" 12",
		"12 ",
		"12abc",
		"1e3",
		"0x10",
		"4294967295",
		"99999999999999999999",
		":",
		"1:",
		":1",
		"1:2:3",
		"1:-2",
		"1:0x2",
		"1: 2",
		"1:0",
		"no-such-user-berth",
		"nobody:no-such-group-berth",
		"1:4294967295",
	};
	struct caps_user u;
	const char *msg;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = caps_user_parse(bad[i], &u, &msg);
		ck_assert_msg(r == -EINVAL || r == -ENOENT, "'%s' accepted (%d)", bad[i], r);
		ck_assert_ptr_nonnull(msg);
	}
}
END_TEST

START_TEST(test_names)
{
	struct caps_user u;
	const char *msg;
	struct passwd *pw = getpwnam("nobody");

	ck_assert_ptr_nonnull(pw);
	ck_assert_int_eq(caps_user_parse("nobody", &u, &msg), 0);
	ck_assert_uint_eq(u.uid, pw->pw_uid);
	ck_assert_uint_eq(u.gid, pw->pw_gid);
	ck_assert_str_eq(u.name, "nobody");
	ck_assert(in_groups(&u, pw->pw_gid));
	caps_user_free(&u);

	ck_assert_int_eq(caps_user_parse("nobody:users", &u, &msg), 0);
	ck_assert_uint_eq(u.gid, 100);
	caps_user_free(&u);

	/* the numeric form of a known user finds its name and group */
	ck_assert_int_eq(caps_user_parse("65534", &u, &msg), 0);
	ck_assert_str_eq(u.name, "nobody");
	ck_assert_uint_eq(u.gid, pw->pw_gid);
	caps_user_free(&u);
}
END_TEST

START_TEST(test_root_explicit)
{
	struct caps_user u;
	const char *msg;

	ck_assert_int_eq(caps_user_parse("0", &u, &msg), 0);
	ck_assert(u.root);
	ck_assert_uint_eq(u.uid, 0);
	caps_user_free(&u);
	ck_assert_int_eq(caps_user_parse("root", &u, &msg), 0);
	ck_assert(u.root);
	caps_user_free(&u);
	/* gid 0 is for an explicit root only */
	ck_assert_int_eq(caps_user_parse("0:0", &u, &msg), 0);
	caps_user_free(&u);
	ck_assert_int_eq(caps_user_parse("65534:0", &u, &msg), -EINVAL);
	ck_assert_int_eq(caps_user_parse("nobody:root", &u, &msg), -EINVAL);
}
END_TEST

START_TEST(test_default)
{
	struct caps_user u;

	ck_assert_int_eq(caps_user_default(&u), 0);
	ck_assert(!u.root);
	ck_assert_ptr_nonnull(u.name);
	if (getpwnam("web"))
		ck_assert_str_eq(u.name, "web");
	else
		ck_assert_str_eq(u.name, "nobody");
	caps_user_free(&u);
	caps_user_free(&u);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("caps");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_numeric);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_root_explicit);
	tcase_add_test(tc, test_default);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
