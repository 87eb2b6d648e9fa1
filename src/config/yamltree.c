/* SPDX-License-Identifier: MIT */
/*
 * YAML → cnode tree (see yamltree.h).  libyaml's parser is driven event by
 * event.  Every node is charged against one budget (an alias is a copy of its
 * anchor), depth is counted on START events and through aliases, keys are
 * checked for duplicates as they arrive, merge keys are applied when their
 * mapping ends, and `!include` is opened beneath include_dir with openat2().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "cleanup.h"
#include "yamlload.h"
#include "yamlnode.h"
#include "yamltree.h"

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

enum tag_kind {
	TAG_NONE,
	TAG_BANG, /* the non-specific "!" : a string */
	TAG_STR,
	TAG_INT,
	TAG_BOOL,
	TAG_NULL,
	TAG_FLOAT,
	TAG_MAP,
	TAG_SEQ,
	TAG_INCLUDE,
	TAG_ARCHIVE, /* services.yaml: a directory of the .platform dir */
};

static const struct {
	const char *name;
	enum tag_kind kind;
} std_tags[] = {
	{"str", TAG_STR},     {"int", TAG_INT}, {"bool", TAG_BOOL}, {"null", TAG_NULL},
	{"float", TAG_FLOAT}, {"map", TAG_MAP}, {"seq", TAG_SEQ},
};

static int parse_node(struct yparser *p, yaml_event_t *ev, unsigned depth, struct cnode **out);

#define fail_mark(p, m, ...) ytree_fail(p, (p)->file, (m).line + 1, (m).column + 1, __VA_ARGS__)
#define fail_node	     ytree_fail_node

/* 1-based line and column (in characters) of a byte offset. */
static void offset_pos(const char *buf, size_t len, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n')
			l++, c = 1;
		else if (((unsigned char)buf[i] & 0xC0) != 0x80)
			c++;
	}
	*line = l;
	*col = c;
}

static size_t path_push_key(struct yloader *ld, const char *key)
{
	size_t mark = ld->path.len;

	if (mark)
		strbuf_putc(&ld->path, '.');
	strbuf_puts(&ld->path, key);
	return mark;
}

static size_t path_push_index(struct yloader *ld, size_t i)
{
	size_t mark = ld->path.len;

	strbuf_printf(&ld->path, "[%zu]", i);
	return mark;
}

static void path_pop(struct yloader *ld, size_t mark)
{
	ld->path.len = mark;
	if (ld->path.buf)
		ld->path.buf[mark] = '\0';
}

/* Keys are quoted in messages; keep them short. */
static int key_width(const struct cnode *k)
{
	return k->len > 60 ? 60 : (int)k->len;
}

/* --- events and nodes -------------------------------------------------------- */

static int next_event(struct yparser *p, yaml_event_t *ev)
{
	yaml_parser_t *yp = &p->yp;
	const char *problem;
	unsigned line, col;

	if (yaml_parser_parse(yp, ev))
		return 0;
	problem = yp->problem ? yp->problem : "syntax error";
	switch (yp->error) {
	case YAML_READER_ERROR:
		offset_pos(p->buf, p->len, yp->problem_offset, &line, &col);
		if (strstr(problem, "UTF-8"))
			return ytree_fail(p, p->file, line, col, "invalid UTF-8: %s", problem);
		return ytree_fail(p, p->file, line, col, "%s (#%X)", problem,
				  (unsigned)yp->problem_value);
	case YAML_MEMORY_ERROR:
		return ytree_fail(p, p->file, 0, 0, "out of memory");
	default:
		break;
	}
	if (yp->context)
		return fail_mark(p, yp->problem_mark, "%s (%s at line %zu, column %zu)", problem,
				 yp->context, yp->context_mark.line + 1,
				 yp->context_mark.column + 1);
	return fail_mark(p, yp->problem_mark, "%s", problem);
}

static void retire(struct yloader *ld, struct cnode *n)
{
	xgrow(&ld->retired, &ld->cap_retired, ld->n_retired + 1, sizeof(*ld->retired));
	ld->retired[ld->n_retired++] = n;
}

static void add_anchor(struct yparser *p, const char *name, struct cnode *n)
{
	struct anchor *a;

	xgrow(&p->av, &p->cap_av, p->n_av + 1, sizeof(*p->av));
	a = &p->av[p->n_av];
	a->node = n;
	cnode_measure(n, &a->nodes, &a->height);
	json_object_set_new(p->anchors, name, json_integer((json_int_t)p->n_av));
	p->n_av++;
}

