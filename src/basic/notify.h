/* SPDX-License-Identifier: MIT */
/*
 * The service manager's readiness protocol (sd_notify(3)), spoken without
 * libsystemd: datagrams of "KEY=value" lines to the AF_UNIX socket named
 * by $NOTIFY_SOCKET.  berth run says READY=1 once the worker first runs,
 * STATUS= at each change, STOPPING=1 when it stops; a Type=notify unit
 * (contrib/systemd) then knows when the worker is up.
 */
#ifndef BERTH_NOTIFY_H
#define BERTH_NOTIFY_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "util.h"

struct notify {
	int fd; /* -1: nobody listens (no $NOTIFY_SOCKET) */
	struct sockaddr_un addr;
	socklen_t addr_len;
	bool ready; /* READY=1 was sent */
};

/* The socket address of a $NOTIFY_SOCKET value: an absolute path, or
 * "@name" for the abstract namespace.  0, or -EINVAL (empty, relative,
 * too long) / -EAFNOSUPPORT (a "vsock:" address).  Pure. */
int notify_parse_address(const char *s, struct sockaddr_un *sa, socklen_t *len);

/* Open the datagram socket for the value of $NOTIFY_SOCKET (NULL or "":
 * n->fd = -1, nothing to do).  0, or -errno (logged: a unit that waits for
 * READY=1 would otherwise time out without a word). */
int notify_open(const char *socket, struct notify *n);
void notify_close(struct notify *n);

/* Send one message ("READY=1\nSTATUS=..."), never blocking: a service
 * manager that does not read is not waited for (logged at debug level). */
void notify_send(const struct notify *n, const char *fmt, ...) ATTR_PRINTF(2, 3);

/* READY=1 with the status, the first time only; STATUS= alone after. */
void notify_running(struct notify *n, const char *status);

#endif
