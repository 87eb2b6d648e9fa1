/* SPDX-License-Identifier: MIT */
/* Collected configuration diagnostics (see diag.h). */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>

#include "diag.h"

void diags_add(struct diags *d, const char *file, unsigned line, unsigned col,
	       const char *path, const char *fmt, ...)
{
	va_list ap;
	struct diag *dg;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup(fmt);
	va_end(ap);
	xgrow(&d->v, &d->cap, d->n + 1, sizeof(*d->v));
	dg = &d->v[d->n++];
	dg->file = file ? xstrdup(file) : NULL;
	dg->line = line;
	dg->col = col;
	dg->path = xstrdup(path ? path : "");
	dg->msg = msg;
}

char *diag_format(const struct diag *dg)
{
	struct strbuf sb = {0};

	if (dg->file) {
		strbuf_puts(&sb, dg->file);
		if (dg->line)
			strbuf_printf(&sb, ":%u:%u", dg->line, dg->col);
		strbuf_puts(&sb, ": ");
	}
	if (dg->path[0])
		strbuf_printf(&sb, "%s: ", dg->path);
	strbuf_puts(&sb, dg->msg);
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