static int copy_alias(struct yparser *p, yaml_event_t *ev, unsigned depth, struct cnode **out)
{
	const char *name = (const char *)ev->data.alias.anchor;
	json_t *ix = json_object_get(p->anchors, name);
	const struct anchor *a;
	struct cnode *c;

	if (!ix)
		return fail_mark(p, ev->start_mark, "alias '*%s' refers to an undefined anchor",
				 name);
	a = &p->av[json_integer_value(ix)];
	if (p->ld->nodes + a->nodes > YTREE_MAX_NODES)
		return fail_mark(p, ev->start_mark,
				 "too many nodes: alias '*%s' expands the document beyond %d nodes",
				 name, YTREE_MAX_NODES);
	if (depth + a->height > YTREE_MAX_DEPTH)
		return fail_mark(p, ev->start_mark,
				 "nesting deeper than %d levels (through alias '*%s')",
				 YTREE_MAX_DEPTH, name);
	p->ld->nodes += a->nodes;
	c = cnode_copy(a->node);
	/* the copy is reported where it is used */
	c->file = p->file;
	c->line = ev->start_mark.line + 1;
	c->col = ev->start_mark.column + 1;
	*out = c;
	return 0;
}

static const char *tag_display(const char *tag, char *buf, size_t size)
{
	if (strncmp(tag, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) == 0) {
		snprintf(buf, size, "!!%s", tag + strlen(YAML_TAG_PREFIX));
		return buf;
	}
	return tag;
}

static int classify_tag(struct yparser *p, const yaml_event_t *ev, const char *tag,
			enum tag_kind *out)
{
	char shown[128];

	*out = TAG_NONE;
	if (!tag)
		return 0;
	if (strcmp(tag, "!") == 0) {
		*out = TAG_BANG;
		return 0;
	}
	if (strcmp(tag, "!include") == 0) {
		*out = TAG_INCLUDE;
		return ev->type == YAML_SEQUENCE_START_EVENT
			       ? fail_mark(p, ev->start_mark,
					   "!include needs a file name or a "
					   "mapping {type, path}, not a sequence")
			       : 0;
	}
	if (strcmp(tag, "!archive") == 0 && p->ld->archive_ok) {
		*out = TAG_ARCHIVE;
		return ev->type == YAML_SCALAR_EVENT
			       ? 0
			       : fail_mark(p, ev->start_mark,
					   "!archive needs a directory path, not a %s",
					   ev->type == YAML_SEQUENCE_START_EVENT ? "sequence"
										 : "mapping");
	}
	for (size_t i = 0; strncmp(tag, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) == 0 &&
			   i < ARRAY_SIZE(std_tags);
	     i++) {
		if (strcmp(tag + strlen(YAML_TAG_PREFIX), std_tags[i].name) != 0)
			continue;
		*out = std_tags[i].kind;
		if ((*out == TAG_MAP) == (ev->type == YAML_MAPPING_START_EVENT) &&
		    (*out == TAG_SEQ) == (ev->type == YAML_SEQUENCE_START_EVENT))
			return 0;
		return fail_mark(p, ev->start_mark, "tag '!!%s' cannot be used on a %s",
				 std_tags[i].name,
				 ev->type == YAML_SCALAR_EVENT		 ? "scalar"
				 : ev->type == YAML_SEQUENCE_START_EVENT ? "sequence"
									 : "mapping");
	}
	return fail_mark(p, ev->start_mark, "tag '%s' is not supported",
			 tag_display(tag, shown, sizeof(shown)));
}

