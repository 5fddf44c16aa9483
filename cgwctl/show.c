/*
 * How cgwctl shows cgwd's replies to a person: the status header, tables
 * with columns sized to their contents, SA lines, BGP routes and
 * neighbors. Text from the daemon is printed with control characters
 * replaced. --json output is the reply as it came (show_json).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cgwctl/cgwctl.h"

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
const char *json_field(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return "-";
	return json_object_get_string(v);
}

bool json_has(struct json_object *obj, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(obj, key, &v) && v;
}

void show_json(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
		JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Each string of obj[key] (e.g. "errors": "file:line: message") on stderr. */
void show_lines(struct json_object *obj, const char *key)
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
int show_error(const struct ctlproto_reply *rep)
{
	fprintf(stderr, "cgwctl: %s\n", rep->error);
	show_lines(rep->root, "errors");
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
		n = strlen(json_field(json_object_array_get_idx(rows, i), col->key));
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
			put_text(json_field(row, cols[c].key),
				 c + 1 < ncols ? width[c] + 1 : 0);
		}
		printf("\n");
		if (detail_key && json_has(row, detail_key)) {
			printf("    ");
			put_text(json_field(row, detail_key), 0);
			printf("\n");
		}
	}
}

/* "cgwd 0.1.0, pid 1234, up 12s, config /etc/cgw/cgw.conf" and the gateway. */
static void print_status_header(struct json_object *st)
{
	struct json_object *v;
	char up[32];

	printf("cgwd %s", json_field(st, "version"));
	if (json_has(st, "pid"))
		printf(", pid %s", json_field(st, "pid"));
	if (json_object_object_get_ex(st, "uptime", &v) &&
	    json_object_is_type(v, json_type_int)) {
		format_duration(up, sizeof(up), json_object_get_int64(v));
		printf(", up %s", up);
	}
	if (json_has(st, "config"))
		printf(", config %s", json_field(st, "config"));
	printf("\n");
	if (!json_has(st, "local_address") && !json_has(st, "asn") && !json_has(st, "router_id"))
		return;
	printf("local %s", json_field(st, "local_address"));
	if (json_has(st, "local_id") &&
	    strcmp(json_field(st, "local_id"), json_field(st, "local_address")) != 0)
		printf(" (id %s)", json_field(st, "local_id"));
	printf(", AS %s, router-id %s\n", json_field(st, "asn"),
	       json_field(st, "router_id"));
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

		printf("  %-8s IKE %s/%s %s, %s, %s", i ? "" : tunnel, json_field(sa, "spi_i"),
		       json_field(sa, "spi_r"), json_field(sa, "state"), json_field(sa, "role"),
		       json_field(sa, "algorithms"));
		if (is_true(sa, "nat_t"))
			printf(", NAT-T");
		if (*up_for(sa, up, sizeof(up)))
			printf(", up %s", up);
		if (json_has(sa, "liveness") && strcmp(json_field(sa, "liveness"), "ok") != 0)
			printf(", liveness %s", json_field(sa, "liveness"));
		if (json_has(sa, "rekey_in"))
			printf(", rekey in %ss", json_field(sa, "rekey_in"));
		printf("\n");
		json_object_object_get_ex(sa, "children", &children);
		for (size_t j = 0; children && j < json_object_array_length(children); j++) {
			struct json_object *c = json_object_array_get_idx(children, j);
			printf("  %-8s ESP %s/%s %s, %s, in %s B %s pkts, out %s B %s pkts",
			       "", json_field(c, "spi_in"), json_field(c, "spi_out"), json_field(c, "state"),
			       json_field(c, "algorithms"), json_field(c, "bytes_in"), json_field(c, "packets_in"),
			       json_field(c, "bytes_out"), json_field(c, "packets_out"));
			if (*up_for(c, up, sizeof(up)))
				printf(", up %s", up);
			if (json_has(c, "rekey_in"))
				printf(", rekey in %ss (%s so far)", json_field(c, "rekey_in"),
				       json_field(c, "rekeys"));
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
		print_sa_lines(json_field(t, "name"), sas);
	}
}

/*
 * Why a BGP session is not up, for a table's detail line: the reason it
 * is not enabled and the last error, "" when there is neither.
 */
