/* SPDX-License-Identifier: MIT */
/*
 * Giving back, in a process that outlives its setup, the memory only the
 * setup used: the heap's free pages, and this process's pages of the
 * libraries loaded after its start (the NSS modules of a user or group
 * lookup, which glibc never unloads).
 */
#ifndef BERTH_MEMTRIM_H
#define BERTH_MEMTRIM_H

#include <stddef.h>

/* The number of objects mapped now (the program, its libraries, the
 * vDSO): taken at the start, the ones after it were dlopen()ed since. */
size_t memtrim_objects(void);

/*
 * Return the heap's free pages to the kernel, and drop this process's
 * pages of the read-only segments (code, constants) of every object after
 * the first `keep`: they stay mapped and in the page cache, and a later
 * call into them faults them back.  Writable segments (data, GOT, RELRO)
 * are kept, and so is any object with text relocations.
 */
void memtrim_release(size_t keep);

#endif
