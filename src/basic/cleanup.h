/* SPDX-License-Identifier: MIT */
/*
 * Scope-bound cleanup helpers.  A variable declared with one of these
 * attributes is released when it goes out of scope; hand its ownership on
 * with TAKE_PTR()/TAKE_FD().  Always initialise such variables.
 */
#ifndef BERTH_CLEANUP_H
#define BERTH_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_(fn)	 __attribute__((cleanup(fn)))
#define _cleanup_free_	 _cleanup_(cleanup_freep)
#define _cleanup_close_	 _cleanup_(cleanup_closep)
#define _cleanup_fclose_ _cleanup_(cleanup_fclosep)

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _tp = (p);                                                           \
		(p) = NULL;                                                                        \
		_tp;                                                                               \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _tf = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_tf;                                                                               \
	})

/* Memory a command still holds when it returns to main(), which exits
 * next: freed under AddressSanitizer, so that LeakSanitizer shows real
 * leaks, and otherwise left to exit(2).  berth run's heap is write-
 * protected since the worker was forked, so freeing the app model page by
 * page would cost a stopping berth tens of microseconds (bench/README). */
#if defined(__SANITIZE_ADDRESS__)
#define FREE_BEFORE_EXIT 1
#else
#define FREE_BEFORE_EXIT 0
#endif

#endif
