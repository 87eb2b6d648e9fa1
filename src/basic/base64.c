/* SPDX-License-Identifier: MIT */
/*
 * Base64 encoder and strict decoder (RFC 4648 section 4: standard alphabet,
 * padded, no line breaks).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "base64.h"
#include "util.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1);
	char *o = out;
	size_t i;

	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = alphabet[v >> 6 & 63];
		*o++ = alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = alphabet[v >> 6 & 63];
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *s, size_t len, unsigned char **out, size_t *out_len)
{
	if (len % 4 != 0)
		return -EINVAL;

	unsigned char *buf = xmalloc(len / 4 * 3 + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		int d[4];
		int pad = 0;

		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)s[i + k];

			if (c == '=' && last && k >= 2) {
				d[k] = 0;
				pad++;
				continue;
			}
			d[k] = digit(c);
			if (d[k] < 0 || pad)
				goto bad;
		}
		uint32_t v = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 | (uint32_t)d[2] << 6 |
			     (uint32_t)d[3];

		/* Non-canonical encodings (bits set in the padding) are refused. */
		if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
			goto bad;
		buf[n++] = v >> 16 & 0xff;
		if (pad < 2)
			buf[n++] = v >> 8 & 0xff;
		if (pad < 1)
			buf[n++] = v & 0xff;
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return 0;
bad:
	free(buf);
	return -EINVAL;
}
