/* SPDX-License-Identifier: MIT */
/*
 * What a git repository's HEAD, refs, `.git` file and config say, parsed
 * strictly (pure): the tree id cache reads the commit id with these and
 * runs git whenever one of them refuses.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "gitref.h"
#include "util.h"

#define CACHE_MAGIC "berth tree cache 1\n"

bool gitref_id_ok(const char *s, size_t n)
{
	if (n != 40 && n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool component_ok(const char *c, size_t n)
{
	if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.') ||
	    c[0] == '.' || c[n - 1] == '.' || (n >= 5 && memcmp(c + n - 5, ".lock", 5) == 0))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c[i];

		if (ch <= ' ' || ch >= 0x7f || strchr("~^:?*[\\", ch))
			return false;
		if (i && c[i - 1] == '.' && ch == '.')
			return false;
		if (i && c[i - 1] == '@' && ch == '{')
			return false;
	}
	return true;
}

bool gitref_branch_ok(const char *ref)
{
	const char *p = ref;

	if (strncmp(p, "refs/heads/", 11) != 0)
		return false;
	p += 11;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (!component_ok(p, n))
			return false;
		if (!slash)
			return true;
		p = slash + 1;
	}
}

int gitref_parse_head(const char *text, char id[GITREF_ID_MAX + 1], char **ref)
{
	size_t n = strlen(text);

	if (n == 0 || text[n - 1] != '\n')
		return -EINVAL;
	n--;
	if (strncmp(text, "ref: ", 5) == 0) {
		_cleanup_free_ char *r = xstrndup(text + 5, n - 5);

		if (!gitref_branch_ok(r))
			return -EINVAL;
		*ref = TAKE_PTR(r);
		return 2;
	}
	if (!gitref_id_ok(text, n))
		return -EINVAL;
	memcpy(id, text, n);
	id[n] = '\0';
	return 1;
}

/* One packed-refs line (without its newline): 1 when it is ref's entry
 * (id filled), 0 for another well-formed line, -EINVAL else. */
static int packed_line(const char *l, size_t n, bool first, bool after_entry, const char *ref,
		       char id[GITREF_ID_MAX + 1], bool *replace)
{
	if (first && n && l[0] == '#')
		return 0;
	if (n && l[0] == '^')
		return after_entry && gitref_id_ok(l + 1, n - 1) ? 0 : -EINVAL;
	const char *sp = memchr(l, ' ', n);

	if (!sp || !gitref_id_ok(l, (size_t)(sp - l)))
		return -EINVAL;
	const char *name = sp + 1;
	size_t len = n - (size_t)(name - l);

	if (len < 6 || strncmp(name, "refs/", 5) != 0 || memchr(name, ' ', len))
		return -EINVAL;
	if (len > 13 && strncmp(name, "refs/replace/", 13) == 0)
		*replace = true;
	if (strlen(ref) != len || memcmp(name, ref, len) != 0)
		return 0;
	memcpy(id, l, (size_t)(sp - l));
	id[sp - l] = '\0';
	return 1;
}

int gitref_packed_find(const char *text, const char *ref, char id[GITREF_ID_MAX + 1], bool *replace)
{
	bool found = false, first = true, entry = false;
	const char *p = text;

	*replace = false;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char lid[GITREF_ID_MAX + 1];
		int r = packed_line(p, n, first, entry, ref, lid, replace);

		if (r < 0)
			return r;
		if (r == 1 && !found) {
			memcpy(id, lid, sizeof(lid));
			found = true;
		}
		entry = n && p[0] != '#' && p[0] != '^';
		first = false;
		if (!nl)
			break;
		p = nl + 1;
	}
	return found ? 0 : -ENOENT;
}

int gitref_gitfile(const char *text, char **path)
{
	size_t n = strlen(text);

	if (strncmp(text, "gitdir: ", 8) != 0 || n < 10 || text[n - 1] != '\n')
		return -EINVAL;
	_cleanup_free_ char *p = xstrndup(text + 8, n - 9);

	if (strchr(p, '\n') || !*p)
		return -EINVAL;
	*path = TAKE_PTR(p);
	return 0;
}

/* A config key line "name[=value]": name is [a-z][a-z0-9-]*. */
static bool key_line_ok(const char *s)
{
	if (!(*s >= 'a' && *s <= 'z'))
		return false;
	for (; *s && *s != '='; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

/* One line, lowercased and without whitespace. */
static bool config_line_plain(const char *s, bool *in_section, bool *in_ext)
{
	size_t n = strlen(s);

	if (n == 0 || s[0] == '#' || s[0] == ';')
		return true;
	if (s[n - 1] == '\\' || strstr(s, "include") || strstr(s, "worktree") ||
	    strstr(s, "refstorage"))
		return false;
	if (s[0] == '[') {
		*in_section = true;
		*in_ext = strstr(s, "extensions") != NULL;
		return strchr(s, ']') == s + n - 1;
	}
	if (!*in_section || !key_line_ok(s))
		return false;
	if (strstr(s, "bare"))
		return strcmp(s, "bare=false") == 0;
	if (strstr(s, "repositoryformatversion"))
		return strcmp(s, "repositoryformatversion=0") == 0 ||
		       strcmp(s, "repositoryformatversion=1") == 0;
	if (*in_ext)
		return strcmp(s, "objectformat=sha1") == 0 || strcmp(s, "objectformat=sha256") == 0;
	return true;
}

bool gitref_config_plain(const char *text)
{
	bool in_section = false, in_ext = false;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		_cleanup_free_ char *s = xmalloc(n + 1);
		size_t k = 0;

		for (size_t i = 0; i < n; i++) {
			char c = p[i];

			if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f')
				continue;
			s[k++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		}
		s[k] = '\0';
		if (!config_line_plain(s, &in_section, &in_ext))
			return false;
		if (!nl)
			break;
		p = nl + 1;
	}
	return true;
}

char *gitref_cache_name(const char *commit, const char *gitdir, const char *prefix)
{
	uint64_t h;

	if (!gitref_id_ok(commit, strlen(commit)) || strchr(gitdir, '\n') || strchr(prefix, '\n'))
		return NULL;
	h = fnv1a64(FNV1A64_INIT, gitdir, strlen(gitdir) + 1); /* its NUL separates the two */
	h = fnv1a64(h, prefix, strlen(prefix));
	return xasprintf("%s-%016llx", commit, (unsigned long long)h);
}

char *gitref_cache_text(const char *commit, const char *gitdir, const char *prefix,
			const char *tree)
{
	return xasprintf(CACHE_MAGIC "commit %s\ngitdir %s\nprefix %s\ntree %s\n", commit, gitdir,
			 prefix, tree ? tree : "none");
}

int gitref_cache_parse(const char *text, const char *commit, const char *gitdir, const char *prefix,
		       char tree[GITREF_ID_MAX + 1])
{
	_cleanup_free_ char *head = xasprintf(CACHE_MAGIC "commit %s\ngitdir %s\nprefix %s\ntree ",
					      commit, gitdir, prefix);
	size_t hn = strlen(head), cn = strlen(commit);
	const char *t = text + hn;

	if (strncmp(text, head, hn) != 0)
		return -EINVAL;
	if (strcmp(t, "none\n") == 0) {
		tree[0] = '\0';
		return 1;
	}
	if (strlen(t) != cn + 1 || t[cn] != '\n' || !gitref_id_ok(t, cn))
		return -EINVAL;
	memcpy(tree, t, cn);
	tree[cn] = '\0';
	return 0;
}
