/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the YAML loader (yamltree.c, yamlnode.c): limits, every
 * rejection with its message and line:column, YAML 1.1 scalar typing,
 * merge keys, aliases, and !include beneath a directory.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "yamltree.h"

#define YDIR   TEST_DATA_DIR "/yaml"
#define INCDIR YDIR "/include"

static struct ytree_doc doc;
static struct diags diags;

static void teardown(void)
{
	ytree_doc_free(&doc);
	diags_free(&diags);
}

static int load(const char *text)
{
	ytree_doc_free(&doc);
	diags_free(&diags);
	return ytree_load_buffer("t.yaml", text, strlen(text), INCDIR, &doc, &diags);
}

static int loadn(const char *text, size_t len)
{
	ytree_doc_free(&doc);
	diags_free(&diags);
	return ytree_load_buffer("t.yaml", text, len, INCDIR, &doc, &diags);
}

/* The only diagnostic, formatted as "FILE:LINE:COL: PATH: msg". */
static char *only_diag(void)
{
	static char buf[1024];
	char *s;

	ck_assert_uint_eq(diags.n, 1);
	s = diag_format(&diags.v[0]);
	snprintf(buf, sizeof(buf), "%s", s);
	free(s);
	return buf;
}

#define assert_rejects(text, expected)                                                             \
	do {                                                                                       \
		ck_assert_int_eq(load(text), -EINVAL);                                             \
		ck_assert_str_eq(only_diag(), expected);                                           \
		ck_assert_ptr_null(doc.root);                                                      \
	} while (0)

static const struct cnode *get(const char *key)
{
	const struct cnode *n = cnode_get(doc.root, key);

	ck_assert_msg(n != NULL, "key %s missing", key);
	return n;
}

START_TEST(test_basic_tree)
{
	const struct cnode *w, *q;
	json_t *j;
	char *s;

	ck_assert_int_eq(load("name: app\nworkers:\n  queue:\n    commands:\n      start: "
			      "'python q.py'\n  mail: {size: S}\nlist: [a, 1, ~]\n"),
			 0);
	ck_assert_ptr_nonnull(doc.root);
	ck_assert_int_eq(doc.root->kind, CNODE_MAP);
	ck_assert_str_eq(doc.root->file, "t.yaml");
	w = get("workers");
	ck_assert_uint_eq(w->line, 3);
	ck_assert_uint_eq(w->col, 3);
	q = cnode_get(cnode_get(w, "queue"), "commands");
	ck_assert_str_eq(cnode_get(q, "start")->str, "python q.py");
	ck_assert_uint_eq(cnode_get(q, "start")->line, 5);
	ck_assert_uint_eq(cnode_get(q, "start")->col, 14);
	ck_assert_ptr_null(cnode_get(w, "nope"));
	ck_assert_ptr_null(cnode_get(get("name"), "x"));
	ck_assert_str_eq(cnode_type_name(w), "mapping");
	ck_assert_str_eq(cnode_type_name(get("list")), "sequence");
	ck_assert(cnode_is_null(get("list")->items[2]));
	ck_assert(!cnode_is_null(get("list")->items[0]));

	j = cnode_to_json(doc.root);
	s = json_dumps(j, JSON_COMPACT);
	ck_assert_str_eq(s,
			 "{\"name\":\"app\",\"workers\":{\"queue\":{\"commands\":{\"start\":"
			 "\"python q.py\"}},\"mail\":{\"size\":\"S\"}},\"list\":[\"a\",1,null]}");
	free(s);
	json_decref(j);
}
END_TEST

