/* SPDX-License-Identifier: MIT */
/*
 * Adding operations to a mount plan, and the path test both builders
 * (mountplan.c, mountplan-root.c) use: below both.  Pure.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mountplan-internal.h"
#include "util.h"

bool mountplan_beneath_or_same(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (strcmp(a, "/") == 0)
		return true;
	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

struct mountplan_op *mountplan_add(struct mountplan *p, size_t *cap, enum mountplan_kind kind)
{
	xgrow(&p->ops, cap, p->n_ops + 1, sizeof(*p->ops));
	struct mountplan_op *op = &p->ops[p->n_ops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->src_dir = xstrdup("");
	op->source = xstrdup("");
	op->target = xstrdup("");
	return op;
}

void mountplan_set(char **dst, char *s)
{
	free(*dst);
	*dst = s;
}