static int read_scalar(struct yparser *p, yaml_event_t *ev, enum tag_kind tk, struct cnode **out)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct cnode *n;
	int r = 0;

	if (memchr(v, '\0', len))
		return fail_mark(p, ev->start_mark, "NUL character in a string");
	n = ytree_node_new(p, CNODE_SCALAR, ev->start_mark.line + 1, ev->start_mark.column + 1);
	if (!n)
		return -EINVAL;
	n->str = xstrndup(v, len);
	n->len = len;
	n->type = SCALAR_STR;
	if ((tk == TAG_NONE && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) || tk == TAG_INT ||
	    tk == TAG_BOOL || tk == TAG_NULL || tk == TAG_FLOAT)
		r = cnode_resolve_scalar(n);
	if (r == -ERANGE)
		r = fail_node(p, n, "integer out of range: '%s'", n->str);
	else if (r < 0)
		r = fail_node(p, n, "invalid integer '%s'", n->str);
	else if (tk == TAG_FLOAT && n->type == SCALAR_INT)
		n->type = SCALAR_FLOAT, n->fval = (double)n->ival;
	if (r == 0 && ((tk == TAG_INT && n->type != SCALAR_INT) ||
		       (tk == TAG_BOOL && n->type != SCALAR_BOOL) ||
		       (tk == TAG_NULL && n->type != SCALAR_NULL) ||
		       (tk == TAG_FLOAT && n->type != SCALAR_FLOAT))) {
		char shown[64];
		r = fail_node(p, n, "'%.*s' is not a valid %s", key_width(n), n->str,
			      tag_display((const char *)ev->data.scalar.tag, shown, sizeof(shown)));
	}
	if (r == 0 && tk == TAG_ARCHIVE)
		r = yamlload_check_archive(p, n);
	if (r < 0) {
		cnode_free(n);
		return r;
	}
	*out = n;
	return 0;
}

