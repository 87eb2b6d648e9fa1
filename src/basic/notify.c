/* SPDX-License-Identifier: MIT */
/* The sd_notify(3) protocol, written out: one sendto(2) per message. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "notify.h"

int notify_parse_address(const char *s, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = s ? strlen(s) : 0;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (str_has_prefix(s ? s : "", "vsock:"))
		return -EAFNOSUPPORT;
	if (n < 2 || (s[0] != '/' && s[0] != '@') || n >= sizeof(sa->sun_path))
		return -EINVAL;
	memcpy(sa->sun_path, s, n);
	if (s[0] == '@')
		sa->sun_path[0] = '\0'; /* abstract: the name is not NUL-terminated */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (s[0] == '/'));
	return 0;
}

int notify_open(const char *socket_name, struct notify *n)
{
	int r;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (!socket_name || !*socket_name)
		return 0;
	r = notify_parse_address(socket_name, &n->addr, &n->addr_len);
	if (r == -EAFNOSUPPORT)
		return log_errno(r,
				 "NOTIFY_SOCKET=%s: berth speaks the notify protocol over "
				 "AF_UNIX only",
				 socket_name);
	if (r < 0)
		return log_errno(r, "NOTIFY_SOCKET=%s: not an absolute path or @name", socket_name);
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0)
		return log_errno(-errno, "NOTIFY_SOCKET: socket(AF_UNIX, SOCK_DGRAM)");
	return 0;
}

void notify_close(struct notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}

void notify_send(const struct notify *n, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int len;

	if (n->fd < 0)
		return;
	va_start(ap, fmt);
	len = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if (sendto(n->fd, msg, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT,
		   (const struct sockaddr *)&n->addr, n->addr_len) < 0)
		log_debug("notify: sendto: %s (message dropped)", strerror(errno));
}

void notify_running(struct notify *n, const char *status)
{
	notify_send(n, "%sSTATUS=%s", n->ready ? "" : "READY=1\n", status);
	n->ready = true;
}
