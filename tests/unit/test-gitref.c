/* SPDX-License-Identifier: MIT */
/* Unit tests of gitref.c: HEAD, loose refs, packed-refs, `.git` files,
 * the config check and the tree id cache's entries. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gitref.h"
#include "util.h"

#define C1 "0123456789abcdef0123456789abcdef01234567"
#define C2 "89abcdef0123456789abcdef0123456789abcdef"
#define T1 "fedcba9876543210fedcba9876543210fedcba98"
#define S1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

START_TEST(test_id)
{
	ck_assert(gitref_id_ok(C1, 40));
	ck_assert(gitref_id_ok(S1, 64));
	ck_assert(!gitref_id_ok(C1, 39));
	ck_assert(!gitref_id_ok(S1, 41));
	ck_assert(!gitref_id_ok("0123456789ABCDEF0123456789abcdef01234567", 40));
	ck_assert(!gitref_id_ok("0123456789abcdeg0123456789abcdef01234567", 40));
	ck_assert(!gitref_id_ok("", 0));
}
END_TEST

START_TEST(test_branch)
{
	ck_assert(gitref_branch_ok("refs/heads/main"));
	ck_assert(gitref_branch_ok("refs/heads/feature/x-1_2"));
	const char *bad[] = {"refs/heads/",
			     "refs/tags/v1",
			     "refs/heads/../x",
			     "refs/heads/a..b",
			     "refs/heads/x.lock",
			     "refs/heads/a b",
			     "refs/heads/a//b",
			     "refs/heads/.x",
			     "refs/heads/x.",
			     "refs/heads/a~1",
			     "refs/heads/a@{1}",
			     "refs/heads/a\\b",
			     "HEAD",
			     "refs/heads/a/",
			     "refs/heads/a\tb"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(!gitref_branch_ok(bad[i]), "%s", bad[i]);
}
END_TEST

START_TEST(test_head)
{
	char id[GITREF_ID_MAX + 1];
	char *ref = NULL;

	ck_assert_int_eq(gitref_parse_head(C1 "\n", id, &ref), 1);
	ck_assert_str_eq(id, C1);
	ck_assert_ptr_null(ref);
	ck_assert_int_eq(gitref_parse_head(S1 "\n", id, &ref), 1);
	ck_assert_str_eq(id, S1);
	ck_assert_int_eq(gitref_parse_head("ref: refs/heads/main\n", id, &ref), 2);
	ck_assert_str_eq(ref, "refs/heads/main");
	free(ref);
	ref = NULL;
	const char *bad[] = {"",
			     C1,
			     C1 " \n",
			     C1 "\n" C1 "\n",
			     "0123456789ABCDEF0123456789abcdef01234567\n",
			     "0123456789abcdef0123456789abcdef0123456\n",
			     "ref: refs/tags/v1\n",
			     "ref:refs/heads/main\n",
			     "ref: refs/heads/main",
			     "ref: refs/heads/main \n",
			     "ref: refs/heads/../../config\n",
			     "ref: HEAD\n",
			     "\n"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_msg(gitref_parse_head(bad[i], id, &ref) == -EINVAL, "%s", bad[i]);
		ck_assert_ptr_null(ref);
	}
}
END_TEST

static const char packed[] = "# pack-refs with: peeled fully-peeled sorted \n" C2
			     " refs/heads/dev\n" C1 " refs/heads/main\n" T1 " refs/tags/v1\n"
			     "^" C2 "\n" C1 " refs/tags/v2\n";

START_TEST(test_packed)
{
	char id[GITREF_ID_MAX + 1];
	bool replace = true;

	ck_assert_int_eq(gitref_packed_find(packed, "refs/heads/main", id, &replace), 0);
	ck_assert_str_eq(id, C1);
	ck_assert(!replace);
	ck_assert_int_eq(gitref_packed_find(packed, "refs/heads/dev", id, &replace), 0);
	ck_assert_str_eq(id, C2);
	/* an annotated tag's own id, not the peeled line's */
	ck_assert_int_eq(gitref_packed_find(packed, "refs/tags/v1", id, &replace), 0);
	ck_assert_str_eq(id, T1);
	ck_assert_int_eq(gitref_packed_find(packed, "refs/heads/mai", id, &replace), -ENOENT);
	ck_assert_int_eq(gitref_packed_find(packed, "refs/heads/main2", id, &replace), -ENOENT);
	ck_assert_int_eq(gitref_packed_find("", "refs/heads/main", id, &replace), -ENOENT);
	/* no header, no final newline */
	ck_assert_int_eq(gitref_packed_find(C2 " refs/heads/main", "refs/heads/main", id, &replace),
			 0);
	ck_assert_str_eq(id, C2);
	ck_assert_int_eq(gitref_packed_find(C1 " refs/replace/" C2 "\n" C1 " refs/heads/main\n",
					    "refs/heads/main", id, &replace),
			 0);
	ck_assert(replace);
	const char *bad[] = {"^" C1 "\n" C1 " refs/heads/main\n",
			     C1 " refs/tags/v1\n^" C2 "\n^" C2 "\n",
			     C1 " refs/heads/main\n\n",
			     C1 " refs/heads/main\n# comment\n",
			     C1 "\n",
			     C1 " \n",
			     C1 "  refs/heads/main\n",
			     C1 " HEAD\n",
			     C1 " refs/heads/a b\n",
			     "0123456789abcdef0123456789abcdef0123456 refs/heads/main\n",
			     C1 " refs/heads/x\n^bad\n"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(gitref_packed_find(bad[i], "refs/heads/main", id, &replace) ==
				      -EINVAL,
			      "%s", bad[i]);
}
END_TEST

