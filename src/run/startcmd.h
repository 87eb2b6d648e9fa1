/* SPDX-License-Identifier: MIT */
/*
 * The start command without the shell: whether /bin/sh -c would do no
 * more with it than split it at blanks and execute the first word (after
 * an optional `exec`), and those words.  Pure.
 */
#ifndef BERTH_STARTCMD_H
#define BERTH_STARTCMD_H

#include <stdbool.h>

/*
 * NULL when cmd is a plain list of words the shell would only split and
 * execute; else why it needs the shell (a constant string): a character
 * outside the safe set (letters, digits, blanks and "_-./,:+=@%"), no
 * command, a reserved word or builtin first, an assignment first.
 */
const char *startcmd_why_shell(const char *cmd);

/*
 * The words of a plain command, without a leading `exec`, as a
 * NULL-terminated argv in one freshly allocated block (free() it), or NULL
 * when it needs the shell (startcmd_why_shell()).
 */
char **startcmd_argv(const char *cmd);

/* A word the shell takes literally (non-empty, every character safe). */
bool startcmd_word_plain(const char *w);

#endif
