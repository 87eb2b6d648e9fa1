/* SPDX-License-Identifier: MIT */
/*
 * Loader state shared by yamltree.c (libyaml events → nodes, limits),
 * yamlinclude.c (reading files, resolving `!include` beneath a directory)
 * and yamlload.c (the steps both use).  Private to those files.
 *
 * The parser is below the file reader: yamlinclude.c calls
 * ytree_parse_document() for the top file and each included one, and the
 * parser reaches an `!include` back through the loader's include hook,
 * so neither file names the other's functions.
 */
#ifndef BERTH_YAMLLOAD_H
#define BERTH_YAMLLOAD_H

#include <jansson.h>
#include <yaml.h>

#include "cnode.h"
#include "diag.h"
#include "util.h"

struct anchor {
	struct cnode *node;
	size_t nodes;	 /* nodes in the subtree */
	unsigned height; /* its depth in collections */
};

struct yparser;

/* State of one ytree_load_*() call, shared with the files it includes. */
struct yloader {
	struct ytree_doc *doc;
	struct diags *d;
	const char *include_dir;
	bool archive_ok;	/* `!archive` accepted (services.yaml) */
	int dirfd;		/* O_PATH of include_dir, opened on first use */
	size_t nodes;		/* nodes made so far, aliases expanded */
	unsigned includes;	/* !include files opened */
	struct strbuf path;	/* key path of the node being read */
	struct cnode **retired; /* replaced nodes (anchors may point into them) */
	size_t n_retired, cap_retired;
	/* Resolve the !include whose spec (a path, or {type, path}) is spec:
	 * yamlinclude_resolve(). */
	int (*include)(struct yparser *p, const struct cnode *spec, unsigned depth,
		       struct cnode **out);
};

/* One file being parsed. */
struct yparser {
	struct yloader *ld;
	yaml_parser_t yp;
	const char *file; /* interned in ld->doc */
	const char *buf;
	size_t len;
	json_t *anchors; /* name → index in av */
	struct anchor *av;
	size_t n_av, cap_av;
	unsigned include_depth;
};

/* yamlload.c: add a diagnostic at FILE:LINE:COL with the current key path;
 * returns -EINVAL. */
int ytree_fail(struct yparser *p, const char *file, unsigned line, unsigned col, const char *fmt,
	       ...) ATTR_PRINTF(5, 6);
#define ytree_fail_node(p, n, ...) ytree_fail(p, (n)->file, (n)->line, (n)->col, __VA_ARGS__)
/* yamlload.c: a node charged against the budget (NULL, reported, when it is spent). */
struct cnode *ytree_node_new(struct yparser *p, enum cnode_kind kind, unsigned line, unsigned col);
/* yamltree.c: parse one file's single document; depth: collections around it; top: the
 * root must be a mapping. */
int ytree_parse_document(struct yloader *ld, const char *file, const char *buf, size_t len,
			 unsigned depth, unsigned include_depth, bool top, struct cnode **out);

/* yamlload.c: `!archive` names a directory of the .platform dir that
 * the platform packs: a relative path that stays beneath it, checked by
 * its text.  0 or -EINVAL (reported). */
int yamlload_check_archive(struct yparser *p, const struct cnode *n);
/* yamlinclude.c: read a whole regular file of at most YTREE_MAX_BYTES; on
 * failure *why (xmalloc'd) says why. */
int yamlinclude_read_file(int fd, char **out, size_t *out_len, char **why);
/* Resolve the !include whose spec (a path, or {type, path}) is spec. */
int yamlinclude_resolve(struct yparser *p, const struct cnode *spec, unsigned depth,
			struct cnode **out);

#endif
