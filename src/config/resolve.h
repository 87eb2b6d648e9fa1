/* SPDX-License-Identifier: MIT */
/* Internal interface between app.c (loading) and resolve.c (inheritance):
 * app.c calls down into the resolver; both work on model.h's types. */
#ifndef BERTH_RESOLVE_H
#define BERTH_RESOLVE_H

#include <stdbool.h>

#include "model.h"
#include "diag.h"

/* App, worker and service names: ^[a-z0-9_-]+$, <= 32, no "--",
 * alphanumeric at both ends.  *why says what is wrong. */
bool resolve_name_ok(const char *s, const char **why);

/* Validate the top-level values of the inheritable keys once. */
void resolve_check_top(const struct app *app, struct diags *d);

/* What Platform.sh refuses that berth's runtime accepts (a disk below
 * 128 MB, a timezone not in the tz database): `berth check` only. */
void resolve_check_platform(const struct app *app, struct diags *d);

/* Resolve the worker of `wpair` (its name and mapping under `workers`).
 * Problems in inherited top-level values are reported only when
 * report_inherited is true (they were reported by resolve_check_top
 * otherwise).  0 or -EINVAL. */
int resolve_worker(const struct app *app, const struct cnode_pair *wpair, struct worker *w,
		   struct diags *d, bool report_inherited);

#endif