static const struct {
	const char *text;
	enum scalar_type type;
	long long ival;
	double fval;
} scalars[] = {
	{"~", SCALAR_NULL, 0, 0},
	{"null", SCALAR_NULL, 0, 0},
	{"Null", SCALAR_NULL, 0, 0},
	{"NULL", SCALAR_NULL, 0, 0},
	{"", SCALAR_NULL, 0, 0},
	{"nULL", SCALAR_STR, 0, 0},
	{"yes", SCALAR_BOOL, 1, 0},
	{"Yes", SCALAR_BOOL, 1, 0},
	{"YES", SCALAR_BOOL, 1, 0},
	{"no", SCALAR_BOOL, 0, 0},
	{"NO", SCALAR_BOOL, 0, 0},
	{"True", SCALAR_BOOL, 1, 0},
	{"FALSE", SCALAR_BOOL, 0, 0},
	{"on", SCALAR_BOOL, 1, 0},
	{"Off", SCALAR_BOOL, 0, 0},
	{"y", SCALAR_STR, 0, 0},
	{"n", SCALAR_STR, 0, 0},
	{"yEs", SCALAR_STR, 0, 0},
	{"0", SCALAR_INT, 0, 0},
	{"-0", SCALAR_INT, 0, 0},
	{"+12", SCALAR_INT, 12, 0},
	{"-17", SCALAR_INT, -17, 0},
	{"1_000", SCALAR_INT, 1000, 0},
	{"1__0", SCALAR_INT, 10, 0},
	{"_1", SCALAR_STR, 0, 0},
	{"0x1F", SCALAR_INT, 31, 0},
	{"-0x1f", SCALAR_INT, -31, 0},
	{"0b101", SCALAR_INT, 5, 0},
	{"017", SCALAR_INT, 15, 0},
	{"00", SCALAR_INT, 0, 0},
	{"0_", SCALAR_INT, 0, 0},
	{"08", SCALAR_STR, 0, 0},
	{"0o17", SCALAR_STR, 0, 0},
	{"12:30", SCALAR_INT, 750, 0},
	{"-1_2:3", SCALAR_INT, -723, 0},
	{"0:30", SCALAR_STR, 0, 0},
	{"1:60", SCALAR_STR, 0, 0},
	{"9223372036854775807", SCALAR_INT, INT64_MAX, 0},
	{"-9223372036854775808", SCALAR_INT, INT64_MIN, 0},
	{"1.5", SCALAR_FLOAT, 0, 1.5},
	{"09.5", SCALAR_FLOAT, 0, 9.5},
	{"1.", SCALAR_FLOAT, 0, 1.0},
	{"1._", SCALAR_FLOAT, 0, 1.0},
	{"0.", SCALAR_FLOAT, 0, 0.0},
	{".5", SCALAR_FLOAT, 0, 0.5},
	{"-.5", SCALAR_STR, 0, 0},
	{"+.5", SCALAR_STR, 0, 0},
	{"1e3", SCALAR_STR, 0, 0},
	{"1.0e3", SCALAR_STR, 0, 0},
	{"1.0e+3", SCALAR_FLOAT, 0, 1000.0},
	{"+1.5e-3", SCALAR_FLOAT, 0, 0.0015},
	{"1:2:3.5", SCALAR_FLOAT, 0, 3723.5},
	{"190:20:30.15", SCALAR_FLOAT, 0, 685230.15},
	{".inf", SCALAR_FLOAT, 0, INFINITY},
	{"-.Inf", SCALAR_FLOAT, 0, -INFINITY},
	{"+.INF", SCALAR_FLOAT, 0, INFINITY},
	{".NaN", SCALAR_FLOAT, 0, NAN},
	{"-.nan", SCALAR_STR, 0, 0},
	{"2001-12-14", SCALAR_STR, 0, 0},
	{"=", SCALAR_STR, 0, 0},
	{"12abc", SCALAR_STR, 0, 0},
	{"0x", SCALAR_STR, 0, 0},
	{"S", SCALAR_STR, 0, 0},
};

START_TEST(test_scalar_typing)
{
	char text[128];
	const struct cnode *v;

	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		snprintf(text, sizeof(text), "v: %s\n", scalars[i].text);
		ck_assert_msg(load(text) == 0, "%s", text);
		v = get("v");
		ck_assert_msg(v->type == scalars[i].type, "%s: type %d, not %d", scalars[i].text,
			      v->type, scalars[i].type);
		ck_assert_str_eq(v->str, scalars[i].text);
		if (v->type == SCALAR_INT)
			ck_assert_msg(v->ival == scalars[i].ival, "%s: %lld", text, v->ival);
		if (v->type == SCALAR_BOOL)
			ck_assert_int_eq(v->bval, scalars[i].ival);
		if (v->type == SCALAR_FLOAT && isnan(scalars[i].fval))
			ck_assert(isnan(v->fval));
		else if (v->type == SCALAR_FLOAT)
			ck_assert_msg(v->fval == scalars[i].fval, "%s: %g", text, v->fval);
	}
	/* quoted and block scalars are strings whatever they look like */
	ck_assert_int_eq(load("a: 'yes'\nb: \"12\"\nc: |\n  ~\nd: >-\n  1.5\n"), 0);
	ck_assert_int_eq(get("a")->type, SCALAR_STR);
	ck_assert_int_eq(get("b")->type, SCALAR_STR);
	ck_assert_int_eq(get("c")->type, SCALAR_STR);
	ck_assert_str_eq(get("c")->str, "~\n");
	ck_assert_int_eq(get("d")->type, SCALAR_STR);
	ck_assert_str_eq(cnode_type_name(get("d")), "string");
}
END_TEST

