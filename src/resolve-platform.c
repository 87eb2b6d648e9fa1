/* SPDX-License-Identifier: MIT */
/*
 * What Platform.sh refuses that berth's runtime does not need: `berth
 * check` reports it so that a config it passes also deploys there, while
 * env and run stay usable with test values (a 16 MB disk image).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "resolve.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"

static void check_disk(const struct cnode *n, const char *path, struct diags *d)
{
	if (n && n->kind == CNODE_SCALAR && n->type == SCALAR_INT && n->ival > 0 &&
	    n->ival < APP_PLATFORM_DISK_MIN_MB)
		diags_add(d, n->file, n->line, n->col, path,
			  "disk must be at least %d MB (Platform.sh's minimum), not %lld",
			  APP_PLATFORM_DISK_MIN_MB, n->ival);
}

/* A tz database name such as "Europe/Paris", checked by its text first so
 * that the lookup stays inside the zoneinfo directory: letters, digits,
 * '_', '+', '-' in components joined by single '/' (no '.', so no "..").
 */
static bool tz_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//"))
		return false;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || strchr("/_+-", *c)))
			return false;
	return true;
}

static void check_timezone(const struct cnode *n, const char *path, struct diags *d)
{
	struct stat st;

	if (!n || n->kind != CNODE_SCALAR || n->type != SCALAR_STR)
		return; /* null, or reported by resolve */
	if (tz_name_ok(n->str)) {
		char *file = xasprintf("%s/%s", ZONEINFO_DIR, n->str);
		bool found = stat(file, &st) == 0 && S_ISREG(st.st_mode);

		free(file);
		if (found)
			return;
	}
	diags_add(d, n->file, n->line, n->col, path,
		  "timezone '%s' is not a tz database name (such as 'Europe/Paris') found in "
		  "%s",
		  n->str, ZONEINFO_DIR);
}

void resolve_check_platform(const struct app *app, struct diags *d)
{
	const struct cnode *top = app->app_node;
	const struct cnode *workers = cnode_get(top, "workers");

	check_disk(cnode_get(top, "disk"), "disk", d);
	check_timezone(cnode_get(top, "timezone"), "timezone", d);
	for (size_t i = 0; workers && workers->kind == CNODE_MAP && i < workers->n; i++) {
		const struct cnode_pair *p = &workers->pairs[i];
		char *path = xasprintf("workers.%s.disk", p->key->str);

		check_disk(cnode_get(p->value, "disk"), path, d);
		free(path);
		path = xasprintf("workers.%s.timezone", p->key->str);
		check_timezone(cnode_get(p->value, "timezone"), path, d);
		free(path);
	}
}
