/* SPDX-License-Identifier: MIT */
/* Shared inside the network module (net.c, net-none.c); not its API.
 * net.c uses net-none.c, never the other way. */
#ifndef BERTH_NET_INTERNAL_H
#define BERTH_NET_INTERNAL_H

#include "net.h"

/* (net-none.c) The helper's steps: loopback up, the ruleset installed
 * (replacing a table of that name) and read back; in a namespace berth
 * has just made, the table alone (nothing to replace). */
int net_setup_step(void *plan);
int net_setup_fresh_step(void *plan);
/* r passed through; -EIO (the helper died or failed without saying why)
 * logged with its wait status. */
int net_setup_failed(int r, int status);
/* --network=none: the gate, then the helper (net_ready, net_verified).
 * 0 or -errno (logged). */
int net_none_start(struct net_handle *h);
/* The same with the helper net_early_start() forked: the gate, and the
 * ruleset (h->plan) sent to it; h owns the helper from here, e is empty.
 * 0 or -errno (logged). */
int net_none_take(struct net_handle *h, struct net_early *e);
/* --network=private with the early helper: the ruleset sent to it, its
 * namespace opened (h->nsfd), slirp4netns started (net_slirp_start())
 * while the ruleset goes in, then the verified ruleset waited for.  0
 * or -errno (logged; net_release() stops slirp4netns). */
int net_private_take(const struct net_opts *o, struct net_handle *h, struct net_early *e);
/* Open (ok) or close the gate for good; nothing when closed. */
void net_gate_done(struct net_handle *h, bool ok);

#endif
