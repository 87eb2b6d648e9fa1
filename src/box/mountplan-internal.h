/* SPDX-License-Identifier: MIT */
/* Shared by mountplan.c and mountplan-root.c: building the op list. */
#ifndef BERTH_MOUNTPLAN_INTERNAL_H
#define BERTH_MOUNTPLAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "mountplan.h"

/* A new op of that kind appended (its strings ""). */
struct mountplan_op *mountplan_add(struct mountplan *p, size_t *cap, enum mountplan_kind kind);
/* Replace *dst (freed) with s (owned). */
void mountplan_set(char **dst, char *s);
/* Is b equal to a or beneath it (both normalised, absolute)? */
bool mountplan_beneath_or_same(const char *a, const char *b);

/* The ops of the new root before the app (the OS, /dev, /etc's masks, the
 * hosts file, /run, /var, /proc, /sys, the cgroups, --ro-bind). */
void mountplan_root_ops(struct mountplan *p, size_t *cap, const struct mountplan_opts *o);
/* A --ro-bind path's problem, or NULL when it is usable. */
const char *mountplan_ro_bind_check(const struct mountplan *p, const char *path);

#endif
