/* SPDX-License-Identifier: MIT */
/*
 * YAML loading.  libyaml is driven event by event into a small tree of
 * nodes that remember where they came from, under hard limits: file size,
 * nesting depth, an alias expansion budget, duplicate keys refused at every
 * level, one document, no NUL bytes.  Tags: Platform.sh's `!include`
 * (string|yaml|binary, beneath the app directory only); every other tag is
 * refused.  Plain scalars are typed as YAML 1.1 does (null, bool, int,
 * float), so `start: yes` is seen as the boolean it is.
 *
 * This module reads files and knows nothing else of the system.
 */
#ifndef BERTH_YAMLTREE_H
#define BERTH_YAMLTREE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cnode.h"
#include "diag.h"

/*
 * Load a YAML file.  include_dir is the directory `!include` paths are
 * relative to (and must stay beneath); NULL refuses `!include`.
 * Returns 0 and fills *doc, or -EINVAL with the reasons in diags (or another
 * -errno when the file cannot be read, also reported in diags).
 */
int ytree_load_file(const char *path, const char *include_dir, struct ytree_doc *doc,
		    struct diags *d);
/* The same for files whose top level may also be a list
 * (.platform/applications.yaml). */
int ytree_load_file_list(const char *path, const char *include_dir, struct ytree_doc *doc,
			 struct diags *d);
/* services.yaml: no `!include`; `!archive "DIR"` (Solr's conf_dir) is
 * accepted on a string that is a relative path without '..' components,
 * and kept as that string. */
int ytree_load_services_file(const char *path, struct ytree_doc *doc, struct diags *d);
/* The same from memory; name is used in diagnostics. */
int ytree_load_buffer(const char *name, const char *buf, size_t len, const char *include_dir,
		      struct ytree_doc *doc, struct diags *d);
void ytree_doc_free(struct ytree_doc *doc);

#endif