START_TEST(test_scalar_errors)
{
	assert_rejects("a: 9223372036854775808\n",
		       "t.yaml:1:4: a: integer out of range: '9223372036854775808'");
	assert_rejects("a:\n  b: -0x8000000000000001\n",
		       "t.yaml:2:6: a.b: integer out of range: '-0x8000000000000001'");
	assert_rejects("a: [1, 999999999999999999:00]\n",
		       "t.yaml:1:8: a[1]: integer out of range: '999999999999999999:00'");
	assert_rejects("a: 0x_\n", "t.yaml:1:4: a: invalid integer '0x_'");
	{
		/* long input is cut short in messages */
		char text[1100] = "a: ";
		memset(text + 3, '7', 1000);
		ck_assert_int_eq(load(text), -EINVAL);
		ck_assert_uint_eq(diags.n, 1);
		ck_assert_uint_eq(strlen(diags.v[0].msg), 399);
		ck_assert(str_has_prefix(diags.v[0].msg, "integer out of range: '777"));
		ck_assert_str_eq(diags.v[0].msg + 396, "...");
	}
	assert_rejects("a: \"x\\0y\"\n", "t.yaml:1:4: a: NUL character in a string");
}
END_TEST

START_TEST(test_standard_tags)
{
	json_t *j;
	char *s;

	ck_assert_int_eq(load("a: !!str 12\nb: !!int \"12\"\nc: !!bool 'yes'\nd: !!null ''\n"
			      "e: !!float 2\nf: !!map {x: 1}\ng: !!seq [1]\nh: ! 12\n"),
			 0);
	j = cnode_to_json(doc.root);
	s = json_dumps(j, JSON_COMPACT);
	ck_assert_str_eq(s,
			 "{\"a\":\"12\",\"b\":12,\"c\":true,\"d\":null,\"e\":2.0,\"f\":{\"x\":1},"
			 "\"g\":[1],\"h\":\"12\"}");
	free(s);
	json_decref(j);
	assert_rejects("a: !!int abc\n", "t.yaml:1:4: a: 'abc' is not a valid !!int");
	assert_rejects("a: !!bool 1\n", "t.yaml:1:4: a: '1' is not a valid !!bool");
	assert_rejects("a: !!str [1]\n", "t.yaml:1:4: a: tag '!!str' cannot be used on a sequence");
	assert_rejects("a: !!map [1]\n", "t.yaml:1:4: a: tag '!!map' cannot be used on a sequence");
	assert_rejects("a: !!seq x\n", "t.yaml:1:4: a: tag '!!seq' cannot be used on a scalar");
}
END_TEST

START_TEST(test_unsupported_tags)
{
	assert_rejects("a: !archive dir\n", "t.yaml:1:4: a: tag '!archive' is not supported");
	assert_rejects("a: !!binary aGVsbG8=\n", "t.yaml:1:4: a: tag '!!binary' is not supported");
	assert_rejects("a:\n  - !!python/object:os.system x\n",
		       "t.yaml:2:5: a[0]: tag '!!python/object:os.system' is not supported");
	assert_rejects("a: {b: [c, d: {e: !x 1}]}\n",
		       "t.yaml:1:19: a.b[1].d.e: tag '!x' is not supported");
	assert_rejects("!foo\nk: v\n", "t.yaml:1:1: tag '!foo' is not supported");
	assert_rejects("a: !<tag:example.com,2000:app/x> 1\n",
		       "t.yaml:1:4: a: tag 'tag:example.com,2000:app/x' is not supported");
}
END_TEST

START_TEST(test_structure_errors)
{
	assert_rejects("", "t.yaml: empty file");
	assert_rejects("# only a comment\n\n", "t.yaml: empty file");
	assert_rejects("a: 1\n---\nb: 2\n",
		       "t.yaml:2:1: a second document is not allowed (one '---' per file)");
	assert_rejects("---\na: 1\n...\n---\nb: 2\n",
		       "t.yaml:4:1: a second document is not allowed (one '---' per file)");
	assert_rejects("- a\n- b\n", "t.yaml:1:1: the top level must be a mapping (got sequence)");
	assert_rejects("just text\n", "t.yaml:1:1: the top level must be a mapping (got string)");
	assert_rejects("---\n", "t.yaml:2:1: the top level must be a mapping (got null)");
	assert_rejects("? [a, b]\n: 1\n", "t.yaml:1:3: non-scalar mapping key (a sequence)");
	assert_rejects("a:\n  {x: 1}: 2\n", "t.yaml:2:3: a: non-scalar mapping key (a mapping)");
	assert_rejects("a: \"unterminated\n",
		       "t.yaml:2:1: found unexpected end of stream (while scanning a quoted scalar "
		       "at line 1, column 4)");
	assert_rejects("a: b: c\n", "t.yaml:1:5: mapping values are not allowed in this context");
	assert_rejects("a: 1\n b: 2\n",
		       "t.yaml:2:3: mapping values are not allowed in this context");
}
END_TEST

