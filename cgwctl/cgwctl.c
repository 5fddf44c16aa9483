/*
 * cgwctl: ask cgwd things over its control socket. Owns the command line,
 * the client side of the protocol (common/ctlproto.h, bounded reads with
 * timeouts) and how replies are shown. Each subcommand is one row of
 * `commands`, which also generates --help.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common/ctlproto.h"
#include "cgwctl/doctor.h"
#include "cgwctl/metrics.h"
#include "import/import.h"

enum {
	EXIT_OK = 0,
	EXIT_DAEMON = 1,	/* cgwd answered with an error */
	EXIT_USAGE = 2,
	EXIT_CONNECT = 3,	/* cgwd cannot be reached or did not answer */
};

#define IO_TIMEOUT	10	/* seconds: connect, send, and the whole reply */

struct ctx {
	const char *socket;
	bool json;
};

struct command {
	const char *name;
	const char *synopsis;	/* what follows the name, for --help */
	const char *help;	/* one line */
	/* argv[0] is the command name. Returns an exit code. */
	int (*run)(struct ctx *ctx, const struct command *cmd, int argc,
		   char **argv);
};

static int cmd_status(struct ctx *, const struct command *, int, char **);
static int cmd_reload(struct ctx *, const struct command *, int, char **);
static int cmd_tunnel(struct ctx *, const struct command *, int, char **);
static int cmd_import(struct ctx *, const struct command *, int, char **);
static int cmd_doctor(struct ctx *, const struct command *, int, char **);
static int cmd_metrics(struct ctx *, const struct command *, int, char **);
static int cmd_bgp(struct ctx *, const struct command *, int, char **);

static const struct command commands[] = {
	{ "status", "[--json]", "show cgwd, its tunnels and BGP neighbors",
	  cmd_status },
	{ "reload", "", "re-read the configuration and apply the changes",
	  cmd_reload },
	{ "tunnel", "up|down NAME | rekey NAME [child|ike]",
	  "bring a tunnel up now, take it down (no re-initiation), or rekey it",
	  cmd_tunnel },
	{ "bgp", "routes|neighbors [--json] | reset|refresh NAME",
	  "show BGP routes or sessions, reset a session or ask for a route refresh",
	  cmd_bgp },
	{ "import", "SOURCE ARGS...",
	  "write a cgw.conf from tfstate, aws-xml or libreswan (import --help)",
	  cmd_import },
	{ "doctor", "[--config FILE]",
	  "check this host for what the tunnels need: OK/WARN/FAIL with fixes",
	  cmd_doctor },
	{ "metrics", "",
	  "print tunnels, SAs and BGP neighbors in Prometheus text format",
	  cmd_metrics },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct option long_options[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const struct {
	const char *flags;
	const char *help;
} option_help[] = {
	{ "-s, --socket SOCKET", "control socket (default " CGW_DEFAULT_SOCKET ")" },
	{ "-j, --json", "print the daemon's answer as JSON" },
	{ "-h, --help", "show this help and exit" },
	{ "-V, --version", "show the version and exit" },
};

/* ---- help ---- */

static void usage_lines(FILE *f)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "%s cgwctl [-s SOCKET] [--json] %s%s%s\n",
			i ? "      " : "Usage:", commands[i].name,
			commands[i].synopsis[0] ? " " : "", commands[i].synopsis);
	fprintf(f, "       cgwctl --help | --version\n");
}

static void help(FILE *f)
{
	size_t w = 0, n;

	usage_lines(f);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		n = strlen(commands[i].name) + 1 + strlen(commands[i].synopsis);
		w = n > w ? n : w;
	}
	fprintf(f, "\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		n = strlen(commands[i].name) + 1 + strlen(commands[i].synopsis);
		fprintf(f, "  %s %s%*s  %s\n", commands[i].name,
			commands[i].synopsis, (int)(w - n), "", commands[i].help);
	}
	fprintf(f, "\nOptions:\n");
	for (size_t i = 0; i < sizeof(option_help) / sizeof(option_help[0]); i++)
		fprintf(f, "  %-21s %s\n", option_help[i].flags, option_help[i].help);
	fprintf(f, "\nExit status: 0 success, 1 cgwd answered with an error, "
		"2 usage error,\n3 cgwd cannot be reached or did not answer. import: 0 written, 1 the\ninput cannot be imported, 2 usage error.\n");
}

