/* SPDX-License-Identifier: MIT */
/*
 * JSON text byte-identical to Python's json.dumps(v, sort_keys=True) with
 * the default separators (", " and ": ") and ensure_ascii: the form the
 * Platform.sh documentation shows for nested env: values, and the one berth
 * uses for every JSON it puts into a worker's environment.  Pure.
 */
#ifndef BERTH_PYJSON_H
#define BERTH_PYJSON_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

/* Serialise v into *out (xmalloc'd).  Returns 0, or -EINVAL when a string
 * is not valid UTF-8 (only possible for values built with *_nocheck). */
int pyjson_dumps(const json_t *v, char **out);

#endif
