/* SPDX-License-Identifier: MIT */
/*
 * Files for the YAML loader: reading a regular file under the size cap,
 * resolving `!include` (string, yaml, binary) beneath the include directory
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), counted and
 * depth-limited, and the loader's entry points (a buffer, a file, a file
 * that may hold a list).  Part of yamltree (see yamlload.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#else
#include <linux/types.h>
struct open_how {
	__u64 flags;
	__u64 mode;
	__u64 resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_BENEATH	      0x08
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#include "base64.h"
#include "cleanup.h"
#include "yamlload.h"
#include "yamlnode.h"
#include "yamltree.h"

/*
 * The buffer fits the file (grown if it grows while read), never the
 * limit: a 1 MiB buffer per file, freed, left a hole in berth run's heap
 * (glibc's mmap threshold rises to a freed mmapped chunk's size, so the
 * next one came from the heap) through which every restart's short-lived
 * allocations walked, touching a new page every few restarts.
 */
int yamlinclude_read_file(int fd, char **out, size_t *out_len, char **why)
{
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0, cap;
	ssize_t k;

	if (fstat(fd, &st) < 0) {
		int e = errno;
		*why = xasprintf("cannot stat: %s", strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = xasprintf("not a regular file (%s)", file_kind(st.st_mode));
		return -EINVAL;
	}
	/* room for one byte past the size (a file that grew) and the NUL */
	cap = st.st_size <= YTREE_MAX_BYTES ? (size_t)st.st_size + 2 : 0;
	buf = cap ? xmalloc(cap) : NULL;
	while (cap && len <= YTREE_MAX_BYTES) {
		if (len + 1 == cap) {
			cap = cap > YTREE_MAX_BYTES / 2 ? YTREE_MAX_BYTES + 2 : cap * 2;
			buf = xrealloc(buf, cap);
		}
		k = read(fd, buf + len, cap - 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;
			*why = xasprintf("cannot read: %s", strerror(e));
			return -e;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	if (!cap || len > YTREE_MAX_BYTES) {
		*why = xasprintf("file is larger than %d bytes", YTREE_MAX_BYTES);
		return -EINVAL;
	}
	buf[len] = '\0';
	*out = TAKE_PTR(buf);
	*out_len = len;
	return 0;
}

static bool has_dotdot(const char *path)
{
	for (const char *c = path; *c; c += strcspn(c, "/"), c += *c == '/')
		if (strncmp(c, "..", 2) == 0 && (c[2] == '/' || c[2] == '\0'))
			return true;
	return false;
}

/* Open path beneath the include directory (no escape, not even by symlink). */
static int open_beneath(struct yparser *p, const struct cnode *site, const char *path)
{
	struct yloader *ld = p->ld;
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (ld->dirfd < 0) {
		ld->dirfd = open(ld->include_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (ld->dirfd < 0)
			return ytree_fail_node(p, site, "!include: cannot open directory %s: %s",
					       ld->include_dir, strerror(errno));
	}
	fd = (int)syscall(SYS_openat2, ld->dirfd, path, &how, sizeof(how));
	if (fd >= 0)
		return fd;
	if (errno == EXDEV)
		return ytree_fail_node(p, site, "!include path '%s' resolves outside %s", path,
				       ld->include_dir);
	if (errno == ENOSYS)
		return ytree_fail_node(
			p, site, "!include needs openat2() (Linux 5.6) to open '%s' safely", path);
	return ytree_fail_node(p, site, "!include '%s': %s", path, strerror(errno));
}

/* The spec of an !include: a scalar path, or {type: string|yaml|binary, path: P}. */
static int include_spec(struct yparser *p, const struct cnode *spec, const char **path,
			const char **type)
{
	*path = NULL;
	*type = "yaml";
	if (spec->kind == CNODE_SCALAR) {
		*path = spec->str;
		return 0;
	}
	for (size_t i = 0; i < spec->n; i++) {
		const struct cnode *k = spec->pairs[i].key, *v = spec->pairs[i].value;
		bool is_type = strcmp(k->str, "type") == 0;
		if (!is_type && strcmp(k->str, "path") != 0)
			return ytree_fail_node(
				p, k, "!include: unknown key '%.*s' (expected 'type', 'path')",
				k->len > 60 ? 60 : (int)k->len, k->str);
		if (v->kind != CNODE_SCALAR || v->type != SCALAR_STR)
			return ytree_fail_node(p, v, "!include: '%s' must be a string (got %s)",
					       k->str, cnode_type_name(v));
		*(is_type ? type : path) = v->str;
	}
	if (!*path)
		return ytree_fail_node(p, spec, "!include: 'path' is missing");
	if (strcmp(*type, "string") && strcmp(*type, "yaml") && strcmp(*type, "binary"))
		return ytree_fail_node(
			p, spec, "!include type '%.*s' is not supported (string, yaml or binary)",
			60, *type);
	return 0;
}

/* The path and the include budget: relative, without '..', within the
 * number of files and the nesting depth allowed. */
static int check_include(struct yparser *p, const struct cnode *spec, const char *path)
{
	struct yloader *ld = p->ld;

	if (!*path)
		return ytree_fail_node(p, spec, "!include: empty path");
	if (path[0] == '/')
		return ytree_fail_node(p, spec,
				       "!include path '%s' is absolute: it must be relative to %s",
				       path, ld->include_dir);
	if (has_dotdot(path))
		return ytree_fail_node(p, spec, "!include path '%s' must not contain '..'", path);
	if (ld->includes >= YTREE_MAX_INCLUDES)
		return ytree_fail_node(p, spec, "too many !include files (at most %d)",
				       YTREE_MAX_INCLUDES);
	if (p->include_depth >= YTREE_MAX_INCLUDE_DEPTH)
		return ytree_fail_node(p, spec, "!include nested more than %d files deep (a loop?)",
				       YTREE_MAX_INCLUDE_DEPTH);
	return 0;
}

/* A string or binary include: the file's text (NUL-free UTF-8) or its
 * base64 as a string scalar; takes *buf. */
static int scalar_include(struct yparser *p, const struct cnode *spec, const char *path,
			  const char *type, char **buf, size_t len, struct cnode **out)
{
	struct cnode *n;

	if (strcmp(type, "string") == 0) {
		json_t *check = json_stringn(*buf, len);
		if (memchr(*buf, '\0', len))
			return ytree_fail_node(p, spec, "!include '%s': file contains a NUL byte",
					       path);
		if (!check)
			return ytree_fail_node(p, spec, "!include '%s': invalid UTF-8", path);
		json_decref(check);
	}
	n = ytree_node_new(p, CNODE_SCALAR, spec->line, spec->col);
	if (!n)
		return -EINVAL;
	n->file = spec->file;
	if (strcmp(type, "binary") == 0) {
		n->str = base64_encode(*buf, len);
		n->len = strlen(n->str);
	} else {
		n->str = TAKE_PTR(*buf);
		n->len = len;
	}
	n->type = SCALAR_STR;
	*out = n;
	return 0;
}

int yamlinclude_resolve(struct yparser *p, const struct cnode *spec, unsigned depth,
			struct cnode **out)
{
	struct yloader *ld = p->ld;
	_cleanup_free_ char *buf = NULL, *why = NULL;
	_cleanup_close_ int fd = -1;
	const char *path, *type, *file;
	size_t len;
	int r;

	if (!ld->include_dir)
		return ytree_fail_node(p, spec, "!include is not allowed here (no app directory)");
	r = include_spec(p, spec, &path, &type);
	if (r < 0)
		return r;
	r = check_include(p, spec, path);
	if (r < 0)
		return r;
	ld->includes++;
	fd = open_beneath(p, spec, path);
	if (fd < 0)
		return fd;
	r = yamlinclude_read_file(fd, &buf, &len, &why);
	if (r < 0)
		return ytree_fail_node(p, spec, "!include '%s': %s", path, why);
	if (strcmp(type, "yaml") != 0)
		return scalar_include(p, spec, path, type, &buf, len, out);
	_cleanup_free_ char *name = xasprintf("%s/%s", ld->include_dir, path);
	xgrow(&ld->doc->files, &ld->doc->cap_files, ld->doc->n_files + 1, sizeof(char *));
	file = ld->doc->files[ld->doc->n_files++] = TAKE_PTR(name);
	return ytree_parse_document(ld, file, buf, len, depth, p->include_depth + 1, false, out);
}

/* ---- the loader's entry points (yamltree.h) ------------------------------- */

enum { LOAD_LIST = 1, LOAD_ARCHIVE = 2 };

static int load(const char *name, const char *buf, size_t len, const char *include_dir,
		unsigned flags, struct ytree_doc *doc, struct diags *d)
{
	struct yloader ld = {.doc = doc,
			     .d = d,
			     .include_dir = include_dir,
			     .archive_ok = flags & LOAD_ARCHIVE,
			     .include = yamlinclude_resolve,
			     .dirfd = -1};
	bool list_ok = flags & LOAD_LIST;
	const char *file;
	int r;

	xgrow(&doc->files, &doc->cap_files, doc->n_files + 1, sizeof(char *));
	file = doc->files[doc->n_files++] = xstrdup(name);
	r = ytree_parse_document(&ld, file, buf, len, 0, 0, !list_ok, &doc->root);
	if (r == 0 && list_ok && doc->root->kind == CNODE_SCALAR) {
		diags_add(d, file, doc->root->line, doc->root->col, "",
			  "the top level must be a mapping or a list (got %s)",
			  cnode_type_name(doc->root));
		r = -EINVAL;
	}
	for (size_t i = 0; i < ld.n_retired; i++)
		cnode_free(ld.retired[i]);
	free(ld.retired);
	if (ld.dirfd >= 0)
		close(ld.dirfd);
	strbuf_release(&ld.path);
	if (r < 0)
		ytree_doc_free(doc);
	return r;
}

int ytree_load_buffer(const char *name, const char *buf, size_t len, const char *include_dir,
		      struct ytree_doc *doc, struct diags *d)
{
	*doc = (struct ytree_doc){0};
	return load(name ? name : "<memory>", buf ? buf : "", buf ? len : 0, include_dir, 0, doc,
		    d);
}

static int load_file(const char *path, const char *include_dir, unsigned flags,
		     struct ytree_doc *doc, struct diags *d)
{
	_cleanup_free_ char *buf = NULL, *why = NULL;
	_cleanup_close_ int fd = -1;
	size_t len;
	int r;

	*doc = (struct ytree_doc){0};
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ELOOP) {
		diags_add(d, path, 0, 0, "", "is a symbolic link (not followed)");
		return -EINVAL;
	}
	if (fd < 0) {
		r = -errno;
		diags_add(d, path, 0, 0, "", "cannot open: %s", strerror(-r));
		return r;
	}
	r = yamlinclude_read_file(fd, &buf, &len, &why);
	if (r < 0) {
		diags_add(d, path, 0, 0, "", "%s", why);
		return r;
	}
	return load(path, buf, len, include_dir, flags, doc, d);
}

int ytree_load_file(const char *path, const char *include_dir, struct ytree_doc *doc,
		    struct diags *d)
{
	return load_file(path, include_dir, 0, doc, d);
}

int ytree_load_services_file(const char *path, struct ytree_doc *doc, struct diags *d)
{
	return load_file(path, NULL, LOAD_ARCHIVE, doc, d);
}

int ytree_load_file_list(const char *path, const char *include_dir, struct ytree_doc *doc,
			 struct diags *d)
{
	return load_file(path, include_dir, LOAD_LIST, doc, d);
}

void ytree_doc_free(struct ytree_doc *doc)
{
	cnode_free(doc->root);
	for (size_t i = 0; i < doc->n_files; i++)
		free(doc->files[i]);
	free(doc->files);
	*doc = (struct ytree_doc){0};
}