START_TEST(test_duplicate_keys)
{
	assert_rejects("a: 1\nb: 2\na: 3\n", "t.yaml:3:1: duplicate key 'a' (first at line 1)");
	assert_rejects("workers:\n  queue:\n    commands: {start: a}\n  queue:\n    size: S\n",
		       "t.yaml:4:3: workers: duplicate key 'queue' (first at line 2)");
	assert_rejects(
		"workers:\n  queue:\n    commands:\n      start: a\n      start: b\n",
		"t.yaml:5:7: workers.queue.commands: duplicate key 'start' (first at line 4)");
	assert_rejects("mounts:\n  - {a: 1, 'a': 2}\n",
		       "t.yaml:2:12: mounts[0]: duplicate key 'a' (first at line 2)");
	assert_rejects("a: 1\n\"a\": 2\n", "t.yaml:2:1: duplicate key 'a' (first at line 1)");
	/* keys are compared as text, as written */
	ck_assert_int_eq(load("1: a\n01: b\n'1.0': c\n"), 0);
}
END_TEST

START_TEST(test_limits)
{
	char *text;
	size_t len;

	/* 10000 levels of [ and of {a: */
	len = 3 + 20000 + 2;
	text = malloc(len + 1);
	strcpy(text, "a: ");
	memset(text + 3, '[', 10000);
	memset(text + 10003, ']', 10000);
	strcpy(text + 20003, "\n");
	assert_rejects(text, "t.yaml:1:67: a[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
			     "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
			     "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: "
			     "nesting deeper than 64 levels");
	free(text);
	{
		struct strbuf sb = {0};
		for (int i = 0; i < 10000; i++)
			strbuf_puts(&sb, "{a: ");
		for (int i = 0; i < 10000; i++)
			strbuf_puts(&sb, "}");
		ck_assert_int_eq(load(sb.buf), -EINVAL);
		ck_assert_uint_eq(diags.n, 1);
		ck_assert_str_eq(diags.v[0].msg, "nesting deeper than 64 levels");
		ck_assert_uint_eq(diags.v[0].col, 1 + 4 * 64);
		strbuf_release(&sb);
	}

	/* exactly at the limits is fine: 64 levels */
	{
		struct strbuf sb = {0};
		for (int i = 0; i < 63; i++)
			strbuf_puts(&sb, "{a: ");
		strbuf_puts(&sb, "{a: 1");
		for (int i = 0; i < 64; i++)
			strbuf_puts(&sb, "}");
		ck_assert_int_eq(load(sb.buf), 0);
		strbuf_release(&sb);
	}

	/* NUL bytes in the raw stream */
	ck_assert_int_eq(loadn("a: 1\nbé: x\0y\n", 14), -EINVAL);
	ck_assert_str_eq(only_diag(), "t.yaml:2:6: NUL byte in the file");

	/* size */
	len = YTREE_MAX_BYTES + 1;
	text = malloc(len);
	memset(text, ' ', len);
	memcpy(text, "a: 1\n", 5);
	ck_assert_int_eq(loadn(text, len), -EINVAL);
	ck_assert_str_eq(only_diag(), "t.yaml: file is larger than 1048576 bytes");
	ck_assert_int_eq(loadn(text, len - 1), 0);
	free(text);

	/* invalid UTF-8, and UTF-16 (which has NULs) */
	ck_assert_int_eq(load("a: 1\nb: \xff\n"), -EINVAL);
	ck_assert_str_eq(only_diag(), "t.yaml:2:4: invalid UTF-8: invalid leading UTF-8 octet");
	ck_assert_int_eq(load("a: \xc3\x28\n"), -EINVAL);
	ck_assert_str_eq(only_diag(), "t.yaml:1:5: invalid UTF-8: invalid trailing UTF-8 octet");
	ck_assert_int_eq(loadn("\xff\xfe"
			       "a\0:\0",
			       6),
			 -EINVAL);
	ck_assert_str_eq(only_diag(), "t.yaml:1:4: NUL byte in the file");
	ck_assert_int_eq(load("\xef\xbb\xbf"
			      "a: 1\n"),
			 0); /* a UTF-8 BOM is fine */
	ck_assert_int_eq(load("a: \x01\n"), -EINVAL);
	ck_assert_str_eq(only_diag(), "t.yaml:1:4: control characters are not allowed (#1)");
}
END_TEST

