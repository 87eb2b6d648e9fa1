/* SPDX-License-Identifier: MIT */
/*
 * Loading the app and resolving one of its workers (the types: model.h).
 * app_load() locates and loads the app config (`.platform.app.yaml`, or
 * one entry of `.platform/applications.yaml`) and `services.yaml`, and
 * validates every form it accepts.  app_resolve() applies Platform.sh's
 * inheritance (a worker's key replaces the top-level one whole) and
 * returns an immutable description of one worker.  Pure apart from
 * reading the files.
 */
#ifndef BERTH_APP_H
#define BERTH_APP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "model.h"

struct app_locator {
	const char *app_config; /* -f FILE, or NULL to search */
	const char *app_name;	/* --app NAME for applications.yaml, or NULL */
	const char *services;	/* --services FILE, or NULL for the default */
	const char *cwd;	/* where to search; NULL = current directory */
};

/*
 * Locate and load the app config and services.yaml; validate the top level
 * and every worker's forms.  Returns 0, or -EINVAL with every problem in
 * diags (-ENOENT etc. when files are missing, also in diags).  On failure
 * *app is freed.
 */
int app_load(const struct app_locator *loc, struct app *app, struct diags *d);
/* The same from memory, without services.yaml or !include (fuzzing, tests). */
int app_load_buffer(const char *name, const char *buf, size_t len, struct app *app,
		    struct diags *d);
void app_free(struct app *app);

/* Resolve one worker.  Returns 0, -ENOENT (unknown worker, in diags) or
 * -EINVAL (invalid, in diags). */
int app_resolve(const struct app *app, const char *worker, struct worker *out, struct diags *d);

#endif
