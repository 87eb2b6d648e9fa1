/* SPDX-License-Identifier: MIT */
/*
 * Opening and creating directories beneath a trusted directory fd without
 * ever following a symlink: openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS), or (no openat2, or forced) a component-wise walk
 * with openat(O_NOFOLLOW).  No allocation, no logging: the worker's child
 * uses them between clone and execve (async-signal-safe).
 */
#ifndef BERTH_SAFEPATH_H
#define BERTH_SAFEPATH_H

#include <stdbool.h>
#include <sys/types.h>

/* flags */
#define SAFEPATH_NO_XDEV  0x1 /* refuse to cross a mount point */
#define SAFEPATH_FALLBACK 0x2 /* tests: use the openat walk even with openat2 */

/*
 * Open the directory rel beneath dirfd ("" = dirfd itself) with oflags
 * (O_PATH or O_RDONLY; O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC are added).
 * rel must be relative and free of "", "." and ".." components (-EINVAL).
 * Returns the fd or -errno: -ELOOP when a component is a symlink,
 * -ENOTDIR when it is another non-directory, -EXDEV (SAFEPATH_NO_XDEV)
 * when it is on another mount, -ENOENT when missing.
 */
int safepath_open(int dirfd, const char *rel, int oflags, unsigned flags);

/*
 * The same, creating the missing components one by one with mkdirat and
 * re-opening each O_NOFOLLOW|O_DIRECTORY; every directory created gets
 * mode (exactly, whatever the umask) and, unless uid is (uid_t)-1, that
 * owner, set on its descriptor.  Existing directories are left as they
 * are.  Returns an O_RDONLY|O_DIRECTORY fd of rel, or -errno (-EROFS on a
 * read-only tree).  *created (may be NULL) is set when anything was made.
 */
int safepath_mkdir(int dirfd, const char *rel, mode_t mode, uid_t uid, gid_t gid, unsigned flags,
		   bool *created);

/* Lexical check of a relative path as above ("" allowed when allow_empty). */
bool safepath_rel_ok(const char *rel, bool allow_empty);

#endif