START_TEST(test_node_budget)
{
	struct strbuf sb = {0};

	/* kubernetes #83253 */
	ck_assert_int_eq(ytree_load_file(YDIR "/billion-laughs.yaml", NULL, &doc, &diags), -EINVAL);
	ck_assert_str_eq(only_diag(), YDIR "/billion-laughs.yaml:8:10: data.f[0]: too many nodes: "
					   "alias '*e' expands the document beyond 100000 nodes");

	/* plain nodes count too */
	strbuf_puts(&sb, "a: [");
	for (int i = 0; i < YTREE_MAX_NODES; i++)
		strbuf_puts(&sb, "1,");
	strbuf_puts(&sb, "]\n");
	ck_assert_int_eq(load(sb.buf), -EINVAL);
	ck_assert_str_eq(only_diag(), "t.yaml:1:199999: a[99997]: too many nodes: more than "
				      "100000 with aliases expanded");
	strbuf_release(&sb);

	/* merge keys are charged too */
	strbuf_puts(&sb, "x: &x [");
	for (int i = 0; i < 30000; i++)
		strbuf_puts(&sb, "1,");
	strbuf_puts(&sb, "]\nm: &m {a: *x, b: *x}\nn: {<<: *m}\n");
	ck_assert_int_eq(load(sb.buf), -EINVAL);
	ck_assert_str_eq(diags.v[0].msg, "too many nodes: alias '*m' expands the document beyond "
					 "100000 nodes");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_aliases)
{
	const struct cnode *b;

	ck_assert_int_eq(load("a: &anc {x: [1, 2], y: z}\nb: *anc\nc: [*anc, *anc]\n"), 0);
	b = get("b");
	ck_assert_int_eq(b->kind, CNODE_MAP);
	ck_assert_ptr_ne(b, get("a"));
	ck_assert_uint_eq(b->line, 2); /* the copy is placed where it is used */
	ck_assert_uint_eq(b->col, 4);
	ck_assert_int_eq(cnode_get(b, "x")->items[1]->ival, 2);
	ck_assert_uint_eq(cnode_get(b, "x")->line, 1); /* its insides keep their place */
	ck_assert_uint_eq(get("c")->n, 2);
	/* redefined anchors: the latest wins */
	ck_assert_int_eq(load("a: &x 1\nb: &x 2\nc: *x\n"), 0);
	ck_assert_int_eq(get("c")->ival, 2);
	/* alias as a key */
	ck_assert_int_eq(load("a: &k name\n*k : v\n"), 0);
	ck_assert_str_eq(get("name")->str, "v");

	assert_rejects("a: *nope\n", "t.yaml:1:4: a: alias '*nope' refers to an undefined anchor");
	assert_rejects("a: &a [1, *a]\n",
		       "t.yaml:1:11: a[1]: alias '*a' refers to an undefined anchor");
	assert_rejects("a: &k a\n*k : 2\n", "t.yaml:2:1: duplicate key 'a' (first at line 1)");
}
END_TEST

