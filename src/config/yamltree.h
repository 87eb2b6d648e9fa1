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

#include "diag.h"

#define YTREE_MAX_BYTES		(1024 * 1024)
#define YTREE_MAX_DEPTH		64
#define YTREE_MAX_NODES		100000 /* nodes in the tree, aliases expanded */
#define YTREE_MAX_INCLUDES	32     /* !include files per load */
#define YTREE_MAX_INCLUDE_DEPTH 8      /* files including files */

enum cnode_kind { CNODE_SCALAR, CNODE_SEQ, CNODE_MAP };

enum scalar_type { SCALAR_STR, SCALAR_NULL, SCALAR_BOOL, SCALAR_INT, SCALAR_FLOAT };

struct cnode_pair;

struct cnode {
	enum cnode_kind kind;
	const char *file; /* owned by the loaded tree (struct ytree_doc) */
	unsigned line;	  /* 1-based */
	unsigned col;	  /* 1-based */
	/* CNODE_SCALAR */
	char *str; /* NUL-terminated; never contains NUL */
	size_t len;
	enum scalar_type type;
	bool bval;
	long long ival;
	double fval;
	/* CNODE_SEQ: items; CNODE_MAP: pairs (keys are scalars, unique) */
	struct cnode **items;
	struct cnode_pair *pairs;
	size_t n;
};

struct cnode_pair {
	struct cnode *key; /* always CNODE_SCALAR */
	struct cnode *value;
};

/* A loaded file: its tree and the names of every file it pulled in. */
struct ytree_doc {
	struct cnode *root;
	char **files; /* file names referenced by nodes */
	size_t n_files;
	size_t cap_files;
};

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

/* Look up a key in a mapping node; NULL if absent or node is not a map. */
struct cnode *cnode_get(const struct cnode *map, const char *key);
/* True for a scalar that YAML reads as null (~, null, empty). */
bool cnode_is_null(const struct cnode *n);
/* The node as a JSON value with YAML's types (caller owns the reference). */
json_t *cnode_to_json(const struct cnode *n);
/* "mapping", "sequence", "string", "boolean", "integer", "float", "null". */
const char *cnode_type_name(const struct cnode *n);

#endif