static int read_seq(struct yparser *p, yaml_event_t *start, unsigned depth, struct cnode **out)
{
	struct cnode *n, *item;
	size_t cap = 0, mark;
	yaml_event_t ev;
	int r;

	if (depth > YTREE_MAX_DEPTH)
		return fail_mark(p, start->start_mark, "nesting deeper than %d levels",
				 YTREE_MAX_DEPTH);
	n = ytree_node_new(p, CNODE_SEQ, start->start_mark.line + 1, start->start_mark.column + 1);
	if (!n)
		return -EINVAL;
	for (;;) {
		r = next_event(p, &ev);
		if (r < 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		mark = path_push_index(p->ld, n->n);
		r = parse_node(p, &ev, depth, &item);
		path_pop(p->ld, mark);
		yaml_event_delete(&ev);
		if (r < 0)
			goto fail;
		xgrow(&n->items, &cap, n->n + 1, sizeof(*n->items));
		n->items[n->n++] = item;
	}
	*out = n;
	return 0;
fail:
	cnode_free(n);
	return r;
}

static bool is_merge_key(const yaml_event_t *ev)
{
	return ev->type == YAML_SCALAR_EVENT && !ev->data.scalar.tag &&
	       ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && ev->data.scalar.length == 2 &&
	       memcmp(ev->data.scalar.value, "<<", 2) == 0;
}

/* `<<: M` or `<<: [M1, M2]`: keys of M not set explicitly are copied in, first
 * the merged ones (earlier maps win), then the map's own. */
static int apply_merge(struct yparser *p, struct cnode *map, json_t *keys, struct cnode *merge)
{
	struct cnode_pair *pairs = NULL;
	size_t n = 0, cap = 0, count;
	unsigned height;
	struct cnode **src = merge->kind == CNODE_MAP ? &merge : merge->items;
	size_t n_src = merge->kind == CNODE_MAP ? 1 : merge->n;

	for (size_t s = 0; s < n_src; s++) {
		for (size_t i = 0; i < src[s]->n; i++) {
			const struct cnode_pair *pr = &src[s]->pairs[i];
			if (json_object_get(keys, pr->key->str))
				continue;
			cnode_measure(pr->value, &count, &height);
			if (p->ld->nodes + count + 1 > YTREE_MAX_NODES) {
				for (size_t j = 0; j < n; j++) {
					cnode_free(pairs[j].key);
					cnode_free(pairs[j].value);
				}
				free(pairs);
				return fail_node(p, merge,
						 "too many nodes: merge key '<<' expands the "
						 "document beyond %d nodes",
						 YTREE_MAX_NODES);
			}
			p->ld->nodes += count + 1;
			json_object_set_new(keys, pr->key->str, json_integer(pr->key->line));
			xgrow(&pairs, &cap, n + 1, sizeof(*pairs));
			pairs[n].key = cnode_copy(pr->key);
			pairs[n++].value = cnode_copy(pr->value);
		}
	}
	xgrow(&pairs, &cap, n + map->n + 1, sizeof(*pairs));
	if (map->n)
		memcpy(pairs + n, map->pairs, map->n * sizeof(*pairs));
	free(map->pairs);
	map->pairs = pairs;
	map->n += n;
	return 0;
}

static int check_merge_value(struct yparser *p, const struct cnode *v)
{
	if (v->kind == CNODE_SCALAR || (v->kind == CNODE_SEQ && v->n == 0))
		return fail_node(p, v,
				 "merge key '<<' needs a mapping or a sequence of mappings "
				 "(got %s%s)",
				 v->kind == CNODE_SEQ ? "an empty " : "", cnode_type_name(v));
	for (size_t i = 0; v->kind == CNODE_SEQ && i < v->n; i++)
		if (v->items[i]->kind != CNODE_MAP)
			return fail_node(p, v->items[i],
					 "merge key '<<': item %zu is not a mapping "
					 "(got %s)",
					 i, cnode_type_name(v->items[i]));
	return 0;
}

/* A mapping's key from its first event: a scalar, not seen before in
 * this mapping (keys: name -> line). */
static int read_key(struct yparser *p, yaml_event_t *ev, unsigned depth, json_t *keys,
		    struct cnode **key)
{
	json_t *first;
	int r = parse_node(p, ev, depth, key);

	yaml_event_delete(ev);
	if (r < 0)
		return r;
	if ((*key)->kind != CNODE_SCALAR)
		return fail_node(p, *key, "non-scalar mapping key (a %s)", cnode_type_name(*key));
	first = json_object_get(keys, (*key)->str);
	if (first)
		return fail_node(p, *key, "duplicate key '%.*s' (first at line %lld)",
				 key_width(*key), (*key)->str,
				 (long long)json_integer_value(first));
	json_object_set_new(keys, (*key)->str, json_integer((*key)->line));
	return 0;
}

/* The value of key, read with the key on the diagnostics' path; a merge
 * key's must be mappings. */
static int read_value(struct yparser *p, unsigned depth, const struct cnode *key, bool is_merge,
		      struct cnode **val)
{
	yaml_event_t ev;
	size_t mark;
	int r = next_event(p, &ev);

	if (r < 0)
		return r;
	mark = path_push_key(p->ld, key->str);
	r = parse_node(p, &ev, depth, val);
	yaml_event_delete(&ev);
	if (r == 0 && is_merge)
		r = check_merge_value(p, *val);
	path_pop(p->ld, mark);
	return r;
}

/* One key and its value, ev its first event: added to map, or kept in
 * *merge when the key is '<<' (applied when the mapping ends). */
static int read_pair(struct yparser *p, yaml_event_t *ev, unsigned depth, json_t *keys,
		     struct cnode *map, size_t *cap, struct cnode **merge)
{
	struct cnode *key = NULL, *val = NULL;
	bool is_merge = is_merge_key(ev);
	int r = read_key(p, ev, depth, keys, &key);

	if (r == 0)
		r = read_value(p, depth, key, is_merge, &val);
	if (r < 0) {
		cnode_free(key);
		cnode_free(val);
		return r;
	}
	if (is_merge) {
		cnode_free(key);
		cnode_free(*merge); /* a second '<<' was refused as a duplicate key */
		*merge = val;
		return 0;
	}
	xgrow(&map->pairs, cap, map->n + 1, sizeof(*map->pairs));
	map->pairs[map->n].key = key;
	map->pairs[map->n++].value = val;
	return 0;
}

/* The pairs up to MAPPING-END, then the merge key's mappings. */
static int read_pairs(struct yparser *p, unsigned depth, json_t *keys, struct cnode *map)
{
	struct cnode *merge = NULL;
	size_t cap = 0;
	yaml_event_t ev;
	int r;

	for (;;) {
		r = next_event(p, &ev);
		if (r < 0)
			break;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		r = read_pair(p, &ev, depth, keys, map, &cap, &merge);
		if (r < 0)
			break;
	}
	if (r == 0 && merge)
		r = apply_merge(p, map, keys, merge);
	if (merge)
		retire(p->ld, merge);
	return r;
}

/* A mapping: its pairs in order, a merge key's mappings merged after
 * them. */
static int read_map(struct yparser *p, yaml_event_t *start, unsigned depth, struct cnode **out)
{
	struct cnode *n;
	json_t *keys;
	int r;

	if (depth > YTREE_MAX_DEPTH)
		return fail_mark(p, start->start_mark, "nesting deeper than %d levels",
				 YTREE_MAX_DEPTH);
	n = ytree_node_new(p, CNODE_MAP, start->start_mark.line + 1, start->start_mark.column + 1);
	if (!n)
		return -EINVAL;
	keys = json_object();
	r = read_pairs(p, depth, keys, n);
	json_decref(keys);
	if (r < 0) {
		cnode_free(n);
		return r;
	}
	*out = n;
	return 0;
}

/* --- the tree ------------------------------------------------------------- */

static int parse_node(struct yparser *p, yaml_event_t *ev, unsigned depth, struct cnode **out)
{
	const char *anchor, *tag;
	struct cnode *n = NULL, *inc;
	enum tag_kind tk;
	int r;

	*out = NULL;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return copy_alias(p, ev, depth, out);
	case YAML_SCALAR_EVENT:
		anchor = (const char *)ev->data.scalar.anchor;
		tag = (const char *)ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = (const char *)ev->data.sequence_start.anchor;
		tag = (const char *)ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = (const char *)ev->data.mapping_start.anchor;
		tag = (const char *)ev->data.mapping_start.tag;
		break;
	default:
		return fail_mark(p, ev->start_mark, "unexpected YAML event %d", (int)ev->type);
	}
	r = classify_tag(p, ev, tag, &tk);
	if (r < 0)
		return r;
	if (ev->type == YAML_SCALAR_EVENT)
		r = read_scalar(p, ev, tk, &n);
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		r = read_seq(p, ev, depth + 1, &n);
	else
		r = read_map(p, ev, depth + 1, &n);
	if (r < 0)
		return r;
	if (tk == TAG_INCLUDE) {
		r = p->ld->include(p, n, depth, &inc);
		retire(p->ld, n);
		if (r < 0)
			return r;
		n = inc;
	}
	if (anchor)
		add_anchor(p, anchor, n);
	*out = n;
	return 0;
}

