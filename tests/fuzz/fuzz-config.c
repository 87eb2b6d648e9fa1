/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target over the configuration path: the YAML loader (with
 * !include beneath the fixture directory, JSON conversion and diagnostics
 * formatting) and, when run.sh finds the app model in the library
 * (FUZZ_APP), app_load_buffer() + app_resolve() of every worker.
 * Built and run by tests/fuzz/run.sh.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "diag.h"
#include "yamltree.h"
#ifdef FUZZ_APP
#include "app.h"
#endif

#ifndef FUZZ_INCLUDE_DIR
#define FUZZ_INCLUDE_DIR NULL
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(diag_format(&d->v[i]));
	diags_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct ytree_doc doc;
	struct diags d = {0};

	if (ytree_load_buffer("fuzz.yaml", buf, size, FUZZ_INCLUDE_DIR, &doc, &d) == 0) {
		json_t *j = cnode_to_json(doc.root);
		free(json_dumps(j, JSON_COMPACT));
		json_decref(j);
		for (size_t i = 0; i < doc.root->n; i++) {
			const struct cnode *v = doc.root->pairs[i].value;
			(void)cnode_type_name(v);
			(void)cnode_is_null(v);
			(void)cnode_get(v, "start");
		}
		ytree_doc_free(&doc);
	}
	drain(&d);
#ifdef FUZZ_APP
	{
		struct app app;
		if (app_load_buffer("fuzz.yaml", buf, size, &app, &d) == 0) {
			for (size_t i = 0; i < app.n_workers; i++) {
				struct worker w;
				app_resolve(&app, app.workers[i], &w, &d);
				worker_free(&w);
			}
			app_free(&app);
		}
		drain(&d);
	}
#endif
	return 0;
}