static const char *neighbor_why(struct json_object *n, char *buf, size_t len)
{
	if (json_has(n, "reason") && json_has(n, "last_error"))
		snprintf(buf, len, "%s; last error: %s", json_field(n, "reason"),
			 json_field(n, "last_error"));
	else if (json_has(n, "reason"))
		snprintf(buf, len, "%s", json_field(n, "reason"));
	else if (json_has(n, "last_error"))
		snprintf(buf, len, "last error: %s", json_field(n, "last_error"));
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
		const char *d = duration_of(n, json_has(n, "uptime") ? "uptime" : "down_for",
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

void show_status(struct json_object *st)
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
			if (*json_field(p, "as_path"))	/* empty: "-" */
				copy_key(row, p, "as_path");
			if (is_true(p, "best"))
				copy_key(row, r, "reason");
			json_object_array_add(rows, row);
		}
	}
	return rows;
}

void show_routes(struct json_object *res)
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
		put_text(json_field(l, "prefix"), 0);
		printf(" (");
		put_text(json_field(l, "origin"), 0);
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
	return strcmp(json_field(n, key), "0") == 0 ? "unlimited" : json_field(n, key);
}

/* The session's state, how long, and why it is not enabled. */
static void print_neighbor_state(struct json_object *n)
{
	char d[32], when[48] = "", why[300] = "";

	if (*duration_of(n, "uptime", d, sizeof(d)))
		snprintf(when, sizeof(when), ", up %s", d);
	else if (*duration_of(n, "down_for", d, sizeof(d)))
		snprintf(when, sizeof(when), ", down %s", d);
	if (json_has(n, "reason"))
		snprintf(why, sizeof(why), " (%s)", json_field(n, "reason"));
	kv("State:", "%s%s%s", json_field(n, "state"), when, why);
	if (strcmp(json_field(n, "state"), "Established") == 0) {
		kv("Router ID:", "%s", json_field(n, "router_id"));
		kv("Hold time:", "%s s, keepalive %s s", json_field(n, "hold_time"),
		   json_field(n, "keepalive"));
		kv("Graceful restart:", "%s", is_true(n, "graceful_restart") ?
		   "yes (the peer's routes are kept while it restarts)" : "no");
	} else {
		kv("Hold time:", "%s s (configured)", json_field(n, "hold_time"));
	}
}

/* Everything cgwd says about one BGP session. */
static void print_neighbor(struct json_object *n)
{
	printf("BGP neighbor ");
	put_text(json_field(n, "name"), 0);
	if (json_has(n, "tunnel")) {
		printf(" (tunnel ");
		put_text(json_field(n, "tunnel"), 0);
		printf(")");
	}
	printf("\n");
	kv("Address:", "%s%s%s", json_field(n, "address"), json_has(n, "port") ? " port " : "",
	   json_has(n, "port") ? json_field(n, "port") : "");
	kv("Remote AS:", "%s (%s)", json_field(n, "remote_as"),
	   strcmp(json_field(n, "type"), "ibgp") == 0 ? "iBGP" : "eBGP");
	kv("Local:", "%s, AS %s", json_has(n, "local_address") ?
	   json_field(n, "local_address") : "address chosen by the kernel",
	   json_field(n, "local_as"));
	print_neighbor_state(n);
	kv("Prefixes:", "%s received, %s accepted, %s best, %s stale, %s advertised",
	   json_field(n, "prefixes_received"), json_field(n, "prefixes_accepted"),
	   json_field(n, "prefixes_best"), json_field(n, "prefixes_stale"),
	   json_field(n, "prefixes_advertised"));
	if (json_has(n, "max_prefix_in"))
		kv("Prefix limits:", "in %s, out %s%s", limit(n, "max_prefix_in"),
		   limit(n, "max_prefix_out"), is_true(n, "max_prefix_out_hit") ?
		   " (reached: not everything is announced)" : "");
	kv("Established:", "%s time%s since cgwd started", json_field(n, "established_count"),
	   strcmp(json_field(n, "established_count"), "1") == 0 ? "" : "s");
	kv("Messages:", "%s in, %s out (UPDATE %s in, %s out)", json_field(n, "messages_in"),
	   json_field(n, "messages_out"), json_field(n, "updates_in"), json_field(n, "updates_out"));
	if (json_has(n, "update_errors") && strcmp(json_field(n, "update_errors"), "0") != 0)
		kv("UPDATE errors:", "%s (RFC 7606 treat-as-withdraw or attribute discard)",
		   json_field(n, "update_errors"));
	if (json_has(n, "last_error"))
		kv("Last error:", "%s", json_field(n, "last_error"));
}

void show_neighbors(struct json_object *neighbors)
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
void show_name_list(struct json_object *res, const char *key)
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

