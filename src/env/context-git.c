/* SPDX-License-Identifier: MIT */
/*
 * The context's tree id without forking git on every start.  A commit's
 * tree never changes, so git's answer for (repository, commit id, the app
 * directory's path in the work tree) is kept in a small file under the
 * runtime directory (cache/tree/).  The commit id is read here as git
 * would find it in the plain case: a `.git` directory or `gitdir:` file
 * above the app, HEAD detached or naming a branch, the branch a loose ref
 * or a line of packed-refs (gitref.c parses them).  Anything else (another
 * owner, a reftable, a worktree or include in the config, a symbolic ref
 * chain, a replaced object, a filesystem boundary) runs git, as before.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "context.h"
#include "gitref.h"
#include "log.h"
#include "util.h"

#define SMALL_MAX  4096
#define PACKED_MAX (16 << 20) /* a larger packed-refs: git reads it */
#define UNUSUAL	   1	      /* not read here: git answers, uncached */

/* A repository above the app directory, plain enough to read. */
struct gitrepo {
	char *gitdir; /* where HEAD is (realpath) */
	char *common; /* refs, packed-refs, config: gitdir, or its commondir */
	char *prefix; /* the app directory in the work tree: "" or "a/b" */
};

static void gitrepo_free(struct gitrepo *g)
{
	free(g->gitdir);
	free(g->common);
	free(g->prefix);
	memset(g, 0, sizeof(*g));
}

/* A regular file of at most max bytes, no NUL in it, never through a
 * link: 0 and *text, or -errno (not logged). */
static int read_small(int dfd, const char *path, size_t max, char **text)
{
	_cleanup_close_ int fd =
		openat(dfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	_cleanup_(strbuf_release) struct strbuf sb = {0};
	struct stat st;
	int r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max)
		return -EINVAL;
	r = strbuf_read_fd(&sb, fd, max);
	if (r < 0)
		return r == -EFBIG ? -EINVAL : r;
	if (strlen(sb.buf) != sb.len)
		return -EINVAL;
	*text = strbuf_detach(&sb);
	return 0;
}

/* git refuses a repository whose work tree, `.git` or git directory is
 * another user's (safe.directory, which berth's git cannot be given). */
static bool owned(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && st.st_uid == geteuid();
}

/* The git directory a `.git` file names, and its common directory. */
static int follow_gitfile(const char *top, const char *dotgit, struct gitrepo *g)
{
	_cleanup_free_ char *text = NULL, *path = NULL, *common = NULL;

	if (read_small(AT_FDCWD, dotgit, SMALL_MAX, &text) < 0 || gitref_gitfile(text, &path) < 0)
		return UNUSUAL;
	_cleanup_free_ char *abs = path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", top, path);

	g->gitdir = realpath(abs, NULL);
	if (!g->gitdir)
		return UNUSUAL;
	_cleanup_free_ char *cd = xasprintf("%s/commondir", g->gitdir);
	int r = read_small(AT_FDCWD, cd, SMALL_MAX, &common);

	if (r == -ENOENT) {
		g->common = xstrdup(g->gitdir);
		return 0;
	}
	size_t n = r == 0 ? strlen(common) : 0;

	if (n < 2 || common[n - 1] != '\n' || memchr(common, '\n', n - 1))
		return UNUSUAL;
	common[n - 1] = '\0';
	free(abs);
	abs = common[0] == '/' ? xstrdup(common) : xasprintf("%s/%s", g->gitdir, common);
	g->common = realpath(abs, NULL);
	return g->common ? 0 : UNUSUAL;
}

/* The repository whose `.git` is in top; app is the app's realpath. */
static int open_repo(const char *top, const char *app, const struct stat *st, struct gitrepo *g)
{
	_cleanup_free_ char *dotgit = xasprintf("%s/.git", strcmp(top, "/") ? top : "");
	_cleanup_free_ char *cfg = NULL, *text = NULL, *replace = NULL;
	size_t tn = strcmp(top, "/") ? strlen(top) : 0;

	if (S_ISDIR(st->st_mode)) {
		g->gitdir = xstrdup(dotgit);
		g->common = xstrdup(dotgit);
	} else if (!S_ISREG(st->st_mode) || follow_gitfile(top, dotgit, g) != 0)
		return UNUSUAL;
	if (!owned(top) || !owned(dotgit) || !owned(g->gitdir) || !owned(g->common))
		return UNUSUAL;
	cfg = xasprintf("%s/config", g->common);
	if (read_small(AT_FDCWD, cfg, SMALL_MAX * 16, &text) < 0 || !gitref_config_plain(text))
		return UNUSUAL;
	replace = xasprintf("%s/refs/replace", g->common);
	struct stat rs;

	if (lstat(replace, &rs) == 0 || errno != ENOENT)
		return UNUSUAL;
	g->prefix = xstrdup(app[tn] == '/' ? app + tn + 1 : app + tn);
	return 0;
}

