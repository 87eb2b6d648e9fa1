/* SPDX-License-Identifier: MIT */
/*
 * Base64 (RFC 4648 standard alphabet, '=' padding, no line breaks): the
 * encoding of PLATFORM_APPLICATION, PLATFORM_RELATIONSHIPS and friends,
 * which the config readers decode strictly.  Pure.
 */
#ifndef BERTH_BASE64_H
#define BERTH_BASE64_H

#include <stddef.h>

/* Encode len bytes; returns a NUL-terminated string (xmalloc'd). */
char *base64_encode(const void *data, size_t len);

/*
 * Decode a padded standard-alphabet string of len characters.  Strict: no
 * whitespace, no missing or misplaced padding, no non-zero trailing bits.
 * On success *out (xmalloc'd, with an extra NUL byte not counted in
 * *out_len) and *out_len are set and 0 is returned; else -EINVAL.
 */
int base64_decode(const char *s, size_t len, unsigned char **out, size_t *out_len);

#endif
