/* SPDX-License-Identifier: MIT */
/* Collected configuration diagnostics (see diag.h). */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

void diags_add(struct diags *d, const char *file, unsigned line, unsigned col, const char *path,
	       const char *fmt, ...)
{
	va_list ap;
	struct diag *dg;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup(fmt);
	va_end(ap);
	/* Inherited values are checked once per worker: the same message at
	 * the same place is said once. */
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *o = &d->v[i];

		if (o->line == line && o->col == col && strcmp(o->msg, msg) == 0 &&
		    strcmp(o->path, path ? path : "") == 0 &&
		    (o->file && file ? strcmp(o->file, file) == 0 : o->file == file)) {
			free(msg);
			return;
		}
	}
	xgrow(&d->v, &d->cap, d->n + 1, sizeof(*d->v));
	dg = &d->v[d->n++];
	dg->file = file ? xstrdup(file) : NULL;
	dg->line = line;
	dg->col = col;
	dg->path = xstrdup(path ? path : "");
	dg->msg = msg;
}

/* Config text ends up on an operator's terminal: escape control bytes. */
static void put_escaped(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\t')
			strbuf_puts(sb, "\\t");
		else if (c == '\n')
			strbuf_puts(sb, "\\n");
		else if (c < 0x20 || c == 0x7f)
			strbuf_printf(sb, "\\x%02x", c);
		else
			strbuf_putc(sb, (char)c);
	}
}

char *diag_format(const struct diag *dg)
{
	struct strbuf sb = {0};

	if (dg->file) {
		put_escaped(&sb, dg->file);
		if (dg->line)
			strbuf_printf(&sb, ":%u:%u", dg->line, dg->col);
		strbuf_puts(&sb, ": ");
	}
	if (dg->path[0]) {
		put_escaped(&sb, dg->path);
		strbuf_puts(&sb, ": ");
	}
	put_escaped(&sb, dg->msg);
	return strbuf_detach(&sb);
}

void diags_print(const struct diags *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++) {
		char *s = diag_format(&d->v[i]);
		fprintf(out, "%s\n", s);
		free(s);
	}
}

void diags_free(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].path);
		free(d->v[i].msg);
	}
	free(d->v);
	*d = (struct diags){0};
}
