/* SPDX-License-Identifier: MIT */
/*
 * Node helpers private to the YAML loader (yamltree.c): YAML 1.1 typing of
 * plain scalars as PyYAML does it, deep copies (aliases, merge keys),
 * measuring a subtree against the limits, and freeing.  Pure.
 */
#ifndef BERTH_YAMLNODE_H
#define BERTH_YAMLNODE_H

#include <stddef.h>

#include "cnode.h"

void cnode_free(struct cnode *n);
/* A deep copy; file/line/col are kept (the file names stay owned by the doc). */
struct cnode *cnode_copy(const struct cnode *n);
/* Nodes in the subtree, and its height in collections (a scalar is 0). */
void cnode_measure(const struct cnode *n, size_t *count, unsigned *height);
/*
 * Type n->str as an untagged plain scalar (YAML 1.1 / PyYAML resolvers):
 * sets n->type and bval/ival/fval.  Returns 0, -ERANGE (integer out of
 * range) or -EINVAL (an integer form with no digits, such as "0x_").
 */
int cnode_resolve_scalar(struct cnode *n);

#endif
