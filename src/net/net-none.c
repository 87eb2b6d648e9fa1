/* SPDX-License-Identifier: MIT */
/*
 * The setup helper's steps (loopback up, the ruleset installed and read
 * back), and for --network=none, whose helper works while berth
 * prepares the rest of the box (net.c: net_ready, net_verified), its
 * start and the gate where the worker's process waits before its exec
 * until the ruleset is verified.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "egress.h"
#include "log.h"
#include "net.h"
#include "net-internal.h"

/* Bring lo up: a new namespace starts with it down. */
static int loopback_up(void)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;

	if (s < 0)
		return log_errno(-errno, "socket");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return log_errno(-errno, "SIOCGIFFLAGS lo");
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return log_errno(-errno, "SIOCSIFFLAGS lo");
	return 0;
}

int net_setup_step(void *plan)
{
	int r = loopback_up();

	return r < 0 ? r : net_rules_install(plan);
}

/* In a namespace berth has just made there is no table to replace: the
 * table alone goes in (a deletion in the same transaction makes closing
 * libnftables' socket wait for the kernel, several ms). */
int net_setup_fresh_step(void *plan)
{
	int r = loopback_up();

	return r < 0 ? r : net_rules_install_fresh(plan);
}

int net_setup_failed(int r, int status)
{
	if (r == -EIO)
		log_error("the network setup helper failed (status %#x): is nf_tables available "
			  "in this kernel (modules nf_tables, nft_ct, nf_conntrack)?",
			  (unsigned)status);
	return r;
}

/* --network=none: the gate, then the helper (net_ready, net_verified). */
int net_none_start(struct net_handle *h)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return log_errno(-errno, "pipe2");
	h->gate_rd = p[0];
	h->gate_wr = p[1];
	return net_in_ns_start(-1, net_setup_fresh_step, h->plan, true, &h->setup);
}

/* Open (ok) or close the gate for good. */
void net_gate_done(struct net_handle *h, bool ok)
{
	if (h->gate_wr < 0)
		return;
	if (ok && write(h->gate_wr, "", 1) != 1)
		log_errno(-errno, "network: cannot open the gate"); /* the child fails */
	close(h->gate_rd);
	close(h->gate_wr);
	h->gate_rd = h->gate_wr = -1;
}

int net_gate_step(void *data)
{
	const struct net_handle *h = data;
	ssize_t n;
	char c;

	if (h->gate_rd < 0)
		return 0;
	do
		n = read(h->gate_rd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : n < 0 ? -errno : -ECANCELED; /* closed: not verified */
}
