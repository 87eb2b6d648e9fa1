/* SPDX-License-Identifier: MIT */
/*
 * Which cgroup hierarchies the host has (pure v2, hybrid, v1 only, none),
 * from /proc/self/mountinfo, and where a process sits in each of them, from
 * /proc/<pid>/cgroup.  The parsers are pure and unit-tested.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup-internal.h"
#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

const char *const cgfs_v1_name[CG_V1_COUNT] = {
	[CG_V1_FREEZER] = "freezer",
	[CG_V1_MEMORY] = "memory",
	[CG_V1_CPU] = "cpu",
	[CG_V1_PIDS] = "pids",
};

/* Undo mountinfo's octal escapes (\040 for a space, ...). */
static char *unescape(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 +
				      (s[i + 3] - '0'));
			i += 3;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* Is a mount at `over` hiding the one at `mnt` (same path or a parent)? */
static bool shadows(const char *over, const char *mnt)
{
	size_t n = strlen(over);

	if (strcmp(over, mnt) == 0)
		return true;
	return n > 1 && strncmp(over, mnt, n) == 0 && mnt[n] == '/';
}

static bool has_option(const char *opts, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = opts; p; p = strchr(p, ','), p = p ? p + 1 : NULL)
		if (strncmp(p, opt, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

static void set_mount(char **mnt, char **root, const char *m, const char *r)
{
	free(*mnt);
	free(*root);
	*mnt = m ? xstrdup(m) : NULL;
	*root = r ? xstrdup(r) : NULL;
}

/* Super options without "rw" and "ro". */
static char *super_options(const char *opts)
{
	struct strbuf sb = {0};

	for (const char *p = opts; *p;) {
		size_t n = strcspn(p, ",");
		if (!(n == 2 && (strncmp(p, "rw", 2) == 0 || strncmp(p, "ro", 2) == 0))) {
			if (sb.len)
				strbuf_putc(&sb, ',');
			strbuf_add(&sb, p, n);
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return sb.len ? strbuf_detach(&sb) : xstrdup("");
}

static void parse_mountinfo_line(const char *line, struct cgroup_layout *out)
{
	const char *f[32];
	size_t len[32], nf = 0, sep = 0;

	for (const char *p = line; *p && nf < ARRAY_SIZE(f);) {
		size_t n = strcspn(p, " ");

		f[nf] = p;
		len[nf++] = n;
		p += n;
		p += strspn(p, " ");
	}
	for (size_t i = 6; i < nf; i++)
		if (len[i] == 1 && f[i][0] == '-') {
			sep = i;
			break;
		}
	if (sep == 0 || sep + 3 >= nf)
		return;

	_cleanup_free_ char *root = unescape(f[3], len[3]);
	_cleanup_free_ char *mnt = unescape(f[4], len[4]);
	_cleanup_free_ char *type = xstrndup(f[sep + 1], len[sep + 1]);
	_cleanup_free_ char *opts = xstrndup(f[sep + 3], len[sep + 3]);

	/* A later mount on the same path, or on a parent, hides earlier ones. */
	if (out->unified_mnt && shadows(mnt, out->unified_mnt))
		set_mount(&out->unified_mnt, &out->unified_root, NULL, NULL);
	for (int i = 0; i < CG_V1_COUNT; i++)
		if (out->v1_mnt[i] && shadows(mnt, out->v1_mnt[i]))
			set_mount(&out->v1_mnt[i], &out->v1_root[i], NULL, NULL);

	if (strcmp(type, "cgroup2") == 0) {
		/* Prefer the standard places when cgroup2 is mounted twice. */
		if (!out->unified_mnt || strcmp(mnt, "/sys/fs/cgroup") == 0 ||
		    strcmp(mnt, "/sys/fs/cgroup/unified") == 0)
			set_mount(&out->unified_mnt, &out->unified_root, mnt, root);
	} else if (strcmp(type, "cgroup") == 0) {
		for (int i = 0; i < CG_V1_COUNT; i++)
			if (!out->v1_mnt[i] && has_option(opts, cgfs_v1_name[i])) {
				set_mount(&out->v1_mnt[i], &out->v1_root[i], mnt, root);
				free(out->v1_opts[i]);
				out->v1_opts[i] = super_options(opts);
			}
	}
}

static enum cgroup_mode classify(const struct cgroup_layout *l)
{
	bool v1 = false;

	for (int i = 0; i < CG_V1_COUNT; i++)
		v1 |= l->v1_mnt[i] != NULL;
	if (l->unified_mnt)
		return v1 ? CGROUP_MODE_HYBRID : CGROUP_MODE_V2;
	return v1 ? CGROUP_MODE_V1 : CGROUP_MODE_NONE;
}

int cgroup_parse_mountinfo(const char *text, struct cgroup_layout *out)
{
	memset(out, 0, sizeof(*out));
	for (const char *p = text; p && *p;) {
		size_t n = strcspn(p, "\n");
		_cleanup_free_ char *line = xstrndup(p, n);

		parse_mountinfo_line(line, out);
		p += n;
		if (*p == '\n')
			p++;
	}
	out->mode = classify(out);
	return 0;
}

int cgroup_parse_proc_cgroup(const char *text, const char *controller, char **path)
{
	for (const char *p = text; p && *p;) {
		size_t n = strcspn(p, "\n");
		_cleanup_free_ char *line = xstrndup(p, n);
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		p += n;
		if (*p == '\n')
			p++;
		if (!c2)
			return -EINVAL;
		*c1 = *c2 = '\0';
		bool match = controller ? has_option(c1 + 1, controller)
					: strcmp(line, "0") == 0 && c1[1] == '\0';
		if (match) {
			if (c2[1] != '/')
				return -EINVAL;
			*path = xstrdup(c2 + 1);
			return 0;
		}
	}
	return -ENOENT;
}

void cgroup_layout_free(struct cgroup_layout *l)
{
	free(l->unified_mnt);
	free(l->unified_root);
	for (int i = 0; i < CG_V1_COUNT; i++) {
		free(l->v1_mnt[i]);
		free(l->v1_root[i]);
		free(l->v1_opts[i]);
	}
	memset(l, 0, sizeof(*l));
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void cgroup_layout_copy(const struct cgroup_layout *from, struct cgroup_layout *to)
{
	to->mode = from->mode;
	to->unified_mnt = dup_or_null(from->unified_mnt);
	to->unified_root = dup_or_null(from->unified_root);
	for (int i = 0; i < CG_V1_COUNT; i++) {
		to->v1_mnt[i] = dup_or_null(from->v1_mnt[i]);
		to->v1_root[i] = dup_or_null(from->v1_root[i]);
		to->v1_opts[i] = dup_or_null(from->v1_opts[i]);
	}
}

int cgroup_layout_force(struct cgroup_layout *l, enum cgroup_mode mode)
{
	bool v2 = mode == CGROUP_MODE_V2 || mode == CGROUP_MODE_HYBRID;
	bool v1 = mode == CGROUP_MODE_V1 || mode == CGROUP_MODE_HYBRID;
	struct cgroup_layout n = {.mode = mode};

	if (v2 && l->unified_mnt) {
		n.unified_mnt = TAKE_PTR(l->unified_mnt);
		n.unified_root = TAKE_PTR(l->unified_root);
	}
	for (int i = 0; v1 && i < CG_V1_COUNT; i++) {
		n.v1_mnt[i] = TAKE_PTR(l->v1_mnt[i]);
		n.v1_root[i] = TAKE_PTR(l->v1_root[i]);
		n.v1_opts[i] = TAKE_PTR(l->v1_opts[i]);
	}
	cgroup_layout_free(l);
	*l = n;
	return classify(l) == mode ? 0 : -ENOENT;
}

const char *cgroup_mode_to_string(enum cgroup_mode m)
{
	switch (m) {
	case CGROUP_MODE_V2:
		return "v2";
	case CGROUP_MODE_HYBRID:
		return "hybrid";
	case CGROUP_MODE_V1:
		return "v1";
	case CGROUP_MODE_NONE:
		break;
	}
	return "none";
}

int cgroup_detect(struct cgroup_layout *out)
{
	_cleanup_free_ char *text = NULL;
	int r = cgfs_read_text("/proc/self/mountinfo", &text);

	memset(out, 0, sizeof(*out));
	if (r < 0)
		return r;
	r = cgroup_parse_mountinfo(text, out);
	if (r == 0)
		log_debug("cgroup hierarchy: %s", cgroup_mode_to_string(out->mode));
	return r;
}
