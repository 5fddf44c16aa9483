/*
 * Unit tests for the control socket server (daemon/ctl.c): a real libev
 * loop serves a socket in a temporary directory and in-process clients,
 * driven by the same loop, talk to it. Built with small limits
 * (CTL_MAX_CONNS, CTL_IDLE_TIMEOUT from meson) so limits are testable.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include <ev.h>
#include <json-c/json.h>

#include "common/ctlproto.h"
#include "common/log.h"
#include "daemon/ctl.h"

#ifndef CTL_MAX_CONNS
#define CTL_MAX_CONNS		32
#endif
#ifndef CTL_IDLE_TIMEOUT
#define CTL_IDLE_TIMEOUT	30.0
#endif

#define CLIENT_TIMEOUT	5.0		/* a test waiting longer has failed */
#define BIG_REPLY	(4 * 1024 * 1024)

struct fixture {
	struct ev_loop *loop;
	struct ctl_server *srv;
	char dir[32];
	char rundir[48];
	char path[96];
	int calls;
	int debug_lines;
};

/* ---- the handler the daemon would register ---- */

static struct json_object *big_result(struct json_object *args)
{
	struct json_object *size, *res = json_object_new_object();
	int n = BIG_REPLY;
	char *blob;

	if (json_object_object_get_ex(args, "size", &size))
		n = json_object_get_int(size);
	blob = malloc((size_t)n);
	assert_non_null(blob);
	memset(blob, 'b', (size_t)n);
	json_object_object_add(res, "blob", json_object_new_string_len(blob, n));
	free(blob);
	return res;
}

static int handler(void *arg, const char *command, struct json_object *args,
		   struct json_object **result, char *err, size_t errlen)
{
	struct fixture *fx = arg;
	struct json_object *errors;

	fx->calls++;
	assert_non_null(args);
	assert_true(json_object_is_type(args, json_type_object));
	if (strcmp(command, "status") == 0) {
		*result = json_object_new_object();
		json_object_object_add(*result, "version",
				       json_object_new_string("test"));
		return 0;
	}
	if (strcmp(command, "echo") == 0) {
		*result = json_object_get(args);
		return 0;
	}
	if (strcmp(command, "empty") == 0)
		return 0;		/* NULL result: {} */
	if (strcmp(command, "big") == 0) {
		*result = big_result(args);
		return 0;
	}
	if (strcmp(command, "reload") == 0) {
		errors = json_object_new_array();
		json_object_array_add(errors,
			json_object_new_string("cgw.conf:3: unknown key 'x'"));
		*result = json_object_new_object();
		json_object_object_add(*result, "errors", errors);
		snprintf(err, errlen, "config has 1 error, old config kept");
		return -EINVAL;
	}
	if (strcmp(command, "array") == 0) {
		*result = json_object_new_array();
		return 0;
	}
	if (strcmp(command, "silent") == 0)
		return -EPERM;		/* no message: strerror */
	snprintf(err, errlen, "unknown command '%s'", command);
	return -ENOENT;
}

/* ---- an in-process client driven by the same loop ---- */

struct client {
	struct ev_loop *loop;
	int fd;
	ev_io rio, wio;
	ev_timer guard;
	const char *tx;
	size_t txlen, txoff;
	char *rx;
	size_t rxlen, rxcap;
	size_t want_lines;
	bool eof;
	bool timed_out;
};

static size_t count_lines(const struct client *cl)
{
	size_t n = 0;

	for (size_t i = 0; i < cl->rxlen; i++)
		n += cl->rx[i] == '\n';
	return n;
}