/* Find the repository git would for app: 0 (g filled), -ENOENT when
 * there is none (git would fail), UNUSUAL when git must look. */
static int find_repo(const char *app_dir, struct gitrepo *g)
{
	_cleanup_free_ char *app = realpath(app_dir, NULL);
	struct stat st, here;
	bool crossed = false;

	if (!app || stat(app, &here) < 0)
		return UNUSUAL;
	_cleanup_free_ char *p = xstrdup(app);
	dev_t dev = here.st_dev;

	for (;;) {
		const char *d = strcmp(p, "/") ? p : "";
		_cleanup_free_ char *dotgit = xasprintf("%s/.git", d);
		_cleanup_free_ char *head = xasprintf("%s/HEAD", d);

		if (lstat(dotgit, &st) == 0)
			return crossed ? UNUSUAL : open_repo(p, app, &st, g);
		if (errno != ENOENT || lstat(head, &st) == 0 || errno != ENOENT)
			return UNUSUAL; /* an error, or a bare repository */
		if (strcmp(p, "/") == 0)
			return -ENOENT;
		char *slash = strrchr(p, '/');

		slash[slash == p ? 1 : 0] = '\0';
		/* git stops at a filesystem boundary: what it says then is its own */
		if (stat(p, &here) < 0 || here.st_dev != dev)
			crossed = true;
	}
}

/* HEAD's commit id: 0 (id filled), or UNUSUAL. */
static int read_commit(const struct gitrepo *g, char id[GITREF_ID_MAX + 1])
{
	_cleanup_free_ char *head = xasprintf("%s/HEAD", g->gitdir), *text = NULL, *ref = NULL;
	_cleanup_free_ char *packed = NULL, *loose = NULL;
	_cleanup_close_ int cfd = -1;
	bool replace = false;
	int r;

	if (read_small(AT_FDCWD, head, SMALL_MAX, &text) < 0 ||
	    (r = gitref_parse_head(text, id, &ref)) < 0)
		return UNUSUAL;
	cfd = open(g->common, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0)
		return UNUSUAL;
	r = read_small(cfd, "packed-refs", PACKED_MAX, &packed);
	if (r < 0 && r != -ENOENT)
		return UNUSUAL;
	if (ref) {
		char *sub = NULL;

		r = read_small(cfd, ref, SMALL_MAX, &loose);
		if (r == 0 && gitref_parse_head(loose, id, &sub) != 1) {
			free(sub); /* a symbolic ref chain */
			return UNUSUAL;
		}
		if (r < 0 && r != -ENOENT)
			return UNUSUAL;
	}
	if (packed) {
		char pid[GITREF_ID_MAX + 1];
		int pr = gitref_packed_find(packed, ref ? ref : "", pid, &replace);

		if (pr == -EINVAL || replace)
			return UNUSUAL;
		if (ref && !loose && pr == 0)
			memcpy(id, pid, sizeof(pid));
		else if (ref && !loose)
			return UNUSUAL; /* an unborn branch: git says */
	} else if (ref && !loose)
		return UNUSUAL;
	return 0;
}

/* cache/tree under the runtime directory: created (0700) when create,
 * used only when it is ours and no one else's to write. */
