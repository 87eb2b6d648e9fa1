/* SPDX-License-Identifier: MIT */
/*
 * Addresses for the egress plan: IPv4/IPv6 literals and CIDRs parsed and
 * printed in one canonical spelling, host names checked, and sets of
 * addresses or ports reduced to their merged intervals, so that two
 * spellings of the same set (nft prints prefixes, ranges or single
 * elements as it pleases) compare equal.  Pure.
 */
#ifndef BERTH_NETADDR_H
#define BERTH_NETADDR_H

#include <stdbool.h>
#include <stddef.h>

#define NETADDR_STRLEN 64 /* "ffff:...:ffff/128" and more */

struct netaddr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network byte order; 4 bytes for AF_INET */
	unsigned prefix;	/* 0-32 or 0-128 */
};

/* "192.0.2.7", "10.0.0.0/8", "2001:db8::/32": 0, or -EINVAL.  Host bits
 * below the prefix are cleared ("10.1.2.3/8" is 10.0.0.0/8). */
int netaddr_parse_cidr(const char *s, struct netaddr *out);
/* An address literal only (no prefix): 0 or -EINVAL. */
int netaddr_parse_ip(const char *s, struct netaddr *out);
/* "a" for a whole address, "a/len" otherwise. */
void netaddr_format(const struct netaddr *a, char out[NETADDR_STRLEN]);
/* 127.0.0.0/8 or ::1. */
bool netaddr_is_loopback(const struct netaddr *a);
/* A DNS host name: labels of letters, digits and '-' (not first or last),
 * 1-63 characters each, 253 in all, one trailing dot allowed; not an
 * address literal. */
bool netaddr_valid_hostname(const char *s);

/* The canonical text of a set of elements: each one an address, a CIDR,
 * "a-b" (addresses or numbers) or a number; merged into disjoint
 * intervals and printed sorted ("{10.0.0.0/8,192.0.2.7}", "{80,443}",
 * "{1-1023}").  Elements that are none of these make the result the
 * sorted list of the strings as given.  New string. */
char *netaddr_canon_set(const char *const *elems, size_t n);

#endif
