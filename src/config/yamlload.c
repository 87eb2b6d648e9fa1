/* SPDX-License-Identifier: MIT */
/*
 * The loader's shared steps (see yamlload.h), below both the parser
 * (yamltree.c) and the file reader (yamlinclude.c): a diagnostic with the
 * current key path, a node charged against the budget, the `!archive`
 * path check.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamlload.h"

int ytree_fail(struct yparser *p, const char *file, unsigned line, unsigned col, const char *fmt,
	       ...)
{
	const char *path = p->ld->path.buf ? p->ld->path.buf : "";
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg && strlen(msg) > 400) /* quoted input can be long */
		strcpy(msg + 396, "...");
	diags_add(p->ld->d, file, line, col, path, "%s", msg ? msg : "out of memory");
	free(msg);
	return -EINVAL;
}

struct cnode *ytree_node_new(struct yparser *p, enum cnode_kind kind, unsigned line, unsigned col)
{
	struct cnode *n;

	if (p->ld->nodes >= YTREE_MAX_NODES) {
		ytree_fail(p, p->file, line, col,
			   "too many nodes: more than %d with aliases expanded", YTREE_MAX_NODES);
		return NULL;
	}
	p->ld->nodes++;
	n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->file = p->file;
	n->line = line;
	n->col = col;
	return n;
}

int yamlload_check_archive(struct yparser *p, const struct cnode *n)
{
	const char *s = n->str;

	if (!*s || *s == '/')
		return ytree_fail_node(p, n,
				       "!archive needs a relative directory path, not '%.200s'", s);
	for (const char *c = s; *c; c += strcspn(c, "/"), c += *c == '/')
		if (strcspn(c, "/") == 2 && strncmp(c, "..", 2) == 0)
			return ytree_fail_node(p, n, "!archive path '%.200s' must not contain '..'",
					       s);
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return ytree_fail_node(p, n, "!archive path contains a control character");
	return 0;
}
