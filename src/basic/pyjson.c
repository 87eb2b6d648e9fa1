/* SPDX-License-Identifier: MIT */
/*
 * Python-json.dumps-compatible serialiser (sort_keys=True, ensure_ascii=True,
 * separators ", " / ": ").  jansson's own dumper differs in separators and
 * escapes, hence this small writer.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyjson.h"

/* Decode one UTF-8 sequence at s (n bytes left); returns its length or 0. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t len;
	uint32_t c, min;

	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Append one quoted string to sb.  pyjson_dumps()'s result codes. */
static int pyjson_append_string(struct strbuf *sb, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;

	strbuf_putc(sb, '"');
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0)
			return -EINVAL;
		i += n;
		switch (cp) {
		case '"':
			strbuf_puts(sb, "\\\"");
			continue;
		case '\\':
			strbuf_puts(sb, "\\\\");
			continue;
		case '\b':
			strbuf_puts(sb, "\\b");
			continue;
		case '\f':
			strbuf_puts(sb, "\\f");
			continue;
		case '\n':
			strbuf_puts(sb, "\\n");
			continue;
		case '\r':
			strbuf_puts(sb, "\\r");
			continue;
		case '\t':
			strbuf_puts(sb, "\\t");
			continue;
		}
		if (cp >= 0x20 && cp <= 0x7e) {
			strbuf_putc(sb, (char)cp);
		} else if (cp < 0x10000) {
			strbuf_printf(sb, "\\u%04" PRIx32, cp);
		} else {
			uint32_t v = cp - 0x10000;

			strbuf_printf(sb, "\\u%04" PRIx32 "\\u%04" PRIx32, 0xd800 | (v >> 10),
				      0xdc00 | (v & 0x3ff));
		}
	}
	strbuf_putc(sb, '"');
	return 0;
}

/* Python's repr() of a finite double ("1.0", "1e+16", "1.5e-07"), into buf
 * (>= 32 bytes). */
static void pyjson_format_real(char *buf, size_t size, double d)
{
	char tmp[40];
	int prec;

	/* Shortest digit string that reads back as d (Python's repr). */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* tmp is [-]D[.DDD]e[+-]XX: collect the digits and the exponent. */
	char digits[24];
	size_t nd = 0;
	const char *p = tmp;
	bool neg = false;

	if (*p == '-') {
		neg = true;
		p++;
	}
	for (; *p && *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	int exp10 = atoi(p + 1);
	int decpt = exp10 + 1; /* value = 0.DIGITS x 10^decpt */
	struct strbuf sb = {0};

	if (neg)
		strbuf_putc(&sb, '-');
	if (decpt <= -4 || decpt > 16) {
		strbuf_putc(&sb, digits[0]);
		if (nd > 1) {
			strbuf_putc(&sb, '.');
			strbuf_puts(&sb, digits + 1);
		}
		strbuf_printf(&sb, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
	} else if (decpt <= 0) {
		strbuf_puts(&sb, "0.");
		for (int i = decpt; i < 0; i++)
			strbuf_putc(&sb, '0');
		strbuf_puts(&sb, digits);
	} else if ((size_t)decpt >= nd) {
		strbuf_puts(&sb, digits);
		for (size_t i = nd; i < (size_t)decpt; i++)
			strbuf_putc(&sb, '0');
		strbuf_puts(&sb, ".0");
	} else {
		strbuf_add(&sb, digits, (size_t)decpt);
		strbuf_putc(&sb, '.');
		strbuf_puts(&sb, digits + decpt);
	}
	snprintf(buf, size, "%s", sb.buf);
	strbuf_release(&sb);
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An array: [a, b], as json.dumps writes it. */
/* Arrays and objects hold values: the recursion. */
static int pyjson_append(struct strbuf *sb, const json_t *v);

static int append_array(struct strbuf *sb, const json_t *v)
{
	int r;

	strbuf_putc(sb, '[');
	for (size_t i = 0; i < json_array_size(v); i++) {
		if (i)
			strbuf_puts(sb, ", ");
		r = pyjson_append(sb, json_array_get(v, i));
		if (r < 0)
			return r;
	}
	strbuf_putc(sb, ']');
	return 0;
}

/* An object: {"a": 1, "b": 2}, its keys sorted as sort_keys=True does. */
static int append_object(struct strbuf *sb, const json_t *v)
{
	size_t n = json_object_size(v), i = 0;
	const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
	const char *key;
	json_t *val;
	int r = 0;

	json_object_foreach((json_t *)v, key, val) keys[i++] = key;
	/* UTF-8 byte order is code point order, which is Python's. */
	qsort(keys, n, sizeof(*keys), cmp_keys);
	strbuf_putc(sb, '{');
	for (i = 0; i < n && r == 0; i++) {
		if (i)
			strbuf_puts(sb, ", ");
		r = pyjson_append_string(sb, keys[i], strlen(keys[i]));
		if (r == 0) {
			strbuf_puts(sb, ": ");
			r = pyjson_append(sb, json_object_get(v, keys[i]));
		}
	}
	free(keys);
	if (r < 0)
		return r;
	strbuf_putc(sb, '}');
	return 0;
}

/* Append one value to sb.  pyjson_dumps()'s result codes. */
static int pyjson_append(struct strbuf *sb, const json_t *v)
{
	char num[40];

	switch (json_typeof(v)) {
	case JSON_NULL:
		strbuf_puts(sb, "null");
		return 0;
	case JSON_TRUE:
		strbuf_puts(sb, "true");
		return 0;
	case JSON_FALSE:
		strbuf_puts(sb, "false");
		return 0;
	case JSON_INTEGER:
		strbuf_printf(sb, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	case JSON_REAL:
		pyjson_format_real(num, sizeof(num), json_real_value(v));
		strbuf_puts(sb, num);
		return 0;
	case JSON_STRING:
		return pyjson_append_string(sb, json_string_value(v), json_string_length(v));
	case JSON_ARRAY:
		return append_array(sb, v);
	case JSON_OBJECT:
		return append_object(sb, v);
	}
	return -EINVAL;
}

int pyjson_dumps(const json_t *v, char **out)
{
	struct strbuf sb = {0};
	int r = pyjson_append(&sb, v);

	if (r < 0) {
		strbuf_release(&sb);
		return r;
	}
	*out = strbuf_detach(&sb);
	return 0;
}
