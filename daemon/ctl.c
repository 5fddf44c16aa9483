/*
 * Owns the control socket (daemon/ctl.h): creating it safely, accepting
 * connections on the daemon's libev loop, line framing in bounded
 * buffers, nonblocking queued writes and the limits (connections, request
 * size, idle time). What a command means belongs to the daemon's handler.
 *
 * A connection answers one request at a time: the next line is parsed
 * only once the previous reply is fully written, so a client that
 * pipelines requests without reading gets back-pressure, not an
 * unbounded queue. Reading stops while a reply is pending.
 */
#include "daemon/ctl.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>
#include <ev.h>
#include <json-c/json.h>

#include "common/ctlproto.h"
#include "common/log.h"

/* Limits. The unit test builds this file with small values. */
#ifndef CTL_MAX_CONNS
#define CTL_MAX_CONNS		32	/* concurrent connections */
#endif
#ifndef CTL_IDLE_TIMEOUT
#define CTL_IDLE_TIMEOUT	30.0	/* seconds without any progress */
#endif
#define CTL_BACKLOG		16
#define CTL_ACCEPT_BURST	16	/* accepts per wake-up */
#define CTL_ACCEPT_PAUSE	1.0	/* seconds off after EMFILE and friends */
#define CTL_INBUF		(CTLPROTO_MAX_REQUEST + 1)	/* line + '\n' */
#define CTL_SOCKET_MODE		0660
#define CTL_DIR_MODE		0755

struct ctl_conn {
	LIST_ENTRY(ctl_conn) entry;
	struct ctl_server *srv;
	unsigned id;			/* for log lines */
	int fd;
	ev_io rio;			/* active iff no reply pending */
	ev_io wio;			/* active iff a reply is partly written */
	ev_timer idle;
	char *in;			/* CTL_INBUF bytes */
	size_t inlen;
	char *out;			/* the pending reply line, or NULL */
	size_t outlen;
	size_t outoff;
	bool eof;			/* peer shut down its side */
	bool closing;			/* close once out is written */
};

struct ctl_server {
	struct ev_loop *loop;
	char *path;
	int fd;
	bool bound;			/* path is our socket: unlink on close */
	dev_t dev;
	ino_t ino;
	ev_io accept_io;
	ev_timer accept_pause;
	ctl_handler_fn handler;
	void *arg;
	LIST_HEAD(, ctl_conn) conns;
	unsigned nconns;
	unsigned next_id;
	bool full_logged;		/* "too many connections" said once */
};

static void conn_pump(struct ctl_conn *c);

/* ---- connections ---- */

static void conn_close(struct ctl_conn *c)
{
	struct ctl_server *srv = c->srv;

	log_debug(LOGC_CTL, "conn %u: closed", c->id);
	ev_io_stop(srv->loop, &c->rio);
	ev_io_stop(srv->loop, &c->wio);
	ev_timer_stop(srv->loop, &c->idle);
	close(c->fd);
	LIST_REMOVE(c, entry);
	srv->nconns--;
	if (srv->nconns < CTL_MAX_CONNS)
		srv->full_logged = false;
	free(c->in);
	free(c->out);
	free(c);
}

/* Queue reply (consumed) as the pending output; on failure close after. */
static void conn_queue(struct ctl_conn *c, struct json_object *reply)
{
	int r = -ENOMEM;

	if (reply)
		r = ctlproto_to_line(reply, CTLPROTO_MAX_REPLY, &c->out,
				     &c->outlen);
	if (r == -EMSGSIZE) {
		log_warnx("control socket: reply on conn %u over %d bytes, "
			  "sending an error instead", c->id, CTLPROTO_MAX_REPLY);
		json_object_put(reply);
		reply = ctlproto_reply_error("reply too large");
		r = reply ? ctlproto_to_line(reply, CTLPROTO_MAX_REPLY,
					     &c->out, &c->outlen) : -ENOMEM;
	}
	json_object_put(reply);
	c->outoff = 0;
	if (r < 0) {
		log_warnx("control socket: cannot build a reply on conn %u: %s",
			  c->id, strerror(-r));
		c->closing = true;
	}
}

/* An error reply from the handler's message, keeping an "errors" list. */
static struct json_object *handler_error(int r, const char *err,
					 struct json_object *result)
{
	struct json_object *rep, *errors;

	rep = ctlproto_reply_error(err[0] ? err : strerror(r < 0 ? -r : r));
	if (rep && json_object_object_get_ex(result, "errors", &errors) &&
	    json_object_is_type(errors, json_type_array))
		json_object_object_add(rep, "errors", json_object_get(errors));
	json_object_put(result);
	return rep;
}