START_TEST(test_alias_depth)
{
	struct strbuf sb = {0};

	strbuf_puts(&sb, "a: &a ");
	for (int i = 0; i < 40; i++)
		strbuf_puts(&sb, "[");
	for (int i = 0; i < 40; i++)
		strbuf_puts(&sb, "]");
	strbuf_puts(&sb, "\nb: ");
	for (int i = 0; i < 30; i++)
		strbuf_puts(&sb, "[");
	strbuf_puts(&sb, "*a");
	for (int i = 0; i < 30; i++)
		strbuf_puts(&sb, "]");
	strbuf_puts(&sb, "\n");
	ck_assert_int_eq(load(sb.buf), -EINVAL);
	ck_assert_str_eq(diags.v[0].msg, "nesting deeper than 64 levels (through alias '*a')");
	ck_assert_uint_eq(diags.v[0].line, 2);
	ck_assert_uint_eq(diags.v[0].col, 34);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_merge_keys)
{
	json_t *j;
	char *s;

	ck_assert_int_eq(load("defaults: &d {size: S, disk: 512, mounts: {a: 1}}\n"
			      "more: &m {disk: 1024, timezone: UTC}\n"
			      "w1:\n  <<: *d\n  size: M\n"
			      "w2:\n  size: L\n  <<: [*m, *d]\n"
			      "w3: {<<: {a: &z 1}, a: 2, b: *z}\n"),
			 0);
	j = cnode_to_json(doc.root);
	s = json_dumps(j, JSON_COMPACT);
	ck_assert_str_eq(s, "{\"defaults\":{\"size\":\"S\",\"disk\":512,\"mounts\":{\"a\":1}},"
			    "\"more\":{\"disk\":1024,\"timezone\":\"UTC\"},"
			    "\"w1\":{\"disk\":512,\"mounts\":{\"a\":1},\"size\":\"M\"},"
			    "\"w2\":{\"disk\":1024,\"timezone\":\"UTC\",\"mounts\":{\"a\":1},"
			    "\"size\":\"L\"},"
			    "\"w3\":{\"a\":2,\"b\":1}}");
	free(s);
	json_decref(j);
	ck_assert_uint_eq(cnode_get(get("w1"), "disk")->line, 1);

	/* a quoted "<<" is an ordinary key */
	ck_assert_int_eq(load("a: {'<<': 1}\n"), 0);
	ck_assert_int_eq(cnode_get(get("a"), "<<")->ival, 1);

	assert_rejects("<<: [1]\n", "t.yaml:1:6: <<: merge key '<<': item 0 is not a mapping "
				    "(got integer)");
	assert_rejects("a:\n  <<: x\n",
		       "t.yaml:2:7: a.<<: merge key '<<' needs a mapping or a sequence of mappings "
		       "(got string)");
	assert_rejects("a: {<<: []}\n", "t.yaml:1:9: a.<<: merge key '<<' needs a mapping or a "
					"sequence of mappings (got an empty sequence)");
	assert_rejects("d: &d {x: 1}\na:\n  <<: *d\n  y: 2\n  <<: *d\n",
		       "t.yaml:5:3: a: duplicate key '<<' (first at line 3)");
	assert_rejects("d: &d {x: 1}\na:\n  <<: *d\n  x: 2\n  x: 3\n",
		       "t.yaml:5:3: a: duplicate key 'x' (first at line 4)");
}
END_TEST

START_TEST(test_include)
{
	const struct cnode *n;

	ck_assert_int_eq(ytree_load_file(INCDIR "/main.yaml", INCDIR, &doc, &diags), 0);
	n = cnode_get(get("hooks"), "build");
	ck_assert_int_eq(n->type, SCALAR_STR);
	ck_assert_str_eq(n->str, "#!/bin/sh\nset -e\necho building\n");
	ck_assert_uint_eq(n->line, 3);
	ck_assert_uint_eq(n->col, 10);
	ck_assert_str_eq(get("blob")->str, "aGkB/w==");
	n = get("relationships");
	ck_assert_int_eq(n->kind, CNODE_MAP);
	ck_assert_str_eq(n->file, INCDIR "/sub/rels.yaml");
	ck_assert_str_eq(cnode_get(n, "database")->str, "db:mysql");
	ck_assert_uint_eq(cnode_get(n, "cache")->line, 2);
	ck_assert_int_eq(cnode_get(n, "cache")->items[1]->pairs[0].value->ival, 6379);
	ck_assert_int_eq(get("explicit")->kind, CNODE_MAP);
	ck_assert_uint_eq(doc.n_files, 3);

	/* errors inside an included file are reported there, with the key path */
	assert_rejects("x:\n  y: !include sub/bad.yaml\n",
		       INCDIR "/sub/bad.yaml:2:10: x.y.a[2].b: tag '!unknown' is not supported");
	assert_rejects("a: !include sub/twodocs.yaml\n",
		       INCDIR "/sub/twodocs.yaml:2:1: a: a second document is not allowed "
			      "(one '---' per file)");
	assert_rejects("a: !include empty.yaml\n", INCDIR "/empty.yaml: a: empty file");
	assert_rejects("a: !include loop.yaml\n",
		       INCDIR "/loop.yaml:1:8: a.again.again.again.again.again.again.again.again: "
			      "!include nested more than 8 files deep (a loop?)");
	assert_rejects("a: !include missing.yaml\n",
		       "t.yaml:1:4: a: !include 'missing.yaml': No such file or directory");
	assert_rejects("a: !include sub\n",
		       "t.yaml:1:4: a: !include 'sub': not a regular file (a directory)");
	assert_rejects(
		"a: !include /etc/passwd\n",
		"t.yaml:1:4: a: !include path '/etc/passwd' is absolute: it must be relative "
		"to " INCDIR);
	assert_rejects("a: !include ../include/main.yaml\n",
		       "t.yaml:1:4: a: !include path '../include/main.yaml' must not contain '..'");
	assert_rejects("a: !include {type: string, path: sub/../build.sh}\n",
		       "t.yaml:1:4: a: !include path 'sub/../build.sh' must not contain '..'");
	assert_rejects("a: !include ''\n", "t.yaml:1:4: a: !include: empty path");
	assert_rejects("a: !include {type: archive, path: x}\n",
		       "t.yaml:1:4: a: !include type 'archive' is not supported (string, yaml or "
		       "binary)");
	assert_rejects("a: !include {type: string, path: x, mode: 1}\n",
		       "t.yaml:1:37: a: !include: unknown key 'mode' (expected 'type', 'path')");
	assert_rejects("a: !include {type: string}\n",
		       "t.yaml:1:4: a: !include: 'path' is missing");
	assert_rejects("a: !include {path: [x]}\n",
		       "t.yaml:1:20: a: !include: 'path' must be a string (got sequence)");
	assert_rejects("a: !include [x]\n",
		       "t.yaml:1:4: a: !include needs a file name or a mapping {type, path}, not a "
		       "sequence");

	/* no include directory: refused */
	ytree_doc_free(&doc);
	diags_free(&diags);
	ck_assert_int_eq(
		ytree_load_buffer("t.yaml", "a: !include x.yaml\n", 19, NULL, &doc, &diags),
		-EINVAL);
	ck_assert_str_eq(only_diag(),
			 "t.yaml:1:4: a: !include is not allowed here (no app directory)");
}
END_TEST

