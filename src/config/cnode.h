/* SPDX-License-Identifier: MIT */
/*
 * A loaded YAML tree (see yamltree.h): its nodes, the document that owns
 * them, the loader's limits, and reading a node (yamlnode.c).  Below the
 * loader's files, which all build or read such trees.
 */
#ifndef BERTH_CNODE_H
#define BERTH_CNODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

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

/* Look up a key in a mapping node; NULL if absent or node is not a map. */
struct cnode *cnode_get(const struct cnode *map, const char *key);
/* True for a scalar that YAML reads as null (~, null, empty). */
bool cnode_is_null(const struct cnode *n);
/* The node as a JSON value with YAML's types (caller owns the reference). */
json_t *cnode_to_json(const struct cnode *n);
/* "mapping", "sequence", "string", "boolean", "integer", "float", "null". */
const char *cnode_type_name(const struct cnode *n);

#endif
