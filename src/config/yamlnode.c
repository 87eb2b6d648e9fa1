/* SPDX-License-Identifier: MIT */
/*
 * The cnode tree: lookups, JSON conversion, copies, and the YAML 1.1 typing
 * of plain scalars exactly as PyYAML's resolvers do it (bool, null, int with
 * 0b/0x/leading-0 octal/sexagesimal forms, float needing a dot, .inf/.nan).
 * Timestamps are left as strings.  Pure.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "yamlnode.h"

void cnode_free(struct cnode *n)
{
	if (!n)
		return;
	free(n->str);
	for (size_t i = 0; n->items && i < n->n; i++)
		cnode_free(n->items[i]);
	for (size_t i = 0; n->pairs && i < n->n; i++) {
		cnode_free(n->pairs[i].key);
		cnode_free(n->pairs[i].value);
	}
	free(n->items);
	free(n->pairs);
	free(n);
}

struct cnode *cnode_copy(const struct cnode *n)
{
	struct cnode *c = xmalloc(sizeof(*c));

	*c = *n;
	c->str = n->str ? xstrndup(n->str, n->len) : NULL;
	c->items = NULL;
	c->pairs = NULL;
	if (n->kind == CNODE_SEQ) {
		c->items = xcalloc(n->n, sizeof(*c->items));
		for (size_t i = 0; i < n->n; i++)
			c->items[i] = cnode_copy(n->items[i]);
	} else if (n->kind == CNODE_MAP) {
		c->pairs = xcalloc(n->n, sizeof(*c->pairs));
		for (size_t i = 0; i < n->n; i++) {
			c->pairs[i].key = cnode_copy(n->pairs[i].key);
			c->pairs[i].value = cnode_copy(n->pairs[i].value);
		}
	}
	return c;
}

void cnode_measure(const struct cnode *n, size_t *count, unsigned *height)
{
	size_t c = 1;
	unsigned h = 0, ch;
	size_t cc;

	for (size_t i = 0; n->kind == CNODE_SEQ && i < n->n; i++) {
		cnode_measure(n->items[i], &cc, &ch);
		c += cc;
		h = ch > h ? ch : h;
	}
	for (size_t i = 0; n->kind == CNODE_MAP && i < n->n; i++) {
		cnode_measure(n->pairs[i].key, &cc, &ch);
		c += cc;
		cnode_measure(n->pairs[i].value, &cc, &ch);
		c += cc;
		h = ch > h ? ch : h;
	}
	*count = c;
	*height = n->kind == CNODE_SCALAR ? 0 : h + 1;
}

struct cnode *cnode_get(const struct cnode *map, const char *key)
{
	if (!map || map->kind != CNODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->pairs[i].key->str, key) == 0)
			return map->pairs[i].value;
	return NULL;
}

bool cnode_is_null(const struct cnode *n)
{
	return n && n->kind == CNODE_SCALAR && n->type == SCALAR_NULL;
}

const char *cnode_type_name(const struct cnode *n)
{
	if (!n)
		return "null";
	if (n->kind == CNODE_SEQ)
		return "sequence";
	if (n->kind == CNODE_MAP)
		return "mapping";
	switch (n->type) {
	case SCALAR_NULL:
		return "null";
	case SCALAR_BOOL:
		return "boolean";
	case SCALAR_INT:
		return "integer";
	case SCALAR_FLOAT:
		return "float";
	case SCALAR_STR:
		break;
	}
	return "string";
}

json_t *cnode_to_json(const struct cnode *n)
{
	json_t *j, *v;

	if (n->kind == CNODE_SEQ) {
		j = json_array();
		for (size_t i = 0; i < n->n; i++) {
			v = cnode_to_json(n->items[i]);
			if (!v || json_array_append_new(j, v) < 0)
				goto fail;
		}
		return j;
	}
	if (n->kind == CNODE_MAP) {
		j = json_object();
		for (size_t i = 0; i < n->n; i++) {
			v = cnode_to_json(n->pairs[i].value);
			if (!v || json_object_set_new(j, n->pairs[i].key->str, v) < 0)
				goto fail;
		}
		return j;
	}
	switch (n->type) {
	case SCALAR_NULL:
		return json_null();
	case SCALAR_BOOL:
		return json_boolean(n->bval);
	case SCALAR_INT:
		return json_integer(n->ival);
	case SCALAR_FLOAT:
		/* JSON has no infinity or NaN: those keep their YAML spelling. */
		if (isfinite(n->fval))
			return json_real(n->fval);
		break;
	case SCALAR_STR:
		break;
	}
	return json_stringn(n->str, n->len);
fail:
	json_decref(j);
	return NULL;
}

/* --- YAML 1.1 typing of plain scalars ------------------------------------ */

static bool in_set(char c, const char *set)
{
	return c && strchr(set, c);
}

static const char *skip_set(const char *p, const char *set)
{
	while (in_set(*p, set))
		p++;
	return p;
}

#define DIGITS	"0123456789"
#define DIGITS_ "0123456789_"

/* ":" [0-5]?[0-9], repeated at least once; returns the end or NULL. */
static const char *skip_sexagesimal(const char *p)
{
	if (*p != ':')
		return NULL;
	while (*p == ':') {
		p++;
		if (in_set(p[0], "012345") && in_set(p[1], DIGITS))
			p += 2;
		else if (in_set(p[0], DIGITS))
			p++;
		else
			return NULL;
	}
	return p;
}

/* ([eE][-+][0-9]+)? then the end of the string. */
static bool exponent_tail(const char *p)
{
	if (!*p)
		return true;
	if (*p != 'e' && *p != 'E')
		return false;
	p++;
	if (*p != '-' && *p != '+')
		return false;
	p++;
	if (!in_set(*p, DIGITS))
		return false;
	return *skip_set(p, DIGITS) == '\0';
}