START_TEST(test_gitfile)
{
	char *p = NULL;

	ck_assert_int_eq(gitref_gitfile("gitdir: /srv/main/.git/worktrees/x\n", &p), 0);
	ck_assert_str_eq(p, "/srv/main/.git/worktrees/x");
	free(p);
	ck_assert_int_eq(gitref_gitfile("gitdir: ../.git/modules/m\n", &p), 0);
	ck_assert_str_eq(p, "../.git/modules/m");
	free(p);
	p = NULL;
	const char *bad[] = {"gitdir: /x",   "gitdir:/x\n",	 "gitdir: \n",
			     "GITDIR: /x\n", "gitdir: /x\n/y\n", ""};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_msg(gitref_gitfile(bad[i], &p) == -EINVAL, "%s", bad[i]);
		ck_assert_ptr_null(p);
	}
}
END_TEST

START_TEST(test_config)
{
	ck_assert(gitref_config_plain(""));
	ck_assert(gitref_config_plain("[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n"
				      "\tbare = false\n\tlogallrefupdates = true\n"
				      "[remote \"origin\"]\n\turl = https://example.org/a.git\n"
				      "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
				      "# a comment\n; another\n[user]\n\tname = A B\n"));
	ck_assert(gitref_config_plain("[core]\n\trepositoryformatversion = 1\n\tBare = False\n"
				      "[extensions]\n\tobjectformat = sha256\n"));
	const char *bad[] = {
		"[include]\n\tpath = other\n",
		"[includeIf \"gitdir:/x/\"]\n\tpath = other\n",
		"[core]\n\tworktree = /elsewhere\n",
		"[core]\n\tWorkTree = /elsewhere\n",
		"[core]\n\tbare = true\n",
		"[core]\n\tbare\n",
		"[core]\n\tbare = 0\n",
		"[core] bare = false\n",
		"[core]\n\trepositoryformatversion = 2\n",
		"[extensions]\n\tworktreeConfig = true\n",
		"[extensions]\n\trefStorage = reftable\n",
		"[extensions]\n\tobjectformat = sha512\n",
		"[extensions]\n\tpartialclone = origin\n",
		"[Extensions]\n\tnoop = true\n",
		"[core]\n\tx = a \\\n\tworktree\n",
		"\tfilemode = true\n",
		"[core]\n\t=x\n",
		"[core]\n\t1x = y\n",
		"[core\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(!gitref_config_plain(bad[i]), "%s", bad[i]);
}
END_TEST

START_TEST(test_cache)
{
	char tree[GITREF_ID_MAX + 1];
	char *name = gitref_cache_name(C1, "/srv/app/.git", "web");
	char *other = gitref_cache_name(C1, "/srv/app/.git", "api");
	char *split = gitref_cache_name(C1, "/srv/app/.gitw", "eb");

	ck_assert_uint_eq(strlen(name), 40 + 1 + 16);
	ck_assert(strncmp(name, C1 "-", 41) == 0);
	ck_assert_str_ne(name, other);
	ck_assert_str_ne(name, split);
	ck_assert_ptr_null(gitref_cache_name(C1, "/a\nb", ""));
	ck_assert_ptr_null(gitref_cache_name(C1, "/a", "x\n"));
	ck_assert_ptr_null(gitref_cache_name("../../etc/passwd", "/a", ""));
	free(name);
	free(other);
	free(split);

	char *text = gitref_cache_text(C1, "/srv/app/.git", "web", T1);

	ck_assert_int_eq(gitref_cache_parse(text, C1, "/srv/app/.git", "web", tree), 0);
	ck_assert_str_eq(tree, T1);
	/* another key in the same file is not believed */
	ck_assert_int_eq(gitref_cache_parse(text, C2, "/srv/app/.git", "web", tree), -EINVAL);
	ck_assert_int_eq(gitref_cache_parse(text, C1, "/srv/app/.git", "api", tree), -EINVAL);
	ck_assert_int_eq(gitref_cache_parse(text, C1, "/srv/other/.git", "web", tree), -EINVAL);
	/* truncated, garbage after it, a changed digit's case */
	text[strlen(text) - 5] = '\0';
	ck_assert_int_eq(gitref_cache_parse(text, C1, "/srv/app/.git", "web", tree), -EINVAL);
	free(text);
	text = gitref_cache_text(C1, "/srv/app/.git", "web", T1 "\nx");
	ck_assert_int_eq(gitref_cache_parse(text, C1, "/srv/app/.git", "web", tree), -EINVAL);
	free(text);
	text = gitref_cache_text(C1, "/srv/app/.git", "web",
				 "FEDCBA9876543210fedcba9876543210fedcba98");
	ck_assert_int_eq(gitref_cache_parse(text, C1, "/srv/app/.git", "web", tree), -EINVAL);
	free(text);
	/* a SHA-256 tree for a SHA-1 commit */
	text = gitref_cache_text(C1, "/srv/app/.git", "web", S1);
	ck_assert_int_eq(gitref_cache_parse(text, C1, "/srv/app/.git", "web", tree), -EINVAL);
	free(text);
	ck_assert_int_eq(gitref_cache_parse("", C1, "/srv/app/.git", "web", tree), -EINVAL);
	/* none: the commit has no such directory */
	text = gitref_cache_text(C1, "/srv/app/.git", "web", NULL);
	ck_assert_int_eq(gitref_cache_parse(text, C1, "/srv/app/.git", "web", tree), 1);
	ck_assert_int_eq(gitref_cache_parse(text, C1, "/srv/app/.git", "api", tree), -EINVAL);
	free(text);
	text = gitref_cache_text(C1, "/srv/app/.git", "web", "nonE");
	ck_assert_int_eq(gitref_cache_parse(text, C1, "/srv/app/.git", "web", tree), -EINVAL);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gitref");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_id);
	tcase_add_test(tc, test_branch);
	tcase_add_test(tc, test_head);
	tcase_add_test(tc, test_packed);
	tcase_add_test(tc, test_gitfile);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_cache);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
