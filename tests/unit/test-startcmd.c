/* SPDX-License-Identifier: MIT */
/* startcmd: which start commands skip the shell, and their words. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "startcmd.h"
#include "util.h"

/* Each needs the shell: one case per class of what the shell would do. */
static const char *const need_shell[] = {
	"",
	"   ",
	"php $HOME",	    /* expansion */
	"php ${X}",	    /* expansion */
	"echo `id`",	    /* command substitution */
	"php 'a b'",	    /* quotes */
	"php \"a\"",	    /* quotes */
	"php a\\ b",	    /* backslash */
	"php *.php",	    /* glob */
	"php a?",	    /* glob */
	"php [ab]",	    /* glob */
	"php ~/x",	    /* tilde */
	"php a # comment",  /* comment */
	"php a; php b",	    /* list */
	"php a && php b",   /* list */
	"php a | cat",	    /* pipe */
	"php a > f",	    /* redirection */
	"php a < f",	    /* redirection */
	"php a &",	    /* background */
	"(php a)",	    /* subshell */
	"{ php a; }",	    /* group */
	"! php a",	    /* negation */
	"php a\nphp b",	    /* two lines */
	"php a\r",	    /* not a blank */
	"php caf\xc3\xa9",  /* non-ASCII */
	"if",		    /* reserved word */
	"while true",	    /* reserved word */
	"cd /tmp",	    /* builtin */
	". ./env",	    /* builtin */
	": x",		    /* builtin */
	"echo hi",	    /* builtin */
	"exec",		    /* exec without a command */
	"exec   ",	    /* exec without a command */
	"exec cd /",	    /* a builtin after exec */
	"exec exec php",    /* exec twice */
	"exec -a name php", /* an option of exec */
	"FOO=1 php",	    /* assignment */
	"exec FOO=1 php",   /* assignment */
	"-php",		    /* an option first */
	"%1",		    /* a job */
	"php a=$(id)",	    /* substitution */
};

START_TEST(test_need_shell)
{
	const char *cmd = need_shell[_i];

	ck_assert_msg(startcmd_why_shell(cmd) != NULL, "'%s' needs the shell", cmd);
	ck_assert_ptr_null(startcmd_argv(cmd));
}
END_TEST

/* command, then its words joined by '|' */
static const char *const direct[][2] = {
	{"php worker.php", "php|worker.php"},
	{"exec php worker.php", "php|worker.php"},
	{"  exec\tphp   worker.php  ", "php|worker.php"},
	{"/app/bin/run --port=8080 -v", "/app/bin/run|--port=8080|-v"},
	{"./run a,b c:d e+f g@h 50% x.y_z", "./run|a,b|c:d|e+f|g@h|50%|x.y_z"},
	{"node", "node"},
	{"php worker.php\n", "php|worker.php"},
	{"php worker.php \n\n ", "php|worker.php"},
	{"exec node", "node"},
	{"execute a", "execute|a"},
	{"php echo if", "php|echo|if"},
	{"php a=b", "php|a=b"},
};

START_TEST(test_direct)
{
	const char *cmd = direct[_i][0];
	struct strbuf sb = {0};
	char **argv;

	ck_assert_msg(startcmd_why_shell(cmd) == NULL, "'%s' runs directly: %s", cmd,
		      startcmd_why_shell(cmd));
	argv = startcmd_argv(cmd);
	ck_assert_ptr_nonnull(argv);
	for (char **a = argv; *a; a++)
		strbuf_printf(&sb, "%s%s", a == argv ? "" : "|", *a);
	ck_assert_str_eq(sb.buf ? sb.buf : "", direct[_i][1]);
	strbuf_release(&sb);
	free(argv);
}
END_TEST

START_TEST(test_word_plain)
{
	ck_assert(startcmd_word_plain("a-b_c/d.e"));
	ck_assert(!startcmd_word_plain(""));
	ck_assert(!startcmd_word_plain("a b"));
	ck_assert(!startcmd_word_plain("it's"));
	ck_assert(!startcmd_word_plain("$x"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("startcmd");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_need_shell, 0, (int)ARRAY_SIZE(need_shell));
	tcase_add_loop_test(tc, test_direct, 0, (int)ARRAY_SIZE(direct));
	tcase_add_test(tc, test_word_plain);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
