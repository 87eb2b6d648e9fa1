/* SPDX-License-Identifier: MIT */
/*
 * The context's defaults that berth keeps or derives itself: the project id
 * and entropy in berth's state directory (created once, atomically), and
 * the git tree id of the app directory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "context.h"
#include "log.h"
#include "util.h"

#define PROJECT_LEN 13
#define ENTROPY_LEN 56

/* Said where the state directory refuses a plain user. */
static const char *hint(int r)
{
	return r == -EACCES || r == -EPERM || r == -EROFS ? " (run as root or give --state-dir)"
							  : "";
}

static int random_alnum(char *buf, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char rnd[64];
		ssize_t got = getrandom(rnd, sizeof(rnd), 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return log_errno(-errno, "getrandom");
		}
		for (ssize_t k = 0; k < got && i < n; k++)
			if (rnd[k] < 252) /* 252 = 7 * 36: no modulo bias */
				buf[i++] = CONTEXT_ALNUM[rnd[k] % 36];
	}
	buf[n] = '\0';
	return 0;
}

static bool alnum_ok(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (; *s; s++)
		if (!strchr(CONTEXT_ALNUM, *s))
			return false;
	return true;
}

static int read_project(int dfd, const char *dir, char **project, char **entropy)
{
	_cleanup_close_ int fd =
		openat(dfd, CONTEXT_PROJECT_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	struct stat st;

	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return log_errno(-errno, "open %s/%s%s", dir, CONTEXT_PROJECT_FILE, hint(-errno));
	}
	if (fstat(fd, &st) < 0)
		return log_errno(-errno, "stat %s/%s", dir, CONTEXT_PROJECT_FILE);
	if (!S_ISREG(st.st_mode) || st.st_size > 4096) {
		log_error("%s/%s: not a small regular file", dir, CONTEXT_PROJECT_FILE);
		return -EINVAL;
	}
	_cleanup_(strbuf_release) struct strbuf text = {0};
	int rd = strbuf_read_fd(&text, fd, 4096);

	if (rd < 0)
		return log_errno(rd, "read %s/%s", dir, CONTEXT_PROJECT_FILE);
	json_error_t jerr;
	json_t *root = json_loadb(text.buf, text.len, JSON_REJECT_DUPLICATES, &jerr);

	if (!root) {
		log_error("%s/%s: %s", dir, CONTEXT_PROJECT_FILE, jerr.text);
		return -EINVAL;
	}
	const char *p = json_string_value(json_object_get(root, "project"));
	const char *e = json_string_value(json_object_get(root, "entropy"));
	int r = 0;

	if (!p || !e || !alnum_ok(p, PROJECT_LEN) || !alnum_ok(e, ENTROPY_LEN)) {
		log_error("%s/%s: corrupt (remove it to generate a new project id)", dir,
			  CONTEXT_PROJECT_FILE);
		r = -EINVAL;
	} else {
		*project = xstrdup(p);
		*entropy = xstrdup(e);
	}
	json_decref(root);
	return r;
}

static int write_project(int dfd, const char *dir)
{
	char project[PROJECT_LEN + 1], entropy[ENTROPY_LEN + 1];
	int r = random_alnum(project, PROJECT_LEN);

	if (r == 0)
		r = random_alnum(entropy, ENTROPY_LEN);
	if (r < 0)
		return r;

	_cleanup_free_ char *tmp = xasprintf(".%s.%ld", CONTEXT_PROJECT_FILE, (long)getpid());
	_cleanup_free_ char *text =
		xasprintf("{\"project\": \"%s\", \"entropy\": \"%s\"}\n", project, entropy);
	_cleanup_close_ int fd = openat(
		dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return log_errno(-errno, "create %s/%s%s", dir, tmp, hint(-errno));
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);

	if (n != (ssize_t)len || fsync(fd) < 0) {
		r = log_errno(n < 0 ? -errno : -EIO, "write %s/%s", dir, tmp);
		unlinkat(dfd, tmp, 0);
		return r;
	}
	/* linkat fails with EEXIST if another berth won the race: keep theirs. */
	if (linkat(dfd, tmp, dfd, CONTEXT_PROJECT_FILE, 0) < 0 && errno != EEXIST) {
		r = log_errno(-errno, "link %s/%s", dir, CONTEXT_PROJECT_FILE);
		unlinkat(dfd, tmp, 0);
		return r;
	}
	unlinkat(dfd, tmp, 0);
	return 0;
}

/* A git tree id: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits. */
bool context_tree_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n != 40 && n != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static int state_error(int r, const char *what, const char *dir)
{
	return log_errno(r, "%s state directory %s%s", what, dir,
			 *hint(r) ? hint(r) : " (see --state-dir)");
}

int context_state_read(const char *state_dir, char **project, char **entropy)
{
	_cleanup_close_ int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return errno == ENOENT ? -ENOENT : state_error(-errno, "open", state_dir);
	int r = read_project(dfd, state_dir, project, entropy);

	return r;
}

int context_state_project(const char *state_dir, char **project, char **entropy)
{
	if (mkdir(state_dir, 0755) < 0 && errno != EEXIST)
		return state_error(-errno, "create", state_dir);
	_cleanup_close_ int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return state_error(-errno, "open", state_dir);
	int r = read_project(dfd, state_dir, project, entropy);

	if (r != -ENOENT) {
		return r;
	}
	r = write_project(dfd, state_dir);
	if (r < 0)
		return r;
	r = read_project(dfd, state_dir, project, entropy);
	if (r == -ENOENT)
		return log_errno(r, "open %s/%s", state_dir, CONTEXT_PROJECT_FILE);
	return r;
}

int context_git_tree(const char *git, const char *dir, const char *rev, char **tree_id)
{
	const char *argv[] = {git, "-C", dir, "rev-parse", "--verify", "--quiet", rev, NULL};
	const char *envp[] = {"GIT_CONFIG_NOSYSTEM=1", "GIT_OPTIONAL_LOCKS=0",
			      "GIT_TERMINAL_PROMPT=0", NULL};
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return log_errno(-errno, "pipe");
	pid_t pid = fork();

	if (pid < 0) {
		int r = log_errno(-errno, "fork");

		close(pfd[0]);
		close(pfd[1]);
		return r;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0 ||
		    dup2(pfd[1], STDOUT_FILENO) < 0)
			_exit(127);
		execve(git, (char **)argv, (char **)envp);
		_exit(127);
	}
	close(pfd[1]);
	char buf[128];
	size_t len = 0;

	for (;;) {
		ssize_t n = read(pfd[0], buf + len, sizeof(buf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			break;
	}
	close(pfd[0]);
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return log_errno(-errno, "waitpid git");
	buf[len] = '\0';
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !context_tree_id_ok(buf))
		return -ENOENT;
	*tree_id = xstrdup(buf);
	return 0;
}
