/* SPDX-License-Identifier: MIT */
/*
 * Configuration diagnostics: every problem found while loading and
 * resolving an app config, each with its place, so `berth check` can list
 * them all as "FILE:LINE:COLUMN: KEY.PATH: message".
 */
#ifndef BERTH_DIAG_H
#define BERTH_DIAG_H

#include <stddef.h>
#include <stdio.h>

#include "util.h"

struct diag {
	char *file;    /* may be NULL when not tied to a file */
	unsigned line; /* 1-based, 0 = unknown */
	unsigned col;  /* 1-based, 0 = unknown */
	char *path;    /* key path such as "workers.queue.mounts", may be "" */
	char *msg;
};

struct diags {
	struct diag *v;
	size_t n;
	size_t cap;
};

void diags_add(struct diags *d, const char *file, unsigned line, unsigned col, const char *path,
	       const char *fmt, ...) ATTR_PRINTF(6, 7);
/* "FILE:LINE:COLUMN: KEY.PATH: message" (parts that are unknown are left out). */
char *diag_format(const struct diag *dg);
void diags_print(const struct diags *d, FILE *out);
void diags_free(struct diags *d);

#endif
