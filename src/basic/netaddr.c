/* SPDX-License-Identifier: MIT */
/*
 * Address parsing and canonical sets for the egress plan (netaddr.h):
 * pure, shared by the config check, the plan and the read-back.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"
#include "util.h"

typedef unsigned __int128 u128;

int netaddr_parse_ip(const char *s, struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->addr) == 1) {
		out->family = AF_INET;
		out->prefix = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->addr) == 1) {
		out->family = AF_INET6;
		out->prefix = 128;
		return 0;
	}
	return -EINVAL;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

int netaddr_parse_cidr(const char *s, struct netaddr *out)
{
	const char *slash = strchr(s, '/');
	char buf[NETADDR_STRLEN];
	unsigned long len;
	char *end;

	if (!slash)
		return netaddr_parse_ip(s, out);
	if ((size_t)(slash - s) >= sizeof(buf) || slash[1] < '0' || slash[1] > '9' ||
	    strlen(slash + 1) > 3)
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (netaddr_parse_ip(buf, out) < 0)
		return -EINVAL;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (*end || errno || len > out->prefix)
		return -EINVAL;
	out->prefix = (unsigned)len;
	for (size_t bit = len; bit < addr_len(out->family) * 8; bit++)
		out->addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
	return 0;
}

void netaddr_format(const struct netaddr *a, char out[NETADDR_STRLEN])
{
	unsigned full = (unsigned)addr_len(a->family) * 8;

	if (!inet_ntop(a->family, a->addr, out, NETADDR_STRLEN)) {
		strcpy(out, "?");
		return;
	}
	if (a->prefix < full)
		snprintf(out + strlen(out), NETADDR_STRLEN - strlen(out), "/%u", a->prefix);
}

bool netaddr_is_loopback(const struct netaddr *a)
{
	static const unsigned char v6lo[16] = {[15] = 1};

	if (a->family == AF_INET)
		return a->addr[0] == 127;
	return a->family == AF_INET6 && a->prefix == 128 && memcmp(a->addr, v6lo, 16) == 0;
}

bool netaddr_valid_hostname(const char *s)
{
	size_t n = strlen(s), label = 0;
	struct netaddr a;

	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || netaddr_parse_ip(s, &a) == 0)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? s[i] : '.';
		if (c == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* ---- canonical sets ---- */

enum { K_V4 = 1, K_V6 = 2, K_NUM = 3 };

struct interval {
	int kind;
	u128 lo, hi;
};

static u128 addr_value(const struct netaddr *a)
{
	u128 v = 0;

	for (size_t i = 0; i < addr_len(a->family); i++)
		v = v << 8 | a->addr[i];
	return v;
}

static void value_addr(int kind, u128 v, struct netaddr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = kind == K_V4 ? AF_INET : AF_INET6;
	a->prefix = (unsigned)addr_len(a->family) * 8;
	for (size_t i = addr_len(a->family); i-- > 0; v >>= 8)
		a->addr[i] = (unsigned char)(v & 0xff);
}

static int parse_num(const char *s, u128 *v)
{
	char *end;
	unsigned long n;

	if (*s < '0' || *s > '9' || strlen(s) > 10)
		return -EINVAL;
	n = strtoul(s, &end, 10);
	if (*end)
		return -EINVAL;
	*v = n;
	return 0;
}

/* One bound: an address or a number. */
static int parse_point(const char *s, int *kind, u128 *v)
{
	struct netaddr a;

	if (parse_num(s, v) == 0) {
		*kind = K_NUM;
		return 0;
	}
	if (netaddr_parse_ip(s, &a) < 0)
		return -EINVAL;
	*kind = a.family == AF_INET ? K_V4 : K_V6;
	*v = addr_value(&a);
	return 0;
}