/* Run the daemon's handler for req; returns the reply (NULL: ENOMEM). */
static struct json_object *call_handler(struct ctl_conn *c,
					struct ctlproto_request *req)
{
	struct ctl_server *srv = c->srv;
	struct json_object *result = NULL;
	char err[CTLPROTO_ERRLEN] = "";
	int r;

	r = srv->handler(srv->arg, req->command, req->args, &result,
			 err, sizeof(err));
	err[sizeof(err) - 1] = '\0';
	if (r == 0 && result && !json_object_is_type(result, json_type_object)) {
		log_warnx("control socket: handler for '%s' returned a "
			  "non-object result", req->command);
		snprintf(err, sizeof(err), "internal error: bad result");
		r = -EINVAL;
	}
	if (r != 0) {
		log_debug(LOGC_CTL, "conn %u: %s -> error: %s", c->id,
			  req->command, err[0] ? err : strerror(r < 0 ? -r : r));
		return handler_error(r, err, result);
	}
	log_debug(LOGC_CTL, "conn %u: %s -> ok", c->id, req->command);
	return ctlproto_reply_ok(result);
}

/* Handle one line (without its '\n'): queue a reply unless it is blank. */
static void conn_request(struct ctl_conn *c, const char *line, size_t len)
{
	struct ctlproto_request req;
	char err[CTLPROTO_ERRLEN];
	size_t i;

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			break;
	if (i == len)
		return;
	if (ctlproto_parse_request(line, len, &req, err, sizeof(err)) < 0) {
		log_debug(LOGC_CTL, "conn %u: bad request: %s", c->id, err);
		conn_queue(c, ctlproto_reply_error(err));
		c->closing = true;
		return;
	}
	log_debug(LOGC_CTL, "conn %u: request '%s'", c->id, req.command);
	conn_queue(c, call_handler(c, &req));
	ctlproto_request_free(&req);
}

/*
 * Take the next request out of the input buffer. Returns true when it
 * made progress (a line consumed, or the connection set to close) and
 * false when more input is needed.
 */
static bool conn_next_request(struct ctl_conn *c)
{
	char *nl = memchr(c->in, '\n', c->inlen);
	char err[CTLPROTO_ERRLEN];
	size_t n;

	if (nl) {
		n = (size_t)(nl - c->in);
		conn_request(c, c->in, n);
		memmove(c->in, nl + 1, c->inlen - n - 1);
		c->inlen -= n + 1;
		return true;
	}
	if (c->inlen == CTL_INBUF) {
		snprintf(err, sizeof(err), "request too large (limit %d bytes)",
			 CTLPROTO_MAX_REQUEST);
		log_debug(LOGC_CTL, "conn %u: %s", c->id, err);
		conn_queue(c, ctlproto_reply_error(err));
		c->closing = true;
		return true;
	}
	if (c->eof) {
		/* A last request without '\n' still counts. */
		conn_request(c, c->in, c->inlen);
		c->inlen = 0;
		c->closing = true;
		return true;
	}
	return false;
}

/* Write what the socket takes now. 0 (maybe partial) or -errno. */
static int conn_write_some(struct ctl_conn *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			log_debug(LOGC_CTL, "conn %u: write: %s", c->id,
				  strerror(errno));
			return -errno;
		}
		c->outoff += (size_t)n;
		ev_timer_again(c->srv->loop, &c->idle);
	}
	return 0;
}

static void io_set(struct ev_loop *loop, ev_io *w, bool on)
{
	if (on && !ev_is_active(w))
		ev_io_start(loop, w);
	else if (!on && ev_is_active(w))
		ev_io_stop(loop, w);
}

/*
 * Move the connection forward: flush the pending reply, then serve
 * buffered requests one at a time, then wait for the right event.
 * May free c.
 */
static void conn_pump(struct ctl_conn *c)
{
	bool pending;

	for (;;) {
		if (c->out) {
			if (conn_write_some(c) < 0) {
				conn_close(c);
				return;
			}
			if (c->outoff < c->outlen)
				break;
			free(c->out);
			c->out = NULL;
			c->outlen = c->outoff = 0;
		}
		if (c->closing) {
			conn_close(c);
			return;
		}
		if (!conn_next_request(c))
			break;
	}
	pending = c->out != NULL;
	io_set(c->srv->loop, &c->wio, pending);
	io_set(c->srv->loop, &c->rio, !pending && !c->eof);
}