START_TEST(test_include_count)
{
	struct strbuf sb = {0};

	for (int i = 0; i <= YTREE_MAX_INCLUDES; i++)
		strbuf_printf(&sb, "k%d: !include {type: string, path: build.sh}\n", i);
	ck_assert_int_eq(load(sb.buf), -EINVAL);
	ck_assert_str_eq(only_diag(), "t.yaml:33:6: k32: too many !include files (at most 32)");
	strbuf_release(&sb);
}
END_TEST

/* A scratch tree: dir/app (the include dir) with links out of it. */
static char scratch[64];

static void make_scratch(void)
{
	char p[256];

	strcpy(scratch, "/tmp/test-yamltree-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(scratch));
	snprintf(p, sizeof(p), "%s/app", scratch);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/secret.yaml", scratch);
	ck_assert_int_eq(close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)), 0);
	snprintf(p, sizeof(p), "%s/app/up", scratch);
	ck_assert_int_eq(symlink("../secret.yaml", p), 0);
	snprintf(p, sizeof(p), "%s/app/abs", scratch);
	ck_assert_int_eq(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/app/dirlink", scratch);
	ck_assert_int_eq(symlink("..", p), 0);
	snprintf(p, sizeof(p), "%s/app/proc", scratch);
	ck_assert_int_eq(symlink("/proc/self/root/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/app/fifo", scratch);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	snprintf(p, sizeof(p), "%s/app/ok.yaml", scratch);
	ck_assert_int_eq(symlink(INCDIR "/sub/rels.yaml", p), 0);
	snprintf(p, sizeof(p), "%s/app/inside", scratch);
	ck_assert_int_eq(close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)), 0);
	snprintf(p, sizeof(p), "%s/app/in-link", scratch);
	ck_assert_int_eq(symlink("inside", p), 0);
}

static void remove_scratch(void)
{
	const char *names[] = {"app/up",      "app/abs",     "app/dirlink", "app/proc",
			       "app/fifo",    "app/ok.yaml", "app/inside",  "app/in-link",
			       "secret.yaml", "big"};
	char p[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", scratch, names[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/app", scratch);
	rmdir(p);
	rmdir(scratch);
}

START_TEST(test_include_escapes)
{
	char dir[256], text[256], want[512];
	const char *outside[] = {"up", "abs", "dirlink/secret.yaml", "proc", "ok.yaml"};

	make_scratch();
	snprintf(dir, sizeof(dir), "%s/app", scratch);
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		snprintf(text, sizeof(text), "a: !include %s\n", outside[i]);
		ytree_doc_free(&doc);
		diags_free(&diags);
		ck_assert_int_eq(ytree_load_buffer("t.yaml", text, strlen(text), dir, &doc, &diags),
				 -EINVAL);
		snprintf(want, sizeof(want),
			 "t.yaml:1:4: a: !include path '%s' resolves outside %s", outside[i], dir);
		ck_assert_str_eq(only_diag(), want);
	}
	/* a FIFO is refused without blocking */
	snprintf(text, sizeof(text), "a: !include fifo\n");
	ytree_doc_free(&doc);
	diags_free(&diags);
	ck_assert_int_eq(ytree_load_buffer("t.yaml", text, strlen(text), dir, &doc, &diags),
			 -EINVAL);
	ck_assert_str_eq(only_diag(),
			 "t.yaml:1:4: a: !include 'fifo': not a regular file (a FIFO)");
	/* a symlink that stays inside is fine */
	snprintf(text, sizeof(text), "a: !include {type: string, path: in-link}\n");
	ytree_doc_free(&doc);
	diags_free(&diags);
	ck_assert_int_eq(ytree_load_buffer("t.yaml", text, strlen(text), dir, &doc, &diags), 0);
	ck_assert_str_eq(get("a")->str, "");
	remove_scratch();
}
END_TEST