static int parse_elem(const char *s, struct interval *iv)
{
	const char *dash = strchr(s, '-');
	struct netaddr a;
	int k2;

	if (dash && !strchr(s, '/')) {
		char *first = xstrndup(s, (size_t)(dash - s));
		int r = parse_point(first, &iv->kind, &iv->lo);
		free(first);
		if (r < 0 || parse_point(dash + 1, &k2, &iv->hi) < 0 || k2 != iv->kind ||
		    iv->hi < iv->lo)
			return -EINVAL;
		return 0;
	}
	if (parse_point(s, &iv->kind, &iv->lo) == 0) {
		iv->hi = iv->lo;
		return 0;
	}
	if (netaddr_parse_cidr(s, &a) < 0)
		return -EINVAL;
	unsigned bits = (unsigned)addr_len(a.family) * 8;
	iv->kind = a.family == AF_INET ? K_V4 : K_V6;
	iv->lo = addr_value(&a);
	iv->hi = iv->lo | (a.prefix == 0 ? (bits == 128 ? ~(u128)0 : (((u128)1 << bits) - 1))
					 : ((((u128)1) << (bits - a.prefix)) - 1));
	return 0;
}

static int cmp_interval(const void *a, const void *b)
{
	const struct interval *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : 0;
}

/* The largest prefix block starting at lo within [lo, hi]: its length. */
static unsigned block_len(u128 lo, u128 hi, unsigned bits)
{
	unsigned len = bits;

	while (len > 0) {
		u128 size = (u128)1 << (bits - len + 1);
		if (bits - len + 1 >= 128 || (lo & (size - 1)) != 0 || lo + size - 1 > hi)
			break;
		len--;
	}
	return len;
}

/* An address interval as prefixes (a run of CIDRs) or "a-b" when that
 * takes more than one prefix: one spelling per interval. */
static void print_interval(struct strbuf *sb, const struct interval *iv)
{
	char a[NETADDR_STRLEN], b[NETADDR_STRLEN];
	unsigned bits = iv->kind == K_V4 ? 32 : 128;
	struct netaddr x;

	if (iv->kind == K_NUM) {
		strbuf_printf(sb, "%llu", (unsigned long long)iv->lo);
		if (iv->hi != iv->lo)
			strbuf_printf(sb, "-%llu", (unsigned long long)iv->hi);
		return;
	}
	unsigned len = block_len(iv->lo, iv->hi, bits);
	value_addr(iv->kind, iv->lo, &x);
	if (len == 0 || iv->lo + (((u128)1 << (bits - len)) - 1) == iv->hi) {
		x.prefix = len;
		netaddr_format(&x, a);
		strbuf_puts(sb, a);
		return;
	}
	netaddr_format(&x, a);
	value_addr(iv->kind, iv->hi, &x);
	netaddr_format(&x, b);
	strbuf_printf(sb, "%s-%s", a, b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *canon_strings(const char *const *elems, size_t n)
{
	const char **v = xcalloc(n ? n : 1, sizeof(char *));
	struct strbuf sb = {0};

	memcpy(v, elems, n * sizeof(char *));
	qsort(v, n, sizeof(char *), cmp_str);
	strbuf_putc(&sb, '{');
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			strbuf_printf(&sb, "%s%s", i ? "," : "", v[i]);
	strbuf_putc(&sb, '}');
	free(v);
	return strbuf_detach(&sb);
}

char *netaddr_canon_set(const char *const *elems, size_t n)
{
	struct interval *iv = xcalloc(n ? n : 1, sizeof(*iv));
	struct strbuf sb = {0};
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (parse_elem(elems[i], &iv[i]) < 0) {
			free(iv);
			return canon_strings(elems, n);
		}
	qsort(iv, n, sizeof(*iv), cmp_interval);
	for (size_t i = 0; i < n; i++) {
		/* merge overlapping and adjacent intervals of one kind */
		if (m && iv[m - 1].kind == iv[i].kind &&
		    (iv[i].lo <= iv[m - 1].hi || iv[i].lo - 1 == iv[m - 1].hi)) {
			if (iv[i].hi > iv[m - 1].hi)
				iv[m - 1].hi = iv[i].hi;
			continue;
		}
		iv[m++] = iv[i];
	}
	strbuf_putc(&sb, '{');
	for (size_t i = 0; i < m; i++) {
		if (i)
			strbuf_putc(&sb, ',');
		print_interval(&sb, &iv[i]);
	}
	strbuf_putc(&sb, '}');
	free(iv);
	return strbuf_detach(&sb);
}
