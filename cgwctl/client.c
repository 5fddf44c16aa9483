/*
 * cgwctl's client side of the control protocol (common/ctlproto.h): one
 * connection per request, a bounded reply read within IO_TIMEOUT, and a
 * message that says what went wrong when cgwd cannot be reached.
 */
#include <errno.h>
#include <err.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cgwctl/cgwctl.h"

static const char *connect_hint(int errnum)
{
	switch (errnum) {
	case EACCES:
	case EPERM:
		return " (are you root or in the socket's group?)";
	case ETIMEDOUT:
		return " (cgwd is not answering)";
	default:
		return " (is cgwd running?)";
	}
}

/* A connected socket with send/receive timeouts, or -errno. */
static int ctl_connect(const char *path)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* SO_SNDTIMEO also bounds connect() on a full backlog. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		r = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Milliseconds until deadline, for poll(); 0 once it has passed. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000L +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000L;
	return ms > 0 ? (int)ms : 0;
}

/* Grow *buf so that at least 64 KiB are free, up to the reply limit. */
static int grow(char **buf, size_t len, size_t *cap)
{
	size_t want = *cap ? *cap * 2 : 65536;
	char *p;

	if (*cap - len >= 65536 || *cap > CTLPROTO_MAX_REPLY)
		return 0;
	if (want > CTLPROTO_MAX_REPLY + 1)
		want = CTLPROTO_MAX_REPLY + 1;
	p = realloc(*buf, want);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = want;
	return 0;
}

/*
 * Read one reply line (up to CTLPROTO_MAX_REPLY bytes and its '\n')
 * within IO_TIMEOUT. 0 with *line malloc'd, or -ETIMEDOUT, -EPIPE (closed
 * without a reply), -EMSGSIZE, -ENOMEM or another -errno.
 */
static int read_reply(int fd, char **line, size_t *len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec deadline;
	size_t cap = 0, have = 0;
	char *buf = NULL;
	ssize_t n;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += IO_TIMEOUT;
	for (;;) {
		if ((r = grow(&buf, have, &cap)) < 0)
			goto out;
		if (have == cap) {
			r = -EMSGSIZE;
			goto out;
		}
		r = poll(&pfd, 1, ms_left(&deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			r = r < 0 ? -errno : -ETIMEDOUT;
			goto out;
		}
		n = recv(fd, buf + have, cap - have, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EPIPE;
			goto out;
		}
		if (memchr(buf + have, '\n', (size_t)n)) {
			have += (size_t)n;
			break;
		}
		have += (size_t)n;
	}
	*line = buf;
	*len = (size_t)((char *)memchr(buf, '\n', have) - buf) + 1;
	buf = NULL;
	r = 0;
out:
	free(buf);
	return r;
}

static int io_failure(const struct ctx *ctx, const char *what, int r)
{
	if (r == -EPIPE)
		warnx("%s %s: cgwd closed the connection", what, ctx->socket);
	else if (r == -EMSGSIZE)
		warnx("%s %s: reply over %d bytes", what, ctx->socket,
		      CTLPROTO_MAX_REPLY);
	else if (r == -ETIMEDOUT)
		warnx("%s %s: no answer within %d s", what, ctx->socket,
		      IO_TIMEOUT);
	else
		warnx("%s %s: %s", what, ctx->socket, strerror(-r));
	return EXIT_CONNECT;
}

/*
 * Send one request (args consumed, NULL for none) and parse its reply.
 * 0 with *rep filled, or an exit code once the reason is printed.
 */
int ctl_call(const struct ctx *ctx, const char *command,
		struct json_object *args, struct ctlproto_reply *rep)
{
	struct json_object *req = ctlproto_request_new(command, args);
	char err[CTLPROTO_ERRLEN];
	char *line = NULL;
	size_t len;
	int fd = -1, r;

	if (!req || ctlproto_to_line(req, CTLPROTO_MAX_REQUEST, &line, &len) < 0) {
		warnx("cannot build the request");
		r = EXIT_USAGE;
		goto out;
	}
	fd = ctl_connect(ctx->socket);
	if (fd < 0) {
		warnx("cannot connect to %s: %s%s", ctx->socket, strerror(-fd),
		      connect_hint(-fd));
		r = EXIT_CONNECT;
		goto out;
	}
	if ((r = send_all(fd, line, len)) < 0) {
		r = io_failure(ctx, "sending to", r);
		goto out;
	}
	free(line);
	line = NULL;
	if ((r = read_reply(fd, &line, &len)) < 0) {
		r = io_failure(ctx, "reading from", r);
		goto out;
	}
	if (ctlproto_parse_reply(line, len, rep, err, sizeof(err)) < 0) {
		warnx("bad reply from %s: %s", ctx->socket, err);
		r = EXIT_CONNECT;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(line);
	json_object_put(req);
	return r;
}

