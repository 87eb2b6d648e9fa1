/* SPDX-License-Identifier: MIT */
/*
 * The start command without the shell, as GNU make's recipe lines and
 * Ruby's exec("cmd") do it: only a command the shell would do nothing with
 * but split at blanks qualifies, by a conservative character set; the
 * first word may not be one the shell handles itself.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "startcmd.h"
#include "util.h"

/* dash's reserved words and builtins, and what bash or POSIX adds: the
 * shell would not execute a program of that name (or, for echo, test,
 * kill, printf, true, false, not the same one). */
static const char *const shell_words[] = {
	"!",	  "{",	     "}",      "case",	   "do",      "done",	  "elif",    "else",
	"esac",	  "fi",	     "for",    "function", "if",      "in",	  "select",  "then",
	"time",	  "until",   "while",  ".",	   ":",	      "[",	  "alias",   "bg",
	"break",  "builtin", "cd",     "chdir",	   "command", "continue", "echo",    "eval",
	"exec",	  "exit",    "export", "false",	   "fc",      "fg",	  "getopts", "hash",
	"jobs",	  "kill",    "let",    "local",	   "printf",  "pwd",	  "read",    "readonly",
	"return", "set",     "shift",  "source",   "test",    "times",	  "trap",    "true",
	"type",	  "typeset", "ulimit", "umask",	   "unalias", "unset",	  "wait",
};

/* A newline only at the end (a YAML block's "start: |" ends with one). */
static bool is_blank(const char *s)
{
	if (*s == ' ' || *s == '\t')
		return true;
	if (*s != '\n')
		return false;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	return !*s;
}

/* Taken literally by the shell in any position of a word. */
static bool is_safe(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("_-./,:+=@%", c));
}

bool startcmd_word_plain(const char *w)
{
	if (!*w)
		return false;
	for (; *w; w++)
		if (!is_safe(*w))
			return false;
	return true;
}

/* The length of the word at s (no blank, s not at a blank). */
static size_t word_len(const char *s)
{
	size_t n = 0;

	while (s[n] && !is_blank(s + n))
		n++;
	return n;
}

static const char *skip_blanks(const char *s)
{
	while (*s && is_blank(s))
		s++;
	return s;
}

static bool word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* Why the command word at s (n characters) needs the shell, or NULL. */
static const char *command_word(const char *s, size_t n)
{
	if (n == 0)
		return "no command";
	for (size_t i = 0; i < ARRAY_SIZE(shell_words); i++)
		if (word_is(s, n, shell_words[i]))
			return "a reserved word or builtin of the shell first";
	if (memchr(s, '=', n))
		return "an assignment first";
	if (s[0] == '-' || s[0] == '%' || s[0] == '+')
		return "an option or job first";
	return NULL;
}

const char *startcmd_why_shell(const char *cmd)
{
	for (const char *p = cmd; *p; p++)
		if (!is_blank(p) && !is_safe(*p))
			return "a character the shell interprets";
	const char *s = skip_blanks(cmd);
	size_t n = word_len(s);

	if (word_is(s, n, "exec")) {
		s = skip_blanks(s + n);
		n = word_len(s);
	}
	return command_word(s, n);
}

char **startcmd_argv(const char *cmd)
{
	size_t words = 0, len = strlen(cmd);

	if (startcmd_why_shell(cmd))
		return NULL;
	for (const char *s = skip_blanks(cmd); *s; s = skip_blanks(s + word_len(s)))
		words++;
	/* the pointers, then the words' copy in the same block */
	char **argv = xmalloc((words + 1) * sizeof(*argv) + len + 1);
	char *copy = (char *)(argv + words + 1);
	size_t i = 0;

	memcpy(copy, cmd, len + 1);
	for (char *s = (char *)skip_blanks(copy); *s; s = (char *)skip_blanks(s)) {
		size_t n = word_len(s);
		argv[i++] = s;
		s += n;
		if (*s)
			*s++ = '\0';
	}
	argv[i] = NULL;
	if (strcmp(argv[0], "exec") == 0)
		memmove(argv, argv + 1, i * sizeof(*argv));
	return argv;
}