static bool match_float(const char *s)
{
	static const char *const special[] = {".inf", ".Inf", ".INF"};
	static const char *const nan[] = {".nan", ".NaN", ".NAN"};
	const char *p = s + (*s == '-' || *s == '+');

	for (size_t i = 0; i < ARRAY_SIZE(nan); i++)
		if (strcmp(s, nan[i]) == 0)
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(special); i++)
		if (strcmp(p, special[i]) == 0)
			return true;
	if (*s == '.') /* \.[0-9][0-9_]*(exp)? -- no sign allowed here */
		return in_set(s[1], DIGITS) && exponent_tail(skip_set(s + 1, DIGITS_));
	if (!in_set(*p, DIGITS))
		return false;
	p = skip_set(p, DIGITS_);
	if (*p == '.')
		return exponent_tail(skip_set(p + 1, DIGITS_));
	p = skip_sexagesimal(p);
	return p && *p == '.' && *skip_set(p + 1, DIGITS_) == '\0';
}

static bool match_int(const char *s)
{
	const char *p = s + (*s == '-' || *s == '+');

	if (p[0] == '0' && p[1] == 'b')
		return in_set(p[2], "01_") && *skip_set(p + 2, "01_") == '\0';
	if (p[0] == '0' && p[1] == 'x')
		return in_set(p[2], "0123456789abcdefABCDEF_") &&
		       *skip_set(p + 2, "0123456789abcdefABCDEF_") == '\0';
	if (p[0] == '0')
		return p[1] == '\0' ||
		       (in_set(p[1], "01234567_") && *skip_set(p + 1, "01234567_") == '\0');
	if (!in_set(*p, "123456789"))
		return false;
	p = skip_set(p, DIGITS_);
	if (!*p)
		return true;
	p = skip_sexagesimal(p);
	return p && !*p;
}

/* s without its '_' separators (PyYAML removes them all before converting). */
static char *strip_underscores(const char *s)
{
	char *d = xstrdup(s), *w = d;

	for (const char *r = s; *r; r++)
		if (*r != '_')
			*w++ = *r;
	*w = '\0';
	return d;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

/* Multiply-add with a range check: *v = *v * base + dv, at most limit. */
static bool mul_add(uint64_t *v, unsigned base, unsigned dv, uint64_t limit)
{
	if (*v > (limit - dv) / base)
		return false;
	*v = *v * base + dv;
	return true;
}

static int int_value(const char *text, long long *out)
{
	char *s = strip_underscores(text);
	const char *p = s;
	bool neg = false;
	unsigned base = 10, ndigits = 0;
	uint64_t v = 0, part = 0, limit;
	int r = -ERANGE;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (p[0] == '0' && p[1] == 'b')
		base = 2, p += 2;
	else if (p[0] == '0' && p[1] == 'x')
		base = 16, p += 2;
	else if (p[0] == '0' && p[1])
		base = 8, p++;
	else if (strchr(p, ':'))
		base = 60;
	for (;; p++) {
		if (base == 60 && (*p == ':' || !*p)) {
			/* sexagesimal: decimal parts, each worth 60 of the next */
			if (!mul_add(&v, 60, 0, limit) || v > limit - part)
				goto out;
			v += part;
			part = 0;
		}
		if (!*p)
			break;
		if (*p == ':')
			continue;
		if (!mul_add(base == 60 ? &part : &v, base == 60 ? 10 : base,
			     (unsigned)digit_value(*p), limit))
			goto out;
		ndigits++;
	}
	r = -EINVAL;
	if (!ndigits)
		goto out;
	*out = neg ? (long long)(0 - v) : (long long)v;
	r = 0;
out:
	free(s);
	return r;
}

static double float_value(const char *text)
{
	char *s = strip_underscores(text);
	const char *p = s;
	double sign = 1, v = 0;

	if (*p == '-' || *p == '+')
		sign = *p++ == '-' ? -1 : 1;
	if (strcasecmp(p, ".inf") == 0) {
		v = INFINITY;
	} else if (strcasecmp(p, ".nan") == 0) {
		v = NAN;
	} else if (strchr(p, ':')) {
		/* base 60: every part but the last is an integer */
		for (char *part = (char *)p, *colon; part; part = colon) {
			colon = strchr(part, ':');
			if (colon)
				*colon++ = '\0';
			v = v * 60 + strtod(part, NULL);
		}
	} else {
		v = strtod(p, NULL);
	}
	free(s);
	return sign * v;
}

int cnode_resolve_scalar(struct cnode *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	static const char *const trues[] = {"yes",  "Yes", "YES", "true", "True",
					    "TRUE", "on",  "On",  "ON"};
	static const char *const falses[] = {"no",    "No",  "NO",  "false", "False",
					     "FALSE", "off", "Off", "OFF"};
	const char *s = n->str;
	int r;

	n->type = SCALAR_STR;
	for (size_t i = 0; i < ARRAY_SIZE(nulls); i++)
		if (strcmp(s, nulls[i]) == 0) {
			n->type = SCALAR_NULL;
			return 0;
		}
	for (size_t i = 0; i < ARRAY_SIZE(trues); i++)
		if (strcmp(s, trues[i]) == 0 || strcmp(s, falses[i]) == 0) {
			n->type = SCALAR_BOOL;
			n->bval = strcmp(s, trues[i]) == 0;
			return 0;
		}
	if (match_float(s)) {
		n->type = SCALAR_FLOAT;
		n->fval = float_value(s);
		return 0;
	}
	if (match_int(s)) {
		r = int_value(s, &n->ival);
		if (r < 0)
			return r;
		n->type = SCALAR_INT;
	}
	return 0;
}