/* The stream's one document: STREAM-START, DOCUMENT-START, its node
 * (*root), DOCUMENT-END, STREAM-END; an empty file or a second document
 * is refused. */
static int read_stream(struct yparser *p, unsigned depth, struct cnode **root)
{
	yaml_event_t ev;
	int r = next_event(p, &ev); /* STREAM-START */

	if (r < 0)
		return r;
	yaml_event_delete(&ev);
	r = next_event(p, &ev); /* DOCUMENT-START or STREAM-END */
	if (r < 0)
		return r;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return ytree_fail(p, p->file, 0, 0, "empty file");
	}
	yaml_event_delete(&ev);
	r = next_event(p, &ev);
	if (r < 0)
		return r;
	r = parse_node(p, &ev, depth, root);
	yaml_event_delete(&ev);
	if (r < 0)
		return r;
	r = next_event(p, &ev); /* DOCUMENT-END */
	if (r < 0)
		return r;
	yaml_event_delete(&ev);
	r = next_event(p, &ev); /* STREAM-END, or a second document */
	if (r < 0)
		return r;
	if (ev.type != YAML_STREAM_END_EVENT)
		r = fail_mark(p, ev.start_mark,
			      "a second document is not allowed (one '---' per file)");
	yaml_event_delete(&ev);
	return r;
}

int ytree_parse_document(struct yloader *ld, const char *file, const char *buf, size_t len,
			 unsigned depth, unsigned include_depth, bool top, struct cnode **out)
{
	struct yparser p = {
		.ld = ld, .file = file, .buf = buf, .len = len, .include_depth = include_depth};
	struct cnode *root = NULL;
	const char *nul;
	unsigned line, col;
	int r;

	*out = NULL;
	if (len > YTREE_MAX_BYTES)
		return ytree_fail(&p, file, 0, 0, "file is larger than %d bytes", YTREE_MAX_BYTES);
	nul = memchr(buf, '\0', len);
	if (nul) {
		offset_pos(buf, len, (size_t)(nul - buf), &line, &col);
		return ytree_fail(&p, file, line, col, "NUL byte in the file");
	}
	if (!yaml_parser_initialize(&p.yp))
		return ytree_fail(&p, file, 0, 0, "out of memory");
	yaml_parser_set_input_string(&p.yp, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&p.yp, YAML_UTF8_ENCODING);
	p.anchors = json_object();

	r = read_stream(&p, depth, &root);
	if (r == 0 && top && root->kind != CNODE_MAP)
		r = fail_node(&p, root, "the top level must be a mapping (got %s)",
			      cnode_type_name(root));
	if (r < 0)
		cnode_free(root);
	else
		*out = root;
	yaml_parser_delete(&p.yp);
	json_decref(p.anchors);
	free(p.av);
	return r;
}