static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_conn *c = w->data;
	ssize_t n;

	if (c->inlen == CTL_INBUF) {	/* not reached: pump stops reading */
		conn_pump(c);
		return;
	}
	n = recv(c->fd, c->in + c->inlen, CTL_INBUF - c->inlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		log_debug(LOGC_CTL, "conn %u: read: %s", c->id, strerror(errno));
		conn_close(c);
		return;
	}
	ev_timer_again(loop, &c->idle);
	if (n == 0)
		c->eof = true;
	c->inlen += (size_t)n;
	conn_pump(c);
}

static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	conn_pump(w->data);
}

static void conn_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctl_conn *c = w->data;

	log_debug(LOGC_CTL, "conn %u: idle for %.0f s", c->id,
		  (double)CTL_IDLE_TIMEOUT);
	conn_close(c);
}

static void log_peer(unsigned id, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (!log_debug_enabled(LOGC_CTL))
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		log_debug(LOGC_CTL, "conn %u: new, pid %d uid %u", id,
			  (int)cred.pid, (unsigned)cred.uid);
	else
		log_debug(LOGC_CTL, "conn %u: new", id);
}

/* Adopt an accepted fd. 0 or -ENOMEM (the caller closes fd). */
static int conn_new(struct ctl_server *srv, int fd)
{
	struct ctl_conn *c = calloc(1, sizeof(*c));

	if (!c || !(c->in = malloc(CTL_INBUF))) {
		free(c);
		return -ENOMEM;
	}
	c->srv = srv;
	c->fd = fd;
	c->id = ++srv->next_id;
	ev_io_init(&c->rio, conn_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, conn_write_cb, fd, EV_WRITE);
	ev_timer_init(&c->idle, conn_idle_cb, 0.0, CTL_IDLE_TIMEOUT);
	c->rio.data = c->wio.data = c->idle.data = c;
	LIST_INSERT_HEAD(&srv->conns, c, entry);
	srv->nconns++;
	ev_io_start(srv->loop, &c->rio);
	ev_timer_again(srv->loop, &c->idle);
	log_peer(c->id, fd);
	return 0;
}

/* ---- accepting ---- */

/* Over the limit: say so without waiting (best effort) and hang up. */
static void refuse(struct ctl_server *srv, int fd)
{
	struct json_object *rep;
	char *line = NULL;
	size_t len;

	if (!srv->full_logged)
		log_warnx("control socket: %d connections open, refusing more",
			  CTL_MAX_CONNS);
	srv->full_logged = true;
	rep = ctlproto_reply_error("too many control connections");
	if (rep && ctlproto_to_line(rep, CTLPROTO_MAX_REPLY, &line, &len) == 0)
		(void)send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	json_object_put(rep);
	free(line);
	close(fd);
}

static void accept_pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctl_server *srv = w->data;

	ev_io_start(loop, &srv->accept_io);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_server *srv = w->data;
	int fd;

	for (int i = 0; i < CTL_ACCEPT_BURST; i++) {
		fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (fd < 0) {
			/* EMFILE and the like: the socket stays readable,
			 * so back off rather than spin. */
			log_warn("control socket: accept");
			ev_io_stop(loop, &srv->accept_io);
			ev_timer_set(&srv->accept_pause, CTL_ACCEPT_PAUSE, 0.0);
			ev_timer_start(loop, &srv->accept_pause);
			return;
		}
		if (srv->nconns >= CTL_MAX_CONNS)
			refuse(srv, fd);
		else if (conn_new(srv, fd) < 0) {
			log_warnx("control socket: out of memory");
			close(fd);
		}
	}
}

/* ---- the socket file ---- */

static int make_addr(const char *path, struct sockaddr_un *sun,
		     socklen_t *len)
{
	size_t n = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof(sun->sun_path)) {
		log_warnx("control socket %s: path empty or too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sun->sun_path, path, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

/* mkdir the directory holding path (one level) if it is missing. */
static int make_parent_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, CTL_DIR_MODE) < 0) {
		if (errno == EEXIST)
			return 0;
		log_warn("control socket: mkdir %s", dir);
		return -errno;
	}
	/* Whatever the umask: others may reach the socket, not list it. */
	if (chmod(dir, CTL_DIR_MODE) < 0) {
		log_warn("control socket: chmod %s", dir);
		return -errno;
	}
	return 0;
}

/*
 * A socket file already at path: refuse if a live server answers on it,
 * remove it if nobody does. 0 or -errno.
 */