static void client_check_done(struct client *cl)
{
	if (cl->eof || (count_lines(cl) >= cl->want_lines &&
			cl->txoff == cl->txlen))
		ev_break(cl->loop, EVBREAK_ONE);
}

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *cl = w->data;
	ssize_t n;

	if (cl->rxcap - cl->rxlen < 65536) {
		cl->rxcap = cl->rxcap * 2 + 65536;
		cl->rx = realloc(cl->rx, cl->rxcap);
		assert_non_null(cl->rx);
	}
	n = recv(cl->fd, cl->rx + cl->rxlen, cl->rxcap - cl->rxlen, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		cl->eof = true;
		ev_io_stop(loop, w);
	} else {
		cl->rxlen += (size_t)n;
	}
	client_check_done(cl);
}

static void client_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *cl = w->data;
	ssize_t n;

	n = send(cl->fd, cl->tx + cl->txoff, cl->txlen - cl->txoff,
		 MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n < 0) {			/* the server hung up on us */
		cl->txoff = cl->txlen;
		ev_io_stop(loop, w);
		return;
	}
	cl->txoff += (size_t)n;
	if (cl->txoff == cl->txlen) {
		ev_io_stop(loop, w);
		client_check_done(cl);
	}
}

static void client_guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *cl = w->data;

	cl->timed_out = true;
	ev_break(loop, EVBREAK_ONE);
}