START_TEST(test_load_file_refusals)
{
	char p[256], want[512];
	int fd;

	make_scratch();
	/* a symlink, even to a good file */
	snprintf(p, sizeof(p), "%s/app/ok.yaml", scratch);
	ck_assert_int_eq(ytree_load_file(p, NULL, &doc, &diags), -EINVAL);
	snprintf(want, sizeof(want), "%s: is a symbolic link (not followed)", p);
	ck_assert_str_eq(only_diag(), want);
	diags_free(&diags);
	/* a FIFO: no hang */
	snprintf(p, sizeof(p), "%s/app/fifo", scratch);
	ck_assert_int_eq(ytree_load_file(p, NULL, &doc, &diags), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file (a FIFO)", p);
	ck_assert_str_eq(only_diag(), want);
	diags_free(&diags);
	/* a directory, a device */
	ck_assert_int_eq(ytree_load_file(scratch, NULL, &doc, &diags), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file (a directory)", scratch);
	ck_assert_str_eq(only_diag(), want);
	diags_free(&diags);
	ck_assert_int_eq(ytree_load_file("/dev/zero", NULL, &doc, &diags), -EINVAL);
	ck_assert_str_eq(only_diag(), "/dev/zero: not a regular file (a character device)");
	diags_free(&diags);
	/* missing */
	snprintf(p, sizeof(p), "%s/nope.yaml", scratch);
	ck_assert_int_eq(ytree_load_file(p, NULL, &doc, &diags), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", p);
	ck_assert_str_eq(only_diag(), want);
	diags_free(&diags);
	/* too large (sparse) */
	snprintf(p, sizeof(p), "%s/big", scratch);
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, YTREE_MAX_BYTES + 1), 0);
	close(fd);
	ck_assert_int_eq(ytree_load_file(p, NULL, &doc, &diags), -EINVAL);
	snprintf(want, sizeof(want), "%s: file is larger than 1048576 bytes", p);
	ck_assert_str_eq(only_diag(), want);
	remove_scratch();
}
END_TEST

START_TEST(test_json_types)
{
	json_t *j;
	char *s;

	ck_assert_int_eq(
		load("z: 1\na: [yes, ~, 1.5, -.inf, .nan, 0x10, \"s\"]\nm: {b: 1, a: 2}\n"), 0);
	j = cnode_to_json(doc.root);
	s = json_dumps(j, JSON_COMPACT);
	ck_assert_str_eq(s, "{\"z\":1,\"a\":[true,null,1.5,\"-.inf\",\".nan\",16,\"s\"],"
			    "\"m\":{\"b\":1,\"a\":2}}");
	free(s);
	json_decref(j);
	ck_assert_str_eq(cnode_type_name(get("z")), "integer");
	ck_assert_str_eq(cnode_type_name(get("a")->items[0]), "boolean");
	ck_assert_str_eq(cnode_type_name(get("a")->items[1]), "null");
	ck_assert_str_eq(cnode_type_name(get("a")->items[2]), "float");
	ck_assert_str_eq(cnode_type_name(NULL), "null");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("yamltree");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_basic_tree);
	tcase_add_test(tc, test_scalar_typing);
	tcase_add_test(tc, test_scalar_errors);
	tcase_add_test(tc, test_standard_tags);
	tcase_add_test(tc, test_unsupported_tags);
	tcase_add_test(tc, test_structure_errors);
	tcase_add_test(tc, test_duplicate_keys);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_node_budget);
	tcase_add_test(tc, test_aliases);
	tcase_add_test(tc, test_alias_depth);
	tcase_add_test(tc, test_merge_keys);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_include_count);
	tcase_add_test(tc, test_include_escapes);
	tcase_add_test(tc, test_load_file_refusals);
	tcase_add_test(tc, test_json_types);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