static int cache_dir(const char *runtime_dir, bool create)
{
	const char *names[] = {"cache", "tree"};
	struct stat st;

	if (create && mkdir(runtime_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	int fd = open(runtime_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	for (size_t i = 0; fd >= 0 && i < ARRAY_SIZE(names); i++) {
		if (create && mkdirat(fd, names[i], 0700) < 0 && errno != EEXIST) {
			close(fd);
			return -errno;
		}
		int next = openat(fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		close(fd);
		fd = next;
		if (fd >= 0 &&
		    (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077))) {
			close(fd);
			return -EPERM;
		}
	}
	return fd < 0 ? -errno : fd;
}

/* Remove the entries of the same git directory and prefix for other
 * commits (their names end as name does): one entry per work tree and app. */
static void cache_prune(int dfd, const char *name)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	const char *tail = strchr(name, '-');
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		const char *t = strchr(e->d_name, '-');

		if (e->d_name[0] != '.' && t && strcmp(t, tail) == 0 && strcmp(e->d_name, name))
			unlinkat(dfd, e->d_name, 0);
	}
	closedir(d);
}

/* Store git's answer, atomically (a reader sees the old entry or the new
 * one); a failure only costs the next start a git. */
static void cache_store(int dfd, const char *name, const char *text)
{
	_cleanup_free_ char *tmp = xasprintf(".%s.%ld", name, (long)getpid());
	_cleanup_close_ int fd =
		openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	if (fd < 0)
		return;
	if (write(fd, text, len) != (ssize_t)len || renameat(dfd, tmp, dfd, name) < 0) {
		log_debug("tree id cache: cannot store %s: %m", name);
		unlinkat(dfd, tmp, 0);
		return;
	}
	cache_prune(dfd, name);
}

/* git's answer for the commit read (not HEAD, which may have moved
 * since): 0 and *answer; 1 when the commit and its tree are there but the
 * app directory is not in it (a fixed answer too); -ENOENT else. */
static int ask_git(const struct context_git *cg, const char *commit, char **answer)
{
	_cleanup_free_ char *rev = xasprintf("%s:./", commit);
	_cleanup_free_ char *root_rev = xasprintf("%s^{tree}", commit), *root = NULL;

	if (context_git_tree(cg->git, cg->app_dir, rev, answer) == 0)
		return 0;
	if (context_git_tree(cg->git, cg->app_dir, root_rev, &root) == 0)
		return 1;
	return -ENOENT;
}

/* The cached answer, or git's (stored).  0, or -ENOENT for none. */
static int cached_tree(const struct context_git *cg, const struct gitrepo *g, const char *commit,
		       char **tree_id)
{
	_cleanup_free_ char *name = gitref_cache_name(commit, g->gitdir, g->prefix);
	_cleanup_free_ char *text = NULL, *answer = NULL;
	_cleanup_close_ int dfd = -1;
	char tree[GITREF_ID_MAX + 1];
	int r = -EINVAL;

	if (name && cg->runtime_dir)
		dfd = cache_dir(cg->runtime_dir, !cg->read_only);
	if (dfd >= 0 && read_small(dfd, name, SMALL_MAX, &text) == 0)
		r = gitref_cache_parse(text, commit, g->gitdir, g->prefix, tree);
	if (r >= 0) {
		*tree_id = r == 0 ? xstrdup(tree) : NULL;
		return r == 0 ? 0 : -ENOENT;
	}
	if (text)
		log_debug("tree id cache: %s is not a valid entry: replaced", name);
	r = ask_git(cg, commit, &answer);
	if (r < 0)
		return r;
	if (dfd >= 0 && !cg->read_only && (r == 1 || strlen(answer) == strlen(commit))) {
		_cleanup_free_ char *entry =
			gitref_cache_text(commit, g->gitdir, g->prefix, r == 1 ? NULL : answer);

		cache_store(dfd, name, entry);
	}
	if (r == 1)
		return -ENOENT;
	*tree_id = TAKE_PTR(answer);
	return 0;
}

int context_tree_id(const struct context_git *cg, char **tree_id)
{
	struct gitrepo g = {0};
	char commit[GITREF_ID_MAX + 1];
	int r;

	if (access(cg->git, X_OK) < 0)
		return -ENOENT; /* no git, no answer: the cache gives none either */
	r = find_repo(cg->app_dir, &g);
	if (r == 0)
		r = read_commit(&g, commit);
	if (r == 0)
		r = cached_tree(cg, &g, commit, tree_id);
	else if (r == UNUSUAL)
		r = context_git_tree(cg->git, cg->app_dir, "HEAD:./", tree_id);
	gitrepo_free(&g);
	return r;
}