static void client_open(struct client *cl, struct fixture *fx)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	memset(cl, 0, sizeof(*cl));
	cl->loop = fx->loop;
	cl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(cl->fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", fx->path);
	assert_int_equal(connect(cl->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(fcntl(cl->fd, F_SETFL, O_NONBLOCK), 0);
	ev_io_init(&cl->rio, client_read_cb, cl->fd, EV_READ);
	ev_io_init(&cl->wio, client_write_cb, cl->fd, EV_WRITE);
	ev_timer_init(&cl->guard, client_guard_cb, CLIENT_TIMEOUT, 0.0);
	cl->rio.data = cl->wio.data = cl->guard.data = cl;
}

/*
 * Send tx (may be NULL) and run the loop until nlines reply lines have
 * arrived in total, the server hung up, or timeout seconds passed.
 */
static void client_run(struct client *cl, const char *tx, size_t txlen,
		       size_t nlines, double timeout)
{
	cl->tx = tx;
	cl->txlen = tx ? txlen : 0;
	cl->txoff = 0;
	cl->want_lines = nlines;
	cl->timed_out = false;
	if (cl->txlen)
		ev_io_start(cl->loop, &cl->wio);
	if (!cl->eof)
		ev_io_start(cl->loop, &cl->rio);
	ev_timer_set(&cl->guard, timeout, 0.0);
	ev_timer_start(cl->loop, &cl->guard);
	ev_run(cl->loop, 0);
	ev_timer_stop(cl->loop, &cl->guard);
	ev_io_stop(cl->loop, &cl->wio);
	ev_io_stop(cl->loop, &cl->rio);
}

static void client_send(struct client *cl, const char *s, size_t nlines)
{
	client_run(cl, s, strlen(s), nlines, CLIENT_TIMEOUT);
	assert_false(cl->timed_out);
}

/* Parse reply line i (0-based) into *rep. */
static void client_reply(const struct client *cl, size_t i,
			 struct ctlproto_reply *rep)
{
	char err[CTLPROTO_ERRLEN];
	const char *p = cl->rx, *end = cl->rx + cl->rxlen, *nl;

	for (;;) {
		nl = memchr(p, '\n', (size_t)(end - p));
		assert_non_null(nl);
		if (i-- == 0)
			break;
		p = nl + 1;
	}
	if (ctlproto_parse_reply(p, (size_t)(nl - p) + 1, rep, err,
				 sizeof(err)) < 0)
		fail_msg("bad reply: %s", err);
}

static void client_close(struct client *cl)
{
	close(cl->fd);
	free(cl->rx);
	cl->rx = NULL;
}

/* Let the server notice what clients did (closes, connects). */
static void run_for(struct fixture *fx, double seconds)
{
	struct client idle;

	memset(&idle, 0, sizeof(idle));
	idle.loop = fx->loop;
	ev_timer_init(&idle.guard, client_guard_cb, seconds, 0.0);
	idle.guard.data = &idle;
	ev_timer_start(fx->loop, &idle.guard);
	ev_run(fx->loop, 0);
	ev_timer_stop(fx->loop, &idle.guard);
}

static void expect_error(const struct client *cl, size_t i, const char *substr)
{
	struct ctlproto_reply rep;

	client_reply(cl, i, &rep);
	assert_false(rep.ok);
	if (!strstr(rep.error, substr))
		fail_msg("error '%s' lacks '%s'", rep.error, substr);
	ctlproto_reply_free(&rep);
}

static void expect_status(const struct client *cl, size_t i)
{
	struct ctlproto_reply rep;
	struct json_object *v;

	client_reply(cl, i, &rep);
	assert_true(rep.ok);
	assert_true(json_object_object_get_ex(rep.result, "version", &v));
	assert_string_equal(json_object_get_string(v), "test");
	ctlproto_reply_free(&rep);
}

/* ---- fixture ---- */

static void count_debug(int prio, const char *line, void *arg)
{
	struct fixture *fx = arg;

	if (strstr(line, "request 'status'"))
		fx->debug_lines++;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cgw-ctl-test.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	/* The socket's directory does not exist yet: the server makes it. */
	snprintf(fx->rundir, sizeof(fx->rundir), "%s/run", fx->dir);
	snprintf(fx->path, sizeof(fx->path), "%s/cgwd.sock", fx->rundir);
	fx->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(fx->loop);
	log_set_sink(count_debug, fx);
	assert_int_equal(log_debug_enable("ctl"), 0);
	assert_int_equal(ctl_server_open(&fx->srv, fx->loop, fx->path,
					 handler, fx), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	ctl_server_close(fx->srv);
	ev_loop_destroy(fx->loop);
	log_set_sink(NULL, NULL);
	unlink(fx->path);
	rmdir(fx->rundir);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* ---- tests ---- */

static void test_status(void **state)
{
	struct fixture *fx = *state;
	struct client cl;

	client_open(&cl, fx);
	client_send(&cl, "{\"command\":\"status\"}\n", 1);
	expect_status(&cl, 0);
	assert_false(cl.eof);
	assert_int_equal(fx->debug_lines, 1);	/* log_debug per request */
	client_close(&cl);
}

static void test_unknown_command(void **state)
{
	struct fixture *fx = *state;
	struct client cl;

	client_open(&cl, fx);
	client_send(&cl, "{\"command\":\"frobnicate\",\"args\":{}}\n", 1);
	expect_error(&cl, 0, "unknown command 'frobnicate'");
	/* A handler error keeps the connection. */
	client_send(&cl, "{\"command\":\"status\"}\n", 2);
	expect_status(&cl, 1);
	assert_false(cl.eof);
	client_close(&cl);
}

static void test_handler_error_details(void **state)
{
	struct fixture *fx = *state;
	struct ctlproto_reply rep;
	struct json_object *errors;
	struct client cl;

	client_open(&cl, fx);
	client_send(&cl, "{\"command\":\"reload\"}\n"
		    "{\"command\":\"silent\"}\n"
		    "{\"command\":\"array\"}\n", 3);
	client_reply(&cl, 0, &rep);
	assert_false(rep.ok);
	assert_string_equal(rep.error, "config has 1 error, old config kept");
	assert_true(json_object_object_get_ex(rep.root, "errors", &errors));
	assert_int_equal(json_object_array_length(errors), 1);
	assert_string_equal(json_object_get_string(
		json_object_array_get_idx(errors, 0)),
		"cgw.conf:3: unknown key 'x'");
	ctlproto_reply_free(&rep);
	expect_error(&cl, 1, strerror(EPERM));
	expect_error(&cl, 2, "internal error");
	client_close(&cl);
}

static const struct {
	const char *name;
	const char *line;
	size_t len;
	const char *err;
} malformed[] = {
#define RAW(s) s, sizeof(s) - 1		/* a literal with its exact length */
	{ "truncated", RAW("{\"command\":\n"), "unexpected end of input" },
	{ "not an object", RAW("[1,2,3]\n"), "not a JSON object" },
	{ "no command", RAW("{\"args\":{}}\n"), "missing \"command\"" },
	{ "args array", RAW("{\"command\":\"status\",\"args\":[]}\n"), "\"args\" is not an object" },
	{ "trailing", RAW("{\"command\":\"status\"} junk\n"), "trailing garbage" },
	{ "binary", RAW("\x7f" "ELF\x02\x01\x01\x00\x00\n"), "NUL byte" },
	{ "only NULs", RAW("\0\0\0\n"), "NUL byte" },
	{ "high bytes", RAW("\xde\xad\xbe\xef\n"), "invalid JSON" },
#undef RAW
};

static void test_malformed(void **state)
{
	static const char status[] = "{\"command\":\"status\"}\n";
	struct fixture *fx = *state;
	struct client cl;
	char buf[128];
	size_t len;

	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		/* The status after the bad line must not be served. */
		len = malformed[i].len;
		memcpy(buf, malformed[i].line, len);
		memcpy(buf + len, status, sizeof(status) - 1);
		len += sizeof(status) - 1;
		client_open(&cl, fx);
		client_run(&cl, buf, len, 2, CLIENT_TIMEOUT);
		if (cl.timed_out || !cl.eof || count_lines(&cl) != 1)
			fail_msg("%s: timed out %d eof %d lines %zu",
				 malformed[i].name, cl.timed_out, cl.eof,
				 count_lines(&cl));
		expect_error(&cl, 0, malformed[i].err);
		client_close(&cl);
	}
	assert_int_equal(fx->calls, 0);
}

static void test_malformed_closes_before_next(void **state)
{
	struct fixture *fx = *state;
	struct client cl;

	client_open(&cl, fx);
	client_send(&cl, "{\"command\":\"status\"}\nnot json\n"
		    "{\"command\":\"status\"}\n", 3);
	assert_true(cl.eof);
	assert_int_equal(count_lines(&cl), 2);
	expect_status(&cl, 0);
	expect_error(&cl, 1, "invalid JSON");
	assert_int_equal(fx->calls, 1);
	client_close(&cl);
}

static void test_oversize(void **state)
{
	struct fixture *fx = *state;
	size_t len = CTLPROTO_MAX_REQUEST + 5000;
	struct client cl;
	char *big = malloc(len);

	/* No newline at all: the server gives up at the limit. */
	assert_non_null(big);
	memset(big, 'x', len);
	client_open(&cl, fx);
	client_run(&cl, big, len, 2, CLIENT_TIMEOUT);
	assert_false(cl.timed_out);
	assert_true(cl.eof);
	assert_int_equal(count_lines(&cl), 1);
	expect_error(&cl, 0, "request too large");
	client_close(&cl);

	/* A complete line one byte over the limit. */
	memcpy(big, "{\"command\":\"status\",\"args\":{\"p\":\"", 33);
	memcpy(big + CTLPROTO_MAX_REQUEST - 2, "\"}}\n", 4);
	client_open(&cl, fx);
	client_run(&cl, big, CTLPROTO_MAX_REQUEST + 2, 2, CLIENT_TIMEOUT);
	assert_true(cl.eof);
	expect_error(&cl, 0, "request too large");
	client_close(&cl);

	/* Exactly at the limit is served. */
	memcpy(big + CTLPROTO_MAX_REQUEST - 3, "\"}}\n", 4);
	client_open(&cl, fx);
	client_run(&cl, big, CTLPROTO_MAX_REQUEST + 1, 1, CLIENT_TIMEOUT);
	assert_false(cl.eof);
	expect_status(&cl, 0);
	client_close(&cl);
	free(big);
	assert_int_equal(fx->calls, 1);
}

static void test_two_requests(void **state)
{
	struct fixture *fx = *state;
	struct ctlproto_reply rep;
	struct json_object *v;
	struct client cl;

	/* Pipelined in one write, answered in order. */
	client_open(&cl, fx);
	client_send(&cl, "{\"command\":\"status\"}\n"
		    "{\"command\":\"echo\",\"args\":{\"n\":7}}\n", 2);
	expect_status(&cl, 0);
	client_reply(&cl, 1, &rep);
	assert_true(rep.ok);
	assert_true(json_object_object_get_ex(rep.result, "n", &v));
	assert_int_equal(json_object_get_int(v), 7);
	ctlproto_reply_free(&rep);

	/* Then one more on the same connection, after the replies. */
	client_send(&cl, "{\"command\":\"empty\"}\r\n", 3);
	client_reply(&cl, 2, &rep);
	assert_true(rep.ok);
	assert_int_equal(json_object_object_length(rep.result), 0);
	ctlproto_reply_free(&rep);
	assert_false(cl.eof);
	assert_int_equal(fx->calls, 3);
	client_close(&cl);
}

static void test_split_and_blank_lines(void **state)
{
	struct fixture *fx = *state;
	struct client cl;

	client_open(&cl, fx);
	client_run(&cl, "\n\r\n{\"comm", 9, 1, 0.05);
	assert_true(cl.timed_out);	/* nothing to answer yet */
	assert_int_equal(cl.rxlen, 0);
	client_send(&cl, "and\":\"status\"}\n", 1);
	expect_status(&cl, 0);
	client_close(&cl);
}

static void test_last_line_without_newline(void **state)
{
	struct fixture *fx = *state;
	struct client cl;

	client_open(&cl, fx);
	client_run(&cl, "{\"command\":\"status\"}", 20, 0, CLIENT_TIMEOUT);
	assert_int_equal(shutdown(cl.fd, SHUT_WR), 0);
	client_run(&cl, NULL, 0, 2, CLIENT_TIMEOUT);
	assert_true(cl.eof);
	assert_int_equal(count_lines(&cl), 1);
	expect_status(&cl, 0);
	client_close(&cl);
}

static void test_large_reply(void **state)
{
	struct fixture *fx = *state;
	struct ctlproto_reply rep;
	struct json_object *v;
	struct client cl;

	client_open(&cl, fx);
	client_send(&cl, "{\"command\":\"big\"}\n{\"command\":\"status\"}\n", 2);
	client_reply(&cl, 0, &rep);
	assert_true(rep.ok);
	assert_true(json_object_object_get_ex(rep.result, "blob", &v));
	assert_int_equal(json_object_get_string_len(v), BIG_REPLY);
	ctlproto_reply_free(&rep);
	expect_status(&cl, 1);
	client_close(&cl);
}

static void test_reply_over_limit(void **state)
{
	struct fixture *fx = *state;
	char req[128];
	struct client cl;

	snprintf(req, sizeof(req), "{\"command\":\"big\",\"args\":{\"size\":%d}}\n",
		 CTLPROTO_MAX_REPLY);
	client_open(&cl, fx);
	client_send(&cl, req, 1);
	expect_error(&cl, 0, "reply too large");
	client_close(&cl);
}

static void test_client_vanishes(void **state)
{
	struct fixture *fx = *state;
	struct client cl;

	/* Ask for a reply bigger than the socket buffer, then hang up. */
	client_open(&cl, fx);
	client_run(&cl, "{\"command\":\"big\"}\n", 18, 0, CLIENT_TIMEOUT);
	client_close(&cl);
	run_for(fx, 0.1);
	client_open(&cl, fx);
	client_send(&cl, "{\"command\":\"status\"}\n", 1);
	expect_status(&cl, 0);
	client_close(&cl);
}

static void test_connection_limit(void **state)
{
	struct fixture *fx = *state;
	struct client cl[CTL_MAX_CONNS + 1];

	if (CTL_MAX_CONNS > 8) {
		print_message("skip: built without -DCTL_MAX_CONNS=4\n");
		skip();
	}
	for (int i = 0; i < CTL_MAX_CONNS; i++) {
		client_open(&cl[i], fx);
		client_send(&cl[i], "{\"command\":\"status\"}\n", 1);
		expect_status(&cl[i], 0);
	}
	client_open(&cl[CTL_MAX_CONNS], fx);
	client_run(&cl[CTL_MAX_CONNS], NULL, 0, 2, CLIENT_TIMEOUT);
	assert_true(cl[CTL_MAX_CONNS].eof);
	expect_error(&cl[CTL_MAX_CONNS], 0, "too many");
	client_close(&cl[CTL_MAX_CONNS]);

	/* One leaves; the next newcomer is served. */
	client_close(&cl[0]);
	run_for(fx, 0.05);
	client_open(&cl[0], fx);
	client_send(&cl[0], "{\"command\":\"status\"}\n", 1);
	expect_status(&cl[0], 0);
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		client_close(&cl[i]);
}

static void test_idle_timeout(void **state)
{
	struct fixture *fx = *state;
	struct client cl;
	ev_tstamp t0;

	if (CTL_IDLE_TIMEOUT > 2.0) {
		print_message("skip: built without -DCTL_IDLE_TIMEOUT=0.3\n");
		skip();
	}
	client_open(&cl, fx);
	t0 = ev_time();
	client_run(&cl, NULL, 0, 1, CLIENT_TIMEOUT);
	assert_true(cl.eof);
	assert_int_equal(cl.rxlen, 0);
	assert_true(ev_time() - t0 >= CTL_IDLE_TIMEOUT * 0.9);
	client_close(&cl);
}

static void test_close_with_clients(void **state)
{
	struct fixture *fx = *state;
	struct client cl;
	struct stat st;

	client_open(&cl, fx);
	client_send(&cl, "{\"command\":\"status\"}\n", 1);
	ctl_server_close(fx->srv);
	fx->srv = NULL;
	assert_int_equal(lstat(fx->path, &st), -1);	/* unlinked */
	client_run(&cl, NULL, 0, 2, CLIENT_TIMEOUT);
	assert_true(cl.eof);
	client_close(&cl);
	ctl_server_close(NULL);
}

static void test_socket_file(void **state)
{
	struct fixture *fx = *state;
	struct ctl_server *other = NULL;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char longpath[200];
	struct stat st;
	int fd;

	assert_int_equal(stat(fx->rundir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(lstat(fx->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	/* A live server on the path: refused, and the socket survives. */
	assert_int_equal(ctl_server_open(&other, fx->loop, fx->path, handler, fx),
			 -EADDRINUSE);
	assert_null(other);
	assert_int_equal(lstat(fx->path, &st), 0);

	/* A stale socket left by a dead server: replaced. */
	ctl_server_close(fx->srv);
	fx->srv = NULL;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", fx->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(lstat(fx->path, &st), 0);
	assert_int_equal(ctl_server_open(&fx->srv, fx->loop, fx->path, handler,
					 fx), 0);
	ctl_server_close(fx->srv);
	fx->srv = NULL;

	/* Something else at the path: left alone. */
	fd = open(fx->path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ctl_server_open(&other, fx->loop, fx->path, handler, fx),
			 -EEXIST);
	assert_int_equal(lstat(fx->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(fx->path);

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(ctl_server_open(&other, fx->loop, longpath, handler, fx),
			 -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_status),
		T(test_unknown_command),
		T(test_handler_error_details),
		T(test_malformed),
		T(test_malformed_closes_before_next),
		T(test_oversize),
		T(test_two_requests),
		T(test_split_and_blank_lines),
		T(test_last_line_without_newline),
		T(test_large_reply),
		T(test_reply_over_limit),
		T(test_client_vanishes),
		T(test_connection_limit),
		T(test_idle_timeout),
		T(test_close_with_clients),
		T(test_socket_file),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
