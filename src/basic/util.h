/* SPDX-License-Identifier: MIT */
/*
 * Pure helpers: allocation that aborts on exhaustion, a growable string
 * buffer, and checked number parsing.  No syscalls beyond malloc.
 */
#ifndef BERTH_UTIL_H
#define BERTH_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a)	  (sizeof(a) / sizeof((a)[0]))
#define ATTR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define ATTR_MALLOC	  __attribute__((malloc))

void *xmalloc(size_t n) ATTR_MALLOC;
void *xcalloc(size_t n, size_t size) ATTR_MALLOC;
void *xrealloc(void *p, size_t n);
/* Grow *p (holding *cap elements of size) so it can hold at least want. */
void xgrow(void *pp, size_t *cap, size_t want, size_t size);
char *xstrdup(const char *s) ATTR_MALLOC;
char *xstrndup(const char *s, size_t n) ATTR_MALLOC;
char *xasprintf(const char *fmt, ...) ATTR_PRINTF(1, 2) ATTR_MALLOC;

struct strbuf {
	char *buf; /* always NUL-terminated once anything was added */
	size_t len;
	size_t cap;
};

void strbuf_add(struct strbuf *sb, const char *s, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Hand the buffer to the caller (never NULL) and reset sb. */
char *strbuf_detach(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
/* Append fd's contents up to its end to sb, in reads of up to 4 KiB
 * (json_loadfd reads one byte per system call).  0, -EFBIG when more
 * than max bytes follow, or -errno of read(2).  sb holds what was read. */
int strbuf_read_fd(struct strbuf *sb, int fd, size_t max);

/* 64-bit FNV-1a of n bytes at p, continuing from h (FNV1A64_INIT to
 * start): stable names, not security. */
#define FNV1A64_INIT 0xcbf29ce484222325ULL
uint64_t fnv1a64(uint64_t h, const void *p, size_t n);

/* Whole-string unsigned decimal parsing: no sign, no spaces, no base
 * prefixes, range-checked.  Return 0 or -EINVAL / -ERANGE. */
int parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Duration: "15", "15s", "300ms", "2m".  Result in milliseconds. */
int parse_duration_ms(const char *s, uint64_t *out_ms);
/* Byte size: "128M", "1G", "512k", "4096" (binary units). */
int parse_bytes(const char *s, uint64_t *out);

/* CLOCK_MONOTONIC in whole milliseconds (rounded down). */
uint64_t monotonic_ms(void);

bool str_has_prefix(const char *s, const char *prefix);

/* What a file that is not a regular one is, for a message: "a FIFO",
 * "a directory", ... (st_mode's type bits). */
const char *file_kind(mode_t m);
void strv_free(char **v);

/* Free a string array terminated by NULL, for _cleanup_(). */
static inline void strv_freep(char ***v)
{
	strv_free(*v);
}

#endif
