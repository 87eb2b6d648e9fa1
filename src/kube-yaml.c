/* SPDX-License-Identifier: MIT */
/*
 * JSON values as a YAML stream, through libyaml's emitter (kube.h).  A
 * string is written plain only when no YAML reader could take it for
 * anything but a string; otherwise double-quoted ("1", "true", "400m",
 * "registry/app:1.0").  Pure: the text goes to memory.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "kube.h"
#include "util.h"

/* Letters, digits and "_./-", starting with a letter or '/', and none of
 * YAML 1.1's booleans or nulls: a plain scalar every reader takes as that
 * string. */
static bool plain_safe(const char *s)
{
	static const char *const words[] = {"y",   "n",	   "yes",   "no",  "on",
					    "off", "true", "false", "null"};

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '/'))
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_./-", *p)))
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcasecmp(s, words[i]) == 0)
			return false;
	return true;
}

static int scalar(yaml_emitter_t *e, const char *s, bool is_string)
{
	yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;
	yaml_event_t ev;

	if (is_string && !plain_safe(s))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
					  style) ||
	    !yaml_emitter_emit(e, &ev))
		return -EINVAL;
	return 0;
}

static int node(yaml_emitter_t *e, const json_t *v);

static int mapping(yaml_emitter_t *e, const json_t *v)
{
	const char *k;
	json_t *x;
	yaml_event_t ev;

	if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
	    !yaml_emitter_emit(e, &ev))
		return -EINVAL;
	json_object_foreach((json_t *)v, k, x)
	{
		if (scalar(e, k, true) < 0 || node(e, x) < 0)
			return -EINVAL;
	}
	if (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(e, &ev))
		return -EINVAL;
	return 0;
}

static int sequence(yaml_emitter_t *e, const json_t *v)
{
	size_t i;
	json_t *x;
	yaml_event_t ev;

	if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
	    !yaml_emitter_emit(e, &ev))
		return -EINVAL;
	json_array_foreach(v, i, x)
	{
		if (node(e, x) < 0)
			return -EINVAL;
	}
	if (!yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(e, &ev))
		return -EINVAL;
	return 0;
}

static int node(yaml_emitter_t *e, const json_t *v)
{
	char buf[64];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return mapping(e, v);
	case JSON_ARRAY:
		return sequence(e, v);
	case JSON_STRING:
		return scalar(e, json_string_value(v), true);
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return scalar(e, buf, false);
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		return scalar(e, buf, false);
	case JSON_TRUE:
		return scalar(e, "true", false);
	case JSON_FALSE:
		return scalar(e, "false", false);
	case JSON_NULL:
		return scalar(e, "null", false);
	}
	return -EINVAL;
}

static int write_handler(void *data, unsigned char *buf, size_t size)
{
	strbuf_add(data, (const char *)buf, size);
	return 1;
}

static int stream(yaml_emitter_t *e, const json_t *docs)
{
	yaml_event_t ev;
	size_t i;
	json_t *doc;

	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    !yaml_emitter_emit(e, &ev))
		return -EINVAL;
	json_array_foreach(docs, i, doc)
	{
		if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0) ||
		    !yaml_emitter_emit(e, &ev) || node(e, doc) < 0 ||
		    !yaml_document_end_event_initialize(&ev, 1) || !yaml_emitter_emit(e, &ev))
			return -EINVAL;
	}
	if (!yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(e, &ev) ||
	    !yaml_emitter_flush(e))
		return -EINVAL;
	return 0;
}

int kube_yaml(const json_t *docs, char **out, size_t *len)
{
	struct strbuf sb = {0};
	yaml_emitter_t e;
	int r;

	if (!yaml_emitter_initialize(&e))
		return -ENOMEM;
	yaml_emitter_set_output(&e, write_handler, &sb);
	yaml_emitter_set_width(&e, -1); /* no folding: a line per value */
	yaml_emitter_set_indent(&e, 2);
	yaml_emitter_set_unicode(&e, 1);
	r = stream(&e, docs);
	yaml_emitter_delete(&e);
	if (r < 0) {
		strbuf_release(&sb);
		return r;
	}
	*len = sb.len;
	*out = strbuf_detach(&sb);
	return 0;
}