static int clear_stale(const char *path, const struct sockaddr_un *sun,
		       socklen_t len)
{
	struct stat st;
	int fd, r = 0;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		log_warn("control socket: %s", path);
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("control socket: %s exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("control socket: socket");
		return -errno;
	}
	/* EAGAIN: a live server with a full backlog. */
	if (connect(fd, (const struct sockaddr *)sun, len) == 0 || errno == EAGAIN) {
		log_warnx("another cgwd is running on %s", path);
		r = -EADDRINUSE;
	} else if (errno == ECONNREFUSED) {
		log_info("control socket: removing stale %s", path);
		if (unlink(path) < 0 && errno != ENOENT) {
			log_warn("control socket: unlink %s", path);
			r = -errno;
		}
	} else if (errno != ENOENT) {
		log_warn("control socket: probing %s", path);
		r = -errno;
	}
	close(fd);
	return r;
}

/* socket, bind (mode 0660 from the start), listen; records the inode. */
static int bind_listen(struct ctl_server *srv, const struct sockaddr_un *sun,
		       socklen_t len)
{
	struct stat st;
	mode_t old;
	int r;

	srv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->fd < 0) {
		log_warn("control socket: socket");
		return -errno;
	}
	/* Single-threaded here: the umask closes the window before chmod. */
	old = umask(0777 & ~CTL_SOCKET_MODE);
	r = bind(srv->fd, (const struct sockaddr *)sun, len);
	umask(old);
	if (r < 0) {
		log_warn("control socket: bind %s", srv->path);
		return -errno;
	}
	if (lstat(srv->path, &st) == 0) {
		srv->bound = true;
		srv->dev = st.st_dev;
		srv->ino = st.st_ino;
	}
	if (chmod(srv->path, CTL_SOCKET_MODE) < 0) {
		log_warn("control socket: chmod %s", srv->path);
		return -errno;
	}
	if (listen(srv->fd, CTL_BACKLOG) < 0) {
		log_warn("control socket: listen %s", srv->path);
		return -errno;
	}
	return 0;
}

/* Unlink path only if it is still the socket we bound. */
static void unlink_ours(struct ctl_server *srv)
{
	struct stat st;

	if (!srv->bound || lstat(srv->path, &st) < 0)
		return;
	if (st.st_dev == srv->dev && st.st_ino == srv->ino &&
	    unlink(srv->path) < 0)
		log_warn("control socket: unlink %s", srv->path);
}

/* A server with watchers initialised but nothing open; NULL on ENOMEM. */
static struct ctl_server *server_new(struct ev_loop *loop, const char *path,
				     ctl_handler_fn handler, void *arg)
{
	struct ctl_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return NULL;
	srv->loop = loop;
	srv->fd = -1;
	srv->handler = handler;
	srv->arg = arg;
	LIST_INIT(&srv->conns);
	ev_io_init(&srv->accept_io, accept_cb, -1, EV_READ);
	ev_timer_init(&srv->accept_pause, accept_pause_cb, 0.0, 0.0);
	srv->accept_io.data = srv->accept_pause.data = srv;
	srv->path = strdup(path);
	if (!srv->path) {
		free(srv);
		return NULL;
	}
	return srv;
}

int ctl_server_open(struct ctl_server **out, struct ev_loop *loop,
		    const char *path, ctl_handler_fn handler, void *arg)
{
	struct ctl_server *srv = NULL;
	struct sockaddr_un sun;
	socklen_t len;
	int r;

	*out = NULL;
	if ((r = make_addr(path, &sun, &len)) < 0 ||
	    (r = make_parent_dir(path)) < 0 ||
	    (r = clear_stale(path, &sun, len)) < 0)
		goto out;
	srv = server_new(loop, path, handler, arg);
	if (!srv) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = bind_listen(srv, &sun, len)) < 0)
		goto out;
	ev_io_set(&srv->accept_io, srv->fd, EV_READ);
	ev_io_start(loop, &srv->accept_io);
	log_debug(LOGC_CTL, "listening on %s", path);
	*out = srv;
	srv = NULL;
out:
	ctl_server_close(srv);
	return r;
}

void ctl_server_close(struct ctl_server *srv)
{
	struct ctl_conn *c;

	if (!srv)
		return;
	ev_io_stop(srv->loop, &srv->accept_io);
	ev_timer_stop(srv->loop, &srv->accept_pause);
	while ((c = LIST_FIRST(&srv->conns))) {
		/* A last nonblocking try, e.g. the reply to "stop". */
		if (c->out)
			(void)conn_write_some(c);
		conn_close(c);
	}
	if (srv->fd >= 0)
		close(srv->fd);
	unlink_ours(srv);
	free(srv->path);
	free(srv);
}
