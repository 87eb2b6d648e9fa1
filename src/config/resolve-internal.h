/* SPDX-License-Identifier: MIT */
/* Shared by the parts of resolve: the parse context and small helpers. */
#ifndef BERTH_RESOLVE_INTERNAL_H
#define BERTH_RESOLVE_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include "model.h"
#include "diag.h"
#include "yamltree.h"

#define START_MAX_BYTES (64 * 1024)

struct rctx {
	const struct app *app; /* services.yaml for cross-checks, or NULL */
	struct diags *d;       /* NULL: parse silently */
	char path[512];	       /* key path of the node being parsed */
	bool failed;
};

/* Report through r->d unless r->d is NULL (value already reported). */
#define report(r, node, fmt, ...)                                                                  \
	do {                                                                                       \
		if ((r)->d)                                                                        \
			diags_add((r)->d, (node)->file, (node)->line, (node)->col, (r)->path, fmt, \
				  ##__VA_ARGS__);                                                  \
	} while (0)

#define fail(r, node, ...)                                                                         \
	do {                                                                                       \
		report(r, node, __VA_ARGS__);                                                      \
		(r)->failed = true;                                                                \
	} while (0)

void rctx_path(struct rctx *r, const char *base, const char *key);
bool resolve_has_control(const char *s);
bool resolve_expect_string(struct rctx *r, const struct cnode *n, const char *what);
bool resolve_expect_map(struct rctx *r, const struct cnode *n, const char *what);

/* mounts (resolve-mounts.c) */
int resolve_mounts(struct rctx *r, const struct cnode *n, struct mount **out, size_t *nout);
void resolve_mount_clear(struct mount *m);

/* firewall (resolve-firewall.c): the checked value as JSON, or NULL (not
 * set, null, or invalid: then r->failed, each problem reported). */
json_t *resolve_firewall(struct rctx *r, const struct cnode *n);

#endif
