/*
 * Owns the sd_notify sender (daemon/notify.h): one datagram per call to
 * the AF_UNIX socket in $NOTIFY_SOCKET, a path or an '@' abstract name.
 * No libsystemd; a no-op without $NOTIFY_SOCKET.
 */
#include "daemon/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

#define NOTIFY_MAX		4096	/* bytes in one state string */
#define NOTIFY_SEND_TIMEOUT	2	/* seconds; systemd reads promptly */

/* Address from $NOTIFY_SOCKET's value. 0, or -EAFNOSUPPORT / -ENAMETOOLONG. */
static int notify_addr(const char *name, struct sockaddr_un *sun,
		       socklen_t *len)
{
	size_t n = strlen(name);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (name[0] != '/' && name[0] != '@')
		return -EAFNOSUPPORT;	/* e.g. "vsock:", not used here */
	if (n < 2 || n >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memcpy(sun->sun_path, name, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (name[0] == '@')
		sun->sun_path[0] = '\0';	/* abstract: no trailing NUL */
	else
		(*len)++;
	return 0;
}

int notify_send(const char *state)
{
	static bool warned;
	const char *name = getenv("NOTIFY_SOCKET");
	struct timeval tv = { .tv_sec = NOTIFY_SEND_TIMEOUT };
	struct sockaddr_un sun;
	socklen_t len;
	size_t n = strlen(state);
	ssize_t sent;
	int fd = -1, r;

	if (!name || !name[0])
		return 0;
	if ((r = notify_addr(name, &sun, &len)) < 0) {
		log_warnx("NOTIFY_SOCKET=%s: %s", name, strerror(-r));
		goto out;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		log_warn("notify: socket");
		goto out;
	}
	/* Blocking, as sd_notify is, but never for long. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	sent = sendto(fd, state, n, MSG_NOSIGNAL,
		      (const struct sockaddr *)&sun, len);
	if (sent < 0) {
		r = -errno;
		/* Once: a gone manager must not flood the log. */
		if (!warned)
			log_warn("notify: send to %s", name);
		warned = true;
		goto out;
	}
	r = (size_t)sent == n ? 0 : -EMSGSIZE;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int notify_sendf(const char *fmt, ...)
{
	char buf[NOTIFY_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(buf))
		return -EMSGSIZE;
	return notify_send(buf);
}