/* Say what is wrong with the command line: exit 2. */
static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vwarnx(fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "Try 'cgwctl --help'.\n");
	return EXIT_USAGE;
}

/* ---- talking to cgwd ---- */

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
static int call(const struct ctx *ctx, const char *command,
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

/* ---- printing ---- */

/* Print s with control characters replaced, padded to width. */
static void put_text(const char *s, int width)
{
	int n = 0;

	for (; *s; s++, n++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
	if (width > n)
		printf("%*s", width - n, "");
}

/* The text of obj[key] for display: "-" when missing or null. */
static const char *field(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return "-";
	return json_object_get_string(v);
}

static bool has(struct json_object *obj, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(obj, key, &v) && v;
}

static void print_json(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
		JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Each string of obj[key] (e.g. "errors": "file:line: message") on stderr. */
static void print_lines(struct json_object *obj, const char *key)
{
	struct json_object *lines;

	if (!json_object_object_get_ex(obj, key, &lines) ||
	    !json_object_is_type(lines, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(lines); i++)
		fprintf(stderr, "%s\n", json_object_get_string(
			json_object_array_get_idx(lines, i)));
}

/* Print the error reply (and its "errors" lines) to stderr: exit 1. */
static int print_error(const struct ctlproto_reply *rep)
{
	fprintf(stderr, "cgwctl: %s\n", rep->error);
	print_lines(rep->root, "errors");
	return EXIT_DAEMON;
}

static void format_duration(char *buf, size_t len, int64_t s)
{
	if (s < 60)
		snprintf(buf, len, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", s / 3600,
			 s / 60 % 60);
	else
		snprintf(buf, len, "%" PRId64 "d%02" PRId64 "h", s / 86400,
			 s / 3600 % 24);
}

#define TABLE_MAX_COLS	10

struct column {
	const char *title;
	const char *key;
};

static int column_width(struct json_object *rows, const struct column *col)
{
	size_t w = strlen(col->title), n;

	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		n = strlen(field(json_object_array_get_idx(rows, i), col->key));
		w = n > w ? n : w;
	}
	return (int)w;
}

/*
 * A titled table of rows[] (objects), one column per cols[], missing
 * cells shown as "-"; detail_key, when a row has it, goes on an indented
 * line below the row.
 */
static void print_table(const char *title, struct json_object *rows,
			const struct column *cols, size_t ncols,
			const char *detail_key)
{
	int width[TABLE_MAX_COLS];
	struct json_object *row;

	printf("%s\n", title);
	if (!json_object_is_type(rows, json_type_array) ||
	    json_object_array_length(rows) == 0) {
		printf("  (none)\n");
		return;
	}
	for (size_t c = 0; c < ncols && c < TABLE_MAX_COLS; c++)
		width[c] = column_width(rows, &cols[c]);
	printf(" ");
	for (size_t c = 0; c < ncols && c < TABLE_MAX_COLS; c++) {
		printf(" ");
		put_text(cols[c].title, c + 1 < ncols ? width[c] + 1 : 0);
	}
	printf("\n");
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		row = json_object_array_get_idx(rows, i);
		printf(" ");
		for (size_t c = 0; c < ncols && c < TABLE_MAX_COLS; c++) {
			printf(" ");
			put_text(field(row, cols[c].key),
				 c + 1 < ncols ? width[c] + 1 : 0);
		}
		printf("\n");
		if (detail_key && has(row, detail_key)) {
			printf("    ");
			put_text(field(row, detail_key), 0);
			printf("\n");
		}
	}
}

/* "cgwd 0.1.0, pid 1234, up 12s, config /etc/cgw/cgw.conf" and the gateway. */
static void print_status_header(struct json_object *st)
{
	struct json_object *v;
	char up[32];

	printf("cgwd %s", field(st, "version"));
	if (has(st, "pid"))
		printf(", pid %s", field(st, "pid"));
	if (json_object_object_get_ex(st, "uptime", &v) &&
	    json_object_is_type(v, json_type_int)) {
		format_duration(up, sizeof(up), json_object_get_int64(v));
		printf(", up %s", up);
	}
	if (has(st, "config"))
		printf(", config %s", field(st, "config"));
	printf("\n");
	if (!has(st, "local_address") && !has(st, "asn") && !has(st, "router_id"))
		return;
	printf("local %s", field(st, "local_address"));
	if (has(st, "local_id") &&
	    strcmp(field(st, "local_id"), field(st, "local_address")) != 0)
		printf(" (id %s)", field(st, "local_id"));
	printf(", AS %s, router-id %s\n", field(st, "asn"),
	       field(st, "router_id"));
}

/* obj[key] (seconds) as "3m20s", or "" when it is not a number. */
static const char *duration_of(struct json_object *o, const char *key, char *buf,
			       size_t len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return "";
	format_duration(buf, len, json_object_get_int64(v));
	return buf;
}

static const char *up_for(struct json_object *o, char *buf, size_t len)
{
	return duration_of(o, "established_for", buf, len);
}

static bool is_true(struct json_object *o, const char *key)
{
	return json_object_get_boolean(json_object_object_get(o, key));
}

/* to[key] = from[key] (shared), when from has it. */
static void copy_key(struct json_object *to, struct json_object *from, const char *key)
{
	struct json_object *v;

	if (json_object_object_get_ex(from, key, &v) && v)
		json_object_object_add(to, key, json_object_get(v));
}

static void set_str(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

/* One line per IKE SA and per CHILD SA under it. */
static void print_sa_lines(const char *tunnel, struct json_object *sas)
{
	char up[32];

	for (size_t i = 0; i < json_object_array_length(sas); i++) {
		struct json_object *sa = json_object_array_get_idx(sas, i), *children = NULL;

		printf("  %-8s IKE %s/%s %s, %s, %s", i ? "" : tunnel, field(sa, "spi_i"),
		       field(sa, "spi_r"), field(sa, "state"), field(sa, "role"),
		       field(sa, "algorithms"));
		if (is_true(sa, "nat_t"))
			printf(", NAT-T");
		if (*up_for(sa, up, sizeof(up)))
			printf(", up %s", up);
		if (has(sa, "liveness") && strcmp(field(sa, "liveness"), "ok") != 0)
			printf(", liveness %s", field(sa, "liveness"));
		if (has(sa, "rekey_in"))
			printf(", rekey in %ss", field(sa, "rekey_in"));
		printf("\n");
		json_object_object_get_ex(sa, "children", &children);
		for (size_t j = 0; children && j < json_object_array_length(children); j++) {
			struct json_object *c = json_object_array_get_idx(children, j);
			printf("  %-8s ESP %s/%s %s, %s, in %s B %s pkts, out %s B %s pkts",
			       "", field(c, "spi_in"), field(c, "spi_out"), field(c, "state"),
			       field(c, "algorithms"), field(c, "bytes_in"), field(c, "packets_in"),
			       field(c, "bytes_out"), field(c, "packets_out"));
			if (*up_for(c, up, sizeof(up)))
				printf(", up %s", up);
			if (has(c, "rekey_in"))
				printf(", rekey in %ss (%s so far)", field(c, "rekey_in"),
				       field(c, "rekeys"));
			printf("\n");
		}
	}
}

static void print_sas(struct json_object *tunnels)
{
	bool any = false;

	for (size_t i = 0; tunnels && i < json_object_array_length(tunnels); i++) {
		struct json_object *t = json_object_array_get_idx(tunnels, i), *sas = NULL;

		if (!json_object_object_get_ex(t, "ike_sas", &sas) ||
		    !json_object_is_type(sas, json_type_array) ||
		    json_object_array_length(sas) == 0)
			continue;
		if (!any)
			printf("\nSecurity associations\n");
		any = true;
		print_sa_lines(field(t, "name"), sas);
	}
}

/*
 * Why a BGP session is not up, for a table's detail line: the reason it
 * is not enabled and the last error, "" when there is neither.
 */
static const char *neighbor_why(struct json_object *n, char *buf, size_t len)
{
	if (has(n, "reason") && has(n, "last_error"))
		snprintf(buf, len, "%s; last error: %s", field(n, "reason"),
			 field(n, "last_error"));
	else if (has(n, "reason"))
		snprintf(buf, len, "%s", field(n, "reason"));
	else if (has(n, "last_error"))
		snprintf(buf, len, "last error: %s", field(n, "last_error"));
	else
		return "";
	return buf;
}

/*
 * Rows of status' BGP neighbors table (a new array): the neighbor's own
 * fields plus "up_down" (uptime, or time since it went down) and "why".
 */
static struct json_object *neighbor_rows(struct json_object *neighbors)
{
	static const char *const keys[] = { "name", "address", "remote_as", "state",
					    "prefixes_received", "prefixes_advertised" };
	struct json_object *rows = json_object_new_array();
	char dur[32], why[600];

	for (size_t i = 0; json_object_is_type(neighbors, json_type_array) &&
	     i < json_object_array_length(neighbors); i++) {
		struct json_object *n = json_object_array_get_idx(neighbors, i);
		struct json_object *row = json_object_new_object();
		const char *d = duration_of(n, has(n, "uptime") ? "uptime" : "down_for",
					    dur, sizeof(dur));
		const char *w = neighbor_why(n, why, sizeof(why));

		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			copy_key(row, n, keys[k]);
		if (*d)
			set_str(row, "up_down", d);
		if (*w)
			set_str(row, "why", w);
		json_object_array_add(rows, row);
	}
	return rows;
}

static void print_status(struct json_object *st)
{
	static const struct column tunnel_cols[] = {
		{ "NAME", "name" }, { "REMOTE", "remote" }, { "VTI", "vti" },
		{ "INSIDE", "inside" }, { "STATE", "state" },
	};
	static const struct column neighbor_cols[] = {
		{ "NAME", "name" }, { "ADDRESS", "address" },
		{ "AS", "remote_as" }, { "STATE", "state" }, { "UP/DOWN", "up_down" },
		{ "PFX RCVD", "prefixes_received" }, { "PFX SENT", "prefixes_advertised" },
	};
	struct json_object *rows = NULL;

	print_status_header(st);
	printf("\n");
	json_object_object_get_ex(st, "tunnels", &rows);
	print_table("Tunnels", rows, tunnel_cols,
		    sizeof(tunnel_cols) / sizeof(tunnel_cols[0]), "reason");
	print_sas(rows);
	printf("\n");
	rows = NULL;
	json_object_object_get_ex(st, "neighbors", &rows);
	rows = neighbor_rows(rows);
	print_table("BGP neighbors", rows, neighbor_cols,
		    sizeof(neighbor_cols) / sizeof(neighbor_cols[0]), "why");
	json_object_put(rows);
}

/* ---- bgp routes, bgp neighbors ---- */

/* A path's codes: * chosen, K in the kernel, S stale, L AS path loop. */
static void path_codes(struct json_object *route, struct json_object *path,
		       char buf[5])
{
	size_t n = 0;

	if (is_true(path, "best")) {
		buf[n++] = '*';
		if (is_true(route, "installed"))
			buf[n++] = 'K';
	}
	if (is_true(path, "stale"))
		buf[n++] = 'S';
	if (is_true(path, "loop"))
		buf[n++] = 'L';
	buf[n] = '\0';
}

/* One row per path of every route (a new array), the chosen ones with why. */
static struct json_object *route_rows(struct json_object *routes)
{
	static const char *const keys[] = { "next_hop", "peer", "med", "local_pref",
					    "origin" };
	struct json_object *rows = json_object_new_array();
	char codes[5];

	for (size_t i = 0; json_object_is_type(routes, json_type_array) &&
	     i < json_object_array_length(routes); i++) {
		struct json_object *r = json_object_array_get_idx(routes, i), *paths = NULL;

		json_object_object_get_ex(r, "paths", &paths);
		for (size_t j = 0; json_object_is_type(paths, json_type_array) &&
		     j < json_object_array_length(paths); j++) {
			struct json_object *p = json_object_array_get_idx(paths, j);
			struct json_object *row = json_object_new_object();

			path_codes(r, p, codes);
			set_str(row, "codes", codes);
			copy_key(row, r, "prefix");
			for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
				copy_key(row, p, keys[k]);
			if (*field(p, "as_path"))	/* empty: "-" */
				copy_key(row, p, "as_path");
			if (is_true(p, "best"))
				copy_key(row, r, "reason");
			json_object_array_add(rows, row);
		}
	}
	return rows;
}

static void print_routes(struct json_object *res)
{
	static const struct column cols[] = {
		{ "", "codes" }, { "PREFIX", "prefix" }, { "NEXT HOP", "next_hop" },
		{ "PEER", "peer" }, { "AS PATH", "as_path" }, { "MED", "med" },
		{ "LOCAL PREF", "local_pref" }, { "ORIGIN", "origin" },
		{ "CHOSEN BY", "reason" },
	};
	struct json_object *rows = NULL, *local = NULL;

	json_object_object_get_ex(res, "routes", &rows);
	rows = route_rows(rows);
	if (json_object_array_length(rows) > 0)
		printf("Codes: * chosen path, K in the kernel, S stale (peer restarting), "
		       "L AS path loop (not used)\n\n");
	print_table("BGP routes", rows, cols, sizeof(cols) / sizeof(cols[0]), NULL);
	json_object_put(rows);
	printf("\n");
	if (!json_object_object_get_ex(res, "local", &local) ||
	    !json_object_is_type(local, json_type_array) ||
	    json_object_array_length(local) == 0) {
		printf("Announced: (none)\n");
		return;
	}
	for (size_t i = 0; i < json_object_array_length(local); i++) {
		struct json_object *l = json_object_array_get_idx(local, i);

		printf("Announced: ");
		put_text(field(l, "prefix"), 0);
		printf(" (");
		put_text(field(l, "origin"), 0);
		printf(")\n");
	}
}

/* "  Label:           value", the value formatted, then made printable. */
static void kv(const char *label, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void kv(const char *label, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("  %-18s", label);
	put_text(buf, 0);
	printf("\n");
}

/* A prefix limit: "100", or "unlimited" for 0. */
static const char *limit(struct json_object *n, const char *key)
{
	return strcmp(field(n, key), "0") == 0 ? "unlimited" : field(n, key);
}

/* The session's state, how long, and why it is not enabled. */
static void print_neighbor_state(struct json_object *n)
{
	char d[32], when[48] = "", why[300] = "";

	if (*duration_of(n, "uptime", d, sizeof(d)))
		snprintf(when, sizeof(when), ", up %s", d);
	else if (*duration_of(n, "down_for", d, sizeof(d)))
		snprintf(when, sizeof(when), ", down %s", d);
	if (has(n, "reason"))
		snprintf(why, sizeof(why), " (%s)", field(n, "reason"));
	kv("State:", "%s%s%s", field(n, "state"), when, why);
	if (strcmp(field(n, "state"), "Established") == 0) {
		kv("Router ID:", "%s", field(n, "router_id"));
		kv("Hold time:", "%s s, keepalive %s s", field(n, "hold_time"),
		   field(n, "keepalive"));
		kv("Graceful restart:", "%s", is_true(n, "graceful_restart") ?
		   "yes (the peer's routes are kept while it restarts)" : "no");
	} else {
		kv("Hold time:", "%s s (configured)", field(n, "hold_time"));
	}
}

/* Everything cgwd says about one BGP session. */
static void print_neighbor(struct json_object *n)
{
	printf("BGP neighbor ");
	put_text(field(n, "name"), 0);
	if (has(n, "tunnel")) {
		printf(" (tunnel ");
		put_text(field(n, "tunnel"), 0);
		printf(")");
	}
	printf("\n");
	kv("Address:", "%s%s%s", field(n, "address"), has(n, "port") ? " port " : "",
	   has(n, "port") ? field(n, "port") : "");
	kv("Remote AS:", "%s (%s)", field(n, "remote_as"),
	   strcmp(field(n, "type"), "ibgp") == 0 ? "iBGP" : "eBGP");
	kv("Local:", "%s, AS %s", has(n, "local_address") ?
	   field(n, "local_address") : "address chosen by the kernel",
	   field(n, "local_as"));
	print_neighbor_state(n);
	kv("Prefixes:", "%s received, %s accepted, %s best, %s stale, %s advertised",
	   field(n, "prefixes_received"), field(n, "prefixes_accepted"),
	   field(n, "prefixes_best"), field(n, "prefixes_stale"),
	   field(n, "prefixes_advertised"));
	if (has(n, "max_prefix_in"))
		kv("Prefix limits:", "in %s, out %s%s", limit(n, "max_prefix_in"),
		   limit(n, "max_prefix_out"), is_true(n, "max_prefix_out_hit") ?
		   " (reached: not everything is announced)" : "");
	kv("Established:", "%s time%s since cgwd started", field(n, "established_count"),
	   strcmp(field(n, "established_count"), "1") == 0 ? "" : "s");
	kv("Messages:", "%s in, %s out (UPDATE %s in, %s out)", field(n, "messages_in"),
	   field(n, "messages_out"), field(n, "updates_in"), field(n, "updates_out"));
	if (has(n, "update_errors") && strcmp(field(n, "update_errors"), "0") != 0)
		kv("UPDATE errors:", "%s (RFC 7606 treat-as-withdraw or attribute discard)",
		   field(n, "update_errors"));
	if (has(n, "last_error"))
		kv("Last error:", "%s", field(n, "last_error"));
}

static void print_neighbors(struct json_object *neighbors)
{
	size_t n = json_object_is_type(neighbors, json_type_array) ?
		json_object_array_length(neighbors) : 0;

	if (n == 0)
		printf("BGP neighbors\n  (none)\n");
	for (size_t i = 0; i < n; i++) {
		printf("%s", i ? "\n" : "");
		print_neighbor(json_object_array_get_idx(neighbors, i));
	}
}

/* "added: a, b" for a non-empty array of names. */
static void print_name_list(struct json_object *res, const char *key)
{
	struct json_object *list;
	size_t n;

	if (!json_object_object_get_ex(res, key, &list) ||
	    !json_object_is_type(list, json_type_array) ||
	    (n = json_object_array_length(list)) == 0)
		return;
	printf("%s: ", key);
	for (size_t i = 0; i < n; i++) {
		put_text(json_object_get_string(json_object_array_get_idx(list, i)), 0);
		printf("%s", i + 1 < n ? ", " : "\n");
	}
}

/* ---- commands ---- */

/* An action's reply: its "message" (or "done"), or the error. Frees rep. */
static int print_done(const struct ctx *ctx, struct ctlproto_reply *rep)
{
	int r = 0;

	if (!rep->ok)
		r = print_error(rep);
	else if (ctx->json)
		print_json(rep->result);
	else
		printf("%s\n", has(rep->result, "message") ? field(rep->result, "message") : "done");
	ctlproto_reply_free(rep);
	return r;
}

static int cmd_doctor(struct ctx *ctx, const struct command *cmd, int argc, char **argv)
{
	return doctor_main(argc, argv, ctx->socket);
}

static int cmd_metrics(struct ctx *ctx, const struct command *cmd, int argc, char **argv)
{
	return metrics_main(argc, argv, ctx->socket);
}

/* Runs without cgwd: the whole command lives in import/cli.c. */
static int cmd_import(struct ctx *ctx, const struct command *cmd, int argc,
		      char **argv)
{
	return import_main(argc, argv);
}

static int cmd_tunnel(struct ctx *ctx, const struct command *cmd, int argc,
		      char **argv)
{
	struct json_object *args;
	struct ctlproto_reply rep;
	int r;

	if (argc < 3 || argc > 4 ||
	    (strcmp(argv[1], "up") && strcmp(argv[1], "down") && strcmp(argv[1], "rekey")) ||
	    (argc == 4 && (strcmp(argv[1], "rekey") ||
			   (strcmp(argv[3], "child") && strcmp(argv[3], "ike")))))
		return usage_error("usage: cgwctl tunnel %s", cmd->synopsis);
	args = json_object_new_object();
	json_object_object_add(args, "action", json_object_new_string(argv[1]));
	json_object_object_add(args, "name", json_object_new_string(argv[2]));
	json_object_object_add(args, "sa", json_object_new_string(argc == 4 ? argv[3] : "child"));
	if ((r = call(ctx, "tunnel", args, &rep)) != 0)
		return r;
	return print_done(ctx, &rep);
}

/* Accept only --json/-j after the command name. 0 or EXIT_USAGE. */
static int json_flag_only(struct ctx *ctx, const struct command *cmd,
			  int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
			ctx->json = true;
		else
			return usage_error("unexpected argument '%s'", argv[i]);
	}
	return 0;
}

/* bgp routes: the daemon's "bgp-routes" result. */
static int bgp_routes(struct ctx *ctx)
{
	struct ctlproto_reply rep;
	int r;

	if ((r = call(ctx, "bgp-routes", NULL, &rep)) != 0)
		return r;
	if (!rep.ok)
		r = print_error(&rep);
	else if (ctx->json)
		print_json(rep.result);
	else
		print_routes(rep.result);
	ctlproto_reply_free(&rep);
	return r;
}

/* bgp neighbors: status' "neighbors", in full; --json: {"neighbors": [...]}. */
static int bgp_neighbors(struct ctx *ctx)
{
	struct json_object *list = NULL, *o;
	struct ctlproto_reply rep;
	int r;

	if ((r = call(ctx, "status", NULL, &rep)) != 0)
		return r;
	if (!rep.ok) {
		r = print_error(&rep);
		goto out;
	}
	json_object_object_get_ex(rep.result, "neighbors", &list);
	if (ctx->json) {
		o = json_object_new_object();
		json_object_object_add(o, "neighbors", list ? json_object_get(list) :
				       json_object_new_array());
		print_json(o);
		json_object_put(o);
	} else {
		print_neighbors(list);
	}
out:
	ctlproto_reply_free(&rep);
	return r;
}

static int cmd_bgp(struct ctx *ctx, const struct command *cmd, int argc,
		   char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	struct json_object *args;
	struct ctlproto_reply rep;
	int r;

	if (strcmp(sub, "routes") == 0 || strcmp(sub, "neighbors") == 0) {
		if ((r = json_flag_only(ctx, cmd, argc - 1, argv + 1)) != 0)
			return r;
		return strcmp(sub, "routes") == 0 ? bgp_routes(ctx) : bgp_neighbors(ctx);
	}
	if (argc != 3 || (strcmp(sub, "reset") && strcmp(sub, "refresh")))
		return usage_error("usage: cgwctl bgp %s", cmd->synopsis);
	args = json_object_new_object();
	json_object_object_add(args, "action", json_object_new_string(sub));
	json_object_object_add(args, "name", json_object_new_string(argv[2]));
	if ((r = call(ctx, "bgp", args, &rep)) != 0)
		return r;
	return print_done(ctx, &rep);
}

static int cmd_status(struct ctx *ctx, const struct command *cmd, int argc,
		      char **argv)
{
	struct ctlproto_reply rep;
	int r;

	if ((r = json_flag_only(ctx, cmd, argc, argv)) != 0 ||
	    (r = call(ctx, "status", NULL, &rep)) != 0)
		return r;
	if (!rep.ok)
		r = print_error(&rep);
	else if (ctx->json)
		print_json(rep.result);
	else
		print_status(rep.result);
	ctlproto_reply_free(&rep);
	return r;
}

static int cmd_reload(struct ctx *ctx, const struct command *cmd, int argc,
		      char **argv)
{
	static const char *const lists[] = { "added", "removed", "changed",
					     "unchanged" };
	struct ctlproto_reply rep;
	int r;

	if ((r = json_flag_only(ctx, cmd, argc, argv)) != 0 ||
	    (r = call(ctx, "reload", NULL, &rep)) != 0)
		return r;
	if (!rep.ok) {
		r = print_error(&rep);
		goto out;
	}
	if (ctx->json)
		print_json(rep.result);
	else if (has(rep.result, "message"))
		printf("%s\n", field(rep.result, "message"));
	else
		printf("configuration reloaded\n");
	for (size_t i = 0; !ctx->json && i < sizeof(lists) / sizeof(lists[0]); i++)
		print_name_list(rep.result, lists[i]);
	/* Applied anyway: these lines are warnings, the exit status stays 0. */
	print_lines(rep.result, "errors");
out:
	ctlproto_reply_free(&rep);
	return r;
}

/* ---- main ---- */

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct ctx ctx = { .socket = CGW_DEFAULT_SOCKET };
	const struct command *cmd;
	int c;

	while ((c = getopt_long(argc, argv, "+s:jhV", long_options, NULL)) != -1) {
		switch (c) {
		case 's':
			ctx.socket = optarg;
			break;
		case 'j':
			ctx.json = true;
			break;
		case 'h':
			help(stdout);
			return EXIT_OK;
		case 'V':
			printf("cgwctl %s\n", CGW_VERSION);
			return EXIT_OK;
		default:		/* getopt said what is wrong */
			return usage_error(NULL);
		}
	}
	if (optind == argc) {
		usage_lines(stderr);
		return EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd)
		return usage_error("unknown command '%s'", argv[optind]);
	return cmd->run(&ctx, cmd, argc - optind, argv + optind);
}
