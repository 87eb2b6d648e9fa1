/* SPDX-License-Identifier: MIT */
/*
 * Pure parts of reading a git repository's HEAD without git, for the tree
 * id cache (context-git.c): what HEAD, a loose ref, packed-refs, a `.git`
 * file and the config say, and the cache entry's name and text.  Anything
 * these parsers do not understand is refused, and the caller runs git.
 */
#ifndef BERTH_GITREF_H
#define BERTH_GITREF_H

#include <stdbool.h>
#include <stddef.h>

#define GITREF_ID_MAX 64 /* SHA-256; SHA-1 ids have 40 hex digits */

/* An object id: exactly 40 (SHA-1) or 64 (SHA-256) lowercase hex digits. */
bool gitref_id_ok(const char *s, size_t n);

/* A branch HEAD may name: "refs/heads/" and one or more components, none
 * empty, "." or "..", of printable ASCII without space or ~^:?*[\ and not
 * ending in ".lock" or ".". */
bool gitref_branch_ok(const char *ref);

/* HEAD or a loose ref: "<id>\n" (1: id filled, NUL-terminated) or
 * "ref: <branch>\n" (2: *ref allocated).  -EINVAL for anything else (a
 * symbolic ref to something not a branch included). */
int gitref_parse_head(const char *text, char id[GITREF_ID_MAX + 1], char **ref);

/* packed-refs: find ref's id.  0 (id filled), -ENOENT when ref is not
 * there, -EINVAL when a line is malformed.  *replace is set when a
 * refs/replace/ ref is there (git would use it instead of the commit). */
int gitref_packed_find(const char *text, const char *ref, char id[GITREF_ID_MAX + 1],
		       bool *replace);

/* A `.git` file: "gitdir: <path>\n" -> *path allocated (as written,
 * maybe relative).  -EINVAL otherwise. */
int gitref_gitfile(const char *text, char **path);

/* Is a repository config plain enough to read HEAD without git: no
 * include, no worktree setting (core.worktree, extensions.worktreeConfig),
 * no reftable (extensions.refStorage), bare only as "bare = false", only
 * the objectFormat extension, format version 0 or 1, no continuation
 * line.  A line that merely mentions one of these (a remote's URL) says
 * no too: the answer errs towards running git. */
bool gitref_config_plain(const char *text);

/* The cache entry of (commit, gitdir, prefix): its file name, the commit
 * id and a 64-bit FNV-1a hash of gitdir and prefix ("<commit>-<16 hex>"),
 * and its text, which spells the whole key out; tree NULL: "none" (the
 * commit has no such directory). */
char *gitref_cache_name(const char *commit, const char *gitdir, const char *prefix);
char *gitref_cache_text(const char *commit, const char *gitdir, const char *prefix,
			const char *tree);
/* An entry's text, when it is well formed and names this very key: 0 and
 * tree filled when it holds a tree id of the commit's length, 1 when it
 * says "none"; -EINVAL else. */
int gitref_cache_parse(const char *text, const char *commit, const char *gitdir, const char *prefix,
		       char tree[GITREF_ID_MAX + 1]);

#endif
